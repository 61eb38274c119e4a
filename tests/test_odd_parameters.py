"""docs/ODD.md gives the shared behavioural parameters the values configs/behaviour.toml holds."""

from __future__ import annotations

from cryptoabm.calibration.odd_parameters import main, read_behaviour, regenerate, stale_rows
from cryptoabm.calibration.parameters import CALIBRATED_RANGES
from tests.conftest import CONFIGS, ROOT

ODD = ROOT / "docs" / "ODD.md"
BEHAVIOUR = CONFIGS / "behaviour.toml"


def test_the_odd_gives_every_behavioural_parameter_the_value_behaviour_toml_holds():
    behaviour = read_behaviour(BEHAVIOUR)
    assert {key for key, b in behaviour.items() if b.fitted} <= set(CALIBRATED_RANGES)
    assert stale_rows(ODD.read_text(), behaviour) == []


def test_a_stale_odd_value_is_caught_and_regenerated_from_behaviour_toml(tmp_path):
    text = BEHAVIOUR.read_text()
    fitted = read_behaviour(BEHAVIOUR)["adoption.dropout_hazard"]
    assert fitted.fitted
    changed = tmp_path / "behaviour.toml"  # a new calibration moves the drop-out hazard and its draws
    changed.write_text(text.replace(f"dropout_hazard = {fitted.value!r}", "dropout_hazard = 0.3141")
                       .replace(f"(accepted draws {fitted.accepted_draws})", "(accepted draws 0.3-0.33)", 1))
    behaviour = read_behaviour(changed)
    assert behaviour["adoption.dropout_hazard"].value == 0.3141
    problems = stale_rows(ODD.read_text(), behaviour)
    assert any("adoption.dropout_hazard is '" in p for p in problems)
    odd = tmp_path / "ODD.md"
    odd.write_text(ODD.read_text())
    assert main(["--odd", str(odd), "--behaviour", str(changed), "--check"]) == 1
    assert main(["--odd", str(odd), "--behaviour", str(changed)]) == 0
    rewritten = odd.read_text()
    assert "| `adoption.dropout_hazard` | 0.3141 | fitted: `cryptoabm calibrate validation/targets.toml` " \
           "(accepted draws 0.3-0.33; range searched 0.1-0.9) |" in rewritten
    assert stale_rows(rewritten, behaviour) == []
    assert regenerate(ODD.read_text(), read_behaviour(BEHAVIOUR)) == ODD.read_text()  # nothing else is touched

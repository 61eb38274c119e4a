"""Scenario files: inheritance, overrides, and one clear line for every kind of mistake."""

import subprocess
import sys

import pytest

from cryptoabm.config import ConfigError, Scenario, load_scenario


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_validate():
    assert Scenario().policy.payment_regime == "voluntary"


def test_extends_merges_tables_and_child_wins(tmp_path):
    write(tmp_path, "parent.toml", 'name = "parent"\n[policy]\nlicense_cap = 10\nlicense_fee_usd = 500.0\n')
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\nname = "child"\n[policy]\nlicense_cap = 3\n')
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.policy.license_cap == 3
    assert scenario.policy.license_fee_usd == 500.0  # inherited


def test_dotted_overrides_apply_on_top_of_the_file(tmp_path):
    path = write(tmp_path, "s.toml", '[policy]\nlicense_cap = 10\n')
    assert load_scenario(path, {"policy.license_cap": 4}).policy.license_cap == 4


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('[policy]\nlicence_cap = 3\n', "policy.licence_cap", "did you mean 'license_cap'"),
        ('[polcy]\nlicense_cap = 3\n', "polcy", "did you mean 'policy'"),
        ('[policy]\nlicense_cap = "many"\n', "policy.license_cap", "must be a whole number (got 'many')"),
        ('[policy]\nlicense_cap = -1\n', "policy.license_cap", "greater than or equal to 0"),
        ('[policy]\npayment_regime = "crypto"\n', "policy.payment_regime", "'ban', 'voluntary', 'legal_tender' or 'fee_conversion'"),
        ('[population]\nnetwork = "grid"\n', "population.network", "watts_strogatz"),
        ('months = 12\n[[events]]\nkind = "policy"\nmonth = 20\nset = { license_cap = 1 }\n', "events.0.month", "after the last month"),
        ('[[events]]\nkind = "policy"\nmonth = 2\nset = { licence_cap = 1 }\n', "events.0.set.licence_cap", "did you mean 'license_cap'"),
        ('[[events]]\nkind = "policy"\nmonth = 2\nset = { license_cap = -5 }\n', "events.0.set.license_cap", "greater than or equal"),
        ('[[events]]\nkind = "earthquake"\nmonth = 2\n', "events.0", "unknown event kind 'earthquake'"),
        ('[[events]]\nkind = "price_shock"\nmonth = 2\nfactr = 0.5\n', "events.0.factr", "did you mean 'factor'"),
        ('[policy]\nsurcharge_bands = [{ up_to_mwh_per_month = 5.0, usd_per_kwh = 0.01 }, { up_to_mwh_per_month = 1.0, usd_per_kwh = 0.02 }]\n',
         "policy.surcharge_bands", "strictly increase"),
    ],
)
def test_bad_values_are_refused_naming_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.field == field
    assert words in caught.value.message
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}: ") and "\n" not in message


def test_malformed_toml_is_refused_with_its_position(tmp_path):
    path = write(tmp_path, "broken.toml", "[policy\nlicense_cap = 3\n")
    with pytest.raises(ConfigError, match=r"malformed TOML: .*line 1"):
        load_scenario(path)


def test_missing_extends_target_is_named(tmp_path):
    path = write(tmp_path, "child.toml", 'extends = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match="no such file to extend") as caught:
        load_scenario(path)
    assert caught.value.field == "extends"


def test_circular_extends_is_refused(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ConfigError, match="circular extends"):
        load_scenario(tmp_path / "a.toml")


def test_missing_price_csv_is_refused_before_the_run(tmp_path):
    path = write(tmp_path, "s.toml", '[market]\nprice_csv = "prices.csv"\n')
    with pytest.raises(ConfigError, match="file not found") as caught:
        load_scenario(path)
    assert caught.value.field == "market.price_csv"


def test_price_csv_replaces_the_simulated_path(tmp_path):
    from cryptoabm.model import CryptoEconomy

    rows = "\n".join(f"{m},{50_000 + 1_000 * m}" for m in range(13))
    write(tmp_path, "prices.csv", "month,btc_price_usd\n" + rows + "\n")
    path = write(tmp_path, "s.toml", 'months = 12\n[market]\nprice_csv = "prices.csv"\n[population]\ncitizens = 50\n')
    table = CryptoEconomy(load_scenario(path), seed=1).run()
    assert list(table["btc_price_usd"]) == [50_000 + 1_000 * m for m in range(1, 13)]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[policy]\nlicence_cap = 3\n', "policy.licence_cap: unknown key 'licence_cap'; did you mean 'license_cap'?"),
        ("[policy\n", "malformed TOML"),
        ('extends = "missing.toml"\n', "extends: no such file to extend"),
    ],
)
def test_command_line_refuses_bad_configs_with_one_line_and_exit_code_2(tmp_path, text, needle):
    path = write(tmp_path, "bad.toml", text)
    for command in ("check", "run"):
        done = subprocess.run([sys.executable, "-m", "cryptoabm", command, str(path), "--out", str(tmp_path / "out")]
                              if command == "run" else [sys.executable, "-m", "cryptoabm", command, str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(path) in lines[0]
        assert "Traceback" not in done.stderr
        assert not (tmp_path / "out").exists()


def test_command_line_names_a_missing_config_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "check", str(tmp_path / "nope.toml")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == f"cryptoabm: error: {tmp_path / 'nope.toml'}: no such config file"


def test_watts_strogatz_needs_an_even_degree(tmp_path):
    path = write(tmp_path, "s.toml", '[population]\nnetwork = "watts_strogatz"\nmean_degree = 5\n')
    with pytest.raises(ConfigError, match="must be even") as caught:
        load_scenario(path)
    assert caught.value.field == "population.mean_degree"

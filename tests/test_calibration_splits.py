"""Which targets a calibration fits and which it predicts (issue 19): the pre-registered
hold-outs, the temporal split and the cross-country split."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoabm.calibration.splits import TEMPORAL_CUT, load_holdouts, select, target_country
from cryptoabm.calibration.targets import load_targets
from cryptoabm.config import ConfigError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def loaded():
    return load_targets(ROOT / "validation" / "targets.toml")


def test_the_pre_registered_hold_outs_are_never_fitted(loaded):
    holdouts = load_holdouts(ROOT / "validation" / "holdouts.toml", loaded)
    assert len(holdouts) == 5
    for split in (None, "temporal", "country:kazakhstan_2021"):
        selection = select(loaded, holdouts, split)
        assert not {t.id for t in selection.fitted} & set(holdouts)
    full = select(loaded, holdouts, None)
    assert {t.id for t in full.predicted} == set(holdouts)
    assert {t.id for t in full.fitted} == {t.id for t in loaded.targets.targets if t.calibrate} - set(holdouts)


def test_the_temporal_split_fits_the_record_to_2022_and_predicts_the_rest(loaded):
    selection = select(loaded, [], "temporal")
    assert selection.fitted and selection.predicted
    assert all(t.window[1] <= TEMPORAL_CUT for t in selection.fitted)
    assert all(t.window[1] > TEMPORAL_CUT for t in selection.predicted)
    assert {t.id for t in selection.fitted} | {t.id for t in selection.predicted} == {
        t.id for t in loaded.targets.targets if t.calibrate}


def test_the_cross_country_split_fits_without_one_country_and_predicts_it(loaded):
    selection = select(loaded, [], "country:kazakhstan_2021")
    assert selection.predicted and all(target_country(loaded, t) == "kazakhstan_2021" for t in selection.predicted)
    assert all(target_country(loaded, t) != "kazakhstan_2021" for t in selection.fitted)
    assert selection.name == "without_kazakhstan_2021"


@pytest.mark.parametrize("split, words", [("country:atlantis", "no target of country 'atlantis'"),
                                          ("yearly", "is not a split")])
def test_a_bad_split_is_one_line(loaded, split, words):
    with pytest.raises(ConfigError) as caught:
        select(loaded, [], split)
    assert words in caught.value.message


def test_an_unknown_hold_out_is_refused(loaded, tmp_path):
    path = tmp_path / "holdouts.toml"
    path.write_text('held_out = ["no_such_target"]\n')
    with pytest.raises(ConfigError) as caught:
        load_holdouts(path, loaded)
    assert "no target 'no_such_target'" in caught.value.message


def test_the_report_counts_each_committed_split_k_of_n_with_checks_apart(tmp_path):
    """validation/report.md's splits section: one entry per split folder holding a fit and its
    predictive check, K of N over the informative targets, the checks counted apart."""
    from cryptoabm.calibration.predictive import splits_section

    folder = tmp_path / "calibration" / "temporal"
    folder.mkdir(parents=True)
    (folder / "summary.toml").write_text('command = "cryptoabm calibrate t.toml --split temporal"\nwall_time_seconds = 5\n')
    pd.DataFrame({"target": ["a", "b", "c"], "observed": ["1", "2", "3"], "model_mean": [1.0, 5.0, 3.0],
                  "predictive_low": [0.5, 4.0, 2.0], "predictive_high": [1.5, 6.0, 4.0],
                  "covered": [True, False, True], "check": [False, False, True], "runs": [60, 60, 60]}
                 ).to_csv(folder / "predictive.csv", index=False)
    (tmp_path / "calibration" / "not_a_fit").mkdir()
    text = "\n".join(splits_section(tmp_path / "calibration"))
    assert "**temporal**" in text and "**1 of 2 (checks, counted apart: 1 of 1)**" in text
    assert "not_a_fit" not in text and "| `c` (check) |" in text
    assert splits_section(tmp_path / "calibration" / "not_a_fit") == []

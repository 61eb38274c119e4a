"""Parameter recovery on the real model (issue 19): simulate the targets at a known parameter
point, calibrate to them through the same code path as ``cryptoabm calibrate`` (the batch
layer's simulator, the same criterion and stages), and find the known point inside the
reported uncertainty. Small: one preset, 300 citizens, two parameters, to the end of 2022."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from cryptoabm.calibration.calibrate import calibrate
from cryptoabm.calibration.history_matching import HistoryMatcher, write_history_matching
from cryptoabm.calibration.simulate import BatchSimulator, SharedExecutor
from cryptoabm.calibration.targets import load_targets
from tests.conftest import el_salvador_configs

RANGES = {"adoption.never_adopter_share": (0.0, 0.6), "adoption.imitation_q": (0.02, 0.4)}
TRUTH = {"adoption.never_adopter_share": 0.3, "adoption.imitation_q": 0.15}
REPLICATIONS = 3
TARGETS = (  # id, metric, window: three El Salvador moments the two parameters move
    ("downloads", "downloads_among_online_share", ("2021-09", "2022-12")),
    ("late_downloads", "window_download_share", ("2022-01", "2022-12")),
    ("continued_use", "mean_active_share", ("2022-02", "2022-07")),
)


def target_file_text(record: dict[str, tuple[float, float]]) -> str:
    """A target file over TARGETS, each with its (observed value, tolerance) from ``record``."""
    text = "base_seed = 2021\ndiscrepancy_share = 0.0\n"
    for target_id, metric, (first, last) in TARGETS:
        observed, tolerance = record[target_id]
        text += (f'\n[[targets]]\nid = "{target_id}"\npreset = "el_salvador_2021"\nmetric = "{metric}"\n'
                 f'window = ["{first}", "{last}"]\nobserved = {observed!r}\ntolerance = {tolerance!r}\n'
                 f'observation_sd = {tolerance / 2!r}\nobservation_sd_source = "the seed SD at the known point"\n'
                 f'source = "synthetic: the model at a known point"\n')
    return text


def small_configs(folder: Path) -> Path:
    return el_salvador_configs(folder, citizens=300)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Small configs and a target file whose observations are the model's means at TRUTH, with a
    tolerance of two seed standard deviations (at least a point) and an observation SD of one."""
    folder = tmp_path_factory.mktemp("recovery")
    configs = small_configs(folder / "configs")
    target_file = folder / "targets.toml"
    target_file.write_text(target_file_text({target_id: (0.5, 0.05) for target_id, _, _ in TARGETS}))
    executor = SharedExecutor(ThreadPoolExecutor(max_workers=1))
    try:
        simulator = BatchSimulator(load_targets(target_file, configs), folder / "work", lambda: executor,
                                   to_last_target=True)
        values = simulator({"kind": "table", "rows": [TRUTH]}, REPLICATIONS, "truth").values.groupby("target")["value"]
    finally:
        executor.close()
    record = {t: (float(m), max(0.01, 2.0 * float(sd))) for (t, m), sd in zip(values.mean().items(), values.std())}
    target_file.write_text(target_file_text(record))
    return configs, target_file


def simulator_for(configs: Path, target_file: Path, work: Path, resume: bool = False):
    executor = SharedExecutor(ThreadPoolExecutor(max_workers=1))
    loaded = load_targets(target_file, configs)
    return loaded, BatchSimulator(loaded, work, lambda: executor, to_last_target=True, resume=resume), executor


def test_calibration_recovers_a_known_parameter_point_of_the_real_model(synthetic, tmp_path):
    loaded, simulator, executor = simulator_for(*synthetic, tmp_path / "work")
    try:
        result = calibrate(loaded.targets.targets, RANGES, simulator, budget=16, replications=REPLICATIONS,
                           refine_evaluations=8, draws=16, seed=loaded.targets.base_seed)
    finally:
        executor.close()
    uncertainty = result.uncertainty()
    for key, value in TRUTH.items():
        low, high = uncertainty[key]
        assert low <= value <= high, f"{key}: truth {value} outside the reported 5-95% range {low:.3g}-{high:.3g}"
        print(f"{key}: truth {value}, fitted {result.best.point[key]:.4g}, 5-95% {low:.4g}-{high:.4g}")
        assert high - low < 0.8 * (RANGES[key][1] - RANGES[key][0]), f"{key}: the fit says nothing about it"
    assert np.isfinite(result.best.criterion)


def history_match(loaded, simulator, **settings):
    options = {"waves": 2, "points": 16, "replications": REPLICATIONS, "noise_replications": 5, "steps": 800,
               "draws": 200, **settings}
    return HistoryMatcher(loaded, RANGES, simulator, **options).run()


def test_history_matching_recovers_a_known_parameter_point_of_the_real_model(synthetic, tmp_path):
    loaded, simulator, executor = simulator_for(*synthetic, tmp_path / "work")
    try:
        result = history_match(loaded, simulator)
    finally:
        executor.close()
    uncertainty = result.uncertainty()
    for key, value in TRUTH.items():
        low, high = uncertainty[key]
        print(f"{key}: truth {value}, posterior median {result.fitted()[key]:.4g}, 5-95% {low:.4g}-{high:.4g}; "
              f"non-implausible share by wave {[round(w.non_implausible_share, 3) for w in result.waves]}")
        assert low <= value <= high, f"{key}: truth {value} outside the posterior 5-95% range {low:.3g}-{high:.3g}"
    # the data inform the share of never-adopters: its 90% posterior interval is narrower than 90% of
    # the range searched (what a flat posterior would give). With one run's noise counted whole (300
    # citizens), these three moments say little about imitation, and may cut none of the space
    low, high = uncertainty["adoption.never_adopter_share"]
    assert high - low < 0.9 * (RANGES["adoption.never_adopter_share"][1] - RANGES["adoption.never_adopter_share"][0])


class Killed(Exception):
    """Stands for the calibration being stopped part-way."""


def test_history_matching_twice_from_clean_and_after_a_kill_gives_the_same_posterior_file(synthetic, tmp_path):
    small = {"points": 8, "replications": 2, "noise_replications": 3, "steps": 200, "draws": 50}
    files = []
    for name in ("first", "second"):
        loaded, simulator, executor = simulator_for(*synthetic, tmp_path / name / "work")
        try:
            result = history_match(loaded, simulator, **small)
        finally:
            executor.close()
        files.append(write_history_matching(result, tmp_path / name / "out", "x")[0])
    assert files[0].name == "posterior.parquet" and files[0].read_bytes() == files[1].read_bytes()
    # stopped in the second wave, then resumed from the batch layer's finished runs
    loaded, simulator, executor = simulator_for(*synthetic, tmp_path / "killed" / "work")

    def stopped(design, replications, stage):
        if stage == "wave2":
            raise Killed
        return simulator(design, replications, stage)

    try:
        with pytest.raises(Killed):
            history_match(loaded, stopped, **small)
    finally:
        executor.close()
    assert (tmp_path / "killed" / "work" / "wave1__el_salvador_2021").is_dir()
    loaded, simulator, executor = simulator_for(*synthetic, tmp_path / "killed" / "work", resume=True)
    try:
        result = history_match(loaded, simulator, **small)
    finally:
        executor.close()
    resumed = write_history_matching(result, tmp_path / "killed" / "out", "x")[0]
    assert resumed.read_bytes() == files[0].read_bytes()

"""Parameter recovery on the real model (issue 19): simulate the targets at a known parameter
point, calibrate to them through the same code path as ``cryptoabm calibrate`` (the batch
layer's simulator, the same criterion and stages), and find the known point inside the
reported uncertainty. Small: one preset, 300 citizens, two parameters, to the end of 2022."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cryptoabm.calibration.calibrate import calibrate
from cryptoabm.calibration.simulate import BatchSimulator, SharedExecutor
from cryptoabm.calibration.targets import load_targets
from tests.conftest import CONFIGS

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
    text = "base_seed = 2021\n"
    for target_id, metric, (first, last) in TARGETS:
        observed, tolerance = record[target_id]
        text += (f'\n[[targets]]\nid = "{target_id}"\npreset = "el_salvador_2021"\nmetric = "{metric}"\n'
                 f'window = ["{first}", "{last}"]\nobserved = {observed!r}\ntolerance = {tolerance!r}\n'
                 f'source = "synthetic: the model at a known point"\n')
    return text


def small_configs(folder: Path) -> Path:
    folder.mkdir()
    for name in ("behaviour.toml", "el_salvador_2021.toml"):
        shutil.copy(CONFIGS / name, folder / name)
    for part in ("countries", "policies"):
        shutil.copytree(CONFIGS / part, folder / part)
    baseline = (CONFIGS / "baseline.toml").read_text().replace("citizens = 2_000 ", "citizens = 300   ")
    assert "citizens = 300" in baseline
    (folder / "baseline.toml").write_text(baseline)
    return folder


def test_calibration_recovers_a_known_parameter_point_of_the_real_model(tmp_path):
    configs = small_configs(tmp_path / "configs")
    target_file = tmp_path / "targets.toml"
    target_file.write_text(target_file_text({target_id: (0.5, 0.05) for target_id, _, _ in TARGETS}))
    executor = SharedExecutor(ThreadPoolExecutor(max_workers=1))
    try:
        loaded = load_targets(target_file, configs)
        simulator = BatchSimulator(loaded, tmp_path / "work", lambda: executor, to_last_target=True)
        # the synthetic record: each target's mean over the replications at the known point, with
        # a tolerance of two seed standard deviations (at least a point)
        values = simulator({"kind": "table", "rows": [TRUTH]}, REPLICATIONS, "truth").values.groupby("target")["value"]
        record = {t: (float(m), max(0.01, 2.0 * float(sd))) for (t, m), sd in zip(values.mean().items(), values.std())}
        target_file.write_text(target_file_text(record))
        loaded = load_targets(target_file, configs)
        simulator = BatchSimulator(loaded, tmp_path / "work", lambda: executor, to_last_target=True)
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

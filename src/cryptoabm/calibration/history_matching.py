"""Calibration by history matching with emulators, then a posterior (issue 19).

The model is stochastic and slow, so the parameter space is cut down in **waves** before a
posterior is drawn (Vernon, Goldstein and Bower 2010; Andrianakis et al. 2015):

1. **Noise study.** At the centre of the space, ``noise_replications`` runs on common random
   numbers give each target's ensemble standard deviation (the spread of one run's value
   around the model's mean). The replications per design point are the fewest, at least
   ``MIN_REPLICATIONS``, that bring the standard error of a point's mean to at most
   ``NOISE_SHARE`` of the SD a distance is judged against (observation, discrepancy and
   ensemble together, :func:`choose_replications`): the mean's own noise then adds at most a
   quarter to that variance. (A target whose single runs scatter far more than the record's
   error, such as the world hashrate's response to one price cut, has the ensemble variance
   in its denominator whole; averaging it away would take hundreds of runs a point and change
   no implausibility.)
2. **Waves.** Each wave runs a space-filling design (a scrambled Sobol' sequence, scipy's
   ``qmc``; later waves a maximin subset of the candidates still non-implausible, the candidate
   sequence lengthened while too few survive) at that many
   replications, on common random numbers, through the batch layer (parallel, resumable,
   Dask-capable: each wave is one stage of :class:`~cryptoabm.calibration.simulate.BatchSimulator`).
   A Gaussian-process **emulator** per target (scikit-learn; an anisotropic RBF kernel plus a
   white-noise term, each point's mean entered with its own sampling variance) is fitted to
   every point run so far. A point's **implausibility** for a target is

       I = |distance of the emulated mean from the observed range| /
           sqrt(emulator variance + observation SD^2 + discrepancy SD^2 + ensemble variance)

   (:func:`implausibility`; the distance is 0 inside an observed range). The observation is one
   realisation of a noisy world, so the ensemble variance enters whole. A point is
   **non-implausible** when its largest implausibility over the informative targets is at most
   ``CUTOFF`` (3: Pukelsheim's three-sigma rule) under every wave's emulators. The share of a
   fixed space-filling test set still non-implausible is reported after each wave.
3. **Checks.** A target whose wave-1 point means span less than its observation SD is not
   moved by any parameter: it is a *check*, left out of the implausibility and counted apart
   (hold-outs too, when their presets run: a check is no out-of-sample test).
4. **Posterior.** An affine-invariant ensemble MCMC (``emcee``) samples the parameters in the
   non-implausible space (a uniform prior on the searched ranges, zero outside the space) with
   the Gaussian likelihood of the last wave's emulators and the same three variances
   (:func:`log_likelihood`). The chain, thinned, is ``posterior.parquet``.

Everything is seeded from the target file's base seed, so the same inputs give the same
posterior file; a calibration stopped part-way resumes its finished runs from the batch layer.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from cryptoabm.calibration.simulate import Simulated, Simulator
from cryptoabm.calibration.targets import LoadedTargets, Target

CUTOFF = 3.0  # implausibility cut-off: Pukelsheim's three-sigma rule for unimodal distributions
MIN_REPLICATIONS = 10
# a point mean's standard error at most this share of the SD a distance is judged against (observation,
# discrepancy and ensemble): it then adds at most a quarter to that variance (and the emulators count
# it, as each point's own variance); half rather than less keeps a full calibration within 30 minutes
# on 2 cores
NOISE_SHARE = 0.5
MAX_REPLICATIONS = 40  # cap: beyond it, the noise is reported rather than averaged away
TEST_POINTS = 4096  # the fixed test set on which the non-implausible share is measured
CANDIDATES = 4096  # candidates a later wave's design is chosen from (doubled while too few survive)
MAX_CANDIDATES = 2 ** 17  # the most candidates tried: a non-implausible share below ~1e-4 ends the waves
HM_STREAM = 0x4A  # the calibration's own Sobol' sequences and sampler draw from (base seed, this, ...)


# -- the formulas -------------------------------------------------------------------------
def outside_range(value: np.ndarray, low: float, high: float) -> np.ndarray:
    """Signed distance of a value from the observed range [low, high] (0 inside it)."""
    value = np.asarray(value, dtype=float)
    return np.where(value < low, value - low, np.where(value > high, value - high, 0.0))


def total_variance(emulator_var: np.ndarray, observation_sd: float, discrepancy_sd: float,
                   ensemble_var: float) -> np.ndarray:
    """The variance a distance is measured against: emulator + observation + discrepancy + ensemble."""
    return np.asarray(emulator_var, dtype=float) + observation_sd ** 2 + discrepancy_sd ** 2 + ensemble_var


def implausibility(mean: np.ndarray, emulator_var: np.ndarray, low: float, high: float, observation_sd: float,
                   discrepancy_sd: float, ensemble_var: float) -> np.ndarray:
    """A target's implausibility at emulated means (see the module docstring)."""
    return np.abs(outside_range(mean, low, high)) / np.sqrt(
        total_variance(emulator_var, observation_sd, discrepancy_sd, ensemble_var))


def log_likelihood_term(mean: np.ndarray, emulator_var: np.ndarray, low: float, high: float, observation_sd: float,
                        discrepancy_sd: float, ensemble_var: float) -> np.ndarray:
    """A target's Gaussian log-likelihood at emulated means: -(d^2 / V + log(2 pi V)) / 2, with d
    the distance from the observed range and V the total variance (flat inside a range)."""
    variance = total_variance(emulator_var, observation_sd, discrepancy_sd, ensemble_var)
    distance = outside_range(mean, low, high)
    return -0.5 * (distance ** 2 / variance + np.log(2 * np.pi * variance))


def choose_replications(ensemble_sd: dict[str, float], scale_sd: dict[str, float], share: float = NOISE_SHARE,
                        minimum: int = MIN_REPLICATIONS, maximum: int = MAX_REPLICATIONS) -> int:
    """The fewest replications R (within [minimum, maximum]) for which every target's standard
    error of a point's mean, ensemble SD / sqrt(R), is at most ``share`` of the SD its distance
    is judged against, sqrt(scale SD^2 + ensemble SD^2) (scale SD: observation and discrepancy):
    R >= ensemble SD^2 / (share^2 (scale SD^2 + ensemble SD^2)), never more than 1 / share^2."""
    needed = minimum
    for key, sd in ensemble_sd.items():
        total = scale_sd[key] ** 2 + sd ** 2
        if math.isfinite(sd) and total > 0:
            needed = max(needed, math.ceil(sd ** 2 / (share ** 2 * total) - 1e-9))
    return int(min(maximum, needed))


# -- the space ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Space:
    """The searched ranges and their unit cube (integer bounds: an integer parameter)."""

    ranges: dict[str, tuple[float, float]]

    @property
    def keys(self) -> list[str]:
        return list(self.ranges)

    def is_integer(self, key: str) -> bool:
        low, high = self.ranges[key]
        return isinstance(low, int) and isinstance(high, int)

    def to_points(self, unit: np.ndarray) -> list[dict[str, Any]]:
        """Unit-cube rows as parameter points (integers rounded)."""
        from cryptoabm.batch.experiment import scaled_points

        return scaled_points({k: list(v) for k, v in self.ranges.items()}, np.atleast_2d(unit))

    def to_unit(self, points: list[dict[str, Any]]) -> np.ndarray:
        lows = np.array([self.ranges[k][0] for k in self.keys], dtype=float)
        highs = np.array([self.ranges[k][1] for k in self.keys], dtype=float)
        values = np.array([[float(p[k]) for k in self.keys] for p in points], dtype=float)
        return (values - lows) / (highs - lows)


def sobol_unit(dimensions: int, samples: int, seed: int, stream: int) -> np.ndarray:
    """The first ``samples`` points of a scrambled Sobol' sequence in the unit cube, seeded."""
    sampler = qmc.Sobol(d=dimensions, scramble=True,
                        rng=np.random.default_rng(np.random.SeedSequence([seed, HM_STREAM, stream])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # not a power of two: some balance lost
        return sampler.random(samples)


def maximin_subset(candidates: np.ndarray, size: int) -> np.ndarray:
    """``size`` rows of ``candidates`` chosen greedily to be far apart (the first row, then each
    time the candidate farthest from those chosen): a space-filling design inside any region."""
    if len(candidates) <= size:
        return candidates
    chosen = [0]
    nearest = np.linalg.norm(candidates - candidates[0], axis=1)
    for _ in range(size - 1):
        index = int(np.argmax(nearest))
        chosen.append(index)
        nearest = np.minimum(nearest, np.linalg.norm(candidates - candidates[index], axis=1))
    return candidates[chosen]


# -- emulators ----------------------------------------------------------------------------
@dataclass
class Emulator:
    """A Gaussian-process emulator of one target's mean over the unit cube: scikit-learn's fit,
    and its predictive mean and variance with the inverse Cholesky factor computed once (the
    variance is of the mean function: the fitted white-noise term, noise of a point's mean, is
    left out, since the ensemble variance is counted apart)."""

    target: str
    model: Any  # a fitted sklearn GaussianProcessRegressor
    _inverse_factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from scipy.linalg import solve_triangular

        factor = self.model.L_
        self._inverse_factor = solve_triangular(factor, np.eye(factor.shape[0]), lower=True)

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and variance at unit-cube points."""
        unit = np.atleast_2d(unit)
        signal = self.model.kernel_.k1  # ConstantKernel x RBF, without the white-noise term
        cross = signal(unit, self.model.X_train_)
        scale = np.asarray(self.model._y_train_std).reshape(-1)[0]
        mean = cross @ self.model.alpha_.reshape(-1) * scale + np.asarray(self.model._y_train_mean).reshape(-1)[0]
        projected = cross @ self._inverse_factor.T
        variance = np.maximum(signal.diag(unit) - np.einsum("ij,ij->i", projected, projected), 0.0)
        return mean, variance * scale ** 2


def fit_emulator(target: str, unit: np.ndarray, means: np.ndarray, mean_variances: np.ndarray,
                 seed: int) -> Emulator:
    """An emulator of a target's mean from points' means and the sampling variance of each
    (entered on the diagonal, scaled as scikit-learn normalises the means)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    scale = float(np.var(means)) or 1.0
    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(unit.shape[1], 0.3), (1e-2, 1e2))
              + WhiteKernel(1e-3, (1e-8, 1.0)))
    model = GaussianProcessRegressor(kernel=kernel, alpha=np.maximum(mean_variances / scale, 1e-10),
                                     normalize_y=True, n_restarts_optimizer=2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(unit, means)
    return Emulator(target, model)


# -- waves --------------------------------------------------------------------------------
@dataclass
class Wave:
    index: int
    points: list[dict[str, Any]]
    emulators: dict[str, Emulator]
    ensemble_var: dict[str, float]  # pooled within-point variance of one run's value, per target
    non_implausible_share: float  # of the test set, after this wave
    seconds: float


@dataclass
class HistoryMatchingResult:
    space: Space
    targets: list[Target]  # the fitted targets
    informative: list[str]  # of the fitted targets, those the parameters move
    checks: list[str]  # every target measured (fitted or not) that no parameter moves
    replications: int
    noise: pd.DataFrame  # target, mean, ensemble_sd, scale_sd, se_at_chosen
    waves: list[Wave]
    runs: pd.DataFrame  # every point run: wave, parameters, mean__<target>, var__<target>
    posterior: pd.DataFrame  # one row a draw
    diagnostics: dict[str, Any]
    chain: np.ndarray  # steps x walkers x parameters, unit cube (for the convergence figure)
    log_prob: np.ndarray  # steps x walkers
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    def fitted(self) -> dict[str, Any]:
        """The posterior median of each parameter (integers rounded)."""
        return {key: (int(round(float(self.posterior[key].median()))) if self.space.is_integer(key)
                      else float(self.posterior[key].median())) for key in self.space.keys}

    def uncertainty(self) -> dict[str, tuple[float, float]]:
        """Each parameter's 5-95% posterior range."""
        return {key: (float(self.posterior[key].quantile(0.05)), float(self.posterior[key].quantile(0.95)))
                for key in self.space.keys}


def _point_stats(simulated: Simulated) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per point and target: the mean over replications, and the within-point variance of one run."""
    grouped = simulated.values.groupby(["point", "target"])["value"]
    return grouped.mean().unstack("target"), grouped.var(ddof=1).unstack("target")


class HistoryMatcher:
    """One calibration: the targets, their variances, the space, the simulator and the settings."""

    def __init__(self, loaded: LoadedTargets, ranges: dict[str, tuple[float, float]], simulate: Simulator,
                 waves: int = 3, points: int = 64, replications: int | None = None, noise_replications: int = 30,
                 walkers: int | None = None, steps: int = 1500, draws: int = 1000, log: Any = None,
                 targets: list[Target] | None = None, order: int = 1):
        self.loaded = loaded
        self.targets = targets if targets is not None else loaded.calibration_targets
        self.space = Space(dict(ranges))
        self.simulate = simulate
        self.wave_count, self.points, self.replications = waves, points, replications
        self.noise_replications = noise_replications
        self.walkers = walkers or max(16, 2 * ((4 * len(ranges) + 1) // 2))
        self.steps, self.draws = steps, draws
        self.seed = loaded.targets.base_seed
        self.say = log or (lambda line: None)
        self.order = order  # cut on the order-th largest implausibility (Vernon et al. 2010: 1, 2 or 3)

    def observation_sd(self, target: Target) -> float:
        return target.observation_error_sd

    def scale_sd(self, target: Target) -> float:
        """Observation and discrepancy SD together: what a distance is measured against, noise aside."""
        return math.hypot(target.observation_error_sd, self.loaded.discrepancy_sd(target))

    # -- stages -----------------------------------------------------------------------------
    def noise_study(self) -> tuple[pd.DataFrame, int]:
        centre = self.space.to_points(np.full((1, len(self.space.keys)), 0.5))
        simulated = self.simulate({"kind": "table", "rows": centre}, self.noise_replications, "noise")
        values = simulated.values
        rows = []
        for target in self.targets:
            v = values.loc[values["target"] == target.id, "value"].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            rows.append({"target": target.id, "mean": float(v.mean()) if v.size else math.nan,
                         "ensemble_sd": float(v.std(ddof=1)) if v.size > 1 else math.nan,
                         "scale_sd": self.scale_sd(target)})
        noise = pd.DataFrame(rows)
        chosen = self.replications or choose_replications(dict(zip(noise["target"], noise["ensemble_sd"], strict=True)),
                                                          dict(zip(noise["target"], noise["scale_sd"], strict=True)))
        noise["se_at_chosen"] = noise["ensemble_sd"] / math.sqrt(chosen)
        return noise, chosen

    def implausibility_max(self, unit: np.ndarray, wave: Wave, informative: list[str]) -> np.ndarray:
        """The ``order``-th largest implausibility over the informative targets (1: the largest),
        under one wave's emulators."""
        found = [np.zeros(len(unit))]
        for target in self.targets:
            if target.id not in informative:
                continue
            mean, var = wave.emulators[target.id].predict(unit)
            found.append(implausibility(mean, var, target.low, target.high, self.observation_sd(target),
                                        self.loaded.discrepancy_sd(target), wave.ensemble_var[target.id]))
        ranked = -np.sort(-np.vstack(found), axis=0)
        return ranked[min(self.order, len(ranked)) - 1]

    def non_implausible(self, unit: np.ndarray, waves: list[Wave], informative: list[str]) -> np.ndarray:
        keep = np.ones(len(unit), dtype=bool)
        for wave in waves:
            keep &= self.implausibility_max(unit, wave, informative) <= CUTOFF
        return keep

    def non_implausible_candidates(self, waves: list[Wave], informative: list[str], wanted: int) -> np.ndarray:
        """The candidates still non-implausible: the first CANDIDATES points of the candidates'
        Sobol' sequence, lengthened (doubling; the same sequence, so the first points stay) until
        ``wanted`` survive or MAX_CANDIDATES have been tried. A small non-implausible space is
        then still sampled by a whole design, as history matching's later waves need."""
        count = CANDIDATES
        while True:
            candidates = sobol_unit(len(self.space.keys), count, self.seed, 2)
            kept = candidates[self.non_implausible(candidates, waves, informative)]
            if len(kept) >= wanted or count >= MAX_CANDIDATES:
                return kept
            count *= 2

    def log_posterior(self, unit: np.ndarray, waves: list[Wave], informative: list[str],
                      constrained: bool = True) -> np.ndarray:
        """Uniform prior on the cube, zero outside the non-implausible space (unless not
        ``constrained``: when no point is non-implausible), times the last wave's emulated
        likelihood (vectorised over rows)."""
        unit = np.atleast_2d(unit)
        out = np.full(len(unit), -np.inf)
        inside = np.all((unit >= 0) & (unit <= 1), axis=1)
        if not inside.any():
            return out
        rows = unit[inside]
        keep = self.non_implausible(rows, waves, informative) if constrained else np.ones(len(rows), dtype=bool)
        total = np.zeros(len(rows))
        last = waves[-1]
        for target in self.targets:
            if target.id not in informative:
                continue
            mean, var = last.emulators[target.id].predict(rows)
            total += log_likelihood_term(mean, var, target.low, target.high, self.observation_sd(target),
                                         self.loaded.discrepancy_sd(target), last.ensemble_var[target.id])
        out[np.flatnonzero(inside)[keep]] = total[keep]
        return out

    def run(self) -> HistoryMatchingResult:
        """The whole calibration (module docstring). Linear algebra on one thread: the emulators'
        matrices are small, and a shared machine's other threads only slow it down."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self._run()

    def _run(self) -> HistoryMatchingResult:
        started = time.perf_counter()
        dimensions = len(self.space.keys)
        noise, replications = self.noise_study()
        self.say(f"noise study: {self.noise_replications} runs at the centre; {replications} replications per point")
        test = sobol_unit(dimensions, TEST_POINTS, self.seed, 1)
        candidates = sobol_unit(dimensions, CANDIDATES, self.seed, 2)
        waves: list[Wave] = []
        frames: list[pd.DataFrame] = []
        informative: list[str] = [t.id for t in self.targets]
        checks: list[str] = []
        for index in range(1, self.wave_count + 1):
            wave_started = time.perf_counter()
            if index == 1:
                unit = sobol_unit(dimensions, self.points, self.seed, 3)
            else:
                kept = self.non_implausible_candidates(waves, informative, self.points)
                if len(kept) == 0:
                    self.say(f"wave {index}: no candidate of {MAX_CANDIDATES:,} is non-implausible; stopping")
                    break
                unit = maximin_subset(kept, self.points)
            points = self.space.to_points(unit)
            simulated = self.simulate({"kind": "table", "rows": points}, replications, f"wave{index}")
            means, variances = _point_stats(simulated)
            frame = pd.DataFrame(points).assign(wave=index)
            for target in self.targets:
                frame[f"mean__{target.id}"] = means[target.id].to_numpy() if target.id in means else np.nan
                frame[f"var__{target.id}"] = variances[target.id].to_numpy() if target.id in variances else np.nan
            frames.append(frame)
            every = pd.concat(frames, ignore_index=True)
            if index == 1:  # every target the wave's runs measure, fitted or not (hold-outs too)
                checks = [t.id for t in self.loaded.targets.targets if t.id in means
                          and not np.ptp(np.nan_to_num(means[t.id].to_numpy(dtype=float), nan=0.0))
                          >= self.observation_sd(t)]
                informative = [t.id for t in self.targets if t.id not in checks]
            unit_all = self.space.to_unit(every[self.space.keys].to_dict("records"))
            emulators, ensemble_var = {}, {}
            for target in self.targets:
                if target.id not in informative:
                    continue
                m = every[f"mean__{target.id}"].to_numpy(dtype=float)
                v = every[f"var__{target.id}"].to_numpy(dtype=float)
                ok = np.isfinite(m)
                pooled = float(np.nanmean(v[ok])) if ok.any() else 0.0
                ensemble_var[target.id] = pooled if math.isfinite(pooled) else 0.0
                emulators[target.id] = fit_emulator(target.id, unit_all[ok], m[ok],
                                                    np.nan_to_num(v[ok], nan=pooled) / replications, self.seed + index)
            wave = Wave(index, points, emulators, ensemble_var, 0.0, 0.0)
            waves.append(wave)
            wave.non_implausible_share = float(self.non_implausible(test, waves, informative).mean())
            wave.seconds = time.perf_counter() - wave_started
            self.say(f"wave {index}: {len(points)} points x {replications} replications; non-implausible share "
                     f"{wave.non_implausible_share:.3f} ({wave.seconds:.0f} s)")
        posterior, diagnostics, chain, log_prob = self.sample_posterior(waves, informative, candidates)
        return HistoryMatchingResult(self.space, list(self.targets), informative, checks, replications, noise, waves,
                                     pd.concat(frames, ignore_index=True), posterior, diagnostics, chain, log_prob,
                                     time.perf_counter() - started,
                                     {"waves": self.wave_count, "points": self.points, "walkers": self.walkers,
                                      "steps": self.steps, "draws": self.draws, "cutoff": CUTOFF,
                                      "implausibility_order": self.order,
                                      "noise_replications": self.noise_replications,
                                      "discrepancy_share": self.loaded.targets.discrepancy_share})

    def sample_posterior(self, waves: list[Wave], informative: list[str],
                         candidates: np.ndarray) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray, np.ndarray]:
        """emcee's ensemble sampler on the emulated posterior (module docstring), started from
        non-implausible candidates spread by maximin; the second half of the chain, thinned."""
        import emcee

        dimensions = len(self.space.keys)
        kept = self.non_implausible_candidates(waves, informative, self.walkers)
        constrained = len(kept) > 0
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, HM_STREAM, 5]))
        if not constrained:
            # no candidate survives: the model misses some target at every point, on its own error
            # model. Said loudly; the posterior is then the emulated likelihood over the whole space
            self.say("posterior: no point is non-implausible; sampling the emulated likelihood over the whole "
                     "space (the model misses at least one target everywhere)")
            scores = self.log_posterior(candidates, waves, informative, constrained=False)
            kept = candidates[np.argsort(-scores)[: self.walkers]]
        if len(kept) >= self.walkers:
            start = maximin_subset(kept, self.walkers)
        else:  # a tiny non-implausible space: walkers start jittered around its points
            start = np.clip(kept[np.arange(self.walkers) % len(kept)]
                            + rng.normal(0.0, 1e-3, (self.walkers, dimensions)), 0.0, 1.0)
        sampler = emcee.EnsembleSampler(self.walkers, dimensions,
                                        lambda x: self.log_posterior(x, waves, informative, constrained),
                                        vectorize=True)
        sampler.random_state = np.random.RandomState(int(np.random.SeedSequence(
            [self.seed, HM_STREAM, 4]).generate_state(1)[0])).get_state()
        sampler.run_mcmc(start, self.steps, progress=False)
        chain, log_prob = sampler.get_chain(), sampler.get_log_prob()
        burn = self.steps // 2
        kept_chain = chain[burn:].reshape(-1, dimensions)
        thin = max(1, len(kept_chain) // self.draws)
        sample = kept_chain[::thin][: self.draws]
        posterior = pd.DataFrame(self.space.to_points(sample))
        for key in self.space.keys:
            if self.space.is_integer(key):
                posterior[key] = posterior[key].astype("int64")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                autocorr = emcee.autocorr.integrated_time(chain[burn:], quiet=True)
        except Exception:  # too short a chain for any estimate
            autocorr = np.full(dimensions, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            diagnostics = {
                "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
                "autocorrelation_steps": {k: float(a) for k, a in zip(self.space.keys, autocorr, strict=True)},
                "effective_draws": float(len(kept_chain) / np.nanmax(autocorr)) if np.isfinite(autocorr).any()
                else math.nan,
                "split_rhat": {k: split_rhat(chain[burn:, :, i]) for i, k in enumerate(self.space.keys)},
                "walkers": self.walkers, "steps": self.steps, "burn_in": burn, "thin": thin,
                "confined_to_non_implausible_space": constrained,
            }
        return posterior, diagnostics, chain, log_prob


def split_rhat(chain: np.ndarray) -> float:
    """Gelman-Rubin's potential scale reduction over walkers, each split in halves (steps x walkers)."""
    steps = chain.shape[0] // 2
    if steps < 2:
        return math.nan
    halves = np.concatenate([chain[:steps], chain[steps:2 * steps]], axis=1)  # steps x 2*walkers
    within = float(np.mean(np.var(halves, axis=0, ddof=1)))
    between = float(steps * np.var(np.mean(halves, axis=0), ddof=1))
    if within == 0:
        return math.nan
    return math.sqrt(((steps - 1) / steps * within + between / steps) / within)


# -- outputs ------------------------------------------------------------------------------
POSTERIOR_FILE = "posterior.parquet"


def write_history_matching(result: HistoryMatchingResult, out_dir: Path, command: str) -> list[Path]:
    """posterior.parquet, summary.toml (method, noise study, waves, diagnostics, timings), waves.csv,
    noise_study.csv, design.parquet (every point run) and convergence.png into ``out_dir``. All but
    the summary's timings and the figure are the same bytes for the same inputs."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import tomli_w

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / name for name in (POSTERIOR_FILE, "summary.toml", "waves.csv", "noise_study.csv",
                                               "design.parquet", "convergence.png")}
    table = pa.Table.from_pandas(result.posterior, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, paths[POSTERIOR_FILE], compression="zstd")
    waves = pd.DataFrame([{"wave": w.index, "points": len(w.points), "replications": result.replications,
                           "non_implausible_share": w.non_implausible_share} for w in result.waves])
    waves.to_csv(paths["waves.csv"], index=False, float_format="%.6g")
    result.noise.to_csv(paths["noise_study.csv"], index=False, float_format="%.6g")
    pq.write_table(pa.Table.from_pandas(result.runs, preserve_index=False).replace_schema_metadata(None),
                   paths["design.parquet"])
    uncertainty = result.uncertainty()
    fitted = result.fitted()
    summary = {
        "command": command,
        "method": "history matching with Gaussian-process emulators, then emcee on the emulated posterior",
        "wall_time_seconds": round(result.seconds, 1),
        "replications_per_point": result.replications,
        "implausibility_cutoff": CUTOFF,
        "implausibility_order": result.settings["implausibility_order"],
        "noise_study": {"runs_at_centre": result.settings["noise_replications"],
                        "rule": f"fewest replications >= {MIN_REPLICATIONS} (at most {MAX_REPLICATIONS}) with every "
                                f"target's standard error of a point mean <= {NOISE_SHARE} x the SD its distance is judged "
                                f"against (observation, discrepancy and ensemble)"},
        "discrepancy": f"model discrepancy SD = {result.settings['discrepancy_share']:g} x observation SD unless a "
                       f"target states its own",
        "informative_targets": result.informative,
        "checks": result.checks,
        "waves": [{"wave": w.index, "points": len(w.points), "non_implausible_share": round(w.non_implausible_share, 4),
                   "seconds": round(w.seconds, 1)} for w in result.waves],
        "posterior": {"draws": len(result.posterior), **_plain(result.diagnostics)},
        "parameters": {key: {"median": _rounded(fitted[key]), "posterior_5pct": _rounded(uncertainty[key][0]),
                             "posterior_95pct": _rounded(uncertainty[key][1]),
                             "range_searched": [_rounded(v) for v in result.space.ranges[key]]}
                       for key in result.space.keys},
    }
    paths["summary.toml"].write_text("# written by: " + command + "\n" + tomli_w.dumps(summary))
    convergence_figure(result, paths["convergence.png"])
    return list(paths.values())


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else "nan"
    return value


def _rounded(value: Any) -> Any:
    return int(value) if isinstance(value, (int, np.integer)) else float(f"{float(value):.4g}")


def convergence_figure(result: HistoryMatchingResult, path: Path) -> None:
    """The non-implausible share by wave, and each parameter's walkers over the chain."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    keys = result.space.keys
    columns = 3
    rows = 1 + math.ceil(len(keys) / columns)
    fig = Figure(figsize=(4.2 * columns, 2.6 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False)
    ax = axes[0][0]
    shares = [w.non_implausible_share for w in result.waves]
    ax.plot([w.index for w in result.waves], shares, marker="o")
    if any(share > 0 for share in shares):
        ax.set_yscale("log")
    ax.set_xlabel("wave")
    ax.set_title("non-implausible share of the space", fontsize=10)
    ax = axes[0][1]
    ax.plot(np.nanmean(np.where(np.isfinite(result.log_prob), result.log_prob, np.nan), axis=1), lw=1)
    ax.axvline(result.diagnostics["burn_in"], color="grey", ls=":")
    ax.set_xlabel("MCMC step")
    ax.set_title("mean log posterior over walkers", fontsize=10)
    axes[0][2].set_visible(False)
    lows = np.array([result.space.ranges[k][0] for k in keys], dtype=float)
    highs = np.array([result.space.ranges[k][1] for k in keys], dtype=float)
    for index, key in enumerate(keys):
        ax = axes[1 + index // columns][index % columns]
        ax.plot(lows[index] + result.chain[:, :, index] * (highs[index] - lows[index]), lw=0.4, alpha=0.5)
        ax.axvline(result.diagnostics["burn_in"], color="grey", ls=":")
        rhat = result.diagnostics["split_rhat"][key]
        ax.set_title(f"{key} (split R-hat {rhat:.2f})", fontsize=9)
        ax.set_xlabel("MCMC step", fontsize=8)
    for ax in list(axes.flat)[columns + len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"History matching: {len(result.waves)} waves x {result.replications} replications; "
                 f"emcee, {result.diagnostics['walkers']} walkers x {result.diagnostics['steps']} steps", fontsize=11)
    fig.savefig(path, dpi=100, metadata={"Software": None})


def summary_section(out_dir: Path) -> list[str]:
    """validation/report.md's account of the calibration, read from its outputs: the method, the
    noise study, the waves and their non-implausible shares, the checks and the posterior."""
    import tomllib

    summary = tomllib.loads((out_dir / "summary.toml").read_text())
    noise = pd.read_csv(out_dir / "noise_study.csv")
    lines = ["## Calibration: history matching, then a posterior", "",
             f"Written by `{summary['command']}` ({summary['wall_time_seconds']:g} s). "
             f"{summary['method'][0].upper()}{summary['method'][1:]}. "
             f"Implausibility cut-off {summary['implausibility_cutoff']:g} on the "
             f"{_ordinal(summary.get('implausibility_order', 1))} implausibility over the informative targets; "
             f"{summary['discrepancy']}.", "",
             f"**Noise study.** {summary['noise_study']['runs_at_centre']} runs at the centre of the space; rule: "
             f"{summary['noise_study']['rule']}. Chosen: **{summary['replications_per_point']} replications per point**.",
             "", "| target | mean at the centre | one run's SD | observation-and-discrepancy SD | SE of a point mean |",
             "|---|---|---|---|---|"]
    for row in noise.itertuples():
        lines.append(f"| `{row.target}` | {row.mean:.4g} | {row.ensemble_sd:.3g} | {row.scale_sd:.3g} | "
                     f"{row.se_at_chosen:.3g} |")
    lines += ["", "| wave | points | non-implausible share of the space after it |", "|---|---|---|"]
    lines += [f"| {w['wave']} | {w['points']} | {w['non_implausible_share']:.3g} |" for w in summary["waves"]]
    posterior = summary["posterior"]
    lines += ["", f"Checks (targets no parameter moves, counted apart): "
                  f"{', '.join(f'`{c}`' for c in summary['checks']) or 'none'}. Posterior: {posterior['draws']} draws; "
                  f"acceptance {posterior['acceptance_fraction']}; "
                  f"{'confined to the non-implausible space' if posterior.get('confined_to_non_implausible_space', True) else '**no point was non-implausible: the posterior is the emulated likelihood over the whole space**'}. "
                  f"Diagnostics and each parameter's 5-95% range: `{out_dir.as_posix()}/summary.toml`; traces: "
                  f"`{out_dir.as_posix()}/convergence.png`.", ""]
    return lines


def _ordinal(order: int) -> str:
    return {1: "largest", 2: "second largest", 3: "third largest"}.get(order, f"{order}th largest")

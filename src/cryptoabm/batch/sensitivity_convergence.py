"""Do the Sobol' indices settle as the sample grows? (issue 19)

Saltelli's scheme lays its runs out in blocks, one block of (parameters + 2) points (twice the
parameters + 2 with second-order indices) per base sample, so the first k blocks are a valid
smaller design. :func:`sobol_convergence` recomputes each parameter's total index ST (with its
bootstrap interval, and the dummy's) on the first 1/8, 1/4, 1/2 and all of the base samples;
:func:`convergence_figure` plots them. An index whose interval still moves between the last two
sizes, or that does not stand clear of the dummy at the full size, supports no statement.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cryptoabm.batch.sensitivity import SensitivityDesign, indices_of

FRACTIONS = (0.125, 0.25, 0.5, 1.0)
MIN_BASE_SAMPLES = 4


def block_size(design: SensitivityDesign) -> int:
    """Points per base sample of a Saltelli design."""
    dimensions = len(design.names)
    return 2 * dimensions + 2 if design.design.second_order else dimensions + 2


def sobol_convergence(design: SensitivityDesign, values: np.ndarray, seed: int) -> pd.DataFrame:
    """ST of every parameter (the dummy included) on growing prefixes of the base samples.
    ``values``: one value per design point, in run order. Columns base_samples, parameter,
    value, conf."""
    if design.design.kind != "sobol":
        raise ValueError("convergence over sample size is computed for sobol designs")
    unit = design.unit_sample()
    step = block_size(design)
    total = len(unit) // step
    rows = []
    for base in sorted({max(MIN_BASE_SAMPLES, int(total * f)) for f in FRACTIONS if total * f >= 1}):
        base = min(base, total)
        found = indices_of(design, unit[: base * step], np.asarray(values, dtype=float)[: base * step], seed)
        rows += [{"base_samples": base, "parameter": r["parameter"], "value": r["value"], "conf": r["conf"]}
                 for r in found if r["index"] == "ST"]
    return pd.DataFrame(rows, columns=["base_samples", "parameter", "value", "conf"])


def convergence_figure(table: pd.DataFrame, path: Path, title: str) -> None:
    """ST with its 95% bootstrap interval against the number of base samples, per parameter."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for parameter, group in table.groupby("parameter", sort=False):
        style = {"ls": ":", "color": "grey"} if parameter == "dummy" else {}
        ax.errorbar(group["base_samples"], group["value"], yerr=group["conf"], marker="o", capsize=3,
                    label=parameter, **style)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("base samples (Saltelli)")
    ax.set_ylabel("ST, with 95% bootstrap interval")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=100, metadata={"Software": None})

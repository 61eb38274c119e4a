"""Up-front estimates of what a run or a batch needs, checked against this machine.

A model's memory grows with citizens x contacts (the network is a sparse matrix built by
sorting), and a batch's results with runs x kept months x columns. Both are estimated
before anything runs, so that a design that cannot fit is refused at once, with the
estimate in the message, instead of being found out by running out of memory or disk.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cryptoabm.config import ConfigError, Scenario

BYTES_PER_CITIZEN = 400  # per-citizen arrays (income, trust, state, draws), measured: ~225 B at 1M citizens
BYTES_PER_CONTACT = 24  # per directed edge while the network is built: int64 sort keys, CSR index and weight
BYTES_PER_CELL = 8  # one number of a results table, in memory and (uncompressed) on disk
MODEL_BASE_BYTES = 250 * 2**20  # Python, Mesa, numpy, pandas: a process before any citizen exists
FORCE_HINT = "add --force to try anyway"


def contacts_per_citizen(scenario: Scenario) -> int:
    """Average contacts a citizen's network row holds."""
    population = scenario.population
    if population.network == "complete":
        return population.citizens - 1
    if population.network == "well_mixed":
        return 0
    return population.mean_degree


def model_memory_bytes(scenario: Scenario) -> int:
    """Peak memory of one run of ``scenario``, estimated from citizens x contacts."""
    citizens = scenario.population.citizens
    return MODEL_BASE_BYTES + citizens * (BYTES_PER_CITIZEN + BYTES_PER_CONTACT * contacts_per_citizen(scenario))


def results_bytes(runs: int, rows_per_run: int, columns: int) -> int:
    """Size of a batch's tidy results: every run's kept months, every column, as 8-byte numbers."""
    return runs * rows_per_run * columns * BYTES_PER_CELL


def available_memory_bytes() -> int:
    """Memory this machine can give a new process now (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 2**62  # unknown: do not refuse


def free_disk_bytes(folder: Path) -> int:
    """Free space on the disk that holds ``folder`` (or its nearest existing parent)."""
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 2**62


def human_bytes(size: float) -> str:
    """A size in the largest binary unit that keeps it above 1, e.g. '18.6 GiB'."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,.0f} B"


def ensure_model_fits(scenario: Scenario, source: str | Path, force: bool = False) -> None:
    """Refuse (ConfigError) a scenario whose run would not fit in this machine's memory."""
    needed = model_memory_bytes(scenario)
    available = available_memory_bytes()
    if needed > available and not force:
        raise ConfigError(source, "population", (
            f"a run needs about {human_bytes(needed)} of memory ({scenario.population.citizens:,} citizens x "
            f"{contacts_per_citizen(scenario):,} contacts) but this machine has {human_bytes(available)} available; "
            f"use fewer citizens or contacts, or {FORCE_HINT}"))

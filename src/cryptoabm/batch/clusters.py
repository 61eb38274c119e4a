"""Where a batch runs: this process, a process pool, a Dask cluster, or SLURM via dask-jobqueue.

Each choice is an ``Executor`` factory plus one line saying where the runs go. Dask and
dask-jobqueue are optional extras (``cryptoabm[distributed]``, ``cryptoabm[slurm]``).

Dask moves pickles between the client, the scheduler and the workers: anyone who can
connect to the scheduler can run code on every worker and on this machine. Connect only to
a scheduler reached over TLS or a loopback/SSH tunnel (see experiments/README.md).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cryptoabm.config import ConfigError, first_problem

SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$")
POOL_START_SECONDS = 2.2  # a worker pool's one-off start-up: a fresh Python importing the model (benchmarks)
RUN_OVERHEAD_SECONDS = 0.005  # building one model and recording its results, besides the citizens
SECONDS_PER_MONTH = 0.0015  # a month's work besides the citizens (farms, investors, the world fleet, recording):
                            # measured at 1-2 ms on the presets (0.06-0.15 s for 60 months of 2,000 citizens)
SECONDS_PER_CITIZEN_MONTH = 80e-9  # benchmarks/RESULTS.md: 30-190 ns per citizen-step
SCHEDULER_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Placement:
    """What runs the batch and a phrase saying where, for the one-line announcement."""

    make_executor: Callable[[], Executor]
    where: str
    note: str = ""  # one line explaining a choice made for the user (e.g. in-process for a small batch)
    close: Callable[[], None] = lambda: None


def estimated_seconds(run_sizes: list[tuple[int, int]]) -> float:
    """Work of a batch on one core, from each run's (citizens, months)."""
    return sum(RUN_OVERHEAD_SECONDS + months * SECONDS_PER_MONTH + citizens * months * SECONDS_PER_CITIZEN_MONTH
               for citizens, months in run_sizes)


def local_placement(workers: int | None, run_sizes: list[tuple[int, int]]) -> Placement:
    """This process or a process pool. Without ``--workers``: a pool of one worker per core,
    unless the work is so small that starting the pool would cost more than it saves."""
    from cryptoabm.batch.runner import InProcessExecutor, process_pool

    cores = os.cpu_count() or 1
    note = ""
    if workers is None:
        work = estimated_seconds(run_sizes)
        workers = cores
        if cores == 1 or work / cores + POOL_START_SECONDS >= work:
            workers = 1
            if cores > 1:
                note = (f"small batch (about {work:.1f} s of work, less than a worker pool's {POOL_START_SECONDS:.0f} s "
                        f"start-up would save): running in this process; --workers N to use a pool")
    if workers == 1:
        return Placement(InProcessExecutor, "1 worker (in this process)", note)
    return Placement(lambda: process_pool(workers), f"{workers} worker processes", note)


def dask_placement(scheduler: str, workers: int | None) -> Placement:
    """A Dask cluster: a LocalCluster ('local') or a running scheduler at ``scheduler``."""
    Client, LocalCluster = _dask("distributed")
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
        return Placement(client.get_executor, f"a Dask LocalCluster of {len(cluster.workers)} workers",
                         close=lambda: (client.close(), cluster.close()))
    if not SCHEDULER_ADDRESS.match(scheduler):
        raise ConfigError("--scheduler", "", f"{scheduler!r} is not a scheduler address: use 'local' or "
                                             f"tls://host:port (tcp://127.0.0.1:port through an SSH tunnel)")
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError("--scheduler", "", f"cannot reach the Dask scheduler at {scheduler}: "
                                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return Placement(client.get_executor, f"the Dask cluster at {scheduler}", close=client.close)


class SlurmOptions(BaseModel):
    """A small TOML of SLURM options for ``--cluster slurm`` (anything left out comes from
    dask-jobqueue's own configuration, ``jobqueue.slurm`` in ~/.config/dask/)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: int = Field(1, ge=1, le=10_000)  # SLURM jobs to start, each running Dask workers
    queue: str | None = None  # partition
    account: str | None = None
    cores: int | None = Field(None, ge=1, le=1024)  # per job
    processes: int | None = Field(None, ge=1, le=1024)  # Dask worker processes per job
    memory: str | None = None  # per job, e.g. "16GB"
    walltime: str | None = None  # e.g. "02:00:00"
    interface: str | None = None  # network interface of the workers, e.g. "ib0"
    job_extra_directives: list[str] = Field(default_factory=list)  # extra #SBATCH lines
    job_script_prologue: list[str] = Field(default_factory=list)  # e.g. ["module load python"]
    local_directory: str | None = None
    log_directory: str | None = None

    def cluster_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``dask_jobqueue.SLURMCluster`` (only those set)."""
        return {k: v for k, v in self.model_dump(exclude={"jobs"}).items() if v not in (None, [])}


def read_slurm_options(path: Path | None) -> SlurmOptions:
    """SLURM options from a TOML file (None: all from dask-jobqueue's configuration)."""
    if path is None:
        return SlurmOptions()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read the cluster options: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"malformed TOML: {exc}") from None
    try:
        return SlurmOptions.model_validate(raw)
    except ValidationError as exc:
        field, message = first_problem(
            exc, lambda loc: f"unknown key '{loc[-1]}'; allowed: {', '.join(SlurmOptions.model_fields)}")
        raise ConfigError(path, field, message) from None


def slurm_cluster(options: SlurmOptions):
    """A dask-jobqueue SLURMCluster from the options (no job is submitted until it is scaled)."""
    (SLURMCluster,) = _dask("dask_jobqueue")
    try:
        return SLURMCluster(**options.cluster_arguments())
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError("--cluster-config", "", f"dask-jobqueue refused the SLURM options: {exc}") from None


def slurm_placement(config_path: Path | None) -> Placement:
    """``--cluster slurm``: start the SLURM jobs and run on the Dask workers they bring up."""
    options = read_slurm_options(config_path)
    cluster = slurm_cluster(options)
    Client, _ = _dask("distributed")
    cluster.scale(jobs=options.jobs)
    client = Client(cluster)
    return Placement(client.get_executor, f"SLURM ({options.jobs} jobs via dask-jobqueue; runs start as jobs do)",
                     close=lambda: (client.close(), cluster.close()))


def _dask(module: str) -> tuple[Any, ...]:
    """The Dask classes needed, or a one-line hint naming the optional extra."""
    try:
        if module == "dask_jobqueue":
            from dask_jobqueue import SLURMCluster

            return (SLURMCluster,)
        from distributed import Client, LocalCluster

        return Client, LocalCluster
    except ImportError:
        extra = "slurm" if module == "dask_jobqueue" else "distributed"
        raise ConfigError("--cluster" if extra == "slurm" else "--scheduler", "",
                          f"needs the optional extra: pip install 'cryptoabm[{extra}]'") from None

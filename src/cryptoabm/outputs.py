"""Writing one run's results folder: monthly table (CSV, Parquet), resolved config, seed, dashboard.

The folder appears whole or not at all. Every file is written into a fresh hidden folder next to
it (``.<name>.staging-<pid>-<random>``), which then takes the folder's place in one rename (an
atomic exchange on Linux when an earlier run is replaced). A crash, a full disk or Ctrl-C leaves
the earlier folder as it was; a staging folder left by a killed process is removed by the next
run into the same folder. A folder that holds anything but a run's five files is never written
into, and an earlier run is replaced only when asked (``overwrite``). The dashboard is drawn into
the staging folder like the other files (or not at all, ``dashboard=False``); ``run.json``, written
last, lists the files the run wrote.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import tomli_w

from cryptoabm.config import InputError, Scenario, scenario_to_toml_dict

if TYPE_CHECKING:
    import pandas as pd  # the table written; this module itself needs no pandas (a bad --out answers at once)

MONTHLY_CSV = "monthly.csv"
MONTHLY_PARQUET = "monthly.parquet"
RESOLVED_CONFIG = "config.toml"
RUN_INFO = "run.json"
DASHBOARD = "dashboard.png"


RUN_FILES = (MONTHLY_CSV, MONTHLY_PARQUET, RESOLVED_CONFIG, RUN_INFO, DASHBOARD)
STAGING_PATTERN = re.compile(r"^\.(?P<name>.+)\.staging-(?P<pid>\d+)-[A-Za-z0-9_]+$")
RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


class RunFolderError(InputError):
    """An output folder a run may not write into (one plain line)."""


def check_run_folder(out_dir: Path, overwrite: bool = False) -> None:
    """Refuse a folder that holds anything but an earlier run's files, or an earlier run
    unless ``overwrite``: nothing the project did not write is ever replaced."""
    if not out_dir.is_dir():
        return
    names = {path.name for path in out_dir.iterdir()}
    if not names:
        return
    foreign = sorted(n for n in names if n not in RUN_FILES and n.removesuffix(".partial") not in RUN_FILES)
    if foreign or RUN_INFO not in names:
        shown = ", ".join(foreign[:3]) or ", ".join(sorted(names)[:3])
        raise RunFolderError(f"--out {out_dir} is not empty and holds no cryptoabm run ({shown}); choose a new "
                             f"or empty folder")
    if not overwrite:
        raise RunFolderError(f"--out {out_dir} already holds the results of a run; add --overwrite to replace "
                             f"them, or choose another folder")


def _remove_stale_staging(out_dir: Path) -> None:
    """Staging folders of this output folder left by processes that no longer run (killed)."""
    for path in out_dir.parent.glob(f".{out_dir.name}.staging-*"):
        match = STAGING_PATTERN.match(path.name)
        if match is None or match["name"] != out_dir.name or _process_alive(int(match["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd = -100  # AT_FDCWD
    done = renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), RENAME_EXCHANGE)
    return done == 0


def _swap_in(staging: Path, out_dir: Path, overwrite: bool) -> None:
    """Put the finished staging folder in ``out_dir``'s place; what it replaces is removed."""
    check_run_folder(out_dir, overwrite)  # again: another process may have written meanwhile
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not _exchange(staging, out_dir):
            old = staging.with_name(staging.name + ".old")
            os.rename(out_dir, old)
            os.rename(staging, out_dir)
            staging = old
        shutil.rmtree(staging, ignore_errors=True)  # now the earlier run's files
        return
    try:
        os.replace(staging, out_dir)  # onto a missing or empty folder: one atomic rename
    except OSError as exc:
        raise RunFolderError(f"--out {out_dir} was written by another process meanwhile ({exc.strerror}); "
                             f"choose another folder") from None


def run_files(dashboard: bool = True) -> tuple[str, ...]:
    """The files of a run's folder, with or without the dashboard."""
    return RUN_FILES if dashboard else tuple(name for name in RUN_FILES if name != DASHBOARD)


def write_run(out_dir: Path, scenario: Scenario, seed: int, table: pd.DataFrame, config_file: str,
              overwrite: bool = False, dashboard: bool = True) -> list[Path]:
    """Write every output of one run into ``out_dir`` (whole or not at all; see the module
    docstring), the dashboard only if ``dashboard``; returns the paths written."""
    out_dir = Path(out_dir)
    check_run_folder(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-{os.getpid()}-", dir=out_dir.parent))
    try:
        staging.chmod(0o777 & ~_umask())  # as a folder made with mkdir (mkdtemp makes it private)
        _write_files(staging, scenario, seed, table, config_file, dashboard)
        _swap_in(staging, out_dir, overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out_dir / name for name in run_files(dashboard)]


def _write_files(folder: Path, scenario: Scenario, seed: int, table: pd.DataFrame, config_file: str,
                 dashboard: bool) -> None:
    resolved = scenario_to_toml_dict(scenario.model_copy(update={"seed": seed}))
    info = {
        "scenario": scenario.name,
        "config_file": config_file,
        "seed": seed,
        "months": scenario.months,
        "cryptoabm_version": version("cryptoabm"),
        "mesa_version": version("mesa"),
        "files": list(run_files(dashboard)),  # what this run wrote: no dashboard.png with --no-dashboard
    }
    table.to_csv(folder / MONTHLY_CSV, index=False)
    table.to_parquet(folder / MONTHLY_PARQUET, index=False, engine="pyarrow")
    (folder / RESOLVED_CONFIG).write_text(
        f"# Resolved scenario '{scenario.name}' as run (seed {seed}); rerun with: cryptoabm run {RESOLVED_CONFIG}\n"
        + tomli_w.dumps(resolved))
    if dashboard:
        from cryptoabm.dashboard import save_dashboard  # matplotlib: imported only when a dashboard is drawn

        title = f"{scenario.name}: {scenario.description}".rstrip(": ") + f"  (seed {seed})"
        event_months = sorted({event.month for event in scenario.events})
        save_dashboard(table, folder / DASHBOARD, title, event_months)
    (folder / RUN_INFO).write_text(json.dumps(info, indent=2) + "\n")  # last: the mark of a whole run

"""What code a result came from: the package's version, a hash of its installed source, and the
hash of each data file it ships (such as the recorded bitcoin market of ``data/``).

A batch records this in its manifest; resuming it with other code would merge runs of two
models into one table, so :func:`code_difference` names the first difference and the resume
is refused.
"""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGE = "cryptoabm"
PACKAGE_FOLDER = Path(__file__).resolve().parent
SOURCE_SUFFIXES = (".py",)
IGNORED_PARTS = ("__pycache__",)
IGNORED_SUFFIXES = (".pyc", ".pyo")


@functools.cache
def code_record() -> dict[str, Any]:
    """The package version, one SHA-256 over every source file (path and content), and the
    SHA-256 of every other packaged file (the data files), by path inside the package."""
    source = hashlib.sha256()
    data: dict[str, str] = {}
    for path in sorted(PACKAGE_FOLDER.rglob("*")):
        relative = path.relative_to(PACKAGE_FOLDER).as_posix()
        if not path.is_file() or any(part in IGNORED_PARTS for part in path.parts) or path.suffix in IGNORED_SUFFIXES:
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.suffix in SOURCE_SUFFIXES:
            source.update(f"{relative} {digest}\n".encode())
        else:
            data[relative] = digest
    return {"version": _version(), "source_sha256": source.hexdigest(), "data_files": data}


def code_difference(recorded: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """The first way ``current`` differs from ``recorded`` (version, source, a data file), worded
    to follow "since ... started", or None if they are the same."""
    if not recorded:
        return "no record of the code it was started with (an older cryptoabm)"
    if recorded.get("version") != current["version"]:
        return f"cryptoabm {recorded.get('version')} was replaced by {current['version']}"
    if recorded.get("source_sha256") != current["source_sha256"]:
        return f"the cryptoabm source code in {PACKAGE_FOLDER} has changed (its hash differs)"
    before, now = recorded.get("data_files", {}), current["data_files"]
    for name in sorted(set(before) | set(now)):
        if before.get(name) != now.get(name):
            state = "is new" if name not in before else "is gone" if name not in now else "has changed"
            return f"the packaged data file {PACKAGE}/{name} {state}"
    return None


def _version() -> str | None:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        return None

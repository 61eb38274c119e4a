"""One writer per folder: a lock held while a command writes into a folder.

``batch``, ``calibrate``, ``validate`` and ``sensitivity`` each take the lock of the folder they
write before they touch anything in it, so that a second command into the same folder is
refused with one line instead of deleting or mixing the first one's files. The lock is an
operating-system lock on the file ``.lock`` in the folder (filelock); the OS releases it when
the process ends in any way, even when killed, so a stale lock never blocks a later command.
The holder's process id is written beside it, in ``.lock.pid`` (the lock file itself may be
emptied by each attempt to take it), for the message a second command prints.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from cryptoabm.config.errors import InputError

LOCK = ".lock"
LOCK_HOLDER = ".lock.pid"  # the process holding the lock


class FolderBusy(InputError):
    """Another command holds the folder's lock (one plain line)."""


class FolderLock:
    """The lock of one folder; :meth:`acquire` refuses at once (no waiting) if it is held."""

    def __init__(self, folder: Path, what: str, option: str = "--out"):
        self.folder = Path(folder)
        self.what = what  # "batch", "calibrate", ...: named in the message to a second command
        self.option = option  # the option that chose the folder, named in the message
        self._lock = FileLock(self.folder / LOCK, blocking=False)

    def acquire(self) -> None:
        """Take the lock (the folder must exist); :class:`FolderBusy` if another process holds it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise FolderBusy(f"{self.folder} is in use by another {self.what} (process {self.holder()}); wait for "
                             f"it to finish or choose another {self.option}") from None
        except OSError as exc:
            raise InputError(f"cannot lock {self.folder}: {exc.strerror or exc}") from None
        try:  # the holder's id, for a second command's message
            (self.folder / LOCK_HOLDER).write_text(f"{os.getpid()}\n")
        except OSError as exc:
            self.release()
            raise InputError(f"cannot write into {self.folder}: {exc.strerror or exc}") from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release(force=True)

    @property
    def is_locked(self) -> bool:
        return self._lock.is_locked

    def holder(self) -> str:
        try:
            return (self.folder / LOCK_HOLDER).read_text().strip() or "unknown"
        except OSError:
            return "unknown"


@contextlib.contextmanager
def folder_lock(folder: Path, what: str, option: str = "--out") -> Iterator[FolderLock]:
    """Hold ``folder``'s lock inside the block (the folder is created if need be)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    lock = FolderLock(folder, what, option)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()

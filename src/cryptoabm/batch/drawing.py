"""Drawing a report's figures in forked processes, while the report's text is written.

A figure is a function that draws it and saves it to a file (a bare matplotlib ``Figure`` on
an Agg canvas). Drawn one after the other they are most of a report's time; here up to one
child process per core draws them, each taking the next figure from a shared queue (the
largest first), while this process goes on. The children are forked from this process, with
the tables and matplotlib already in memory, so they start in milliseconds and draw exactly
what this process would: the files are byte-identical to drawing them here.

Forking a process that runs other threads can deadlock the child, so from such a process (a
notebook, a Dask client, the test runner) and where there is one core or one figure, the
figures are drawn here, one after the other, when :meth:`Drawing.wait` is called. A child that
fails (or is interrupted) exits with a non-zero code; :meth:`Drawing.wait` then draws every
figure again here, so that the error is raised as it would be without children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
import warnings
from collections.abc import Iterator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

INDEX = struct.Struct("=I")  # a figure's index in the queue: 4 bytes, read whole from a pipe


@dataclass(frozen=True)
class FigureJob:
    """One figure to draw: ``draw(*args)`` saves it; ``panels`` ranks it (the largest first)."""

    draw: Callable[..., Any]
    args: tuple[Any, ...]
    panels: int = 1


class Drawing:
    """Figures being drawn. Used as a context manager: on leaving the block, wait until every
    file is written (or, if the block raised, stop the children)."""

    def __init__(self, figures: list[FigureJob], children: list[int]):
        self.figures = figures
        self.children = children  # none: the figures are drawn here, in wait()

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.wait()
        else:
            self.stop()

    def wait(self) -> None:
        """Return once every figure is drawn (drawing them here if no child could)."""
        children, self.children = self.children, []
        try:
            failed = [pid for pid in children if _exit_code(pid) != 0]
        except BaseException:  # Ctrl-C while waiting: the children stop too
            self.children = children
            self.stop()
            raise
        if failed or not children:
            for figure in self.figures:  # here, one after the other: an error is raised as is
                figure.draw(*figure.args)

    def stop(self) -> None:
        """End the children still drawing (SIGTERM) and reap them."""
        children, self.children = self.children, []
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


@contextlib.contextmanager
def native_threads_allowed() -> Iterator[None]:
    """Fork without Python 3.12's warning about a multi-threaded process, which counts every
    thread of the operating system: the callers fork only when no other Python thread runs, and
    the native threads of numpy's BLAS and of Arrow are fork-safe (they are rebuilt in the child)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"This process \(pid=\d+\) is multi-threaded", DeprecationWarning)
        yield


def start_drawing(figures: Sequence[FigureJob], workers: int | None = None) -> Drawing:
    """Start drawing ``figures`` in up to ``workers`` forked children (default: one per core);
    leave the ``with`` block of the result (or call ``wait()``) before using the files."""
    ordered = sorted(figures, key=lambda figure: -figure.panels)  # stable: equal sizes keep their order
    drawing = Drawing(ordered, [])
    workers = min(workers or os.cpu_count() or 1, len(ordered))
    if workers < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return drawing
    read_end, write_end = os.pipe()
    os.write(write_end, b"".join(INDEX.pack(index) for index in range(len(ordered))))  # a few bytes: never blocks
    os.close(write_end)
    try:
        for _ in range(workers):
            try:
                with native_threads_allowed():
                    pid = os.fork()
            except OSError:  # no more processes: those started draw every figure
                break
            if pid == 0:  # the child: draw figures from the queue until it is empty, then leave
                _draw_from_queue(ordered, read_end)
            drawing.children.append(pid)
    finally:
        os.close(read_end)
    return drawing


def _draw_from_queue(figures: list[FigureJob], queue: int) -> None:
    code = 0
    try:
        while chunk := os.read(queue, INDEX.size):  # one reader at a time gets each whole index
            figure = figures[INDEX.unpack(chunk)[0]]
            figure.draw(*figure.args)
    except BaseException:  # noqa: BLE001 - reported by the exit code; the parent draws it again
        code = 1
    os._exit(code)  # no exit functions, no flushing of the parent's buffers: they are the parent's


def _exit_code(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

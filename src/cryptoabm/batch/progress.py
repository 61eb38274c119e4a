"""The batch layer's progress bars and tqdm's monitor thread.

tqdm starts a monitor thread with its first bar, even a disabled one, to redraw bars that
stall, and the thread outlives every bar. A process running it counts as multi-threaded, and
forking a multi-threaded process can deadlock the child: with it, a batch could not fork its
worker processes from itself (see :func:`cryptoabm.batch.runner.process_pool`), nor its report
the processes that draw its figures (:mod:`cryptoabm.batch.drawing`). So the batch's own bars
(:class:`ProgressBar`) start no monitor, and a pool stops one that another bar started
(:func:`stop_progress_monitor`). The bars redraw whenever a run ends, which is all a batch needs.
"""

from __future__ import annotations

import threading

from tqdm.auto import tqdm


class ProgressBar(tqdm):
    """``tqdm.auto.tqdm`` (a widget in a notebook, text in a terminal) that starts no monitor thread."""

    monitor_interval = 0


def stop_progress_monitor() -> None:
    """Stop tqdm's monitor thread, and start no other: any progress bar starts one (it only
    nudges bars that have gone quiet), and a process with a second thread cannot fork its
    workers safely, so the pool would fall back to a fork server whose workers import the
    model afresh (a second or two each) and whose CPU time the batch's caller cannot see."""
    from tqdm import std
    from tqdm._monitor import TMonitor

    std.tqdm.monitor_interval = 0  # read by every tqdm class (tqdm.auto's too) when a bar starts
    for thread in threading.enumerate():
        if isinstance(thread, TMonitor):
            thread.exit()

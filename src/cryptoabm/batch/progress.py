"""The batch layer's progress bars: ``tqdm.auto`` (a widget in a notebook, text in a terminal)
without tqdm's monitor thread.

tqdm starts a monitor thread with its first bar, even a disabled one, to redraw bars that
stall, and the thread outlives every bar. A process running it counts as multi-threaded, and
forking a multi-threaded process can deadlock the child: with it, a batch could not fork its
worker processes from itself (see :func:`cryptoabm.batch.runner.process_pool`), nor its report
the processes that draw its figures. The bars here redraw whenever a run ends, which is all a
batch needs.
"""

from __future__ import annotations

from tqdm.auto import tqdm


class ProgressBar(tqdm):
    """``tqdm.auto.tqdm`` that starts no monitor thread."""

    monitor_interval = 0

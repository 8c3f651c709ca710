"""Ctrl-C (SIGINT) and SIGTERM during a run: stop cleanly, losing no committed step.

On Python 3.11 ``asyncio.run`` turns a SIGINT into a cancellation of the main task, so a
``KeyboardInterrupt`` never reaches the step loop. :class:`StopSignals` replaces that with the
loop's own signal handlers: the first signal asks the run to stop after the step in progress is
committed; a second one cancels the step in progress at once (it is abandoned: nothing of it is
committed, every earlier step stays saved). Once a stop is under way, a signal that comes after
the run returned (two quick Ctrl-C's: the step had already ended) is ignored, so it cannot kill
the metrics write or the exit with 130.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from types import TracebackType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Signal handlers installed on the running loop for the length of a ``with`` block.

    Attributes:
        count: signals received so far.
    """

    def __init__(self, on_first: Callable[[], None] | None = None) -> None:
        """Args:
        on_first: called on the first signal (e.g. to say the run stops after this step).
        """
        self.count = 0
        self._on_first = on_first
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._installed: list[signal.Signals] = []

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.count > 0

    def _handle(self) -> None:
        self.count += 1
        if self.count == 1:
            if self._on_first is not None:
                self._on_first()
        elif self._task is not None:
            self._task.cancel()

    def __enter__(self) -> StopSignals:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        for sig in SIGNALS:
            try:
                self._loop.add_signal_handler(sig, self._handle)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
                continue
            self._installed.append(sig)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._loop is not None
        for sig in self._installed:
            self._loop.remove_signal_handler(sig)
            if self.count:  # stopping already: a late Ctrl-C must not kill the metrics write or the exit
                signal.signal(sig, signal.SIG_IGN)  # (Python resets its own handlers at exit, not SIG_IGN)
        self._installed = []

    def finished(self) -> None:
        """The run returned: a signal from now on only counts (there is no step left to cancel)."""
        self._task = None

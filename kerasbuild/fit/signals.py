"""SIGTERM handled like Ctrl-C: batch schedulers (SLURM, Kubernetes preemption) send it before
they kill, and training then stops the way an interrupt stops it (run.json ``interrupted``,
the resume point of the last completed epoch kept) and exits ``128 + signal`` (143).

The resume point is the last completed epoch, not the step in progress: the backup written at
each epoch end is exact (the SIGKILL resume test proves it), whereas a mid-epoch point would
also need the position inside the shuffled, augmented tf.data stream.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

EXIT_SIGINT = 128 + signal.SIGINT


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The shell's code for a process ended by the signal: 143 for SIGTERM, 130 for Ctrl-C."""
    return 128 + interrupt.signum if isinstance(interrupt, Terminated) else EXIT_SIGINT


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block SIGTERM raises :class:`Terminated` (a KeyboardInterrupt). Only the
    main thread can install handlers; elsewhere the block runs unchanged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

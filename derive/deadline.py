"""A time bound for one command: a runaway derivation becomes a clear error, never a hang.

``time_limit(seconds)`` arms a one-shot ``ITIMER_REAL`` alarm that raises
``TimeLimit``.  The command line computes every document inside the limit and
writes the files after it, so a timeout can never interrupt a write.  Signals
work only in the main thread on POSIX; elsewhere the limit is not enforced.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

DEFAULT_SECONDS = 600.0


class TimeLimit(Exception):
    """The command ran past its ``--timeout``."""


@contextmanager
def time_limit(seconds: float):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def alarm(signum, frame):
        raise TimeLimit(f"gave up after {seconds:g} s (--timeout); nothing was written")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

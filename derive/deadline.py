"""Time bounds: one ``ITIMER_REAL`` alarm, nested budgets inside it.

``time_limit(seconds)`` bounds a whole command: a runaway derivation becomes a
clear error (``TimeLimit``), never a hang.  The command line computes every
document inside the limit and writes the files after it, so a timeout can
never interrupt a write.  ``budget(seconds, error)`` bounds one piece of work
inside it (building a parsed expression, a symbolic proof) and raises ``error``
instead; when the command's own limit runs out first, that limit wins.

Signals work only in the main thread on POSIX; elsewhere nothing is enforced.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

DEFAULT_SECONDS = 600.0
_IMMEDIATELY = 1e-6


class TimeLimit(BaseException):
    """The command ran past its ``--timeout``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that no ``except Exception``
    on the way (a rule, a proof attempt) can swallow it.
    """


class OutOfTime(BaseException):
    """A piece of work ran past its ``budget`` (a parsed expression, a symbolic proof).

    A ``BaseException`` for the same reason as ``TimeLimit``: no ``except Exception``
    inside SymPy may swallow it.
    """


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def budget(seconds: float, error):
    """Raise ``error()`` if the body runs longer than ``seconds``; an enclosing limit stays in force."""
    if not _usable() or seconds <= 0:
        yield
        return
    outer_handler = signal.getsignal(signal.SIGALRM)
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    outer_first = 0 < outer_left <= seconds
    started = time.monotonic()

    def alarm(signum, frame):
        if outer_first and callable(outer_handler):
            outer_handler(signum, frame)  # the enclosing limit ran out: it raises its own error
        raise error()

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, outer_left if outer_first else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left > 0:  # give the enclosing limit back what is left of it
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, _IMMEDIATELY))


@contextmanager
def time_limit(seconds: float):
    def expired():
        return TimeLimit(f"gave up after {seconds:g} s (--timeout); nothing was written")

    with budget(seconds, expired):
        yield

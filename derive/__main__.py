"""The ``derive`` command: the process around :func:`derive.cli.main.main`.

This module stays light (the standard library only), so that the command's
handling of its surroundings is in force before SymPy starts to load:

- SIGINT, SIGTERM and SIGHUP end the run with one line on stderr and exit code
  128 + the signal's number (130, 143, 129), never a traceback.  Files are
  written atomically (``derive.cli.files``), so an interrupt leaves no partial or
  temporary file; further signals wait until that clean-up is done.
- A standard stream that was closed when the command started (``derive list >&-``)
  is reopened on ``/dev/null``, so no file the command opens can take its place;
  writing a result to a closed standard output is an error (exit 2, one line).
"""

from __future__ import annotations

import errno
import os
import signal
import sys

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(BaseException):
    """A signal asked the command to stop (a ``BaseException``, so no ``except Exception`` swallows it)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class ClosedStream:
    """Stands for a standard output that was closed: writing to it fails with one clear error."""

    @property
    def buffer(self) -> "ClosedStream":
        return self

    def write(self, text) -> int:
        raise OSError(errno.EBADF, "the stream is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _ignore(signum, frame) -> None:
    """A second signal while the first one's clean-up runs: the clean-up finishes first."""


def _interrupted(signum, frame):
    for each in SIGNALS:
        signal.signal(each, _ignore)
    raise Interrupted(signum)


def _reopen_closed_streams() -> None:
    """Point closed descriptors 0, 1 and 2 at /dev/null; a closed stdout refuses writes."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            spare = os.open(os.devnull, os.O_RDWR)
            if spare != fd:
                os.dup2(spare, fd)
                os.close(spare)
            if name == "stdout":
                sys.stdout = ClosedStream()
            elif name == "stderr":
                sys.stderr = open(os.devnull, "w", encoding="utf-8")  # nowhere to report to


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _flush(stream) -> None:
    try:
        stream.flush()
    except OSError:  # the reader has gone; main has already decided the exit code
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one command in this process (see :func:`derive.cli.main.main`)."""
    from derive.cli.main import main as run_command

    return run_command(argv)


def command() -> None:
    """The ``derive`` command: ``main``, then leave without Python's teardown.

    Freeing SymPy's caches object by object at exit costs about 0.1 s, a seventh of
    the main job, and does nothing for the user.  Every file is written and closed
    by now, so flush the two streams and exit at once (as mypy does).
    """
    for each in SIGNALS:
        signal.signal(each, _interrupted)
    _reopen_closed_streams()
    try:
        code = main()
        _flush(sys.stdout)
        for each in SIGNALS:  # done: from here on a signal changes nothing
            signal.signal(each, _ignore)
    except Interrupted as stop:
        code = 128 + stop.signum
        try:
            print(f"derive: stopped by {_signal_name(stop.signum)}; no file was left half written", file=sys.stderr)
        except OSError:
            pass
    _flush(sys.stderr)
    os._exit(code)


if __name__ == "__main__":
    command()

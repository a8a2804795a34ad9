"""Bad usage on the command line, and the one parser of whole-number sizes (``--H``, ``--inputs``, ``--units``).

``whole_number(flag, largest)`` is an argparse ``type``.  It raises ``UsageError``, which is not a
``ValueError``, so argparse lets it through unchanged and the one line reads
``--H must be between 1 and 100, got 0`` whichever command the flag belongs to.
"""

from __future__ import annotations

from collections.abc import Callable


class UsageError(Exception):
    """Bad command-line usage or input: exit code 2."""


def whole_number(flag: str, largest: int) -> Callable[[str], int]:
    """A parser for ``flag``: a whole number from 1 to ``largest``, or ``UsageError``."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise UsageError(f"{flag} expects a whole number, got {text!r}") from None
        if not 1 <= value <= largest:
            raise UsageError(f"{flag} must be between 1 and {largest}, got {value}")
        return value

    return parse

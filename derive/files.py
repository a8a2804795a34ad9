"""Writing documents so that nothing is ever half written.

Every text goes to a temporary file in the destination folder first; only when
all of them are complete are they renamed into place (``os.replace`` is atomic on
one file system).  On any failure the temporary files are removed and existing
files are left untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_all(documents: dict[Path, str | bytes]) -> list[Path]:
    """Write every document or none: text as UTF-8 with LF line ends, a PDF as bytes."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in documents.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as stream:
                stream.write(text.encode("utf-8") if isinstance(text, str) else text)
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; documents are for sharing
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return list(documents)

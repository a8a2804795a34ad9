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
    """Write every document or none: text as UTF-8 with LF line ends, a PDF as bytes.

    All new contents are staged first.  Existing files are then set aside (hard
    links, so they stay in place) before the renames; if a rename fails, every
    file already replaced is put back from its link, so a failure anywhere leaves
    the folder as it was.
    """
    staged: list[tuple[str, Path]] = []
    kept: dict[Path, str] = {}  # existing file -> a hard link to its old contents
    replaced: list[Path] = []
    try:
        for path, text in documents.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as stream:
                stream.write(text.encode("utf-8") if isinstance(text, str) else text)
            os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; documents are for sharing
        for _, path in staged:
            if path.is_file():
                keep = tempfile.mktemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent)
                os.link(path, keep)
                kept[path] = keep
        try:
            for temporary, path in staged:
                os.replace(temporary, path)
                replaced.append(path)
        except OSError:
            for path in replaced:  # roll back: old contents back in place, new files gone
                if path in kept:
                    os.replace(kept.pop(path), path)
                else:
                    os.unlink(path)
            raise
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
        for keep in kept.values():
            if os.path.exists(keep):
                os.unlink(keep)
    return list(documents)

"""Writing documents so that nothing is ever half written, and nothing is left behind.

Every text goes to a temporary file in the destination folder first; only when
all of them are complete are they renamed into place (``os.replace`` is atomic on
one file system).  On any failure, an interrupt included, the temporary files
are removed, existing files are left untouched and folders this run created are
removed again.

A run killed outright (SIGKILL, a power cut) cannot clean up after itself, so
temporary files carry their writer's process id: ``.NAME.PID.XXXXXXXX.tmp``.  The
next run into the same folder removes those whose writer is no longer running.

Interrupts (SIGINT, SIGTERM) are held back except while document bytes are being
written, so one can never land inside the renames or the clean-up: an interrupt
during a write abandons the write; one during the renames takes effect once they
are all done.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

# what a temporary file of ours is called: .NAME.PID.XXXXXXXX.tmp (new contents) or .old (old contents kept)
_OURS = re.compile(r"^\..+\.(?P<pid>[1-9][0-9]{0,9})\.[a-z0-9_]{8}\.(?:tmp|old)$")
_INTERRUPTS = frozenset(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_MAX_PID = 2**22  # the largest process id Linux hands out


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextmanager
def _signals(how: int):
    """Block (or unblock) the interrupt signals for the body; a blocked one is delivered at the end."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(how, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def held_interrupts():
    """Interrupts wait until the body is done."""
    return _signals(signal.SIG_BLOCK) if hasattr(signal, "SIG_BLOCK") else _signals(0)


def _allowed_interrupts():
    return _signals(signal.SIG_UNBLOCK) if hasattr(signal, "SIG_UNBLOCK") else _signals(0)


def _writer_gone(pid: int) -> bool:
    """True when no process ``pid`` is running (one we may not signal is running)."""
    if pid == os.getpid() or not 0 < pid <= _MAX_PID:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def sweep(folder: Path) -> list[Path]:
    """Remove the temporary files that killed runs left in ``folder``; return what was removed."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in sorted(names):
        match = _OURS.match(name)
        if match and _writer_gone(int(match["pid"])):
            try:
                os.unlink(folder / name)
                removed.append(folder / name)
            except OSError:  # another run swept it first, or it is not ours to remove
                pass
    return removed


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` and any missing parents; return the ones created, outermost first."""
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _temporary_name(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def write_all(documents: dict[Path, str | bytes]) -> list[Path]:
    """Write every document or none: text as UTF-8 with LF line ends, a PDF as bytes.

    All new contents are staged first.  Existing files are then set aside (hard
    links, so they stay in place) before the renames; if a rename fails, every
    file already replaced is put back from its link, so a failure anywhere leaves
    the folder as it was.
    """
    staged: list[tuple[str, Path]] = []
    kept: dict[Path, str] = {}  # existing file -> a hard link to its old contents
    created: list[Path] = []  # folders this run made
    done = False
    with held_interrupts():
        try:
            for folder in dict.fromkeys(path.parent for path in documents):
                created += _make_folder(folder)
                sweep(folder)
            for path, text in documents.items():
                try:
                    handle, temporary = tempfile.mkstemp(prefix=_temporary_name(path), suffix=".tmp", dir=path.parent)
                    staged.append((temporary, path))
                    with os.fdopen(handle, "wb") as stream, _allowed_interrupts():
                        stream.write(text.encode("utf-8") if isinstance(text, str) else text)
                    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; documents are for sharing
                except OSError as error:  # name the document, not its temporary file
                    raise type(error)(error.errno, error.strerror, str(path)) from None
            _commit(staged, kept)
            done = True
        finally:
            for temporary, _ in staged:
                if os.path.lexists(temporary):
                    os.unlink(temporary)
            for keep in kept.values():
                if os.path.lexists(keep):
                    os.unlink(keep)
            if not done:
                for folder in reversed(created):
                    try:
                        folder.rmdir()
                    except OSError:  # not empty: someone else wrote there meanwhile
                        pass
    return list(documents)


def _commit(staged: list[tuple[str, Path]], kept: dict[Path, str]) -> None:
    """Rename every staged file into place, or put every replaced file back."""
    for _, path in staged:
        if path.is_file():
            keep = tempfile.mktemp(prefix=_temporary_name(path), suffix=".old", dir=path.parent)
            os.link(path, keep)
            kept[path] = keep
    replaced: list[Path] = []
    try:
        for temporary, path in staged:
            os.replace(temporary, path)
            replaced.append(path)
    except BaseException:
        for path in replaced:  # roll back: old contents back in place, new files gone
            if path in kept:
                os.replace(kept.pop(path), path)
            else:
                os.unlink(path)
        raise

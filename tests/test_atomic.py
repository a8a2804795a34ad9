"""Nothing is ever half written: failures leave no partial file and existing files untouched."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import derive.cli.files as files
import derive.cli.pipeline as pipeline
from derive.__main__ import main
from derive.certify import CertificationError
from derive.cli.files import write_all


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_write_all_writes_every_file(tmp_path):
    written = write_all({tmp_path / "a.md": "one", tmp_path / "sub" / "b.tex": "two"})
    assert [p.read_text() for p in written] == ["one", "two"]
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_full_disk_halfway_leaves_nothing_behind(tmp_path, monkeypatch):
    (tmp_path / "a.md").write_text("old a")
    before = snapshot(tmp_path)
    real_fdopen = os.fdopen
    calls = []

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(handle, *args, **kwargs):
        calls.append(handle)
        stream = real_fdopen(handle, *args, **kwargs)
        return stream if len(calls) == 1 else FullDisk(stream)

    monkeypatch.setattr(files.os, "fdopen", fdopen)
    with pytest.raises(OSError):
        write_all({tmp_path / "b.md": "new b", tmp_path / "a.md": "new a"})
    assert snapshot(tmp_path) == before


def test_a_failing_rename_keeps_old_files(tmp_path, monkeypatch):
    (tmp_path / "a.md").write_text("old")
    real_replace = os.replace
    done = []

    def replace_once(source, target):
        if done:
            raise OSError(errno.EROFS, "Read-only file system")
        done.append(target)
        return real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", replace_once)
    with pytest.raises(OSError):
        write_all({tmp_path / "b.md": "b", tmp_path / "a.md": "new"})
    assert (tmp_path / "a.md").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_read_only_destination_is_exit_2_with_one_line(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    assert main(["pair", "softmax", "cross-entropy", "--format", "md", "-o", str(tmp_path / "x.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err
    assert list(tmp_path.iterdir()) == []


def test_certification_failure_halfway_through_the_catalogue_writes_nothing(tmp_path, monkeypatch, capsys):
    (tmp_path / "index.md").write_text("previous catalogue")
    before = snapshot(tmp_path)
    real = pipeline.derive_certified
    seen = []

    def fail_on_third(problem, *args, **kwargs):
        seen.append(problem)
        if len(seen) == 3:
            raise CertificationError("step 'Sum rule' failed certification (simulated)")
        return real(problem, *args, **kwargs)

    monkeypatch.setattr(pipeline, "derive_certified", fail_on_third)
    assert main(["catalogue", "-o", str(tmp_path)]) == 1
    assert "certification failed" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_a_rename_failing_halfway_rolls_back_files_already_replaced(tmp_path, monkeypatch):
    (tmp_path / "a.md").write_text("old a")
    (tmp_path / "b.md").write_text("old b")
    real_replace = os.replace
    calls = []

    def fail_second(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error")
        return real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", fail_second)
    with pytest.raises(OSError):
        write_all({tmp_path / "a.md": "new a", tmp_path / "b.md": "new b", tmp_path / "c.md": "new c"})
    assert snapshot(tmp_path) == {"a.md": b"old a", "b.md": b"old b"}

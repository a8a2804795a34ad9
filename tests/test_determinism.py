"""The same input gives byte-identical output: across runs, hash seeds, and two processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["pair", "sigmoid", "binary-cross-entropy", "--H", "3", "--format", "md,tex,tex-fragment,beamer,json", "--detail", "full",
        "--notation", "seed001"]


def start(folder: Path, seed: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "derive", *ARGS, "-o", str(folder)],
        env=env, cwd=folder.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def contents(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_two_processes_at_once_with_different_hash_seeds_write_identical_files(tmp_path):
    folders = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    processes = [start(folder, seed) for folder, seed in zip(folders, ("0", "1", "random"))]
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
    first, *others = [contents(folder) for folder in folders]
    assert sorted(first) == ["sigmoid-binary-cross-entropy-H3.beamer.tex", "sigmoid-binary-cross-entropy-H3.fragment.tex",
                             "sigmoid-binary-cross-entropy-H3.json", "sigmoid-binary-cross-entropy-H3.md",
                             "sigmoid-binary-cross-entropy-H3.tex"]
    assert all(other == first for other in others)
    assert not [path for path in tmp_path.rglob("*.tmp")]


def test_in_process_runs_are_identical(tmp_path, capsys):
    from derive.__main__ import main

    texts = []
    for _ in range(2):
        assert main(["pair", "softmax", "cross-entropy", "--format", "json", "-o", "-"]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[1]

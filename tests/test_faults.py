"""Hostile surroundings: interrupts, kills, closed pipes and streams, a full disk.

Interrupts and kills are sent to real ``derive`` processes partway through a
write: a small driver runs the command with ``os.fdopen`` wrapped so that the
chosen document is written in two halves, with a pause in between, and a
marker file appears once the first half is on disk.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import derive.cli.files as files
from derive.__main__ import main
from derive.cli.files import sweep
from tooling import slow_after

ROOT = Path(__file__).resolve().parent.parent
PAIR = ["pair", "identity", "sum-of-squares", "--H", "1"]
WAIT_S = 120  # a guard against a hung child, never a measurement

DRIVER = r"""
import os, sys, time
from pathlib import Path

ready, slow_at = Path(sys.argv[1]), int(sys.argv[2])
sys.argv = ["derive", *sys.argv[3:]]
real_fdopen, opened = os.fdopen, []


class HalfThenPause:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()

    def write(self, data):
        half = len(data) // 2
        self.stream.write(data[:half])
        self.stream.flush()
        ready.write_text("half written")
        time.sleep(300)
        self.stream.write(data[half:])


def fdopen(fd, *args, **kwargs):
    opened.append(fd)
    stream = real_fdopen(fd, *args, **kwargs)
    return HalfThenPause(stream) if len(opened) == slow_at else stream


os.fdopen = fdopen
from derive.__main__ import command

command()
"""


def environment() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")


def start_writing(tmp_path: Path, argv: list[str], slow_at: int) -> tuple[subprocess.Popen, Path]:
    """Start ``derive argv``; return once the ``slow_at``-th file it writes is half on disk."""
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(ready), str(slow_at), *argv],
        cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + WAIT_S
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"the writer never got halfway: exit {process.returncode}, {err[-2000:]}")
        time.sleep(0.02)
    return process, ready


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=WAIT_S)
    return process.returncode, out, err


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.mark.parametrize("signum, code, slow_at", slow_after(3, [
    (signal.SIGINT, 130, 1), (signal.SIGTERM, 143, 2), (signal.SIGHUP, 129, 1),
    (signal.SIGINT, 130, 2), (signal.SIGTERM, 143, 1), (signal.SIGHUP, 129, 2),
]))
def test_a_signal_partway_through_a_write_leaves_nothing(signum, code, slow_at, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "identity-sum-of-squares-H1.md").write_text("old document")
    before = listing(folder)
    process, _ = start_writing(tmp_path, [*PAIR, "-o", str(folder)], slow_at)
    assert any(name.endswith(".tmp") for name in os.listdir(folder)), "the write was under way"
    process.send_signal(signum)
    returncode, out, err = finish(process)
    assert returncode == code, err
    assert err.count("\n") == 1 and err.startswith("derive: stopped by ") and "Traceback" not in err, err
    assert out == ""
    assert listing(folder) == before, "no partial file, no temporary file, the old file untouched"


def test_an_interrupted_run_removes_the_folders_it_created(tmp_path):
    target = tmp_path / "new" / "deeper"
    process, _ = start_writing(tmp_path, [*PAIR, "-o", str(target)], 2)
    process.send_signal(signal.SIGTERM)
    returncode, _, err = finish(process)
    assert returncode == 143, err
    assert not (tmp_path / "new").exists()


def test_the_next_run_removes_what_a_killed_run_left(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "docs"
    process, _ = start_writing(tmp_path, [*PAIR, "-o", str(folder)], 2)
    process.kill()
    finish(process)
    left = sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))
    assert left and all(f".{process.pid}." in name for name in left), left
    assert main([*PAIR, "-o", str(folder)]) == 0, capsys.readouterr().err
    assert sorted(os.listdir(folder)) == ["identity-sum-of-squares-H1.md", "identity-sum-of-squares-H1.tex"]


def test_sweep_removes_only_temporary_files_whose_writer_is_gone(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid is free
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        names = {
            f".a.md.{gone.pid}.abcdefgh.tmp": False,
            f".a.md.{gone.pid}.abc_1234.old": False,
            f".a.md.{alive.pid}.abcdefgh.tmp": True,  # a run still writing
            f".a.md.{os.getpid()}.abcdefgh.tmp": True,  # this very process
            f"a.md.{gone.pid}.abcdefgh.tmp": True,  # not hidden: not ours
            f".a.md.{gone.pid}.abcdefg.tmp": True,  # not mkstemp's eight characters
            ".a.md.tmp": True,
            f".a.md.0.abcdefgh.tmp": True,
            "a.md": True,
        }
        for name in names:
            (tmp_path / name).write_text("x")
        removed = sweep(tmp_path)
        assert sorted(p.name for p in removed) == sorted(n for n, kept in names.items() if not kept)
        assert sorted(os.listdir(tmp_path)) == sorted(n for n, kept in names.items() if kept)
    finally:
        alive.kill()
        alive.wait()


def run_command(argv: list[str], cwd: Path, shell_redirect: str = "", **options) -> subprocess.CompletedProcess:
    command = " ".join([f"'{sys.executable}'", "-m", "derive", *(f"'{a}'" for a in argv), shell_redirect])
    return subprocess.run(["sh", "-c", f"exec {command}"], cwd=cwd, env=environment(), capture_output=True,
                          text=True, timeout=WAIT_S, **options)


@pytest.mark.parametrize("argv", [["list"], [*PAIR, "--format", "json", "-o", "-"]])
def test_a_reader_that_closes_the_pipe_early_ends_the_run_quietly(argv, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "derive", *argv], cwd=tmp_path, env=environment(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader goes away before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=WAIT_S) == 0, err
    assert err == ""


@pytest.mark.parametrize("argv, redirect", slow_after(2, [
    (["list"], ">&-"), ([*PAIR, "--format", "md", "-o", "-"], ">/dev/full"),
    (["list"], ">/dev/full"), ([*PAIR, "--format", "md", "-o", "-"], ">&-"),
]))
def test_a_result_that_cannot_reach_stdout_is_exit_2_in_one_line(argv, redirect, tmp_path):
    if redirect == ">/dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    done = run_command(argv, tmp_path, redirect)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("derive: cannot write") and done.stderr.count("\n") == 1, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_files_are_the_result_so_a_closed_stdout_only_loses_their_paths(tmp_path):
    done = run_command([*PAIR, "-o", "docs"], tmp_path, ">&-")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert sorted(os.listdir(tmp_path / "docs")) == ["identity-sum-of-squares-H1.md", "identity-sum-of-squares-H1.tex"]


def test_a_full_disk_leaves_no_new_folder_behind(tmp_path, monkeypatch, capsys):
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fdopen", lambda fd, *a, **k: FullDisk(real_fdopen(fd, *a, **k)))
    monkeypatch.chdir(tmp_path)
    assert main([*PAIR, "-o", "new/docs"]) == 2
    err = capsys.readouterr().err
    assert err == f"derive: cannot write: {Path('new/docs/identity-sum-of-squares-H1.md')}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


TEMPLATE_FAULTS = [  # (the user's rules/lemma.j2, the line the error is on, what the message says)
    ("x ((( cycler.__init__.__globals__.os.system('touch CANARY') )))\n", 1, "unsafe"),
    ("((( self.__class__.__mro__ )))\n", 1, "unsafe"),
    ("((( s.__class__ )))\n", 1, "unsafe"),
    ("((( [1].append(2) )))\n", 1, "unsafe"),
    ("fine\n((( 1/0 )))\n", 2, "division by zero"),
    ("fine\n\n((* if *))\n", 3, "Expected an expression"),
    ("((( no_such_name )))\n", 1, "is undefined"),
    ("((* include 'missing.j2' *))\n", 1, "missing.j2"),
]


@pytest.mark.parametrize("text, line, says", slow_after(4, TEMPLATE_FAULTS), ids=range(len(TEMPLATE_FAULTS)))
def test_a_user_template_runs_sandboxed_and_its_errors_name_file_and_line(text, line, says, tmp_path, monkeypatch, capsys):
    (tmp_path / "mine" / "rules").mkdir(parents=True)
    (tmp_path / "mine" / "rules" / "lemma.j2").write_text(text)  # the lemma's sentence is in every document
    monkeypatch.chdir(tmp_path)
    assert main(["pair", "softmax", "cross-entropy", "--templates", "mine", "-o", "out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"derive: template {Path('mine/rules/lemma.j2')}, line {line}: ") and says in err, err
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"], "nothing written, nothing run"


def test_an_over_long_templates_path_is_bad_input(capsys):
    assert main(["pair", "softmax", "cross-entropy", "--templates", "x" * 5000]) == 2
    assert capsys.readouterr().err == "derive: --templates: File name too long\n"


CLASHES = [  # (options, the two roles the message must name)
    (["--symbol", "output=delta"], ("Kronecker delta", "output")),
    (["--reduction", "mean", "--symbol", "classes=N"], ("number of examples", "classes")),
    (["--reduction", "mean", "--symbol", "sum_index=n"], ("example index", "sum_index")),
    (["--reduction", "mean", "--symbol", "free_index=m"], ("example m", "free_index")),
    (["--reduction", "mean", "--symbol", "output=L"], ("per-example loss", "output")),
    (["--symbol", "input=e"], ("Euler's number", "input")),
    (["--symbol", "target=u"], ("variable u", "target")),
    (["--symbol", "output=lamda", "--symbol", "target=lambda"], ("output", "target")),
    (["--symbol", "output=y"], ("output", "target")),
]


@pytest.mark.parametrize("options, roles", CLASHES, ids=range(len(CLASHES)))
def test_names_that_would_look_the_same_are_refused_naming_both_roles(options, roles, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["pair", "softmax", "cross-entropy", *options, "--format", "md", "-o", "-"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and all(role in err for role in roles), err


@pytest.mark.parametrize("options", [["--symbol", "classes=N"], ["--symbol", "output=a", "--symbol", "target=t"], []])
def test_names_that_print_apart_are_accepted(options, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["pair", "identity", "sum-of-squares", *options, "--format", "md", "-o", "-"]) == 0


@pytest.mark.parametrize("side, text", [("--activation", "z # + 1"), ("--loss", "sum(o[i], i) # y[i]")])
def test_a_hash_is_refused_not_read_as_a_comment(side, text, tmp_path, monkeypatch, capsys):
    other = ["--loss", "sum(o[i], i)"] if side == "--activation" else ["--activation", "z"]
    monkeypatch.chdir(tmp_path)
    assert main(["pair", side, text, *other]) == 2
    assert "'#' is not allowed at column" in capsys.readouterr().err


def test_the_readme_states_no_agreement_figure_the_check_output_does_not():
    import re

    from derive.cli.check import AGREEMENT_DIGITS

    readme = (ROOT / "README.md").read_text()
    check = readme[readme.index("## Checking a gradient"):readme.index("## Command line")]
    figures = re.findall(r"agree(?:ment|s)? to (\d+) (?:significant )?digits", check)
    assert all(int(figure) == AGREEMENT_DIGITS for figure in figures), figures


def test_what_pdflatex_cannot_typeset_is_refused_before_it_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*PAIR, "--name", "\u041f\u0440\u0438\u0432\u0435\u0442", "--format", "pdf", "-o", "x.pdf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: no PDF written: cannot typeset character U+041F") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_latex_failure_is_exit_2_with_pdflatexs_first_error(tmp_path, monkeypatch, capsys):
    from tooling import require_tool

    require_tool("pdflatex")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "derivation.tex.j2").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\nosuchmacro\n\\end{document}\n")
    monkeypatch.chdir(tmp_path)
    assert main([*PAIR, "--templates", "mine", "--format", "pdf", "-o", "x.pdf"]) == 2
    err = capsys.readouterr().err
    assert err == "derive: no PDF written: LaTeX failed: Undefined control sequence.\n", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_characters_latin1_can_set_reach_the_pdf_as_themselves(tmp_path, monkeypatch, capsys):
    from tooling import require_tool

    require_tool("pdflatex")
    pdftotext = require_tool("pdftotext")
    monkeypatch.chdir(tmp_path)
    name = 'a <b> | "c" caf\u00e9'
    assert main([*PAIR, "--name", name, "--format", "pdf", "-o", "x.pdf"]) == 0, capsys.readouterr().err
    text = subprocess.run([pdftotext, "x.pdf", "-"], capture_output=True, text=True, timeout=WAIT_S).stdout
    assert name in text

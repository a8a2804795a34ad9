"""Helpers for tests that check rendered output with external tools.

Tests import this module as ``from tooling import ...`` (``tests/conftest.py``
puts this folder on ``sys.path``).  It is a plain module, not a test file.

External tools (node + KaTeX, pdflatex) are optional on a developer machine:
when one is missing the test is *skipped* with a hint.  In CI (environment
variable ``CI`` set to a true value) a missing tool is a *failure*, so a
broken install step can never turn into a silently green run.  ``.ci/run``
installs everything these helpers need.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
KATEX_DIR = TESTS_DIR / "katex"
KATEX_CHECK = KATEX_DIR / "check.cjs"

LATEX_TIMEOUT_S = 120
# a two-column article with an equation of its own, into which fragment.tex goes: the host LaTeX fragments must fit
TWO_COLUMN_HOST = r"""\documentclass[twocolumn]{article}
\usepackage{amsmath,amssymb,cancel,tikz}
\begin{document}
\section{Notes}
The host's own equation comes first:
\begin{equation} a = b \label{host} \end{equation}
\input{fragment}
\end{document}
"""
KATEX_TIMEOUT_S = 120


# --------------------------------------------------------------------------
# Tool discovery
# --------------------------------------------------------------------------


def slow_after(count: int, cases: list) -> list:
    """The first ``count`` cases run in the default tier; the rest are marked ``slow`` (CI runs them too)."""

    def param(case):
        return pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=pytest.mark.slow)

    return [*cases[:count], *(param(case) for case in cases[count:])]


def in_ci() -> bool:
    """True when running under CI (``CI`` set to anything but empty/0/false/no)."""
    value = os.environ.get("CI", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def _missing(message_ci: str, message_local: str) -> None:
    if in_ci():
        pytest.fail(message_ci, pytrace=False)
    pytest.skip(message_local)


def require_tool(name: str) -> str:
    """Return the path of executable ``name``; skip (locally) or fail (CI) if absent."""
    path = shutil.which(name)
    if path is None:
        _missing(
            f"{name} is required in CI but not installed",
            f"{name} not installed; install it to run this check (see .ci/run)",
        )
    return path  # type: ignore[return-value]


# --------------------------------------------------------------------------
# KaTeX
# --------------------------------------------------------------------------


def katex_errors(formulas: list[tuple[str, bool]]) -> list[tuple[int, str]]:
    """Parse every ``(tex, display)`` formula with KaTeX in strict mode.

    Returns ``(index, error message)`` for each formula KaTeX rejects; an empty
    list means every formula renders.  Uses ``tests/katex/check.cjs`` with the
    KaTeX version pinned in ``tests/katex/package-lock.json``.
    """
    node = require_tool("node")
    if not (KATEX_DIR / "node_modules" / "katex" / "package.json").is_file():
        _missing(
            "KaTeX is required in CI but tests/katex/node_modules/katex is missing "
            "(run: npm ci --prefix tests/katex)",
            "KaTeX not installed; run `npm ci --prefix tests/katex` to run this check",
        )
    payload = json.dumps(
        [{"tex": tex, "display": bool(display)} for tex, display in formulas]
    )
    try:
        proc = subprocess.run(
            [node, str(KATEX_CHECK)],
            input=payload,
            capture_output=True,
            text=True,
            encoding="utf-8",
            cwd=KATEX_DIR,
            timeout=KATEX_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - defensive
        raise AssertionError(f"KaTeX check timed out after {KATEX_TIMEOUT_S} s") from exc
    if proc.returncode not in (0, 1):
        raise AssertionError(
            f"tests/katex/check.cjs crashed (exit {proc.returncode}):\n"
            f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
        )
    try:
        failures = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"tests/katex/check.cjs printed something that is not JSON:\n{proc.stdout!r}"
        ) from exc
    result = [(int(item["index"]), str(item["error"])) for item in failures]
    if (proc.returncode == 0) != (not result):
        raise AssertionError(
            f"tests/katex/check.cjs exit code {proc.returncode} disagrees with its "
            f"output {proc.stdout!r}"
        )
    return result


# --------------------------------------------------------------------------
# Markdown math extraction
# --------------------------------------------------------------------------

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def markdown_formulas(text: str) -> list[tuple[str, bool]]:
    """Extract the math of a Markdown document as ``(tex, display)`` pairs.

    In document order:

    * display math: ``$$ ... $$``, either on one line or with ``$$`` lines
      opening and closing a block (the TeX between is returned stripped);
    * inline math: ``$...$`` (pandoc's rule: the opening ``$`` is followed by a
      non-space, the closing ``$`` is preceded by a non-space and not followed
      by a digit, and it stays within one paragraph);
    * fenced code blocks whose info string is ``math`` (GitHub's display math).

    Ignored: escaped dollars ``\\$``, other fenced code blocks (```` ``` ```` or
    ``~~~``), and inline code spans in backticks.  A ``$$`` that is never closed
    within its paragraph raises ``ValueError``: such a document is broken.
    """
    formulas: list[tuple[str, bool]] = []
    lines = text.splitlines()
    chunk: list[str] = []
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        # A backtick fence's info string may not contain backticks.
        if match and not (match["fence"][0] == "`" and "`" in match["info"]):
            formulas.extend(_scan_prose("\n".join(chunk)))
            chunk = []
            fence = match["fence"]
            closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
            body: list[str] = []
            i += 1
            while i < len(lines) and not closing.match(lines[i]):
                body.append(lines[i])
                i += 1
            i += 1  # skip the closing fence (or run past the end)
            info = match["info"].strip().split()
            if info and info[0] == "math":
                formulas.append(("\n".join(body).strip(), True))
            continue
        chunk.append(lines[i])
        i += 1
    formulas.extend(_scan_prose("\n".join(chunk)))
    return formulas


def _scan_prose(text: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    for paragraph in _BLANK_LINE.split(text):
        found.extend(_scan_paragraph(paragraph))
    return found


def _scan_paragraph(p: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    n = len(p)
    i = 0
    while i < n:
        c = p[i]
        if c == "\\":
            i += 2  # an escaped character, e.g. \$ or \`
            continue
        if c == "`":
            run = _run_length(p, i, "`")
            end = _find_backtick_run(p, i + run, run)
            i = i + run if end < 0 else end + run
            continue
        if c != "$":
            i += 1
            continue
        if p.startswith("$$", i):
            end = _find_dollars(p, i + 2, double=True)
            if end < 0:
                line = p.count("\n", 0, i) + 1
                raise ValueError(
                    f"unclosed $$ display math (line {line} of paragraph): {p[i:i + 60]!r}"
                )
            found.append((p[i + 2 : end].strip(), True))
            i = end + 2
            continue
        # Single $: inline math, if it is closed according to pandoc's rules.
        if i + 1 < n and not p[i + 1].isspace():
            end = _find_dollars(p, i + 1, double=False)
            if end >= 0:
                found.append((p[i + 1 : end], False))
                i = end + 1
                continue
        i += 1  # a literal dollar sign
    return found


def _run_length(s: str, i: int, ch: str) -> int:
    j = i
    while j < len(s) and s[j] == ch:
        j += 1
    return j - i


def _find_backtick_run(s: str, start: int, run: int) -> int:
    """Index of the next run of exactly ``run`` backticks at or after ``start``."""
    j = start
    while j < len(s):
        if s[j] == "`":
            length = _run_length(s, j, "`")
            if length == run:
                return j
            j += length
        else:
            j += 1
    return -1


def _find_dollars(s: str, start: int, *, double: bool) -> int:
    """Index of the dollar(s) closing math opened just before ``start``, or -1."""
    j = start
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2  # \$ inside math is a literal dollar, \\ a line break
            continue
        if c == "$":
            if double:
                if s.startswith("$$", j):
                    return j
                j += 1
                continue
            if s.startswith("$$", j):
                return -1  # inline math does not run into display math
            before_ok = not s[j - 1].isspace()
            after_ok = not (j + 1 < len(s) and s[j + 1].isdigit())
            if before_ok and after_ok:
                return j
        j += 1
    return -1


# --------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------

_OVERFULL = re.compile(r"Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)")


def compile_latex(tex_path: Path, workdir: Path) -> Path:
    """Compile ``tex_path`` with pdflatex (twice, for references) in ``workdir``.

    Returns the PDF's path.  Raises ``AssertionError`` with the tail of the log
    when pdflatex fails or produces no PDF.  The log is ``workdir/<stem>.log``.
    """
    pdflatex = require_tool("pdflatex")
    tex_path = Path(tex_path).resolve()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Let \input find files next to the source; trailing ':' keeps the defaults.
    env["TEXINPUTS"] = f"{tex_path.parent}{os.pathsep}{env.get('TEXINPUTS', '')}"
    # Unwrapped log lines, so messages and "Overfull" lines stay whole.
    env["max_print_line"] = "10000"
    env["error_line"] = "254"
    env["half_error_line"] = "238"
    cmd = [
        pdflatex,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        "-file-line-error",
        f"-jobname={tex_path.stem}",
        str(tex_path),
    ]
    log_path = workdir / f"{tex_path.stem}.log"
    pdf_path = workdir / f"{tex_path.stem}.pdf"
    for attempt in (1, 2):
        try:
            proc = subprocess.run(
                cmd,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=LATEX_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"pdflatex timed out after {LATEX_TIMEOUT_S} s on {tex_path} "
                f"(run {attempt}):\n{_log_tail(log_path, b'')}"
            ) from exc
        if proc.returncode != 0 or not pdf_path.is_file():
            raise AssertionError(
                f"pdflatex failed on {tex_path} (run {attempt}, exit {proc.returncode}); "
                f"last 40 lines of {log_path.name}:\n{_log_tail(log_path, proc.stdout)}"
            )
    return pdf_path


def _log_tail(log_path: Path, fallback: bytes, lines: int = 40) -> str:
    if log_path.is_file():
        data = log_path.read_bytes()
    else:
        data = fallback or b"(no log written)"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def overfull_boxes(log_text: str) -> list[float]:
    """Widths in pt of every ``Overfull \\hbox (Xpt too wide)`` in a TeX log."""
    return [float(m) for m in _OVERFULL.findall(log_text)]

"""Hostile input through the command line: refused in one line, or rendered harmless.

Three families: code execution, resource exhaustion and LaTeX injection.  Every
case either exits 2 with a one-line message and writes nothing, or (names that
are only text) is escaped so that compiling the document reads no file outside
the output folder and runs nothing.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from derive.__main__ import main
from tooling import require_tool, slow_after

CANARY = "derive-canary"

CODE_EXECUTION = [
    "__import__('os').system('touch {canary}')",
    "__import__('subprocess').run(['touch', '{canary}'])",
    "().__class__.__mro__[1].__subclasses__()",
    "().__class__.__base__.__subclasses__()[0]",
    "z.__class__",
    "z.__dict__",
    "exp.__globals__",
    "sum.__self__",
    "(lambda: 1)()",
    "(lambda x: x)(z)",
    "[x for x in (1, 2)]",
    "{x for x in (1, 2)}",
    "{x: 1 for x in (1, 2)}",
    "(x for x in (1, 2))",
    "f'{z}'",
    "f\"{__import__('os').system('touch {canary}')}\"",
    "(x := 1)",
    "*z",
    "exp(*z)",
    "exp(**{'x': 1})",
    "exp(z)(z)",
    "exp(z).evalf()",
    "open('/etc/passwd')",
    "open('{canary}', 'w')",
    "globals()",
    "locals()",
    "vars()",
    "getattr(z, 'x')",
    "eval('1')",
    "exec('import os')",
    "compile('1', '', 'eval')",
    "breakpoint()",
    "__builtins__",
    "__import__",
    "z[__import__('os')]",
    "exp(z, extra=1)",
    "'touch {canary}'",
    "b'bytes'",
    "[1, 2, 3]",
    "(1, 2)",
    "{'a': 1}",
    "z if z else z",
    "z and z",
    "not z",
    "z < 1",
    "z % 2",
    "z // 2",
    "z @ z",
    "z ^ 2",
    "z | 1",
    "~z",
    "...",
    "await z",
    "yield z",
    "lambda: 0",
    "import os",
    "z; __import__('os')",
    "Symbol('x')",
    "sympify('x')",
    "S('x')",
    "\u0435xp(z)",  # Cyrillic e
    "\uff45\uff58\uff50(z)",  # fullwidth exp
    "__\uff49mport__('os')",
    "exp(z)\x00",
    "exp(z)\n__import__('os')",
]

RESOURCE_EXHAUSTION = [
    "9**9**9**9",
    "z**99999999",
    "10**1000000",
    "exp(10**30*log(2))",
    "1" * 40,
    "(" * 100_000 + "z" + ")" * 100_000,
    "-" * 100_000 + "z",
    "exp(" * 1000 + "z" + ")" * 1000,
    "+".join(["z"] * 2_000_000),  # a 4 MB expression
    "z*" * 5000 + "z",
    "2**2**2**2**2**2",
]

TOO_MANY_CLASSES = ["1000000000", "5001", "99999999999999999999999", "-1", "0", "1e9", "0x10", "nan", "inf"]

LATEX_INJECTION = [
    r"\input{/etc/passwd}",
    r"\include{/etc/passwd}",
    r"\write18{touch CANARY}",
    r"\immediate\write18{touch CANARY}",
    r"\catcode`\^=7",
    r"\def\x{y}\x",
    r"\openin5=/etc/passwd",
    r"\read5 to \x",
    r"\csname input\endcsname{/etc/passwd}",
    r"^^5cinput{/etc/passwd}",
    "unbalanced { brace",
    "unbalanced } brace",
    "100% sure",
    "a # b",
    "dollar $ sign",
    "math $x^2$ here",
    "under_score",
    "tilde ~ and caret ^",
    "amp & ersand",
    r"back\slash",
    r"\end{document}",
    r"\begin{verbatim}",
    r"\usepackage{shellesc}",
    r"\ShellEscape{touch CANARY}",
    "<script>alert(1)</script>",
]


def run(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code, out, err, tmp_path):
    assert code == 2, err
    assert err.startswith("derive: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == [], "nothing may be written"


@pytest.mark.parametrize("text", CODE_EXECUTION, ids=range(len(CODE_EXECUTION)))
@pytest.mark.parametrize("side", ["--activation", "--loss"])
def test_code_execution_is_refused(text, side, tmp_path, monkeypatch, capsys):
    canary = tmp_path / CANARY
    attack = text.replace("{canary}", str(canary))
    other = ["--loss", "sum(o[i], i)"] if side == "--activation" else ["--activation", "z"]
    code, out, err = run(["pair", side, attack, *other], capsys, tmp_path, monkeypatch)
    assert_refused(code, out, err, tmp_path)
    assert not canary.exists()


@pytest.mark.parametrize("text", RESOURCE_EXHAUSTION, ids=range(len(RESOURCE_EXHAUSTION)))
def test_resource_exhaustion_is_refused(text, tmp_path, monkeypatch, capsys):
    code, out, err = run(["pair", "--activation", text, "--loss", "sum(o[i], i)"], capsys, tmp_path, monkeypatch)
    assert_refused(code, out, err, tmp_path)
    assert len(err) < 400, "the message names the problem, it does not echo the input"


@pytest.mark.parametrize("value", TOO_MANY_CLASSES)
def test_absurd_class_counts_are_refused(value, tmp_path, monkeypatch, capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", f"--H={value}"], capsys, tmp_path, monkeypatch)
    assert_refused(code, out, err, tmp_path)


def render_named(name, tmp_path, monkeypatch, capsys, fmt="tex"):
    code, out, err = run(
        ["pair", "identity", "sum-of-squares", "--H", "1", "--name", name, "--format", fmt, "-o", "-"],
        capsys, tmp_path, monkeypatch,
    )
    assert code == 0, err
    return out


@pytest.mark.parametrize("name", slow_after(10, LATEX_INJECTION), ids=range(len(LATEX_INJECTION)))
def test_names_are_escaped_in_latex(name, tmp_path, monkeypatch, capsys):
    tex = render_named(name, tmp_path, monkeypatch, capsys)
    title = re.search(r"\\title\{(.*)\}", tex).group(1)
    # after escaping, no control sequence from the name survives: every backslash starts \textbackslash{}
    # or escapes one of the special characters
    leftover = re.sub(r"\\textbackslash\{\}|\\textasciicircum\{\}|\\textasciitilde\{\}|\\[{}$&#%_]|\\\^\{\}|\\~\{\}", "", title)
    assert "\\" not in leftover, title
    assert title.count("{") - title.count(r"\{") == title.count("}") - title.count(r"\}")


@pytest.mark.parametrize("name", slow_after(3, [r"\input{/etc/passwd}", r"\immediate\write18{touch CANARY}", r"^^5cinput{/etc/passwd}",
                                               "unbalanced { brace", "100% sure", r"\end{document}"]))
def test_escaped_documents_compile_and_read_nothing_outside(name, tmp_path, monkeypatch, capsys):
    pdflatex = require_tool("pdflatex")
    tex = render_named(name, tmp_path, monkeypatch, capsys)
    work = tmp_path / "build"
    work.mkdir()
    (work / "doc.tex").write_text(tex)
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "-recorder", "doc.tex"],
        cwd=work, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    inputs = [line[6:] for line in (work / "doc.fls").read_text().splitlines() if line.startswith("INPUT ")]
    # TeX's installation, and its per-user font cache (T1 fonts made by mktexpk where no Type 1 fonts are installed)
    tex_own = ("/usr/share/texlive", "/usr/share/texmf", "/var/lib/texmf", "/etc/texmf", str(Path.home() / ".texlive"))
    outside = [p for p in inputs if not p.startswith(tex_own) and not p.startswith(str(work)) and "/" in p and not p.startswith("./")]
    assert outside == [], outside
    assert "/etc/passwd" not in (work / "doc.fls").read_text()
    assert not (work / "CANARY").exists() and not (tmp_path / "CANARY").exists()


def test_hostile_corpus_is_large_enough():
    cases = len(CODE_EXECUTION) * 2 + len(RESOURCE_EXHAUSTION) + len(TOO_MANY_CLASSES) + len(LATEX_INJECTION)
    assert cases >= 100


@pytest.mark.parametrize("argv", [
    ["pair", "softmax", "cross-entropy", "--H", "3000", "--timeout", "0.5"],
    ["--timeout", "0.01"],  # the main job, even with warm caches, takes far longer
    ["catalogue", "-o", "out", "--timeout", "0.5"],
])
def test_a_runaway_stops_at_the_time_limit_and_writes_nothing(argv, tmp_path, monkeypatch, capsys):
    code, out, err = run(argv, capsys, tmp_path, monkeypatch)
    assert_refused(code, out, err, tmp_path)
    assert "--timeout" in err


@pytest.mark.parametrize("value", ["abc", "-1", "1e9", "nan"])
def test_bad_time_limits_are_refused(value, tmp_path, monkeypatch, capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", "--timeout", value], capsys, tmp_path, monkeypatch)
    assert_refused(code, out, err, tmp_path)


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "[click](http://example.com)", "*bold* _it_", "$x$ `code`", "a | b"])
def test_names_are_escaped_in_markdown(name, tmp_path, monkeypatch, capsys):
    md = render_named(name, tmp_path, monkeypatch, capsys, fmt="md")
    heading = md.splitlines()[0]
    assert heading.startswith("# ")
    for raw in ("<script", "[click](", "*bold*", "_it_", "$x$", "`code`", " | "):
        assert raw not in heading, heading


SREPR_ATTACKS = [
    "SumExcept(\"__import__('os').system('touch {canary}')\", Tuple(Symbol('i'), Integer(1), Integer(2)), Integer(1))",
    "exp(\"__import__('os').system('touch {canary}')\")",
    "log(\"1\")",
    "Add(\"x\", Integer(1))",
    "Symbol('x', commutative=\"__import__('os')\")",
    "Float(\"__import__('os')\")",
    "Integer(10**5000)",
    "__import__('os').system('touch {canary}')",
    "Symbol('x').__class__",
    "Tuple(*[Integer(1)])",
    "open('/etc/passwd')",
    "eval('1')",
]


@pytest.mark.parametrize("text", SREPR_ATTACKS, ids=range(len(SREPR_ATTACKS)))
def test_reading_json_back_never_runs_text(text, tmp_path):
    from derive.srepr import SreprError, load

    canary = tmp_path / CANARY
    with pytest.raises(SreprError):
        load(text.replace("{canary}", str(canary)))
    assert not canary.exists()

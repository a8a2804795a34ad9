"""Course-ready output: every format, detail level and notation, compiled, parsed and compared.

External tools (pdflatex, node + KaTeX) are required through ``tooling``: a
missing tool skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from derive.__main__ import main
from derive.present.figure import network_figure
from derive.present.notation import PRESETS, Notation
from derive.cli.pipeline import Derivation, derive_certified, notation_for
from derive.problem import Problem
from tooling import compile_latex, katex_errors, markdown_formulas, overfull_boxes, require_tool

ROOT = Path(__file__).resolve().parent.parent
PAIRS = {
    "flagship": Problem(),
    "flagship-H3": Problem(classes=3),
    "flagship-H8": Problem(classes=8),
    "flagship-H40": Problem(classes=40),
    "sigmoid-bce": Problem("sigmoid", "binary-cross-entropy"),
    "softmax-squares": Problem("softmax", "sum-of-squares"),
    "softplus-poisson": Problem("softplus", "poisson"),
}
STEP_HEADING = re.compile(r"^\*\*(\d+(?:\.\d+)*)\. ", re.MULTILINE)


class Trails(dict):
    """Each pair derived and certified when a test first asks for it, then kept for the whole module."""

    def __missing__(self, name: str):
        self[name] = derive_certified(PAIRS[name]).trail
        return self[name]


@pytest.fixture(scope="module")
def trails():
    return Trails()


def derivation(trails, name, **options) -> Derivation:
    return Derivation(PAIRS[name], trails[name], **options)


def cli(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_env(**extra) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), **extra)


# -- LaTeX: the article, the slides and the fragment compile without running into the margin ---------


def wrap_fragment(fragment: str) -> str:
    """A minimal article around a fragment, with exactly the packages its leading comment asks for."""
    packages = re.search(r"^% \\usepackage\{([^}]*)\}$", fragment, re.MULTILINE)
    assert packages, "the fragment's leading comment lists its packages"
    return "\n".join([
        r"\documentclass{article}", rf"\usepackage{{{packages.group(1)}}}", r"\begin{document}",
        r"\section{Notes}", r"\input{derivation.fragment}", r"\end{document}", "",
    ])


NAMES = ["flagship", "flagship-H8", "flagship-H40", "sigmoid-bce", "softmax-squares", "softplus-poisson"]


@pytest.mark.parametrize("name, fmt", [
    # the flagship's fragment stays in the fast tier (its article and slides are committed, and test_documents
    # compiles those); the rest run in CI's slow tier
    (name, fmt) if (name, fmt) == ("flagship", "tex-fragment") else pytest.param(name, fmt, marks=pytest.mark.slow)
    for name in NAMES for fmt in ["tex", "beamer", "tex-fragment"]
])
def test_latex_formats_compile_without_overfull_boxes(fmt, name, trails, tmp_path):
    require_tool("pdflatex")
    text = derivation(trails, name, detail="full" if name == "flagship-H8" else "standard").document(fmt)
    if fmt == "tex-fragment":
        (tmp_path / "derivation.fragment.tex").write_text(text)
        source = tmp_path / "notes.tex"
        source.write_text(wrap_fragment(text))
    else:
        source = tmp_path / "derivation.tex"
        source.write_text(text)
    pdf = compile_latex(source, tmp_path)
    assert pdf.stat().st_size > 10_000
    log = source.with_suffix(".log").read_text(errors="replace")
    assert max(overfull_boxes(log), default=0) <= 10, "something runs into the margin"


@pytest.mark.slow  # the standard article and slides are committed, and test_documents compiles them
@pytest.mark.parametrize("detail", ["brief", "full"])
def test_detail_levels_compile_as_slides_and_article(detail, trails, tmp_path):
    require_tool("pdflatex")
    for fmt in ("tex", "beamer"):
        source = tmp_path / f"{fmt}.tex"
        source.write_text(derivation(trails, "flagship", detail=detail, notation=PRESETS["seed001"]).document(fmt))
        compile_latex(source, tmp_path)
        assert max(overfull_boxes(source.with_suffix(".log").read_text(errors="replace")), default=0) <= 10


def test_fragment_has_no_preamble_and_lists_its_packages(trails):
    fragment = derivation(trails, "flagship").document("tex-fragment")
    assert r"\documentclass" not in fragment and r"\begin{document}" not in fragment
    assert r"\usepackage" not in fragment.replace("% \\usepackage", "")
    header = fragment.split("\n", 4)[:4]
    assert all(line.startswith("%") for line in header)
    assert "% \\usepackage{amsmath,amssymb,cancel,tikz}" in header
    assert r"\begin{tikzpicture}" in fragment


def test_slides_show_chains_and_the_lemma_on_one_frame(trails):
    slides = derivation(trails, "flagship").document("beamer")
    titles = re.findall(r"\\frametitle\{([^}]*)\}", slides)
    assert titles.count("The lemma") == 1, "the lemma on one frame"
    assert titles.index("The lemma") < titles.index("Using the assumption")
    assert r"\begin{align*}" in slides and r"\pause" in slides and r"\begin{tikzpicture}" in slides
    assert len(titles) <= 14


# -- Markdown: KaTeX parses every formula; only display maths is numbered ---------------------------


@pytest.mark.parametrize("name, detail", [  # the flagship at every level, and one level of each other, in the default tier
    (name, detail) if name == "flagship" or (name, detail) in {("flagship-H3", "brief"), ("sigmoid-bce", "full")}
    else pytest.param(name, detail, marks=pytest.mark.slow)
    for name in ["flagship", "flagship-H3", "flagship-H8", "sigmoid-bce", "softplus-poisson"] for detail in ["brief", "standard", "full"]
])
def test_every_markdown_formula_parses_in_katex_strict(name, detail, trails):
    notation = PRESETS["seed001"] if detail == "full" else Notation()
    text = derivation(trails, name, detail=detail, notation=notation).document("md")
    formulas = markdown_formulas(text)
    assert len(formulas) > 20
    errors = katex_errors(formulas)
    assert errors == [], [(formulas[i][0][:80], message) for i, message in errors]
    assert not [tex for tex, display in formulas if r"\tag" in tex and not display], "\\tag only in display maths"
    for macro in (r"\operatorname", r"\label", r"\eqref", r"\ref{", r"\begin{equation"):
        assert macro not in text, macro


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_long_sums_and_long_lists_are_elided(fmt, trails):
    """At H = 40 the softmax's denominator and the worked example's 40 values are shown
    as their first terms, dots and the last, never in full."""
    text = derivation(trails, "flagship-H40").document(fmt)
    assert r"e^{Z_{1}} + e^{Z_{2}} + \cdots + e^{Z_{40}}" in text
    assert r"e^{Z_{3}} +" not in text, "the written-out sum is elided"
    assert text.count(r"$\ldots$") >= 3, "outputs, targets and derivatives are elided"
    assert r"\times 10^{-3}" in text, "outputs below 0.01 keep two significant digits"
    written = re.compile(r"e\^\{Z_\{\d+\}\}")  # a term of the softmax's sum, written out
    assert max(len(written.findall(line)) for line in text.splitlines()) <= 4, "no formula holds a long sum in full"
    if fmt == "md":
        formulas = markdown_formulas(text)
        assert katex_errors(formulas) == []


def test_lines_are_numbered_and_referred_to_as_such(trails):
    text = derivation(trails, "flagship").document("md")
    numbers = [int(n) for n in re.findall(r"\\text\{\((\d+)\)", text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 10
    assert r"\tag" not in text
    view = derivation(trails, "flagship").view()
    (used,) = [view.layout.line_of(a.used[0]) for a in view.assumptions if a.name == "one-hot"]
    assert f"= 1$ in ({used})" in text, "the setting points at the line that uses the assumption"
    assert any(step.rule == "assumption" for block in view.layout.blocks for line in block.lines if line.number == used
               for step in line.steps)
    latex = derivation(trails, "flagship").document("tex")
    assert rf"\eqref{{softmax-cross-entropy:{used}}}" in latex and r"\tag" not in latex


def test_markdown_needs_no_raw_html_for_github_mkdocs_and_myst(trails):
    text = derivation(trails, "flagship").document("md")
    assert "<details" not in text and "<" not in text.replace("&lt;", "")
    assert "\n$$\n\\begin{aligned}" in text and r"\(" not in text


# -- detail levels ---------------------------------------------------------------------------------


def test_detail_levels_nest(trails):
    views = {detail: derivation(trails, "flagship", detail=detail).view() for detail in ("brief", "standard", "full")}
    shown = {d: {s.number for b in v.layout.blocks for line in b.lines for s in line.steps} for d, v in views.items()}
    counts = {d: v.layout.count for d, v in views.items()}
    assert counts["brief"] < counts["standard"] < counts["full"]
    assert shown["brief"] <= shown["standard"] <= shown["full"]
    texts = {detail: derivation(trails, "flagship", detail=detail).document("md") for detail in ("brief", "standard", "full")}
    assert r"\text{if } i = k" in texts["brief"], "brief states the lemma's cases"
    assert r"\cancel" in texts["brief"], "brief keeps the cancellation"
    assert "Quotient rule" not in texts["brief"] and "quotient rule" in texts["standard"]


def test_brief_keeps_every_number_of_the_trail(trails):
    view = derivation(trails, "flagship", detail="brief").view()
    assert [s.number for s in view.steps] == ["1", "2", "3", "4", "5", "6", "7", "8", "11", "13"]
    assert view.omitted[:2] == ("7.1", "7.2")
    assert view.steps[-1].skipped == (("12", "Expanding the products"),)


def test_full_unfolds_the_chain_rules_elementary_substeps(trails):
    full = derivation(trails, "sigmoid-bce", detail="full")
    text = full.document("md")
    chains = [s for s in derivation(trails, "sigmoid-bce").view().steps if s.rule == "chain" and s.substeps]
    assert chains
    worked = [b for b in full.view().layout.blocks if b.role == "detail"]
    assert len(worked) >= len(chains)
    for block in worked:
        assert f"\\text{{({block.lines[0].number})" in text


def test_detail_level_from_the_command_line(capsys):
    code, brief, _ = cli(["pair", "softmax", "cross-entropy", "--H", "2", "--detail", "brief", "--format", "md", "-o", "-"], capsys)
    assert code == 0 and "This is the brief version" in brief
    code, _, err = cli(["pair", "softmax", "cross-entropy", "--detail", "verbose"], capsys)
    assert code == 2 and err.count("\n") == 1


# -- notation --------------------------------------------------------------------------------------


def test_seed001_notation_changes_the_maths(trails):
    text = derivation(trails, "flagship", notation=PRESETS["seed001"]).document("md")
    for needle in ("t_{i}", "o_{i}", "z_{j}", r"\frac{\partial E}{\partial z_{j}}", "o_{j} - t_{j}"):
        assert needle in text, needle
    assert "Z_{k}" not in text and "y_{i}" not in text and "O_{i}" not in text
    latex = derivation(trails, "flagship", notation=PRESETS["seed001"]).document("tex")
    assert "$t_{1}$" in latex and "$z_{H}$" in latex, "the figure follows the notation"


def test_symbol_overrides_from_the_command_line(capsys):
    argv = ["pair", "softmax", "cross-entropy", "--H", "2", "--format", "md", "-o", "-"]
    code, out, _ = cli(argv + ["--notation", "seed001", "--symbol", "output=a", "--symbol", "loss=L"], capsys)
    assert code == 0
    assert r"\frac{\partial L}{\partial z_{j}}" in out and "a_{j} - t_{j}" in out
    code, out, _ = cli(argv + ["--symbol", "output=alpha"], capsys)
    assert code == 0 and r"\alpha_{k}" in out, "a Greek name prints as its macro"


@pytest.mark.parametrize(
    "symbol", ["output=y", "output=1a", "output=\\frac", "colour=red", "output", "output=", "output=a{b}"]
)
def test_bad_symbols_are_one_line_and_exit_2(symbol, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["pair", "softmax", "cross-entropy", "--symbol", symbol], capsys)
    assert code == 2 and err.startswith("derive: ") and err.count("\n") == 1
    assert out == "" and list(tmp_path.iterdir()) == []


def test_notation_presets_are_validated():
    assert notation_for("seed001").target == "t"
    with pytest.raises(ValueError):
        notation_for("seed999")
    with pytest.raises(ValueError):
        notation_for(output="y")


def srepr_values(node):
    if isinstance(node, dict):
        return [value for key, child in sorted(node.items()) for value in ([child] if key == "srepr" else srepr_values(child))]
    if isinstance(node, list):
        return [value for child in node for value in srepr_values(child)]
    return []


def test_json_srepr_does_not_depend_on_the_notation(trails):
    plain = json.loads(derivation(trails, "flagship-H3").document("json"))
    other = json.loads(derivation(trails, "flagship-H3", notation=notation_for("seed001", output="a")).document("json"))
    assert srepr_values(plain) == srepr_values(other) and len(srepr_values(plain)) > 50
    assert plain["gradient"] == other["gradient"]
    assert plain["result"]["latex"] == "O_{k} - y_{k}" and other["result"]["latex"] == "a_{j} - t_{j}"


# -- templates -------------------------------------------------------------------------------------


def test_user_templates_override_the_builtin_ones(tmp_path, capsys):
    mine = tmp_path / "mine" / "rules"
    mine.mkdir(parents=True)
    (mine / "chain.j2").write_text("My own words for the chain rule, through $((( s.intermediate )))$.\n")
    argv = ["pair", "softmax", "cross-entropy", "--H", "2", "--detail", "full", "--format", "md", "-o", "-"]
    code, out, _ = cli(argv + ["--templates", str(tmp_path / "mine")], capsys)
    assert code == 0
    assert "My own words for the chain rule, through $O_{i}$." in out
    assert "The log rule: the derivative" in out, "every other template is still the built-in one"
    code, _, err = cli(argv + ["--templates", str(tmp_path / "missing")], capsys)
    assert code == 2 and err.count("\n") == 1


def test_templates_readme_documents_the_view():
    readme = (ROOT / "templates" / "README.md").read_text()
    from dataclasses import fields

    from derive.catalog import Wording
    from derive.present.document import DocumentView, StepView, Symbols
    from derive.present.facts import StepFacts
    from derive.present.problem_view import ActivationView, AssumptionView, LossView

    for cls in (DocumentView, StepView, Symbols, ActivationView, LossView, AssumptionView, StepFacts, Wording):
        for field in fields(cls):
            assert f"`{field.name}`" in readme, f"{cls.__name__}.{field.name} is not documented"


# -- reproducibility -------------------------------------------------------------------------------


def run_in_fresh_processes(tmp_path, argv, seeds=("0", "1", "4242")) -> list[dict[str, bytes]]:
    runs = []
    for number, seed in enumerate(seeds):
        folder = tmp_path / f"run{number}"
        subprocess.run(
            [sys.executable, "-m", "derive", *argv, "-o", str(folder)],
            env=subprocess_env(PYTHONHASHSEED=seed), cwd=tmp_path, capture_output=True, timeout=300, check=True,
        )
        runs.append({path.name: path.read_bytes() for path in sorted(folder.iterdir())})
    return runs


@pytest.mark.slow  # test_determinism runs three hash seeds at once on every text format in the default tier
def test_output_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    runs = run_in_fresh_processes(tmp_path, [
        "pair", "sigmoid", "binary-cross-entropy", "--format", "md,tex,tex-fragment,beamer", "--detail", "full",
        "--notation", "seed001",
    ])
    assert len(runs[0]) == 4
    assert runs[0] == runs[1] == runs[2]


@pytest.mark.slow
def test_flagship_json_is_byte_identical_across_hash_seeds(tmp_path):
    runs = run_in_fresh_processes(tmp_path, ["pair", "softmax", "cross-entropy", "--H", "3", "--format", "json,md"], ("0", "99"))
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_json_with_chain_substeps_is_byte_identical_across_runs(tmp_path):
    runs = run_in_fresh_processes(tmp_path, ["pair", "sigmoid", "binary-cross-entropy", "--format", "json,md"], ("0", "1"))
    assert runs[0] == runs[1]


# -- PDF -------------------------------------------------------------------------------------------


def test_pdf_is_built_and_written_with_the_other_formats(tmp_path, capsys):
    require_tool("pdflatex")
    code, out, err = cli(["pair", "softmax", "cross-entropy", "--H", "2", "--format", "md,pdf", "-o", str(tmp_path)], capsys)
    assert code == 0, err
    pdf = tmp_path / "softmax-cross-entropy-H2.pdf"
    assert out.split() == [str(tmp_path / "softmax-cross-entropy-H2.md"), str(pdf)]
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 20_000
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_text_and_pdf_are_written_together_or_not_at_all(tmp_path, monkeypatch):
    import derive.cli.pipeline as pipeline

    (tmp_path / "a.md").write_text("old")
    written = pipeline.write_documents({tmp_path / "b.md": "text", tmp_path / "b.pdf": b"%PDF-1.5 bytes"})
    assert [p.read_bytes() for p in written] == [b"text", b"%PDF-1.5 bytes"]
    real_replace, done = os.replace, []

    def replace_once(source, target):
        if done:
            raise OSError("disk went away")
        done.append(target)
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_once)
    with pytest.raises(OSError):
        pipeline.write_documents({tmp_path / "c.pdf": b"%PDF-", tmp_path / "a.md": "new"})
    assert (tmp_path / "a.md").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_pdf_is_the_same_on_every_run(tmp_path, capsys):
    require_tool("pdflatex")
    for name in ("a.pdf", "b.pdf"):
        assert cli(["pair", "softmax", "cross-entropy", "--H", "2", "--format", "pdf", "-o", str(tmp_path / name)], capsys)[0] == 0
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


@pytest.mark.slow
def test_pdf_falls_back_to_pdflatex_twice_without_latexmk(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pdflatex").symlink_to(require_tool("pdflatex"))
    result = subprocess.run(
        [sys.executable, "-m", "derive", "pair", "softmax", "cross-entropy", "--H", "2", "--format", "pdf", "-o", "d.pdf"],
        env=subprocess_env(PATH=str(tools)), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.pdf").read_bytes().startswith(b"%PDF-")


def test_pdf_without_latex_is_exit_2_with_one_line(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "derive", "pair", "softmax", "cross-entropy", "--format", "md,pdf", "-o", str(tmp_path / "out")],
        env=subprocess_env(PATH=str(empty)), cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("derive: ") and result.stderr.count("\n") == 1 and "pdflatex" in result.stderr
    assert result.stdout == "" and not (tmp_path / "out").exists()


# -- the figure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "classes, vector, rows, dots, wires",
    [(None, True, 3, 1, 9), (None, False, 3, 1, 3), (3, True, 3, 0, 9), (6, False, 6, 0, 6), (40, True, 4, 1, 16)],
)
def test_figure_layout(classes, vector, rows, dots, wires):
    figure = network_figure(classes, vector, "softmax", Notation())
    assert len(figure.inputs) == len(figure.units) == len(figure.outputs) == len(figure.targets) == rows
    assert len(figure.dots) == 4 * dots
    assert len([e for e in figure.edges if e.kind == "input"]) == wires
    assert len([e for e in figure.edges if e.kind in ("loss", "target")]) == 2 * rows
    assert figure.inputs[-1].label == ("Z_{H}" if classes is None else f"Z_{{{classes}}}")


def test_figure_is_in_the_latex_formats_only(trails):
    doc = derivation(trails, "sigmoid-bce")
    latex = doc.document("tex")
    assert latex.count(r"\node[derive unit]") == 3 and "{sigmoid};" in latex
    assert r"\begin{tikzpicture}" in doc.document("beamer") and "tikzpicture" not in doc.document("md")


# -- the Python API --------------------------------------------------------------------------------


def test_python_api():
    import derive
    from sympy import IndexedBase, Symbol

    result = derive.derive_pair("softmax", "cross-entropy", H=2, notation="seed001", detail="brief")
    k = Symbol("k", integer=True, positive=True)
    assert result.result == IndexedBase("o")[k] - IndexedBase("y")[k]
    assert result._repr_markdown_() == result.markdown() and "t_{j}" in result.markdown()
    assert result._repr_latex_() == r"$$\boxed{\frac{\partial E}{\partial z_{j}} = o_{j} - t_{j}}$$"
    assert result.latex().startswith(r"\documentclass") and json.loads(result.json())["H"] == 2
    with pytest.raises(ValueError):
        derive.derive_pair("softmax", "cross-entropy", detail="verbose")


def test_import_derive_stays_cheap():
    probe = "import sys, derive; print(sorted(m for m in ('sympy', 'jinja2', 'derive.engine') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], env=subprocess_env(), capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

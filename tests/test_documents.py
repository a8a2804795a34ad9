"""The shipped documents: reproducible, KaTeX-clean, compiling, and saying what they should."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive.__main__ import main
from derive.present.document import decimal
from derive.serialize import trail_from_json, trail_to_json
from tooling import compile_latex, katex_errors, markdown_formulas, overfull_boxes

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
MARKDOWN = sorted(OUTPUT.glob("*.md"))
LATEX = sorted(OUTPUT.glob("*.tex"))


@pytest.mark.slow  # the whole catalogue re-derived; the before-stop hook and CI's slow tier check it
def test_output_is_exactly_what_the_catalogue_produces(tmp_path, capsys):
    assert main(["catalogue", "-o", str(tmp_path)]) == 0
    listed = sorted(Path(line).name for line in capsys.readouterr().out.split())  # one line per file written
    fresh = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert listed == sorted(fresh)
    assert {"softmax-cross-entropy.md", "softmax-cross-entropy.tex", "softmax-cross-entropy.json"} <= set(fresh)
    shipped = {path.name: path.read_bytes() for path in OUTPUT.iterdir() if path.is_file()}
    assert sorted(fresh) == sorted(shipped), "regenerate with: python -m derive catalogue -o output"
    for name in fresh:
        assert fresh[name] == shipped[name], f"{name} is stale; regenerate with: python -m derive catalogue -o output"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_every_markdown_formula_parses_in_katex(path):
    formulas = markdown_formulas(path.read_text())
    assert len(formulas) > 15
    errors = katex_errors(formulas)
    assert errors == [], [(formulas[i][0][:80], message) for i, message in errors]


@pytest.mark.parametrize("path", [
    path if path.name.startswith("softmax-cross-entropy") else pytest.param(path, marks=pytest.mark.slow)
    for path in LATEX  # the flagship's files in the fast tier; every file in CI's slow tier
], ids=lambda p: p.name)
def test_latex_compiles_with_pdflatex(path, tmp_path):
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    pdf = compile_latex(copy, tmp_path)
    assert pdf.stat().st_size > 10_000
    log = copy.with_suffix(".log").read_text(errors="replace")
    assert "LaTeX Warning: Reference" not in log
    assert max(overfull_boxes(log), default=0) <= 10, "an equation runs into the margin"


FLAGSHIP = [p for p in MARKDOWN + LATEX if p.name.startswith("softmax-cross-entropy") and "-second" not in p.name]


@pytest.mark.parametrize("path", FLAGSHIP, ids=lambda p: p.name)
def test_flagship_documents_show_the_derivation_and_the_worked_example(path):
    text = path.read_text()
    for needle in (r"O_{k} - y_{k}", r"\sum_{i \neq k}", r"\underbrace", r"\cancel", r"\boxed", r"\ln"):
        assert needle in text, needle
    assert "1.6094" in text and "-0.8, 0.6, 0.2" in text
    assert "binary" not in text.lower(), "the loss is categorical cross-entropy"
    assert r"\log" not in text and r"\operatorname" not in text


@pytest.mark.parametrize("path", sorted(OUTPUT.glob("*.json")), ids=lambda p: p.name)
def test_json_round_trips_losslessly(path):
    data = json.loads(path.read_text())
    trail = trail_from_json(data)
    assert trail_to_json(trail) == data


@pytest.mark.slow  # test_formats and test_determinism cover other hash seeds in the default tier
def test_output_does_not_depend_on_hash_seed(tmp_path):
    texts = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        result = subprocess.run(
            [sys.executable, "-m", "derive", "pair", "softmax", "cross-entropy", "--H", "2", "--format", "md", "-o", "-"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=True,
        )
        texts.append(result.stdout)
    assert texts[0] == texts[1]


@pytest.mark.parametrize("path", MARKDOWN + LATEX, ids=lambda p: p.name)
def test_every_document_writes_maths_the_way_a_person_does(path):
    text = path.read_text()
    assert r"\log" not in text and r"\operatorname" not in text
    if path.name.startswith("index"):
        return
    assert r"\boxed" in text and r"\frac{\partial" in text


@pytest.mark.parametrize(
    "value, places, shown",
    [
        (0, 2, "0"),
        (0.5, 2, "0.5"),
        (0.125, 2, "0.12"),
        (1, 0, "1"),
        (-0.99999, 4, "-1"),
        (0.004, 2, r"4 \times 10^{-3}"),  # would round to 0: two significant digits instead
        (2.13e-6, 2, r"2.1 \times 10^{-6}"),
        (-3.3e-5, 4, r"-3.3 \times 10^{-5}"),
        (0.4, 0, "0"),  # not small: rounded as asked
    ],
)
def test_a_small_value_never_reads_as_zero(value, places, shown):
    assert decimal(value, places) == shown

"""Whiteboard-quality documents (issue 13): chains, the lemma first, detail levels that differ,
a fragment that fits a two-column host, and slides a lecturer can project.

Every catalogue pair is rendered and measured; the compiles of every pair are in the slow tier,
the flagship's in the default tier.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from derive.catalog import valid_pairs
from derive.certify import certify
from derive.cli.pipeline import Derivation
from derive.engine.derivation import derive
from derive.present.notation import Notation
from derive.present.measure import rows
from derive.present.render import RenderOptions
from derive.problem import Problem
from tooling import TWO_COLUMN_HOST, compile_latex, overfull_boxes

PAIRS = sorted(valid_pairs())
FLAGSHIP = ("softmax", "cross-entropy")
DETAILS = ("brief", "standard", "full")


DEFAULT_TIER = (FLAGSHIP, ("sigmoid", "binary-cross-entropy"), ("tanh", "sum-of-squares"))  # the rest run in the slow tier


def _pair_params(slow_all: bool = True):
    """Every catalogue pair: the flagship (and, unless ``slow_all``, two elementwise pairs) in the default tier."""
    kept = (FLAGSHIP,) if slow_all else DEFAULT_TIER
    return [
        pytest.param(pair, id="-".join(pair)) if pair in kept
        else pytest.param(pair, id="-".join(pair), marks=pytest.mark.slow)
        for pair in PAIRS
    ]


@cache
def _trail(pair):
    """The pair's certified trail: derived and certified once, then rendered at every detail level and option."""
    return certify(derive(Problem(*pair)))


def _derivation(pair, detail="standard", **options):
    return Derivation(Problem(*pair), _trail(pair), Notation(), detail, None, RenderOptions(**options))


def _lines(view) -> list[int]:
    return [line.number for block in view.layout.blocks for line in block.lines]


@pytest.mark.parametrize("pair", _pair_params(slow_all=False))
@pytest.mark.parametrize("detail", DETAILS)
def test_lines_are_numbered_contiguously_and_the_lemma_comes_before_its_use(pair, detail):
    view = _derivation(pair, detail).view()
    numbers = _lines(view)
    assert numbers == list(range(1, len(numbers) + 1))
    lemma_lines = [block.last for block in view.layout.blocks if block.role == "lemma"]
    users = [line for block in view.layout.blocks if block.role == "main" for line in block.lines
             if any(step.rule == "lemma" for step in line.steps)]
    assert lemma_lines and users
    assert max(lemma_lines) < min(line.number for line in users)
    for line in users:
        assert line.refs and line.refs[0] in lemma_lines


@pytest.mark.parametrize("pair, fmt", [  # the flagship in every format, the other pairs in Markdown, in the fast tier
    pytest.param(case.values[0], fmt, id=f"{case.id}-{fmt}",
                 marks=case.marks or ([] if case.values[0] == FLAGSHIP or fmt == "md" else [pytest.mark.slow]))
    for case in _pair_params(slow_all=False) for fmt in ["md", "tex", "tex-fragment", "beamer"]
])
def test_the_lemma_is_written_before_the_step_that_uses_it_in_every_format(pair, fmt):
    for detail in DETAILS:
        text = _derivation(pair, detail).document(fmt)
        lemma = text.find(r"\frac{\partial O_{i}}{\partial Z_{k}} &=")
        used = text.find(r"\underbrace")
        assert 0 <= lemma < used, (detail, lemma, used)


@pytest.mark.parametrize("pair", _pair_params(slow_all=False))
def test_detail_levels_differ(pair):
    counts = [len(_lines(_derivation(pair, detail).view())) for detail in DETAILS]
    assert counts[0] < counts[1] < counts[2], counts
    texts = {_derivation(pair, detail).document(fmt) for detail in DETAILS for fmt in ("tex",)}
    assert len(texts) == 3


def test_brief_is_about_seed_000s_slides_and_keeps_the_cancellation():
    view = _derivation(FLAGSHIP, "brief").view()
    assert len(view.layout.blocks) <= 7
    text = _derivation(FLAGSHIP, "brief").document("md")
    assert r"\cancel" in text
    for document in (text, _derivation(FLAGSHIP, "standard").document("md")):
        display = re.search(r"\\begin\{aligned\}[^$]*\\delta", document)
        assert display is None or 0 <= document.find("Kronecker delta appears") < display.start()


def test_standard_merges_the_minus_sign_into_one_line():
    standard = _derivation(FLAGSHIP, "standard").view()
    full = _derivation(FLAGSHIP, "full").view()
    lines = [line for block in standard.layout.blocks for line in block.lines]
    minus = [line for line in lines if any(s.rule == "constant-factor" and s.constant == "-1" for s in line.steps)]
    assert len(minus) == 1, "the minus sign leaves the sum and the derivative on one line"
    assert any(len(line.steps) > 1 for line in lines), "standard merges trivial moves (a cancellation and a factor)"
    assert not any(len(line.steps) > 1 for block in full.layout.blocks for line in block.lines)


@pytest.mark.parametrize("pair", _pair_params(slow_all=False))
def test_the_fragment_uses_the_hosts_counter_labels_and_eqref(pair):
    text = _derivation(pair).document("tex-fragment")
    slug = "-".join(pair)
    assert r"\tag" not in text
    labels = re.findall(r"\\label\{" + re.escape(slug) + r":(\d+)\}", text)
    assert [int(n) for n in labels] == list(range(1, len(labels) + 1))
    assert r"\eqref{" + slug + ":" in text
    assert "This note derives" not in text
    assert re.search(r"^\\subsection\{", text, re.M)


def test_heading_and_label_prefix_are_the_users():
    text = _derivation(FLAGSHIP, heading="section", label_prefix="ce").document("tex-fragment")
    assert re.search(r"^\\section\{", text, re.M) and r"\label{ce:1}" in text
    bare = _derivation(FLAGSHIP, heading="none").document("tex-fragment")
    assert not re.search(r"^\\(sub)*section", bare, re.M)


def test_the_check_note_comes_once_at_the_end_and_can_be_left_out():
    for fmt in ("md", "tex", "beamer"):
        text = _derivation(FLAGSHIP).document(fmt)
        assert text.count("How the steps were checked") == 1
        assert "significant digits" not in text
        assert "How the steps were checked" not in _derivation(FLAGSHIP, check_note=False).document(fmt)


def test_slides_have_no_generator_author_and_pause_between_lines():
    text = _derivation(FLAGSHIP).document("beamer")
    assert "Generated by" not in text.split(r"\begin{document}")[1]
    assert r"\pause" in text
    assert r"\pause" not in _derivation(FLAGSHIP, pause=False).document("beamer")
    assert ".This" not in text
    assert text.count(r"\begin{frame}") <= 14


@pytest.mark.parametrize("pair", _pair_params())
def test_the_fragment_compiles_in_a_two_column_host_without_overfull_boxes(pair, tmp_path):
    (tmp_path / "fragment.tex").write_text(_derivation(pair).document("tex-fragment"))
    host = tmp_path / "host.tex"
    host.write_text(TWO_COLUMN_HOST)
    pdf = compile_latex(host, tmp_path)
    assert pdf.stat().st_size > 5_000
    log = host.with_suffix(".log").read_text(errors="replace")
    assert "multiply defined" not in log
    assert max(overfull_boxes(log), default=0) <= 1, "a display runs into the margin of a two-column host"


def _ink_depths(pdf: Path, folder: Path) -> list[float]:
    """For each page, how far down the lowest ink above the footline reaches, as a share of the page."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is needed to measure the slides")
    subprocess.run(["pdftoppm", "-gray", "-r", "30", str(pdf), str(folder / "page")], check=True, timeout=300)
    depths = []
    for page in sorted(folder.glob("page*.pgm")):
        data = page.read_bytes()
        header = data.split(b"\n", 3)
        width, height = (int(v) for v in header[1].split())
        pixels = header[3]
        body = int(height * 0.9)  # the footline (frame number) is not content
        inked = [row for row in range(body) if min(pixels[row * width:(row + 1) * width]) < 128]
        depths.append((max(inked) + 1) / body if inked else 0.0)
    return depths


@pytest.mark.slow
def test_flagship_slides_fit_in_14_frames_each_at_least_half_full(tmp_path):
    source = tmp_path / "slides.tex"
    source.write_text(_derivation(FLAGSHIP, pause=False).document("beamer"))
    pdf = compile_latex(source, tmp_path)
    depths = _ink_depths(pdf, tmp_path)
    assert len(depths) <= 14
    assert min(depths) >= 0.5, [round(d, 2) for d in depths]


def test_a_bad_label_prefix_is_one_line_and_exit_2(capsys):
    from derive.__main__ import main

    assert main(["pair", "softmax", "cross-entropy", "--label-prefix", "a b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: --label-prefix") and err.count("\n") == 1


@pytest.mark.slow
def test_format_beamer_pdf_builds_both_pdfs(tmp_path, capsys):
    from derive.__main__ import main

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is needed to build PDFs")
    assert main(["pair", "softmax", "cross-entropy", "--format", "beamer,pdf", "-o", str(tmp_path)]) == 0
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["softmax-cross-entropy.beamer.pdf", "softmax-cross-entropy.beamer.tex", "softmax-cross-entropy.pdf"]
    for name in ("softmax-cross-entropy.beamer.pdf", "softmax-cross-entropy.pdf"):
        assert (tmp_path / name).read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("tex, rows_wanted", [
    # a sum of two terms inside one bracket: broken at the +
    (r"- \sum_{i=1}^{H} \left(\frac{\partial}{\partial Z_{k}}\left(y_{i} \ln O_{i}\right) + \frac{\partial}{\partial Z_{k}}"
     r"\left(\left(1 - y_{i}\right) \ln\left(1 - O_{i}\right)\right)\right)", 2),
    # one term inside the outer brackets, the sum two brackets down (binary cross-entropy's definition line)
    (r"\frac{\partial}{\partial Z_{k}}\left(\sum_{i=1}^{H} \left(- \left(y_{i} \ln O_{i} + \left(1 - y_{i}\right)"
     r" \ln\left(1 - O_{i}\right)\right)\right)\right)", 2),
])
def test_a_long_line_breaks_at_a_sign_inside_its_brackets(tex, rows_wanted):
    found = rows(tex, 176.0)
    assert len(found) == rows_wanted, found
    joined = " ".join(found).replace(r"\Bigl(", r"\left(").replace(r"\Bigr)", r"\right)")
    assert joined.replace(" ", "") == tex.replace(" ", ""), "the rows, put back together, are the line"
    assert found[1].lstrip().startswith("+")


ARTICLES = sorted(path for path in (Path(__file__).resolve().parents[1] / "output").glob("*.tex")
                  if not path.name.endswith((".beamer.tex", ".fragment.tex")) and path.name != "index.tex")


@pytest.mark.slow
@pytest.mark.parametrize("article", ARTICLES, ids=lambda path: path.stem)
def test_no_catalogue_article_ends_with_a_last_page_of_a_few_lines(article, tmp_path):
    source = tmp_path / article.name
    source.write_text(article.read_text())
    depths = _ink_depths(compile_latex(source, tmp_path), tmp_path)
    assert len(depths) == 1 or depths[-1] >= 0.35, f"the last page is inked to {depths[-1]:.2f} of its height"


@pytest.mark.parametrize("pair", _pair_params(slow_all=False))
def test_every_line_a_slide_refers_to_shows_its_number(pair):
    """Slides have no equation counter: a line shows its number beside its rule, so that "lemma (12)" and
    "we use ... in (17)" point at something the audience can see."""
    text = _derivation(pair, pause=False).document("beamer")
    shown = set(re.findall(r"\\itshape \((\d+)\)", text))
    referred = set(re.findall(r"(?:lemma|by|in|and) \((\d+)\)", text))
    assert referred, "the flagship's slides refer to the lemma and the assumption by number"
    assert referred <= shown, sorted(referred - shown)

"""Every formula of every rendered Markdown document survives the Markdown engines course pages are built with.

Python-Markdown with ``pymdownx.arithmatex`` (MkDocs, configured as the README says; the documents hold no raw HTML, so ``md_in_html`` is not needed)
and markdown-it-py with the dollarmath plugin (Jupyter Book, MyST) must each turn every formula the document
holds into exactly one math node with the same TeX: none split, none merged with its neighbour, none left as
text.  A formula that GitHub would damage (``\\{`` inside inline math, whose backslash GitHub strips) is refused
too.  The KaTeX test (tests/test_documents.py) checks that each formula then parses.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from derive.__main__ import main
from tooling import markdown_formulas

markdown = pytest.importorskip("markdown", reason="install the test extras: pip install '.[test]'")
pytest.importorskip("pymdownx.arithmatex", reason="install the test extras: pip install '.[test]'")
markdown_it = pytest.importorskip("markdown_it", reason="install the test extras: pip install '.[test]'")
dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath", reason="install the test extras: pip install '.[test]'")

OUTPUT = Path(__file__).resolve().parent.parent / "output"
MARKDOWN = sorted(OUTPUT.glob("*.md"))
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(?:\\\(|\\\[)(.*?)(?:\\\)|\\\])</\1>', re.DOTALL)


def _squeezed(tex: str) -> str:
    return " ".join(tex.split())


def source_formulas(text: str) -> Counter:
    return Counter(_squeezed(tex) for tex, _ in markdown_formulas(text))


def python_markdown_formulas(text: str) -> Counter:
    rendered = markdown.markdown(
        text, extensions=["tables", "pymdownx.arithmatex"], extension_configs={
            "pymdownx.arithmatex": {"generic": True}})
    return Counter(_squeezed(html.unescape(tex)) for _, tex in _ARITHMATEX.findall(rendered))


def markdown_it_formulas(text: str) -> Counter:
    parser = markdown_it.MarkdownIt("commonmark").enable("table").use(dollarmath.dollarmath_plugin, double_inline=True)
    found: Counter = Counter()
    tokens = parser.parse(text)
    for token in tokens:
        for node in [token, *(token.children or [])]:
            if node.type.startswith("math"):
                found[_squeezed(node.content)] += 1
    return found


@pytest.fixture(scope="module")
def check_document() -> str:
    """``derive check``'s Markdown report on a wrong claim (counterexample, diagnosis and all), made once."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["check", "softmax", "cross-entropy", "--claim", "o[k]*y[k] - y[k]", "--format", "md"]) == 1
    return out.getvalue()


@pytest.fixture(params=[*MARKDOWN, "check"], ids=lambda p: p if isinstance(p, str) else p.name)
def document(request) -> str:
    return request.getfixturevalue("check_document") if request.param == "check" else request.param.read_text()


def test_python_markdown_with_arithmatex_keeps_every_formula_whole(document):
    expected = source_formulas(document)
    assert sum(expected.values()) > 5
    assert python_markdown_formulas(document) == expected


def test_markdown_it_with_dollarmath_keeps_every_formula_whole(document):
    expected = source_formulas(document)
    assert markdown_it_formulas(document) == expected


def test_inline_math_has_no_brace_escapes_that_github_strips(document):
    inline = [tex for tex, display in markdown_formulas(document) if not display]
    assert [tex for tex in inline if "\\{" in tex or "\\}" in tex] == []


def test_the_checks_see_a_broken_formula():
    """The comparison is not vacuous: a formula split by a stray dollar is caught by both engines."""
    text = "A sum $a + b$ and $$x = 1$$ here.\n\n$$\ny = 2\n$$\n"
    assert python_markdown_formulas(text) == source_formulas(text) == markdown_it_formulas(text)
    broken = "Inside \\$ a ${a}_{1 $ b$ c\n"
    assert python_markdown_formulas(broken) != Counter({"{a}_{1 $ b": 1})
    assert markdown_it_formulas("<details>\n**$a$**\n</details>\n") != Counter({"a": 1})

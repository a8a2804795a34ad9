"""Tests of the test helpers in tooling.py: each check must be able to fail."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tooling import compile_latex, katex_errors, markdown_formulas, overfull_boxes, require_tool

# --------------------------------------------------------------------------
# markdown_formulas
# --------------------------------------------------------------------------

SAMPLE_MD = textwrap.dedent(
    r"""
    # Softmax and cross-entropy

    The loss is $E = -\sum_k y_k \log p_k$ where $p_k$ is the softmax.
    It costs \$5 or \$10, and a lone $ sign or a price like $3 and $4 is not math.

    $$
    \frac{\partial E}{\partial Z_k} = p_k - y_k
    $$

    One line: $$a = b$$ and then $c$.

    Code is not math: `$not$` and ``$neither `x` here$``.

    ```python
    price = "$x$"
    $$
    nor = this
    ```

    ~~~
    $tilde fence$
    ~~~

    ```math
    \sum_k p_k = 1
    ```

    Escaped backslash then math: \\$q$ and math with a dollar $\text{\$}x$.
    """
)


def test_markdown_formulas_sample_document():
    assert markdown_formulas(SAMPLE_MD) == [
        (r"E = -\sum_k y_k \log p_k", False),
        ("p_k", False),
        (r"\frac{\partial E}{\partial Z_k} = p_k - y_k", True),
        ("a = b", True),
        ("c", False),
        (r"\sum_k p_k = 1", True),
        ("q", False),
        (r"\text{\$}x", False),
    ]


def test_markdown_formulas_no_math():
    assert markdown_formulas("Plain text, `code $x$`, and \\$1.\n") == []


def test_markdown_formulas_inline_stays_in_its_paragraph():
    assert markdown_formulas("a $b\n\nc$ d\n") == []


def test_markdown_formulas_multiline_display_keeps_lines():
    doc = "$$\n\\begin{aligned}\na &= b \\\\\nc &= d\n\\end{aligned}\n$$\n"
    assert markdown_formulas(doc) == [
        ("\\begin{aligned}\na &= b \\\\\nc &= d\n\\end{aligned}", True)
    ]


def test_markdown_formulas_unclosed_display_is_an_error():
    with pytest.raises(ValueError, match="unclosed"):
        markdown_formulas("text\n\n$$\nx = 1\n\nmore text\n")


# --------------------------------------------------------------------------
# katex_errors
# --------------------------------------------------------------------------


def test_katex_accepts_valid_formulas():
    assert (
        katex_errors(
            [
                (r"\frac{\partial E}{\partial Z_k}", False),
                (r"\begin{cases} a & b \end{cases}", True),
            ]
        )
        == []
    )


@pytest.mark.parametrize(
    "tex",
    [r"\label{x}", r"\eqref{x}", r"\frac{1}{", r"\foo"],
)
@pytest.mark.parametrize("display", [False, True])
def test_katex_rejects_invalid_formula(tex, display):
    errors = katex_errors([(r"x^2", display), (tex, display)])
    assert [index for index, _ in errors] == [1]
    assert errors[0][1]  # a non-empty message


def test_katex_reports_every_failure_in_order():
    errors = katex_errors([(r"\foo", False), ("y", False), (r"\frac{1}{", True)])
    assert [index for index, _ in errors] == [0, 2]
    assert "foo" in errors[0][1]


def test_katex_empty_list():
    assert katex_errors([]) == []


# --------------------------------------------------------------------------
# compile_latex / overfull_boxes
# --------------------------------------------------------------------------

GOOD_TEX = r"""\documentclass{article}
\usepackage{amsmath}
\usepackage{cancel}
\begin{document}
\begin{equation}\label{eq:one}
  \frac{\partial E}{\partial Z_k} = \cancel{x} + p_k - y_k
\end{equation}
See \eqref{eq:one}.
\end{document}
"""

BROKEN_TEX = r"""\documentclass{article}
\begin{document} \frac{1}{ \end{document}
"""


def test_compile_latex_builds_pdf(tmp_path: Path):
    src = tmp_path / "good.tex"
    src.write_text(GOOD_TEX, encoding="utf-8")
    out = tmp_path / "build"
    pdf = compile_latex(src, out)
    assert pdf == out / "good.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    log = (out / "good.log").read_text(encoding="utf-8", errors="replace")
    # Two runs: the reference is resolved, so no "undefined references" warning.
    assert "There were undefined references" not in log
    assert "??" not in log


def test_compile_latex_raises_on_broken_document(tmp_path: Path):
    src = tmp_path / "broken.tex"
    src.write_text(BROKEN_TEX, encoding="utf-8")
    with pytest.raises(AssertionError) as info:
        compile_latex(src, tmp_path)
    message = str(info.value)
    assert "pdflatex failed" in message
    assert "broken.log" in message
    assert "!" in message  # the TeX error line is in the quoted log tail


def test_overfull_boxes_parses_log_lines():
    log = textwrap.dedent(
        r"""
        (./doc.aux)
        Overfull \hbox (12.34567pt too wide) in paragraph at lines 10--12
        []\OT1/cmr/m/n/10 text
        Underfull \hbox (badness 10000) in paragraph at lines 20--21
        Overfull \hbox (3pt too wide) detected at line 30
        Overfull \vbox (5.0pt too high) has occurred while \output is active
        """
    )
    assert overfull_boxes(log) == [12.34567, 3.0]
    assert overfull_boxes("") == []


def test_overfull_boxes_from_a_real_compile(tmp_path: Path):
    src = tmp_path / "wide.tex"
    src.write_text(
        "\\documentclass{article}\n\\begin{document}\n"
        "\\noindent\\hbox to 2\\textwidth{x\\hfil}\n\\end{document}\n",
        encoding="utf-8",
    )
    compile_latex(src, tmp_path)
    widths = overfull_boxes((tmp_path / "wide.log").read_text(encoding="utf-8"))
    assert len(widths) >= 1 and widths[0] > 100


def test_import_contracts_hold():
    """import-linter's contracts in pyproject.toml: the certifier imports no rule, no strategy and no
    presentation, not even through another module; rules and presentation keep to their side; and the
    packages form layers (cli, then check | present, then certify | engine)."""
    import os
    import subprocess

    root = Path(__file__).resolve().parent.parent
    lint = require_tool("lint-imports")  # from the test extras (import-linter)
    done = subprocess.run([lint, "--config", str(root / "pyproject.toml")], cwd=root,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "4 kept, 0 broken" in done.stdout

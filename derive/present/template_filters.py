"""Filters the templates use: escaping plain text for LaTeX and writing TikZ coordinates.

They format values and nothing else; the render module registers them on every
environment it builds.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import pass_context

from derive.present.chains import frames
from derive.present.measure import rows, width

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}",
}


def tex_text(value: str) -> str:
    """Escape plain text (a name, a title) for LaTeX prose."""
    return "".join(_TEX_SPECIALS.get(char, char) for char in str(value))


_MD_SPECIALS = {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: "\\" + c for c in "\\`*_[]$|"}


def md_text(value: str) -> str:
    """Escape plain text (a name, a title) for Markdown: no HTML, no emphasis, no maths, no links."""
    return "".join(_MD_SPECIALS.get(char, char) for char in str(value))


def _number(value: float) -> str:
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tikz_point(node) -> str:
    """A node's position as a TikZ coordinate, ``(x,y)`` in cm."""
    return f"({_number(node.x)},{_number(node.y)})"


def tikz_name(name: str) -> str:
    """A node name in the brackets TikZ wants (written here so templates need no ``(((( ``)."""
    return f"({name})"


def tikz_number(value: float) -> str:
    """A length or coordinate in cm, with at most three decimals."""
    return _number(value)


@pass_context
def step_ref(context, number: str) -> str:
    """How prose points at a numbered line: ``\\eqref{PREFIX:12}`` in LaTeX, ``(12)`` elsewhere."""
    if context.get("format") in ("tex", "tex-fragment"):
        return f"\\eqref{{{context.get('label_prefix')}:{number}}}"
    return f"({number})"


def step_line(number: str, layout) -> str:
    """The line (in ``layout``) that shows the trail's step ``number``."""
    return str(layout.line_of(number))


@dataclass(frozen=True)
class Row:
    math: str
    label: bool  # the line's rule is named on this row


def fit_rows(tex: str, label: str, budget: float) -> list[Row]:
    """A line's expression in rows no wider than ``budget`` (pt), with its label on the last row or one of its own."""
    label_width = width(r"\qquad\text{" + label + "}") if label else 0.0
    found = rows(tex, budget)
    if not label:
        return [Row(math, False) for math in found]
    if width(found[-1]) + label_width <= budget:
        return [Row(math, False) for math in found[:-1]] + [Row(found[-1], True)]
    return [Row(math, False) for math in found] + [Row("", True)]


def rule_names(steps) -> list[str]:
    """The distinct rules a merged line applies (no tidying), as their titles name them: a list of calculus rules
    reads "constant-factor, sum and chain rules"; a list with another kind of step names each step whole."""
    titles: list[str] = []
    for step in steps:
        title = step.title.lower()
        if not step.tidying and title not in titles:
            titles.append(title)
    if titles and all(title.endswith(" rule") for title in titles):
        names = [title.removesuffix(" rule") for title in titles]
        return [", ".join(names[:-1]) + " and " + names[-1] + " rules" if len(names) > 1 else names[0] + " rule"]
    return [", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else titles[0]] if titles else []


FILTERS = {
    "tex_text": tex_text, "tikz_point": tikz_point, "tikz_name": tikz_name, "tikz_number": tikz_number,
    "step_ref": step_ref, "md_text": md_text, "tex_width": width, "fit_rows": fit_rows, "rule_names": rule_names, "slides": frames, "step_line": step_line,
}

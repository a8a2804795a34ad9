"""Filters the templates use: escaping plain text for LaTeX and writing TikZ coordinates.

They format values and nothing else; the render module registers them on every
environment it builds.
"""

from __future__ import annotations

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


def step_ref(number: str) -> str:
    """How prose points at a numbered display: ``(12)``, matching its ``\\tag{12}``."""
    return f"({number})"


FILTERS = {
    "tex_text": tex_text, "tikz_point": tikz_point, "tikz_name": tikz_name, "tikz_number": tikz_number,
    "step_ref": step_ref, "md_text": md_text,
}

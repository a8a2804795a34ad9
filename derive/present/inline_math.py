r"""Fractions in running text: ``a/b`` or ``\tfrac``, never a stacked ``\frac`` inside a line.

A display may stack a fraction; a formula inside a sentence should not push the lines
apart.  :func:`inline_fractions` rewrites every ``\frac{A}{B}`` inside inline maths
(``$...$``, never ``$$...$$``): to ``A/B`` where both parts are a single symbol, a
number, a derivative sign or a named function of one symbol (``\partial \ln O_i/\partial
Z_k``, ``y_i/O_i``); to ``\tfrac{A}{B}`` where either part is a sum or bracketed.
"""

from __future__ import annotations

import re

# one symbol: a letter or Greek macro with optional sub/superscripts, a number, or e^{...}
_SYMBOL = r"(?:[A-Za-z]|\\[A-Za-z]+|[0-9]+)(?:_\{[^{}]*\}|\^\{[^{}]*\})*"
_FUNCTION = r"\\(?:ln|tanh|sinh|cosh|sin|cos|tan)(?:\^\{[0-9]+\})? " + _SYMBOL
_ATOM = rf"(?:{_FUNCTION}|e\^\{{(?:[^{{}}]|\{{[^{{}}]*\}})*\}}|{_SYMBOL})"
_PART = re.compile(rf"(?:\\partial(?: {_ATOM})?|{_ATOM}(?: {_ATOM})?)")
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?P<tex>[^$\n]+?)(?<!\\)\$(?!\$)")
_FRAC = r"\frac{"


def _group(tex: str, start: int) -> int:
    """The index just past the brace group that opens at ``tex[start]``."""
    depth = 0
    for position in range(start, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[position], 0)
        if depth == 0:
            return position + 1
    raise ValueError(f"unbalanced braces in {tex!r}")


def _fraction(numerator: str, denominator: str) -> str:
    if numerator.isdigit() and denominator.isdigit():
        return r"\tfrac{%s}{%s}" % (numerator, denominator)  # a number: \tfrac12 reads better than 1/2 before a symbol
    if _PART.fullmatch(numerator) and _PART.fullmatch(denominator) and " " not in denominator.replace("\\partial ", ""):
        return f"{numerator}/{denominator}"
    return r"\tfrac{%s}{%s}" % (numerator, denominator)


def flattened(tex: str) -> str:
    """``tex`` (maths) with every ``\\frac`` written for a line of text."""
    out, position = [], 0
    while (found := tex.find(_FRAC, position)) >= 0:
        numerator_end = _group(tex, found + len(_FRAC) - 1)
        denominator_end = _group(tex, numerator_end)
        numerator = flattened(tex[found + len(_FRAC):numerator_end - 1])
        denominator = flattened(tex[numerator_end + 1:denominator_end - 1])
        out += [tex[position:found], _fraction(numerator, denominator)]
        position = denominator_end
    return "".join(out) + tex[position:]


def inline_fractions(text: str) -> str:
    """``text`` (a rendered document) with the fractions of its inline maths flattened."""
    return _INLINE.sub(lambda match: "$" + flattened(match["tex"]) + "$", text)

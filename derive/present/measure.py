"""How wide a display is, roughly, and where a long one breaks (issue 13, item 5).

A template cannot ask LaTeX how wide a formula will be, so this estimates it from
the LaTeX text the whiteboard printer wrote: a letter is about half an em, a
binary operator an em with its spaces, a fraction as wide as its wider part, a
script at 70 %.  The estimate errs on the wide side.  ``rows`` then breaks a
display that is too wide at a top-level ``+`` or ``-``: between the terms of the
expression, inside one outer pair of brackets, or inside the numerator of an
outer fraction written as ``\\frac{1}{D}(...)``.  It only splits text at places
where the meaning does not change; it never rewrites the maths.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}]|\s+|.")
_SCRIPT = 0.7
_OPERATORS = {"+": 12.0, "-": 12.0, "=": 13.0, "<": 13.0, ">": 13.0, ",": 5.0, "|": 3.0, "!": 3.0}
_WIDTHS = {
    r"\partial": 6.5, r"\delta": 5.5, r"\ln": 12.0, r"\cdots": 14.0, r"\ldots": 14.0, r"\quad": 11.0,
    r"\qquad": 22.0, r"\,": 2.0, r"\;": 3.5, r"\ ": 4.0, r"\neq": 13.0, r"\le": 13.0, r"\ge": 13.0,
    r"\in": 11.0, r"\cdot": 7.0, r"\times": 12.0, r"\tanh": 22.0, r"\sinh": 20.0, r"\cosh": 21.0,
    r"\exp": 17.0, r"\sqrt": 8.0, r"\left": 0.0, r"\right": 0.0, r"\Bigl": 0.0, r"\Bigr": 0.0,
    r"\lbrace": 5.0, r"\rbrace": 5.0, r"\infty": 10.0, r"\mid": 7.0, r"\Biggl": 4.0, r"\Biggr": 4.0,
}
_WRAPPERS = {r"\cancel", r"\mathrm", r"\mathbf", r"\operatorname", r"\boxed", r"\hat", r"\bar", r"\tilde", r"\overline", r"\sqrt"}
_TEXT = {r"\text", r"\textit", r"\textrm", r"\mbox"}
_FRACTIONS = {r"\frac": 1.0, r"\dfrac": 1.0, r"\tfrac": _SCRIPT}
_BIG = {r"\sum": 14.0, r"\prod": 14.0}


def _tokens(tex: str) -> list[str]:
    return [token for token in _TOKEN.findall(tex) if not token.isspace()]


def _group(tokens: list[str], at: int) -> tuple[list[str], int]:
    """The tokens of the group starting at ``at`` (a braced group or one token), and the index after it."""
    if at >= len(tokens):
        return [], at
    if tokens[at] != "{":
        return [tokens[at]], at + 1
    depth, end = 0, at
    while end < len(tokens):
        depth += {"{": 1, "}": -1}.get(tokens[end], 0)
        if depth == 0:
            break
        end += 1
    return tokens[at + 1:end], end + 1


def _width(tokens: list[str], display: bool = True) -> float:
    total, at = 0.0, 0
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if token in _FRACTIONS:
            top, at = _group(tokens, at)
            bottom, at = _group(tokens, at)
            scale = _FRACTIONS[token] * (1.0 if display else _SCRIPT)
            total += max(_width(top, False), _width(bottom, False)) * scale + 3
        elif token in _BIG:
            below = above = 0.0
            while at < len(tokens) and tokens[at] in ("_", "^"):
                mark = tokens[at]
                part, at = _group(tokens, at + 1)
                size = _width(part, False) * _SCRIPT
                below, above = (size, above) if mark == "_" else (below, size)
            total += max(_BIG[token], below, above) + 3 if display else _BIG[token] * _SCRIPT + below + above
        elif token in ("_", "^"):
            part, at = _group(tokens, at)
            total += _width(part, False) * _SCRIPT
        elif token == r"\underbrace":
            body, at = _group(tokens, at)
            note = []
            if at < len(tokens) and tokens[at] == "_":
                note, at = _group(tokens, at + 1)
            total += max(_width(body, display), _width(note, False) * _SCRIPT)
        elif token in _TEXT:
            body, at = _group(tokens, at)
            text = "".join(token for token in body if not token.startswith("\\"))  # the words, not the font commands
            total += 5.3 * len(text)  # spaces are not tokens: the letters carry them
        elif token in _WRAPPERS:
            body, at = _group(tokens, at)
            total += _width(body, display) + (8 if token == r"\boxed" else 0)
        elif token == r"\begin" or token == r"\end":
            _, at = _group(tokens, at)
            total += 8
        elif token in ("{", "}", "&", "\\\\"):
            continue
        elif token in _WIDTHS:
            total += _WIDTHS[token]
        elif token in _OPERATORS:
            total += _OPERATORS[token]
        elif token.startswith("\\"):
            total += 6.5
        else:
            total += 6.0
    return total


def width(tex: str) -> float:
    """The estimated width of a display formula, in points at 10-11 pt type."""
    return _width(_tokens(re.sub(r"\\eqref\{[^}]*\}", "(00)", tex)))  # a reference prints as its number


def _top_level_terms(tex: str) -> list[str]:
    """``tex`` cut before each ``+`` or ``-`` that sits outside every group and bracket (a leading sign stays)."""
    pieces, depth, start, at = [], 0, 0, 0
    while at < len(tex):
        if tex.startswith(r"\begin", at) or tex.startswith(r"\end", at):
            depth += 1 if tex.startswith(r"\begin", at) else -1
            at += 4
            continue
        if tex.startswith(r"\left", at) or tex.startswith(r"\Bigl", at):
            depth += 1
            at += 5
            continue
        if tex.startswith(r"\right", at) or tex.startswith(r"\Bigr", at):
            depth -= 1
            at += 6 if tex.startswith(r"\right", at) else 5
            continue
        char = tex[at]
        if char == "\\":
            at += 2
            continue
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char in "+-" and depth == 0 and tex[:at].strip() and tex[at - 1] == " " and tex[at + 1:at + 2] == " ":
            pieces.append(tex[start:at].strip())
            start = at
        at += 1
    pieces.append(tex[start:].strip())
    return [piece for piece in pieces if piece]


def _closing(tex: str, at: int, opener: str, closer: str) -> int:
    """The index of the ``closer`` that matches the ``opener`` at ``at`` (``\\left(`` … ``\\right)``)."""
    depth, position = 0, at
    while position < len(tex):
        if tex.startswith(opener, position):
            depth += 1
            position += len(opener)
            continue
        if tex.startswith(closer, position):
            depth -= 1
            if depth == 0:
                return position
            position += len(closer)
            continue
        position += 1
    return -1


def _pack(terms: list[str], budget: float) -> list[str]:
    rows: list[str] = []
    for term in terms:
        if rows and width(rows[-1] + " " + term) <= budget:
            rows[-1] = rows[-1] + " " + term
        else:
            rows.append(term)
    return rows


def _outer_bracket(tex: str) -> int:
    """Where the first ``\\left(`` outside every group starts, when the head before it has no top-level sign."""
    at = tex.find(r"\left(")
    while at >= 0:
        head = tex[:at]
        if head.count("{") == head.count("}") and head.count(r"\left") == head.count(r"\right"):
            return at if len(_top_level_terms(head + "x")) == 1 else -1
        at = tex.find(r"\left(", at + 1)
    return -1


def _inside_brackets(tex: str, budget: float) -> list[str] | None:
    """``- \\sum_i \\left(A + B\\right)`` as rows inside big brackets, when the brackets close the expression."""
    at = _outer_bracket(tex)
    if at < 0:
        return None
    end = _closing(tex, at, r"\left(", r"\right)")
    if end < 0 or tex[end + len(r"\right)"):].strip():
        return None
    inside = tex[at + len(r"\left("):end]
    terms = _top_level_terms(inside)
    head = tex[:at] + r"\Bigl("
    if len(terms) < 2:  # one term inside, such as -\left(A + B\right): break inside the bracket it holds
        if len(_factors(inside.lstrip("+- "))) > 1:
            return None  # a product of several factors: broken between them (_product_rows), not inside a small bracket
        rows = _inside_brackets(inside, budget - width(head))
        if rows is None:
            return None
        return [head + rows[0], *rows[1:-1], rows[-1] + r"\Bigr)"] if len(rows) > 1 else None
    rows = _pack(terms, budget - 20)
    if width(head + rows[0]) > budget and len(rows) == 1:
        return None
    rows[0] = head + rows[0]
    rows[-1] = rows[-1] + r"\Bigr)"
    return rows


def _fraction_numerator(tex: str, budget: float) -> list[str] | None:
    r"""``\frac{A - B}{D}`` as ``\frac{1}{D}\Bigl(A`` / ``- B\Bigr)`` when the whole expression is that fraction."""
    if not tex.startswith(r"\frac{"):
        return None
    tokens_end = _closing(tex, len(r"\frac"), "{", "}")
    if tokens_end < 0 or not tex.startswith("{", tokens_end + 1):
        return None
    below_end = _closing(tex, tokens_end + 1, "{", "}")
    if below_end != len(tex) - 1:
        return None
    terms = _top_level_terms(tex[len(r"\frac{"):tokens_end])
    if len(terms) < 2:
        return None
    factor = r"\frac{1}{" + tex[tokens_end + 2:below_end] + "}"
    rows = _pack(terms, budget - width(factor) - 20)
    rows[0] = factor + r"\Bigl(" + rows[0]
    rows[-1] = rows[-1] + r"\Bigr)"
    return rows


_SUM_HEAD = re.compile(r"\\sum_\{[^{}]*\}(\^\{[^{}]*\})?")
_OPENING = re.compile(r"(?:(?:\\sum_\{[^{}]*\}(?:\^\{[^{}]*\})?|\\Bigg?l\()\s*)*")  # sums and big brackets a factor opens with
_CLOSING = re.compile(r"(?:\s*\\Bigg?r\))*$")
_FACTOR_STARTS = (r"\frac{\partial", r"\left(", r"\sum_", r"\delta_")


def _factors(tex: str) -> list[str]:
    """A product with no top-level sign cut before each factor that opens a bracket, a sum, a Kronecker delta or
    a derivative, outside every group and bracket."""
    cuts, depth, at = [], 0, 0
    while at < len(tex):
        if depth == 0 and at > 0 and any(tex.startswith(start, at) for start in _FACTOR_STARTS):
            cuts.append(at)
        if tex.startswith(r"\begin", at) or tex.startswith(r"\end", at):  # an environment is one factor
            depth += 1 if tex.startswith(r"\begin", at) else -1
            at += 4
        elif tex.startswith(r"\left", at):
            depth, at = depth + 1, at + 5
        elif tex.startswith(r"\right", at):
            depth, at = depth - 1, at + 7  # past the bracket it closes
            if depth == 0:
                cuts.append(at)
        elif tex[at] == "\\":
            at += 2
        else:
            depth += {"{": 1, "}": -1}.get(tex[at], 0)
            at += 1
    bounds = [0, *sorted(set(cuts)), len(tex)]
    pieces: list[str] = []
    for a, b in zip(bounds, bounds[1:]):
        piece = tex[a:b].strip()
        if pieces and _SUM_HEAD.fullmatch(pieces[-1]):  # a sum stays on the row of what it sums
            pieces[-1] += " " + piece
        elif piece:
            pieces.append(piece)
    return pieces


def _opened(piece: str, budget: float) -> list[str] | None:
    """A factor ``\\sum_i \\left(A B\\right)`` (the sum optional) as its own terms, or else its own factors,
    inside big brackets."""
    head = _OPENING.match(piece).group(0)
    tail = _CLOSING.search(piece).group(0)
    body = piece[len(head):len(piece) - len(tail)].strip()
    if not (body.startswith(r"\left(") and body.endswith(r"\right)")) or width(body) < budget / 2:
        return None  # not a bracket, or one small enough to stay whole on a row
    if _closing(body, 0, r"\left(", r"\right)") != len(body) - len(r"\right)"):
        return None  # (A)(B): two brackets, not one
    within = body[len(r"\left("):-len(r"\right)")]
    inside = _top_level_terms(within)
    inside = inside if len(inside) > 1 else _factors(within)
    if len(inside) < 2:
        return None
    big = "Bigg" if r"\sum" in within or r"\frac" in within else "Big"  # as tall as what the bracket holds
    inside[0] = head + "\\" + big + "l(" + inside[0]
    inside[-1] = inside[-1] + "\\" + big + "r)" + tail
    return inside


def _product_rows(tex: str, budget: float) -> list[str] | None:
    """A long product broken between its factors, each row after the first starting with ``\\times`` (or the sign
    of a term, inside a bracket that was opened); a factor
    too wide for a row, a bracket (or a sum of one), is opened: its own factors inside big brackets."""
    factors = _factors(tex)
    for _ in range(3):
        widest = max(range(len(factors)), key=lambda at: width(factors[at]))
        opened = _opened(factors[widest], budget) if width(factors[widest]) > budget - 20 else None
        if opened is None:
            break
        factors = factors[:widest] + opened + factors[widest + 1:]
    if len(factors) < 2:
        return None
    packed = _pack(factors, budget - 14)
    if len(packed) < 2:
        return None
    return [packed[0]] + [row if row[:1] in "+-" else r"\times " + row for row in packed[1:]]


def rows(tex: str, budget: float) -> list[str]:
    """``tex`` as one row, or broken into rows no wider than ``budget`` where it can be (see the module)."""
    if width(tex) <= budget:
        return [tex]
    terms = _top_level_terms(tex)
    if len(terms) > 1:
        return _pack(terms, budget)
    return _inside_brackets(tex, budget) or _fraction_numerator(tex, budget) or _product_rows(tex, budget) or [tex]

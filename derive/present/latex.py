"""LaTeX the way a lecturer writes it on a whiteboard.

SymPy's printer writes ``\\frac{\\frac{\\partial}{\\partial Z_k} O_i y_i}{O_i}`` where a
person writes ``\\frac{y_i}{O_i} \\frac{\\partial O_i}{\\partial Z_k}``, prints ``\\log``,
reorders factors the engine placed on purpose and emits ``\\operatorname`` (which
GitHub's Markdown maths lacks).  :class:`WhiteboardPrinter` overrides only how each
kind of expression is formatted; ordering rules live in ``derive.present.latex_order``.

Display names come from a :class:`~derive.present.notation.Notation`: the canonical
``o, y, z, e`` and ``i, j, k, H, E`` are shown as the notation says.  Output uses
only macros that both pdflatex (with amsmath) and KaTeX understand, plus
``\\cancel`` (package ``cancel``) when a caller asks for it through ``marks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sympy import Add, Basic, Eq, KroneckerDelta, Piecewise, Pow, S, Sum, exp, log, sympify
from sympy.printing.latex import LatexPrinter, greek_letters_set, latex_escape, tex_greek_dictionary

from derive.present.latex_order import indexed_family, is_plain, is_short, is_unevaluated, split_product
from derive.present.notation import Notation
from derive.sums import SumExcept
from derive.symbols import (
    HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, PREACTIVATION, SECOND_INDEX, UNITS, BIAS, CLASSES, ERROR, FREE_INDEX, INNER_INDEX, INPUT, INPUT_INDEX, INPUTS, LOSS_NAME, NETWORK_INPUT, OUTPUT, SUM_INDEX,
    TARGET, WEIGHT,
)

LONG_SUM = 6  # a sum written out term by term with more terms than this is shown elided

# canonical name -> Notation field holding its display name
_INDEXED_ROLES = MappingProxyType({
    OUTPUT.label.name: "output", TARGET.label.name: "target", INPUT.label.name: "input", ERROR.label.name: "error",
    WEIGHT.label.name: "weight", BIAS.label.name: "bias", NETWORK_INPUT.label.name: "network_input",
    HIDDEN_WEIGHT.label.name: "hidden_weight", HIDDEN_BIAS.label.name: "hidden_bias", HIDDEN.label.name: "hidden",
    PREACTIVATION.label.name: "preactivation",
})
_SYMBOL_ROLES = MappingProxyType({
    SUM_INDEX.name: "sum_index", FREE_INDEX.name: "free_index", INNER_INDEX.name: "inner_index",
    CLASSES.name: "classes", LOSS_NAME: "loss", INPUTS.name: "inputs", INPUT_INDEX.name: "input_index", UNITS.name: "units",
    SECOND_INDEX.name: "second_index",
})
# SymPy function name -> standard macro (all known to amsmath and KaTeX)
_FUNCTION_MACROS = MappingProxyType({
    name: "\\" + name for name in ("sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "coth")
} | {"asin": r"\arcsin", "acos": r"\arccos", "atan": r"\arctan"})


def _name_tex(name: str) -> str:
    """A bare name as maths: one letter as is, a Greek name as its macro, else upright text."""
    if name in greek_letters_set or name in tex_greek_dictionary:
        return tex_greek_dictionary.get(name, "\\" + name)
    return name if len(name) == 1 else r"\mathrm{%s}" % latex_escape(name)


name_tex = _name_tex  # how a display name is shown: what clash checks compare


def _paren(tex: str) -> str:
    return r"\left(%s\right)" % tex


def _raised(tex: str, power) -> str:
    """``tex`` raised to ``power`` when SymPy's Pow printer asks for it (``exp=...``)."""
    return tex if power is None else r"%s^{%s}" % (_paren(tex), power)


def _drawn(tex: str, mark, note: str | None) -> str:
    """``tex`` struck through (sign left outside) or underbraced (with ``note``, maths, below)."""
    kind = getattr(mark, "value", mark)
    if kind == "cancel":
        return "- \\cancel{%s}" % tex[1:].lstrip() if tex.startswith("-") else "\\cancel{%s}" % tex
    if kind == "underbrace":
        body = _paren(tex) if tex.startswith("-") else tex
        return "\\underbrace{%s}%s" % (body, "" if note is None else "_{%s}" % note)
    raise ValueError(f"cannot draw mark {kind!r}: only 'cancel' and 'underbrace' are drawn")


def _negated(tex: str) -> str:
    """Normalise a leading minus to ``- `` (as SymPy writes ``- x``)."""
    return "- " + tex[1:].lstrip() if tex.startswith("-") else tex


def _joined(tex: str) -> str:
    """A term after the first: ``+ x``, or ``- x`` when it carries its own minus."""
    return "- " + tex[1:].lstrip() if tex.startswith("-") else "+ " + tex


class WhiteboardPrinter(LatexPrinter):
    """A ``LatexPrinter`` that writes derivations in the form a person writes them."""

    printmethod = "_whiteboard_latex"

    def __init__(self, notation: Notation = Notation(), marks: Mapping | None = None, orders: Mapping | None = None):
        super().__init__()
        self._notation = notation
        self._marks = MappingProxyType(dict(marks or {}))
        self._orders = orders or {}  # Add -> its terms in the order a derivation first wrote them

    def _print(self, expr, **kwargs):
        tex = super()._print(expr, **kwargs)
        mark = self._marks.get(expr) if self._marks and isinstance(expr, Basic) else None
        return tex if mark is None else _drawn(tex, *mark)

    def _print_Symbol(self, expr, style="plain"):
        role = _SYMBOL_ROLES.get(expr.name)
        if role is None:
            return super()._print_Symbol(expr, style=style)
        return _name_tex(getattr(self._notation, role))

    def _print_Idx(self, expr):
        return self._print(expr.label)

    def _print_IndexedBase(self, expr):
        role = _INDEXED_ROLES.get(str(expr.label))
        return self._print(expr.label) if role is None else _name_tex(getattr(self._notation, role))

    def _print_Indexed(self, expr):
        shown = [self._print(index) for index in expr.indices]
        indices = "".join(shown) if all(len(index) == 1 and index.isalpha() for index in shown) else ",".join(shown)  # W_{kj}, W_{1,2}
        return "%s_{%s}" % (self._print(expr.base), indices)

    def _print_MatrixSymbol(self, expr):
        """A vector or matrix of the summary, named as its entries are (``O``, ``W``)."""
        role = _INDEXED_ROLES.get(expr.name)
        return super()._print_MatrixSymbol(expr) if role is None else _name_tex(getattr(self._notation, role))

    def _print_Float(self, expr):
        text = format(float(expr), ".6g")
        mantissa, _, power = text.partition("e")
        if "." not in mantissa and mantissa.lstrip("-").isdigit():
            mantissa += ".0"
        return mantissa if not power else r"%s \cdot 10^{%d}" % (mantissa, int(power))

    def _print_Add(self, expr, order=None):
        family = indexed_family(expr.args) if len(expr.args) > LONG_SUM else None
        if family is not None:  # a sum written out: its first two terms, \cdots, its last
            texs = [self._print(term) for term in (family[0], family[1], family[-1])]
            dots = r"- \cdots" if texs[1].startswith("-") else r"+ \cdots"
            return " ".join([_negated(texs[0]), _joined(texs[1]), dots, _joined(texs[2])])
        carried = self._orders.get(expr)
        keep = carried is not None or is_unevaluated(expr)
        terms = carried or (expr.args if keep else expr.as_ordered_terms())
        texs = [_paren(self._print(t)) if isinstance(t, Add) else self._print(t) for t in terms]
        if not keep and texs[0].startswith("-"):  # a person starts with a positive term
            texs = [t for t in texs if not t.startswith("-")] + [t for t in texs if t.startswith("-")]
        return " ".join([_negated(texs[0]), *(_joined(tex) for tex in texs[1:])])

    def _print_Mul(self, expr):
        if is_unevaluated(expr):
            return self._product(list(expr.args))
        coefficient, numerator, denominator, trailing = split_product(expr)
        sign = "- " if coefficient.is_negative else ""
        coefficient = abs(coefficient)
        if not denominator:
            lead = [] if coefficient == 1 else [coefficient]
            return sign + self._join(self._factor_items(lead + numerator + trailing, bool(sign)))
        if coefficient.is_Rational:
            numerator = ([] if coefficient.p == 1 else [S(coefficient.p)]) + numerator
            denominator = ([] if coefficient.q == 1 else [S(coefficient.q)]) + denominator
        elif coefficient != 1:
            numerator = [coefficient] + numerator
        fraction = r"\frac{%s}{%s}" % (self._product(numerator) if numerator else "1", self._product(denominator))
        return sign + self._join([(None, fraction)] + self._factor_items(trailing, True))

    def _product(self, factors: list) -> str:
        """Factors in the given order; a leading -1 becomes a minus sign."""
        if len(factors) > 1 and factors[0] == S.NegativeOne:
            return "- " + self._join(self._factor_items(factors[1:], True))
        return _negated(self._join(self._factor_items(factors, False)))

    def _factor_items(self, factors: list, after_sign: bool) -> list:
        """``(factor, tex)`` pairs, bracketed where juxtaposition would be ambiguous."""
        several = after_sign or len(factors) > 1
        texs = [self._print(factor) for factor in factors]
        items = []
        for pos, (factor, tex) in enumerate(zip(factors, texs)):
            after = texs[pos + 1] if pos + 1 < len(texs) else None
            if several and (
                isinstance(factor, Add)
                or (tex.startswith("-") and (pos > 0 or after_sign))
                or (after is not None and isinstance(factor, (Sum, SumExcept)))
                or (after is not None and tex.startswith("\\ln ") and not after.startswith(("\\frac", "\\ln ")))
            ):
                tex = _paren(tex)
            items.append((factor, tex))
        return items

    @staticmethod
    def _join(items: list) -> str:
        """Juxtapose factors; ``\\cdot`` only where a number follows a number or a digit would run on."""
        out = items[0][1] if items else "1"
        for (left, _), (right, tex) in zip(items, items[1:]):
            numbers = left is not None and right is not None and left.is_number and right.is_number
            out += (r" \cdot " if numbers or tex[:1].isdigit() else " ") + tex
        return out

    def _print_Pow(self, expr):
        base, power = expr.base, expr.exp
        if power.is_Rational and power.is_negative:
            return r"\frac{1}{%s}" % self._print(Pow(base, -power))
        if power == S.Half:
            return r"\sqrt{%s}" % self._print(base)
        if self._is_named_function(base) and power.is_Integer and power.is_positive:
            return self._named_function(base, r"^{%s}" % self._print(power))  # \tanh^{2} Z_i, as in \tanh^2 u
        base_tex = self._print(base)
        simple = is_plain(base) or isinstance(base, KroneckerDelta) or (
            base.is_Function and not isinstance(base, (log, exp, Piecewise)))
        return "%s^{%s}" % (base_tex if simple else _paren(base_tex), self._print(power))

    def _print_UnevaluatedExpr(self, expr):
        inner = self._print(expr.args[0])
        return _paren(inner) if isinstance(expr.args[0], Add) else inner

    def _print_Derivative(self, expr):
        order = sum((count for _, count in expr.variable_count), S.Zero)
        top = r"\partial" if order == 1 else r"\partial^{%s}" % self._print(order)
        bottom = " ".join(r"\partial " + self._print(var if count == 1 else Pow(var, count, evaluate=False))
                          for var, count in expr.variable_count)
        if is_short(expr.expr):
            return r"\frac{%s %s}{%s}" % (top, self._print(expr.expr), bottom)
        return r"\frac{%s}{%s}%s" % (top, bottom, _paren(self._print(expr.expr)))

    def _summand(self, body) -> str:
        tex = self._print(body)
        return _paren(tex) if isinstance(body, Add) or tex.startswith("-") else tex

    def _print_Sum(self, expr):
        heads = []
        for limit in reversed(expr.limits):
            var, *bounds = (self._print(part) for part in limit)
            heads.append(r"\sum_{%s=%s}^{%s}" % (var, *bounds) if bounds else r"\sum_{%s}" % var)
        return " ".join(heads) + " " + self._summand(expr.function)

    def _print_SumExcept(self, expr):
        index, excluded = self._print(expr.index), self._print(expr.excluded)
        below = r"%s \neq %s" % (index, excluded)
        if expr.lower != 1:
            below = r"\substack{%s=%s \\ %s}" % (index, self._print(expr.lower), below)
        return r"\sum_{%s}^{%s} %s" % (below, self._print(expr.upper), self._summand(expr.function))

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        return _raised(r"\ln " + self._print(arg) if is_plain(arg) else r"\ln" + _paren(self._print(arg)), exp)

    def _print_exp(self, expr, exp=None):
        return _raised("e^{%s}" % self._exponent(expr.args[0]), exp)

    def _exponent(self, power) -> str:
        """An exponent with a fractional coefficient on one line: ``e^{Z_i/2}``, not ``e^{\frac{1}{2} Z_i}``."""
        coefficient, rest = power.as_coeff_Mul()
        if not coefficient.is_Rational or coefficient.q == 1 or rest == 1:
            return self._print(power)
        if isinstance(rest, Add):
            numerator = ("- " if coefficient.p < 0 else "") + _paren(self._print(abs(coefficient.p) * rest))
        else:
            numerator = self._print(coefficient.p * rest)
        return "%s/%d" % (numerator, coefficient.q)

    @staticmethod
    def _is_named_function(expr) -> bool:
        return expr.is_Function and len(expr.args) == 1 and expr.func.__name__ in _FUNCTION_MACROS

    def _named_function(self, expr, power: str = "") -> str:
        """``\\tanh Z_i`` for a plain argument (as ``\\ln O_i``), ``\\tanh\\left(2 u\\right)`` otherwise."""
        arg = expr.args[0]
        head = _FUNCTION_MACROS[expr.func.__name__] + power
        return "%s %s" % (head, self._print(arg)) if is_plain(arg) else head + _paren(self._print(arg))

    def _print_Function(self, expr, exp=None):
        if self._is_named_function(expr):
            return _raised(self._named_function(expr), exp)
        name = expr.func.__name__
        head = _FUNCTION_MACROS.get(name) or _name_tex(name)
        return _raised(head + _paren(", ".join(self._print(arg) for arg in expr.args)), exp)

    def _print_KroneckerDelta(self, expr, exp=None):
        first, second = (self._print(arg) for arg in expr.args[:2])
        return _raised(r"\delta_{%s%s%s}" % (first, "" if len(first) == len(second) == 1 else ",", second), exp)

    def _print_Piecewise(self, expr):
        pieces, rows = expr.args, []
        for value, condition in pieces:
            if condition != S.true:
                when = r"\text{if } " + self._print(condition)
            elif len(pieces) == 2 and isinstance(pieces[0].cond, Eq):
                first = pieces[0].cond
                when = r"\text{if } %s \neq %s" % (self._print(first.lhs), self._print(first.rhs))
            else:
                when = r"\text{otherwise}"
            rows.append("%s & %s" % (self._print(value), when))
        return r"\begin{cases} %s \end{cases}" % r" \\ ".join(rows)


def to_latex(expr, notation: Notation = Notation(), marks: Mapping | None = None, orders: Mapping | None = None) -> str:
    """LaTeX for ``expr`` in whiteboard form, with display names from ``notation``.

    ``marks`` maps sub-expressions of ``expr`` to ``(mark, note)``: mark ``"cancel"``
    strikes every occurrence through, ``"underbrace"`` braces it with ``note`` (LaTeX
    maths or None) below.  ``orders`` maps a sum to the order its terms are written in
    (``derive.present.term_order``).  Deterministic: the same input always gives the same string.
    """
    tex = WhiteboardPrinter(notation, marks, orders).doprint(sympify(expr, strict=True))
    return tex.replace(r"\operatorname{", r"\mathrm{")  # safety net for SymPy's special-function printers

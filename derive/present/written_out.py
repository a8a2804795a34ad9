"""Sums written out term by term, as a lecturer does for a small concrete number of classes.

With ``H = 3`` seed 000 writes ``E = −(y_1 ln O_1 + y_2 ln O_2 + y_3 ln O_3)``: the reader
sees every term the sum stands for, and likewise the softmax's denominator ``e^{Z_1} + e^{Z_2} + e^{Z_3}``.
Larger ``H`` keeps the sum sign.
"""

from __future__ import annotations

from sympy import Add, Basic, Mul, S, Sum

from derive.symbols import ERROR, OUTPUT, SUM_INDEX
from derive.trail import Trail

WRITTEN_OUT_UP_TO = 5  # the largest concrete H whose sums are written out


def written_loss(trail: Trail) -> Basic | None:
    """The loss of one example written out for each class, or ``None`` for a symbolic or large H."""
    if trail.classes is None or trail.classes > WRITTEN_OUT_UP_TO or trail.reduction != "sum":
        return None
    error = next((eq.rhs for eq in trail.definitions if eq.lhs.base == ERROR), None)
    if error is None:
        return None
    terms = [term for m in range(1, trail.classes + 1) for term in Add.make_args(error.xreplace({SUM_INDEX: m}))]
    if all(term.as_coeff_Mul()[0].is_negative for term in terms):  # −(a + b + c), as the seed writes it
        return Mul(S.NegativeOne, Add(*(-term for term in terms), evaluate=False), evaluate=False)
    return Add(*terms, evaluate=False)


def _sums_written_out(expr: Basic) -> Basic:
    """``expr`` with every sum over concrete limits written as its terms, in the order of its index."""
    def term_by_term(node):
        (index, first, last), = node.limits
        return Add(*(node.function.xreplace({index: m}) for m in range(int(first), int(last) + 1)), evaluate=False)

    return expr.replace(lambda node: isinstance(node, Sum) and all(bound.is_Integer for bound in node.limits[0][1:]),
                        term_by_term)


def written_activation(trail: Trail) -> Basic | None:
    """The activation's right side with its sums written out (the softmax's denominator), or ``None`` for a
    symbolic or large H, or an activation with no sum."""
    if trail.classes is None or trail.classes > WRITTEN_OUT_UP_TO:
        return None
    activation = next((eq.rhs for eq in trail.definitions if eq.lhs.base == OUTPUT), None)
    if activation is None or not activation.has(Sum):
        return None
    return _sums_written_out(activation)

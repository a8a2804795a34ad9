"""Sums written out term by term, as a lecturer does for a small concrete number of classes.

With ``H = 3`` seed 000 writes ``E = −(y_1 ln O_1 + y_2 ln O_2 + y_3 ln O_3)``: the reader
sees every term the sum stands for.  Larger ``H`` keeps the sum sign.
"""

from __future__ import annotations

from sympy import Add, Basic, Mul, S

from derive.symbols import ERROR, SUM_INDEX
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

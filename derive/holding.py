"""Held sub-expressions: substituted values that must not merge yet.

When a rule substitutes ``O_i(δ_ik − O_k)`` for ``∂O_i/∂Z_k`` inside
``(y_i/O_i) ∂O_i/∂Z_k``, SymPy would cancel ``O_i`` on the spot and the reader
would never see it happen.  Substituted values are therefore *held*
(``UnevaluatedExpr``) until the cancel rule releases them and records what
cancelled.
"""

from __future__ import annotations

from sympy import Basic, UnevaluatedExpr

from derive.expressions import unwrapped


def hold(expr: Basic) -> Basic:
    return expr if expr.is_Atom else UnevaluatedExpr(expr)


def release(expr: Basic) -> Basic:
    """``expr`` with every hold opened, so SymPy's ordinary evaluation applies."""
    return unwrapped(expr)


def held_parts(expr: Basic) -> list[Basic]:
    return sorted(expr.atoms(UnevaluatedExpr), key=Basic.sort_key)

"""Structural inversion of an elementwise activation: from ``o = g(z)`` to ``z = g⁻¹(o)``.

Only compositions of invertible one-variable pieces are handled (exp, log, tanh,
sums and products with constants, powers); anything else gives ``None``.  The
fold rule uses the inverse to write a derivative in the outputs, e.g. the
sigmoid's ``e^{-Z}/(1 + e^{-Z})^2`` becomes ``O(1 − O)``.

A rewrite in the outputs replaces ``Z`` by ``g⁻¹(g(Z))``, so the inverse must
give back ``Z`` at *every* real input, not only on part of the line.  With
``strict`` (the default) every piece is checked symbolically, from SymPy's
assumptions on real inputs, never by sampling: undoing ``u^p`` by ``w^{1/p}``
is allowed only where ``u ≥ 0`` for every real input (or ``p = ±1/n``, a root
or a reciprocal, which ``w^{±n}`` undoes wherever it is defined), and dividing by a factor only
where that factor is never 0.  ``(z + 2)^2`` is refused: ``√((z+2)^2) = |z + 2|``.
Without ``strict`` any one preimage will do (the worked example only needs
*some* inputs that produce its outputs).
"""

from __future__ import annotations

from sympy import Add, Basic, Dummy, Indexed, Mul, Pow, Rational, Symbol, atanh, exp, log, tanh


def _real(expr: Basic) -> Basic:
    """``expr`` with every input replaced by a real symbol, so SymPy's assumptions know the inputs are real."""
    return expr.xreplace({node: Dummy(real=True) for node in expr.atoms(Indexed)})


def _root(exponent: Basic) -> bool:
    """``u^{±1/n}`` for a whole ``n``: ``w^{±n}`` undoes it wherever it is real (``1/u`` included)."""
    return exponent.is_Rational and abs(exponent.p) == 1


def _undoes(body: Basic) -> bool:
    """Whether the inverse piece for ``body``'s outermost operation is right for every real input."""
    if isinstance(body, Pow):
        return _root(body.exp) or bool(_real(body.base).is_nonnegative if body.exp.is_positive else _real(body.base).is_positive)
    return True


def invert(body: Basic, variable: Basic, value: Basic, strict: bool = True) -> Basic | None:
    """Solve ``value = body`` for ``variable`` when ``body`` is built from invertible pieces.

    With ``strict`` the result is ``None`` unless the solution is valid at every real input.
    """
    for _ in range(50):
        if body == variable:
            return value
        if not body.has(variable):
            return None
        if isinstance(body, exp):
            body, value = body.args[0], log(value)
        elif isinstance(body, log):
            body, value = body.args[0], exp(value)
        elif isinstance(body, tanh):
            body, value = body.args[0], atanh(value)
        elif isinstance(body, (Add, Mul)):
            varying = [arg for arg in body.args if arg.has(variable)]
            if len(varying) != 1:
                return None
            rest = body.func(*(arg for arg in body.args if not arg.has(variable)))
            if strict and isinstance(body, Mul) and not _real(rest).is_nonzero:
                return None
            body, value = varying[0], (value - rest if isinstance(body, Add) else value / rest)
        elif isinstance(body, Pow) and not body.exp.has(variable) and body.exp != 0:
            if strict and not _undoes(body):
                return None
            body, value = body.base, value ** (Rational(1) / body.exp)
        else:
            return None
    return None


def placeholder() -> Symbol:
    return Symbol("w", real=True)

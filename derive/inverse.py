"""Structural inversion of an elementwise activation: from ``o = g(z)`` to ``z = g⁻¹(o)``.

Only compositions of invertible one-variable pieces are handled (exp, log, tanh,
sums and products with constants, powers); anything else gives ``None``.  The
fold rule uses the inverse to write a derivative in the outputs, e.g. the
sigmoid's ``e^{-Z}/(1 + e^{-Z})^2`` becomes ``O(1 − O)``.
"""

from __future__ import annotations

from sympy import Add, Basic, Mul, Pow, Rational, Symbol, atanh, exp, log, tanh


def invert(body: Basic, variable: Basic, value: Basic) -> Basic | None:
    """Solve ``value = body`` for ``variable`` when ``body`` is built from invertible pieces."""
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
            body, value = varying[0], (value - rest if isinstance(body, Add) else value / rest)
        elif isinstance(body, Pow) and not body.exp.has(variable) and body.exp != 0:
            body, value = body.base, value ** (Rational(1) / body.exp)
        else:
            return None
    return None


def placeholder() -> Symbol:
    return Symbol("w", real=True)

"""Quotient rule: ``∂(f/g)/∂x = (g·∂f/∂x − f·∂g/∂x) / g²`` when both ``f`` and ``g`` depend on ``x``."""

from sympy import Mul, fraction

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Rule


def quotient(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Mul):
        return None
    numerator, denominator = fraction(f, exact=True)
    if denominator == 1 or not ctx.depends(numerator, x) or not ctx.depends(denominator, x):
        return None
    after = (denominator * d(numerator, x) - numerator * d(denominator, x)) / denominator**2
    return local(QUOTIENT, node, after)


QUOTIENT = Rule(
    slug="quotient",
    title="Quotient rule",
    formula=r"\partial (f/g) = (g\, \partial f - f\, \partial g)/g^2",
    function=quotient,
)

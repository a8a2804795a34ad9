"""Power rule: ``∂u^n/∂u = n·u^(n−1)`` for an exponent ``n`` that does not depend on ``u``."""

from sympy import Pow

from derive.engine.rules.base import is_derivative, local, parts
from derive.trail import Rule


def power(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Pow) or f.base != x or ctx.depends(f.exp, x):
        return None
    return local(POWER, node, f.exp * x ** (f.exp - 1))


POWER = Rule(
    slug="power",
    title="Power rule",
    formula=r"\partial u^n / \partial u = n u^{n-1}",
    function=power,
    elementary=True,
)

"""Independence: ``∂c/∂x = 0`` when ``c`` does not vary with ``x``."""

from sympy import S

from derive.rules.base import is_derivative, local, parts
from derive.trail import Rule


def independent(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if ctx.depends(f, x):
        return None
    return local(Rule.INDEPENDENT, node, S.Zero)

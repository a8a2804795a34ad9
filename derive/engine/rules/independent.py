"""Independence: ``∂c/∂x = 0`` when ``c`` does not vary with ``x``."""

from sympy import S

from derive.engine.rules.base import is_derivative, local, parts
from derive.trail import Rule


def independent(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if ctx.depends(f, x):
        return None
    return local(INDEPENDENT, node, S.Zero)


INDEPENDENT = Rule(
    slug="independent",
    title="Independence",
    formula=r"\partial c / \partial x = 0",
    function=independent,
    tidying=True,
    elementary=True,
)

"""Constant-factor ("independence") rule: ``∂(c·f)/∂x = c·∂f/∂x`` when ``c`` does not depend on ``x``."""

from sympy import Mul

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Annotation, Mark, Rule


def constant_factor(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Mul):
        return None
    constant = [factor for factor in f.args if not ctx.depends(factor, x)]
    varying = [factor for factor in f.args if ctx.depends(factor, x)]
    if not constant or not varying:
        return None
    factor = Mul(*constant)
    marks = (Annotation(Mark.CONSTANT, factor),)
    return local(CONSTANT_FACTOR, node, factor * d(Mul(*varying), x), annotations=marks)


CONSTANT_FACTOR = Rule(
    slug="constant-factor",
    title="Constant-factor rule",
    formula=r"\partial (c f) = c\, \partial f",
    function=constant_factor,
)

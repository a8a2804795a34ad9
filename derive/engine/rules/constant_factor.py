"""Constant-factor ("independence") rule: ``∂(c·f)/∂x = c·∂f/∂x`` when ``c`` does not depend on ``x``.

A factor common to every term of a sum comes out of the sum and the derivative in the same
step, ``∂(Σ_i c·f_i)/∂x = c·∂(Σ_i f_i)/∂x`` (a minus sign is taken out once, not twice);
``sums_only`` restricts the rule to that case (the strategy's tidying phase).
"""

from sympy import Mul, Sum

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Annotation, Mark, Rule


def _split(factors, depends):
    constant = [factor for factor in factors if not depends(factor)]
    return constant, [factor for factor in factors if depends(factor)]


def _out_of_sum(f, x, ctx):
    """``(c, Σ_i f_i)`` for ``Σ_i c·f_i`` with ``c`` free of ``i`` and of ``x``, else ``None``."""
    if not isinstance(f, Sum) or len(f.limits) != 1 or not isinstance(f.function, Mul):
        return None
    index = f.limits[0][0]
    constant, varying = _split(f.function.args, lambda factor: index in factor.free_symbols or ctx.depends(factor, x))
    if not constant or not varying:
        return None
    return constant, Sum(Mul(*varying), f.limits[0])


def constant_factor(node, ctx, sums_only=False):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    found = _out_of_sum(f, x, ctx)
    if found is not None:
        constant, inner = found
    elif sums_only or not isinstance(f, Mul):
        return None
    else:
        constant, varying = _split(f.args, lambda factor: ctx.depends(factor, x))
        if not constant or not varying:
            return None
        inner = Mul(*varying)
    # one product, so that -(1 - y_i) stays as written rather than become (y_i - 1)
    after = Mul(*constant, d(inner, x))
    marks = (Annotation(Mark.CONSTANT, Mul(*constant, evaluate=False) if len(constant) > 1 else constant[0]),)
    return local(CONSTANT_FACTOR, node, after, annotations=marks)


CONSTANT_FACTOR = Rule(
    slug="constant-factor",
    title="Constant-factor rule",
    formula=r"\partial (c f) = c\, \partial f",
    function=constant_factor,
    elementary=True,
)

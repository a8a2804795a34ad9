"""Product rule: ``∂(f·g)/∂x = ∂f/∂x·g + f·∂g/∂x``, for products of several varying factors."""

from sympy import Add, Mul

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Rule


def product(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Mul):
        return None
    factors = f.args
    if sum(1 for factor in factors if ctx.depends(factor, x)) < 2:
        return None
    terms = [
        Mul(*(d(factor, x) if position == chosen else factor for position, factor in enumerate(factors)))
        for chosen in range(len(factors))
        if ctx.depends(factors[chosen], x)
    ]
    return local(PRODUCT, node, Add(*terms))


PRODUCT = Rule(
    slug="product",
    title="Product rule",
    formula=r"\partial (f g) = g\, \partial f + f\, \partial g",
    function=product,
)

"""Sum rule: the derivative of a sum is the sum of the derivatives.

``∂(f + g)/∂x = ∂f/∂x + ∂g/∂x`` and ``∂(Σ_i f_i)/∂x = Σ_i ∂f_i/∂x``.
"""

from sympy import Add, Sum

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.sums import SumExcept
from derive.trail import Rule


def sum_rule(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if isinstance(f, Add):
        return local(SUM, node, Add(*[d(term, x) for term in f.args]))
    if isinstance(f, Sum) and len(f.limits) == 1 and f.limits[0][0] not in x.free_symbols:
        return local(SUM, node, Sum(d(f.function, x), f.limits[0]))
    if isinstance(f, SumExcept) and f.index not in x.free_symbols:
        return local(SUM, node, SumExcept(d(f.function, x), f.args[1], f.excluded))
    return None


SUM = Rule(
    slug="sum",
    title="Sum rule",
    formula=r"\partial (f + g) = \partial f + \partial g",
    function=sum_rule,
    elementary=True,
)

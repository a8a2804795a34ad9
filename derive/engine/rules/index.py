"""Index rule: ``∂Z_j/∂Z_k = δ_jk`` for independent inputs of one vector."""

from sympy import Indexed, KroneckerDelta

from derive.engine.rules.base import is_derivative, local, parts
from derive.trail import Rule


def index(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not (isinstance(f, Indexed) and isinstance(x, Indexed)) or f == x:
        return None
    if f.base != x.base or ctx.is_intermediate(f) or len(f.indices) != 1 or len(x.indices) != 1:
        return None
    return local(INDEX, node, KroneckerDelta(f.indices[0], x.indices[0]))


INDEX = Rule(
    slug="index",
    title="Index rule",
    formula=r"\partial Z_j / \partial Z_k = \delta_{jk}",
    function=index,
    elementary=True,
)

"""Factor out of a sum: ``Σ_i c·f_i = c·Σ_i f_i`` when ``c`` does not depend on the index ``i``.

A held value (a substituted lemma case, see ``derive.holding``) stays where it is
until the cancel rule has multiplied it in.
"""

from sympy import Mul, Sum, UnevaluatedExpr

from derive.engine.rules.base import local
from derive.sums import SumExcept
from derive.trail import Annotation, Mark, Rule


def _index_of(node):
    if isinstance(node, Sum) and len(node.limits) == 1:
        return node.limits[0][0]
    if isinstance(node, SumExcept):
        return node.index
    return None


def factor_out(node, ctx):
    index = _index_of(node)
    if index is None or not isinstance(node.function, Mul):
        return None
    factors = node.function.args
    movable = [f for f in factors if index not in f.free_symbols and not f.has(UnevaluatedExpr)]
    constant = movable
    varying = [factor for factor in factors if factor not in movable]
    if not constant or not varying:
        return None
    inner = node.func(Mul(*varying), *node.args[1:])
    factor = Mul(*constant)
    return local(FACTOR_OUT, node, factor * inner, annotations=(Annotation(Mark.CONSTANT, factor),))


FACTOR_OUT = Rule(
    slug="factor-out",
    title="Factor out of the sum",
    formula=r"\sum_i c f_i = c \sum_i f_i",
    function=factor_out,
    tidying=True,
)

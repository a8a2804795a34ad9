"""Vanishing terms: a sum whose every term is zero is zero, ``Σ_{i≠k} 0 = 0``.

This is where an elementwise activation differs from softmax: its Jacobian is
zero off the diagonal, so after the index split the ``i ≠ k`` terms vanish and
only the ``i = k`` term of the chain-rule sum is left.
"""

from sympy import S, Sum

from derive.engine.rules.base import local
from derive.sums import SumExcept
from derive.trail import Rule


def vanish(node, ctx):
    if not isinstance(node, (Sum, SumExcept)) or node.args[0] != S.Zero:
        return None
    return local(VANISH, node, S.Zero)


VANISH = Rule(
    slug="vanish",
    title="Vanishing terms",
    formula=r"\sum_{i \neq k} 0 = 0",
    function=vanish,
    tidying=True,
)

"""The first derivative differentiated again: ``∂²E/∂Z_k∂Z_l = ∂/∂Z_l (∂E/∂Z_k)``, with ``∂E/∂Z_k`` the known result.

The derivation of ``∂E/∂Z_k`` is run first, by the same rules, and certified on its own; the context carries
its result (``ctx.known``) and the assumptions it used.  A second derivative ``∂²f/∂x∂w`` whose first
derivative ``∂f/∂x`` is known becomes the derivative by ``w`` of that result, at ``x``'s index.
"""

from __future__ import annotations

from sympy import Derivative, Indexed

from derive.context import Definition
from derive.engine.rules.base import d, known_result, local
from derive.trail import Rule


def second_derivative(node, ctx):
    if not isinstance(node, Derivative) or [count for _, count in node.variable_count] != [1, 1]:
        return None
    (first, _), (then, _) = node.variable_count
    if not isinstance(first, Indexed):
        return None
    known = known_result(ctx, node.expr, first.base)
    if known is None:
        return None
    value, index, assumptions = known
    at = Definition(first.base, index, value).at(first.indices[0], frozenset(node.free_symbols))
    return local(SECOND_DERIVATIVE, node, d(at, then), assumptions=assumptions)


SECOND_DERIVATIVE = Rule(
    slug="second-derivative",
    title="The first derivative, differentiated again",
    formula=r"\partial^2 E / \partial Z_k \partial Z_l = \partial (\partial E / \partial Z_k) / \partial Z_l",
    function=second_derivative,
)

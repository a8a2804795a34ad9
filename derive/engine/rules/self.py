"""Derivative of a variable by itself: ``∂x/∂x = 1``."""

from sympy import S

from derive.engine.rules.base import is_derivative, local, parts
from derive.trail import Rule


def self_rule(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if f != x:
        return None
    return local(SELF, node, S.One)


SELF = Rule(
    slug="self",
    title="Derivative of a variable",
    formula=r"\partial x / \partial x = 1",
    function=self_rule,
    elementary=True,
)

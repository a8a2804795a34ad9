"""Tanh rule: ``∂tanh(u)/∂u = 1 − tanh²(u)``."""

from sympy import tanh

from derive.engine.rules.base import elementary, local
from derive.trail import Rule


def tanh_rule(node, ctx):
    x = elementary(node, tanh)
    return None if x is None else local(TANH, node, 1 - tanh(x) ** 2)


TANH = Rule(
    slug="tanh",
    title="Tanh rule",
    formula=r"\partial \tanh u / \partial u = 1 - \tanh^2 u",
    function=tanh_rule,
    elementary=True,
)

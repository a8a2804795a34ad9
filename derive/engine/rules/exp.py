"""Exp rule: ``∂e^u/∂u = e^u``."""

from sympy import exp

from derive.engine.rules.base import elementary, local
from derive.trail import Rule


def exp_rule(node, ctx):
    x = elementary(node, exp)
    return None if x is None else local(EXP, node, exp(x))


EXP = Rule(
    slug="exp",
    title="Exp rule",
    formula=r"\partial e^u / \partial u = e^u",
    function=exp_rule,
    elementary=True,
)

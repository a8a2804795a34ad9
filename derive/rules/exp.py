"""Exp rule: ``∂e^u/∂u = e^u``."""

from sympy import exp

from derive.rules.base import elementary, local
from derive.trail import Rule


def exp_rule(node, ctx):
    x = elementary(node, exp)
    return None if x is None else local(Rule.EXP, node, exp(x))

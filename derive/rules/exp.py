"""Exp rule: ``∂e^u/∂u = e^u``."""

from sympy import exp

from derive.rules.base import is_derivative, local, parts
from derive.trail import Rule


def exp_rule(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, exp) or f.args[0] != x:
        return None
    return local(Rule.EXP, node, f)

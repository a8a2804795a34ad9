"""Tanh rule: ``∂tanh(u)/∂u = 1 − tanh²(u)``."""

from sympy import tanh

from derive.rules.base import is_derivative, local, parts
from derive.trail import Rule


def tanh_rule(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, tanh) or f.args[0] != x:
        return None
    return local(Rule.TANH, node, 1 - tanh(x) ** 2)

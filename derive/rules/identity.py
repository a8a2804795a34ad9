"""Derivative of a variable by itself: ``∂x/∂x = 1``."""

from sympy import S

from derive.rules.base import is_derivative, local, parts
from derive.trail import Rule


def identity(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if f != x:
        return None
    return local(Rule.SELF, node, S.One)

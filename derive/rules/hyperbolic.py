"""Hyperbolic rules: ``∂sinh(u)/∂u = cosh(u)`` and ``∂cosh(u)/∂u = sinh(u)``."""

from sympy import cosh, sinh

from derive.rules.base import elementary, local
from derive.trail import Rule


def sinh_rule(node, ctx):
    x = elementary(node, sinh)
    return None if x is None else local(Rule.SINH, node, cosh(x))


def cosh_rule(node, ctx):
    x = elementary(node, cosh)
    return None if x is None else local(Rule.COSH, node, sinh(x))

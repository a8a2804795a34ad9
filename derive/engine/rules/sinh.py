"""Sinh rule: ``∂sinh(u)/∂u = cosh(u)``."""

from sympy import cosh, sinh

from derive.engine.rules.base import elementary, local
from derive.trail import Rule


def sinh_rule(node, ctx):
    x = elementary(node, sinh)
    return None if x is None else local(SINH, node, cosh(x))


SINH = Rule(
    slug="sinh",
    title="Sinh rule",
    formula=r"\partial \sinh u / \partial u = \cosh u",
    function=sinh_rule,
    elementary=True,
)

"""Cosh rule: ``∂cosh(u)/∂u = sinh(u)``."""

from sympy import cosh, sinh

from derive.engine.rules.base import elementary, local
from derive.trail import Rule


def cosh_rule(node, ctx):
    x = elementary(node, cosh)
    return None if x is None else local(COSH, node, sinh(x))


COSH = Rule(
    slug="cosh",
    title="Cosh rule",
    formula=r"\partial \cosh u / \partial u = \sinh u",
    function=cosh_rule,
    elementary=True,
)

"""Log rule: ``∂ln(u)/∂u = 1/u``."""

from sympy import log

from derive.engine.rules.base import elementary, local
from derive.trail import Rule


def log_rule(node, ctx):
    x = elementary(node, log)
    return None if x is None else local(LOG, node, 1 / x)


LOG = Rule(
    slug="log",
    title="Log rule",
    formula=r"\partial \ln u / \partial u = 1/u",
    function=log_rule,
    elementary=True,
)

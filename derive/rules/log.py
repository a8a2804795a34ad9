"""Log rule: ``∂ln(u)/∂u = 1/u``."""

from sympy import log

from derive.rules.base import is_derivative, local, parts
from derive.trail import Rule


def log_rule(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, log) or f.args[0] != x:
        return None
    return local(Rule.LOG, node, 1 / x)

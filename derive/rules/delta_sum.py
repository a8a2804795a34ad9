"""Sifting by the Kronecker delta: ``Σ_j f_j δ_jk = f_k`` for ``k`` inside the summation range."""

from sympy import KroneckerDelta, Mul, Sum

from derive.rules.base import local
from derive.trail import Rule


def _delta_partner(factor, index):
    if isinstance(factor, KroneckerDelta) and index in factor.args:
        other = factor.args[1] if factor.args[0] == index else factor.args[0]
        return None if other == index else other
    return None


def delta_sum(node, ctx):
    if not isinstance(node, Sum) or len(node.limits) != 1:
        return None
    index = node.limits[0][0]
    factors = Mul.make_args(node.function)
    for position, factor in enumerate(factors):
        partner = _delta_partner(factor, index)
        if partner is not None:
            rest = Mul(*(f for p, f in enumerate(factors) if p != position))
            return local(Rule.DELTA_SUM, node, rest.xreplace({index: partner}))
    return None

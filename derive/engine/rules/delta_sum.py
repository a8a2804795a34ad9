"""Sifting by the Kronecker delta: ``Σ_j f_j δ_jk = f_k`` for ``k`` inside the summation range (0 outside)."""

from sympy import KroneckerDelta, Mul, S, Sum

from derive.engine.rules.base import local
from derive.trail import Rule


def _delta_partner(factor, index):
    if isinstance(factor, KroneckerDelta) and index in factor.args:
        other = factor.args[1] if factor.args[0] == index else factor.args[0]
        return None if other == index else other
    return None


def in_range(partner, lower, upper, ctx) -> bool | None:
    """Whether ``partner`` lies in ``[lower, upper]``: decided for numbers, for a free index over the
    full class range ``1..H`` (every index of a problem runs over the classes), and for one whose range
    the context states (a hidden unit's, ``1..M``); else unknown."""
    if partner.is_Integer and lower.is_Integer and upper.is_Integer:
        return bool(lower <= partner <= upper)
    if lower == 1 and ctx.classes is not None and upper == ctx.classes and partner.is_Symbol and partner.is_integer:
        return True
    if lower == 1 and (partner, upper) in ctx.ranges:  # an index over the hidden units, 1..M
        return True
    return None


def delta_sum(node, ctx):
    if not isinstance(node, Sum) or len(node.limits) != 1:
        return None
    index, lower, upper = node.limits[0]
    factors = Mul.make_args(node.function)
    for position, factor in enumerate(factors):
        partner = _delta_partner(factor, index)
        if partner is None or index in partner.free_symbols:
            continue
        inside = in_range(partner, lower, upper, ctx)
        if inside is None:
            continue
        rest = Mul(*(f for p, f in enumerate(factors) if p != position))
        return local(DELTA_SUM, node, rest.xreplace({index: partner}) if inside else S.Zero)
    return None


DELTA_SUM = Rule(
    slug="delta-sum",
    title="Sifting by the Kronecker delta",
    formula=r"\sum_j f_j \delta_{jk} = f_k",
    function=delta_sum,
)

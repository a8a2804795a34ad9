"""Lemma: a hidden unit's derivative, ``∂h_n/∂a_m = g'(a_n) δ_nm``, derived in substeps by the same rules.

``h_n = g(a_n)`` is elementwise.  Its derivative is derived on its own, with ``h``'s definition alone
(the inputs ``a`` are its independent variables there), by the lemma strategy the output layer uses
(``subderive``); the last substep states the two cases.  Unlike the output layer's lemma the value is not
held: the Kronecker delta it carries is sifted at once, so a value with the delta in every term is written
``f·δ`` (``delta_outside``).
"""

from sympy import Dummy, Indexed, KroneckerDelta, Mul, Sum, expand

from derive.context import Context
from derive.engine.rules.base import is_derivative, local, parts
from derive.engine.rules.cases import cases
from derive.trail import Rule


def unit_lemma(node, ctx, subderive, state_cases=cases):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Indexed) or not isinstance(x, Indexed):
        return None
    definition = ctx.definition_of(f.base)
    if definition is None or definition.size is None or definition.body.has(Sum) or x.base == f.base:
        return None
    if {n.base for n in definition.body.atoms(Indexed)} != {x.base}:
        return None  # not an elementwise function of x's units
    alone = Context((definition,), frozenset({f.base}), (), definition.size)
    steps, value = subderive(node, alone)
    if not steps:
        return None
    statement = state_cases(value, alone)
    substeps = tuple(steps) + ((statement,) if statement is not None else ())
    return local(UNIT_LEMMA, node, delta_outside(value), substeps=substeps)


def delta_outside(value):
    """``f·δ`` for a value linear in its one Kronecker delta (``(1 + e^{-a})δ + a e^{-a} δ``), so that the
    sum it lands in can be sifted; any other value as it is."""
    deltas = value.atoms(KroneckerDelta)
    if len(deltas) != 1:
        return value
    delta, = deltas
    t = Dummy()
    linear = value.xreplace({delta: t})
    if linear.xreplace({t: 0}) != 0 or expand(linear - t * linear.xreplace({t: 1})) != 0:
        return value
    return Mul(linear.xreplace({t: 1}), delta)


UNIT_LEMMA = Rule(
    slug="unit-lemma",
    title="Lemma: the hidden unit's derivative",
    formula=r"\partial h_n / \partial a_m = g'(a_n)\, \delta_{nm}",
    function=unit_lemma,
    pivotal=True,
    kept_in_brief=True,
    lemma="derived",
)

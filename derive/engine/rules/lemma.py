"""Lemma: replace ``∂O_i/∂Z_k`` by its value, derived in substeps by the same rules.

The sub-derivation writes the activation's definition out, differentiates it
rule by rule and rewrites the result in the outputs; its last substep states the
two cases ``i = k`` and ``i ≠ k`` (``state_cases``: the cases rule, as the strategy
passes it).  The value is *held* so that the reader sees it multiply the
surrounding factors before anything cancels.
"""

from sympy import Indexed

from derive.holding import hold
from derive.engine.rules.base import is_derivative, local, parts
from derive.engine.rules.cases import cases
from derive.trail import Rule


def lemma(node, ctx, subderive, state_cases=cases):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    if not isinstance(f, Indexed) or not ctx.is_intermediate(f) or f.base == getattr(x, "base", None):
        return None
    steps, value = subderive(node, ctx.with_inline(f.base))
    if not steps:
        return None
    statement = state_cases(value, ctx)
    substeps = tuple(steps) + ((statement,) if statement is not None else ())
    return local(LEMMA, node, hold(value), substeps=substeps)


LEMMA = Rule(
    slug="lemma",
    title="Lemma",
    formula=r"\partial O_i / \partial Z_k",
    function=lemma,
    states_result=True,
    pivotal=True,
    kept_in_brief=True,
    lemma="derived",
)

"""``derive_second``: the second derivative ``∂²E/∂Z_k∂Z_l``, derived from the first.

The derivation of ``∂E/∂Z_k`` (already derived and certified) becomes a result the rules may cite: the
``second-derivative`` rule turns ``∂²E/∂Z_k∂Z_l`` into ``∂/∂Z_l`` of that result, and the output layer's
own rules (sum, constant factor, product, quotient, chain, the activation's lemma with its Kronecker delta,
sifting) differentiate it.  Nothing here knows what the answer is.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from sympy import Derivative

from derive.context import Context
from derive.engine.derivation import gradient_components
from derive.engine.formulation import formulate
from derive.engine.hessian_form import hessian_form
from derive.engine.network import assumptions_used
from derive.engine.rules.base import d
from derive.engine.rules.cases import cases
from derive.engine.rules.chain import chain
from derive.engine.rules.common_derivative import common_derivative
from derive.engine.rules.lemma import lemma
from derive.engine.rules.second_derivative import second_derivative
from derive.engine.strategy import (
    DIFFERENTIATE, DIFFERENTIATE_AFTER_CHAIN, ELEMENTARY, MAIN_SIMPLIFY, Phase, Strategy, run,
)
from derive.problem import Problem, ProblemError, UnsupportedError
from derive.symbols import FREE_INDEX, INPUT, SECOND_INDEX
from derive.syntax import user_syntax
from derive.trail import SecondTrail, Trail

MAX_SECOND_CLASSES = 100  # --H with --second: the Hessian's H² entries are written out in the JSON


def _same(rule):
    return rule


def second_phases(wrap=_same) -> tuple[Phase, ...]:
    """The first derivative cited first, then the output layer's differentiation rules, its lemmas, and its
    simplification (sifting, the split at ``i = l`` of a sum whose terms hold ``δ_il``, cancelling, collecting)."""
    lemmas = Strategy(wrap)
    chain_rule = partial(chain, outer_rules=tuple(wrap(rule) for rule in ELEMENTARY))
    differentiate = tuple(wrap(rule) for rule in DIFFERENTIATE + (chain_rule,) + DIFFERENTIATE_AFTER_CHAIN)
    activation_lemma = partial(lemma, subderive=lemmas.lemma, state_cases=wrap(cases))
    return (
        Phase("first derivative", (wrap(second_derivative),), node_major=True),
        Phase("differentiate", differentiate, node_major=True),
        Phase("lemmas", (wrap(common_derivative), wrap(activation_lemma)), node_major=True),
        Phase("simplify", tuple(wrap(rule) for rule in MAIN_SIMPLIFY), node_major=False),
    )


def check_second_size(classes: int | None) -> None:
    if classes is not None and classes > MAX_SECOND_CLASSES:
        raise ProblemError(f"--second needs --H at most {MAX_SECOND_CLASSES} (the Hessian has H*H entries), got {classes}")


def derive_second(problem: Problem, output: Trail, wrap=_same) -> SecondTrail:
    """``∂²E/∂Z_k∂Z_l``, citing ``output`` (the certified derivation of ``∂E/∂Z_k``)."""
    check_second_size(problem.classes)
    setup = formulate(problem)
    loss = setup.start.expr
    ctx = setup.context
    ctx = Context(ctx.definitions, ctx.inline, ctx.assumptions, ctx.classes,
                  known=((d(loss, INPUT[FREE_INDEX]), output.result, assumptions_used(output.steps)),))
    start = Derivative(loss, INPUT[FREE_INDEX], INPUT[SECOND_INDEX], evaluate=False)
    steps, result = run(start, ctx, second_phases(wrap))
    unfinished = sorted(result.atoms(Derivative), key=str)
    if unfinished:
        raise UnsupportedError(f"no rule can finish the second derivative {user_syntax(unfinished[0])}")
    trail = replace(output, start=start, steps=tuple(steps), result=result, gradient=None, verdict=None)
    hessian = None
    if problem.classes is not None:
        columns = [gradient_components(result.xreplace({SECOND_INDEX: m}), ctx, problem.classes)
                   for m in range(1, problem.classes + 1)]
        hessian = tuple(tuple(column[k] for column in columns) for k in range(problem.classes))
    return SecondTrail(output=output, trail=trail, form=hessian_form(result, ctx, output.targets), hessian=hessian)

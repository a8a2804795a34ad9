"""The order in which rules are tried, as data, and the loop that applies them.

A derivation runs in phases.  On every round the phases are tried in order and
the first rule that applies anywhere is applied once; the round repeats until no
rule applies (a fixpoint) or the step limit is reached.

* node-major phases look at the outermost node first and try every rule on it,
  the way a lecturer works from the outside in;
* rule-major phases try their first rule everywhere before their second, so the
  simplification order is exactly the order listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterator

from sympy import Basic

from derive.engine.rules.assumption import assumption
from derive.engine.rules.cancel_factors import cancel_factors
from derive.engine.rules.cases import cases
from derive.engine.rules.chain import chain
from derive.engine.rules.collect import collect
from derive.engine.rules.common_derivative import common_derivative
from derive.engine.rules.common_factor import common_factor
from derive.engine.rules.constant_factor import constant_factor
from derive.engine.rules.cosh import cosh_rule
from derive.engine.rules.definition import definition
from derive.engine.rules.delta_sum import delta_sum
from derive.engine.rules.exp import exp_rule
from derive.engine.rules.expand_products import expand_products
from derive.engine.rules.factor_gap import factor_gap
from derive.engine.rules.factor_out import factor_out
from derive.engine.rules.fold import fold
from derive.engine.rules.independent import independent
from derive.engine.rules.index import index
from derive.engine.rules.index_split import index_split
from derive.engine.rules.lemma import lemma
from derive.engine.rules.log import log_rule
from derive.engine.rules.power import power
from derive.engine.rules.product import product
from derive.engine.rules.quotient import quotient
from derive.engine.rules.recognise import recognise
from derive.engine.rules.rejoin import rejoin
from derive.engine.rules.self import self_rule
from derive.engine.rules.sinh import sinh_rule
from derive.engine.rules.sum import sum_rule
from derive.engine.rules.tanh import tanh_rule
from derive.trail import Step

STEP_LIMIT = 200

ELEMENTARY = (log_rule, exp_rule, tanh_rule, sinh_rule, cosh_rule, power)


@dataclass(frozen=True)
class Phase:
    name: str
    rules: tuple[Callable, ...]
    node_major: bool


class StepLimitError(RuntimeError):
    """A strategy did not reach a fixpoint within the step limit."""


def preorder(expr: Basic) -> Iterator[Basic]:
    yield expr
    for arg in expr.args:
        yield from preorder(arg)


def replace_first(expr: Basic, old: Basic, new: Basic) -> Basic:
    """``expr`` with the first occurrence of ``old`` in preorder (the one a phase found) rewritten to ``new``.

    Unlike ``xreplace``, which rewrites every equal subtree, this rewrites one position: a rule is
    applied to one occurrence per step.
    """
    if expr == old:
        return new
    for position, arg in enumerate(expr.args):
        if arg.has(old):
            rewritten = replace_first(arg, old, new)
            return expr.func(*expr.args[:position], rewritten, *expr.args[position + 1:])
    return expr


def first_match(expr: Basic, phase: Phase, ctx) -> Step | None:
    if phase.node_major:
        candidates = ((node, rule) for node in preorder(expr) for rule in phase.rules)
    else:
        candidates = ((node, rule) for rule in phase.rules for node in preorder(expr))
    for node, rule in candidates:
        step = rule(node, ctx)
        if step is not None:
            return step
    return None


def run(expr: Basic, ctx, phases: tuple[Phase, ...], limit: int = STEP_LIMIT) -> tuple[list[Step], Basic]:
    """Apply ``phases`` to ``expr`` until nothing applies; return the steps and the final expression."""
    steps: list[Step] = []
    for _ in range(limit):
        found = next((step for phase in phases if (step := first_match(expr, phase, ctx)) is not None), None)
        if found is None:
            return steps, expr
        after = replace_first(expr, found.before, found.after)
        steps.append(
            Step(
                rule=found.rule,
                before=expr,
                after=after,
                assumptions=found.assumptions,
                annotations=found.annotations,
                substeps=found.substeps,
                focus=None if found.before == expr else (found.before, found.after),
            )
        )
        expr = after
    raise StepLimitError(f"no fixpoint after {limit} steps; last expression: {expr}")


DIFFERENTIATE = (independent, self_rule, index, constant_factor, sum_rule) + ELEMENTARY
DIFFERENTIATE_AFTER_CHAIN = (quotient, product)
LEMMA_SIMPLIFY = (delta_sum, fold)
MAIN_SIMPLIFY = (
    delta_sum, index_split, cancel_factors, factor_out, assumption, rejoin, expand_products, collect, common_factor,
    factor_gap,
)


def _same(rule: Callable) -> Callable:
    return rule


class Strategy:
    """The phases for a gradient and for the lemmas it needs.

    ``wrap`` is applied to every rule (tests use it to break one rule on purpose
    and check that the certifier notices); it defaults to leaving rules alone.
    A strategy holds no state beyond its phases.
    """

    def __init__(self, wrap: Callable[[Callable], Callable] = _same):
        self.wrap = wrap
        self.lemma_phases = self._phases(LEMMA_SIMPLIFY)
        self.main_phases = self._phases(MAIN_SIMPLIFY)

    def _phases(self, simplify: tuple[Callable, ...]) -> tuple[Phase, ...]:
        w = self.wrap
        chain_rule = partial(chain, outer_rules=tuple(w(rule) for rule in ELEMENTARY))
        differentiate = tuple(w(rule) for rule in DIFFERENTIATE + (chain_rule,) + DIFFERENTIATE_AFTER_CHAIN)
        return (
            Phase("define", (w(definition),), node_major=False),
            Phase("tidy", (w(partial(constant_factor, sums_only=True)), w(factor_out)), node_major=False),
            Phase("differentiate", differentiate, node_major=True),
            Phase("lemmas", (w(common_derivative), w(partial(lemma, subderive=self.lemma, state_cases=w(cases))),), node_major=True),
            Phase("simplify", tuple(w(rule) for rule in simplify), node_major=False),
        )

    def lemma(self, expr: Basic, ctx) -> tuple[list[Step], Basic]:
        """The sub-derivation of an activation's derivative, e.g. ``∂O_i/∂Z_k``."""
        return run(expr, ctx, self.lemma_phases)

    def gradient(self, expr: Basic, ctx) -> tuple[list[Step], Basic]:
        """The main derivation of ``∂E/∂Z_k``."""
        return run(expr, ctx, self.main_phases)

    def recognise(self, result: Basic, ctx) -> Step | None:
        """A last step to a simpler form the finished ``result`` equals by value (``O_k − y_k``, 0), if any."""
        return self.wrap(recognise)(result, ctx)


DEFAULT = Strategy()


def derive_lemma(expr: Basic, ctx) -> tuple[list[Step], Basic]:
    return DEFAULT.lemma(expr, ctx)


def derive_gradient(expr: Basic, ctx, strategy: Strategy = DEFAULT) -> tuple[list[Step], Basic]:
    return strategy.gradient(expr, ctx)


MAIN_PHASES = DEFAULT.main_phases

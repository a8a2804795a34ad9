"""Soundness under mutation: break each rule in turn and the certifier must notice, every time.

A mutation wraps every rule of a strategy; when the wrapped rule produces a step
of the targeted kind, the step is falsified (sign flipped, a term dropped, the
lemma's cases swapped, or an assumption left unstated).  The derivation then
runs as usual and must be rejected by ``certify``.  Mutations that never fire,
or that stop the engine itself, are not counted as made.

The rules mutated are those the ``SUBJECTS`` use: catalogue and user problems, and one scalar
derivation for the rule no problem reaches (``∂x/∂x``, since an activation may not name ``z_k``).
Every rule of the registry must be among them (``tests/test_registry.py`` checks it quickly;
the slow test here checks that each one really had a mutation made and caught).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache, partial

import pytest

from sympy import Add, Derivative, Indexed, KroneckerDelta, Mul, Piecewise, S, Sum, Symbol, UnevaluatedExpr, exp, log

from derive.certify import CertificationError, certify
from derive.certify.network import certify_network
from derive.engine.hidden_layer import hidden_layer
from derive.engine.network import derive_network
from derive.engine.second import derive_second
from derive.context import Context
from derive.engine.derivation import derive
from derive.parse import parse_expression
from derive.problem import Problem
from derive.engine.rules.registry import RULES
from derive.engine.strategy import DEFAULT, Strategy, StepLimitError
from derive.sums import SumExcept
from derive.symbols import CLASSES, TARGET
from derive.trail import NetworkTrail, Rule, Trail

PROBLEMS = [
    Problem(),
    Problem(classes=3),
    Problem("softmax", "cross-entropy", targets="any", classes=3),
    Problem("sigmoid", "binary-cross-entropy", classes=2),
    Problem("tanh", "sum-of-squares", classes=2),
    Problem("exp", "poisson", classes=2),
    Problem("sigmoid", "poisson", classes=2),  # the output error factored out of the result
    # a user activation: sinh, cosh, the product rule and common factors
    Problem(
        "custom", "sum-of-squares", classes=2, name="sinh-cosh",
        activation_expr=parse_expression("sinh(z[i])*cosh(z[i])", role="activation"),
    ),
]

# a softmax shifted by an input: its result is O_k - y_k by value only, so the recognise step ends it.
# Only that step is mutated here: the shift's δ_1k terms cancel, so swapping the cases of one of them
# (in the cancel or expand step) leaves the value unchanged, and the certifier rightly accepts it.
SHIFTED_SOFTMAX = Problem(
    "custom", "cross-entropy", targets="one-hot", name="shifted-softmax",
    activation_expr=parse_expression("exp(z[i]-z[1])/sum(exp(z[j]-z[1]), j)", role="activation"),
)

x = Symbol("x")


def scalar_derivation(function, strategy: Strategy = DEFAULT) -> Trail:
    """``∂function/∂x`` for a plain scalar ``x``, by ``strategy``, as a trail the certifier checks."""
    start = Derivative(function, x, evaluate=False)
    steps, result = strategy.gradient(start, Context(classes=CLASSES))
    return Trail(
        activation="scalar", loss="scalar", classes=None, targets="any", start=start, steps=tuple(steps), result=result,
        assumptions=(), definitions=(),
    )


def network_derivation(problem: Problem, wrt: str, strategy: Strategy = DEFAULT, hidden: str | None = None):
    """``∂E/∂W_kj`` (or b, x, and V through a hidden layer) past the output layer, its rules wrapped as
    ``strategy`` wraps them; the output layer's own derivation, which it cites, is the certified one."""
    layer = None if hidden is None else hidden_layer(hidden, None, 2)
    return derive_network(problem, wrt, 2, certified_output(problem), wrap=strategy.wrap, hidden=layer)


@lru_cache(maxsize=None)
def certified_output(problem: Problem) -> Trail:
    return certify(derive(problem))


NETWORK_PROBLEM = Problem("sigmoid", "sum-of-squares", classes=2)


def second_derivation(problem: Problem, strategy: Strategy = DEFAULT) -> Trail:
    """``∂²E/∂Z_k∂Z_l`` (``--second``), its rules wrapped as ``strategy`` wraps them, as the trail ``certify``
    checks (steps, and the result against sympy.diff of the loss differentiated twice)."""
    return derive_second(problem, certified_output(problem), wrap=strategy.wrap).trail


def certify_any(trail) -> None:
    """The certifier for the trail at hand: the network's for a derivation past the output layer."""
    (certify_network if isinstance(trail, NetworkTrail) else certify)(trail)


# what is derived, as a function of the strategy, and the slugs of the rules to mutate in it (None: every
# rule it uses): each problem, the shifted softmax, and e^{x²} ln(x² + x), which reaches ∂x/∂x
SUBJECTS = {problem.slug: (partial(derive, problem), None) for problem in PROBLEMS} | {
    SHIFTED_SOFTMAX.slug: (partial(derive, SHIFTED_SOFTMAX), {"recognise"}),
    "scalar e^(x^2) ln(x^2+x)": (partial(scalar_derivation, exp(x**2) * log(x**2 + x)), None),
} | {f"network --wrt {wrt}": (partial(network_derivation, NETWORK_PROBLEM, wrt), None) for wrt in ("W", "b", "x")} | {
    "network --hidden tanh --wrt V": (partial(network_derivation, NETWORK_PROBLEM, "V", hidden="tanh"), None),
} | {f"second {problem.slug}": (partial(second_derivation, problem), None)
     for problem in (Problem(classes=3), Problem("sigmoid", "sum-of-squares"))}


def mutation_targets(derivation, only) -> list[Rule]:
    """The rules mutated in a subject: those its derivation uses, or the named ones among them."""
    return [rule for rule in rules_used(derivation()) if only is None or rule.slug in only]


def flip_sign(step):
    return replace(step, after=S.One if step.after == 0 else -step.after)


def _plainly_zero(term) -> bool:
    """A term that is zero on its face (``0``, a sum of zeros): dropping it changes nothing."""
    if isinstance(term, Mul):
        return any(_plainly_zero(factor) for factor in term.args)
    if isinstance(term, Derivative):  # the derivative of a target alone (∂(−y_k)/∂Z_l, in a second derivative): 0
        return {node.base for node in term.expr.atoms(Indexed)} <= {TARGET} and not term.expr.has(*term.variables)
    return term == 0 or (isinstance(term, (Sum, SumExcept)) and term.args[0] == 0)


def drop_term(step):
    """Leave out one term (or factor) that is not plainly zero."""
    after = step.after
    if isinstance(after, UnevaluatedExpr):
        after = after.args[0]
    if isinstance(after, (Add, Mul)) and len(after.args) > 1:
        droppable = [arg for arg in after.args if not _plainly_zero(arg)]
        if droppable:
            rest = list(after.args)
            rest.remove(droppable[0])
            return replace(step, after=after.func(*rest))
    return replace(step, after=after + 1)


def swap_cases(step):
    """δ_ik ↔ 1 − δ_ik: the i = k value goes to the i ≠ k terms and back."""
    deltas = step.after.atoms(KroneckerDelta)
    if deltas:
        return replace(step, after=step.after.xreplace({d: 1 - d for d in deltas}))
    if isinstance(step.after, Piecewise):
        (first, second) = step.after.args
        return replace(step, after=Piecewise((second.expr, first.cond), (first.expr, True)))
    return None


def unstate_assumption(step):
    if not step.assumptions:
        return None
    return replace(step, assumptions=(), substeps=tuple(replace(s, assumptions=()) for s in step.substeps))


MUTATIONS = {"flip-sign": flip_sign, "drop-term": drop_term, "swap-cases": swap_cases, "unstate-assumption": unstate_assumption}


def mutated_strategy(target: Rule, mutate):
    fired = []

    def wrap(rule):
        def broken(node, ctx, *args, **kwargs):
            step = rule(node, ctx, *args, **kwargs)
            if step is None or step.rule is not target or fired:
                return step
            changed = mutate(step)
            if changed is None or changed == step:
                return step
            fired.append(True)
            return changed

        return broken

    return Strategy(wrap), fired


def rules_used(trail):
    def walk(steps):
        for step in steps:
            yield step.rule
            yield from walk(step.substeps)

    return sorted(set(walk(trail.steps)), key=lambda rule: rule.slug)


@pytest.mark.slow  # about 60 s: CI runs it in the slow tier (`pytest -m slow`)
def test_every_mutation_of_every_rule_is_caught(capsys):
    made, caught, escaped, mutated = 0, 0, [], set()
    for subject, (derivation, only) in SUBJECTS.items():
        for target in mutation_targets(derivation, only):
            for name, mutate in MUTATIONS.items():
                strategy, fired = mutated_strategy(target, mutate)
                try:
                    trail = derivation(strategy)
                except StepLimitError:
                    continue  # the engine itself stopped: no trail to certify
                if not fired:
                    continue
                made += 1
                mutated.add(target)
                try:
                    certify_any(trail)
                except CertificationError:
                    caught += 1
                else:
                    escaped.append(f"{subject}: {target.slug} / {name}")
    with capsys.disabled():
        print(f"\nmutations caught by the certifier: {caught} of {made}")
    assert made >= 60
    assert escaped == [], escaped
    assert [rule.slug for rule in RULES if rule not in mutated] == [], "rules of the registry never mutated"

"""The certifier's fast evaluation is the same evaluation, only faster.

``Evaluator`` remembers, within one certification run, values and symbolic
pieces keyed on content (an expression, H and the values of the indices it
depends on).  These tests replay every value a real certification computes and
check it three ways: with the caches, with every cache dropped before each value
(``cache=False``), and by ``ReferenceEvaluator`` (the original method: sums
expanded, definitions substituted, ``sympy.diff`` of the whole, ``evalf``).  They
do so on the flagship trail and on deliberately wrong steps.  No timing here.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from sympy import Derivative, Eq, Indexed, Piecewise, Pow, Sum, Symbol, UnevaluatedExpr, diff, exp, log, sqrt

import derive.certify.derivatives as derivatives_module
from derive.certify.arithmetic import FLOATS
from derive.certify.numbers import sympy_number
from derive.certify import (
    CertificationError,
    Certifier,
    Evaluator,
    ReferenceEvaluator,
    World,
    agree_numbers,
    mpf_of,
    random_values,
    certify,
)
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.sums import SumExcept
from derive.symbols import CLASSES as H
from derive.symbols import FREE_INDEX as k
from derive.symbols import INNER_INDEX as j
from derive.symbols import INPUT as z
from derive.symbols import OUTPUT as o
from derive.symbols import SUM_INDEX as i
from derive.symbols import TARGET as y
from derive.engine.rules import registry
from derive.trail import Step, Trail
from trail_edits import position, tamper

SOFTMAX = Eq(o[i], exp(z[i]) / Sum(exp(z[j]), (j, 1, H)))
REFERENCE_UP_TO = 3  # the reference method is slow: compare with it where H <= 3


def recorded(trail: Trail) -> tuple[list, BaseException | None]:
    """Certify ``trail``, keeping every (arithmetic, expression, point, value) either evaluator computed."""
    calls = []
    certifier = Certifier(trail)
    for evaluator in (certifier.floats, certifier.evaluator):

        def keeping(expr, world, number=evaluator.number, arithmetic=evaluator.arithmetic):
            value = number(expr, world)
            calls.append((arithmetic, expr, world, value))
            return value

        evaluator.number = keeping
    failure = None
    try:
        certifier.chain()
        for step in trail.steps:
            certifier.step(step)
        certifier.result()
    except CertificationError as error:
        failure = error
    assert certifier.floats.fallbacks == certifier.evaluator.fallbacks == 0, "the fast path should cover the flagship trail"
    return calls, failure


def fresh_world(world: World) -> World:
    return World(world.classes, dict(world.indices), world.values)


def reference_number(definitions, expr, world):
    value = ReferenceEvaluator(definitions).value(expr, World(world.classes, world.indices, dict(world.values.items())))
    if value.is_number and value.is_extended_real:
        return mpf_of(value)
    return value if value.is_number else None


def assert_same_values(trail: Trail, calls: list) -> None:
    """Each value as computed again without caches, in 193 bits, and (H <= 3) by the reference method.

    A float value must be the 193-bit value but for rounding; a float evaluation may
    also decline (``None``), which sends the point to 193 bits.
    """
    exact = Evaluator(trail.definitions, cache=False)
    uncached_floats = Evaluator(trail.definitions, cache=False, arithmetic=FLOATS)
    for arithmetic, expr, world, value in calls:
        truth = exact.number(expr, fresh_world(world))
        if arithmetic is FLOATS:
            assert value == uncached_floats.number(expr, fresh_world(world)), f"cached != uncached floats for {expr}"
            if value is not None:  # the same value, but for float rounding (the terms are of size ~1)
                exact_value = float(sympy_number(truth))
                assert abs(value - exact_value) <= 1e-9 * max(1.0, abs(exact_value)), f"float {value} != {truth} for {expr}"
        else:
            assert agree_numbers(value, truth), f"cached {value} != uncached {truth} for {expr} at H={world.classes}"
        if world.classes <= REFERENCE_UP_TO:
            reference = reference_number(trail.definitions, expr, world)
            assert agree_numbers(truth, reference), f"fast {truth} != reference {reference} for {expr} at H={world.classes}"


SLOW = pytest.mark.slow  # the full cross-check of the evaluators runs in CI's slow tier (`pytest -m slow`)


@pytest.fixture(scope="module", params=[pytest.param(None, marks=SLOW), pytest.param(3, marks=SLOW), pytest.param(12, marks=SLOW)],
                ids=["symbolic-H", "H=3", "H=12"])
def trail(request):
    return derive(Problem(classes=request.param))


def test_cached_uncached_and_reference_agree_on_the_flagship_trail(trail):
    calls, failure = recorded(trail)
    assert failure is None
    assert len(calls) > 100
    assert_same_values(trail, calls)


def flipped_sign(trail):
    n = len(trail.steps) - 1
    return tamper(trail, n, -trail.steps[n].after)


def dropped_terms(trail):
    n = position(trail, registry.INDEX_SPLIT)
    after = trail.steps[n].after
    return tamper(trail, n, after.xreplace({node: 0 for node in after.atoms(SumExcept)}))


def wrong_case(trail):
    n = position(trail, registry.INDEX_SPLIT)
    after = trail.steps[n].after
    (others,) = after.atoms(SumExcept)
    body = others.function.xreplace({UnevaluatedExpr(-o[i] * o[k]): UnevaluatedExpr(o[i] * (1 - o[i]))})
    return tamper(trail, n, after.xreplace({others: SumExcept(body, others.args[1], others.excluded)}))


def swapped_cases(trail):
    n = position(trail, registry.LEMMA)
    lemma = trail.steps[n]
    cases = lemma.substeps[-1]
    first, second = cases.after.args
    swapped = Piecewise((second.expr, first.cond), (first.expr, True))
    steps = list(trail.steps)
    steps[n] = replace(lemma, substeps=lemma.substeps[:-1] + (replace(cases, after=swapped),))
    return replace(trail, steps=tuple(steps))


def doubled_lemma(trail):
    """The lemma's result times two: a sum of derivatives against a sum of outputs."""
    n = position(trail, registry.LEMMA)
    return tamper(trail, n, 2 * trail.steps[n].after)


def unstated_assumption(trail):
    n = position(trail, registry.ASSUMPTION)
    steps = list(trail.steps)
    steps[n] = replace(steps[n], assumptions=(), substeps=())
    return replace(trail, steps=tuple(steps))


def wrong_result(trail):
    return replace(trail, steps=trail.steps[:-1] + (replace(trail.steps[-1], after=o[k] * 2 - trail.result),), result=o[k] * 2 - trail.result)


WRONG = [flipped_sign, dropped_terms, wrong_case, swapped_cases, doubled_lemma, unstated_assumption, wrong_result]


@pytest.mark.slow  # about 20 s each; the fast tier keeps the untouched flagship at H = 3
@pytest.mark.parametrize("break_it", WRONG, ids=lambda f: f.__name__)
def test_cached_uncached_and_reference_agree_on_wrong_steps(break_it):
    for classes in (None, 3):
        wrong = break_it(derive(Problem(classes=classes)))
        calls, failure = recorded(wrong)
        assert failure is not None, "the certifier must still be able to fail"
        assert_same_values(wrong, calls)
        with pytest.raises(CertificationError):
            certify(wrong)


def small_trail(start, definitions=(SOFTMAX,), classes=None) -> Trail:
    return Trail("test", "test", classes, "test", start, (), start, (), definitions)


CHAINS = [
    # the root holds both o_i and the sum inside o_i: the chain rule must finish o_i first
    Derivative(o[i] * Sum(exp(z[j]), (j, 1, H)), z[k]),
    Derivative(Sum(exp(z[j]), (j, 1, H)) * o[i] + log(o[k]), z[k]),
    # many intermediates: taken backwards (reverse accumulation)
    Derivative(Sum(log(o[i]) * y[i], (i, 1, H)) * o[k], z[k]),
    Derivative(Sum(o[i] ** 2, (i, 1, H)), o[k]),
    # differentiating by an intermediate, others held
    Derivative(log(o[i]) * o[k], o[i]),
    Derivative(sqrt(1 + o[i]) * exp(-z[k]), z[k]),
]


@pytest.mark.parametrize("expr", CHAINS, ids=str)
def test_chain_rule_through_intermediates_matches_the_reference(expr):
    rng = random.Random(7)
    free = [symbol for symbol in (i, k) if symbol in expr.free_symbols or symbol == k]  # k: also as the variable
    for classes in (1, 2, 3, 11):
        for _ in range(3):
            indices = {symbol: rng.randint(1, classes) for symbol in free}
            world = World(classes, indices, random_values(classes, None, [], rng))
            fast = Evaluator((SOFTMAX,)).number(expr, world)
            if classes <= REFERENCE_UP_TO:
                assert agree_numbers(fast, reference_number((SOFTMAX,), expr, world))
            assert agree_numbers(fast, Evaluator((SOFTMAX,), cache=False).number(expr, fresh_world(world)))


def test_forwards_and_backwards_give_the_same_derivative(monkeypatch):
    expr = Derivative(Sum(log(o[i]) * y[i], (i, 1, H)) * o[k], z[k])
    world = World(12, {k: 5}, random_values(12, None, [], random.Random(3)))
    backwards = Evaluator((SOFTMAX,)).number(expr, world)
    monkeypatch.setattr(derivatives_module, "_FORWARD", 10**6)
    forwards = Evaluator((SOFTMAX,)).number(expr, fresh_world(world))
    assert agree_numbers(backwards, forwards)


def test_a_derivative_is_taken_once_per_shape_and_renamed_back():
    """ln o_5 · y_5 and ln o_7 · y_7 share one sympy.diff; each renamed result is the right one."""
    evaluator = Evaluator((SOFTMAX,))
    w = Symbol("w", positive=True)  # an atom with assumptions keeps its name
    for m in (5, 7, 9):
        for expr, atom in [
            (log(o[m]) * y[m], o[m]),
            (exp(z[m]) / (exp(z[m]) + exp(z[m + 1])), z[m]),
            (exp(z[m]) / (exp(z[m]) + exp(z[m + 1])), z[m + 1]),
            (o[m] ** w * y[m], o[m]),
            (o[m] ** w * y[m], w),
        ]:
            assert (evaluator.differentiator.derivative(expr, atom) - diff(expr, atom)).expand() == 0
    assert len(evaluator.memory.canonical) == 5


def test_the_gradient_shares_one_written_out_denominator():
    """``gradient_components`` writes Σ_j e^{z_j} out once: every component holds the very same object."""
    trail = derive(Problem(classes=6))
    sums = [power.base for component in trail.gradient for power in component.atoms(Pow) if power.base.is_Add]
    assert len(sums) == 6
    assert all(total is sums[0] for total in sums)


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_gradient_components_are_each_output_written_out(classes):
    """The same components as writing ``o_m`` out with ``doit()`` one by one."""
    trail = derive(Problem(classes=classes))
    (index, body), = [(eq.lhs.indices[0], eq.rhs) for eq in trail.definitions if eq.lhs.base == o]
    for m, component in enumerate(trail.gradient, start=1):
        at_k = trail.result.xreplace({k: m})
        written = {node: body.xreplace({index: node.indices[0]}).doit() for node in at_k.atoms(Indexed) if node.base == o}
        assert component == at_k.xreplace(written)


def test_gradient_components_are_checked_against_the_reference():
    trail = derive(Problem(classes=3))
    calls, failure = recorded(trail)
    assert failure is None
    components = [call for call in calls if call[0] is FLOATS and call[1] in trail.gradient]
    assert len(components) == 3 * 2  # every component, at POINTS random points
    assert_same_values(trail, components)


def test_a_wrong_gradient_component_is_rejected():
    trail = derive(Problem(classes=4))
    wrong = replace(trail, gradient=trail.gradient[:2] + (trail.gradient[2] * 1.0001,) + trail.gradient[3:])
    with pytest.raises(CertificationError, match="gradient component 3"):
        certify(wrong)


# Regression: an index that only a derivative's variable carries (the k of ∂/∂z_k) used to get no value, so such
# steps compared derivatives at no class at all (zero on both sides) and a wrong step passed.  These must fail.


def test_a_wrong_quotient_step_in_the_lemma_is_rejected():
    trail = derive(Problem())
    lemma = trail.steps[position(trail, registry.LEMMA)]
    quotient = next(step for step in lemma.substeps if step.rule is registry.QUOTIENT)
    wrong = quotient.after.xreplace({node: 5 * node for node in quotient.after.atoms(Derivative)})
    with pytest.raises(CertificationError):
        Certifier(trail).step(Step(registry.QUOTIENT, quotient.before, wrong))


@pytest.mark.parametrize("classes", [None, 3], ids=["symbolic-H", "H=3"])
def test_a_doubled_chain_rule_step_is_rejected(classes):
    trail = derive(Problem(classes=classes))
    n = position(trail, registry.CHAIN)
    with pytest.raises(CertificationError):
        certify(tamper(trail, n, 2 * trail.steps[n].after))

"""Whole derivations against seed 000: every step it shows appears in our trail, in order."""

from __future__ import annotations

import random

import pytest
from sympy import Eq, Indexed, Rational, KroneckerDelta, Piecewise, Sum, diff, exp, log, srepr

from derive.certify import certify
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.sums import SumExcept
from derive.symbols import ERROR, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.engine.rules import registry
from derive.trail import Mark
from tooling import slow_after

i, k = SUM_INDEX, FREE_INDEX
O, y, Z = OUTPUT, TARGET, INPUT


def flatten(steps):
    for step in steps:
        yield step
        yield from flatten(step.substeps)


class InOrder:
    """Finds steps one after another in a trail, failing with the step list when one is missing."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.position = 0

    def next(self, rule, predicate=lambda step: True, what=""):
        for offset, step in enumerate(self.steps[self.position :]):
            if step.rule is rule and predicate(step):
                self.position += offset + 1
                return step
        listing = ", ".join(step.rule.slug for step in self.steps)
        pytest.fail(f"no {rule.slug} step {what} after position {self.position}; trail: {listing}")


def marks(step, mark):
    return [a for a in step.annotations if a.mark is mark]


@pytest.fixture(scope="module")
def trail():
    return certify(derive(Problem()))


def test_trail_follows_seed_000_in_order(trail):
    steps = InOrder(trail.steps)
    # 1. E as a sum of per-class errors, e_i = -y_i ln O_i
    assert trail.start.expr == Sum(ERROR[i], (i, 1, trail.start.expr.limits[0][2]))
    definition = steps.next(registry.DEFINITION)
    assert marks(definition, Mark.DEFINITION)[0].note == -y[i] * log(O[i])
    # 2. the sum rule moves the derivative inside the sum
    steps.next(registry.SUM, lambda s: isinstance(s.focus[0].expr, Sum))
    # 3. the constant-factor rule takes y_i out
    steps.next(registry.CONSTANT_FACTOR, lambda s: marks(s, Mark.CONSTANT)[0].target == y[i], "taking y_i out")
    # 4. the chain rule through O_i
    steps.next(registry.CHAIN, lambda s: marks(s, Mark.INTERMEDIATE)[0].target == O[i], "through O_i")
    # 5. the log rule gives 1/O_i
    steps.next(registry.LOG, lambda s: s.focus[1] == 1 / O[i])
    # 6. the softmax Jacobian, derived in substeps
    lemma = steps.next(registry.LEMMA)
    inner = InOrder(lemma.substeps)
    assert lemma.substeps[0].rule is registry.DEFINITION
    inner.next(registry.QUOTIENT)
    inner.next(registry.EXP)
    inner.next(registry.INDEX, lambda s: isinstance(s.focus[1], KroneckerDelta))
    cases = inner.next(registry.CASES)
    assert cases.after == Piecewise((O[k] * (1 - O[k]), Eq(i, k)), (-O[i] * O[k], True))
    # 7. the split into i != k and i = k, each case substituted and underbraced
    split = steps.next(registry.INDEX_SPLIT)
    assert split.after.has(SumExcept)
    braces = marks(split, Mark.UNDERBRACE)
    assert {str(a.note) for a in braces} == {"Eq(i, k)", "Ne(i, k)"}
    assert {a.target.args[0] for a in braces} == {-O[i] * O[k], O[k] * (1 - O[k])}
    # 8. O_i cancels
    cancel = steps.next(registry.CANCEL)
    assert O[i] in [a.target for a in marks(cancel, Mark.CANCELLED)]
    # 9. O_k comes out of the sum
    steps.next(registry.FACTOR_OUT, lambda s: marks(s, Mark.CONSTANT)[0].target in (O[k], -O[k]), "pulling O_k out")
    # 10. one-hot targets: sum_{i != k} y_i = 1 - y_k, recorded as an assumption
    assumption = steps.next(registry.ASSUMPTION)
    assert [a.name for a in assumption.assumptions] == ["one-hot"]
    assert assumption.focus == (SumExcept(y[i], (i, 1, assumption.focus[0].upper), k), 1 - y[k])
    # 11. O_k(1 - y_k) - y_k(1 - O_k), with the two O_k y_k terms marked as cancelling
    expand = steps.next(registry.EXPAND)
    assert expand.before == O[k] * (1 - y[k]) - y[k] * (1 - O[k])
    assert sorted(map(str, (a.target for a in marks(expand, Mark.CANCEL)))) == ["-o[k]*y[k]", "o[k]*y[k]"]
    # 12. the result
    assert trail.result == O[k] - y[k]
    assert trail.steps[-1].after == trail.result


def test_every_step_and_substep_is_certified(trail):
    assert all(step.certified for step in flatten(trail.steps))


def softmax_loss(classes):
    total = sum(exp(Z[m]) for m in range(1, classes + 1))
    return -sum(y[m] * log(exp(Z[m]) / total) for m in range(1, classes + 1))


@pytest.mark.parametrize("classes", slow_after(4, [1, 2, 3, 5, 4, 6, 7, 8]))
def test_concrete_h_gives_o_minus_y(classes):
    trail = certify(derive(Problem(classes=classes)))
    assert trail.result == O[k] - y[k]
    assert all(step.certified for step in flatten(trail.steps))
    assert len(trail.gradient) == classes
    loss = softmax_loss(classes)
    rng = random.Random(classes)
    for true_class in range(1, classes + 1):
        point = {Z[m]: Rational(rng.randint(-300, 300), 100) for m in range(1, classes + 1)}
        point.update({y[m]: int(m == true_class) for m in range(1, classes + 1)})
        for position, component in enumerate(trail.gradient, start=1):
            leaves = {node.base for node in component.atoms(Indexed)}
            assert leaves <= {Z, y}, "the gradient is written in z and y only"
            expected = diff(loss, Z[position]).xreplace(point).evalf(30)
            assert abs(component.xreplace(point).evalf(30) - expected) < 1e-20


def test_one_class_has_zero_gradient():
    trail = certify(derive(Problem(classes=1)))
    assert trail.gradient == (0,)


def test_symbolic_and_concrete_trails_use_the_same_rules():
    symbolic = [step.rule for step in derive(Problem()).steps]
    concrete = [step.rule for step in derive(Problem(classes=4)).steps]
    assert symbolic == concrete


def test_worked_example_from_seed_000_is_computed():
    from derive.present.example import worked_example

    example = worked_example(certify(derive(Problem())))
    assert [float(v) for v in example.outputs] == [0.2, 0.6, 0.2]
    assert abs(float(example.loss) - 1.6094379) < 1e-6
    assert [round(float(g), 12) for g in example.gradient] == [-0.8, 0.6, 0.2]


def test_plain_sympy_cannot_do_this():
    """The reason the project exists: diff of the symbolic-H loss keeps Σy, with no steps."""
    from sympy import Symbol

    H = Symbol("H", integer=True, positive=True)
    j = Symbol("j", integer=True, positive=True)
    loss = -Sum(y[i] * log(exp(Z[i]) / Sum(exp(Z[j]), (j, 1, H))), (i, 1, H))
    assert diff(loss, Z[k]).has(Sum)  # never reaches O_k - y_k on its own
    assert "KroneckerDelta" in srepr(diff(loss, Z[k])) or diff(loss, Z[k]).has(Sum)

"""Floats first, 193 bits when floats cannot decide: the certifier's two arithmetics.

The certifier compares both sides of a step in machine floats and accepts them
when they match to ``FLOAT_DIGITS`` significant digits.  Anything else (values
that differ, an overflow, a division by zero) is computed again at the same point
in 193 bits, and that decides.  These tests show both halves: a point floats get
wrong is rescued by 193 bits, and a wrong value is refused whichever arithmetic
sees it.  No timing here.
"""

from __future__ import annotations

import math
import random

import pytest
from sympy import Eq, Float, Integer, Rational, Sum, Symbol, UnevaluatedExpr, exp, log, pi, sqrt, tanh

from derive.certify import CertificationError, Certifier, Evaluator, World, random_values, certify
from derive.certify.arithmetic import FLOAT_DIGITS, FLOAT_TOLERANCE, FLOATS, MPF, floats_agree
from derive.certify.numbers import sympy_number
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.symbols import CLASSES as H
from derive.symbols import FREE_INDEX as k
from derive.symbols import INNER_INDEX as j
from derive.symbols import INPUT as z
from derive.symbols import OUTPUT as o
from derive.symbols import SUM_INDEX as i
from derive.engine.rules import registry
from derive.trail import Step, Trail
from trail_edits import tamper

w = Symbol("w")  # a placeholder: random in [0.2, 0.9] at every point
SOFTMAX = Eq(o[i], exp(z[i]) / Sum(exp(z[j]), (j, 1, H)))


def certifier(definitions=(SOFTMAX,)) -> Certifier:
    start = Integer(0)
    return Certifier(Trail("test", "test", None, "test", start, (), start, (), definitions))


def world(classes=3, indices=None, seed=1) -> World:
    return World(classes, indices or {}, random_values(classes, None, [w], random.Random(seed)))


# -- the two arithmetics, on a table of expressions -------------------------------------------

TABLE = [
    w,
    Rational(3, 7) * w - 2,
    exp(3 * w) / (1 + exp(w)),
    log(w) * w**2,
    sqrt(1 + w) ** Rational(3, 2),
    w ** (-1),
    tanh(w) + pi,
    Sum(exp(z[j]), (j, 1, H)),
    o[k] * (1 - o[k]),
    Float("0.125", 50) * w,
]


@pytest.mark.parametrize("expr", TABLE, ids=str)
def test_floats_and_193_bits_compute_the_same_value(expr):
    point = world(classes=4, indices={k: 2})
    fast = Evaluator((SOFTMAX,), arithmetic=FLOATS).number(expr, point)
    exact = Evaluator((SOFTMAX,), arithmetic=MPF).number(expr, point)
    assert isinstance(fast, float)
    assert isinstance(exact, tuple)
    assert floats_agree(fast, float(sympy_number(exact)))


@pytest.mark.parametrize(
    "expr, why",
    [(exp(2000 * w), "overflow"), (log(w - 1), "a logarithm of a negative number"), (1 / (w - UnevaluatedExpr(w)), "a division by zero")],
)
def test_floats_decline_what_they_cannot_compute(expr, why):
    assert Evaluator((SOFTMAX,), arithmetic=FLOATS).number(expr, world()) is None, why


def test_floats_agree_is_relative_to_the_larger_value():
    assert floats_agree(1.0, 1.0 + 0.5 * FLOAT_TOLERANCE)
    assert not floats_agree(1.0, 1.0 + 2 * FLOAT_TOLERANCE)
    assert floats_agree(1e-40, 1e-40 * (1 + 0.5 * FLOAT_TOLERANCE))
    assert not floats_agree(1e-40, 1.01e-40)  # small values are not "equal to zero"
    assert floats_agree(0.0, 0.0)
    assert not floats_agree(0.0, 1e-300)
    assert not floats_agree(None, 1.0)
    assert not floats_agree(math.nan, math.nan)
    assert FLOAT_DIGITS >= 10


# -- the certifier: floats decide, 193 bits rescue ---------------------------------------------


def test_a_point_that_overflows_in_floats_is_decided_in_193_bits():
    checker = certifier()
    ok, _ = checker.agree(exp(2000 * w) / (exp(2000 * w) + 1), 1 / (1 + exp(-2000 * w)), world())
    assert ok
    assert checker.rechecked == 1


def test_cancellation_that_floats_get_wrong_is_decided_in_193_bits():
    """(w + 10^17) - 10^17 is w, but floats lose every digit of w on the way."""
    checker = certifier()
    lossy = UnevaluatedExpr(w + 10**17) - 10**17
    point = world()
    assert not floats_agree(checker.floats.number(lossy, point), checker.floats.number(w, point))
    ok, _ = checker.agree(lossy, w, point)
    assert ok
    assert checker.rechecked == 1


@pytest.mark.parametrize("relative_error", [1e-3, 1e-7, 1e-10])
def test_a_wrong_value_is_refused_even_when_it_is_nearly_right(relative_error):
    checker = certifier()
    ok, detail = checker.agree(o[k] * w, o[k] * w * (1 + relative_error), world(indices={k: 1}))
    assert not ok
    assert "!=" in detail
    assert checker.rechecked == 1  # floats saw the difference; 193 bits confirmed it


def test_a_wrong_step_is_refused_and_a_right_one_passes():
    checker = certifier()
    with pytest.raises(CertificationError):
        checker.step(Step(registry.EXPAND, (1 + o[k]) ** 2, 1 + 2 * o[k] + o[k] ** 3))
    assert checker.step(Step(registry.EXPAND, (1 + o[k]) ** 2, 1 + 2 * o[k] + o[k] ** 2)).certified


def test_most_points_of_the_flagship_are_decided_in_floats():
    trail = derive(Problem(classes=40))
    checker = Certifier(trail)
    checker.chain()
    for step in trail.steps:
        checker.step(step)
    checker.result()
    assert checker.floats.fallbacks == checker.evaluator.fallbacks == 0
    assert checker.rechecked <= 2


@pytest.mark.parametrize("classes", [None, 40])
def test_a_flipped_sign_is_refused_at_any_h(classes):
    trail = derive(Problem(classes=classes))
    n = len(trail.steps) - 1
    with pytest.raises(CertificationError):
        certify(tamper(trail, n, -trail.steps[n].after))


# -- a double sum, no fallback, a bounded exponent ------------------------------------------------

def test_a_double_sum_is_two_loops_and_agrees_with_the_reference_method():
    """``Σ_i Σ_j f`` is one SymPy Sum with two limits (the claims of ``derive check`` write it so):
    the fast path loops over both, and the reference method writes both out."""
    double = Sum(z[i] * z[j] ** 2 + o[j], (j, 1, i), (i, 1, H))
    assert len(double.limits) == 2
    point = world(classes=4, indices={k: 2})
    evaluator = Evaluator((SOFTMAX,))
    fast = evaluator.value(double, point)
    assert evaluator.fallbacks == 0
    reference = evaluator.reference.value(double, World(4, {k: 2}, dict(point.values.items())))
    nested = sum(evaluator.value(z[a] * z[b] ** 2 + o[b], point) for a in range(1, 5) for b in range(1, a + 1))
    assert abs(fast - reference) < Float(10) ** -40 and abs(fast - nested) < Float(10) ** -40


@pytest.mark.parametrize(
    "expr, why",
    [(log(w - 1), "a logarithm of a negative number"), (sqrt(w - 1), "a square root of a negative number"),
     (exp(exp(exp(exp(8 + w)))), "an exponent too large to compute")],
)
def test_without_the_reference_method_what_is_not_a_finite_real_number_has_no_value(expr, why):
    evaluator = Evaluator((SOFTMAX,), fallback=False)
    assert evaluator.number(expr, world()) is None, why
    assert evaluator.real(expr, world()) is None, why
    assert evaluator.fallbacks == 0


def test_real_gives_an_mpmath_number_at_the_working_precision():
    value = Evaluator((SOFTMAX,), fallback=False).real(Rational(1, 3) + 0 * w, world())
    assert abs(value * 3 - 1) < Float(10) ** -55

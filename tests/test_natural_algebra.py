"""The algebra reads as a lecturer writes it (issue 13, item 6), on every catalogue pair at symbolic H.

Each test measures the trail or the rendered page: one occurrence rewritten per step, factored forms
kept (2(O_i - y_i), so that 1/2 * 2 cancels at once), a minus sign taken out in one step, textbook
results, losses in their conventional order, no sum of zeros, and terms that keep their places.
"""

from __future__ import annotations

import functools

import pytest
from sympy import Add, Derivative, Mul, Rational, S, Sum, UnevaluatedExpr

from derive.catalog import valid_pairs
from derive.cli.pipeline import Derivation
from derive.engine.derivation import derive
from derive.engine.rules import registry
from derive.engine.strategy import replace_first
from derive.problem import Problem
from derive.sums import SumExcept
from derive.symbols import FREE_INDEX, OUTPUT, SUM_INDEX, TARGET

PAIRS = valid_pairs()
i, k = SUM_INDEX, FREE_INDEX
O, y = OUTPUT, TARGET


@functools.lru_cache(maxsize=None)
def trail(activation: str, loss: str):
    return derive(Problem(activation, loss))


@functools.lru_cache(maxsize=None)
def markdown(activation: str, loss: str) -> str:
    problem = Problem(activation, loss)
    return Derivation(problem, trail(activation, loss)).markdown()


def every_step(steps):
    for step in steps:
        yield step
        yield from every_step(step.substeps)


def displays(text: str) -> list[str]:
    """The displayed equations of a Markdown document, in order."""
    return [block.strip() for block in text.split("$$")[1::2]]


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_a_step_rewrites_one_occurrence(pair):
    checked = 0
    for step in trail(*pair).steps:
        if step.focus is not None:
            assert step.after == replace_first(step.before, *step.focus), step.rule.slug
            checked += 1
    assert checked > 3


def test_one_occurrence_is_not_every_equal_subtree():
    a = Derivative(O[i], i)
    assert replace_first(a * y[i] + a, a, S.One) == y[i] + a


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_a_lemma_is_substituted_once(pair):
    lemmas = [step for step in trail(*pair).steps if step.rule is registry.LEMMA]
    assert len(lemmas) == 1


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[1] == "sum-of-squares"], ids="+".join)
def test_the_power_rule_keeps_two_times_the_gap_and_the_half_cancels_next(pair):
    steps = trail(*pair).steps
    chain = next(n for n, step in enumerate(steps) if step.rule is registry.CHAIN)
    factored = Mul(2, O[i] - y[i], evaluate=False).args
    assert any(set(factored) <= set(Mul.make_args(node)) for node in steps[chain].after.atoms(Mul))
    following = steps[chain + 1]
    assert following.rule is registry.FACTOR_OUT and not following.after.has(Rational(1, 2))


@pytest.mark.parametrize("pair", [p for p in PAIRS if p[1] in ("cross-entropy", "binary-cross-entropy")], ids="+".join)
def test_a_minus_sign_is_taken_out_in_one_step(pair):
    first, second = trail(*pair).steps[:2]
    assert first.rule is registry.DEFINITION and second.rule is registry.CONSTANT_FACTOR
    coefficient, rest = second.after.as_coeff_Mul()
    assert coefficient == -1 and isinstance(rest, Derivative) and isinstance(rest.expr, Sum)


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_no_step_writes_a_sum_of_zeros(pair):
    for step in every_step(trail(*pair).steps):
        sums = step.after.atoms(Sum, SumExcept)
        assert not [s for s in sums if s.args[0] == 0 or s.args[0] == UnevaluatedExpr(0)], step.rule.slug


def test_softmax_with_squared_error_ends_in_the_textbook_form():
    result = trail("softmax", "sum-of-squares").result
    (whole,) = result.atoms(Sum)
    assert result == O[k] * (O[k] - y[k] - Sum(O[i] * (O[i] - y[i]), *whole.limits))
    assert not result.has(SumExcept)


def test_tanh_takes_no_expand_then_factor_detour():
    rules = [step.rule for step in trail("tanh", "sum-of-squares").steps]
    assert registry.EXPAND not in rules and registry.FACTOR_GAP not in rules
    assert trail("tanh", "sum-of-squares").result == (1 - O[k] ** 2) * (O[k] - y[k])


def test_binary_cross_entropy_is_displayed_in_its_conventional_order():
    text = markdown("sigmoid", "binary-cross-entropy")
    conventional = r"- \left(y_{i} \ln O_{i} + \left(1 - y_{i}\right) \ln\left(1 - O_{i}\right)\right)"
    assert conventional in displays(text)[1] or any(conventional in d for d in displays(text)[:3])
    assert "y_{i} - 1" not in text and "y_{k} - 1" not in text, "-(1 - y_i) stays as written"


def main_lines(activation: str, loss: str) -> dict[str, str]:
    """At full detail every line shows one step: the trail's top-level step number -> its line's LaTeX."""
    view = Derivation(Problem(activation, loss), trail(activation, loss), detail="full").view()
    return {line.steps[0].number: line.after for block in view.layout.blocks if block.role == "main"
            for line in block.lines}


def test_terms_keep_their_places_in_the_flagship():
    lines = main_lines("softmax", "cross-entropy")
    steps = trail("softmax", "cross-entropy").steps
    split = next(n for n, step in enumerate(steps, 1) if step.rule.slug == "index-split")
    for number in (split, split + 1, split + 2):  # the i != k sum stays first, as in the split
        shown = lines[str(number)]
        assert shown.index(r"\sum_{i \neq k}") < shown.index(r"y_{k}"), (number, shown)


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_the_first_term_keeps_its_place_from_step_to_step(pair):
    """Where a step leaves the first term of a top-level sum alone, the next line starts with it too."""
    lines = main_lines(*pair)
    steps = trail(*pair).steps
    shown = [lines[str(n)] for n in range(1, len(steps) + 1)]
    assert len(shown) == len(steps) > 3
    moved = []
    for before, after, step in zip(shown, shown[1:], steps[1:]):
        first = before.split(" + ")[0].split(" - ")[0]
        if step.focus is not None and first and first in after and not after.startswith(first[:12]):
            if isinstance(step.before, Add) and step.focus[0] not in Add.make_args(step.before)[:1]:
                moved.append((step.rule.slug, first[:40]))
    assert moved == []

"""The certifier samples the whole domain: steps wrong only at a large H, a large index, a large input,
a negative target or one example's loss are refused (issue 12, item 2)."""

from __future__ import annotations

import random

import pytest
from sympy import Abs, KroneckerDelta, Sum, Symbol

from derive.certify import CertificationError, World, random_values, certify
from derive.certify.points import (
    EXTRA_CLASSES, INPUT_SCALES, TARGET_RANGES, index_assignments, constant_indices, sample_sizes,
)
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.symbols import CLASSES, EXAMPLE_INDEX, EXAMPLES, FREE_INDEX, INPUT, OTHER_LOSS, OUTPUT, SUM_INDEX, TARGET
from derive.engine.rules import registry
from trail_edits import position, tamper

i, k, H, O, Y, Z = SUM_INDEX, FREE_INDEX, CLASSES, OUTPUT, TARGET, INPUT

def rejected(trail) -> str:
    with pytest.raises(CertificationError) as caught:
        certify(trail)
    return str(caught.value)


def wrong_last_step(problem: Problem, change):
    trail = derive(problem)
    n = len(trail.steps) - 1
    return tamper(trail, n, change(trail.steps[n].after))


EDITS = {  # name: (problem, how the last step's result is made wrong), each right on the old sample
    "plus 1000 delta_k7": (Problem(), lambda r: r + 1000 * KroneckerDelta(k, 7)),
    "plus o_7 - o_7 at the wrong class": (Problem(), lambda r: r + KroneckerDelta(k, 7) * (O[k] - O[7] + 1)),
    "times 1 + (H-1)(H-2)(H-3)(H-5)": (Problem(), lambda r: r * (1 + (H - 1) * (H - 2) * (H - 3) * (H - 5))),
    "plus |Z_k - 3| + Z_k - 3": (Problem(), lambda r: r + Abs(Z[k] - 3) + Z[k] - 3),
    "plus |Z_k + 4| - Z_k - 4": (Problem(), lambda r: r + Abs(Z[k] + 4) - Z[k] - 4),
    "y_k replaced by |y_k| (any targets)": (
        Problem("identity", "sum-of-squares", targets="any"), lambda r: r.xreplace({Y[k]: Abs(Y[k])})),
    "plus y_k - min(y_k, 1) (any targets)": (
        Problem("identity", "sum-of-squares", targets="any"), lambda r: r + (Y[k] - 1 + Abs(Y[k] - 1)) / 2),
    "the other losses all alike (mean)": (
        Problem(reduction="mean"),
        lambda r: r + Sum(OTHER_LOSS[EXAMPLE_INDEX], (EXAMPLE_INDEX, 1, EXAMPLES)) - EXAMPLES * OTHER_LOSS[1]),
}


@pytest.mark.parametrize("name", EDITS)
def test_a_step_wrong_only_outside_the_old_sample_is_refused(name):
    problem, change = EDITS[name]
    rejected(wrong_last_step(problem, change))


def test_a_step_wrong_at_one_class_and_undone_by_the_next_is_refused():
    """Step n wrong by δ_{7k} O_k, step n + 1 undoing it: step n is named."""
    trail = derive(Problem())
    n = position(trail, registry.EXPAND)
    assert "Expanding" in rejected(tamper(trail, n, trail.steps[n].after + KroneckerDelta(7, k) * O[k]))


def test_a_lemma_substep_wrong_only_at_i_equal_k_equal_4_is_refused():
    from dataclasses import replace

    trail = derive(Problem())
    n = position(trail, registry.LEMMA)
    lemma = trail.steps[n]
    m = len(lemma.substeps) - 2
    sub = lemma.substeps[m]
    wrong = sub.after + KroneckerDelta(i, 4) * KroneckerDelta(k, 4)
    subs = list(lemma.substeps)
    subs[m] = replace(sub, after=wrong)
    subs[m + 1] = replace(subs[m + 1], before=wrong)
    steps = list(trail.steps)
    steps[n] = replace(lemma, substeps=tuple(subs))
    rejected(replace(trail, steps=tuple(steps)))


def test_every_pattern_is_listed_at_h_5_with_two_indices():
    a, b = Symbol("a", integer=True), Symbol("b", integer=True)
    patterns = index_assignments([a, b], 5, random.Random(1))
    assert {(p[a], p[b]) for p in patterns} == {(x, y) for x in range(1, 6) for y in range(1, 6)}


def test_a_constant_index_gets_every_pattern_of_its_own():
    a, b = Symbol("a", integer=True), Symbol("b", integer=True)
    assert constant_indices(KroneckerDelta(a, 7) + O[9] * Y[a]) == (7, 9)
    patterns = index_assignments([a, b], 9, random.Random(1), (7,))
    assert {p[a] == 7 and p[b] == 7 for p in patterns} == {True, False}
    assert any(p[a] == 7 and p[b] != 7 for p in patterns) and any(p[a] != 7 and p[b] == 7 for p in patterns)


def test_symbolic_h_is_sampled_beyond_the_small_set_and_at_every_constant_index():
    rng = random.Random(5)
    drawn = {h for _ in range(50) for h in sample_sizes((1, 2, 3, 5), True, 1, (), rng)} - {1, 2, 3, 5}
    assert drawn <= set(range(EXTRA_CLASSES[0], EXTRA_CLASSES[1] + 1)) and max(drawn) >= 12
    assert 40 in sample_sizes((1, 2, 3, 5), True, 1, (40,), rng)
    assert sample_sizes((4,), False, 1, (40,), rng) == (4,)  # concrete H: the trail's own


def test_inputs_come_on_every_scale_with_both_signs():
    rng = random.Random(2)
    for scale, (low, high) in enumerate(INPUT_SCALES):
        values = [random_values(12, None, [], rng, scale)[Z[m]] for m in range(1, 13)]
        assert all(low <= abs(v) <= high for v in values)
        assert min(values) < 0 < max(values)
    big = [abs(random_values(3, None, [], rng, 2)[Z[1]]) for _ in range(20)]
    assert min(big) >= 5


@pytest.mark.parametrize("kind, negative", [("any", True), ("one-hot", False), ("distribution", False), (None, False)])
def test_targets_are_drawn_as_declared(kind, negative):
    rng = random.Random(3)
    values = [random_values(12, None, [], rng, 0, kind)[Y[m]] for m in range(1, 13) for _ in range(3)]
    assert bool(min(values) < 0) is negative
    assert bool(max(values) > 1) is negative
    if kind == "any":
        assert TARGET_RANGES[kind][0] < 0 < 1 < TARGET_RANGES[kind][1]


def test_every_other_leaf_has_its_own_value_in_floats_and_in_193_bits():
    values = random_values(3, None, [], random.Random(4))
    losses = [values[OTHER_LOSS[n]] for n in range(1, 6)]
    assert len(set(losses)) == 5
    assert [values.float_leaf(OTHER_LOSS, n) for n in range(1, 6)] == [float(v) for v in losses]
    assert World(3, {}, values).values[OTHER_LOSS[2]] == losses[1]


def test_sampling_is_deterministic():
    assert certify(derive(Problem())) == certify(derive(Problem()))

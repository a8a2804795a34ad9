"""Assumptions follow from the declared targets: Σ y = 1 under `--targets any` is refused (issue 12, item 3)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sympy import Eq, Sum

from derive.certify import CertificationError, certify
from derive.certify.assumptions import assumption_errors
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.symbols import CLASSES, SUM_INDEX, TARGET
from derive.engine.rules import registry
from derive.trail import Assumption
from trail_edits import position

SUM_IS_ONE = Assumption("one-hot", Eq(Sum(TARGET[SUM_INDEX], (SUM_INDEX, 1, CLASSES)), 1))


def test_a_trail_level_sum_of_one_under_any_targets_is_refused():
    trail = derive(Problem("identity", "sum-of-squares", targets="any"))
    assert assumption_errors(trail) == []
    with pytest.raises(CertificationError, match="declared 'any'"):
        certify(replace(trail, assumptions=(SUM_IS_ONE,)))


def test_a_step_using_sum_of_one_under_any_targets_is_refused():
    """The one-hot trail's assumption step, relabelled `any`: every value still agrees, the targets do not."""
    trail = derive(Problem())
    with pytest.raises(CertificationError, match="step .*Assumption.*declared 'any'"):
        certify(replace(trail, targets="any", assumptions=()))


def test_an_assumption_named_otherwise_is_refused():
    trail = derive(Problem())
    n = position(trail, registry.ASSUMPTION)
    steps = list(trail.steps)
    steps[n] = replace(steps[n], assumptions=(replace(steps[n].assumptions[0], name="arbitrary"),))
    with pytest.raises(CertificationError, match="'arbitrary'"):
        certify(replace(trail, steps=tuple(steps)))


def test_an_assumption_of_another_total_is_refused():
    trail = derive(Problem())
    two = Assumption("one-hot", Eq(SUM_IS_ONE.statement.lhs, 2))
    with pytest.raises(CertificationError, match="do not give"):
        certify(replace(trail, assumptions=(two,)))


@pytest.mark.parametrize("targets", ["one-hot", "distribution", "any"])
def test_the_untouched_trails_follow_from_their_targets(targets):
    assert assumption_errors(derive(Problem("softmax", "cross-entropy", targets=targets))) == []

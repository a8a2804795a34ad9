"""--reduction mean: the per-example gradient (O_k − y_k)/N is derived, not asserted."""

from __future__ import annotations

import json

import pytest
from sympy import Indexed

from derive.__main__ import main
from derive.certify import certify
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.symbols import EXAMPLES, FREE_INDEX, OTHER_LOSS, OUTPUT, TARGET
from derive.engine.rules import registry

GAP = OUTPUT[FREE_INDEX] - TARGET[FREE_INDEX]


@pytest.mark.parametrize("pair", [("softmax", "cross-entropy"), ("identity", "sum-of-squares"),
                                  pytest.param(("sigmoid", "binary-cross-entropy"), marks=pytest.mark.slow),
                                  pytest.param(("exp", "poisson"), marks=pytest.mark.slow)])
def test_mean_reduction_divides_the_clean_gradient_by_n(pair):
    trail = certify(derive(Problem(*pair, reduction="mean")))
    assert (trail.result - GAP / EXAMPLES).expand() == 0
    assert trail.verdict.factor == 1 / EXAMPLES
    rules = [step.rule for step in trail.steps]
    assert registry.CONSTANT_FACTOR in rules and registry.INDEPENDENT in rules
    dropped = [step.focus[0].expr for step in trail.steps if step.rule is registry.INDEPENDENT]
    assert any({node.base for node in expr.atoms(Indexed)} == {OTHER_LOSS} for expr in dropped), "the others drop out"


def test_mean_reduction_at_concrete_h_and_in_json(capsys):
    assert main(["pair", "softmax", "cross-entropy", "--reduction", "mean", "--H", "3", "--format", "json", "-o", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"]["latex"] == r"\frac{O_{k} - y_{k}}{N}"
    assert data["factor"]["latex"] == r"\frac{1}{N}"
    assert all(step["certified"] for step in data["steps"])


def test_a_wrong_reduction_step_is_rejected():
    from dataclasses import replace

    from derive.certify import CertificationError

    trail = derive(Problem(reduction="mean", classes=2))
    first = trail.steps[0]
    wrong = replace(first, after=first.after * EXAMPLES)  # "forgets" the 1/N
    steps = (wrong, replace(trail.steps[1], before=wrong.after)) + trail.steps[2:]
    with pytest.raises(CertificationError):
        certify(replace(trail, steps=steps))

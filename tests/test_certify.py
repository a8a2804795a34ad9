"""The certifier can fail: deliberately wrong steps are rejected, correct ones pass."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sympy import Piecewise, UnevaluatedExpr

from derive.certify import CertificationError, certify
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.sums import SumExcept
from derive.symbols import FREE_INDEX, OUTPUT, SUM_INDEX
from derive.engine.rules import registry
from trail_edits import position, tamper

i, k, O = SUM_INDEX, FREE_INDEX, OUTPUT


@pytest.fixture(scope="module", params=[None, 3], ids=["symbolic-H", "H=3"])
def trail(request):
    return derive(Problem(classes=request.param))


def rejected(trail):
    with pytest.raises(CertificationError) as caught:
        certify(trail)
    return str(caught.value)


def test_the_untouched_trail_passes(trail):
    assert all(step.certified for step in certify(trail).steps)


def test_flipped_sign_is_rejected(trail):
    n = len(trail.steps) - 1
    message = rejected(tamper(trail, n, -trail.steps[n].after))
    assert "Collecting like terms" in message or "result" in message


def test_dropped_i_not_equal_k_terms_are_rejected(trail):
    n = position(trail, registry.INDEX_SPLIT)
    after = trail.steps[n].after
    without = after.xreplace({node: 0 for node in after.atoms(SumExcept)})
    assert without != after
    assert "Index split" in rejected(tamper(trail, n, without))


def test_wrong_case_of_the_lemma_is_rejected(trail):
    """Use the i = k case, O_i(1 - O_i), for the i != k terms too."""
    n = position(trail, registry.INDEX_SPLIT)
    after = trail.steps[n].after
    (others,) = after.atoms(SumExcept)
    swapped_body = others.function.xreplace({UnevaluatedExpr(-O[i] * O[k]): UnevaluatedExpr(O[i] * (1 - O[i]))})
    assert swapped_body != others.function
    wrong = after.xreplace({others: SumExcept(swapped_body, others.args[1], others.excluded)})
    assert "Index split" in rejected(tamper(trail, n, wrong))


def test_swapped_cases_in_the_lemma_substep_are_rejected(trail):
    n = position(trail, registry.LEMMA)
    lemma = trail.steps[n]
    cases = lemma.substeps[-1]
    (first, second) = cases.after.args
    swapped = Piecewise((second.expr, first.cond), (first.expr, True))
    bad_lemma = replace(lemma, substeps=lemma.substeps[:-1] + (replace(cases, after=swapped),))
    steps = list(trail.steps)
    steps[n] = bad_lemma
    assert "Cases" in rejected(replace(trail, steps=tuple(steps)))


def test_an_unstated_assumption_is_rejected(trail):
    """Σ_{i≠k} y_i = 1 − y_k holds only for one-hot targets: without the assumption the check fails."""
    n = position(trail, registry.ASSUMPTION)
    step = trail.steps[n]
    stripped = replace(step, assumptions=(), substeps=())
    steps = list(trail.steps)
    steps[n] = stripped
    assert "Assumption" in rejected(replace(trail, steps=tuple(steps)))


def test_a_missing_step_breaks_the_chain(trail):
    n = position(trail, registry.CANCEL)
    steps = trail.steps[:n] + trail.steps[n + 1 :]
    assert "does not start where" in rejected(replace(trail, steps=steps))


def test_the_result_is_checked_against_sympy_diff(trail):
    """The final comparison with sympy.diff of the loss fails on its own for a wrong result."""
    from derive.certify import Certifier

    Certifier(trail).result()  # the real result agrees
    with pytest.raises(CertificationError, match="sympy.diff"):
        Certifier(replace(trail, result=O[k] * 2 - trail.result)).result()


def test_certification_failure_exits_1_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import derive.cli.pipeline as pipeline
    from derive.__main__ import main

    real = pipeline.derive

    def broken(problem):
        good = real(problem)
        n = len(good.steps) - 1
        return tamper(good, n, -good.steps[n].after)

    monkeypatch.setattr(pipeline, "derive", broken)
    monkeypatch.chdir(tmp_path)
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "certification failed" in err
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_local_rewrite_is_rejected_even_when_the_whole_still_agrees(trail):
    """The prose prints focus_before = focus_after as an equation: it is checked too."""
    n = position(trail, registry.LOG)
    step = trail.steps[n]
    wrong = replace(step, focus=(step.focus[0], 7 * step.focus[1]))
    steps = list(trail.steps)
    steps[n] = wrong
    assert "Log rule" in rejected(replace(trail, steps=tuple(steps)))


def test_a_lemma_with_a_missing_substep_is_rejected(trail):
    n = position(trail, registry.LEMMA)
    lemma = trail.steps[n]
    shortened = replace(lemma, substeps=lemma.substeps[:3] + lemma.substeps[4:])
    steps = list(trail.steps)
    steps[n] = shortened
    assert "do not join up" in rejected(replace(trail, steps=tuple(steps)))


def test_a_lemma_justified_by_unrelated_steps_is_rejected(trail):
    n = position(trail, registry.LEMMA)
    steps = list(trail.steps)
    steps[n] = replace(trail.steps[n], substeps=trail.steps[:2])
    assert "substeps" in rejected(replace(trail, steps=tuple(steps)))

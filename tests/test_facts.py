"""Every rule's sentence is chosen from facts computed on its step (issue 12, item 4): render every
catalogue pair and check each sentence that states a fact against the step's own expressions."""

from __future__ import annotations

import re

import pytest
from sympy import Derivative, Pow, Sum, preorder_traversal

from derive.catalog import valid_pairs
from derive.present.facts import step_facts
from derive.cli.pipeline import Derivation
from derive.problem import Problem
from derive.engine.derivation import derive
from derive.sums import SumExcept


def _denominators(expr):
    return {n.base for n in preorder_traversal(expr) if isinstance(n, Pow) and n.exp.is_negative}


def _sentences(markdown: str) -> dict[str, str]:
    """The paragraph of each numbered step, by its number."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^\*\*([\d.]+)\. [^*]+\*\* (.*)$", markdown, re.M)}


def _steps(steps, prefix=""):
    for n, step in enumerate(steps, start=1):
        number = f"{prefix}{n}"
        yield number, step
        yield from _steps(step.substeps, f"{number}.")


def _parts(step):
    return (step.before, step.after) if step.focus is None else step.focus


CLAIMS = {  # a phrase a sentence may state: does it hold of the step's (before, after)?
    "the common denominator cancels": lambda b, a: bool(_denominators(b) - _denominators(a)),
    "zeros wipe out": lambda b, a: any(f.is_zero for n in preorder_traversal(b) if n.is_Mul for f in n.args),
    "gets shorter": lambda b, a: step_facts_of(b, a).shorter,
    "gets longer": lambda b, a: step_facts_of(b, a).longer,
    "moves inside the sum": lambda b, a: isinstance(b, Derivative) and isinstance(b.expr, (Sum, SumExcept)),
    "The constant $": lambda b, a: isinstance(b, Derivative) and b.expr.is_number,
}


def step_facts_of(before, after):
    from types import SimpleNamespace

    return step_facts(SimpleNamespace(before=before, after=after, focus=None, annotations=()))


@pytest.fixture(scope="module")
def documents():
    out = []
    for pair in valid_pairs():
        problem = Problem(*pair)
        trail = derive(problem)
        out.append((pair, trail, _sentences(Derivation(problem, trail).markdown())))
    return out


def test_every_sentence_that_states_a_fact_is_true_of_its_step(documents):
    checked = 0
    for pair, trail, sentences in documents:
        for number, step in _steps(trail.steps):
            sentence = sentences.get(number, "")
            for phrase, holds in CLAIMS.items():
                if phrase in sentence:
                    checked += 1
                    assert holds(*_parts(step)), f"{pair} step {number}: {sentence!r}"
    assert checked > 20


@pytest.mark.parametrize("pair, number, absent, present", [
    (("tanh", "sum-of-squares"), "8.5", "denominator cancels", "in terms of them"),
    (("softmax", "sum-of-squares"), "10", "zeros wipe out", "Multiply the substituted values in"),
    (("tanh", "sum-of-squares"), "12", "gets shorter", "gets longer"),
    (("softmax", "cross-entropy"), "4", r"moves inside $\frac", "moves inside the sum"),
])
def test_the_sentences_that_contradicted_their_equations(documents, pair, number, absent, present):
    sentences = next(s for p, _, s in documents if p == pair)
    assert absent not in sentences[number] and present in sentences[number]


def test_a_constant_is_named_as_the_constant(documents):
    found = [s for _, trail, sentences in documents for s in sentences.values() if "does not change" in s]
    assert found and all(s.startswith("The constant $") for s in found)
    assert not any(re.search(r"expression \$\\frac\{\\partial 1\}", s) for s in found)

"""The typed view (issue 14, item 4): templates read named fields, never a position, a name or rendered LaTeX.

Each catalogue entry carries its wording and properties; each is checked here
against the activation's own formula, written out with SymPy independently of
the engine: ``elementwise`` against the Jacobian's off-diagonal entries, and
``normalised`` against the sum of the outputs.
"""

from __future__ import annotations

import re
from itertools import permutations

import pytest
from sympy import N, Rational, diff, simplify

from derive.catalog import ACTIVATIONS, LOSSES, USER_ACTIVATION, USER_LOSS, valid_pairs
from derive.cli.pipeline import Derivation
from derive.engine.derivation import derive
from derive.parse import ELEMENTWISE_INPUT, parse_expression
from derive.problem import Problem
from derive.symbols import CLASSES as CLASS_COUNT, INPUT, SUM_INDEX

CLASSES = 3
POINT = {INPUT[1]: Rational(1, 3), INPUT[2]: Rational(-1), INPUT[3]: Rational(2)}


def written_out(name: str) -> list:
    """The outputs ``O_1 .. O_3`` of a catalogue activation, each in the inputs, the sum done."""
    return [ACTIVATIONS[name].formula(m, CLASSES).doit() for m in range(1, CLASSES + 1)]


def off_diagonal_zero(name: str) -> bool:
    """Whether ``∂O_i/∂Z_k = 0`` for every ``i ≠ k`` (H = 3), by ``sympy.diff`` of the written-out outputs."""
    outputs = written_out(name)
    return all(simplify(diff(outputs[i], INPUT[k + 1])) == 0 for i, k in permutations(range(CLASSES), 2))


def sums_to_one(name: str) -> bool:
    """Whether the outputs are positive and sum to one at a point, to 30 digits."""
    values = [N(output.xreplace(POINT), 40) for output in written_out(name)]
    return all(value > 0 for value in values) and abs(sum(values) - 1) < 1e-30


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_catalogue_activation_says_how_it_reads(name):
    wording = ACTIVATIONS[name].wording
    assert wording.noun and wording.summary
    assert re.fullmatch(r"an? .+ output layer", wording.phrase), wording.phrase


@pytest.mark.parametrize("name", LOSSES)
def test_every_catalogue_loss_says_how_it_reads(name):
    wording = LOSSES[name].wording
    assert wording.noun and wording.phrase and wording.summary


def test_no_two_entries_read_the_same_and_a_users_formula_reads_as_user_defined():
    for table, user in ((ACTIVATIONS, USER_ACTIVATION), (LOSSES, USER_LOSS)):
        phrases = [entry.wording.phrase for entry in table.values()] + [user.phrase]
        nouns = [entry.wording.noun for entry in table.values()] + [user.noun]
        assert len(set(phrases)) == len(phrases) and len(set(nouns)) == len(nouns)
        assert "user-defined" in user.phrase and user.noun.startswith("user-defined ") and user.summary


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_elementwise_is_a_diagonal_jacobian(name):
    assert ACTIVATIONS[name].elementwise == off_diagonal_zero(name)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_normalised_means_positive_outputs_that_sum_to_one(name):
    assert ACTIVATIONS[name].normalised == sums_to_one(name)


def test_the_catalogue_has_both_kinds():
    """Otherwise the tables above could not tell a flag that is always True or always False."""
    assert {entry.elementwise for entry in ACTIVATIONS.values()} == {True, False}
    assert {entry.normalised for entry in ACTIVATIONS.values()} == {True, False}


def _view(problem: Problem):
    return Derivation(problem, derive(problem)).view()


@pytest.fixture(scope="module")
def views():
    """One document view per catalogue activation, each with the first loss it pairs with."""
    first_loss = {}
    for activation, loss in valid_pairs():
        first_loss.setdefault(activation, loss)
    return {activation: _view(Problem(activation, loss)) for activation, loss in first_loss.items()}


def _steps(steps):
    for step in steps:
        yield step
        yield from _steps(step.substeps)


def test_every_catalogue_activation_has_a_view(views):
    assert set(views) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_the_view_of_a_catalogue_activation(views, name):
    doc, entry = views[name], ACTIVATIONS[name]
    activation = doc.activation
    assert (activation.name, activation.noun, activation.phrase, activation.summary) == (
        name, entry.wording.noun, entry.wording.phrase, entry.wording.summary)
    assert activation.catalogued and activation.normalised == entry.normalised
    assert activation.elementwise == off_diagonal_zero(name)
    n = doc.symbols
    assert activation.definition.startswith(f"{n.output}_{{{n.sum_index}}} = ")
    assert doc.loss.definition.startswith(f"{n.error}_{{{n.sum_index}}} = ")
    assert doc.loss.catalogued and doc.loss.phrase == LOSSES[doc.loss.name].wording.phrase


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_the_index_split_knows_whether_the_off_diagonal_case_vanishes(views, name):
    splits = [step for step in _steps(views[name].steps) if step.rule == "index-split" and step.underbraces]
    assert splits, "every catalogue activation's chain-rule sum is split at i = k"
    assert all(step.facts.off_diagonal_zero == off_diagonal_zero(name) for step in splits)


def test_a_flagship_assumption_names_the_step_that_uses_it(views):
    (assumption,) = views["softmax"].assumptions
    assert assumption.name == "one-hot" and assumption.statement.endswith("= 1")
    used = [step for step in views["softmax"].steps if step.number in assumption.used]
    assert used and all(any(a.name == "one-hot" for a in step.assumptions) for step in used)


@pytest.mark.parametrize("activation, elementwise", [
    ("1/(1+exp(-z))", True),
    ("exp(z[i])/sum(exp(z[j]), j)", False),
])
def test_a_user_defined_pair_reads_as_user_defined(activation, elementwise):
    problem = Problem("custom", "custom", activation_expr=parse_expression(activation, role="activation"),
                      loss_expr=parse_expression("sum((o[i]-y[i])**2, i)/2", role="loss"))
    derivation = Derivation(problem, derive(problem))
    doc = derivation.view()
    assert (doc.activation.name, doc.activation.noun, doc.activation.phrase) == (
        "user-defined", USER_ACTIVATION.noun, USER_ACTIVATION.phrase)
    assert not doc.activation.catalogued and not doc.activation.normalised
    assert doc.activation.elementwise is elementwise
    assert (doc.loss.name, doc.loss.phrase, doc.loss.catalogued) == ("user-defined", USER_LOSS.phrase, False)
    latex = derivation.latex()
    kind = "acts elementwise" if elementwise else "is a vector function"
    assert f"The user-defined activation {kind}" in latex
    assert "The user-defined acts" not in latex and "The user-defined is" not in latex
    assert "a user-defined loss through a user-defined output layer" in latex


@pytest.mark.parametrize("activation", [
    "exp(z[i])/sum(exp(z[j]), j)",
    "exp(z[i]/2)/sum(exp(z[j]/2), j)",  # a temperature softmax: Z = 2 ln O, read off its formula
    "1/(1+exp(-z))",
])
def test_the_worked_examples_inputs_produce_its_outputs(activation):
    """The inputs come from the activation's formula, not from its name; put back into it, they give the outputs."""
    from derive.present.example import example_if_defined

    parsed = parse_expression(activation, role="activation")
    problem = Problem("custom", "custom", classes=CLASSES, activation_expr=parsed,
                      loss_expr=parse_expression("sum((o[i]-y[i])**2, i)/2", role="loss"))
    example = example_if_defined(derive(problem))
    assert example is not None and example.inputs is not None
    values = dict(zip((INPUT[m] for m in range(1, CLASSES + 1)), example.inputs))
    for m, output in enumerate(example.outputs, start=1):
        body = parsed.xreplace({ELEMENTWISE_INPUT: INPUT[m], SUM_INDEX: m, CLASS_COUNT: CLASSES}).doit()
        assert simplify(body.xreplace(values) - output) == 0

"""``derive check``: verdicts, counterexamples, diagnoses and the rendered reports.

The command is exercised through ``derive.cli.check_arguments.add_parser`` on a parser of
our own (so nothing here depends on ``derive/__main__.py``) and through
``claims``/``diagnose`` directly.  Every diagnosis is tested on at least two
activation/loss pairs.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import replace

import pytest
from sympy import Integer, Rational, diff

from derive.certify import CertificationError, certify
from derive.check.claims import (
    ClaimError, Reference, check, diagonal_entry, read_claim, reference, sample_points, symbolic_proof,
)
from derive.cli.check_arguments import add_parser
from derive.cli.usage import UsageError
from derive.cli.main import problem_of
from derive.check.diagnose import TARGET_FAMILIES, Diagnosis, Mistake, Sample, diagnose
from derive.parse import ParseError
from derive.problem import Problem
from derive.symbols import CLASSES, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.engine.rules import registry
from tooling import compile_latex, katex_errors, markdown_formulas, overfull_boxes, slow_after

SEED_CLAIM = "(y[k] - o[k])/(o[k]*(1 - o[k]))"  # seed 001: dE/do_j "derived" by dividing factors


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse(argv):
    top = _Parser(prog="derive")
    commands = top.add_subparsers(dest="command", parser_class=_Parser)
    add_parser(commands)
    return top.parse_args(argv)


def cli(argv, capsys):
    from derive.cli.main import main

    code = main(argv)  # the command line's own parsing and error table
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def refs():
    """Certified references, built once per pair for the whole module (the library keeps no cache)."""
    built: dict = {}

    def of(problem: Problem, wrt: str = "z") -> Reference:
        if (problem, wrt) not in built:
            built[(problem, wrt)] = reference(problem, wrt)
        return built[(problem, wrt)]

    def get(activation, loss, wrt="z", targets=None, classes=None) -> Reference:
        return of(Problem(activation, loss, classes, targets), wrt)

    get.of = of
    return get


def verdict(refs, activation, loss, claim, wrt="z", targets=None, classes=None):
    ref = refs(activation, loss, wrt, targets, classes)
    return check(read_claim(claim, ref), ref)


# -- the reference derivations -----------------------------------------------------------------

def test_references_are_certified_derivations(refs):
    ref = refs("softmax", "cross-entropy", "o")
    assert str(ref.truth) == "-y[k]/o[k]"
    assert str(ref.inputs.result) == "o[k] - y[k]"
    assert ref.diagonal.equals(OUTPUT[FREE_INDEX] * (1 - OUTPUT[FREE_INDEX]))
    for trail in (ref.inputs, ref.outputs):
        assert trail.steps and all(step.certified for step in trail.steps)
    assert [step.rule for step in ref.outputs.steps][-1] is registry.DELTA_SUM


def test_output_derivation_is_really_certified(refs):
    ref = refs("sigmoid", "binary-cross-entropy", "o")
    broken = replace(ref.outputs, result=-ref.outputs.result)
    with pytest.raises(CertificationError):
        certify(broken)


@pytest.mark.parametrize("activation", slow_after(2, ["softmax", "sigmoid", "tanh", "softplus"]))
def test_diagonal_entry_matches_sympy(refs, activation):
    loss = "sum-of-squares"
    ref = refs(activation, loss)
    body = ref.activation.xreplace({CLASSES: 2})
    written = {OUTPUT[m]: body.xreplace({SUM_INDEX: m}).doit() for m in (1, 2)}
    point = {INPUT[1]: Rational(3, 10), INPUT[2]: Rational(-7, 10)}
    expected = diff(written[OUTPUT[2]], INPUT[2]).xreplace(point).evalf(30)
    found = ref.diagonal.xreplace({FREE_INDEX: 2}).xreplace(written).xreplace(point).evalf(30)
    assert abs(expected - found) < 1e-25


def test_a_wrong_lemma_is_refused(refs):
    ref = refs("softmax", "cross-entropy")
    steps = list(ref.inputs.steps)
    at = next(n for n, step in enumerate(steps) if step.rule is registry.LEMMA)
    derivative, _ = steps[at].focus
    steps[at] = replace(steps[at], focus=(derivative, OUTPUT[derivative.expr.indices[0]]))
    with pytest.raises(CertificationError):
        diagonal_entry(replace(ref.inputs, steps=tuple(steps)), ref.activation)


# -- claims that hold --------------------------------------------------------------------------

HOLDS_SYMBOLIC = [
    ("softmax", "cross-entropy", "z", None, "o[k] - y[k]"),
    ("softmax", "cross-entropy", "z", None, "exp(z[k])/sum(exp(z[j]), j) - y[k]"),
    ("softmax", "cross-entropy", "z", None, "o[k]*sum(y[j], j) - y[k]"),
    ("softmax", "cross-entropy", "z", "any", "o[k]*sum(y[i], i) - y[k]"),
    ("softmax", "cross-entropy", "o", None, "-y[k]/o[k]"),
    ("softmax", "sum-of-squares", "z", None, "o[k]*(o[k] - y[k]) - o[k]*sum(o[i]*(o[i] - y[i]), i)"),
    ("sigmoid", "sum-of-squares", "z", None, "(o[k] - y[k])*o[k]*(1 - o[k])"),
    ("sigmoid", "binary-cross-entropy", "z", None, "1/(1 + exp(-z[k])) - y[k]"),
    ("tanh", "sum-of-squares", "o", None, "o[k] - y[k]"),
]


@pytest.mark.parametrize("activation, loss, wrt, targets, claim", slow_after(5, HOLDS_SYMBOLIC))
def test_equal_claims_are_proved_symbolically(refs, activation, loss, wrt, targets, claim):
    outcome = verdict(refs, activation, loss, claim, wrt, targets)
    assert outcome.holds and outcome.method == "symbolic"
    assert outcome.counterexample is None and outcome.diagnosis is None


HOLDS_SAMPLED = [
    ("softmax", "cross-entropy", "z", None, "o[k] - y[k]**2"),           # one-hot: y_k**2 = y_k
    ("softmax", "cross-entropy", "o", None, "-y[k]*sum(o[i], i)/o[k]"),  # softmax outputs sum to one
    ("softmax", "cross-entropy", "z", None, "sum(sum(o[i]*y[j], j), i)*o[k] - y[k]"),  # a double sum
]


@pytest.mark.parametrize("activation, loss, wrt, targets, claim", HOLDS_SAMPLED)
def test_claims_equal_only_under_the_assumptions_are_sampled(refs, activation, loss, wrt, targets, claim):
    outcome = verdict(refs, activation, loss, claim, wrt, targets)
    assert outcome.holds and outcome.method == "sampled"
    assert outcome.classes == (1, 2, 3, 4, 5, 6, 7, 9, 12) and outcome.points >= 60


def test_the_proof_kernel_proves_what_follows_from_the_definitions(refs):
    ref = refs("softmax", "poisson")  # targets any; sum_i o_i = 1 follows from softmax's definition
    assert symbolic_proof(read_claim("o[k]*sum(y[i], i) - y[k]", ref), ref) == "plain"


def test_symbolic_proof_says_which_assumption_it_used(refs):
    ref = refs("softmax", "cross-entropy")
    assert symbolic_proof(read_claim("o[k] - y[k]", ref), ref) == "plain"
    assert symbolic_proof(read_claim("o[k]*sum(y[i], i) - y[k]", ref), ref) == "assumption"
    assert symbolic_proof(read_claim("o[k]", ref), ref) is None
    assert symbolic_proof(read_claim("sum(sum(y[i]*o[j], j), i) - y[k]", ref), ref) is None  # nested: sampled


def test_concrete_H_samples_only_that_H(refs):
    outcome = verdict(refs, "softmax", "cross-entropy", "o[1] - y[1] + o[k] - y[k] - o[1] + y[1]", classes=4)
    assert outcome.holds and outcome.classes == (4,)
    wrong = verdict(refs, "softmax", "cross-entropy", "y[k] - o[k]", classes=4)
    assert not wrong.holds and wrong.counterexample.point.classes == 4


# -- counterexamples ---------------------------------------------------------------------------

def test_seed_001_counterexample_is_seed_000s_example(refs):
    outcome = verdict(refs, "softmax", "cross-entropy", SEED_CLAIM, "o")
    found = outcome.counterexample
    assert not outcome.holds
    assert (found.point.classes, found.point.k) == (3, 1)
    assert found.point.outputs == (Rational(1, 5), Rational(3, 5), Rational(1, 5))
    assert found.point.targets == (1, 0, 0)
    assert float(found.claimed) == pytest.approx(5) and float(found.true) == pytest.approx(-5)


@pytest.mark.parametrize("activation, loss, claim", [
    ("softmax", "cross-entropy", "y[k]*o[k] - y[k]"),
    ("softmax", "sum-of-squares", "(o[k] - y[k])*o[k]*(1 - o[k])"),
    ("sigmoid", "binary-cross-entropy", "y[k] - o[k]"),
])
def test_counterexample_is_confirmed_by_sympy_diff_of_the_loss(refs, activation, loss, claim):
    """Independent of the engine: differentiate the written-out loss at the counterexample's point."""
    from derive import catalog

    outcome = verdict(refs, activation, loss, claim)
    point = outcome.counterexample.point
    H, k = point.classes, point.k
    o = [catalog.activation(activation).formula(m, H) for m in range(1, H + 1)]
    loss_expr = sum(catalog.loss(loss).per_class(m).xreplace({OUTPUT[m]: o[m - 1].doit()}) for m in range(1, H + 1))
    values = {INPUT[m]: point.inputs[m - 1] for m in range(1, H + 1)}
    values.update({TARGET[m]: point.targets[m - 1] for m in range(1, H + 1)})
    true = diff(loss_expr, INPUT[k]).xreplace(values).evalf(40)
    assert abs(true - outcome.counterexample.true) < 1e-25
    assert abs(outcome.counterexample.claimed - true) > 1e-6


# -- diagnoses: every mistake on at least two pairs ---------------------------------------------

DIAGNOSES = [
    # sign-flipped
    ("softmax", "cross-entropy", "z", None, "y[k] - o[k]", ["sign-flipped"]),
    ("sigmoid", "binary-cross-entropy", "z", None, "y[k] - o[k]", ["sign-flipped"]),
    ("tanh", "sum-of-squares", "o", None, "y[k] - o[k]", ["sign-flipped"]),
    # diagonal-only: keep the i = k term of the chain rule
    ("softmax", "cross-entropy", "z", None, "y[k]*o[k] - y[k]", ["diagonal-only"]),
    ("softmax", "sum-of-squares", "z", None, "(o[k] - y[k])*o[k]*(1 - o[k])", ["diagonal-only"]),
    ("softmax", "poisson", "z", None, "(o[k] - y[k])*(1 - o[k])", ["diagonal-only"]),
    # divided-factors: dE/do_k = (dE/dz_k) / (do_k/dz_k)
    ("softmax", "cross-entropy", "o", None, "(o[k] - y[k])/(o[k]*(1 - o[k]))", ["divided-factors"]),
    ("softmax", "poisson", "o", None, "(o[k]*sum(y[i], i) - y[k])/(o[k]*(1 - o[k]))", ["divided-factors"]),
    ("softmax", "sum-of-squares", "o", None,
     "(o[k] - y[k]) - (sum((o[i] - y[i])*o[i], i) - (o[k] - y[k])*o[k])/(1 - o[k])", ["divided-factors"]),
    # target-assumption, each direction
    ("softmax", "cross-entropy", "z", "any", "o[k] - y[k]", ["target-assumption"]),
    ("softmax", "poisson", "z", None, "o[k] - y[k]", ["target-assumption"]),
    ("softmax", "cross-entropy", "z", None, "o[k] - 1", ["target-assumption"]),
    ("exp", "cross-entropy", "z", None, "-1", ["target-assumption"]),
    ("softmax", "cross-entropy", "z", "distribution", "o[k] - y[k]**2", ["target-assumption"]),
    # factor-two
    ("sigmoid", "sum-of-squares", "z", None, "2*(o[k] - y[k])*o[k]*(1 - o[k])", ["factor-two"]),
    ("identity", "sum-of-squares", "z", None, "(o[k] - y[k])/2", ["factor-two"]),
    ("tanh", "sum-of-squares", "o", None, "2*(o[k] - y[k])", ["factor-two"]),
    # mean-vs-sum
    ("softmax", "cross-entropy", "z", None, "(o[k] - y[k])/N", ["mean-vs-sum"]),
    ("sigmoid", "binary-cross-entropy", "z", None, "N*(o[k] - y[k])", ["mean-vs-sum"]),
    ("softmax", "cross-entropy", "o", None, "-y[k]/(N*o[k])", ["mean-vs-sum"]),
    # combinations
    ("softmax", "cross-entropy", "o", None, SEED_CLAIM, ["divided-factors", "sign-flipped"]),
    ("softmax", "poisson", "o", "one-hot", "(y[k] - o[k])/(o[k]*(1 - o[k]))", ["divided-factors", "sign-flipped"]),
    ("softmax", "poisson", "o", None, "(y[k] - o[k])/(o[k]*(1 - o[k]))",  # Poisson targets need not sum to one
     ["divided-factors", "target-assumption", "sign-flipped"]),
    ("softmax", "cross-entropy", "z", None, "y[k] - y[k]*o[k]", ["diagonal-only", "sign-flipped"]),
    ("softmax", "sum-of-squares", "z", None, "(y[k] - o[k])*o[k]*(1 - o[k])", ["diagonal-only", "sign-flipped"]),
    ("softmax", "cross-entropy", "z", "any", "y[k] - o[k]", ["target-assumption", "sign-flipped"]),
    ("sigmoid", "sum-of-squares", "z", None, "(y[k] - o[k])*o[k]*(1 - o[k])/N", ["sign-flipped", "mean-vs-sum"]),
    ("identity", "sum-of-squares", "z", None, "2*(y[k] - o[k])/N", ["sign-flipped", "factor-two", "mean-vs-sum"]),
]


def _first_of_each_mistake(cases):
    """Every mistake kind keeps its first case in the default tier; the other cases run in the slow tier."""
    seen, chosen = set(), []
    for case in cases:
        new = not set(case[-1]) <= seen
        seen |= set(case[-1])
        chosen.append(case if new else pytest.param(*case, marks=pytest.mark.slow))
    return chosen


@pytest.mark.parametrize("activation, loss, wrt, targets, claim, ids", _first_of_each_mistake(DIAGNOSES))
def test_diagnosis(refs, activation, loss, wrt, targets, claim, ids):
    outcome = verdict(refs, activation, loss, claim, wrt, targets)
    assert not outcome.holds and outcome.counterexample is not None
    assert outcome.diagnosis is not None and outcome.diagnosis.ids == ids


def test_every_mistake_is_tested_on_two_pairs():
    pairs: dict = {}
    for activation, loss, _, _, _, ids in DIAGNOSES:
        for mistake in ids:
            pairs.setdefault(mistake, set()).add((activation, loss))
    assert set(pairs) == {m.value for m in Mistake}
    assert all(len(found) >= 2 for found in pairs.values()), pairs


@pytest.mark.parametrize("activation, loss, wrt, claim", [
    ("softmax", "cross-entropy", "z", "o[k]"),
    ("softmax", "cross-entropy", "z", "o[k]**2 - y[k]"),
    ("sigmoid", "binary-cross-entropy", "o", "o[k] - y[k]"),
    ("softmax", "cross-entropy", "z", "3*(o[k] - y[k])"),
])
def test_no_diagnosis_rather_than_a_guess(refs, activation, loss, wrt, claim):
    outcome = verdict(refs, activation, loss, claim, wrt)
    assert not outcome.holds and outcome.diagnosis is None


def test_target_assumption_says_which_family(refs):
    assert verdict(refs, "softmax", "cross-entropy", "o[k] - y[k]", targets="any").diagnosis.family == "distribution"
    assert verdict(refs, "softmax", "cross-entropy", "o[k] - 1").diagnosis.family == "true-class"
    assert verdict(refs, "softmax", "cross-entropy", "o[k] - y[k]**2", targets="distribution").diagnosis.family == "one-hot"


def test_diagnose_on_plain_numbers():
    def samples(claimed, truth, family=0, examples=3):
        return [Sample(family, examples, c, {"truth": t}) for c, t in zip(claimed, truth)]

    truth = [1.5, -2.0, 0.25, 4.0, -0.5, 3.0]
    assert diagnose(samples([-t for t in truth], truth), 0).ids == ["sign-flipped"]
    assert diagnose(samples([t / 3 for t in truth], truth), 0).ids == ["mean-vs-sum"]
    assert diagnose(samples([-2 * t for t in truth], truth), 0).ids == ["sign-flipped", "factor-two"]
    assert diagnose(samples([t + 1 for t in truth], truth), 0) is None
    right_on_narrower = samples([t + 1 for t in truth[:3]], truth[:3]) + samples(truth[3:], truth[3:], family=1)
    assert diagnose(right_on_narrower, 0).ids == ["target-assumption"]
    assert diagnose(samples([-t for t in truth[:2]], truth[:2]), 0) is None  # too few points to say anything


def test_diagnosis_ids_are_stable():
    assert [m.value for m in Mistake] == [
        "diagonal-only", "divided-factors", "target-assumption", "sign-flipped", "factor-two", "mean-vs-sum"]
    assert TARGET_FAMILIES == ("any", "distribution", "one-hot", "true-class")
    assert Diagnosis("truth", -1, Integer(2), -1, None, "one-hot").ids == ["sign-flipped", "factor-two", "mean-vs-sum"]


def test_sampling_is_deterministic_and_exact(refs):
    ref = refs("softmax", "cross-entropy", "o")
    first, second = sample_points(ref), sample_points(ref)
    assert first == second
    for point in first:
        assert sum(point.outputs) == 1  # softmax outputs: on the simplex, exactly
        if point.family == "one-hot":
            assert sorted(point.targets) == [0] * (point.classes - 1) + [1]


# -- the claim as text -------------------------------------------------------------------------

@pytest.mark.parametrize("claim, error", [
    ("o[k] +", ParseError),
    ("__import__('os').system('echo hacked')", ParseError),
    ("o[i] - y[k]", ClaimError),
    ("z[k] - y[k]", ClaimError),  # with --wrt o
    ("o[2] - y[2]", ClaimError),  # a fixed class needs --H
])
def test_bad_claims_are_refused(refs, claim, error):
    with pytest.raises(error):
        read_claim(claim, refs("softmax", "cross-entropy", "o"))


# -- the command -------------------------------------------------------------------------------

def test_seed_001_worked_example(capsys):
    code, out, err = cli(["check", "softmax", "cross-entropy", "--wrt", "o", "--claim=-y[k]/o[k]"], capsys)
    assert code == 0 and err == ""
    assert "The claim is correct" in out and "Certificate: symbolic" in out
    code, out, err = cli(["check", "softmax", "cross-entropy", "--wrt", "o", "--claim", SEED_CLAIM], capsys)
    assert code == 1 and err == ""
    assert "Take H = 3 and k = 1, with o = (0.2, 0.6, 0.2) and y = (1, 0, 0)." in out
    assert "The claim gives 5, but the certified derivative is -5." in out
    assert "Diagnosis: divided-factors, sign-flipped" in out
    assert "step 5\n(Chain rule)" in out or "step 5 (Chain rule)" in out
    code, out, err = cli(["check", "softmax", "cross-entropy", "--claim", "y[k] - o[k]"], capsys)
    assert code == 1 and "Diagnosis: sign-flipped" in out


@pytest.mark.parametrize("argv, message", [
    (["check", "relu", "cross-entropy", "--claim", "o[k]"], "unknown activation"),
    (["check", "softmax", "hinge", "--claim", "o[k]"], "unknown loss"),
    (["check", "tanh", "cross-entropy", "--claim", "o[k]"], "undefined"),
    (["check", "softmax", "cross-entropy", "--claim", "o[k] +"], "invalid syntax"),
    (["check", "softmax", "cross-entropy", "--claim", "open('x')"], "unknown function"),
    (["check", "softmax", "cross-entropy", "--wrt", "o", "--claim", "z[k]"], "--wrt o"),
    (["check", "softmax", "binary-cross-entropy", "--H", "1", "--claim", "o[k]"], "one class"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = cli(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("derive: ") and message in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_value_too_large_to_compute_is_no_value(capsys):
    """exp(exp(exp(100))) passes the parser's limits; evaluating it must still end, quickly."""
    code, out, err = cli(["check", "softmax", "cross-entropy", "--claim", "exp(exp(exp(100*o[k])))"], capsys)
    assert code == 1 and err == ""
    assert "The claim has no finite real value there" in out


def test_an_uncertified_reference_gives_no_verdict(capsys, monkeypatch):
    import derive.check.claims

    def refuse(trail, *args, **kwargs):
        raise CertificationError("step 'Chain rule' failed certification (H=2)")

    monkeypatch.setattr(derive.check.claims, "certify", refuse)
    code, out, err = cli(["check", "softmax", "cross-entropy", "--claim", "o[k] - y[k]"], capsys)
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "no verdict" in err


@pytest.mark.parametrize("argv", [
    ["check", "softmax", "cross-entropy"],                                  # no --claim
    ["check", "softmax", "cross-entropy", "--claim", "o[k]", "--H", "0"],
    ["check", "softmax", "cross-entropy", "--claim", "o[k]", "--H", "101"],
    ["check", "softmax", "cross-entropy", "--claim", "o[k]", "--wrt", "y"],
    ["check", "softmax", "cross-entropy", "--claim", "o[k]", "--format", "pdf"],
])
def test_bad_usage_is_a_parser_error(argv):
    with pytest.raises(UsageError):
        parse(argv)


def test_json_contract(capsys):
    code, out, _ = cli(["check", "softmax", "cross-entropy", "--wrt", "o", "--claim", SEED_CLAIM, "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["holds"] is False
    assert data["method"]["kind"] == "sampled" and data["method"]["H"] == [1, 2, 3, 4, 5, 6, 7, 9, 12]
    assert data["method"]["points"] > 0
    assert data["counterexample"] == {"H": 3, "k": 1, "values": {"o": [0.2, 0.6, 0.2], "y": [1.0, 0.0, 0.0]},
                                      "claimed": 5.0, "true": -5.0}
    assert [d["id"] for d in data["diagnosis"]] == ["divided-factors", "sign-flipped"]
    assert all(d["text"] and "$" not in d["text"] and "\\" not in d["text"] for d in data["diagnosis"])
    code, out, _ = cli(["check", "softmax", "cross-entropy", "--claim", "o[k] - y[k]", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["holds"] is True
    assert data["method"]["kind"] == "symbolic" and data["method"]["H"] == "all"
    assert data["counterexample"] is None and data["diagnosis"] is None
    code, out, _ = cli(["check", "softmax", "cross-entropy", "--claim", "o[k]", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 1 and data["diagnosis"] is None and data["counterexample"]["values"]["z"] == [0.5, 1.5, -0.5]


REPORTS = [
    ["softmax", "cross-entropy", "--wrt", "o", "--claim", SEED_CLAIM],
    ["softmax", "cross-entropy", "--wrt", "o", "--claim=-y[k]/o[k]"],
    ["softmax", "cross-entropy", "--claim", "y[k] - y[k]*o[k]"],
    ["softmax", "cross-entropy", "--targets", "any", "--claim", "o[k] - y[k]"],
    ["softmax", "poisson", "--claim", "o[k]*sum(y[i], i) - y[k]"],
    ["sigmoid", "sum-of-squares", "--claim", "2*(y[k] - o[k])*o[k]*(1 - o[k])/N"],
    ["softmax", "cross-entropy", "--claim", "o[k]", "--H", "3"],
    ["softmax", "cross-entropy", "--claim", "o[k] - 1"],
    ["softmax", "poisson", "--wrt", "o", "--claim", "(y[k] - o[k])/(o[k]*(1 - o[k]))"],
    ["tanh", "sum-of-squares", "--wrt", "o", "--claim", "2*(o[k] - y[k])"],
]


@pytest.fixture(scope="module", params=[REPORTS[:6], pytest.param(REPORTS[6:], marks=pytest.mark.slow)],
                ids=["first-reports", "other-reports"])
def rendered(refs, request):
    from derive.cli.check import report

    documents = {}
    for argv in request.param:
        args = parse(["check", *argv])
        ref = refs.of(problem_of(args), args.wrt)
        outcome = check(read_claim(args.claim, ref), ref)
        for fmt in ("text", "md", "tex"):
            documents[(" ".join(argv), fmt)] = report(outcome, args.claim, fmt)
    return documents


def test_markdown_formulas_parse_in_katex(rendered):
    for (argv, fmt), text in rendered.items():
        if fmt == "md":  # an inline formula that opens with a space would not be maths at all
            assert not re.search(r"(^|\s)\$\s", text.replace("$$", "")), argv
    formulas = [f for (_, fmt), text in rendered.items() if fmt == "md" for f in markdown_formulas(text)]
    assert len(formulas) > 50
    errors = katex_errors(formulas)
    assert errors == [], [(formulas[i][0][:80], message) for i, message in errors]


@pytest.mark.slow  # the committed documents compile in the fast tier (test_documents); the reports in CI's slow tier
def test_latex_reports_compile(rendered, tmp_path):
    for n, ((_, fmt), text) in enumerate(sorted(rendered.items())):
        if fmt != "tex":
            continue
        source = tmp_path / f"check{n}.tex"
        source.write_text(text)
        assert compile_latex(source, tmp_path).stat().st_size > 5_000
        log = source.with_suffix(".log").read_text(errors="replace")
        assert max(overfull_boxes(log), default=0) <= 10, "a formula runs into the margin"


def test_text_reports_are_plain(rendered):
    for (argv, fmt), text in rendered.items():
        if fmt == "text":
            assert "$" not in text and "\\" not in text, argv
            assert not any(mark in text for mark in ("((*", "*))", "((=", "=))")), argv
            assert "\u00a0" not in text


def test_reports_say_the_same_thing_in_every_format(rendered):
    for key in {argv for argv, _ in rendered}:
        texts = [rendered[(key, fmt)] for fmt in ("text", "md", "tex")]
        holds = ["The claim is correct" in text for text in texts]
        assert len(set(holds)) == 1
        for mistake in Mistake:
            assert len({mistake.value in text for text in texts}) == 1, (key, mistake)


# -- issue 11, item 6: check takes --activation and --loss as pair does ---------------------------

USER_CLAIMS = slow_after(1, [
    # (arguments, exit code): proved, refuted, names mixed with expressions either way round
    (["--activation", "z", "--loss", "sum((o[i]-y[i])**2, i)/2", "--claim", "o[k]-y[k]"], 0),
    (["--activation", "1/(1+exp(-z))", "binary-cross-entropy", "--claim", "o[k]-y[k]"], 0),
    (["--activation", "exp(z[i]/2)/sum(exp(z[j]/2), j)", "--loss", "cross-entropy", "--claim", "o[k]-y[k]"], 1),
    (["--activation", "tanh(z)", "sum-of-squares", "--claim", "o[k]-y[k]"], 1),
    (["softmax", "--loss", "-sum(y[i]*log(o[i]), i)", "--targets", "one-hot", "--claim", "o[k]-y[k]"], 0),
    (["--activation", "exp(z[i]/2)/sum(exp(z[j]/2), j)", "cross-entropy", "--claim", "(o[k]-y[k])/2"], 0),
    (["--activation", "tanh(z)", "sum-of-squares", "--wrt", "o", "--claim", "o[k]-y[k]"], 0),
])


@pytest.mark.parametrize("arguments, code", USER_CLAIMS, ids=lambda a: " ".join(a) if isinstance(a, list) else str(a))
def test_check_takes_user_expressions_as_pair_does(capsys, arguments, code):
    found, out, err = cli(["check", *arguments], capsys)
    assert found == code, err or out
    assert out.startswith("The claim is correct" if code == 0 else "The claim is wrong")
    assert "derive pair" in out  # the document to read next is named with the same arguments


@pytest.mark.parametrize("arguments", [
    ["softmax", "--claim", "o[k]"],                                  # a loss is missing
    ["--activation", "z", "softmax", "cross-entropy", "--claim", "o[k]"],  # one name too many
    ["--activation", "__import__('os')", "cross-entropy", "--claim", "o[k]"],
])
def test_check_with_bad_pairs_is_exit_2(capsys, arguments):
    from derive.cli.main import main
    assert main(["check", *arguments]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_departure_step_is_printed_as_the_document_prints_that_step(capsys):
    """Step 8 (the index split) still holds the lemma's values unmultiplied; step 9 cancels them."""
    code, out, _ = cli(["check", "softmax", "cross-entropy", "--claim=-y[k]*(1-o[k])"], capsys)
    assert code == 1 and "at step 8" in " ".join(out.split())
    assert "y[i]*(-o[i]*o[k])/o[i]" in out and "-(1 - o[k])*y[k] - sum(-o[k]*y[i]" not in out

"""Every loss/activation pair through the one engine (issue "Verify any loss/activation pair").

The engine has no per-pair code path, so these tests treat every pair the same
way: derive, certify, and compare the gradient with an independent ``sympy.diff``
of the loss built straight from the catalogue's formulas.  The command line is
exercised through ``main(argv)`` (no subprocess).

Derivations are cached per module (``lru_cache``) because certification costs
up to a few seconds per trail; every test only reads the cached trails.
"""

from __future__ import annotations

import functools
import json
import random
import re

import pytest
from sympy import (
    Derivative, Eq, Indexed, KroneckerDelta, Ne, Rational, S, Sum, UnevaluatedExpr, diff, exp, expand, log, srepr, tanh,
)

from derive.__main__ import main
from derive.catalog import ACTIVATIONS, LOSSES, UndefinedPair, valid_pairs
from derive.certify import certify
from derive.engine.derivation import derive
from derive.holding import release
from derive.present.notation import Notation
from derive.cli.pipeline import Derivation
from derive.problem import Problem
from derive.serialize import trail_from_json
from derive.srepr import load
from derive.sums import SumExcept
from derive.symbols import CLASSES, FREE_INDEX, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.engine.rules import registry
from derive.trail import Mark

z, y, o = INPUT, TARGET, OUTPUT
i, k = SUM_INDEX, FREE_INDEX

VALID = valid_pairs()
# every activation and every loss at least once in the fast tier; the other pairs of the catalogue in CI's slow tier
FAST_PAIRS = {("softmax", "cross-entropy"), ("sigmoid", "binary-cross-entropy"), ("softmax", "sum-of-squares"),
              ("tanh", "sum-of-squares"), ("exp", "poisson"), ("softplus", "cross-entropy"), ("identity", "sum-of-squares"),
              ("sigmoid", "poisson")}
INVALID = [(a, l) for a in ACTIVATIONS for l in LOSSES if (a, l) not in VALID]
ELEMENTWISE = ("sigmoid", "tanh", "identity", "exp", "softplus")
SYMBOLIC = [("softmax", "cross-entropy"), ("sigmoid", "sum-of-squares"), ("identity", "sum-of-squares"),
            ("exp", "poisson"), ("tanh", "sum-of-squares")]
TOLERANCE = Rational(1, 10**20)
DIGITS = 40


def pair_id(pair):
    return "+".join(pair)


# -- helpers ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def certified(activation: str, loss: str, classes: int | None = 3, targets: str | None = None):
    return certify(derive(Problem(activation, loss, classes=classes, targets=targets)))


def all_steps(steps):
    for step in steps:
        yield step
        yield from all_steps(step.substeps)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


_JSON_CACHE: dict[tuple[str, ...], dict] = {}


def json_of(argv, capsys) -> dict:
    """``main([... '--format', 'json', '-o', '-'])`` parsed; cached by argv (derivations are slow)."""
    key = tuple(argv)
    if key not in _JSON_CACHE:
        code, out, err = run([*argv, "--format", "json", "-o", "-"], capsys)
        assert code == 0, err
        assert err == ""
        _JSON_CACHE[key] = json.loads(out)
    return _JSON_CACHE[key]


def json_steps(steps):
    for step in steps:
        yield step
        yield from json_steps(step["substeps"])


def assert_refused_in_one_line(code, out, err):
    assert code == 2
    assert out == ""
    assert err.startswith("derive: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err


def independent_gradient(activation: str, loss: str, classes: int) -> list:
    """``∂E/∂z_k`` for k = 1..H by plain ``sympy.diff`` of E written out from the catalogue's formulas."""
    outputs = {m: ACTIVATIONS[activation].formula(m, classes).doit() for m in range(1, classes + 1)}
    assert all(not value.has(Sum) for value in outputs.values())
    error = sum((LOSSES[loss].per_class(m).xreplace({o[m]: outputs[m]}) for m in range(1, classes + 1)), S.Zero)
    assert not error.has(o)
    return [diff(error, z[m]) for m in range(1, classes + 1)]


def random_point(classes: int, one_hot: bool, rng: random.Random) -> dict:
    """Exact rational inputs in [-2, 2] and targets (a one-hot vector, or anything in [0, 1])."""
    point = {z[m]: Rational(rng.randint(-200, 200), 100) for m in range(1, classes + 1)}
    if one_hot:
        hot = rng.randint(1, classes)
        point.update({y[m]: S.One if m == hot else S.Zero for m in range(1, classes + 1)})
    else:
        point.update({y[m]: Rational(rng.randint(0, 100), 100) for m in range(1, classes + 1)})
    return point


def numerically_equal(a, b, point) -> bool:
    left = a.xreplace(point).evalf(DIGITS)
    right = b.xreplace(point).evalf(DIGITS)
    assert left.is_number and right.is_number, (left, right)
    return abs(left - right) < TOLERANCE


def written_in_z_and_y(component) -> bool:
    bases = {node.base for node in component.atoms(Indexed)}
    return (
        bases <= {z, y}
        and not component.has(Derivative, Sum, SumExcept, UnevaluatedExpr, KroneckerDelta)
        and not component.has(CLASSES, FREE_INDEX, SUM_INDEX, INNER_INDEX)
    )


def uses_one_hot(loss: str, targets: str | None = None) -> bool:
    return (targets or LOSSES[loss].default_targets) == "one-hot"


released = release  # open every hold, so SymPy's ordinary evaluation applies


def same(a, b) -> bool:
    return expand(released(a) - released(b)) == 0


# -- 0. the catalogue formulas the independent check relies on are the issue's formulas ---


def test_catalogue_formulas_are_the_textbook_ones():
    m = 2
    assert ACTIVATIONS["softmax"].formula(m, 3).doit() == exp(z[2]) / (exp(z[1]) + exp(z[2]) + exp(z[3]))
    assert same(ACTIVATIONS["sigmoid"].formula(m, 3), 1 / (1 + exp(-z[2])))
    assert ACTIVATIONS["tanh"].formula(m, 3) == tanh(z[2])
    assert ACTIVATIONS["identity"].formula(m, 3) == z[2]
    assert ACTIVATIONS["exp"].formula(m, 3) == exp(z[2])
    assert ACTIVATIONS["softplus"].formula(m, 3) == log(1 + exp(z[2]))
    assert same(LOSSES["cross-entropy"].per_class(m), -y[2] * log(o[2]))
    assert same(LOSSES["binary-cross-entropy"].per_class(m), -(y[2] * log(o[2]) + (1 - y[2]) * log(1 - o[2])))
    assert same(LOSSES["sum-of-squares"].per_class(m), (o[2] - y[2]) ** 2 / 2)
    assert same(LOSSES["poisson"].per_class(m), o[2] - y[2] * log(o[2]))


def test_catalogue_has_every_activation_and_loss_of_the_issue():
    assert set(ACTIVATIONS) == {"softmax", "sigmoid", "tanh", "identity", "exp", "softplus"}
    assert set(LOSSES) == {"cross-entropy", "binary-cross-entropy", "sum-of-squares", "poisson"}
    assert len(VALID) == len(set(VALID)) == 16


# -- 1. every valid pair derives, certifies and agrees with an independent sympy.diff -----


def tiered(pair):
    return pytest.param(pair, id=pair_id(pair), marks=[] if pair in FAST_PAIRS else [pytest.mark.slow])


@pytest.mark.parametrize("pair", [tiered(pair) for pair in VALID])
def test_every_valid_pair_at_H3_is_certified_and_matches_sympy_diff(pair):
    activation, loss = pair
    trail = certified(activation, loss, 3)
    assert trail.steps and all(step.certified for step in all_steps(trail.steps))
    assert trail.classes == 3 and trail.gradient is not None and len(trail.gradient) == 3
    assert not trail.result.has(Derivative)
    truth = independent_gradient(activation, loss, 3)
    rng = random.Random(f"{activation}/{loss}")
    for _ in range(3):
        point = random_point(3, uses_one_hot(loss), rng)
        for number, (component, expected) in enumerate(zip(trail.gradient, truth), start=1):
            assert numerically_equal(component.doit(), expected, point), (number, component, expected, point)


GRADIENT_WITH_SUM_EXCEPT = {("softmax", "binary-cross-entropy"), ("softmax", "sum-of-squares"), ("softmax", "poisson")}


@pytest.mark.parametrize("pair", [tiered(pair) for pair in VALID])
def test_gradient_components_are_written_in_z_and_y_alone(pair):
    trail = certified(*pair, 3)
    for component in trail.gradient:
        assert written_in_z_and_y(component), component


@pytest.mark.parametrize(
    "pair, classes",
    [(("softmax", "binary-cross-entropy"), 2), (("softmax", "cross-entropy"), 1), (("softmax", "poisson"), 1),
     (("sigmoid", "binary-cross-entropy"), 1), (("identity", "sum-of-squares"), 5)],
    ids=lambda value: pair_id(value) if isinstance(value, tuple) else f"H={value}",
)
def test_other_concrete_class_counts(pair, classes):
    activation, loss = pair
    trail = certified(activation, loss, classes)
    assert all(step.certified for step in all_steps(trail.steps))
    truth = independent_gradient(activation, loss, classes)
    rng = random.Random(f"{activation}/{loss}/{classes}")
    for _ in range(2):
        point = random_point(classes, uses_one_hot(loss), rng)
        for component, expected in zip(trail.gradient, truth, strict=True):
            assert numerically_equal(component.doit(), expected, point), (component, expected)


@pytest.mark.parametrize("pair", SYMBOLIC, ids=pair_id)
def test_symbolic_H_is_certified_and_its_result_matches_sympy_diff_at_H3(pair):
    activation, loss = pair
    trail = certified(activation, loss, None)
    assert trail.classes is None and trail.gradient is None
    assert all(step.certified for step in all_steps(trail.steps))
    truth = independent_gradient(activation, loss, 3)
    rng = random.Random(f"symbolic {activation}/{loss}")
    outputs = {o[m]: ACTIVATIONS[activation].formula(m, 3).doit() for m in range(1, 4)}
    for free in range(1, 4):
        component = released(trail.result).xreplace({CLASSES: 3, FREE_INDEX: free}).doit().xreplace(outputs)
        point = random_point(3, uses_one_hot(loss), rng)
        assert numerically_equal(component, truth[free - 1], point), (free, component)


def test_softmax_with_binary_cross_entropy_refuses_one_class(capsys):
    with pytest.raises(UndefinedPair):
        derive(Problem("softmax", "binary-cross-entropy", classes=1))
    code, out, err = run(["pair", "softmax", "binary-cross-entropy", "--H", "1", "--format", "json", "-o", "-"], capsys)
    assert_refused_in_one_line(code, out, err)
    assert certified("softmax", "binary-cross-entropy", 2).min_classes == 2


# -- 2. invalid combinations are refused --------------------------------------------------


def test_the_invalid_combinations_are_the_expected_ones():
    assert set(INVALID) == {
        ("tanh", "cross-entropy"), ("tanh", "binary-cross-entropy"), ("tanh", "poisson"),
        ("identity", "cross-entropy"), ("identity", "binary-cross-entropy"), ("identity", "poisson"),
        ("exp", "binary-cross-entropy"), ("softplus", "binary-cross-entropy"),
    }


@pytest.mark.parametrize("pair", INVALID, ids=pair_id)
@pytest.mark.parametrize("extra", [[], ["--H", "3"]], ids=["symbolic-H", "H=3"])
def test_every_invalid_combination_exits_2_in_one_line(pair, extra, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    activation, loss = pair
    code, out, err = run(["pair", activation, loss, *extra, "--format", "json", "-o", "-"], capsys)
    assert_refused_in_one_line(code, out, err)
    assert activation in err and loss in err
    with pytest.raises(UndefinedPair):
        derive(Problem(activation, loss))
    assert list(tmp_path.iterdir()) == []


# -- 3. verdicts ----------------------------------------------------------------------------

CLEAN = [("softmax", "cross-entropy"), ("sigmoid", "binary-cross-entropy"), ("identity", "sum-of-squares"),
         ("exp", "poisson")]
FACTORS = [
    (("sigmoid", "sum-of-squares"), o[k] * (1 - o[k]), {S.Zero, S.One}),
    (("tanh", "sum-of-squares"), 1 - o[k] ** 2, {S.NegativeOne, S.One}),
    (("exp", "sum-of-squares"), o[k], {S.Zero}),
]


@pytest.mark.parametrize("pair", [pytest.param(pair, id=pair_id(pair), marks=[] if n < 2 else [pytest.mark.slow])
                                  for n, pair in enumerate(CLEAN)])
def test_canonical_pairs_collapse_to_o_minus_y(pair, capsys):
    trail = certified(*pair, None)
    assert trail.verdict.matches is True
    assert released(trail.result) == o[k] - y[k]
    data = json_of(["pair", *pair], capsys)
    assert data["matches_o_minus_y"] is True
    assert load(data["result"]["srepr"]) == o[k] - y[k]
    assert data["factor"] is None or load(data["factor"]["srepr"]) == 1


@pytest.mark.parametrize("pair, factor, zeros", FACTORS, ids=lambda v: pair_id(v) if isinstance(v, tuple) else "")
def test_factor_in_front_of_o_minus_y_and_where_it_vanishes(pair, factor, zeros, capsys):
    trail = certified(*pair, None)
    verdict = trail.verdict
    assert verdict.matches is False
    assert same(verdict.factor, factor)
    assert set(verdict.vanishes_at) == zeros
    assert same(trail.result, factor * (o[k] - y[k]))
    data = json_of(["pair", *pair], capsys)
    assert data["matches_o_minus_y"] is False
    assert set(data["factor"]) == {"latex", "srepr"} and data["factor"]["latex"]
    assert same(load(data["factor"]["srepr"]), factor)
    assert {load(value["srepr"]) for value in data["factor_vanishes_at"]} == zeros


def test_softmax_squared_error_has_no_factor(capsys):
    data = json_of(["pair", "softmax", "sum-of-squares"], capsys)
    assert data["matches_o_minus_y"] is False and data["factor"] is None


@pytest.mark.parametrize("pair", VALID, ids=pair_id)
def test_every_verdict_is_consistent_with_its_result(pair):
    """matches ⇔ result is O_k − y_k; a factor f means result = f·(O_k − y_k), f in O_k alone, zero where it says."""
    trail = certified(*pair, 3)
    verdict, result = trail.verdict, released(trail.result)
    assert verdict.matches == (expand(result - (o[k] - y[k])) == 0)
    if verdict.factor is not None:
        assert same(result, verdict.factor * (o[k] - y[k]))
        assert {node for node in verdict.factor.atoms(Indexed)} <= {o[k]}
        for end in verdict.vanishes_at:
            assert verdict.factor.xreplace({o[k]: end}) == 0
        outputs = ACTIVATIONS[pair[0]].outputs
        for end in (outputs.start, outputs.end):
            if end.is_finite and end not in verdict.vanishes_at:
                assert verdict.factor.xreplace({o[k]: end}) != 0


# -- 4. elementwise activations go through the same index split as softmax ---------------


def split_braces(trail):
    splits = [step for step in trail.steps if step.rule is registry.INDEX_SPLIT]
    assert len(splits) == 1, [step.rule for step in trail.steps]
    braces = {a.note: released(a.target) for a in splits[0].annotations if a.mark is Mark.UNDERBRACE}
    assert set(braces) in ({Ne(i, k), Eq(i, k)}, {Eq(i, k)}), braces
    return braces


@pytest.mark.parametrize("pair", VALID, ids=pair_id)
def test_index_split_underbrace_and_vanishing_terms(pair):
    trail = certified(*pair, 3)
    braces = split_braces(trail)
    split = next(step for step in trail.steps if step.rule is registry.INDEX_SPLIT)
    if pair[0] in ELEMENTWISE:  # the i != k terms are zero, and their sum is left out
        assert Ne(i, k) not in braces
        assert not split.after.has(SumExcept)
    else:
        assert braces[Ne(i, k)] != 0
        assert split.after.has(SumExcept)
    assert braces[Eq(i, k)] != 0


@pytest.mark.parametrize("pair", [("softmax", "cross-entropy"), ("sigmoid", "sum-of-squares")], ids=pair_id)
def test_index_split_also_at_symbolic_H(pair):
    braces = split_braces(certified(*pair, None))
    assert (Ne(i, k) not in braces) == (pair[0] in ELEMENTWISE)


@pytest.mark.parametrize("pair", [("sigmoid", "binary-cross-entropy"), ("softmax", "poisson")], ids=pair_id)
def test_index_split_in_json(pair, capsys):
    data = json_of(["pair", *pair, "--H", "3"], capsys)
    split = [step for step in data["steps"] if step["rule"] == "index-split"]
    assert len(split) == 1
    notes = {load(a["note"]["srepr"]): release(load(a["target"]["srepr"]))
             for a in split[0]["annotations"] if a["mark"] == "underbrace"}
    assert (Ne(i, k) not in notes) == (pair[0] in ELEMENTWISE)


# -- 5. target kinds --------------------------------------------------------------------------


def assumption_steps(data):
    """Top-level ASSUMPTION steps (their substeps, if any, repeat the rule for the pieces)."""
    return [step for step in data["steps"] if step["rule"] == "assumption"]


def test_softmax_cross_entropy_one_hot(capsys):
    data = json_of(["pair", "softmax", "cross-entropy", "--targets", "one-hot"], capsys)
    assert data["targets"] == "one-hot"
    assert load(data["result"]["srepr"]) == o[k] - y[k] and data["matches_o_minus_y"] is True
    assert [a["name"] for a in data["assumptions"]] == ["one-hot"]
    assert [step["assumptions"] for step in assumption_steps(data)] == [["one-hot"]]


def test_softmax_cross_entropy_distribution(capsys):
    data = json_of(["pair", "softmax", "cross-entropy", "--targets", "distribution"], capsys)
    assert data["targets"] == "distribution"
    assert load(data["result"]["srepr"]) == o[k] - y[k] and data["matches_o_minus_y"] is True
    assert [a["name"] for a in data["assumptions"]] == ["distribution"]
    assert load(data["assumptions"][0]["srepr"]) == Eq(Sum(y[i], (i, 1, CLASSES)), 1)
    steps = assumption_steps(data)
    assert len(steps) == 1 and steps[0]["assumptions"] == ["distribution"]
    assert all(step["certified"] for step in json_steps(data["steps"]))


def test_softmax_cross_entropy_any_targets(capsys):
    data = json_of(["pair", "softmax", "cross-entropy", "--targets", "any"], capsys)
    assert data["targets"] == "any" and data["assumptions"] == []
    assert expand(load(data["result"]["srepr"]) - (o[k] * Sum(y[i], (i, 1, CLASSES)) - y[k])) == 0
    assert assumption_steps(data) == []
    assert all(step["assumptions"] == [] for step in json_steps(data["steps"]))
    assert data["matches_o_minus_y"] is False and data["factor"] is None
    assert data["matches_when_targets_sum_to_one"] is True


def test_softmax_cross_entropy_default_targets_are_one_hot(capsys):
    data = json_of(["pair", "softmax", "cross-entropy"], capsys)
    assert data["targets"] == "one-hot"


def test_any_targets_gradient_matches_sympy_diff_for_arbitrary_targets():
    trail = certify(derive(Problem("softmax", "cross-entropy", classes=3, targets="any")))
    truth = independent_gradient("softmax", "cross-entropy", 3)
    rng = random.Random("any targets")
    for _ in range(3):
        point = random_point(3, one_hot=False, rng=rng)
        for component, expected in zip(trail.gradient, truth, strict=True):
            assert numerically_equal(component.doit(), expected, point)


def test_any_targets_gradient_is_written_in_z_and_y_alone():
    trail = certify(derive(Problem("softmax", "cross-entropy", classes=3, targets="any")))
    for component in trail.gradient:
        assert written_in_z_and_y(component), component


@pytest.mark.parametrize("targets", ["one-hot", pytest.param("distribution", marks=pytest.mark.slow), "any"])
def test_sigmoid_binary_cross_entropy_is_o_minus_y_for_every_target_kind(targets, capsys):
    data = json_of(["pair", "sigmoid", "binary-cross-entropy", "--targets", targets], capsys)
    assert data["targets"] == targets
    assert load(data["result"]["srepr"]) == o[k] - y[k]
    assert data["matches_o_minus_y"] is True
    assert [a["name"] for a in data["assumptions"]] == ([] if targets == "any" else [targets])
    assert assumption_steps(data) == []  # the result does not need Σ y_i = 1


# -- 6. user-defined pairs ------------------------------------------------------------------

SIGMOID_TEXT = "1/(1+exp(-z))"
BCE_TEXT = "-sum(y[i]*log(o[i]) + (1-y[i])*log(1-o[i]), i)"
SOFTMAX_TEXT = "exp(z[i])/sum(exp(z[k]), k)"


def test_user_defined_sigmoid_with_binary_cross_entropy(capsys):
    data = json_of(["pair", "--activation", SIGMOID_TEXT, "--loss", BCE_TEXT], capsys)
    assert load(data["result"]["srepr"]) == o[k] - y[k]
    assert data["matches_o_minus_y"] is True
    assert all(step["certified"] for step in json_steps(data["steps"]))
    domain = [a for a in data["assumptions"] if a["name"] == "domain"]
    assert {a["srepr"] for a in domain} == {srepr(o[i] > 0), srepr(1 - o[i] > 0)}
    assert {a["latex"] for a in domain} == {"O_{i} > 0", "1 - O_{i} > 0"}


def test_user_defined_json_reads_back_into_the_same_trail(capsys):
    data = json_of(["pair", "--activation", SIGMOID_TEXT, "--loss", BCE_TEXT], capsys)
    trail = trail_from_json(data)
    assert trail.result == o[k] - y[k]
    assert [a.name for a in trail.assumptions] == ["domain", "domain"]


@pytest.mark.parametrize("activation", ["sinh(z)", "cosh(z)", "tanh(exp(z))+1"])
def test_user_defined_json_with_hyperbolic_functions_reads_back(activation, capsys):
    data = json_of(["pair", "--activation", activation, "sum-of-squares"], capsys)
    assert trail_from_json(data).result == load(data["result"]["srepr"])


def test_user_defined_loss_without_logs_has_no_domain_assumption(capsys):
    data = json_of(["pair", "sigmoid", "--loss", "sum((o[i]-y[i])**2/2, i)"], capsys)
    assert [a["name"] for a in data["assumptions"]] == []
    assert data["matches_o_minus_y"] is False
    assert same(load(data["factor"]["srepr"]), o[k] * (1 - o[k]))


def test_user_defined_pair_agrees_with_the_catalogue_pair(capsys):
    data = json_of(["pair", "--activation", SIGMOID_TEXT, "--loss", BCE_TEXT, "--H", "3"], capsys)
    truth = independent_gradient("sigmoid", "binary-cross-entropy", 3)
    rng = random.Random("user sigmoid bce")
    point = random_point(3, one_hot=False, rng=rng)
    for text, expected in zip(data["gradient"], truth, strict=True):
        component = load(text)
        assert written_in_z_and_y(component)
        assert numerically_equal(component, expected, point)


@pytest.mark.parametrize("extra", [[], ["--H", "3"]], ids=["symbolic-H", "H=3"])
def test_user_defined_softmax_whose_bound_index_is_named_k(extra, capsys):
    data = json_of(["pair", "--activation", SOFTMAX_TEXT, "cross-entropy", *extra], capsys)
    assert load(data["result"]["srepr"]) == o[k] - y[k]
    assert data["matches_o_minus_y"] is True
    assert all(step["certified"] for step in json_steps(data["steps"]))
    if extra:
        truth = independent_gradient("softmax", "cross-entropy", 3)
        rng = random.Random("user softmax")
        point = random_point(3, one_hot=True, rng=rng)
        for text, expected in zip(data["gradient"], truth, strict=True):
            assert numerically_equal(load(text), expected, point)


def test_named_document_file_and_title(tmp_path, capsys):
    folder = tmp_path / "docs"
    code, out, err = run(["pair", "--activation", SIGMOID_TEXT, "--loss", BCE_TEXT, "--name", "My Layer!",
                          "--format", "md,json", "-o", str(folder)], capsys)
    assert code == 0 and err == ""
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["my-layer.json", "my-layer.md"]
    assert out.split() == [str(folder / "my-layer.md"), str(folder / "my-layer.json")]
    for name in names:
        assert re.fullmatch(r"[a-z0-9-]+\.(md|json)", name)
    text = (folder / "my-layer.md").read_text()
    assert text.splitlines()[0] == "# My Layer!"


def test_named_document_into_an_existing_folder_with_one_format(tmp_path, capsys):
    code, out, err = run(["pair", "--activation", SIGMOID_TEXT, "--loss", BCE_TEXT, "--name", "My Layer!",
                          "--format", "md", "-o", str(tmp_path)], capsys)
    assert (code, err) == (0, "")
    assert (tmp_path / "my-layer.md").read_text().startswith("# My Layer!")


def test_slug_of_a_hostile_name_is_safe():
    problem = Problem(activation="custom", loss="custom", name="../../etc/passwd; rm -rf ~")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", problem.slug)
    assert Problem(name="!!!").slug == "derivation"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo pwned')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd').read()",
        "exp(z); import os",
        "lambda: z",
        "z if z else z",
        "9**9**9**9",
        "exp(z)\nimport os",
        "eval('1')",
        "z[i] + z",
        "'z'",
        "\u0437",  # Cyrillic ze, looks like z
        "exp(" * 200 + "z" + ")" * 200,
    ],
    ids=range(13),
)
def test_hostile_activation_text_exits_2_in_one_line(text, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["pair", "--activation", text, "cross-entropy", "--format", "json", "-o", "-"], capsys)
    assert_refused_in_one_line(code, out, err)
    assert list(tmp_path.iterdir()) == []


def test_hostile_loss_text_exits_2_in_one_line(capsys):
    code, out, err = run(["pair", "sigmoid", "--loss", "__import__('os')", "--format", "json", "-o", "-"], capsys)
    assert_refused_in_one_line(code, out, err)


def test_user_loss_that_is_not_a_sum_over_i_exits_2(capsys):
    code, out, err = run(["pair", "sigmoid", "--loss", "o[k] - y[k]", "--format", "json", "-o", "-"], capsys)
    assert_refused_in_one_line(code, out, err)


# -- 7. derive list ---------------------------------------------------------------------------


def test_list_prints_every_name_and_exits_0(capsys):
    code, out, err = run(["list"], capsys)
    assert code == 0 and err == ""
    words = out.split()
    for name in [*ACTIVATIONS, *LOSSES]:
        assert name in words, name
    lines = {line.strip() for line in out.splitlines()}
    for activation, loss in VALID:
        assert f"{activation} {loss}" in lines
    for activation, loss in INVALID:
        assert f"{activation} {loss}" not in lines


# -- documents: what the prose claims matches what the step did ---------------------------


def document(pair):
    trail = certified(*pair, 3)
    return trail, Derivation(Problem(*pair, classes=3), trail, Notation()).document("md")


COLLECT_WITHOUT_CANCELLATION = {("tanh", "sum-of-squares"), ("softplus", "sum-of-squares")}


@pytest.mark.parametrize("pair", [tiered(pair) for pair in VALID])
def test_collect_steps_name_what_cancels(pair):
    trail, text = document(pair)
    for step in all_steps(trail.steps):
        if step.rule is registry.COLLECT:
            assert any(a.mark is Mark.CANCELLED for a in step.annotations), step
    assert "Collect like terms:  add up to zero" not in text


EXPAND_WITHOUT_CANCELLATION = {("tanh", "sum-of-squares"), ("sigmoid", "cross-entropy"), ("exp", "sum-of-squares"),
                               ("softplus", "cross-entropy"), ("softplus", "sum-of-squares"), ("softplus", "poisson"),
                               ("sigmoid", "poisson"), ("softmax", "poisson")}


@pytest.mark.parametrize("pair", [tiered(pair) for pair in VALID])
def test_expand_prose_claims_struck_through_terms_only_when_there_are_some(pair):
    trail, text = document(pair)
    expands = [s for s in trail.steps if s.rule is registry.EXPAND]
    with_cancel = [s for s in expands if any(a.mark is Mark.CANCEL for a in s.annotations)]
    assert text.count("struck through") == len(with_cancel)
    assert text.count(r"\cancel{") >= 2 * len(with_cancel)

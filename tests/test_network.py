"""Past the output layer (``--wrt W|b|x``): the derivation, its certificates, the matrix summary, the JSON
and the command line, against ``sympy.diff`` of a network built here from scratch at concrete sizes."""

from __future__ import annotations

import json
import random
from functools import lru_cache

import pytest
from sympy import Abs, IndexedBase, KroneckerDelta, Rational, Matrix, MatrixSymbol, Symbol, diff, exp, log, simplify, tanh

from derive.certify import CertificationError, certify
from derive.certify.network import certify_network
from derive.cli.main import main
from derive.cli.network import derive_network_certified
from derive.engine.derivation import derive
from derive.engine.hidden_layer import hidden_layer
from derive.engine.network import derive_network
from derive.problem import Problem
from derive.srepr import load
from derive.symbols import FREE_INDEX, INNER_INDEX, INPUT_INDEX, NETWORK_INPUT, OUTPUT, TARGET
from derive.trail import Step
from tooling import compile_latex, katex_errors, markdown_formulas, require_tool, slow_after

H, D = 3, 2
x, y, W, b = IndexedBase("x"), IndexedBase("y"), IndexedBase("W"), IndexedBase("b")

# activation and loss written here, independently of the catalogue
ACTIVATIONS = {
    "softmax": lambda z: [exp(z[m]) / sum(exp(v) for v in z) for m in range(len(z))],
    "sigmoid": lambda z: [1 / (1 + exp(-v)) for v in z],
    "tanh": lambda z: [tanh(v) for v in z],
    "identity": lambda z: list(z),
}
LOSSES = {
    "cross-entropy": lambda o, t: -sum(t[m] * log(o[m]) for m in range(len(o))),
    "binary-cross-entropy": lambda o, t: -sum(t[m] * log(o[m]) + (1 - t[m]) * log(1 - o[m]) for m in range(len(o))),
    "sum-of-squares": lambda o, t: sum((o[m] - t[m]) ** 2 for m in range(len(o))) / 2,
}
PAIRS = [("softmax", "cross-entropy"), ("sigmoid", "binary-cross-entropy"), ("sigmoid", "sum-of-squares"),
         ("tanh", "sum-of-squares"), ("identity", "sum-of-squares")]


def reference_loss(activation: str, loss: str):
    """E written out at H = 3, D = 2 in x, y, W, b."""
    z = [sum(W[m, d] * x[d] for d in range(1, D + 1)) + b[m] for m in range(1, H + 1)]
    return LOSSES[loss](ACTIVATIONS[activation](z), [y[m] for m in range(1, H + 1)])


def point(rng: random.Random) -> dict:
    weights = [rng.randint(1, 9) for _ in range(H)]
    values = {y[m]: Rational(weights[m - 1], sum(weights)) for m in range(1, H + 1)}  # targets that sum to 1 exactly
    def draw():
        return Rational(rng.randint(-200, 200), 100)  # exact, so 30 digits of the two sides can be compared

    values |= {x[d]: draw() for d in range(1, D + 1)} | {b[m]: draw() for m in range(1, H + 1)}
    return values | {W[m, d]: draw() for m in range(1, H + 1) for d in range(1, D + 1)}


@lru_cache(maxsize=None)
def network(activation: str, loss: str, wrt: str, classes=H, inputs=D, hidden=None, units=None):
    problem = Problem(activation, loss, classes=classes)
    layer = None if hidden is None else hidden_layer(hidden, None, units)
    return derive_network_certified(problem, wrt, inputs, hidden=layer).trail


M = 2  # hidden units
V, c = IndexedBase("V"), IndexedBase("c")
HIDDEN_ACTIVATIONS = {"sigmoid": lambda v: 1 / (1 + exp(-v)), "tanh": tanh}


def reference_hidden_loss(activation: str, loss: str, hidden: str):
    """E written out at H = 3, D = 2, M = 2 through a hidden layer, in x, y, V, c, W, b."""
    h = [HIDDEN_ACTIVATIONS[hidden](sum(V[m, d] * x[d] for d in range(1, D + 1)) + c[m]) for m in range(1, M + 1)]
    z = [sum(W[k, m] * h[m - 1] for m in range(1, M + 1)) + b[k] for k in range(1, H + 1)]
    return LOSSES[loss](ACTIVATIONS[activation](z), [y[m] for m in range(1, H + 1)])


def hidden_point(rng: random.Random) -> dict:
    values = {key: value for key, value in point(rng).items() if key.base != W}

    def draw():
        return Rational(rng.randint(-200, 200), 100)

    values |= {W[k, m]: draw() for k in range(1, H + 1) for m in range(1, M + 1)}
    return values | {V[m, d]: draw() for m in range(1, M + 1) for d in range(1, D + 1)} | {c[m]: draw() for m in range(1, M + 1)}


def hidden_places(wrt: str):
    table = {
        "W": [(W[k, m], (k - 1, m - 1)) for k in range(1, H + 1) for m in range(1, M + 1)],
        "b": [(b[k], (k - 1,)) for k in range(1, H + 1)],
        "h": [(IndexedBase("h")[m], (m - 1,)) for m in range(1, M + 1)],
        "V": [(V[m, d], (m - 1, d - 1)) for m in range(1, M + 1) for d in range(1, D + 1)],
        "c": [(c[m], (m - 1,)) for m in range(1, M + 1)],
        "x": [(x[d], (d - 1,)) for d in range(1, D + 1)],
    }
    return table[wrt]


@pytest.mark.parametrize("activation, loss, hidden, wrt", slow_after(1, [
    ("softmax", "cross-entropy", "sigmoid", wrt) for wrt in ("W", "V", "x", "b", "c")
] + [("sigmoid", "sum-of-squares", "tanh", wrt) for wrt in ("W", "b", "V", "c", "x")]))
def test_hidden_layer_entries_equal_sympy_diff_of_a_network_built_here(activation, loss, hidden, wrt):
    trail = network(activation, loss, wrt, H, D, hidden, M)
    E = reference_hidden_loss(activation, loss, hidden)
    rng = random.Random(11)
    for _ in range(2):
        values = hidden_point(rng)
        for variable, where in hidden_places(wrt):
            truth = diff(E, variable).xreplace(values).evalf(30)
            got = entry(trail.gradient, where).xreplace(values).evalf(30)
            assert abs(truth - got) <= 1e-20 * max(1, abs(truth)), (variable, truth, got)


def test_hidden_outputs_gradient_equals_sympy_diff_by_h():
    """∂E/∂h_m: E differentiated with h as the output layer's independent inputs, then h put in."""
    trail = network("softmax", "cross-entropy", "h", H, D, "sigmoid", M)
    hs = IndexedBase("h")
    z = [sum(W[k, m] * hs[m] for m in range(1, M + 1)) + b[k] for k in range(1, H + 1)]
    E = LOSSES["cross-entropy"](ACTIVATIONS["softmax"](z), [y[m] for m in range(1, H + 1)])
    values = hidden_point(random.Random(3))
    unit = {hs[m]: HIDDEN_ACTIVATIONS["sigmoid"](sum(V[m, d] * x[d] for d in range(1, D + 1)) + c[m]) for m in range(1, M + 1)}
    for variable, where in hidden_places("h"):
        truth = diff(E, variable).xreplace(unit).xreplace(values).evalf(30)
        got = entry(trail.gradient, where).xreplace(values).evalf(30)
        assert abs(truth - got) <= 1e-20 * max(1, abs(truth)), (variable, truth, got)


def test_the_delta_rule_through_the_hidden_layer():
    trail = network("softmax", "cross-entropy", "V", None, None, "tanh", None)
    slugs = [step.rule.slug for step in trail.steps]
    assert slugs.count("layer-chain") == 3 and "unit-lemma" in slugs and slugs[-1] == "delta-sum"
    assert all(step.certificate.kind == "proof" for step in trail.steps)
    a, h = IndexedBase("a"), IndexedBase("h")
    m, d, i = Symbol("m", integer=True, positive=True), INPUT_INDEX, Symbol("i", integer=True, positive=True)
    from sympy import Sum

    delta = (1 - tanh(a[m]) ** 2) * Sum((OUTPUT[i] - TARGET[i]) * W[i, m], (i, 1, Symbol("H", integer=True, positive=True)))
    assert simplify(trail.result - delta * x[d]) == 0


def places(wrt: str):
    if wrt == "W":
        return [(W[m, d], (m - 1, d - 1)) for m in range(1, H + 1) for d in range(1, D + 1)]
    if wrt == "b":
        return [(b[m], (m - 1,)) for m in range(1, H + 1)]
    return [(x[d], (d - 1,)) for d in range(1, D + 1)]


def entry(gradient, where):
    return gradient[where[0]][where[1]] if len(where) == 2 else gradient[where[0]]


@pytest.mark.parametrize("activation, loss, wrt", slow_after(3, [
    (*PAIRS[0], "W"), (*PAIRS[1], "x"), (*PAIRS[0], "b"),
    *((*pair, wrt) for pair in PAIRS for wrt in ("W", "b", "x") if (pair, wrt) not in ((PAIRS[0], "W"), (PAIRS[1], "x"), (PAIRS[0], "b"))),
]))
def test_gradient_entries_equal_sympy_diff_of_a_network_built_here(activation, loss, wrt):
    trail = network(activation, loss, wrt)
    E = reference_loss(activation, loss)
    rng = random.Random(7)
    for _ in range(3):
        values = point(rng)
        for variable, where in places(wrt):
            truth = diff(E, variable).xreplace(values).evalf(30)
            got = entry(trail.gradient, where).xreplace(values).evalf(30)
            assert abs(truth - got) <= 1e-20 * max(1, abs(truth)), (variable, truth, got)


def test_w_gradient_is_shaped_like_w_and_written_in_x_y_w_b_alone():
    trail = network("softmax", "cross-entropy", "W")
    assert len(trail.gradient) == H and all(len(row) == D for row in trail.gradient)
    bases = {node.base.label.name for row in trail.gradient for e in row for node in e.atoms(type(W[1, 1]))}
    assert bases == {"x", "y", "W", "b"}


def test_the_steps_are_the_chain_rule_the_lemma_the_layer_and_the_sifting():
    trail = network("softmax", "cross-entropy", "W", None, None)
    assert [step.rule.slug for step in trail.steps] == ["layer-chain", "layer-lemma", "layer-derivative", "delta-sum"]
    k, j = FREE_INDEX, INNER_INDEX
    assert trail.result == (OUTPUT[k] - TARGET[k]) * x[j]
    assert all(step.certificate.kind == "proof" for step in trail.steps)


@pytest.mark.parametrize("wrt, expected", [
    ("b", OUTPUT[FREE_INDEX] - TARGET[FREE_INDEX]),
    ("x", None),
])
def test_bias_and_input_results(wrt, expected):
    trail = network("softmax", "cross-entropy", wrt, None, None)
    if expected is not None:
        assert trail.result == expected
    else:
        i = trail.result.limits[0][0]
        assert trail.result.function == (OUTPUT[i] - TARGET[i]) * W[i, INPUT_INDEX]


def test_a_pair_without_o_minus_y_cites_its_own_result():
    trail = network("sigmoid", "sum-of-squares", "b", None, None)
    k = FREE_INDEX
    assert simplify(trail.result - OUTPUT[k] * (1 - OUTPUT[k]) * (OUTPUT[k] - TARGET[k])) == 0


@pytest.mark.parametrize("activation, loss", [("softmax", "cross-entropy"),
                                              pytest.param("sigmoid", "sum-of-squares", marks=pytest.mark.slow)])
def test_matrix_form_equals_index_form(activation, loss):
    """Every summary line, with explicit matrices at H = 3, D = 2, equals the index-form result at every entry."""
    for wrt in ("W", "b", "x"):
        trail = network(activation, loss, wrt)
        output = trail.output
        g = Matrix(H, 1, lambda m, _: output.result.xreplace({FREE_INDEX: m + 1}).doit())
        explicit = {"o": Matrix(H, 1, lambda m, _: OUTPUT[m + 1]), "y": Matrix(H, 1, lambda m, _: TARGET[m + 1]),
                    "x": Matrix(D, 1, lambda d, _: x[d + 1]), "W": Matrix(H, D, lambda m, d: W[m + 1, d + 1]), "g": g}
        row = next(row for row in trail.summary if row.name == wrt)
        value = Matrix(row.value.xreplace({s: explicit[s.name] for s in row.value.atoms(MatrixSymbol)}).doit())
        indices = [index for index, _ in trail.ranges]
        for r in range(value.shape[0]):
            for c in range(value.shape[1]):
                at = dict(zip(indices, (r + 1, c + 1)[: len(indices)]))
                assert simplify(value[r, c] - trail.result.xreplace(at).doit()) == 0, (wrt, r, c)


def test_a_wrong_step_is_refused():
    problem = Problem(classes=2)
    output = certify(derive(problem))
    trail = derive_network(problem, "W", 2, output)
    broken = trail.steps[2]
    wrong = Step(broken.rule, broken.before, -broken.after, focus=None)
    from dataclasses import replace

    with pytest.raises(CertificationError):
        certify_network(replace(trail, steps=trail.steps[:2] + (wrong,) + trail.steps[3:]))


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_gradient_is_a_list_of_rows_of_srepr_strings(capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", "--wrt", "W", "--H", "3", "--inputs", "2", "--format", "json",
                          "-o", "-"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["wrt"] == "W" and data["H"] == 3 and data["D"] == 2
    assert len(data["gradient"]) == 3 and all(len(row) == 2 for row in data["gradient"])
    first = load(data["gradient"][0][0])
    assert {node.base.label.name for node in first.atoms(type(W[1, 1]))} <= {"x", "y", "W", "b"}
    assert [row["name"] for row in data["summary"]] == ["z", "W", "b", "x"]
    assert data["summary"][1]["shape"] == [3, 2]


@pytest.mark.slow
def test_wrt_z_is_the_existing_derivation_byte_for_byte(capsys):
    plain = run(["pair", "sigmoid", "binary-cross-entropy", "--format", "md", "-o", "-"], capsys)
    explicit = run(["pair", "sigmoid", "binary-cross-entropy", "--wrt", "z", "--format", "md", "-o", "-"], capsys)
    assert plain == explicit and plain[0] == 0


@pytest.mark.parametrize("argv, message", [
    (["--wrt", "W", "--inputs", "0"], "--inputs must be between 1 and 1000"),
    (["--wrt", "W", "--inputs", "two"], "--inputs expects a whole number"),
    (["--inputs", "3"], "--inputs, --hidden and --units need --wrt"),
    (["--wrt", "W", "--H", "300", "--inputs", "200"], "--H times --inputs must be at most 40000"),
    (["--wrt", "V", "--hidden", "tanh", "--H", "300", "--units", "200"], "--H times --units must be at most 40000"),
    (["--wrt", "V", "--hidden", "tanh", "--units", "300", "--inputs", "200"], "--units times --inputs must be at most 40000"),
    (["--wrt", "b", "--reduction", "mean"], "not supported with --wrt b"),
    (["--wrt", "V"], "needs a hidden layer"),
    (["--wrt", "q"], "invalid choice"),
    (["--wrt", "W", "--hidden", "softmax"], "must be elementwise"),
    (["--wrt", "W", "--hidden", "tanh(z[i])"], "elementwise activation in z"),
    (["--wrt", "W", "--units", "3"], "--units needs --hidden"),
    (["--wrt", "W", "--hidden", "tanh", "--units", "0"], "--units must be between 1 and 1000"),
    (["--hidden", "tanh"], "--inputs, --hidden and --units need --wrt"),
])
def test_bad_network_input_is_one_line_and_exit_2(argv, message, capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", *argv, "--format", "md", "-o", "-"], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize("wrt, detail", slow_after(1, [("W", "brief"), ("x", "full"), ("W", "standard"), ("W", "full"),
                                                      ("x", "brief"), ("x", "standard")]))
def test_markdown_formulas_parse_in_katex(wrt, detail, capsys):
    require_tool("node")
    code, out, err = run(["pair", "sigmoid", "sum-of-squares", "--wrt", wrt, "--detail", detail, "--format", "md", "-o", "-"],
                         capsys)
    assert code == 0, err
    assert katex_errors(markdown_formulas(out)) == []


def test_notation_presets_and_symbols_apply(capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", "--wrt", "W", "--notation", "seed001", "--symbol", "weight=V",
                          "--symbol", "network_input=a", "--format", "md", "-o", "-"], capsys)
    assert code == 0, err
    assert r"\frac{\partial E}{\partial V_{jk}}" in out and "a_{k}" in out and "W_" not in out


def test_a_network_letter_that_clashes_is_refused(capsys):
    code, out, err = run(["pair", "softmax", "cross-entropy", "--wrt", "b", "--symbol", "bias=y", "--format", "md", "-o", "-"],
                         capsys)
    assert code == 2 and "would both be shown as y" in err


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tex", "tex-fragment", "beamer"])
def test_network_latex_compiles(fmt, tmp_path, capsys):
    require_tool("pdflatex")
    code, out, err = run(["pair", "sigmoid", "sum-of-squares", "--wrt", "x", "--H", "3", "--inputs", "2", "--format", fmt,
                          "-o", str(tmp_path / "doc.tex")], capsys)
    assert code == 0, err
    source = tmp_path / "doc.tex"
    if fmt == "tex-fragment":
        body = source.read_text()
        source.write_text("\\documentclass{article}\\usepackage{amsmath,amssymb,cancel,tikz}\\begin{document}\n" + body + "\\end{document}\n")
    compile_latex(source, tmp_path)


@pytest.mark.parametrize("wrt, hidden, thick", [("W", False, ("x", "z")), ("b", False, ("bz", "z")), ("V", True, ("x", "h")),
                                                ("c", True, ("bh", "h")), ("W", True, ("h", "z")), ("x", False, ())])
def test_the_figure_draws_the_parameters_edges_thick(wrt, hidden, thick):
    from derive.present.network_figure import network_figure
    from derive.present.notation import Notation

    figure = network_figure(wrt, None, None, None, hidden, Notation())
    marked = {(e.source.rstrip("0123456789"), e.target.rstrip("0123456789")) for e in figure.edges if e.highlight}
    assert marked == ({thick} if thick else set())
    assert bool(figure.highlighted) == (wrt == "x")


WRONG_OUTSIDE_SMALL_SAMPLES = {
    "wrong only at k = 7": lambda: 1000 * KroneckerDelta(FREE_INDEX, 7),
    "wrong only at input index 5": lambda: 1000 * KroneckerDelta(INPUT_INDEX, 5),
    "wrong only where an input is below -4": lambda: Abs(NETWORK_INPUT[INPUT_INDEX] + 4) - NETWORK_INPUT[INPUT_INDEX] - 4,
}


@pytest.mark.parametrize("wrt, name, extra", [  # each kind in the fast tier once, by W or by x; both in CI's slow tier
    pytest.param(wrt, name, extra, marks=[] if wrt == ("W", "x")[n % 2] else [pytest.mark.slow])
    for n, (name, extra) in enumerate(WRONG_OUTSIDE_SMALL_SAMPLES.items()) for wrt in ("W", "x")
])
def test_a_step_wrong_only_outside_small_samples_is_refused(wrt, name, extra):
    """The second line samples a size that reaches every number an equation names, and inputs of either sign
    up to 8 in size: a last step wrong only there is refused, not marked as tested."""
    problem = Problem()
    trail = derive_network(problem, wrt, None, certify(derive(problem)))
    last = trail.steps[-1]
    wrong = Step(last.rule, last.before, last.after + extra(), focus=None)
    from dataclasses import replace

    with pytest.raises(CertificationError):
        certify_network(replace(trail, steps=trail.steps[:-1] + (wrong,), result=wrong.after))

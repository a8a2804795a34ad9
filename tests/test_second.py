"""The second derivative (``derive pair ACT LOSS --second``, issue 15 items 5 and 6): derived from the first,
certified, compared with ``sympy.diff``, rendered and written as JSON; the certifier refuses wrong steps."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from functools import lru_cache

import pytest
from sympy import Abs, Derivative, Float, KroneckerDelta, Matrix, diff, exp, log

from derive.catalog import UndefinedPair, valid_pairs
from derive.certify import CertificationError, certify
from derive.certify.second import certify_second
from derive.cli.second import derive_second_certified
from derive.engine.derivation import derive
from derive.engine.second import derive_second
from derive.expressions import unwrapped
from derive.parse import parse_expression
from derive.problem import Problem
from derive.srepr import load
from derive.symbols import CLASSES, FREE_INDEX, INPUT, OUTPUT, SECOND_INDEX, TARGET
from trail_edits import tamper

k, l, H, O, Y, Z = FREE_INDEX, SECOND_INDEX, CLASSES, OUTPUT, TARGET, INPUT
SOFTMAX_CE = Problem()


@lru_cache(maxsize=None)
def second_of(problem: Problem):
    return certify_second(derive_second(problem, certify(derive(problem))))


def written_loss(problem: Problem, classes: int):
    """The loss at ``classes`` classes, written out in z and y alone, straight from the trail's definitions."""
    trail = derive(replace(problem, classes=classes))
    definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in trail.definitions}
    expr = trail.start.expr.doit()
    for _ in range(len(definitions) + 1):
        expr = expr.xreplace({node: definitions[node.base][1].xreplace({definitions[node.base][0]: node.indices[0]}).doit()
                              for node in expr.atoms(type(Z[1])) if node.base in definitions})
    return expr


def point(classes: int, targets: str, rng: random.Random) -> dict:
    values = {Z[m]: Float(rng.uniform(-3, 3), 30) for m in range(1, classes + 1)}
    if targets == "any":
        return values | {Y[m]: Float(rng.uniform(-2, 2), 30) for m in range(1, classes + 1)}
    hot = rng.randrange(1, classes + 1)
    return values | {Y[m]: 1 if m == hot else 0 for m in range(1, classes + 1)}


def assert_hessian_is_sympys(problem: Problem, classes: int, points: int = 2) -> None:
    """Every entry of the Hessian at ``classes`` against ``sympy.diff`` of the written-out loss, twice."""
    second = second_of(replace(problem, classes=classes))
    loss, rng = written_loss(problem, classes), random.Random(classes)
    assert len(second.hessian) == classes and all(len(row) == classes for row in second.hessian)
    for _ in range(points):
        values = point(classes, second.trail.targets, rng)
        for a in range(1, classes + 1):
            for b in range(1, classes + 1):
                truth = diff(loss, Z[a], Z[b]).xreplace(values).evalf(30)
                entry = second.hessian[a - 1][b - 1].xreplace(values).evalf(30)
                assert abs(truth - entry) <= 1e-20 * (1 + abs(truth)), (a, b, truth, entry)


# -- the flagship, in the default tier ---------------------------------------------------------------------
def test_softmax_cross_entropy_gives_o_k_times_delta_minus_o_l_proved_step_by_step():
    second = second_of(SOFTMAX_CE)
    assert (unwrapped(second.trail.result) - O[k] * (KroneckerDelta(k, l) - O[l])).expand() == 0
    assert [step.rule.slug for step in second.trail.steps][0] == "second-derivative"
    assert second.trail.steps[0].after == Derivative(second.output.result, Z[l])
    assert "lemma" in [step.rule.slug for step in second.trail.steps]  # ∂O_k/∂Z_l derived, with its δ_kl
    assert all(step.certificate.kind == "proof" for step in second.trail.steps)
    assert (second.form.kind, second.form.definite, second.form.scale) == ("scaled-softmax", "variance", 1)


def test_the_matrix_form_equals_the_index_form_entry_by_entry():
    """diag(O) − OOᵀ at H = 4, built as a matrix, against the result at every (k, l)."""
    second = second_of(SOFTMAX_CE)
    o = Matrix(4, 1, lambda m, _: O[m + 1])
    diagonal = Matrix(4, 4, lambda a, b: O[a + 1] if a == b else 0)
    matrix = second.form.scale * (diagonal - o * o.T)
    for a in range(4):
        for b in range(4):
            assert (matrix[a, b] - unwrapped(second.trail.result).xreplace({k: a + 1, l: b + 1})).expand() == 0


@pytest.mark.slow
def test_the_hessian_at_h_2_is_sympys_and_json_writes_it_as_a_2_by_2_list():
    assert_hessian_is_sympys(SOFTMAX_CE, 2)
    derivation = derive_second_certified(replace(SOFTMAX_CE, classes=2))
    data = json.loads(derivation.document("json"))
    assert data["second"] is True and data["lemma"]["result"]["latex"] == "O_{k} - y_{k}"
    hessian = [[load(text) for text in row] for row in data["hessian"]]
    assert len(hessian) == 2 and all(len(row) == 2 for row in hessian)
    assert {node.base.label.name for row in hessian for entry in row for node in entry.atoms(type(Z[1]))} <= {"z", "y"}
    assert (hessian[0][1] - derivation.trail.hessian[0][1]) == 0


@pytest.mark.slow
def test_the_symbolic_json_gives_the_index_form():
    data = json.loads(derive_second_certified(SOFTMAX_CE).document("json"))
    assert load(data["hessian"]["srepr"]) == second_of(SOFTMAX_CE).trail.result
    assert data["hessian_form"]["kind"] == "scaled-softmax"


@pytest.mark.slow
def test_the_documents_state_the_matrix_form_and_why_it_is_psd():
    derivation = derive_second_certified(SOFTMAX_CE)
    md = derivation.document("md")
    assert r"\mathrm{diag}(O) - O O^{\top}" in md
    assert "positive semi-definite" in md and "variance" in md
    assert r"\boxed{\frac{\partial^{2} E}{\partial Z_{k} \partial Z_{l}} = O_{k} \left(\delta_{kl} - O_{l}\right)}" in md
    for fmt in ("tex", "tex-fragment", "beamer"):
        assert r"\mathrm{diag}(O) - O O^{\top}" in derivation.document(fmt)


# -- the certifier refuses wrong second-derivative steps --------------------------------------------------------
def rejected(second) -> str:
    with pytest.raises(CertificationError) as caught:
        certify_second(second)
    return str(caught.value)


def wrong_last(problem: Problem, change):
    second = derive_second(problem, certify(derive(problem)))
    n = len(second.trail.steps) - 1
    return replace(second, trail=tamper(second.trail, n, change(second.trail.steps[n].after)))


EDITS = {
    "plus 1000 delta_l7": (SOFTMAX_CE, lambda r: r + 1000 * KroneckerDelta(l, 7)),
    "plus 1000 delta_k7 delta_l7": (SOFTMAX_CE, lambda r: r + 1000 * KroneckerDelta(k, 7) * KroneckerDelta(l, 7)),
    "times 1 + (H-1)(H-2)(H-3)(H-5)": (SOFTMAX_CE, lambda r: r * (1 + (H - 1) * (H - 2) * (H - 3) * (H - 5))),
    "plus |Z_l + 4| - Z_l - 4": (SOFTMAX_CE, lambda r: r + Abs(Z[l] + 4) - Z[l] - 4),
    "y_k replaced by |y_k| (any targets)": (
        Problem("sigmoid", "sum-of-squares"), lambda r: r.xreplace({Y[k]: Abs(Y[k])})),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", EDITS)
def test_a_second_derivative_step_wrong_only_outside_a_small_sample_is_refused(name):
    problem, change = EDITS[name]
    rejected(wrong_last(problem, change))


@pytest.mark.slow
def test_a_wrong_first_derivative_cited_is_refused():
    """The first step cites O_k − y_k + δ_k7 O_k: refused at that step."""
    second = derive_second(SOFTMAX_CE, certify(derive(SOFTMAX_CE)))
    wrong = Derivative(O[k] - Y[k] + KroneckerDelta(k, 7) * O[k], Z[l])
    assert "differentiated again" in rejected(replace(second, trail=tamper(second.trail, 0, wrong)))


@pytest.mark.slow
def test_a_wrong_hessian_entry_is_refused():
    second = derive_second(replace(SOFTMAX_CE, classes=2), certify(derive(replace(SOFTMAX_CE, classes=2))))
    rows = [list(row) for row in second.hessian]
    rows[1][0] = -rows[1][0]
    assert "Hessian entry (2, 1)" in rejected(replace(second, hessian=tuple(tuple(row) for row in rows)))


@pytest.mark.slow
def test_a_wrong_psd_claim_is_refused():
    second = derive_second(Problem("sigmoid", "sum-of-squares"), certify(derive(Problem("sigmoid", "sum-of-squares"))))
    assert second.form.definite == "refuted"  # sigmoid + sum-of-squares is not PSD in general
    assert "nonnegative" in rejected(replace(second, form=replace(second.form, definite="proved", witness=None)))


# -- the command line ------------------------------------------------------------------------------------------
def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args", [
    ("--wrt", "W"),
    pytest.param(("--wrt", "x", "--inputs", "2"), marks=pytest.mark.slow),
    pytest.param(("--hidden", "tanh", "--wrt", "V"), marks=pytest.mark.slow),
    pytest.param(("--H", "101"), marks=pytest.mark.slow),
    pytest.param(("--reduction", "mean"), marks=pytest.mark.slow),
], ids=["wrt-W", "wrt-x", "hidden", "H-too-large", "mean"])
def test_second_with_an_option_it_does_not_take_is_exit_2_in_one_line(args):
    done = run("pair", "softmax", "cross-entropy", "--second", *args, "-o", "-", "--format", "md")
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


# -- every catalogue pair, every size (slow tier) -----------------------------------------------------------------
CATALOGUE = [Problem(activation, loss) for activation, loss in valid_pairs()]
USER = [
    Problem("custom", "cross-entropy", name="temperature softmax",
            activation_expr=parse_expression("exp(z[i]/2)/sum(exp(z[j]/2), j)", role="activation")),
    Problem("custom", "custom", targets="any", name="log-cosh",
            activation_expr=parse_expression("z", role="activation"),
            loss_expr=parse_expression("sum(log(cosh(o[i]-y[i])), i)", role="loss")),
]


@pytest.mark.slow
@pytest.mark.parametrize("problem", CATALOGUE + USER, ids=lambda p: p.slug)
def test_every_pair_has_a_certified_second_derivative_and_a_stated_form(problem):
    second = second_of(problem)
    assert all(step.certificate.kind == "proof" for step in second.trail.steps)
    assert second.form.kind in ("scaled-softmax", "diagonal", "zero", "general")
    if problem.activation != "softmax" and problem.activation_expr is None:  # elementwise: a diagonal Hessian
        assert second.form.kind in ("diagonal", "zero")
    if (problem.activation, problem.loss) == ("sigmoid", "sum-of-squares"):
        assert second.form.definite == "refuted"


@pytest.mark.slow
@pytest.mark.parametrize("classes", [1, 2, 3, 5])
@pytest.mark.parametrize("problem", CATALOGUE + USER, ids=lambda p: p.slug)
def test_every_pair_at_concrete_h_matches_sympy_diff(problem, classes):
    if classes < derive(problem).min_classes:  # too few classes for the pair: refused, not derived
        with pytest.raises(UndefinedPair, match="use --H 2 or more"):
            derive_second_certified(replace(problem, classes=classes))
        return
    assert_hessian_is_sympys(problem, classes, points=1)


RENDERED = [Problem("sigmoid", "sum-of-squares", classes=3), Problem("softmax", "poisson"), Problem("exp", "cross-entropy"),
            Problem(targets="any"), USER[1]]


@pytest.mark.slow
@pytest.mark.parametrize("problem", RENDERED, ids=lambda p: p.slug)
def test_every_format_parses_in_katex_and_compiles(problem, tmp_path):
    from tooling import compile_latex, katex_errors, markdown_formulas, overfull_boxes

    derivation = derive_second_certified(problem)
    formulas = markdown_formulas(derivation.document("md"))
    assert katex_errors(formulas) == []
    for fmt, name in (("tex", "second.tex"), ("beamer", "second.beamer.tex")):
        path = tmp_path / name
        path.write_text(derivation.document(fmt))
        compile_latex(path, tmp_path)
        log = path.with_suffix(".log").read_text(errors="replace")
        assert max(overfull_boxes(log), default=0) <= 10 or fmt == "beamer", "an equation runs into the margin"
    host = tmp_path / "host.tex"
    (tmp_path / "fragment.tex").write_text(derivation.document("tex-fragment"))
    host.write_text("\\documentclass{article}\\usepackage{amsmath,amssymb,cancel}\\begin{document}\\input{fragment}\\end{document}\n")
    compile_latex(host, tmp_path)


@pytest.mark.slow
def test_derive_verify_recertifies_the_second_derivatives_json(tmp_path):
    path = tmp_path / "second.json"
    path.write_text(derive_second_certified(SOFTMAX_CE).document("json"))
    done = run("verify", str(path))
    assert done.returncode == 0 and done.stdout.splitlines()[0] == "1 second-derivative proof"
    data = json.loads(path.read_text())
    data["steps"][0]["after"]["srepr"] = data["steps"][0]["after"]["srepr"].replace("Integer(-1)", "Integer(-2)", 1)
    path.write_text(json.dumps(data))
    assert run("verify", str(path)).returncode == 1

"""Whiteboard LaTeX: each row is an expression and the exact string a lecturer would write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tooling import compile_latex, katex_errors
from sympy import (
    Abs, Add, Derivative, Eq, Float, Function, IndexedBase, Integer, KroneckerDelta, Mul, Piecewise, Pow, Rational,
    Sum, Symbol, SympifyError, UnevaluatedExpr, exp, log, sinh, sqrt, symbols, tanh,
)

from derive.present.latex import to_latex
from derive.present.notation import PRESETS, Notation
from derive.sums import SumExcept
from derive.symbols import CLASSES as H
from derive.symbols import ERROR as e
from derive.symbols import FREE_INDEX as k
from derive.symbols import INNER_INDEX as j
from derive.symbols import INPUT as z
from derive.symbols import LOSS_NAME
from derive.symbols import OUTPUT as o
from derive.symbols import SUM_INDEX as i
from derive.symbols import TARGET as y
from derive.trail import Mark

ROOT = Path(__file__).resolve().parents[1]
E = Symbol(LOSS_NAME)
a, b, x = symbols("a b x")
sigma = Function("sigma")
LOSS = -Sum(y[i] * log(o[i]), (i, 1, H))


def D(f, *wrt):
    return Derivative(f, *wrt, evaluate=False)


def row(expr, expected, name):
    return pytest.param(expr, expected, id=name)


DEFAULT_CASES = [
    # names and indices
    row(o[i], "O_{i}", "output"),
    row(y[k], "y_{k}", "target"),
    row(z[k], "Z_{k}", "input"),
    row(e[i], "e_{i}", "error"),
    row(o[1], "O_{1}", "numeric-index"),
    row(z[j], "Z_{j}", "inner-index"),
    row(IndexedBase("w")[i], "w_{i}", "unknown-indexedbase"),
    row(Symbol("x"), "x", "unknown-symbol"),
    row(H, "H", "classes"),
    # derivatives
    row(D(o[i], z[k]), r"\frac{\partial O_{i}}{\partial Z_{k}}", "d-atomic"),
    row(D(log(o[i]), o[i]), r"\frac{\partial \ln O_{i}}{\partial O_{i}}", "d-log"),
    row(D(exp(z[i]), z[k]), r"\frac{\partial e^{Z_{i}}}{\partial Z_{k}}", "d-exp"),
    row(D(E, z[k]), r"\frac{\partial E}{\partial Z_{k}}", "d-loss-symbol"),
    row(D(LOSS, z[k]), r"\frac{\partial}{\partial Z_{k}}\left(- \sum_{i=1}^{H} y_{i} \ln O_{i}\right)", "d-compound"),
    row(D(Sum(e[i], (i, 1, H)), z[k]), r"\frac{\partial}{\partial Z_{k}}\left(\sum_{i=1}^{H} e_{i}\right)", "d-whole-loss"),
    row(D(y[k] * o[k], z[k]), r"\frac{\partial}{\partial Z_{k}}\left(y_{k} O_{k}\right)", "d-product"),
    row(D(1 - o[k], z[k]), r"\frac{\partial}{\partial Z_{k}}\left(1 - O_{k}\right)", "d-add"),
    row(D(o[i], (z[k], 2)), r"\frac{\partial^{2} O_{i}}{\partial Z_{k}^{2}}", "d-second-order"),
    row(D(o[i] ** 2, o[i]), r"\frac{\partial O_{i}^{2}}{\partial O_{i}}", "d-power"),
    # ln and exp
    row(log(o[i]), r"\ln O_{i}", "ln-atomic"),
    row(log(1 - o[i]), r"\ln\left(1 - O_{i}\right)", "ln-compound"),
    row(log(2), r"\ln 2", "ln-number"),
    row(exp(z[i]), "e^{Z_{i}}", "exp"),
    row(exp(-z[i]), "e^{- Z_{i}}", "exp-negative"),
    # sums
    row(Sum(y[i] * log(o[i]), (i, 1, H)), r"\sum_{i=1}^{H} y_{i} \ln O_{i}", "sum"),
    row(Sum(y[i] - o[i], (i, 1, H)), r"\sum_{i=1}^{H} \left(y_{i} - O_{i}\right)", "sum-add-body"),
    row(Sum(-y[i] * o[k], (i, 1, H)), r"\sum_{i=1}^{H} \left(- y_{i} O_{k}\right)", "sum-negative-body"),
    row(LOSS, r"- \sum_{i=1}^{H} y_{i} \ln O_{i}", "negated-sum"),
    row(Sum(y[i] * z[j], (i, 1, H), (j, 1, 3)), r"\sum_{j=1}^{3} \sum_{i=1}^{H} y_{i} Z_{j}", "double-sum"),
    row(SumExcept(y[i], (i, 1, H), k), r"\sum_{i \neq k}^{H} y_{i}", "sum-except"),
    row(SumExcept(-y[i] * o[k], (i, 1, H), k), r"\sum_{i \neq k}^{H} \left(- y_{i} O_{k}\right)", "sum-except-neg"),
    row(SumExcept(y[i] + o[i], (i, 1, H), k), r"\sum_{i \neq k}^{H} \left(O_{i} + y_{i}\right)", "sum-except-add"),
    row(SumExcept(y[i], (i, 0, H), k), r"\sum_{\substack{i=0 \\ i \neq k}}^{H} y_{i}", "sum-except-lower-0"),
    # Kronecker delta and cases
    row(KroneckerDelta(i, k), r"\delta_{ik}", "delta"),
    row(KroneckerDelta(1, k), r"\delta_{1k}", "delta-numeric"),
    row(KroneckerDelta(i + 1, k), r"\delta_{k,i + 1}", "delta-compound"),
    row(o[i] * (KroneckerDelta(i, k) - o[k]), r"O_{i} \left(\delta_{ik} - O_{k}\right)", "softmax-jacobian"),
    row(Piecewise((o[k] * (1 - o[k]), Eq(i, k)), (-o[i] * o[k], True)),
        r"\begin{cases} O_{k} \left(1 - O_{k}\right) & \text{if } i = k \\ - O_{i} O_{k} & \text{if } i \neq k \end{cases}",
        "cases-eq"),
    row(Piecewise((1, i < k), (2, Eq(i, k)), (3, True)),
        r"\begin{cases} 1 & \text{if } i < k \\ 2 & \text{if } i = k \\ 3 & \text{otherwise} \end{cases}",
        "cases-otherwise"),
    # unevaluated products keep the engine's order
    row(Mul(y[i] / o[i], -o[i] * o[k], evaluate=False), r"\frac{y_{i}}{O_{i}} \left(- O_{i} O_{k}\right)", "uneval-mul"),
    row(Mul(o[k], 1 - o[k], y[i], evaluate=False), r"O_{k} \left(1 - O_{k}\right) y_{i}", "uneval-mul-order"),
    row(Mul(-1, a + b, evaluate=False), r"- \left(a + b\right)", "negated-add"),
    row(Mul(-1, -x, evaluate=False), r"- \left(- x\right)", "negated-negative"),
    row(Mul(Sum(y[i], (i, 1, H)), o[k], evaluate=False), r"\left(\sum_{i=1}^{H} y_{i}\right) O_{k}", "uneval-sum-first"),
    row(Mul(log(o[i]), o[k], evaluate=False), r"\left(\ln O_{i}\right) O_{k}", "uneval-ln-first"),
    row(Mul(D(E, o[i]), D(o[i], z[k]), evaluate=False),
        r"\frac{\partial E}{\partial O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "uneval-chain"),
    row(Mul(2, 3, evaluate=False), r"2 \cdot 3", "cdot-numbers"),
    row(Mul(2, Rational(1, 2), evaluate=False), r"2 \cdot \frac{1}{2}", "cdot-number-fraction"),
    # evaluated products in whiteboard order
    row(y[i] / o[i] * Derivative(o[i], z[k]), r"\frac{y_{i}}{O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "frac-then-d"),
    row(-y[i] / o[i] * Derivative(o[i], z[k]), r"- \frac{y_{i}}{O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "neg-frac-d"),
    row(Derivative(o[i], z[k]) / o[i], r"\frac{1}{O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "one-over-d"),
    row(-y[i] * Derivative(log(o[i]), o[i]), r"- y_{i} \frac{\partial \ln O_{i}}{\partial O_{i}}", "coeff-then-d"),
    row(Derivative(o[i], z[k]) * Derivative(E, o[i]),
        r"\frac{\partial E}{\partial O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "chain-order"),
    row(Sum(y[i], (i, 1, H)) * Derivative(o[k], z[k]),
        r"\left(\sum_{i=1}^{H} y_{i}\right) \frac{\partial O_{k}}{\partial Z_{k}}", "sum-before-d"),
    row(o[k] * (1 - y[k]), r"O_{k} \left(1 - y_{k}\right)", "plain-then-bracket"),
    row(-y[k] * (1 - o[k]), r"- y_{k} \left(1 - O_{k}\right)", "neg-plain-bracket"),
    row(z[k] * o[k] * y[k], r"y_{k} O_{k} Z_{k}", "y-O-Z-order"),
    row(o[k] * o[i] * y[k] * y[i], r"y_{i} y_{k} O_{i} O_{k}", "index-order"),
    row(-y[i] * log(o[i]), r"- y_{i} \ln O_{i}", "cross-entropy-term"),
    row(log(o[i]) * (1 - y[k]), r"\left(1 - y_{k}\right) \ln O_{i}", "bracket-before-ln"),
    row(o[i] * Sum(y[i], (i, 1, H)), r"O_{i} \sum_{i=1}^{H} y_{i}", "plain-then-sum"),
    row(exp(z[k]) / Sum(exp(z[j]), (j, 1, H)), r"\frac{e^{Z_{k}}}{\sum_{j=1}^{H} e^{Z_{j}}}", "softmax"),
    row(y[i] / o[i], r"\frac{y_{i}}{O_{i}}", "fraction"),
    row(-o[i] / (3 * y[k]), r"- \frac{O_{i}}{3 y_{k}}", "fraction-coefficient"),
    row(2 * o[i] / 3, r"\frac{2}{3} O_{i}", "rational-coefficient"),
    row(Rational(1, 2) * (y[i] - o[i]) ** 2, r"\frac{1}{2} \left(y_{i} - O_{i}\right)^{2}", "half-square"),
    # sums of terms
    row(o[k] - y[k], r"O_{k} - y_{k}", "positive-first"),
    row(o[k] * (1 - y[k]) - y[k] * (1 - o[k]), r"O_{k} \left(1 - y_{k}\right) - y_{k} \left(1 - O_{k}\right)", "sigmoid-bce"),
    row(-o[k] - y[k], r"- O_{k} - y_{k}", "all-negative"),
    row(o[k] + LOSS, r"O_{k} - \sum_{i=1}^{H} y_{i} \ln O_{i}", "add-with-sum"),
    row(Add(o[k], -o[k] * y[k], -y[k], o[k] * y[k], evaluate=False),
        r"O_{k} - y_{k} O_{k} - y_{k} + y_{k} O_{k}", "uneval-add"),
    row(Add(-y[k], 1, evaluate=False), r"- y_{k} + 1", "uneval-add-leading-minus"),
    row(Add(a, Add(b, x, evaluate=False), evaluate=False), r"a + \left(b + x\right)", "nested-uneval-add"),
    row(UnevaluatedExpr(a + b), r"\left(a + b\right)", "unevaluatedexpr-add"),
    row(UnevaluatedExpr(o[i]) * y[i], r"y_{i} O_{i}", "unevaluatedexpr-factor"),
    row(x + UnevaluatedExpr(a + b), r"x + \left(a + b\right)", "unevaluatedexpr-term"),
    # numbers
    row(Integer(3), "3", "integer"),
    row(Rational(1, 2), r"\frac{1}{2}", "rational"),
    row(Rational(-3, 4), r"- \frac{3}{4}", "negative-rational"),
    row(Float(0.1), "0.1", "float"),
    row(Float(2.0), "2.0", "float-integral"),
    row(Float(1 / 3), "0.333333", "float-rounded"),
    row(Float(1.5e-9), r"1.5 \cdot 10^{-9}", "float-tiny"),
    row(Float(-0.25) * o[i], r"- 0.25 O_{i}", "float-coefficient"),
    # functions
    row(sigma(z[i]), r"\sigma\left(Z_{i}\right)", "sigma"),
    row(Function("softmax")(z[i]), r"\mathrm{softmax}\left(Z_{i}\right)", "unknown-function"),
    row(Function("g")(z[i], z[k]), r"g\left(Z_{i}, Z_{k}\right)", "one-letter-function"),
    row(Function("my_f")(z[i]), r"\mathrm{my\_f}\left(Z_{i}\right)", "escaped-function"),
    row(tanh(z[i]), r"\tanh Z_{i}", "tanh"),
    row(sinh(z[i]), r"\sinh Z_{i}", "sinh"),
    row(1 - tanh(z[i]) ** 2, r"1 - \tanh^{2} Z_{i}", "tanh-squared"),
    row(tanh(2 * z[i]), r"\tanh\left(2 Z_{i}\right)", "tanh-of-a-product"),
    row(exp(z[i] / 2), r"e^{Z_{i}/2}", "exp-half"),
    row(exp(-3 * z[i] / 2), r"e^{- 3 Z_{i}/2}", "exp-three-halves"),
    row(sqrt(z[i]), r"\sqrt{Z_{i}}", "sqrt"),
    row(sqrt(1 + z[i]), r"\sqrt{Z_{i} + 1}", "sqrt-add"),
    row(Abs(z[i]), r"\left|{Z_{i}}\right|", "abs"),
    # powers
    row(x ** 2, "x^{2}", "square"),
    row((a + b) ** 2, r"\left(a + b\right)^{2}", "square-add"),
    row(o[i] ** 2, "O_{i}^{2}", "indexed-square"),
    row(1 / o[i], r"\frac{1}{O_{i}}", "reciprocal"),
    row(y[i] * o[i] ** -2, r"\frac{y_{i}}{O_{i}^{2}}", "inverse-square-in-product"),
    row(Pow(exp(z[i]), 2, evaluate=False), r"\left(e^{Z_{i}}\right)^{2}", "exp-squared"),
    row(log(o[i]) ** 2, r"\left(\ln O_{i}\right)^{2}", "ln-squared"),
    row(sigma(z[i]) ** 2, r"\sigma\left(Z_{i}\right)^{2}", "function-squared"),
    row(x ** a, "x^{a}", "symbolic-exponent"),
    row(x ** -a, "x^{- a}", "negative-symbolic-exponent"),
    row(x ** Rational(3, 2), r"x^{\frac{3}{2}}", "rational-exponent"),
    row(x ** Rational(-1, 2), r"\frac{1}{\sqrt{x}}", "inverse-sqrt"),
    row(-exp(z[i]) * exp(z[k]) / Sum(exp(z[j]), (j, 1, H)) ** 2,
        r"- \frac{e^{Z_{i}} e^{Z_{k}}}{\left(\sum_{j=1}^{H} e^{Z_{j}}\right)^{2}}", "softmax-quotient-rule"),
    # shapes the engine produces on the way
    row(Sum(-y[i] / o[i] * Derivative(o[i], z[k]), (i, 1, H)),
        r"\sum_{i=1}^{H} \left(- \frac{y_{i}}{O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}\right)", "sum-of-chain-terms"),
    row(-Sum(Mul(y[i] / o[i], o[i] * (KroneckerDelta(i, k) - o[k]), evaluate=False), (i, 1, H)),
        r"- \sum_{i=1}^{H} \frac{y_{i}}{O_{i}} O_{i} \left(\delta_{ik} - O_{k}\right)", "before-cancel"),
    row(-y[k] * (1 - o[k]) + SumExcept(y[i] * o[k], (i, 1, H), k),
        r"\sum_{i \neq k}^{H} y_{i} O_{k} - y_{k} \left(1 - O_{k}\right)", "after-index-split"),
    row(D(o[i], z[k], o[j]), r"\frac{\partial^{2} O_{i}}{\partial Z_{k} \partial O_{j}}", "d-mixed"),
    row(D(-o[i], z[k]), r"\frac{\partial}{\partial Z_{k}}\left(- O_{i}\right)", "d-negative"),
    row(IndexedBase("w")[i, j], "w_{ij}", "two-indices"),  # one-letter indices run together, as in W_{kj}
    row(IndexedBase("w")[1, 12], "w_{1,12}", "two-numbered-indices"),  # numbers keep a comma: W_{1,12}, not W_{112}
    # held values (UnevaluatedExpr) stand where the derivative they replaced stood
    row(y[i] / o[i] * UnevaluatedExpr(-o[i] * o[k]), r"\frac{y_{i}}{O_{i}} \left(- O_{i} O_{k}\right)", "held-after-fraction"),
    row(y[i] / o[i] * UnevaluatedExpr(o[i] * (KroneckerDelta(i, k) - o[k])),
        r"\frac{y_{i}}{O_{i}} O_{i} \left(\delta_{ik} - O_{k}\right)", "held-jacobian"),
    row(-y[i] * UnevaluatedExpr(1 / o[i]) * Derivative(o[i], z[k]),
        r"- y_{i} \frac{1}{O_{i}} \frac{\partial O_{i}}{\partial Z_{k}}", "held-before-derivative"),
    # a sum written out term by term: its first two terms, \cdots, its last, in index order
    pytest.param(Add(*[exp(z[m]) for m in range(1, 1001)]), r"e^{Z_{1}} + e^{Z_{2}} + \cdots + e^{Z_{1000}}", id="long-sum"),
    pytest.param(exp(z[1]) / Add(*[exp(z[m]) for m in range(1, 13)]) - y[1],
                 r"\frac{e^{Z_{1}}}{e^{Z_{1}} + e^{Z_{2}} + \cdots + e^{Z_{12}}} - y_{1}", id="long-softmax-component"),
    pytest.param(-Add(*[y[m] for m in range(3, 11)]), r"- y_{3} - y_{4} - \cdots - y_{10}", id="long-negative-sum"),
    pytest.param(Add(*[y[m] * log(o[m]) for m in range(1, 8)]), r"y_{1} \ln O_{1} + y_{2} \ln O_{2} + \cdots + y_{7} \ln O_{7}",
                 id="long-sum-of-products"),
    pytest.param(Add(*[y[m] for m in range(1, 7)]), r"y_{1} + y_{2} + y_{3} + y_{4} + y_{5} + y_{6}", id="six-terms-whole"),
    pytest.param(Add(*[y[m] for m in (1, 2, 3, 5, 6, 7, 8)]), r"y_{1} + y_{2} + y_{3} + y_{5} + y_{6} + y_{7} + y_{8}",
                 id="a-gap-is-not-elided"),
    pytest.param(Add(*[y[m] for m in range(1, 7)]) + o[1], r"O_{1} + y_{1} + y_{2} + y_{3} + y_{4} + y_{5} + y_{6}",
                 id="different-terms-are-not-elided"),
]

SEED001 = Notation(output="o", target="t", input="z", free_index="j", inner_index="k")
NOTATION_CASES = [
    pytest.param(SEED001, y[i] / o[i] * Derivative(o[i], z[k]),
                 r"\frac{t_{i}}{o_{i}} \frac{\partial o_{i}}{\partial z_{j}}", id="seed001-chain"),
    pytest.param(SEED001, exp(z[k]) / Sum(exp(z[j]), (j, 1, H)),
                 r"\frac{e^{z_{j}}}{\sum_{k=1}^{H} e^{z_{k}}}", id="seed001-softmax"),
    pytest.param(SEED001, KroneckerDelta(i, k), r"\delta_{ij}", id="seed001-delta"),
    pytest.param(SEED001, o[k] - y[k], r"o_{j} - t_{j}", id="seed001-gradient"),
    pytest.param(PRESETS["seed001"], SumExcept(y[i], (i, 1, H), k), r"\sum_{i \neq j}^{H} t_{i}", id="preset"),
    pytest.param(Notation(loss="L", error="l", classes="C"), D(Sum(e[i], (i, 1, H)), z[k]),
                 r"\frac{\partial}{\partial Z_{k}}\left(\sum_{i=1}^{C} l_{i}\right)", id="loss-error-classes"),
    pytest.param(Notation(loss="L"), D(E, o[i]), r"\frac{\partial L}{\partial O_{i}}", id="loss-symbol"),
    pytest.param(Notation(output="sigma", target="Tgt", input="Z1"), y[i] * o[i] * z[i],
                 r"\mathrm{Tgt}_{i} \sigma_{i} \mathrm{Z1}_{i}", id="greek-and-long-names"),
    pytest.param(Notation(sum_index="n", free_index="m"), KroneckerDelta(i, k), r"\delta_{nm}", id="index-names"),
    pytest.param(Notation(sum_index="ab"), KroneckerDelta(i, k), r"\delta_{\mathrm{ab},k}", id="long-index-name"),
    pytest.param(Notation(output="Sigma", target="SIGMA"), y[i] * o[i], r"\mathrm{SIGMA}_{i} \Sigma_{i}", id="capital-greek"),
]


@pytest.mark.parametrize("expr, expected", DEFAULT_CASES)
def test_default_notation(expr, expected):
    assert to_latex(expr) == expected


@pytest.mark.parametrize("notation, expr, expected", NOTATION_CASES)
def test_notation(notation, expr, expected):
    assert to_latex(expr, notation) == expected


def test_same_expression_built_differently_prints_the_same():
    built = [o[k] - y[k], -y[k] + o[k], Add(o[k], -y[k]), Add(-y[k], o[k])]
    assert {to_latex(expr) for expr in built} == {"O_{k} - y_{k}"}
    products = [y[i] * o[i] * z[k], z[k] * o[i] * y[i], Mul(z[k], Mul(o[i], y[i]))]
    assert {to_latex(expr) for expr in products} == {"y_{i} O_{i} Z_{k}"}


def test_output_avoids_macros_katex_markdown_lacks():
    outputs = [to_latex(expr) for expr, _ in (case.values for case in DEFAULT_CASES)]
    outputs.append(to_latex(Function("sign")(x) + Function("sgn")(x)))
    for tex in outputs:
        assert r"\operatorname" not in tex and r"\log" not in tex and r"\mathop" not in tex, tex


def test_strings_are_not_parsed():
    with pytest.raises(SympifyError):
        to_latex("__import__('os').getcwd()")


DETERMINISM_EXPRS = """
from sympy import *
from derive.present.latex import to_latex
from derive.symbols import OUTPUT as o, TARGET as y, INPUT as z, SUM_INDEX as i, FREE_INDEX as k, CLASSES as H
from derive.sums import SumExcept
exprs = [
    o[k] * (1 - y[k]) - y[k] * (1 - o[k]) + SumExcept(-y[i] * o[k], (i, 1, H), k),
    y[i] / o[i] * Derivative(o[i], z[k]) * Derivative(Symbol("E"), o[i]) * z[k] * o[k] * y[k],
    Piecewise((o[k] * (1 - o[k]), Eq(i, k)), (-o[i] * o[k], True)) + Sum(y[i] * log(o[i]), (i, 1, H)) + exp(z[k]),
]
"""
DETERMINISM_SCRIPT = DETERMINISM_EXPRS + 'print("\\n".join(to_latex(e) for e in exprs))\n'


def test_deterministic_across_calls_and_hash_seeds():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = []
    for seed in ("0", "1", "4242"):
        env["PYTHONHASHSEED"] = seed
        done = subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        runs.append(done.stdout)
    assert runs[0] == runs[1] == runs[2]
    namespace: dict = {}
    exec(DETERMINISM_EXPRS, namespace)  # the same expressions, built in this process
    here = [to_latex(expr) for expr in namespace["exprs"]]
    assert runs[0].splitlines() == here
    assert here == [to_latex(expr) for expr in namespace["exprs"]]
    assert here[1] == (r"\frac{y_{i} y_{k} O_{k} Z_{k}}{O_{i}} \frac{\partial E}{\partial O_{i}}"
                       r" \frac{\partial O_{i}}{\partial Z_{k}}")


EXPANDED = Add(o[k], -o[k] * y[k], -y[k], o[k] * y[k], evaluate=False)
HELD_OTHERS, HELD_SAME = UnevaluatedExpr(-o[i] * o[k]), UnevaluatedExpr(o[k] * (1 - o[k]))
SPLIT = SumExcept(y[i] / o[i] * HELD_OTHERS, (i, 1, H), k) + y[k] / o[k] * HELD_SAME
MARK_CASES = [
    pytest.param(EXPANDED, {-o[k] * y[k]: ("cancel", None), o[k] * y[k]: ("cancel", None)},
                 r"O_{k} - \cancel{y_{k} O_{k}} - y_{k} + \cancel{y_{k} O_{k}}", id="cancel-terms"),
    pytest.param(EXPANDED, {o[k] * y[k]: (Mark.CANCEL, None)},
                 r"O_{k} - y_{k} O_{k} - y_{k} + \cancel{y_{k} O_{k}}", id="cancel-enum"),
    pytest.param(SPLIT, {HELD_OTHERS: ("underbrace", r"i \neq k"), HELD_SAME: ("underbrace", "i = k")},
                 r"\sum_{i \neq k}^{H} \frac{y_{i}}{O_{i}} \underbrace{\left(- O_{i} O_{k}\right)}_{i \neq k}"
                 r" + \frac{y_{k}}{O_{k}} \underbrace{O_{k} \left(1 - O_{k}\right)}_{i = k}", id="underbrace-notes"),
    pytest.param(o[k] - y[k], {y[k]: ("underbrace", None)}, r"O_{k} - \underbrace{y_{k}}", id="underbrace-bare"),
    pytest.param(o[k] - y[k], {}, "O_{k} - y_{k}", id="no-marks"),
]


@pytest.mark.parametrize("expr, marks, expected", MARK_CASES)
def test_marks(expr, marks, expected):
    assert to_latex(expr, Notation(), marks) == expected


def test_unknown_mark_is_refused():
    with pytest.raises(ValueError, match="cannot draw mark"):
        to_latex(o[k] - y[k], Notation(), {y[k]: ("circle", None)})


def _all_rows() -> list[str]:
    rows = [to_latex(expr) for expr, _ in (case.values for case in DEFAULT_CASES)]
    rows += [to_latex(expr, notation) for notation, expr, _ in (case.values for case in NOTATION_CASES)]
    rows += [to_latex(expr, Notation(), marks) for expr, marks, _ in (case.values for case in MARK_CASES)]
    return rows


def test_every_row_parses_in_katex():
    rows = _all_rows()
    failures = katex_errors([(tex, display) for tex in rows for display in (True, False)])
    assert failures == [], [(rows[index // 2], error) for index, error in failures]


def test_every_row_compiles_with_pdflatex(tmp_path):
    body = "\n".join(r"\[ %s \]" % tex for tex in _all_rows())
    source = tmp_path / "rows.tex"
    source.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{cancel}\n"
        "\\begin{document}\n%s\n\\end{document}\n" % body
    )
    pdf = compile_latex(source, tmp_path)
    assert pdf.stat().st_size > 0

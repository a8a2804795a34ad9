"""``derive check ACTIVATION LOSS --wrt o|z --claim EXPR``: the command, its view and its output.

Its arguments are registered by :func:`derive.cli.check_arguments.add_parser`, which
stays cheap to import; ``run(args, problem)`` returns the report and its exit code, and
``derive.cli.main`` delivers it after the time limit, through the same path and the same
table of errors as every other command:

* 0: the claim equals the certified derivative, with a proof;
* 1: it does not (a counterexample, the certified result and, when one fits, a diagnosis);
* 2: bad input (``ClaimError`` and the parser's and the problem's errors): one line on stderr;
* 3: not refuted but not proved, or no verdict (``NoVerdict``: the reference derivation failed
  its own certification, or an engine bug).

Text, Markdown and LaTeX come from ``templates/check.*.j2``; JSON is built here
from the same view, with each diagnosis's explanation rendered by the templates.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace

import math

import mpmath
from sympy import Derivative, Expr, Integer, Rational, Sum, Symbol
from sympy.printing.str import StrPrinter

from derive.catalog import UndefinedPair, UnknownName, Wording, activation_wording, loss_wording
from derive.certify import CertificationError
from derive.certify.points import INPUT_SCALES, TARGET_RANGES
from derive.check.claims import SAMPLE_DIGITS, ClaimError, Outcome, check, read_claim, reference
from derive.check.diagnose import TARGET_FAMILIES, Diagnosis, Mistake, CLAIM_TOLERANCE
from derive.holding import release
from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.parse import EXAMPLES, ParseError
from derive.problem import NoVerdict, Problem, ProblemError
from derive.present.render import environment
from derive.engine.rules.assumption import ASSUMPTION
from derive.engine.rules.chain import CHAIN
from derive.engine.rules.index_split import INDEX_SPLIT
from derive.engine.strategy import StepLimitError
from derive.syntax import user_syntax
from derive.symbols import FREE_INDEX, INPUT, LOSS_NAME, OUTPUT, TARGET
from derive.trail import Trail

TEMPLATE_SUFFIX = {"text": "txt", "md": "md", "tex": "tex"}
NOTATION = Notation(output="o", input="z")  # the names a claim is typed in
BAD_INPUT = (ParseError, ClaimError, UnknownName, UndefinedPair, ProblemError)


# -- the command -------------------------------------------------------------------------------

def run_check(args, problem: Problem):
    """The report on the claim about ``problem`` (built by ``derive.cli.main`` as for ``pair``), with its
    exit code, for ``derive.cli.main`` to deliver.  Bad input raises the parser's and the problem's own
    errors (exit 2 in main's table); a reference that cannot be certified, or an engine bug, is
    ``NoVerdict`` (exit 3): never a verdict that was not reached."""
    from derive.cli.main import ToStdout  # local: main imports this module lazily

    try:
        ref = reference(problem, args.wrt)
        outcome = check(read_claim(args.claim, ref), ref)
        text = report(outcome, args.claim, args.format)
    except BAD_INPUT:
        raise
    except (CertificationError, StepLimitError) as error:
        raise NoVerdict(f"the reference derivation failed: {_one_line(error)}") from None
    except Exception as error:  # an engine bug: one line, and no verdict rather than a wrong one
        if os.environ.get("DERIVE_DEBUG"):
            raise
        raise NoVerdict(f"internal error ({type(error).__name__}: {_one_line(error)}); "
                        "set DERIVE_DEBUG=1 for details") from None
    return ToStdout(text, verdict_code(outcome))


def verdict_code(outcome) -> int:
    """0 only with a proof; agreement at sampled points without one is 3 (not refuted, no proof)."""
    if not outcome.holds:
        return 1
    return 0 if outcome.method == "symbolic" else 3


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def report(outcome: Outcome, claim_text: str, fmt: str) -> str:
    view = check_view(outcome, claim_text)
    if fmt == "json":
        return json.dumps(as_json(view, outcome), indent=2, ensure_ascii=False) + "\n"
    text = environment().get_template(f"check.{TEMPLATE_SUFFIX[fmt]}.j2").render(
        c=view, n=NOTATION, fmt=TEMPLATE_SUFFIX[fmt])
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# -- the view ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Maths:
    tex: str
    plain: str


@dataclass(frozen=True)
class Row:
    name: str       # "z", "o", "y" or "N"
    values: str     # "0.2, 0.6, 0.2"
    computed: bool  # computed from z rather than given


@dataclass(frozen=True)
class CounterexampleView:
    classes: int
    k: int
    rows: tuple[Row, ...]
    claimed: str | None  # None: the claim is undefined there
    true: str


@dataclass(frozen=True)
class StepLine:
    number: int
    title: str
    after: Maths


@dataclass(frozen=True)
class DiagnosisView:
    ids: tuple[str, ...]
    shape: str
    scale: Maths           # the factor in front of the shape ("", "-", "2", "\frac{1}{N}" ...)
    factor: str            # "2" or "1/2" when factor-two is among the ids
    power: int             # 1: an extra N, -1: an extra 1/N
    family: str | None
    formula: Maths         # the candidate written out: what the claim equals


@dataclass(frozen=True)
class CheckView:
    holds: bool
    wrt: str
    activation: str
    loss: str
    activation_wording: Wording  # how the activation reads in a sentence (a user's formula: user-defined)
    loss_wording: Wording
    targets: str
    classes: str
    lhs: Maths
    pair_lhs: Maths         # ∂E/∂z_k, the left-hand side of the derive pair document
    claim_text: str
    claim: Maths
    truth: Maths
    gradient_o: Maths       # ∂E/∂o_k (certified)
    gradient_z: Maths       # ∂E/∂z_k (certified)
    diagonal: Maths         # ∂o_k/∂z_k (the certified lemma at i = k)
    steps: tuple[StepLine, ...]   # the certified steps of the derivation checked against
    command: str            # the derive pair command with the full ∂E/∂z_k derivation
    symbolic_command: str   # the same for symbolic H: the document the departure's step number refers to
    pair_steps: int | None  # the step count of that document (None: at a concrete H it is not derived here)
    method: str
    sampled: str            # "1, 2, 3, 4, 5, 6"
    points: int
    digits: int
    agreement: int  # significant digits the two sides must share (from diagnose.CLAIM_TOLERANCE)
    families: tuple[str, ...]
    simplex: bool           # --wrt o with a vector activation: outputs drawn where they sum to one
    largest_input: str      # random inputs are drawn up to this size, either sign (--wrt z)
    any_targets: tuple[str, str]  # where arbitrary targets are drawn
    assumption: Maths | None
    counterexample: CounterexampleView | None
    diagnosis: DiagnosisView | None
    departure: StepLine | None


class _Plain(StrPrinter):
    """Expressions in the claim syntax: ``o[k]``, ``sum(y[i], i)``."""

    def _print_Sum(self, expr):
        text = self._print(expr.function)
        for index, _, _ in expr.limits:
            text = f"sum({text}, {self._print(index)})"
        return text

    def _print_SumExcept(self, expr):
        return f"sum({self._print(expr.function)}, {self._print(expr.index)} != {self._print(expr.excluded)})"

    def _print_Indexed(self, expr):
        return f"{self._print(expr.base.label)}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_Derivative(self, expr):
        (variable, _), = expr.variable_count
        return f"d({self._print(expr.expr)})/d({self._print(variable)})"

    def _print_KroneckerDelta(self, expr):
        return f"delta({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"


def maths(expr: Expr, held: bool = False) -> Maths:
    """LaTeX and plain text of ``expr``; ``held`` keeps unevaluated parts as the document prints them."""
    expr = expr if held else release(expr)
    return Maths(to_latex(expr, NOTATION), _Plain().doprint(expr))


def _derivative(of, by) -> Maths:
    tex = to_latex(Derivative(of, by, evaluate=False), NOTATION)
    return Maths(tex, f"d{_Plain().doprint(of).replace('[k]', '_k')}/d{by.base}_k")


AGREEMENT_DIGITS = round(-math.log10(CLAIM_TOLERANCE))


def _number(value, digits: int = 6) -> str:
    if isinstance(value, Rational):
        if value.q == 1:
            return str(value.p)
        text = mpmath.nstr(mpmath.mpf(value.p) / value.q, 12)
        return text if len(text) <= 8 else mpmath.nstr(mpmath.mpf(value.p) / value.q, 4)
    text = mpmath.nstr(value, digits, strip_zeros=True)
    return text[:-2] if text.endswith(".0") else text


def _counterexample(outcome: Outcome) -> CounterexampleView | None:
    found = outcome.counterexample
    if found is None:
        return None
    point = found.point
    rows = []
    if point.inputs is not None:
        rows.append(Row("z", ", ".join(_number(v) for v in point.inputs), False))
        rows.append(Row("o", ", ".join(_number(v, 4) for v in found.outputs), True))
    else:
        rows.append(Row("o", ", ".join(_number(v) for v in point.outputs), False))
    rows.append(Row("y", ", ".join(_number(v) for v in point.targets), False))
    if outcome.claim.has(EXAMPLES):
        rows.append(Row("N", str(point.examples), False))
    claimed = None if found.claimed is None else _number(found.claimed)
    return CounterexampleView(point.classes, point.k, tuple(rows), claimed, _number(found.true))


def _scale(diagnosis: Diagnosis) -> Maths:
    coefficient = diagnosis.sign * diagnosis.factor * EXAMPLES ** diagnosis.power
    if coefficient in (1, -1):
        return Maths("" if coefficient == 1 else "-", "" if coefficient == 1 else "-")
    return Maths(to_latex(coefficient, NOTATION), f"{_Plain().doprint(coefficient)} * ")


def _diagnosis(outcome: Outcome) -> DiagnosisView | None:
    diagnosis = outcome.diagnosis
    if diagnosis is None:
        return None
    shape = outcome.reference.shapes()[diagnosis.shape]
    formula = diagnosis.sign * diagnosis.factor * EXAMPLES ** diagnosis.power * shape
    if diagnosis.family is not None:  # on the narrower family the targets sum to one (and y_k = 1 at the true class)
        formula = formula.replace(lambda node: isinstance(node, Sum) and node.function == TARGET[node.limits[0][0]],
                                  lambda node: Integer(1))
        if diagnosis.family == "true-class":
            formula = formula.xreplace({TARGET[FREE_INDEX]: Integer(1)})
    return DiagnosisView(
        ids=tuple(diagnosis.ids), shape=diagnosis.shape, scale=_scale(diagnosis),
        factor="2" if diagnosis.factor == 2 else "1/2", power=diagnosis.power, family=diagnosis.family,
        formula=maths(formula),
    )


def departure(diagnosis: Diagnosis | None, inputs: Trail) -> StepLine | None:
    """The step of the published ``∂E/∂z_k`` derivation where the claimed form parts from it."""
    if diagnosis is None:
        return None
    wanted = {
        Mistake.DIAGONAL_ONLY: (INDEX_SPLIT, CHAIN),
        Mistake.DIVIDED_FACTORS: (CHAIN,),
        Mistake.TARGET_ASSUMPTION: (ASSUMPTION,),
    }
    for mistake in diagnosis.mistakes:
        for rule in wanted.get(mistake, ()):
            for number, step in enumerate(inputs.steps, start=1):
                if step.rule is rule:
                    return StepLine(number, step.rule.title, maths(step.after, held=True))  # as printed at (number)
    return None


def _command(problem: Problem) -> str:
    parts = ["derive pair"]
    if problem.activation_expr is None:
        parts.append(problem.activation)
    else:
        parts.append(f'--activation "{user_syntax(problem.activation_expr)}"')  # straight quotes in \texttt too
    if problem.loss_expr is None:
        parts.append(problem.loss)
    else:
        parts.append(f'--loss "{user_syntax(problem.loss_expr)}"')
    if problem.targets is not None:
        parts.append(f"--targets {problem.targets}")
    if problem.classes is not None:
        parts.append(f"--H {problem.classes}")
    return " ".join(parts)


def _plain_number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def check_view(outcome: Outcome, claim_text: str) -> CheckView:
    ref = outcome.reference
    variable = INPUT[FREE_INDEX] if ref.wrt == "z" else OUTPUT[FREE_INDEX]
    loss = Symbol(LOSS_NAME)
    families = TARGET_FAMILIES[TARGET_FAMILIES.index(ref.targets):]
    assumption = next((a.statement for a in ref.inputs.assumptions if a.name == ref.targets), None)
    return CheckView(
        holds=outcome.holds, wrt=ref.wrt, activation=ref.problem.activation, loss=ref.problem.loss,
        activation_wording=activation_wording(ref.inputs.activation), loss_wording=loss_wording(ref.inputs.loss),
        targets=ref.targets, classes="H" if ref.problem.classes is None else str(ref.problem.classes),
        lhs=_derivative(loss, variable), pair_lhs=_derivative(loss, INPUT[FREE_INDEX]), claim_text=claim_text, claim=maths(outcome.claim),
        truth=maths(ref.truth), gradient_o=maths(ref.outputs.result), gradient_z=maths(ref.inputs.result),
        diagonal=maths(ref.diagonal),
        steps=tuple(StepLine(n, s.rule.title, maths(s.after)) for n, s in enumerate(ref.trail.steps, start=1)),
        command=_command(ref.problem), symbolic_command=_command(replace(ref.problem, classes=None)),
        pair_steps=len(ref.inputs.steps) if ref.problem.classes is None else None,
        method=outcome.method, sampled=", ".join(str(h) for h in outcome.classes), points=outcome.points,
        digits=SAMPLE_DIGITS, agreement=AGREEMENT_DIGITS, families=families, simplex=ref.wrt == "o" and ref.activation.has(Sum),
        largest_input=_plain_number(INPUT_SCALES[-1][1]), any_targets=tuple(_plain_number(v) for v in TARGET_RANGES["any"]),
        assumption=None if assumption is None or not outcome.assumption_used else maths(assumption),
        counterexample=_counterexample(outcome), diagnosis=_diagnosis(outcome),
        departure=departure(outcome.diagnosis, ref.inputs),
    )


# -- JSON --------------------------------------------------------------------------------------

def _number_or_none(value) -> float | None:
    return None if value is None else float(value)


def explanations(view: CheckView) -> list[dict]:
    """Each diagnosed mistake with its plain-words explanation (from ``templates/check/mistakes.j2``)."""
    if view.diagnosis is None:
        return []
    template = environment().get_template("check/finding.txt.j2")
    return [{"id": mistake, "text": " ".join(template.render(c=view, n=NOTATION, fmt="txt", mistake=mistake).split())}
            for mistake in view.diagnosis.ids]


def as_json(view: CheckView, outcome: Outcome) -> dict:
    ref = outcome.reference
    found = outcome.counterexample
    counterexample = None
    if found is not None:
        point = found.point
        values = {"z": None if point.inputs is None else [float(v) for v in point.inputs],
                  "o": [float(v) for v in found.outputs], "y": [float(v) for v in point.targets]}
        if point.inputs is None:
            del values["z"]
        if outcome.claim.has(EXAMPLES):
            values["N"] = point.examples
        counterexample = {"H": point.classes, "k": point.k, "values": values,
                          "claimed": _number_or_none(found.claimed), "true": float(found.true)}
    symbolic = outcome.method == "symbolic"
    return {
        "holds": outcome.holds,
        "proved": outcome.holds and symbolic,
        "activation": ref.problem.activation,
        "loss": ref.problem.loss,
        "targets": ref.targets,
        "wrt": ref.wrt,
        "H": "H" if ref.problem.classes is None else ref.problem.classes,
        "claim": {"text": view.claim_text, "latex": view.claim.tex},
        "true": {"latex": view.truth.tex, "text": view.truth.plain},
        "method": {
            "kind": outcome.method,
            "H": ("all" if ref.problem.classes is None else [ref.problem.classes]) if symbolic else list(outcome.classes),
            "points": outcome.points,
            "digits": SAMPLE_DIGITS,
            "agreement_digits": AGREEMENT_DIGITS,
            "targets": list(view.families),
        },
        "counterexample": counterexample,
        "diagnosis": None if outcome.holds or view.diagnosis is None else explanations(view),
        "departure": None if view.departure is None else {"step": view.departure.number, "title": view.departure.title},
        "derivation": view.command,
    }

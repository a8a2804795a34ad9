"""The view a template sees: a certified trail turned into LaTeX strings and plain data.

This module only formats what the trail already holds (and the worked example
computed from it).  It never differentiates or simplifies anything.  The detail
level is a presentation filter over the certified trail: it hides steps or
substeps but never renumbers them, so a step's number is its place in the trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, make_dataclass, replace

from sympy import Basic, Derivative, Eq, Indexed, Symbol

from derive.present.chains import Layout, layout
from derive.present.facts import StepFacts, step_facts
from derive.certify import AGREEMENT, FLOAT_DIGITS, PRECISION
from derive.certify.points import EXTRA_CLASSES, INPUT_SCALES, TARGET_RANGES
from derive.holding import release
from derive.present.example import WorkedExample
from derive.present.figure import Figure, network_figure
from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.present.problem_view import ActivationView, AssumptionView, LossView, activation_view, loss_view
from derive.present.term_order import carried_orders
from derive.present.written_out import written_activation, written_loss
from derive.symbols import (
    BIAS, CLASSES, ERROR, FREE_INDEX, HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, INNER_INDEX, SECOND_INDEX, INPUT, INPUT_INDEX, INPUTS, LOSS_NAME,
    NETWORK_INPUT, OUTPUT, PREACTIVATION, SUM_INDEX, TARGET, UNITS, WEIGHT,
)
from derive.trail import Mark, Step, Trail

DRAWN_MARKS = (Mark.UNDERBRACE, Mark.CANCEL)

DETAILS = ("brief", "standard", "full")


class DetailError(ValueError):
    """A detail level that does not exist."""


@dataclass(frozen=True)
class StepView:
    number: str
    rule: str
    title: str
    formula: str
    lhs: str
    before: str
    after: str
    focus_before: str  # the part the rule rewrote (the whole expression when it rewrote all of it)
    focus_after: str
    constant: str | None
    intermediate: str | None
    definitions: tuple[str, ...]
    cancelled: tuple[str, ...]
    underbraces: tuple[tuple[str, str], ...]  # (the braced value, its case)
    assumptions: tuple[AssumptionView, ...]  # each with its name and statement (``used`` is empty here)
    substeps: tuple["StepView", ...]
    certified: bool
    tested: bool = False  # sampled only: no symbolic proof was found (the document says so)
    folded: bool = True  # Markdown tucks the substeps into <details>
    statement: tuple[str, str] | None = None  # brief: a lemma's result (lhs, value) instead of its derivation
    skipped: tuple[tuple[str, str], ...] = ()  # brief: (number, title) of the steps left out just before this one
    facts: StepFacts | None = None  # what the step's maths shows: its sentence is chosen by these (derive.present.facts)
    constant_tex: str | None = None  # the number a derivative was taken of (facts.constant), as LaTeX
    tidying: bool = False  # algebra with no calculus idea of its own (the rule's record says): brief leaves it out
    states_result: bool = False  # its substeps derive a result of their own (a lemma): brief states it instead
    pivotal: bool = False  # the layout flags of its rule's record (derive.trail.Rule): what derive.present.chains reads
    kept_in_brief: bool = False
    elementary: bool = False
    lemma: str = ""
    symbols: "Symbols | None" = None  # the names its prose uses, when they differ from the document's (a hidden unit's a_n)


# Each notation role as LaTeX maths (``Z``, ``\mathrm{out}``, ``\alpha``): what templates call ``n``.  Its fields are
# Notation's, so a role added to the notation is a symbol of the documents at once.
Symbols = make_dataclass("Symbols", [(field.name, str) for field in fields(Notation)], frozen=True)


@dataclass(frozen=True)
class ExampleView:
    classes: int
    outputs: tuple[str, ...]
    targets: tuple[str, ...]
    inputs: tuple[str, ...] | None
    loss_exact: str
    loss_value: str
    gradient: tuple[str, ...]
    wrong: bool  # the largest output is not the true class
    examples: int | None = None  # a mean over a data set: the N the gradient uses


@dataclass(frozen=True)
class VerdictView:
    matches: bool
    factor: str | None
    vanishes_at: tuple[str, ...]
    when_targets_sum_to_one: bool
    when_normalised: str | None = None  # the result once the targets sum to one (targets 'any')
    keeps_inputs: bool = False  # the result still has Z: no inverse of the activation is valid on the whole line


@dataclass(frozen=True)
class PrecisionView:
    """How closely the certifier required the two sides of a step to agree."""

    float_digits: int = FLOAT_DIGITS  # in machine floats, which decide when they agree
    digits: int = PRECISION  # the arithmetic a point is computed in again when floats do not agree
    agreement: int = AGREEMENT  # the significant digits that arithmetic requires
    extra_classes: tuple[int, int] = EXTRA_CLASSES  # symbolic H: one more H from this range per equation
    input_scales: tuple[tuple[str, str], ...] = tuple((f"{low:g}", f"{high:g}") for low, high in INPUT_SCALES)  # |Z|
    any_targets: tuple[str, str] = tuple(f"{bound:g}" for bound in TARGET_RANGES["any"])


@dataclass(frozen=True)
class DocumentView:
    name: str | None  # a user's name for the document
    activation: ActivationView
    loss: LossView
    targets: str
    reduction: str
    classes: str
    concrete: bool
    notation: Notation
    assumptions: tuple[AssumptionView, ...]
    lhs: str
    start: str
    steps: tuple[StepView, ...]
    result: str
    gradient: tuple[str, ...]
    example: ExampleView | None
    checked_at: str
    verdict: VerdictView | None
    slug: str
    detail: str = "standard"
    symbols: Symbols | None = None
    figure: Figure | None = None
    omitted: tuple[str, ...] = ()  # numbers of the trail's steps this detail level leaves out
    loss_written_out: str | None = None  # at a small concrete H, the loss term by term (derive.present.written_out)
    precision: PrecisionView = PrecisionView()
    layout: Layout | None = None  # the steps as whiteboard chains at this detail level (derive.present.chains)


def decimal(value: Basic, places: int = 4) -> str:
    """``value`` to ``places`` decimals; a value below 0.01 that would round to 0 keeps two
    significant digits instead (``2.1 \\times 10^{-6}``), so a small output never reads as 0."""
    number = float(value)
    text = f"{number:.{places}f}".rstrip("0").rstrip(".")
    if text in ("-0", "", "0"):
        if number == 0 or abs(number) >= 0.01:
            return "0"
        mantissa, exponent = f"{number:.1e}".split("e")
        return rf"{mantissa.rstrip('0').rstrip('.')} \times 10^{{{int(exponent)}}}"
    return text


class Formatter:
    def __init__(self, notation: Notation, orders: Mapping | None = None):
        self.notation = notation
        self.orders = orders or {}  # the written order of each sum's terms (derive.present.term_order)
        self._printed: dict[Basic, str] = {}  # a step's "after" is the next step's "before": print it once

    def tex(self, expr: Basic, marks=None) -> str:
        if marks:
            return to_latex(expr, self.notation, marks, self.orders)
        if expr not in self._printed:
            self._printed[expr] = to_latex(expr, self.notation, orders=self.orders)
        return self._printed[expr]

    def step(self, step: Step, number: str, lhs: str) -> StepView:
        def targets(mark: Mark) -> tuple[str, ...]:
            return tuple(self.tex(a.target) for a in step.annotations if a.mark is mark)

        def first(mark: Mark) -> str | None:
            found = targets(mark)
            return found[0] if found else None

        drawn = {a.target: (a.mark.value, None if a.note is None else self.tex(a.note)) for a in step.annotations if a.mark in DRAWN_MARKS}
        sub_lhs = self.tex(step.substeps[0].before) if step.substeps else lhs
        facts = step_facts(step)
        return StepView(
            number=number,
            rule=step.rule.slug,
            title=step.rule.title,
            formula=step.rule.formula,
            tidying=step.rule.tidying,
            states_result=step.rule.states_result,
            pivotal=step.rule.pivotal,
            kept_in_brief=step.rule.kept_in_brief,
            elementary=step.rule.elementary,
            lemma=step.rule.lemma,
            lhs=lhs,
            before=self.tex(step.before),
            after=self.tex(step.after, drawn),
            focus_before=self.tex(step.before if step.focus is None else step.focus[0]),
            focus_after=self.tex(step.after if step.focus is None else step.focus[1]),
            constant=first(Mark.CONSTANT),
            intermediate=first(Mark.INTERMEDIATE),
            definitions=tuple(
                self.tex(Eq(a.target, a.note, evaluate=False)) for a in step.annotations if a.mark is Mark.DEFINITION
            ),
            cancelled=targets(Mark.CANCELLED),
            underbraces=tuple(
                (self.tex(release(a.target)), self.tex(a.note)) for a in step.annotations if a.mark is Mark.UNDERBRACE
            ),
            assumptions=tuple(AssumptionView(a.name, self.tex(a.statement)) for a in step.assumptions),
            substeps=tuple(self.step(sub, f"{number}.{n}", sub_lhs) for n, sub in enumerate(step.substeps, start=1)),
            certified=step.certified,
            tested=step.certificate is not None and step.certificate.kind == "tested",
            facts=facts,
            constant_tex=None if facts.constant is None else self.tex(facts.constant),
        )

    def example(self, example: WorkedExample) -> ExampleView:
        return ExampleView(
            classes=len(example.outputs),
            outputs=tuple(decimal(v, 2) for v in example.outputs),
            targets=tuple(decimal(v, 0) for v in example.targets),
            inputs=None if example.inputs is None else tuple(decimal(v, 4) for v in example.inputs),
            loss_exact=self.tex(example.loss),
            loss_value=decimal(example.loss),
            gradient=tuple(decimal(v, 4) for v in example.gradient),
            wrong=_argmax(example.outputs) != _argmax(example.targets),
            examples=example.examples,
        )


def symbols(notation: Notation) -> Symbols:
    canonical = {
        "output": OUTPUT, "target": TARGET, "input": INPUT, "loss": Symbol(LOSS_NAME), "error": ERROR,
        "sum_index": SUM_INDEX, "free_index": FREE_INDEX, "inner_index": INNER_INDEX, "classes": CLASSES,
        "weight": WEIGHT, "bias": BIAS, "network_input": NETWORK_INPUT, "inputs": INPUTS, "input_index": INPUT_INDEX,
        "hidden_weight": HIDDEN_WEIGHT, "hidden_bias": HIDDEN_BIAS, "hidden": HIDDEN, "preactivation": PREACTIVATION,
        "units": UNITS, "second_index": SECOND_INDEX,
    }
    return Symbols(**{f.name: to_latex(canonical[f.name], notation) for f in fields(Symbols)})


def at_detail(steps: tuple[StepView, ...], detail: str) -> tuple[StepView, ...]:
    """The steps a reader sees at ``detail``; numbers stay those of the trail."""
    if detail == "standard":
        return steps
    if detail == "full":
        return tuple(_unfolded(step) for step in steps)
    if detail != "brief":
        raise DetailError(f"unknown detail level {detail!r}; choose from {', '.join(DETAILS)}")
    kept, skipped = [], []
    for position, step in enumerate(steps):
        if step.tidying and position < len(steps) - 1:
            skipped.append((step.number, step.title))
            continue
        last = step.substeps[-1] if step.substeps else None
        statement = (last.lhs, last.after) if step.states_result and last is not None else None
        kept.append(replace(step, substeps=(), statement=statement, skipped=tuple(skipped)))
        skipped = []
    return tuple(kept)


def _unfolded(step: StepView) -> StepView:
    return replace(step, folded=False, substeps=tuple(_unfolded(sub) for sub in step.substeps))


def _numbers(steps: tuple[StepView, ...]) -> list[str]:
    found = []
    for step in steps:
        found.append(step.number)
        found.extend(_numbers(step.substeps))
    return found


def _argmax(values) -> int:
    return max(range(len(values)), key=lambda position: (values[position], -position))


def _uses(steps: tuple[StepView, ...], name: str) -> tuple[str, ...]:
    found = []
    for step in steps:
        if any(assumption.name == name for assumption in step.assumptions):
            found.append(step.number)
        found.extend(_uses(step.substeps, name))
    return tuple(dict.fromkeys(n.split(".")[0] for n in found))


def verdict_view(fmt: Formatter, trail: Trail) -> VerdictView | None:
    verdict = trail.verdict
    if verdict is None:
        return None
    return VerdictView(
        matches=verdict.matches,
        factor=None if verdict.factor is None else fmt.tex(verdict.factor),
        vanishes_at=tuple(fmt.tex(value) for value in verdict.vanishes_at),
        when_targets_sum_to_one=verdict.when_targets_sum_to_one,
        when_normalised=None if verdict.when_normalised is None else fmt.tex(verdict.when_normalised),
        keeps_inputs=any(node.base == INPUT for node in trail.result.atoms(Indexed)),
    )


def document_view(
    trail: Trail,
    notation: Notation,
    example: WorkedExample | None,
    checked_at: tuple[int, ...],
    slug: str = "",
    name: str | None = None,
    detail: str = "standard",
) -> DocumentView:
    fmt = Formatter(notation, carried_orders(trail.start, trail.steps))
    second = isinstance(trail.start, Derivative) and len(trail.start.variables) == 2  # ∂²E/∂Z_k∂Z_l (--second)
    lhs = fmt.tex(Derivative(Symbol(LOSS_NAME), *(trail.start.variables if second else (INPUT[FREE_INDEX],)), evaluate=False))
    every = tuple(fmt.step(step, str(n), lhs) for n, step in enumerate(trail.steps, start=1))
    steps = at_detail(every, detail)
    shown = set(_numbers(steps))
    start = fmt.tex(trail.start)
    chains = layout(every, lhs, start, detail)
    activation = activation_view(trail.activation, trail.definitions, fmt.tex, written_activation(trail))
    return DocumentView(
        name=name,
        activation=activation,
        loss=loss_view(trail.loss, trail.definitions, fmt.tex),
        targets=trail.targets,
        reduction=trail.reduction,
        classes=fmt.tex(CLASSES) if trail.classes is None else str(trail.classes),
        concrete=trail.classes is not None,
        notation=notation,
        assumptions=tuple(AssumptionView(a.name, fmt.tex(a.statement), _uses(every, a.name)) for a in trail.assumptions),
        lhs=lhs,
        start=start,
        steps=steps,
        result=fmt.tex(trail.result),
        gradient=tuple(fmt.tex(component) for component in trail.gradient or ()),
        example=None if example is None else fmt.example(example),
        checked_at=", ".join(str(h) for h in checked_at),
        verdict=verdict_view(fmt, trail),
        slug=slug,
        detail=detail,
        symbols=symbols(notation),
        figure=network_figure(trail.classes, not activation.elementwise, trail.activation, notation),
        omitted=tuple(number for number in _numbers(every) if number not in shown),
        loss_written_out=None if (written := written_loss(trail)) is None else fmt.tex(written),
        layout=chains,
    )


@dataclass(frozen=True)
class IndexRow:
    slug: str
    activation: str
    loss: str
    targets: str
    result: str
    verdict: VerdictView


@dataclass(frozen=True)
class IndexView:
    rows: tuple[IndexRow, ...]
    notation: Notation
    lhs: str
    symbols: Symbols | None = None


def index_view(entries: list[tuple[str, Trail]], notation: Notation) -> IndexView:
    """One row per catalogue derivation: the pair, its gradient and its verdict."""
    fmt = Formatter(notation)
    rows = tuple(
        IndexRow(slug, trail.activation, trail.loss, trail.targets, fmt.tex(trail.result), verdict_view(fmt, trail))
        for slug, trail in entries
    )
    lhs = fmt.tex(Derivative(Symbol(LOSS_NAME), INPUT[FREE_INDEX], evaluate=False))
    return IndexView(rows, notation, lhs, symbols(notation))

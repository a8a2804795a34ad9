"""The view a network document's templates see (``--wrt W|b|x``): a certified ``NetworkTrail`` as LaTeX strings.

Like ``document.py`` it only formats what the trail holds: the steps (the same ``StepView`` the output
layer's documents use, so the rule templates serve both), the lemma cited, the matrix summary with its
shapes, and at concrete sizes the gradient's entries in index form.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Add, Derivative, Eq, Indexed, KroneckerDelta, Mul, Sum, preorder_traversal

from derive.present.chains import Layout, layout
from derive.present.document import DETAILS, Formatter, StepView, Symbols, at_detail, symbols
from derive.present.network_figure import NetworkFigure, network_figure
from derive.present.problem_view import ActivationView, LossView, activation_view, loss_view
from derive.present.notation import Notation
from derive.present.term_order import default_order
from derive.present.written_out import written_activation, written_loss
from derive.symbols import (
    BIAS, CLASSES, FREE_INDEX, HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, INPUT, INPUTS, LOSS, NETWORK_INPUT, UNITS, WEIGHT,
)
from derive.trail import NetworkTrail, Step

BASES = {"W": WEIGHT, "b": BIAS, "x": NETWORK_INPUT, "h": HIDDEN, "V": HIDDEN_WEIGHT, "c": HIDDEN_BIAS}
SHOWN_ENTRIES = 4  # at concrete sizes: the first three entries of the gradient and the last


@dataclass(frozen=True)
class LemmaView:
    lhs: str      # ∂E/∂Z_k
    value: str    # its value, the output layer's result
    command: str  # the command that derives it on its own


@dataclass(frozen=True)
class SummaryLine:
    name: str     # "z", "W", "b", "x"
    lhs: str      # \nabla_Z E, \frac{\partial E}{\partial W}
    value: str
    rows: str
    columns: str
    derived: bool  # the line this document derives


@dataclass(frozen=True)
class NetworkView:
    name: str | None
    activation: ActivationView
    loss: LossView
    targets: str
    wrt: str
    classes: str
    inputs: str
    hidden: str | None  # the hidden layer's activation (None: no hidden layer)
    units: str  # M, or the number of hidden units
    concrete: bool
    notation: Notation
    definitions: tuple[str, ...]  # E, e_i, O_i, Z_i, and with a hidden layer h_m, a_m
    assumptions: tuple[tuple[str, str], ...]
    variable: str
    lhs: str
    start: str
    steps: tuple[StepView, ...]
    result: str
    lemma: LemmaView
    output_gradient: str | None  # (∇_Z E)_k, when the summary writes ∇_Z E rather than O − y
    summary: tuple[SummaryLine, ...]
    entries: tuple[tuple[str, str], ...]  # concrete sizes: (∂E/∂W_{1,1}, its value in index form), some of them
    entry_count: int
    all_proved: bool
    sampled: tuple[tuple[int, int], ...]  # the (H, D) the second line sampled
    slug: str
    detail: str
    symbols: Symbols
    figure: NetworkFigure | None = None
    omitted: tuple[str, ...] = ()
    loss_written_out: str | None = None  # at a small concrete H: the loss with its sum written out
    layout: Layout | None = None  # the steps as whiteboard chains at this detail level (derive.present.chains)


def _layer_orders(trail: NetworkTrail) -> dict:
    """A layer written as a lecturer writes it, ``Z_i = Σ_d W_id x_d + b_i``: in every sum that holds a bias, the
    bias goes last (the printer's own order puts it first)."""
    biases = (BIAS, HIDDEN_BIAS)
    orders = {}
    pending, written = list(trail.steps), list(trail.definitions)
    while pending:  # the layer as a step's prose states it, at that step's indices
        step = pending.pop()
        written.extend(a.note for a in step.annotations if a.note is not None)
        pending.extend(step.substeps)
    for definition in written:
        for node in preorder_traversal(definition):
            if isinstance(node, Add) and node not in orders:
                terms = default_order(node)
                last = tuple(t for t in terms if isinstance(t, Indexed) and t.base in biases)
                if last:
                    orders[node] = tuple(t for t in terms if t not in last) + last
    return orders


def _summary_lhs(fmt: Formatter, name: str) -> str:
    """``∇_Z E`` for the output layer's inputs, ``∂E/∂W`` (the whole matrix) for the others."""
    if name == "z":
        return r"\nabla_{%s} %s" % (fmt.tex(INPUT), fmt.tex(LOSS))
    return r"\frac{\partial %s}{\partial %s}" % (fmt.tex(LOSS), fmt.tex(BASES[name]))


def _entries(fmt: Formatter, trail: NetworkTrail) -> tuple[tuple[tuple[str, str], ...], int]:
    if trail.gradient is None:
        return (), 0
    indices = [index for index, _ in trail.ranges]
    lasts = [int(last) for _, last in trail.ranges]
    places = [(m,) for m in range(1, lasts[0] + 1)] if len(lasts) == 1 else \
        [(m, n) for m in range(1, lasts[0] + 1) for n in range(1, lasts[1] + 1)]
    shown = places if len(places) <= SHOWN_ENTRIES else places[:SHOWN_ENTRIES - 1] + places[-1:]
    lines = []
    for place in shown:
        values = dict(zip(indices, place))
        lhs = Derivative(LOSS, trail.variable.xreplace(values), evaluate=False)
        lines.append((fmt.tex(lhs), fmt.tex(trail.result.xreplace(values).doit())))
    return tuple(lines), len(places)


def _command(trail: NetworkTrail) -> str:
    output = trail.output
    if output.activation == "user-defined" or output.loss == "user-defined":
        return "derive pair ... --wrt z"
    parts = ["derive pair", output.activation, output.loss]
    if output.classes is not None:
        parts.append(f"--H {output.classes}")
    return " ".join(parts)


def _variable_symbols(fmt: Formatter, base_symbols: Symbols, variable, last) -> Symbols:
    """The document's symbols, with the variable a step works on (``a_n``, its index running to ``last``) in
    place of ``Z_k``, so the rule templates' sentences name it."""
    return replace(base_symbols, input=fmt.tex(variable.base), free_index=fmt.tex(variable.indices[0]), classes=fmt.tex(last))


def _sifted(step: Step):
    """The index a sifting step keeps (``k`` in ``Σ_i f_i δ_ik``), the sum's last value and its index, or None."""
    node = step.before if step.focus is None else step.focus[0]
    if not isinstance(node, Sum):
        return None
    index, _, last = node.limits[0]
    for factor in Mul.make_args(node.function):
        if isinstance(factor, KroneckerDelta) and index in factor.args:
            partner = factor.args[1] if factor.args[0] == index else factor.args[0]
            return partner, last, index
    return None


def _with_symbols(view: StepView, step: Step, fmt: Formatter, base: Symbols, units, unit=None) -> StepView:
    """``view`` with the names its prose needs: a sifting step's kept index and range; inside a hidden unit's
    lemma, the unit's input ``a_n`` in place of ``Z_k``."""
    symbols = None
    if unit is not None:
        symbols = _variable_symbols(fmt, base, unit[0], unit[1])
    if step.rule.slug == "delta-sum" and (sifted := _sifted(step)) is not None:
        symbols = replace(symbols or base, free_index=fmt.tex(sifted[0]), classes=fmt.tex(sifted[1]), sum_index=fmt.tex(sifted[2]))
    inner = unit
    if step.rule.slug == "unit-lemma":
        derivative = step.before if step.focus is None else step.focus[0]
        inner = (derivative.variables[0], units)
    substeps = tuple(_with_symbols(sub_view, sub, fmt, base, units, inner) for sub_view, sub in zip(view.substeps, step.substeps))
    return replace(view, symbols=symbols, substeps=substeps)


def network_view(trail: NetworkTrail, notation: Notation, slug: str, name: str | None, detail: str = "standard") -> NetworkView:
    if detail not in DETAILS:
        raise ValueError(detail)
    fmt = Formatter(notation, _layer_orders(trail))
    lhs = fmt.tex(trail.start)
    base_symbols = symbols(notation)
    units = UNITS if trail.units is None else trail.units
    every = tuple(_with_symbols(fmt.step(step, str(n), lhs), step, fmt, base_symbols, units)
                  for n, step in enumerate(trail.steps, start=1))
    steps = at_detail(every, detail)
    output = trail.output
    matches = output.verdict is not None and output.verdict.matches
    loss_definition = Eq(LOSS, trail.loss, evaluate=False)
    definitions = (fmt.tex(loss_definition),) + tuple(fmt.tex(eq) for eq in trail.definitions)  # E, e_i, O_i, Z_i
    entries, count = _entries(fmt, trail)
    shown = {step.number for step in steps}
    lemma_lhs = Derivative(LOSS, INPUT[FREE_INDEX], evaluate=False)
    return NetworkView(
        name=name,
        activation=activation_view(output.activation, output.definitions, fmt.tex, written_activation(output)),
        loss=loss_view(output.loss, output.definitions, fmt.tex),
        targets=output.targets,
        wrt=trail.wrt,
        classes=fmt.tex(CLASSES) if trail.classes is None else str(trail.classes),
        inputs=fmt.tex(INPUTS) if trail.inputs is None else str(trail.inputs),
        hidden=trail.hidden,
        units=fmt.tex(UNITS) if trail.units is None else str(trail.units),
        concrete=trail.gradient is not None,
        notation=notation,
        definitions=definitions,
        assumptions=tuple((a.name, fmt.tex(a.statement)) for a in output.assumptions),
        variable=fmt.tex(trail.variable),
        lhs=lhs,
        start=lhs,
        steps=steps,
        result=fmt.tex(trail.result),
        lemma=LemmaView(fmt.tex(lemma_lhs), fmt.tex(output.result), _command(trail)),
        output_gradient=None if matches else fmt.tex(output.result),
        summary=tuple(
            SummaryLine(row.name, _summary_lhs(fmt, row.name), fmt.tex(row.value), fmt.tex(row.shape[0]),
                        fmt.tex(row.shape[1]), row.name == trail.wrt)
            for row in trail.summary
        ),
        entries=entries,
        entry_count=count,
        all_proved=all(step.certificate is not None and step.certificate.kind == "proof" for step in trail.steps),
        sampled=trail.sample_certificate,
        slug=slug,
        detail=detail,
        symbols=base_symbols,
        figure=network_figure(trail.wrt, trail.classes, trail.inputs, trail.units, trail.hidden is not None, notation),
        omitted=tuple(step.number for step in every if step.number not in shown),
        layout=layout(every, lhs, None, detail),
        loss_written_out=None if (written := written_loss(output)) is None else fmt.tex(written),
    )

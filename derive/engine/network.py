"""``derive_network``: backpropagation past the output layer, ``∂E/∂W_kj``, ``∂E/∂b_k``, ``∂E/∂x_d``.

The layer ``Z_i = Σ_d W_id x_d + b_i`` is added to the output layer's definitions, and the derivation of
``∂E/∂Z_k`` (already derived and certified) becomes a lemma the rules may cite.  The steps come from the
rules under the phases below, as the output layer's do: nothing here knows what the answer is.
"""

from __future__ import annotations

from functools import partial

from sympy import Add, Derivative, Indexed, Sum

from derive.context import Context, Definition
from derive.engine.derivation import pinned_targets
from derive.engine.formulation import formulate
from derive.engine.matrix_form import matrix_summary
from derive.engine.rules.base import d
from derive.engine.rules.delta_sum import delta_sum
from derive.engine.rules.layer_chain import layer_chain
from derive.engine.rules.layer_derivative import layer_derivative
from derive.engine.rules.layer_lemma import layer_lemma
from derive.engine.rules.cases import cases
from derive.engine.rules.unit_lemma import unit_lemma
from derive.engine.hidden_layer import Hidden, hidden_definitions
from derive.engine.strategy import DEFAULT, Phase, run
from derive.problem import Problem, ProblemError, UnsupportedError
from derive.sums import SumExcept
from derive.symbols import (
    BIAS, CLASSES, ERROR, FREE_INDEX, HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, INNER_INDEX, INPUT, INPUT_INDEX, INPUTS, LOSS,
    NETWORK_INPUT, OUTPUT, PREACTIVATION, SUM_INDEX, TARGET, UNIT_INDEX, UNIT_SUM_INDICES, UNITS, WEIGHT,
)
from derive.trail import NetworkTrail, Trail

PARAMETERS = ("W", "b", "x")
HIDDEN_PARAMETERS = ("W", "b", "h", "V", "c", "x")
MAX_INPUTS = 1000
MAX_ENTRIES = 40000  # at most this many weights in one matrix written out (H × D, or H × M and M × D)


def _same(rule):
    return rule


def network_phases(wrap=_same) -> tuple[Phase, ...]:
    """The chain rule through a layer first, then the lemma, the layer's own derivative, a hidden unit's
    derivative (derived as a lemma, by the output layer's lemma strategy), the sifting."""
    unit = partial(unit_lemma, subderive=DEFAULT.lemma, state_cases=wrap(cases))
    return (
        Phase("layer chain", (wrap(layer_chain),), node_major=True),
        Phase("lemma", (wrap(layer_lemma),), node_major=True),
        Phase("layer", (wrap(layer_derivative),), node_major=True),
        Phase("unit", (wrap(unit),), node_major=True),
        Phase("sift", (wrap(delta_sum),), node_major=False),
    )


def layer_definition(inputs, hidden_units=None) -> Definition:
    """``Z_i = Σ_d W_id x_d + b_i``, or ``Σ_m W_im h_m + b_i`` after a hidden layer of ``hidden_units``."""
    if hidden_units is None:
        body = Sum(WEIGHT[SUM_INDEX, INPUT_INDEX] * NETWORK_INPUT[INPUT_INDEX], (INPUT_INDEX, 1, inputs))
    else:
        body = Sum(WEIGHT[SUM_INDEX, UNIT_INDEX] * HIDDEN[UNIT_INDEX], (UNIT_INDEX, 1, hidden_units))
    return Definition(INPUT, SUM_INDEX, body + BIAS[SUM_INDEX])


def variable_of(wrt: str, hidden: bool) -> tuple[Indexed, tuple]:
    """The entry differentiated by, and each of its indices with its range's symbol (H, D or M)."""
    columns = UNITS if hidden else INPUTS
    variables = {
        "W": (WEIGHT[FREE_INDEX, INNER_INDEX], ((FREE_INDEX, CLASSES), (INNER_INDEX, columns))),
        "b": (BIAS[FREE_INDEX], ((FREE_INDEX, CLASSES),)),
        "x": (NETWORK_INPUT[INPUT_INDEX], ((INPUT_INDEX, INPUTS),)),
        "h": (HIDDEN[UNIT_INDEX], ((UNIT_INDEX, UNITS),)),
        "V": (HIDDEN_WEIGHT[UNIT_INDEX, INPUT_INDEX], ((UNIT_INDEX, UNITS), (INPUT_INDEX, INPUTS))),
        "c": (HIDDEN_BIAS[UNIT_INDEX], ((UNIT_INDEX, UNITS),)),
    }
    allowed = HIDDEN_PARAMETERS if hidden else PARAMETERS
    if wrt not in allowed:
        raise ProblemError(f"--wrt {wrt} needs {'no' if hidden else 'a'} hidden layer; choose from z, {', '.join(allowed)}")
    return variables[wrt]


def shapes(classes, inputs, units) -> tuple:
    """Each indexed quantity and the ranges of its indices."""
    table = {OUTPUT: (classes,), TARGET: (classes,), ERROR: (classes,), INPUT: (classes,), BIAS: (classes,),
             NETWORK_INPUT: (inputs,), WEIGHT: (classes, inputs if units is None else units)}
    if units is not None:
        table |= {HIDDEN: (units,), PREACTIVATION: (units,), HIDDEN_BIAS: (units,), HIDDEN_WEIGHT: (units, inputs)}
    return tuple(table.items())


def check_sizes(classes: int | None, inputs: int | None, units: int | None = None) -> None:
    """Refuse sizes whose weight matrices would be too large to write out (before anything is derived)."""
    if inputs is not None and not 1 <= inputs <= MAX_INPUTS:
        raise ProblemError(f"--inputs must be between 1 and {MAX_INPUTS}, got {inputs}")
    below = ("--inputs", inputs) if units is None else ("--units", units)
    matrices = [("--H", classes, *below)] + ([] if units is None else [("--units", units, "--inputs", inputs)])
    for rows_flag, rows, columns_flag, columns in matrices:
        if rows is not None and columns is not None and rows * columns > MAX_ENTRIES:
            raise ProblemError(f"{rows_flag} times {columns_flag} must be at most {MAX_ENTRIES} (the weights written out), "
                               f"got {rows * columns}")


def derive_network(problem: Problem, wrt: str, inputs: int | None, output: Trail, wrap=_same,
                   hidden: Hidden | None = None) -> NetworkTrail:
    """``∂E/∂p`` for ``p`` one of ``W``, ``b``, ``x`` (and ``h``, ``V``, ``c`` after a ``hidden`` layer),
    citing ``output`` (the derivation of ``∂E/∂Z_k``)."""
    check_sizes(problem.classes, inputs, None if hidden is None else hidden.units)
    setup = formulate(problem)
    classes = setup.context.classes
    size = INPUTS if inputs is None else inputs
    units = None if hidden is None else (UNITS if hidden.units is None else hidden.units)
    layers = (layer_definition(size, units),) + (() if hidden is None else hidden_definitions(hidden, size, units))
    variable, ranges = variable_of(wrt, hidden is not None)
    last = {CLASSES: classes, INPUTS: size, UNITS: units}
    ranges = tuple((index, last[symbol]) for index, symbol in ranges)
    loss = setup.start.expr  # Σ_i e_i (or the mean over examples): what E stands for
    ctx = Context(
        setup.context.definitions + layers, setup.context.inline, setup.context.assumptions, classes,
        scalars=((LOSS, loss),), known=((d(LOSS, INPUT[FREE_INDEX]), output.result, assumptions_used(output.steps)),),
        ranges=tuple((index, end) for index, end in ranges if end != classes)
        + (() if units is None else tuple((index, units) for index in UNIT_SUM_INDICES)),
    )
    start = d(LOSS, variable)
    steps, result = run(start, ctx, network_phases(wrap))
    if result.atoms(Derivative):
        raise UnsupportedError(f"no rule can finish the derivative by {wrt}")
    definitions = output.definitions + tuple(layer.equation() for layer in layers)
    gradient = None
    if problem.classes is not None and inputs is not None and (hidden is None or hidden.units is not None):
        gradient = gradient_entries(result, ctx, ranges)
    return NetworkTrail(
        output=output, wrt=wrt, inputs=inputs, variable=variable, loss=loss, start=start, steps=tuple(steps),
        result=result, definitions=definitions, ranges=ranges, gradient=gradient,
        summary=matrix_summary(output, classes, size, units), units=None if hidden is None else hidden.units,
        hidden=None if hidden is None else hidden.name, shapes=shapes(classes, size, units),
    )


def assumptions_used(steps) -> tuple:
    """Every assumption a step or substep of ``steps`` relies on, once each, in order."""
    found = []
    for step in steps:
        found += step.assumptions + assumptions_used(step.substeps)
    return tuple(dict.fromkeys(found))


def gradient_entries(result, ctx: Context, ranges) -> tuple:
    """Every entry of the gradient, in ``x``, ``y``, ``W`` and ``b`` alone: a tuple (a vector) or a
    tuple of rows (a matrix).  Each ``Z_m`` and ``O_m`` is written out once and shared by the entries."""
    written: dict = {}
    opening = {definition.base: definition for definition in ctx.definitions if definition.base != ERROR}
    pinned = pinned_targets(ctx, int(ctx.classes))

    def opened(node: Indexed):
        if node not in written:
            definition = opening[node.base]
            body = _doit(definition.body.xreplace({definition.index: node.indices[0]}))
            written[node] = body.xreplace({n: opened(n) for n in body.atoms(Indexed) if n.base in opening})
        return written[node]

    def entry(values: dict):
        value = _doit(result.xreplace(values)).xreplace(pinned)
        return value.xreplace({n: opened(n) for n in value.atoms(Indexed) if n.base in opening})

    (first, first_last), *rest = ranges
    if not rest:
        return tuple(entry({first: m}) for m in range(1, int(first_last) + 1))
    (second, second_last), = rest
    return tuple(
        tuple(entry({first: m, second: n}) for n in range(1, int(second_last) + 1)) for m in range(1, int(first_last) + 1)
    )


def _doit(expr):
    """Sums with concrete limits written out term by term (SymPy's ``doit`` substitutes slowly)."""
    expr = expr.xreplace({node: node.doit() for node in expr.atoms(SumExcept)})
    sums = [node for node in expr.atoms(Sum) if all(limit[2].is_Integer for limit in node.limits)]
    while sums:
        total = sums[0]
        (index, lower, upper), = total.limits
        terms = Add(*[total.function.xreplace({index: v}) for v in range(int(lower), int(upper) + 1)])
        expr = expr.xreplace({total: terms})
        sums = [node for node in expr.atoms(Sum) if all(limit[2].is_Integer for limit in node.limits)]
    return expr

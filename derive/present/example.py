"""A worked numerical example, computed from a trail rather than typed.

Given outputs ``O`` and targets ``y`` for H classes, it evaluates the loss from
the trail's own definitions and the gradient from the trail's certified result,
and finds inputs ``Z`` that produce those outputs from the activation's formula
(the inverse of an elementwise activation; ``Z_i = ln O_i`` for a softmax).
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Expr, Rational, Sum, fraction

from derive.engine.inverse import invert, placeholder
from derive.symbols import CLASSES, ERROR, EXAMPLES, FREE_INDEX, INPUT, OUTPUT, TARGET
from derive.trail import Trail

SEED_OUTPUTS = (Rational(1, 5), Rational(3, 5), Rational(1, 5))
SEED_TARGETS = (1, 0, 0)
EXAMPLE_DATA_SET = 4  # N in the worked example of a mean over a data set


@dataclass(frozen=True, slots=True)
class WorkedExample:
    outputs: tuple[Expr, ...]
    targets: tuple[Expr, ...]
    loss: Expr
    gradient: tuple[Expr, ...]
    inputs: tuple[Expr, ...] | None = None  # inputs Z that produce the outputs, when known
    examples: int | None = None  # with a mean over a data set: the N used for the gradient


def _per_class_error(trail: Trail) -> tuple[Basic, Basic]:
    for equation in trail.definitions:
        if equation.lhs.base == ERROR:
            return equation.lhs.indices[0], equation.rhs
    raise ValueError("the trail has no per-class error")


def default_values(classes: int | None) -> tuple[tuple, tuple]:
    """Seed 000's example for H = 3 (and symbolic H); otherwise outputs proportional to 1..H, class 1 true."""
    if classes is None or classes == 3:
        return SEED_OUTPUTS, SEED_TARGETS
    total = classes * (classes + 1) // 2
    outputs = tuple(Rational(m, total) for m in range(1, classes + 1))
    return outputs, (1,) + (0,) * (classes - 1)


def example_if_defined(trail: Trail) -> WorkedExample | None:
    """The default worked example, or ``None`` when the loss or gradient is not a real number there
    (a user-defined loss need not be defined at the default outputs)."""
    try:
        example = worked_example(trail)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    values = (example.loss, *example.gradient, *(example.inputs or ()))
    if all(value.is_number and value.is_extended_real and value.is_finite for value in values):
        return example
    return None


def worked_example(trail: Trail, outputs=None, targets=None) -> WorkedExample:
    if outputs is None or targets is None:
        outputs, targets = default_values(trail.classes)
    classes = len(outputs)
    values = {OUTPUT[m]: outputs[m - 1] for m in range(1, classes + 1)}
    values.update({TARGET[m]: targets[m - 1] for m in range(1, classes + 1)})
    index, error = _per_class_error(trail)
    loss = sum((error.xreplace({index: m}).xreplace(values) for m in range(1, classes + 1)), Rational(0))
    examples = EXAMPLE_DATA_SET if trail.result.has(EXAMPLES) else None
    values[EXAMPLES] = examples or 1
    inputs = _inputs(trail, outputs)
    if inputs is not None:  # a result that keeps Z (no inverse valid on the whole line) is evaluated there
        values.update({INPUT[m]: inputs[m - 1] for m in range(1, classes + 1)})
    gradient = tuple(
        trail.result.xreplace({CLASSES: classes, FREE_INDEX: k}).doit().xreplace(values).doit()
        for k in range(1, classes + 1)
    )
    return WorkedExample(tuple(outputs), tuple(targets), loss, gradient, inputs, examples)


def _inputs(trail: Trail, outputs) -> tuple[Expr, ...] | None:
    """Inputs that produce the example's outputs: ``g⁻¹(O)`` for an elementwise activation ``O_i = g(Z_i)``,
    and for a normalised one ``O_i = g(Z_i) / Σ_j g(Z_j)`` (a softmax: ``g = exp``) as well, when the
    outputs sum to one: then ``g(g⁻¹(O_i)) / Σ_j O_j = O_i``."""
    for equation in trail.definitions:
        if equation.lhs.base != OUTPUT:
            continue
        index = equation.lhs.indices[0]
        unit = _normalised_unit(equation.rhs, index, trail.classes) if equation.rhs.has(Sum) else equation.rhs
        if unit is None or (unit is not equation.rhs and sum(outputs) != 1):
            return None
        w = placeholder()
        inverse = invert(unit, INPUT[index], w, strict=False)
        return None if inverse is None else tuple(inverse.xreplace({w: value}) for value in outputs)
    return None


def _normalised_unit(output: Expr, index, classes: int | None) -> Expr | None:
    """``g(Z_i)`` when ``output`` is ``g(Z_i) / Σ_j g(Z_j)`` with ``j`` over every class; otherwise None."""
    numerator, denominator = fraction(output)
    if not isinstance(denominator, Sum) or len(denominator.limits) != 1:
        return None
    inner, lower, upper = denominator.limits[0]
    every = lower == 1 and upper == (CLASSES if classes is None else classes)
    return numerator if every and denominator.function == numerator.xreplace({index: inner}) else None

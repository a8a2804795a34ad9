"""An optional hidden layer: ``a_m = Σ_d V_md x_d + c_m`` and ``h_m = g(a_m)``, ``m = 1..M``.

``g`` is an elementwise activation, from the catalogue or written in the input syntax with ``z``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Indexed, Sum

from derive import catalog
from derive.context import Definition
from derive.engine.inverse import invert, placeholder
from derive.problem import ProblemError
from derive.symbols import (
    ELEMENTWISE_INPUT, HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, INPUT, INPUT_INDEX, NETWORK_INPUT, PREACTIVATION, SUM_INDEX,
    UNIT_INDEX,
)

MAX_UNITS = 1000


@dataclass(frozen=True)
class Hidden:
    name: str   # the catalogue name, or "user-defined"
    body: Expr  # g(a_m), in PREACTIVATION[UNIT_INDEX]
    units: int | None  # None: symbolic M


def hidden_layer(name: str | None, expr: Expr | None, units: int | None) -> Hidden:
    """The hidden layer from a catalogue name or a parsed elementwise expression in ``z``."""
    if units is not None and not 1 <= units <= MAX_UNITS:
        raise ProblemError(f"--units must be between 1 and {MAX_UNITS}, got {units}")
    unit = PREACTIVATION[UNIT_INDEX]
    if expr is None:
        formula = catalog.activation(name).formula(SUM_INDEX, 2)
        if formula.has(Sum):
            raise ProblemError(f"--hidden {name}: a hidden activation must be elementwise (one unit's input alone)")
        return Hidden(name, formula.xreplace({INPUT[SUM_INDEX]: unit}), units)
    if expr.atoms(Indexed):
        raise ProblemError("--hidden: write an elementwise activation in z, e.g. 'tanh(z)' (not z[i])")
    return Hidden("user-defined", expr.xreplace({ELEMENTWISE_INPUT: unit}), units)


def hidden_definitions(hidden: Hidden, inputs, units) -> tuple[Definition, Definition]:
    """``h_m = g(a_m)`` (with its inverse where one is valid) and ``a_m = Σ_d V_md x_d + c_m``, over ``M`` units."""
    w = placeholder()
    unit = PREACTIVATION[UNIT_INDEX]
    activation = Definition(HIDDEN, UNIT_INDEX, hidden.body, invert(hidden.body, unit, w), w, size=units)
    linear = Sum(HIDDEN_WEIGHT[UNIT_INDEX, INPUT_INDEX] * NETWORK_INPUT[INPUT_INDEX], (INPUT_INDEX, 1, inputs))
    return activation, Definition(PREACTIVATION, UNIT_INDEX, linear + HIDDEN_BIAS[UNIT_INDEX], size=units)

"""The matrix summary of a network document: each gradient as one matrix expression, with its shape.

``∇_Z E`` is ``O − y`` when the output layer's result is ``O_k − y_k``; otherwise it is the vector ``g``
of that result's entries (``g_k = ∂E/∂Z_k``).  Then ``∂E/∂W = g xᵀ``, ``∂E/∂b = g``, ``∂E/∂x = Wᵀ g``.
The certifier checks every line against ``sympy.diff`` entry by entry at concrete sizes.
"""

from __future__ import annotations

from sympy import MatrixSymbol, Symbol

from derive.trail import MatrixRow, Trail

GRADIENT_NAME = "g"  # the vector ∇_Z E when it is not O − y


DELTA_NAME = "delta"  # δ = ∇_a E, the hidden layer's delta


def vectors(classes, inputs, units=None) -> dict[str, MatrixSymbol]:
    """The matrices the summary is written in, named as the canonical indexed bases."""
    columns = inputs if units is None else units
    found = {
        "o": MatrixSymbol("o", classes, 1), "y": MatrixSymbol("y", classes, 1), "x": MatrixSymbol("x", inputs, 1),
        "W": MatrixSymbol("W", classes, columns), "b": MatrixSymbol("b", classes, 1),
        GRADIENT_NAME: MatrixSymbol(GRADIENT_NAME, classes, 1),
    }
    if units is not None:
        found |= {"h": MatrixSymbol("h", units, 1), "V": MatrixSymbol("V", units, inputs), DELTA_NAME: MatrixSymbol(DELTA_NAME, units, 1)}
    return found


def matrix_summary(output: Trail, classes, inputs, units=None) -> tuple[MatrixRow, ...]:
    m = vectors(classes, inputs, units)
    verdict = output.verdict
    g = m["o"] - m["y"] if verdict is not None and verdict.matches else m[GRADIENT_NAME]
    lhs = {name: Symbol(f"dE/d{name}") for name in ("z", "W", "b", "x", "h", "V", "c")}
    if units is None:
        return (
            MatrixRow("z", lhs["z"], g, (classes, 1)),
            MatrixRow("W", lhs["W"], g * m["x"].T, (classes, inputs)),
            MatrixRow("b", lhs["b"], g, (classes, 1)),
            MatrixRow("x", lhs["x"], m["W"].T * g, (inputs, 1)),
        )
    delta = m[DELTA_NAME]
    return (
        MatrixRow("z", lhs["z"], g, (classes, 1)),
        MatrixRow("W", lhs["W"], g * m["h"].T, (classes, units)),
        MatrixRow("b", lhs["b"], g, (classes, 1)),
        MatrixRow("h", lhs["h"], m["W"].T * g, (units, 1)),
        MatrixRow("V", lhs["V"], delta * m["x"].T, (units, inputs)),
        MatrixRow("c", lhs["c"], delta, (units, 1)),
        MatrixRow("x", lhs["x"], m["V"].T * delta, (inputs, 1)),
    )

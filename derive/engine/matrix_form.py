"""The matrix summary of a network document: each gradient as one matrix expression, with its shape.

``∇_Z E`` is ``O − y`` when the output layer's result is ``O_k − y_k``; otherwise it is the vector ``g``
of that result's entries (``g_k = ∂E/∂Z_k``).  Then ``∂E/∂W = g xᵀ``, ``∂E/∂b = g``, ``∂E/∂x = Wᵀ g``.
The certifier checks every line against ``sympy.diff`` entry by entry at concrete sizes.
"""

from __future__ import annotations

from sympy import MatrixSymbol, Symbol

from derive.trail import MatrixRow, Trail

GRADIENT_NAME = "g"  # the vector ∇_Z E when it is not O − y


def vectors(classes, inputs) -> dict[str, MatrixSymbol]:
    """The matrices the summary is written in, named as the canonical indexed bases."""
    return {
        "o": MatrixSymbol("o", classes, 1), "y": MatrixSymbol("y", classes, 1), "x": MatrixSymbol("x", inputs, 1),
        "W": MatrixSymbol("W", classes, inputs), "b": MatrixSymbol("b", classes, 1),
        GRADIENT_NAME: MatrixSymbol(GRADIENT_NAME, classes, 1),
    }


def matrix_summary(output: Trail, classes, inputs) -> tuple[MatrixRow, ...]:
    m = vectors(classes, inputs)
    verdict = output.verdict
    g = m["o"] - m["y"] if verdict is not None and verdict.matches else m[GRADIENT_NAME]
    lhs = {name: Symbol(f"dE/d{name}") for name in ("z", "W", "b", "x")}
    return (
        MatrixRow("z", lhs["z"], g, (classes, 1)),
        MatrixRow("W", lhs["W"], g * m["x"].T, (classes, inputs)),
        MatrixRow("b", lhs["b"], g, (classes, 1)),
        MatrixRow("x", lhs["x"], m["W"].T * g, (inputs, 1)),
    )

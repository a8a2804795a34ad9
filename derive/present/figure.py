"""Where to draw the output layer: plain layout data for the TikZ partial.

The picture reads left to right: the inputs ``Z_m``, the output units (each
labelled with the activation's name), their outputs ``O_m``, the loss ``E``, and
the targets ``y_m`` feeding the loss from the right.  A vector activation such as
softmax sends every input to every unit; an elementwise one sends each input to
its own unit.  With a symbolic H the rows are 1, 2, a row of dots, and H; with a
concrete H every row is drawn up to ``DRAWN_IN_FULL`` classes, and beyond that the
middle rows are elided.  This module only places things: the TikZ code lives in
``templates/partials/figure.tikz.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Integer, Symbol

from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.symbols import CLASSES, INPUT, LOSS_NAME, OUTPUT, TARGET

DRAWN_IN_FULL = 6  # a concrete H up to this many classes is drawn row by row
ROW_HEIGHT = 1.0  # cm between rows
COLUMNS = {"input": 0.0, "unit": 2.3, "output": 4.5, "loss": 6.3, "target": 8.1}  # cm
HEADING_HEIGHT = 0.8  # cm above the first row


@dataclass(frozen=True, slots=True)
class Node:
    name: str  # a TikZ node name
    label: str  # LaTeX maths
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: str  # "input" (into a unit), "output" (out of a unit), "loss" (an output into E), "target" (a target into E)


@dataclass(frozen=True, slots=True)
class Figure:
    activation: str
    vector: bool  # every input reaches every unit
    inputs: tuple[Node, ...]
    units: tuple[Node, ...]
    outputs: tuple[Node, ...]
    targets: tuple[Node, ...]
    loss: Node
    dots: tuple[Node, ...]  # the elided rows, one vertical ellipsis per column
    headings: tuple[Node, ...]  # above each column; the name is the column's kind, the template words it
    edges: tuple[Edge, ...]


def shown_rows(classes: int | None) -> tuple[int | None, ...]:
    """The class numbers drawn, top to bottom; ``None`` is a row of dots, ``0`` stands for H itself."""
    if classes is None:
        return (1, 2, None, 0)
    if classes <= DRAWN_IN_FULL:
        return tuple(range(1, classes + 1))
    return (1, 2, 3, None, classes)


def network_figure(classes: int | None, vector: bool, activation: str, notation: Notation) -> Figure:
    rows = shown_rows(classes)
    heights = {position: round(-position * ROW_HEIGHT, 3) for position in range(len(rows))}
    drawn = [(position, CLASSES if m == 0 else Integer(m)) for position, m in enumerate(rows) if m is not None]

    def column(kind: str, base, prefix: str) -> tuple[Node, ...]:
        return tuple(
            Node(f"{prefix}{position}", "" if base is None else to_latex(base[m], notation), COLUMNS[kind], heights[position])
            for position, m in drawn
        )

    units = column("unit", None, "u")
    inputs, outputs, targets = column("input", INPUT, "z"), column("output", OUTPUT, "o"), column("target", TARGET, "y")
    middle = round((heights[0] + heights[len(rows) - 1]) / 2, 3)
    loss = Node("E", to_latex(Symbol(LOSS_NAME), notation), COLUMNS["loss"], middle)
    if vector:
        wires = [Edge(z.name, u.name, "input") for z in inputs for u in units]
    else:
        wires = [Edge(z.name, u.name, "input") for z, u in zip(inputs, units)]
    wires += [Edge(u.name, o.name, "output") for u, o in zip(units, outputs)]
    wires += [Edge(o.name, loss.name, "loss") for o in outputs]
    wires += [Edge(y.name, loss.name, "target") for y in targets]
    return Figure(
        activation=activation,
        vector=vector,
        inputs=inputs,
        units=units,
        outputs=outputs,
        targets=targets,
        loss=loss,
        dots=tuple(
            Node(f"{kind}-dots{position}", r"\vdots", COLUMNS[kind], heights[position])
            for position, m in enumerate(rows) if m is None for kind in ("input", "unit", "output", "target")
        ),
        headings=tuple(Node(kind, "", x, round(HEADING_HEIGHT, 3)) for kind, x in COLUMNS.items()),
        edges=tuple(wires),
    )

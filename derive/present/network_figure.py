"""Where to draw the network of a document past the output layer, and which edges carry the parameter.

Left to right: the inputs ``x_d``, the hidden units ``h_m`` (with a hidden layer), the output layer's
units ``Z_k``, and the loss ``E``.  A symbolic size is drawn as rows 1, 2, a row of dots and the last; a
concrete one row by row up to ``DRAWN_IN_FULL``.  The edges of the parameter differentiated by are marked
``highlight`` (the weights' edges, a bias's edges from its bias node, or the nodes of ``x`` or ``h``).
The TikZ code lives in ``templates/network/figure.tikz.j2``; this module only places things.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Integer

from derive.present.figure import Node, shown_rows
from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.symbols import (
    BIAS, CLASSES, HIDDEN, HIDDEN_BIAS, INPUT, INPUTS, LOSS, NETWORK_INPUT, UNITS,
)

ROW_HEIGHT = 0.9  # cm


@dataclass(frozen=True, slots=True)
class NetworkEdge:
    source: str
    target: str
    highlight: bool


@dataclass(frozen=True, slots=True)
class NetworkFigure:
    nodes: tuple[Node, ...]
    highlighted: tuple[str, ...]  # names of nodes drawn marked (the inputs for --wrt x, the hidden units for h)
    dots: tuple[Node, ...]
    edges: tuple[NetworkEdge, ...]
    loss: Node


def _column(base, last, symbol, x: float, prefix: str, notation: Notation, rows_of) -> tuple[list[Node], list[Node]]:
    rows = shown_rows(last)
    middle = (len(rows) - 1) / 2
    nodes, dots = [], []
    for position, m in enumerate(rows):
        y = round((middle - position) * ROW_HEIGHT, 3)
        if m is None:
            dots.append(Node(f"{prefix}dots", r"\vdots", x, y))
            continue
        index = symbol if m == 0 else Integer(m)
        nodes.append(Node(f"{prefix}{position}", to_latex(base[index], notation), x, y))
    return nodes, dots


def network_figure(wrt: str, classes, inputs, units, hidden: bool, notation: Notation) -> NetworkFigure:
    columns = [("x", NETWORK_INPUT, inputs, INPUTS)] + ([("h", HIDDEN, units, UNITS)] if hidden else []) + \
        [("z", INPUT, classes, CLASSES)]
    placed, dots = {}, []
    for position, (prefix, base, last, symbol) in enumerate(columns):
        nodes, more = _column(base, last, symbol, position * 2.6, prefix, notation, None)
        placed[prefix] = nodes
        dots += more
    top = max(node.y for nodes in placed.values() for node in nodes)
    biases = [Node("bz", to_latex(BIAS, notation), placed["z"][0].x - 1.1, round(top + 0.9, 3))]
    if hidden:
        biases.append(Node("bh", to_latex(HIDDEN_BIAS, notation), placed["h"][0].x - 1.1, round(top + 0.9, 3)))
    loss = Node("E", to_latex(LOSS, notation), placed["z"][0].x + 2.2, 0.0)
    below = placed["h"] if hidden else placed["x"]
    edges = [NetworkEdge(a.name, b.name, wrt == "W") for a in below for b in placed["z"]]
    if hidden:
        edges += [NetworkEdge(a.name, b.name, wrt == "V") for a in placed["x"] for b in placed["h"]]
        edges += [NetworkEdge("bh", b.name, wrt == "c") for b in placed["h"]]
    edges += [NetworkEdge("bz", b.name, wrt == "b") for b in placed["z"]]
    edges += [NetworkEdge(b.name, "E", False) for b in placed["z"]]
    marked = placed["x"] if wrt == "x" else placed.get("h", []) if wrt == "h" else []
    return NetworkFigure(
        nodes=tuple(node for nodes in placed.values() for node in nodes) + tuple(biases),
        highlighted=tuple(node.name for node in marked),
        dots=tuple(dots),
        edges=tuple(edges),
        loss=loss,
    )

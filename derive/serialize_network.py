"""A network derivation (``--wrt W|b|x``) as JSON: the steps as ``derive.serialize`` writes them, the lemma's
own trail, the matrix summary with shapes, and at concrete sizes the gradient in the parameter's shape."""

from __future__ import annotations

import json
from typing import Any

from sympy import srepr

from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.serialize import _expr, _step, trail_to_json
from derive.srepr import dump_all
from derive.trail import NetworkTrail


def _size(value) -> Any:
    return value if isinstance(value, int) else str(value)


def network_to_json(trail: NetworkTrail, notation: Notation = Notation()) -> dict[str, Any]:
    """Entries of ``gradient`` are srepr strings in ``IndexedBase('x')``, ``('y')``, ``('W')`` and ``('b')``
    alone, 1-based: a list for ``b`` and ``x``, a list of rows for ``W``."""
    data: dict[str, Any] = {
        "activation": trail.output.activation,
        "loss": trail.output.loss,
        "targets": trail.output.targets,
        "H": "H" if trail.classes is None else trail.classes,
        "D": "D" if trail.inputs is None else trail.inputs,
        "wrt": trail.wrt,
        "hidden": trail.hidden,
        "M": None if trail.hidden is None else ("M" if trail.units is None else trail.units),
        "variable": _expr(trail.variable, notation),
        "loss_definition": _expr(trail.loss, notation),
        "definitions": [_expr(eq, notation) for eq in trail.definitions],
        "lemma": trail_to_json(trail.output, notation),
        "start": _expr(trail.start, notation),
        "steps": [_step(step, notation) for step in trail.steps],
        "result": _expr(trail.result, notation),
        "sampled": [{"H": h, "D": d} | ({} if m is None else {"M": m}) for h, d, m in trail.sample_certificate],
        "summary": [
            {"name": row.name, "latex": to_latex(row.value, notation), "srepr": srepr(row.value),
             "shape": [_size(row.shape[0]), _size(row.shape[1])]}
            for row in trail.summary
        ],
    }
    if trail.gradient is not None:
        gradient = trail.gradient
        data["gradient"] = [dump_all(row) for row in gradient] if isinstance(gradient[0], tuple) else dump_all(gradient)
    return data


def network_json_text(trail: NetworkTrail, notation: Notation = Notation()) -> str:
    return json.dumps(network_to_json(trail, notation), indent=2, ensure_ascii=False) + "\n"

"""A second derivative (``--second``) as JSON: the derivation of ``∂²E/∂Z_k∂Z_l`` as ``derive.serialize`` writes a
trail (so ``derive verify`` re-certifies it), the first derivative's own trail under ``lemma``, the Hessian's
matrix form and definiteness, and ``hessian``: at concrete H an H × H list of srepr strings in
``IndexedBase('z')`` and ``('y')`` alone (1-based, everything written out), at symbolic H the index form."""

from __future__ import annotations

import json
from typing import Any

from derive.present.notation import Notation
from derive.serialize import _expr, trail_to_json
from derive.srepr import dump_all
from derive.trail import SecondTrail


def second_to_json(second: SecondTrail, notation: Notation = Notation()) -> dict[str, Any]:
    data = trail_to_json(second.trail, notation)
    form = second.form
    data["second"] = True
    data["lemma"] = trail_to_json(second.output, notation)
    data["hessian_form"] = {
        "kind": form.kind,
        "definite": form.definite,
        "scale": None if form.scale is None else _expr(form.scale, notation),
        "diagonal": None if form.diagonal is None else _expr(form.diagonal, notation),
        "witness": None if form.witness is None else {"Z_k": str(form.witness[0]), "y_k": str(form.witness[1]),
                                                      "entry": str(form.witness[2])},
    }
    if second.hessian is not None:
        data["hessian"] = [dump_all(row) for row in second.hessian]
    else:
        data["hessian"] = _expr(second.trail.result, notation)
    return data


def second_json_text(second: SecondTrail, notation: Notation = Notation()) -> str:
    return json.dumps(second_to_json(second, notation), indent=2, ensure_ascii=False) + "\n"

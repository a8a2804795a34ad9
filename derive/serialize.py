"""Trail <-> JSON.  Every expression is stored as ``{"latex", "srepr"}``.

The ``srepr`` is exact (argument order kept) and is read back by the
whitelisting loader in :mod:`derive.srepr`, so ``trail_from_json`` rebuilds the
very same trail and an external tool can work from the JSON alone.
"""

from __future__ import annotations

import json
import re

from typing import Any

from derive.present.latex import to_latex
from derive.present.notation import Notation
from derive.srepr import dump, dump_all, load
from derive.engine.rules.registry import rule_named
from derive.trail import Annotation, Assumption, Certificate, Mark, Step, Trail, Verdict


def _expr(expr, notation: Notation) -> dict[str, str]:
    return {"latex": to_latex(expr, notation), "srepr": dump(expr)}


def _step(step: Step, notation: Notation) -> dict[str, Any]:
    return {
        "rule": step.rule.slug,
        "title": step.rule.title,
        "before": _expr(step.before, notation),
        "after": _expr(step.after, notation),
        "focus": None if step.focus is None else [_expr(part, notation) for part in step.focus],
        "assumptions": [assumption.name for assumption in step.assumptions],
        "annotations": [
            {"mark": a.mark.value, "target": _expr(a.target, notation), "note": None if a.note is None else _expr(a.note, notation)}
            for a in step.annotations
        ],
        "certified": step.certified,
        "certificate": _certificate(step.certificate),
        "substeps": [_step(sub, notation) for sub in step.substeps],
    }


def _certificate(certificate: Certificate | None) -> dict[str, str] | None:
    if certificate is None:
        return None
    return {"kind": certificate.kind, "reason": certificate.reason} if certificate.reason else {"kind": certificate.kind}


_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what json.dumps(..., ensure_ascii=False) escapes in a string


def json_text(data: dict[str, Any]) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)`` and a newline: the same text, built with
    less memory when there is a gradient (the last key, H entries of O(H) characters each).

    ``json.dumps`` copies every string into a list of pieces before joining them,
    so at H = 1000 its 54 MB of gradient is held three times.  Here each entry
    that JSON would write unchanged between quotes is joined straight from the
    list ``dump_all`` made; any other goes through ``json.dumps``.
    """
    gradient = data.get("gradient")
    if not gradient or len(data) == 1 or list(data)[-1] != "gradient":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    head = json.dumps({key: value for key, value in data.items() if key != "gradient"}, indent=2, ensure_ascii=False)
    pieces = [head[: -len("\n}")], ',\n  "gradient": [']
    for n, entry in enumerate(gradient):
        pieces.append(",\n    " if n else "\n    ")
        pieces.extend(('"', entry, '"') if _plain_json(entry) else (json.dumps(entry, ensure_ascii=False),))
    pieces.append("\n  ]\n}\n")
    return "".join(pieces)


def _plain_json(text: str) -> bool:
    """Whether JSON writes ``text`` as it is (no quote, backslash or control character to escape)."""
    return _ESCAPED.search(text) is None


def trail_to_json(trail: Trail, notation: Notation = Notation()) -> dict[str, Any]:
    data: dict[str, Any] = {
        "activation": trail.activation,
        "loss": trail.loss,
        "H": "H" if trail.classes is None else trail.classes,
        "targets": trail.targets,
        "min_classes": trail.min_classes,
        "assumptions": [
            {"name": a.name, "latex": to_latex(a.statement, notation), "srepr": dump(a.statement)} for a in trail.assumptions
        ],
        "definitions": [_expr(eq, notation) for eq in trail.definitions],
        "start": _expr(trail.start, notation),
        "steps": [_step(step, notation) for step in trail.steps],
        "result": _expr(trail.result, notation),
    }
    if trail.verdict is not None:
        verdict = trail.verdict
        data["matches_o_minus_y"] = verdict.matches
        data["factor"] = None if verdict.factor is None else _expr(verdict.factor, notation)
        data["factor_vanishes_at"] = [_expr(value, notation) for value in verdict.vanishes_at]
        data["matches_when_targets_sum_to_one"] = verdict.when_targets_sum_to_one
        if verdict.when_normalised is not None:
            data["gradient_when_targets_sum_to_one"] = _expr(verdict.when_normalised, notation)
    if trail.gradient is not None:
        data["gradient"] = dump_all(trail.gradient)
    return data


def _load_step(data: dict[str, Any], assumptions: dict[str, Assumption]) -> Step:
    return Step(
        rule=rule_named(data["rule"]),
        before=load(data["before"]["srepr"]),
        after=load(data["after"]["srepr"]),
        assumptions=tuple(assumptions[name] for name in data["assumptions"]),
        annotations=tuple(
            Annotation(Mark(a["mark"]), load(a["target"]["srepr"]), None if a["note"] is None else load(a["note"]["srepr"]))
            for a in data["annotations"]
        ),
        substeps=tuple(_load_step(sub, assumptions) for sub in data["substeps"]),
        focus=None if data["focus"] is None else tuple(load(part["srepr"]) for part in data["focus"]),
        certified=data["certified"],
        certificate=_load_certificate(data.get("certificate")),
    )


def _load_certificate(data: Any) -> Certificate | None:
    if data is None:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("proof", "tested"):
        raise ValueError("a step's certificate must be {\"kind\": \"proof\" | \"tested\", ...}")
    return Certificate(data["kind"], str(data.get("reason", "")))


def trail_from_json(data: dict[str, Any]) -> Trail:
    listed = tuple(Assumption(a["name"], load(a["srepr"])) for a in data["assumptions"])
    assumptions = {}
    for assumption in listed:
        assumptions.setdefault(assumption.name, assumption)
    return Trail(
        activation=data["activation"],
        loss=data["loss"],
        classes=None if data["H"] == "H" else int(data["H"]),
        targets=data["targets"],
        min_classes=data["min_classes"],
        start=load(data["start"]["srepr"]),
        steps=tuple(_load_step(step, assumptions) for step in data["steps"]),
        result=load(data["result"]["srepr"]),
        assumptions=listed,
        definitions=tuple(load(eq["srepr"]) for eq in data["definitions"]),
        gradient=None if "gradient" not in data else tuple(load(text) for text in data["gradient"]),
        verdict=None if "matches_o_minus_y" not in data else Verdict(
            data["matches_o_minus_y"],
            None if data["factor"] is None else load(data["factor"]["srepr"]),
            tuple(load(value["srepr"]) for value in data["factor_vanishes_at"]),
            data["matches_when_targets_sum_to_one"],
            None if "gradient_when_targets_sum_to_one" not in data else load(data["gradient_when_targets_sum_to_one"]["srepr"]),
        ),
    )

"""Problem -> certified trail -> documents, for the command line and the Python API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from derive import render
from derive.certify import CHECK_CLASSES, certify
from derive.document import document_view
from derive.engine import derive
from derive.example import worked_example
from derive.notation import Notation
from derive.problem import Problem
from derive.serialize import trail_to_json
from derive.trail import Trail

FORMATS = ("md", "tex", "json")
EXTENSIONS = {"md": "md", "tex": "tex", "json": "json"}


@dataclass(frozen=True)
class Derivation:
    """A certified derivation and the documents made from it."""

    problem: Problem
    trail: Trail
    notation: Notation

    def checked_at(self) -> tuple[int, ...]:
        return CHECK_CLASSES if self.problem.classes is None else (self.problem.classes,)

    def document(self, fmt: str, templates: Path | None = None) -> str:
        if fmt == "json":
            return json.dumps(trail_to_json(self.trail, self.notation), indent=2, ensure_ascii=False) + "\n"
        view = document_view(self.trail, self.notation, worked_example(self.trail), self.checked_at())
        return render.render(render.environment(templates), fmt, view)


def derive_certified(problem: Problem, notation: Notation = Notation()) -> Derivation:
    """Derive and certify; raises ``CertificationError`` rather than return an unproven trail."""
    return Derivation(problem, certify(derive(problem)), notation)


def file_name(problem: Problem, fmt: str) -> str:
    return f"{problem.slug}.{EXTENSIONS[fmt]}"


def catalogue() -> list[tuple[Problem, tuple[str, ...]]]:
    """Every document the project ships, as (problem, formats)."""
    return [
        (Problem(), FORMATS),
        (Problem(classes=3), FORMATS),
    ]

"""Problem -> certified trail -> documents, for the command line and the Python API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from derive import render
from derive.certify import CHECK_CLASSES, certify
from derive.catalog import valid_pairs
from derive.document import document_view, index_view
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
        if self.problem.classes is not None:
            return (self.problem.classes,)
        return tuple(h for h in CHECK_CLASSES if h >= self.trail.min_classes)

    def document(self, fmt: str, templates: Path | None = None) -> str:
        if fmt == "json":
            return json.dumps(trail_to_json(self.trail, self.notation), indent=2, ensure_ascii=False) + "\n"
        view = document_view(
            self.trail, self.notation, worked_example(self.trail), self.checked_at(), self.problem.slug, self.problem.name
        )
        return render.render(render.environment(templates), fmt, view)


def derive_certified(problem: Problem, notation: Notation = Notation()) -> Derivation:
    """Derive and certify; raises ``CertificationError`` rather than return an unproven trail."""
    return Derivation(problem, certify(derive(problem)), notation)


def file_name(problem: Problem, fmt: str) -> str:
    return f"{problem.slug}.{EXTENSIONS[fmt]}"


def catalogue() -> list[tuple[Problem, tuple[str, ...]]]:
    """Every derivation the project ships, as (problem, formats): the flagship, and one per valid pair."""
    shipped = [(Problem(), FORMATS), (Problem(classes=3), FORMATS)]
    shipped += [(Problem(a, l), ("md", "tex")) for a, l in valid_pairs() if (a, l) != ("softmax", "cross-entropy")]
    return shipped


def catalogue_documents(folder: Path) -> dict[Path, str]:
    """Every document the project ships, by path: the derivations and an index page."""
    documents: dict[Path, str] = {}
    entries = []
    for problem, formats in catalogue():
        derivation = derive_certified(problem)
        documents.update({folder / file_name(problem, fmt): derivation.document(fmt) for fmt in formats})
        if problem.classes is None:
            entries.append((problem.slug, derivation.trail))
    env = render.environment()
    view = index_view(entries, Notation())
    documents.update({folder / f"index.{fmt}": render.index(env, fmt, view) for fmt in ("md", "tex")})
    return documents

"""``derive pair ACT LOSS --second``: the second derivative ``∂²E/∂Z_k∂Z_l``, certified, and its documents.

The output layer's derivation (``∂E/∂Z_k``) is derived and certified first; its result is the lemma the
second derivative starts from.  Documents come from ``templates/second.<format>.j2``; the JSON adds the
Hessian (``hessian``) to the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from derive.certify import certify
from derive.certify.second import certify_second
from derive.engine.derivation import derive
from derive.engine.second import check_second_size, derive_second
from derive.cli.pdf import PDF_SOURCES, build_pdf
from derive.present import render
from derive.present.document import document_view
from derive.present.notation import Notation
from derive.present.second_view import SecondView, second_view
from derive.problem import Problem, ProblemError
from derive.trail import SecondTrail


@dataclass(frozen=True)
class SecondDerivation:
    problem: Problem
    trail: SecondTrail
    notation: Notation = Notation()
    detail: str = "standard"
    templates: Path | None = None
    options: render.RenderOptions = render.RenderOptions()

    @property
    def slug(self) -> str:
        return f"{self.problem.slug}-second"

    @cached_property
    def view(self) -> SecondView:
        trail = self.trail.trail
        checked = (trail.classes,) if trail.classes is not None else ()
        doc = document_view(trail, self.notation, None, checked, self.slug, self.problem.name, self.detail)
        return second_view(self.trail, doc, self.notation)

    def document(self, fmt: str) -> str | bytes:
        if fmt == "json":
            from derive.serialize_second import second_json_text

            return second_json_text(self.trail, self.notation)
        if fmt in PDF_SOURCES:
            return build_pdf(self.document(PDF_SOURCES[fmt]))
        return render.second(render.environment(self.templates), fmt, self.view, self.options)


def derive_second_certified(problem: Problem, notation: Notation = Notation(), detail: str = "standard",
                            templates: Path | None = None,
                            options: render.RenderOptions = render.RenderOptions()) -> SecondDerivation:
    """The output layer's derivation, certified, then the second derivative's, certified: or ``CertificationError``."""
    if problem.reduction != "sum":
        raise ProblemError(f"--reduction {problem.reduction} is not supported with --second (only sum)")
    check_second_size(problem.classes)
    output = certify(derive(problem))
    trail = certify_second(derive_second(problem, output))
    return SecondDerivation(problem, trail, notation, detail, templates, options)


def add_arguments(pair) -> None:
    pair.add_argument("--second", action="store_true",
                      help="derive the second derivative d2E/dz_k dz_l (the Hessian) instead; only with --wrt z")

"""Problem -> certified trail -> documents, for the command line and the Python API.

Text formats come from the templates; ``json`` from the trail itself; ``pdf`` is
the ``tex`` article compiled with latexmk (or pdflatex twice) in a temporary
folder.  Documents are written together, atomically (:func:`write_documents`).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

from jinja2 import Environment

from derive.present import render
from derive.certify import CHECK_CLASSES, certify
from derive.catalog import valid_pairs
from derive.present.document import DETAILS, DetailError, DocumentView, document_view, index_view
from derive.engine.derivation import derive
from derive.present.example import example_if_defined
from derive.cli.files import write_all
from derive.cli.pdf import PDF_SOURCES, build_pdf
from derive.present.latex import name_tex
from derive.present.notation import HIDDEN_ROLES, NETWORK_ROLES, PRESETS, SECOND_ROLES, Notation, NotationError
from derive.problem import Problem
from derive.trail import Trail

FORMATS = ("md", "tex", "tex-fragment", "beamer", "json", "pdf")
EXTENSIONS = {
    "md": "md", "tex": "tex", "tex-fragment": "fragment.tex", "beamer": "beamer.tex", "json": "json", "pdf": "pdf",
    "beamer-pdf": "beamer.pdf",  # --format beamer,pdf: the slides compiled too
}


@dataclass(frozen=True)
class Derivation:
    """A certified derivation and the documents made from it (also the Python API's result)."""

    problem: Problem
    trail: Trail
    notation: Notation = Notation()
    detail: str = "standard"
    templates: Path | None = None  # a folder searched before the built-in templates
    options: render.RenderOptions = render.RenderOptions()

    def __post_init__(self) -> None:
        if self.detail not in DETAILS:
            raise DetailError(f"unknown detail level {self.detail!r}; choose from {', '.join(DETAILS)}")

    def checked_at(self) -> tuple[int, ...]:
        if self.problem.classes is not None:
            return (self.problem.classes,)
        return tuple(h for h in CHECK_CLASSES if h >= self.trail.min_classes)

    def view(self) -> DocumentView:
        """What the templates see: the same for every format, so it is computed once."""
        return self._view

    @cached_property
    def _view(self) -> DocumentView:
        return document_view(
            self.trail, self.notation, example_if_defined(self.trail), self.checked_at(), self.problem.slug,
            self.problem.name, self.detail,
        )

    @cached_property
    def _environment(self) -> Environment:
        """One Jinja environment for all of this derivation's documents, so shared templates compile once."""
        return render.environment(self.templates)

    def document(self, fmt: str, templates: Path | None = None) -> str | bytes:
        """The document in ``fmt``: text for every format but ``pdf``, which is bytes."""
        if fmt == "json":
            from derive.serialize import json_text, trail_to_json  # local: only JSON needs them

            return json_text(trail_to_json(self.trail, self.notation))
        if fmt in PDF_SOURCES:
            return build_pdf(self.document(PDF_SOURCES[fmt], templates))
        if fmt not in render.TEXT_FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
        env = self._environment if templates is None else render.environment(templates)
        return render.render(env, fmt, self.view(), self.options)

    def markdown(self) -> str:
        return self.document("md")

    def latex(self) -> str:
        """The standalone LaTeX article."""
        return self.document("tex")

    def json(self) -> str:
        return self.document("json")

    def pdf(self) -> bytes:
        return self.document("pdf")

    @property
    def result(self):
        """``∂E/∂z_k`` as a SymPy expression in the canonical symbols ``o``, ``y``, ``z``."""
        return self.trail.result

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_latex_(self) -> str:
        """The result as one display formula: what a notebook's LaTeX view can show."""
        view = self.view()
        return f"$$\\boxed{{{view.lhs} = {view.result}}}$$"


def derive_certified(
    problem: Problem, notation: Notation = Notation(), detail: str = "standard", templates: Path | None = None,
    options: render.RenderOptions = render.RenderOptions(),
) -> Derivation:
    """Derive and certify; raises ``CertificationError`` rather than return an unproven trail."""
    with collector_paused():
        trail = certify(derive(problem))
    return Derivation(problem, trail, notation, detail, templates, options)


@contextmanager
def collector_paused():
    """Python's cycle collector off while a derivation is derived and certified.

    Those phases make about a million short-lived containers at H = 1000 and no
    lasting cycles (the certifier releases its closures when it is done), so each
    pass of the collector walks every live object and frees nothing: 0.7 s of 5 s
    at H = 1000.  The collector is back on, as it was, for everything else.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# letters every document may print besides the nine roles, as LaTeX, and what they stand for
FIXED_LETTERS = {r"\delta": "the Kronecker delta", "e": "Euler's number e", "u": "the variable u of the rule statements"}
# and those a hidden layer adds
HIDDEN_LETTERS = {"m": "the hidden unit index m", "n": "the hidden units' summation index n"}
# and those a mean over N examples adds
MEAN_LETTERS = {
    "N": "the number of examples N", "n": "the example index n", "m": "the example m we differentiate for",
    "L": "the per-example loss L",
}


def notation_for(preset: str | None = None, reduction: str = "sum", roles: tuple[str, ...] = (), **symbols: str) -> Notation:
    """A preset (``seed000``, ``seed001``) with per-symbol overrides.

    Every name must be shown differently from every other, and from every fixed
    letter the document prints (compared as LaTeX, so ``lamda`` and ``lambda`` clash).
    """
    if preset is not None and preset not in PRESETS:
        raise NotationError(f"unknown notation {preset!r}; choose from {', '.join(PRESETS)}")
    notation = PRESETS[preset or "seed000"].with_symbols(**symbols)
    seen: dict[str, str] = dict(FIXED_LETTERS, **(MEAN_LETTERS if reduction == "mean" else {}))
    if HIDDEN_ROLES[0] in roles:
        seen.update(HIDDEN_LETTERS)
    for field in fields(notation):
        if field.name in NETWORK_ROLES + HIDDEN_ROLES + SECOND_ROLES and field.name not in roles:
            continue  # a letter this document never shows (the network's, in a document about the output layer)
        shown = name_tex(getattr(notation, field.name))
        if field.name == "error" and shown == "e":  # e_i beside e^{...}: the default, always subscripted
            continue
        if shown in seen:
            raise NotationError(f"notation: {seen[shown]} and {field.name} would both be shown as {shown}")
        seen[shown] = field.name
    return notation


def file_name(problem: Problem, fmt: str) -> str:
    return f"{problem.slug}.{EXTENSIONS[fmt]}"


def write_documents(documents: dict[Path, str | bytes]) -> list[Path]:
    """Write every document or none (see ``derive.cli.files.write_all``)."""
    return write_all(documents)


def catalogue() -> list[tuple[Problem, tuple[str, ...]]]:
    """Every derivation the project ships, as (problem, formats): the flagship, and one per valid pair."""
    shipped = [(Problem(), ("md", "tex", "beamer", "json")), (Problem(classes=3), ("md", "tex", "json"))]
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
    from derive.cli.second import derive_second_certified  # local: the second derivative's module imports this one

    second = derive_second_certified(Problem())  # the flagship's Hessian, diag(O) − OOᵀ
    documents.update({folder / f"{second.slug}.{EXTENSIONS[fmt]}": second.document(fmt) for fmt in ("md", "tex")})
    env = render.environment()
    view = index_view(entries, Notation())
    documents.update({folder / f"index.{fmt}": render.index(env, fmt, view) for fmt in ("md", "tex")})
    return documents

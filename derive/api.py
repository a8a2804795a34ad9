"""The Python API: one call from a pair of names to a certified derivation.

>>> from derive import derive_pair
>>> d = derive_pair("softmax", "cross-entropy", notation="seed001", detail="brief")
>>> d.result          # SymPy, in the canonical symbols o, y, z
>>> d.markdown()      # or d.latex(), d.json(), d.pdf(); a notebook shows d as Markdown

Errors are the library's own exceptions (``UnknownName``, ``UndefinedPair``,
``ProblemError``, ``NotationError``, ``DetailError``, ``CertificationError``), never
a half-made result.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from derive.present.document import DETAILS, DetailError
from derive.present.notation import Notation, NotationError
from derive.cli.pipeline import Derivation, derive_certified, notation_for
from derive.problem import Problem

__all__ = ["Derivation", "derive_pair"]


def _notation(notation: Notation | str | Mapping[str, str] | None) -> Notation:
    if notation is None or isinstance(notation, Notation):
        return notation_for() if notation is None else notation
    if isinstance(notation, str):
        return notation_for(notation)
    if isinstance(notation, Mapping):
        overrides = dict(notation)
        return notation_for(overrides.pop("preset", None), **overrides)
    raise NotationError(f"notation must be a preset name, a Notation or a mapping of symbols, got {type(notation).__name__}")


def derive_pair(
    activation: str,
    loss: str,
    *,
    H: int | None = None,
    targets: str | None = None,
    notation: Notation | str | Mapping[str, str] | None = None,
    detail: str = "standard",
    templates: str | Path | None = None,
) -> Derivation:
    """Derive and certify ``∂E/∂z_k`` for a catalogue activation and loss.

    ``H`` is a concrete number of classes (default: symbolic), ``targets`` one of
    ``one-hot``, ``distribution``, ``any`` (default: the loss's own), ``notation`` a
    preset name (``"seed000"``, ``"seed001"``), a ``Notation`` or a mapping such as
    ``{"preset": "seed001", "output": "a"}``, and ``detail`` one of ``brief``,
    ``standard``, ``full``.  ``templates`` is a folder searched before the built-in ones.
    """
    if detail not in DETAILS:
        raise DetailError(f"unknown detail level {detail!r}; choose from {', '.join(DETAILS)}")
    chosen = _notation(notation)
    folder = None if templates is None else Path(templates)
    return derive_certified(Problem(activation, loss, H, targets), chosen, detail, folder)

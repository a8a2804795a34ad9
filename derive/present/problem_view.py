"""What was asked, as the templates see it: the activation, the loss and the assumptions, by name.

Each field says what it holds, so a template never picks a definition by its
position or tells a case apart by comparing names or rendered LaTeX.  How an
activation or a loss reads in a sentence comes from its catalogue entry
(``derive.catalog.Wording``); a user's formula reads as a user-defined one.
Whether the activation is elementwise is read off its definition, so a
user-defined activation gets it right as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Eq

from derive import catalog
from derive.symbols import ERROR, OUTPUT


@dataclass(frozen=True)
class ActivationView:
    name: str  # the catalogue name, or "user-defined"
    noun: str  # what a sentence calls it after "The": "softmax", "user-defined activation"
    phrase: str  # how a title names the output layer: "a softmax output layer"
    summary: str  # what it is, in one line
    catalogued: bool  # False for a user's formula, whose range of outputs is not known
    elementwise: bool  # each output depends on its own input alone (no sum in its definition)
    normalised: bool  # the outputs are positive and sum to one (the catalogue says so; False for a user's formula)
    definition: str  # LaTeX of O_i = ...
    written_out: str | None = None  # at a small concrete H: its right side with the sums written out


@dataclass(frozen=True)
class LossView:
    name: str  # the catalogue name, or "user-defined"
    noun: str  # "cross-entropy", "user-defined loss"
    phrase: str  # how a sentence names it: "categorical cross-entropy", "the Poisson loss"
    summary: str
    catalogued: bool
    definition: str  # LaTeX of the per-class error e_i = ...


@dataclass(frozen=True)
class AssumptionView:
    name: str  # "one-hot", "distribution" or "domain"
    statement: str  # LaTeX
    used: tuple[str, ...] = ()  # in doc.assumptions: the numbers of the steps that rely on it


def definition_of(base, definitions: tuple[Basic, ...]) -> Eq:
    """The definition among ``definitions`` whose left side is ``base``'s (``O_i``, ``e_i``)."""
    for equation in definitions:
        if equation.lhs.base == base:
            return equation
    raise ValueError(f"the trail defines no {base}")


def activation_view(name: str, definitions: tuple[Basic, ...], tex, written_out: Basic | None = None) -> ActivationView:
    entry = catalog.ACTIVATIONS.get(name)
    wording = catalog.activation_wording(name)
    equation = definition_of(OUTPUT, definitions)
    return ActivationView(
        name=name, noun=wording.noun, phrase=wording.phrase, summary=wording.summary, catalogued=entry is not None,
        elementwise=catalog.elementwise(equation.rhs), normalised=entry is not None and entry.normalised,
        definition=tex(equation), written_out=None if written_out is None else tex(written_out),
    )


def loss_view(name: str, definitions: tuple[Basic, ...], tex) -> LossView:
    wording = catalog.loss_wording(name)
    return LossView(
        name=name, noun=wording.noun, phrase=wording.phrase, summary=wording.summary,
        catalogued=name in catalog.LOSSES, definition=tex(definition_of(ERROR, definitions)),
    )

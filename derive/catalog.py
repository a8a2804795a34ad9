"""Named activations and losses, as formulas in the canonical symbols.

An activation gives ``O_m`` in terms of the inputs ``Z`` (and the class count
for vector activations); a loss gives the per-class error ``e_m`` in terms of
``O_m`` and ``y_m``.  Nothing here knows how a derivation proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Expr, Sum, exp, log

from derive.symbols import INNER_INDEX, INPUT, OUTPUT, TARGET


@dataclass(frozen=True)
class Activation:
    name: str
    formula: Callable[[Expr, Expr], Expr]  # (index m, class count H) -> O_m in Z


@dataclass(frozen=True)
class Loss:
    name: str
    per_class: Callable[[Expr], Expr]  # index m -> e_m in O and y


def _softmax(m, classes):
    return exp(INPUT[m]) / Sum(exp(INPUT[INNER_INDEX]), (INNER_INDEX, 1, classes))


def _cross_entropy(m):
    return -TARGET[m] * log(OUTPUT[m])


ACTIVATIONS: dict[str, Activation] = {"softmax": Activation("softmax", _softmax)}
LOSSES: dict[str, Loss] = {"cross-entropy": Loss("cross-entropy", _cross_entropy)}


class UnknownName(LookupError):
    """An activation or loss name that is not in the catalogue."""


def activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownName(f"unknown activation {name!r}; choose from {', '.join(sorted(ACTIVATIONS))}") from None


def loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise UnknownName(f"unknown loss {name!r}; choose from {', '.join(sorted(LOSSES))}") from None

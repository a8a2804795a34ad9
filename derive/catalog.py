"""Named activations and losses, as formulas in the canonical symbols.

An activation gives ``O_m`` in terms of the inputs ``Z`` (and the class count,
for vector activations) and says which values its outputs can take; a loss gives
the per-class error ``e_m`` in ``O_m`` and ``y_m`` and says on which outputs it
is defined.  Nothing here knows how a derivation proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Expr, Interval, Rational, S, Sum, exp, log, tanh

from derive.symbols import INNER_INDEX, INPUT, OUTPUT, TARGET


@dataclass(frozen=True)
class Activation:
    name: str
    formula: Callable[[Expr, Expr], Expr]  # (index m, class count H) -> O_m in Z
    outputs: Interval  # every value the outputs can take
    summary: str


@dataclass(frozen=True)
class Loss:
    name: str
    per_class: Callable[[Expr], Expr]  # index m -> e_m in O and y
    domain: Interval  # outputs on which the loss is defined
    default_targets: str
    targets: tuple[str, ...]  # target assumptions that make sense for this loss
    summary: str
    reason: str = ""  # why outputs outside the domain are a problem


def _softmax(m, classes):
    return exp(INPUT[m]) / Sum(exp(INPUT[INNER_INDEX]), (INNER_INDEX, 1, classes))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("softmax", _softmax, Interval.open(0, 1), "normalised exponentials; the outputs sum to one"),
        Activation("sigmoid", lambda m, _: 1 / (1 + exp(-INPUT[m])), Interval.open(0, 1), "logistic function, one unit per class"),
        Activation("tanh", lambda m, _: tanh(INPUT[m]), Interval.open(-1, 1), "hyperbolic tangent"),
        Activation("identity", lambda m, _: INPUT[m], Interval(-S.Infinity, S.Infinity), "linear output, as in regression"),
        Activation("exp", lambda m, _: exp(INPUT[m]), Interval.open(0, S.Infinity), "exponential, the Poisson rate"),
        Activation("softplus", lambda m, _: log(1 + exp(INPUT[m])), Interval.open(0, S.Infinity), "smooth ReLU, ln(1 + e^z)"),
    )
}

ANY_REAL = Interval(-S.Infinity, S.Infinity)
POSITIVE = Interval.open(0, S.Infinity)

LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("cross-entropy", lambda m: -TARGET[m] * log(OUTPUT[m]), POSITIVE, "one-hot",
             ("one-hot", "distribution", "any"), "categorical cross-entropy", "it takes ln O_i"),
        Loss("binary-cross-entropy",
             lambda m: -(TARGET[m] * log(OUTPUT[m]) + (1 - TARGET[m]) * log(1 - OUTPUT[m])),
             Interval.open(0, 1), "any", ("any", "one-hot", "distribution"),
             "binary cross-entropy, one Bernoulli per class", "it takes ln O_i and ln(1 - O_i)"),
        Loss("sum-of-squares", lambda m: Rational(1, 2) * (OUTPUT[m] - TARGET[m]) ** 2, ANY_REAL, "any",
             ("any", "one-hot", "distribution"), "half the squared error"),
        Loss("poisson", lambda m: OUTPUT[m] - TARGET[m] * log(OUTPUT[m]), POSITIVE, "any",
             ("any", "one-hot", "distribution"), "Poisson negative log-likelihood (without the ln y! term)",
             "it takes ln O_i"),
    )
}


class UnknownName(LookupError):
    """An activation or loss name that is not in the catalogue."""


class UndefinedPair(ValueError):
    """A loss that is not defined on every output the activation can produce."""


def activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise UnknownName(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}") from None


def loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise UnknownName(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}") from None


def check_pair(act: Activation, los: Loss) -> None:
    """Refuse a pair whose loss is undefined somewhere on the activation's outputs."""
    if not act.outputs.is_subset(los.domain):
        raise UndefinedPair(
            f"{los.name} is undefined for {act.name}: its outputs lie in {interval_text(act.outputs)}, "
            f"but {los.reason} and needs outputs in {interval_text(los.domain)}"
        )


def interval_text(interval: Interval) -> str:
    def end(value):
        return "inf" if value == S.Infinity else "-inf" if value == S.NegativeInfinity else str(value)

    left = "(" if interval.left_open else "["
    right = ")" if interval.right_open else "]"
    return f"{left}{end(interval.start)}, {end(interval.end)}{right}"


def valid_pairs() -> list[tuple[str, str]]:
    return [(a, l) for a in ACTIVATIONS for l in LOSSES if ACTIVATIONS[a].outputs.is_subset(LOSSES[l].domain)]

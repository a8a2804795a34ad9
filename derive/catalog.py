"""Named activations and losses, as formulas in the canonical symbols.

An activation gives ``O_m`` in terms of the inputs ``Z`` (and the class count,
for vector activations) and says which values its outputs can take; a loss gives
the per-class error ``e_m`` in ``O_m`` and ``y_m`` and says on which outputs it
is defined.  Each entry also carries its ``Wording``: how the documents name it
in a sentence, so adding an activation or a loss touches this file and the
template text only.  Nothing here knows how a derivation proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import Expr, Interval, Rational, S, Sum, exp, log, tanh

from derive.symbols import CLASSES, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET


@dataclass(frozen=True)
class Wording:
    """How an activation or a loss reads in a sentence: what the templates say about it."""

    noun: str  # what it is called after "The": "softmax", "user-defined activation"
    phrase: str  # how a title names it: "a softmax output layer", "the Poisson loss"
    summary: str  # what it is, in one line


@dataclass(frozen=True)
class Activation:
    name: str
    formula: Callable[[Expr, Expr], Expr]  # (index m, class count H) -> O_m in Z
    outputs: Interval  # every value the outputs can take
    wording: Wording
    normalised: bool = False  # the outputs are positive and sum to one: a probability vector

    @property
    def elementwise(self) -> bool:
        return elementwise(self.formula(SUM_INDEX, CLASSES))


@dataclass(frozen=True)
class Loss:
    name: str
    per_class: Callable[[Expr], Expr]  # index m -> e_m in O and y
    domain: Interval  # outputs on which the loss is defined
    default_targets: str
    targets: tuple[str, ...]  # target assumptions that make sense for this loss
    wording: Wording
    reason: str = ""  # why outputs outside the domain are a problem


def elementwise(output: Expr) -> bool:
    """Whether ``O_m`` (in the inputs) depends on its own input alone: it has no sum over the inputs."""
    return not output.has(Sum)


def _softmax(m, classes):
    return exp(INPUT[m]) / Sum(exp(INPUT[INNER_INDEX]), (INNER_INDEX, 1, classes))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("softmax", _softmax, Interval.open(0, 1),
                   Wording("softmax", "a softmax output layer", "normalised exponentials; the outputs sum to one"),
                   normalised=True),
        Activation("sigmoid", lambda m, _: 1 / (1 + exp(-INPUT[m])), Interval.open(0, 1),
                   Wording("sigmoid", "a sigmoid output layer", "logistic function, one unit per class")),
        Activation("tanh", lambda m, _: tanh(INPUT[m]), Interval.open(-1, 1),
                   Wording("tanh", "a tanh output layer", "hyperbolic tangent")),
        Activation("identity", lambda m, _: INPUT[m], Interval(-S.Infinity, S.Infinity),
                   Wording("identity", "an identity (linear) output layer", "linear output, as in regression")),
        Activation("exp", lambda m, _: exp(INPUT[m]), Interval.open(0, S.Infinity),
                   Wording("exp", "an exponential output layer", "exponential, the Poisson rate")),
        Activation("softplus", lambda m, _: log(1 + exp(INPUT[m])), Interval.open(0, S.Infinity),
                   Wording("softplus", "a softplus output layer", "smooth ReLU, ln(1 + e^z)")),
    )
}

ANY_REAL = Interval(-S.Infinity, S.Infinity)
POSITIVE = Interval.open(0, S.Infinity)

LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("cross-entropy", lambda m: -TARGET[m] * log(OUTPUT[m]), POSITIVE, "one-hot",
             ("one-hot", "distribution", "any"),
             Wording("cross-entropy", "categorical cross-entropy", "categorical cross-entropy"), "it takes ln O_i"),
        Loss("binary-cross-entropy",
             lambda m: -(TARGET[m] * log(OUTPUT[m]) + (1 - TARGET[m]) * log(1 - OUTPUT[m])),
             Interval.open(0, 1), "any", ("any", "one-hot", "distribution"),
             Wording("binary cross-entropy", "binary cross-entropy", "binary cross-entropy, one Bernoulli per class"),
             "it takes ln O_i and ln(1 - O_i)"),
        Loss("sum-of-squares", lambda m: Rational(1, 2) * (OUTPUT[m] - TARGET[m]) ** 2, ANY_REAL, "any",
             ("any", "one-hot", "distribution"),
             Wording("sum-of-squares error", "the sum-of-squares error", "half the squared error")),
        Loss("poisson", lambda m: OUTPUT[m] - TARGET[m] * log(OUTPUT[m]), POSITIVE, "any",
             ("any", "one-hot", "distribution"),
             Wording("Poisson loss", "the Poisson loss", "Poisson negative log-likelihood (without the ln y! term)"),
             "it takes ln O_i"),
    )
}

# A user's formula has no catalogue entry: this is how it reads.
USER_ACTIVATION = Wording("user-defined activation", "a user-defined output layer", "an activation given as a formula")
USER_LOSS = Wording("user-defined loss", "a user-defined loss", "a loss given as a formula")


def activation_wording(name: str) -> Wording:
    """How the activation called ``name`` reads; a name the catalogue does not hold is a user's formula."""
    entry = ACTIVATIONS.get(name)
    return USER_ACTIVATION if entry is None else entry.wording


def loss_wording(name: str) -> Wording:
    """How the loss called ``name`` reads; a name the catalogue does not hold is a user's formula."""
    entry = LOSSES.get(name)
    return USER_LOSS if entry is None else entry.wording


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

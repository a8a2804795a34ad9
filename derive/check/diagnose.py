"""Name the mistake behind a wrong gradient, by testing the common ones numerically.

A candidate is ``scale · shape`` on a family of targets:

* the **shape** is the true derivative, or the form a mistaken chain rule gives:
  ``diagonal-only`` keeps only the ``i = k`` term of ``Σ_i ∂E/∂o_i ∂o_i/∂z_k``
  (``∂E/∂o_k · ∂o_k/∂z_k``); ``divided-factors`` divides ``∂E/∂z_k`` by
  ``∂o_k/∂z_k`` to get ``∂E/∂o_k`` (seed 001's reasoning);
* the **scale** is ``±1 · {1, 2, ½} · {1, N, 1/N}``: ``sign-flipped``,
  ``factor-two`` (the ½ of the squared error), ``mean-vs-sum``;
* the **family** is the stated targets family or a narrower one
  (any ⊃ distribution ⊃ one-hot ⊃ true class): a claim right only on a
  narrower family rests on an assumption about the targets that was not made
  (``target-assumption``), e.g. ``Σ_i y_i = 1`` with ``--targets any``, or
  ``y_k = 1`` read into one-hot targets.

The claim matches a candidate when the two agree at every sample point of the
family.  Candidates are tried with the fewest mistakes first; no match means no
diagnosis, never a guess.  Prose lives in ``templates/check/mistakes.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from itertools import product

from sympy import Integer, Rational

TARGET_FAMILIES = ("any", "distribution", "one-hot", "true-class")  # each a subset of the one before
CLAIM_TOLERANCE = 10.0 ** -25
MIN_POINTS = 3  # a family must have at least this many points to support a diagnosis


class Mistake(Enum):
    """A common error in a hand-derived gradient; the value is the stable id."""

    DIAGONAL_ONLY = "diagonal-only"
    DIVIDED_FACTORS = "divided-factors"
    TARGET_ASSUMPTION = "target-assumption"
    SIGN_FLIPPED = "sign-flipped"
    FACTOR_TWO = "factor-two"
    MEAN_VS_SUM = "mean-vs-sum"


SHAPES = ("truth", Mistake.DIAGONAL_ONLY.value, Mistake.DIVIDED_FACTORS.value)
SIGNS = (1, -1)
FACTORS = (Integer(1), Integer(2), Rational(1, 2))
POWERS = (0, 1, -1)  # of N, the number of examples


@dataclass(frozen=True)
class Sample:
    """One point as the diagnosis sees it: its targets family, N, the claim's value and each shape's."""

    family: int          # index into TARGET_FAMILIES: the narrowest family the point's targets belong to
    examples: int        # N
    claimed: object      # a number, or None where the claim is undefined
    values: dict         # shape name -> number or None


@dataclass(frozen=True)
class Diagnosis:
    """The claim equals ``sign · factor · N**power · shape`` for every target in ``family``."""

    shape: str
    sign: int
    factor: Rational
    power: int
    family: str | None   # None: the stated family; otherwise the narrower one the claim is right on
    stated: str

    @property
    def mistakes(self) -> tuple[Mistake, ...]:
        found = [Mistake(self.shape)] if self.shape != "truth" else []
        found += [Mistake.TARGET_ASSUMPTION] if self.family is not None else []
        found += [Mistake.SIGN_FLIPPED] if self.sign < 0 else []
        found += [Mistake.FACTOR_TWO] if self.factor != 1 else []
        found += [Mistake.MEAN_VS_SUM] if self.power != 0 else []
        return tuple(found)

    @property
    def ids(self) -> list[str]:
        return [mistake.value for mistake in self.mistakes]


def agree(a, b) -> bool:
    """Two values agree to ``CLAIM_TOLERANCE`` (relative to their size, or absolute below 1)."""
    if a is None or b is None:
        return False
    return bool(abs(a - b) <= CLAIM_TOLERANCE * max(1, abs(a), abs(b)))


def _candidates(samples: list[Sample], stated: int) -> list[Diagnosis]:
    shapes = [name for name in SHAPES if any(name in s.values for s in samples)]
    found = []
    for shape, sign, factor, power, family in product(shapes, SIGNS, FACTORS, POWERS, range(stated, len(TARGET_FAMILIES))):
        narrower = None if family == stated else TARGET_FAMILIES[family]
        candidate = Diagnosis(shape, sign, factor, power, narrower, TARGET_FAMILIES[stated])
        if candidate.mistakes:
            found.append(candidate)
    return sorted(found, key=lambda c: (len(c.mistakes), TARGET_FAMILIES.index(c.family or c.stated),
                                        SHAPES.index(c.shape), SIGNS.index(c.sign), FACTORS.index(c.factor),
                                        POWERS.index(c.power)))


def _matches(candidate: Diagnosis, samples: list[Sample]) -> bool:
    family = TARGET_FAMILIES.index(candidate.family or candidate.stated)
    points = [s for s in samples if s.family >= family]
    if sum(s.values.get(candidate.shape) is not None for s in points) < MIN_POINTS:
        return False
    for sample in points:
        value = sample.values.get(candidate.shape)
        if value is None or sample.claimed is None:
            if value is None and sample.claimed is None:
                continue  # both undefined there (the ends of softmax's range at H = 1, say)
            return False
        scale = candidate.sign * candidate.factor * Integer(sample.examples) ** candidate.power
        if not agree(sample.claimed, value * int(scale.p) / int(scale.q)):
            return False
    return True


def diagnose(samples: list[Sample], stated: int) -> Diagnosis | None:
    """The simplest combination of common mistakes the claim is exactly equal to, or None."""
    for candidate in _candidates(samples, stated):
        if _matches(candidate, samples):
            return candidate
    return None

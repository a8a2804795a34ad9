"""What to differentiate: plain data, validated on construction."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Expr

MAX_CLASSES = 5000
MAX_CHECK_CLASSES = 100  # the largest H ``derive check`` accepts: it samples every class exactly
TARGET_KINDS = ("one-hot", "distribution", "any")
REDUCTIONS = ("sum", "mean")
MAX_NAME = 80


class ProblemError(ValueError):
    """A problem that cannot be posed (bad H, unknown target kind ...)."""


class ClaimError(ValueError):
    """A claim that cannot be checked as asked (wrong names or indices).  One line; exit code 2."""


class NoVerdict(Exception):
    """``derive check`` cannot judge: the reference derivation failed, or an engine bug.  Exit code 3."""


class UnsupportedError(ProblemError):
    """A problem the rules cannot finish (no rule for some derivative): refused, never half-derived."""


@dataclass(frozen=True, slots=True)
class Problem:
    """An activation and a loss, by catalogue name or as a parsed user expression.

    ``targets=None`` means the loss's own default (one-hot for cross-entropy).
    """

    activation: str = "softmax"
    loss: str = "cross-entropy"
    classes: int | None = None  # None: symbolic H
    targets: str | None = None
    reduction: str = "sum"
    activation_expr: Expr | None = None  # a user-defined activation (parsed safely)
    loss_expr: Expr | None = None  # a user-defined loss (parsed safely)
    name: str | None = None

    def __post_init__(self) -> None:
        if self.classes is not None:
            if isinstance(self.classes, bool) or not isinstance(self.classes, int):
                raise ProblemError(f"H must be a whole number, got {self.classes!r}")
            if not 1 <= self.classes <= MAX_CLASSES:
                raise ProblemError(f"H must be between 1 and {MAX_CLASSES}, got {self.classes}")
        if self.targets is not None and self.targets not in TARGET_KINDS:
            raise ProblemError(f"unknown target kind {self.targets!r}; choose from {', '.join(TARGET_KINDS)}")
        if self.name is not None and (not self.name.strip() or len(self.name) > MAX_NAME or not self.name.isprintable()):
            raise ProblemError(f"--name must be 1 to {MAX_NAME} printable characters")
        if self.reduction not in REDUCTIONS:
            raise ProblemError(f"unknown reduction {self.reduction!r}; choose from {', '.join(REDUCTIONS)}")

    @property
    def slug(self) -> str:
        # a user-defined side is named for what it is ("user-activation-sum-of-squares"), not "custom"
        activation = "user-activation" if self.activation_expr is not None else self.activation
        loss = "user-loss" if self.loss_expr is not None else self.loss
        stem = f"{activation}-{loss}" if self.name is None else _slugify(self.name)
        parts = [stem]
        if self.targets is not None:
            parts.append(self.targets)
        if self.reduction != "sum":
            parts.append(self.reduction)
        if self.classes is not None:
            parts.append(f"H{self.classes}")
        return "-".join(parts)


def _slugify(name: str) -> str:
    """A file-name-safe version of a user's document name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "derivation"

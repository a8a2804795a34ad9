"""What to differentiate: plain data, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CLASSES = 5000
TARGET_KINDS = ("one-hot",)


class ProblemError(ValueError):
    """A problem that cannot be posed (bad H, unknown target kind ...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    activation: str = "softmax"
    loss: str = "cross-entropy"
    classes: int | None = None  # None: symbolic H
    targets: str = "one-hot"

    def __post_init__(self) -> None:
        if self.classes is not None:
            if isinstance(self.classes, bool) or not isinstance(self.classes, int):
                raise ProblemError(f"H must be a whole number, got {self.classes!r}")
            if not 1 <= self.classes <= MAX_CLASSES:
                raise ProblemError(f"H must be between 1 and {MAX_CLASSES}, got {self.classes}")
        if self.targets not in TARGET_KINDS:
            raise ProblemError(f"unknown target kind {self.targets!r}; choose from {', '.join(TARGET_KINDS)}")

    @property
    def slug(self) -> str:
        suffix = "" if self.classes is None else f"-H{self.classes}"
        return f"{self.activation}-{self.loss}{suffix}"

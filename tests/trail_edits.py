"""Helpers for tests that break a trail on purpose (imported as ``from trail_edits import ...``)."""

from __future__ import annotations

from dataclasses import replace


def position(trail, rule):
    """The index of the first top-level step made by ``rule``."""
    return next(n for n, step in enumerate(trail.steps) if step.rule is rule)


def tamper(trail, n, after):
    """Replace step n's result by ``after`` and keep the chain of steps consistent."""
    steps = list(trail.steps)
    steps[n] = replace(steps[n], after=after)
    if n + 1 < len(steps):
        steps[n + 1] = replace(steps[n + 1], before=after)
        return replace(trail, steps=tuple(steps))
    return replace(trail, steps=tuple(steps), result=after)

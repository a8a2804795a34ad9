"""The certifier: every step, the chain of steps, and the result, checked at random points."""

from __future__ import annotations

import random
from dataclasses import replace

from sympy import Basic

from derive.certify.arithmetic import FLOATS, floats_agree
from derive.certify.annotations import annotation_errors
from derive.certify.assumptions import assumption_errors
from derive.certify.evaluator import Evaluator
from derive.certify.numbers import agree_values, agree_numbers, mpf_finite, sympy_number
from derive.certify.points import (
    CONSTANT_PATTERNS,
    INPUT_SCALES,
    World,
    index_assignments,
    index_symbols,
    index_symbols_of,
    placeholder_symbols,
    placeholder_symbols_of,
    random_values,
    symbols_in,
    unclash,
    constant_indices,
    sample_sizes,
)
from derive.certify.proof import attempt
from derive.certify.reference import ReferenceEvaluator
from derive.expressions import unwrapped
from derive.symbols import FREE_INDEX
from derive.trail import Certificate, Step, Trail, assumed_total

CHECK_CLASSES = (1, 2, 3, 5)
POINTS = 2  # random points per H for the gradient's components
MIN_POINTS = len(INPUT_SCALES) + 1  # a comparison: one point per index pattern, and at least this many per H
PROVED = Certificate("proof")
REFERENCE_CLASSES = 3  # the plain, independent recheck of the result runs at H <= 3 (it grows with H)
UNEVALUABLE = "no finite value"
REFUTE_CLASSES = 12  # a step the kernel could not prove is also tried at every H up to this


class CertificationError(Exception):
    """A step (or the result) failed its independent check: an engine bug, never to be printed as proven."""


class Certifier:
    def __init__(self, trail: Trail, seed: int = 20261123):
        self.trail = trail
        self.floats = Evaluator(trail.definitions, arithmetic=FLOATS)
        # 193 bits: decides what floats do not, with the derivatives the float evaluator already took
        self.evaluator = Evaluator(trail.definitions, memory=self.floats.memory)
        self.proofs: dict = {}  # the proof kernel's evaluated sides and normal forms, shared by the steps
        self.rechecked = 0  # points where floats did not agree and the 193-bit values decided
        self.rng = random.Random(seed)
        sizes = CHECK_CLASSES if trail.classes is None else (trail.classes,)
        self.sizes = tuple(h for h in sizes if h >= trail.min_classes)

    def equal(self, before: Basic, after: Basic, total: Basic | None) -> tuple[bool, str]:
        symbols = index_symbols(before, after)
        before, after = unclash(before, symbols), unclash(after, symbols)
        placeholders = placeholder_symbols(before, after)
        constants = constant_indices(before, after)
        symbolic = self.trail.classes is None
        patterns = constants if symbolic or len(constants) <= CONSTANT_PATTERNS else ()
        drawn = 0
        for classes in sample_sizes(self.sizes, symbolic, self.trail.min_classes, constants, self.rng):
            assignments = index_assignments(symbols, classes, self.rng, patterns)
            for n in range(max(len(assignments), MIN_POINTS)):  # a point per pattern, each scale at every H
                indices = assignments[n % len(assignments)]
                ok, detail = self.agree_drawn(before, after, classes, indices, total, placeholders, drawn)
                drawn += 1
                if not ok:
                    where = ", ".join(f"{s}={v}" for s, v in indices.items())
                    return False, f"H={classes}{', ' + where if where else ''}: {detail}"
        return True, ""

    def agree_drawn(self, left: Basic, right: Basic, classes: int, indices: dict, total: Basic | None,
                    placeholders, scale: int) -> tuple[bool, str]:
        """``agree`` at a point drawn on the ``scale``-th input scale.  A point on a larger scale where a
        side has no finite value even at 193 bits (tanh(e^8) rounds to 1, so atanh of it is infinite) is
        not a counterexample: it is drawn again on the smallest scale, where the sides must agree."""
        values = random_values(classes, total, placeholders, self.rng, scale, self.trail.targets)
        ok, detail = self.agree(left, right, World(classes, indices, values))
        if not ok and scale % len(INPUT_SCALES) and detail.startswith(UNEVALUABLE):
            values = random_values(classes, total, placeholders, self.rng, 0, self.trail.targets)
            ok, detail = self.agree(left, right, World(classes, indices, values))
        return ok, detail

    def agree(self, left: Basic, right: Basic, world: World) -> tuple[bool, str]:
        """Whether ``left`` and ``right`` have the same value at ``world``.

        Both are computed in machine floats first; when they agree to
        ``FLOAT_DIGITS`` significant digits, that decides.  Otherwise (values that
        differ, or that floats cannot compute) the same point is computed again at
        193 bits, and that decides, to ``AGREEMENT`` (38) digits.
        """
        fast = self.floats.number
        if floats_agree(fast(left, world), fast(right, world)):
            return True, ""
        self.rechecked += 1
        number = self.evaluator.number
        exact_left, exact_right = number(left, world), number(right, world)
        if agree_numbers(exact_left, exact_right):
            return True, ""
        if not (_has_value(exact_left) and _has_value(exact_right)):
            return False, f"{UNEVALUABLE}: {_shown(exact_left)} != {_shown(exact_right)}"
        return False, f"{_shown(exact_left)} != {_shown(exact_right)}"

    def step(self, step: Step) -> Step:
        substeps = tuple(self.step(sub) for sub in step.substeps)
        _joined(step)
        total = assumed_total(step.assumptions)
        ok, detail = self.equal(step.before, step.after, total)
        if ok and step.focus is not None:  # the local rewrite is printed as an equation of its own
            ok, detail = self.equal(step.focus[0], step.focus[1], total)
        if not ok:
            raise CertificationError(f"step '{step.rule.title}' failed certification ({detail})")
        return step.with_certificate(substeps, self.proof(step, total))

    def proof(self, step: Step, total: Basic | None) -> Certificate:
        """The first line: a symbolic proof for every H and index (``derive.certify.proof``), or why not."""
        pairs = [(step.before, step.after)] + ([] if step.focus is None else [step.focus])
        for left, right in pairs:
            reason, pattern = attempt(left, right, self.trail.definitions, total, self.proofs)
            if reason is not None:
                if pattern is not None:
                    self.refute(step, left, right, pattern, total)
                return Certificate("tested", f"no proof found: {reason}")
        return PROVED

    def refute(self, step: Step, left: Basic, right: Basic, pattern: dict, total: Basic | None) -> None:
        """Where the proof's difference did not vanish, look for a counterexample: that index pattern
        (``k = 7`` when ``δ_k7`` appears), at every H from the least that holds it to ``REFUTE_CLASSES``."""
        symbols = index_symbols(left, right)
        left, right = unclash(left, symbols), unclash(right, symbols)
        placeholders = placeholder_symbols(left, right)
        constants = {int(v) for v in pattern.values() if v.is_Integer}
        blocks = sorted({v for v in pattern.values() if not v.is_Integer}, key=str)
        least = max([self.trail.min_classes, len(blocks) + len(constants), *constants])
        sizes = (self.trail.classes,) if self.trail.classes is not None else range(least, max(least, REFUTE_CLASSES) + 1)
        for classes in sizes:
            free = iter(v for v in range(1, classes + 1) if v not in constants)
            values = {block: next(free, None) for block in blocks}
            indices = {s: int(pattern.get(s, s)) if pattern.get(s, s).is_Integer else values.get(pattern.get(s, s)) for s in symbols}
            if None in indices.values() or any(v > classes for v in indices.values()):
                continue
            ok, detail = self.agree_drawn(left, right, classes, indices, total, placeholders, classes)
            if not ok:
                where = ", ".join(f"{s}={v}" for s, v in indices.items())
                raise CertificationError(f"step '{step.rule.title}' failed certification (H={classes}, {where}: {detail})")

    def chain(self) -> None:
        expressions = [self.trail.start]
        for step in self.trail.steps:
            if step.before != expressions[-1]:
                raise CertificationError(f"step '{step.rule.title}' does not start where the previous step ended")
            expressions.append(step.after)
        if expressions[-1] != self.trail.result:
            raise CertificationError("the result is not where the last step ended")

    def result(self) -> None:
        """The result equals ``sympy.diff`` of the loss, under the trail's assumptions."""
        truth = self.trail.start  # ∂(Σ e_i)/∂z_k: evaluated by sympy.diff on the written-out loss
        total = assumed_total(self.trail.assumptions)
        ok, detail = self.equal(truth, self.trail.result, total)
        if not ok:
            raise CertificationError(f"the result disagrees with sympy.diff of the loss ({detail})")
        self.against_reference(truth, total)
        if self.trail.gradient:
            self.gradient(truth, total)

    def against_reference(self, truth: Basic, total: Basic | None) -> None:
        """Once more, with the plain method only: the loss written out in full, ``sympy.diff`` of it,
        ``evalf``.  It shares no code with the fast path, so a bug there cannot hide here."""
        reference = ReferenceEvaluator(self.trail.definitions)
        symbols = index_symbols(truth, self.trail.result)
        placeholders = placeholder_symbols(truth, self.trail.result)
        for classes in [h for h in self.sizes if h <= REFERENCE_CLASSES]:
            for indices in index_assignments(symbols, classes, self.rng):
                world = World(classes, indices, random_values(classes, total, placeholders, self.rng))
                left, right = reference.value(truth, world), reference.value(self.trail.result, world)
                if not agree_values(left, right):
                    raise CertificationError(
                        f"the result disagrees with sympy.diff of the written-out loss (H={classes}: {left} != {right})"
                    )

    def gradient(self, truth: Basic, total: Basic | None) -> None:
        """Each component ``∂E/∂z_k`` against ``sympy.diff`` of the loss at that k.

        Every component is checked at ``POINTS`` random points at every H, as
        every step is; the points are drawn once and shared by the components,
        so the check costs H evaluations per point rather than H random points
        of H values each.
        """
        pairs = [(truth.xreplace({FREE_INDEX: k}), component) for k, component in enumerate(self.trail.gradient, start=1)]
        free = symbols_in([expr for pair in pairs for expr in pair])  # the components share their sums
        if index_symbols_of(free):  # not written in z and y alone
            for k, (fixed, component) in enumerate(pairs, start=1):
                ok, detail = self.equal(fixed, component, total)
                if not ok:
                    raise CertificationError(f"gradient component {k} disagrees with sympy.diff ({detail})")
            return
        placeholders = placeholder_symbols_of(free)
        worlds = [
            World(classes, {}, random_values(classes, total, placeholders, self.rng))
            for classes in self.sizes
            for _ in range(POINTS)
        ]
        for k, (fixed, component) in enumerate(pairs, start=1):
            for world in worlds:
                ok, detail = self.agree(fixed, component, world)
                if not ok:
                    raise CertificationError(f"gradient component {k} disagrees with sympy.diff (H={world.classes}: {detail})")


def _joined(step: Step) -> None:
    """Substeps must form one unbroken chain from what the step rewrote to what it became.

    The last substep may restate the value instead of reaching it (the lemma's cases); the
    substeps of a rule marked ``placeholder_substeps`` (the chain rule's elementary substep) work on
    a placeholder and only have to join up among themselves.
    """
    subs = step.substeps
    if not subs:
        return
    for earlier, later in zip(subs, subs[1:]):
        if later.before != earlier.after:
            raise CertificationError(f"the substeps of '{step.rule.title}' do not join up at '{later.rule.title}'")
    if step.rule.placeholder_substeps:
        return
    start, end = (step.before, step.after) if step.focus is None else step.focus
    if subs[0].before not in (start, step.before):
        raise CertificationError(f"the substeps of '{step.rule.title}' do not start from what it rewrote")
    ends = {end, unwrapped(end), step.after}
    if subs[-1].after not in ends and subs[-1].before not in ends:
        raise CertificationError(f"the substeps of '{step.rule.title}' do not arrive at what it wrote")


def _has_value(value) -> bool:
    """A finite number (not None, nan or an infinity)."""
    return value is not None and (not isinstance(value, tuple) or mpf_finite(value))


def _shown(value) -> str:
    return str(sympy_number(value))


def certify(trail: Trail, seed: int = 20261123) -> Trail:
    """Return ``trail`` with every step marked certified, or raise ``CertificationError``."""
    errors = assumption_errors(trail)
    if errors:
        raise CertificationError(errors[0])
    certifier = Certifier(trail, seed)
    try:
        certifier.chain()
        steps = tuple(certifier.step(step) for step in trail.steps)
        # the words are checked once the equations hold, so a wrong equation is named at its own step
        errors = annotation_errors(trail)
        if errors:
            raise CertificationError(errors[0])
        certifier.result()
    finally:
        certifier.floats.release()
        certifier.evaluator.release()
    return replace(trail, steps=steps)

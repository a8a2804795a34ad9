"""The points ``derive check`` compares a claim at, and its exact evaluation there.

A point is exact decimals: H, k, the inputs (or, with ``--wrt o``, the outputs)
and the targets, drawn over the certifier's domain (``derive.certify.points``):
inputs on every scale and either sign, targets as declared.  Values are computed
by the certifier's own evaluator at its working precision (193 bits); a sum is a loop.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sympy import Basic, Eq, Expr, Indexed, Integer, Rational, Sum

from derive import catalog
from derive.certify import Evaluator, World
from derive.certify.points import INPUT_SCALES, TARGET_RANGES, unclash
from derive.check.diagnose import TARGET_FAMILIES
from derive.symbols import EXAMPLES, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET

if TYPE_CHECKING:  # the reference derivations a claim is judged against (derive.check.claims)
    from derive.check.claims import Reference

SAMPLE_DIGITS = 40                 # significant digits every sampled value has, at least (the evaluator works at 58)
MAX_VALUE = 10**300            # a value larger than this counts as having no usable value
SEED = 20250001


# -- values ------------------------------------------------------------------------------------

class Undefined(Exception):
    """The expression has no real value at this point (a division by zero, the log of a negative ...)."""


def outputs_computed(ref: Reference) -> bool:
    """Whether the points give z and the outputs are computed from it (else they give the outputs)."""
    return ref.wrt == "z" or ref.problem.activation_expr is not None


class Evaluation:
    """Values at the points of one reference, by the certifier's evaluator (``derive.certify.Evaluator``)
    at its working precision, never by its reference method: what is not a finite real number of a size
    a float can hold has no value.  The outputs, when the point gives z, come from the activation's
    definition, once per point."""

    def __init__(self, ref: Reference):
        definitions = (Eq(OUTPUT[SUM_INDEX], ref.activation, evaluate=False),) if outputs_computed(ref) else ()
        self.evaluator = Evaluator(definitions, fallback=False)
        self.worlds: dict[Point, World] = {}
        self.ready: dict[Expr, Expr] = {}  # an expression -> the same with no sum over k's name

    def value(self, expr: Basic, point: Point):
        """``expr``'s value at ``point``, or ``Undefined``."""
        world = self.worlds.get(point)
        if world is None:
            world = self.worlds[point] = _world(point)
        ready = self.ready.get(expr)
        if ready is None:  # a sum over k's own name would be read with k's value inside: renamed
            ready = self.ready[expr] = unclash(expr, [FREE_INDEX])
        result = self.evaluator.real(ready, world)
        if result is None or abs(result) > MAX_VALUE:
            raise Undefined("not a finite real number of a size a float can hold")
        return result

    def release(self) -> None:
        """Forget the compiled expressions (see ``Evaluator.release``)."""
        self.evaluator.release()
        self.worlds.clear()
        self.ready.clear()


def _world(point: Point) -> World:
    """The point as the certifier's ``World``: H; k and N as index values; z, o and y as leaf values."""
    values = {TARGET[m]: value for m, value in enumerate(point.targets, start=1)}
    for base, given in ((INPUT, point.inputs), (OUTPUT, point.outputs)):
        values.update({base[m]: value for m, value in enumerate(given or (), start=1)})
    return World(point.classes, {FREE_INDEX: point.k, EXAMPLES: point.examples}, values)


# -- sample points -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    """Exact decimal inputs for one comparison: H, k, the inputs (z or o), the targets and N."""

    classes: int
    k: int
    family: str              # the narrowest targets family the targets belong to
    inputs: tuple | None     # z, for --wrt z
    outputs: tuple | None    # o, for --wrt o (with --wrt z the outputs are computed from z)
    targets: tuple
    examples: int
    showcase: bool


def _decimal(rng: random.Random, low: float, high: float) -> Rational:
    return Rational(rng.randint(round(low * 100), round(high * 100)), 100)


_OUTPUT_BOXES = {(0, 1): (0.05, 0.95), (-1, 1): (-0.9, 0.9), (0, None): (0.1, 3.0), (None, None): (-2.0, 2.0)}


def _output_box(ref: Reference) -> tuple[float, float]:
    """Where random outputs are drawn (--wrt o): well inside the values the activation can produce."""
    outputs = catalog.activation(ref.problem.activation).outputs
    ends = tuple(int(end) if end.is_finite else None for end in (outputs.start, outputs.end))
    return _OUTPUT_BOXES[ends]


def _spread(classes: int) -> tuple:
    """Round outputs or targets that sum to one: (0.2, 0.6, 0.2) at H = 3 (seed 000's example)."""
    tenths = {1: (10,), 2: (3, 7), 3: (2, 6, 2), 4: (1, 2, 3, 4), 5: (1, 1, 2, 3, 3), 6: (1, 1, 1, 2, 2, 3)}
    if classes in tenths:
        return tuple(Rational(t, 10) for t in tenths[classes])
    return (Rational(1, 200),) * (classes - 1) + (1 - Rational(classes - 1, 200),)


def _composition(rng: random.Random, classes: int) -> tuple:
    """Random hundredths, each at least 0.01, that sum to exactly one."""
    cuts = sorted(rng.sample(range(1, 100), classes - 1))
    return tuple(Rational(b - a, 100) for a, b in zip([0, *cuts], [*cuts, 100]))


def _targets(family: str, classes: int, k: int, hot: int, rng: random.Random | None) -> tuple:
    if family in ("one-hot", "true-class"):
        hot = k if family == "true-class" else hot
        return tuple(Integer(int(m == hot)) for m in range(1, classes + 1))
    if family == "distribution":
        return tuple(reversed(_spread(classes))) if rng is None else _composition(rng, classes)
    if rng is None:
        return tuple((Integer(1), Rational(1, 2), Integer(0), Rational(1, 4))[(m - 1) % 4] for m in range(1, classes + 1))
    return tuple(_decimal(rng, *TARGET_RANGES["any"]) for _ in range(classes))  # negative, and above 1, too


def _variables(ref: Reference, classes: int, rng: random.Random | None, scale: int = 0) -> tuple[tuple | None, tuple | None]:
    """(z, None) with --wrt z; (None, o) with --wrt o, where o is any output the activation can produce.

    Random inputs are drawn on the ``scale``-th of the certifier's ``INPUT_SCALES`` (up to |z| = 8), either sign.

    A vector activation (softmax) only produces outputs that sum to one, so its
    outputs are drawn on that simplex; elementwise outputs are independent.
    """
    if outputs_computed(ref):  # a user's outputs: computed from inputs
        if rng is None:
            z = (Rational(1, 2), Rational(3, 2), Rational(-1, 2), Integer(1), Integer(0), Integer(-1))
            return tuple(z[(m - 1) % len(z)] for m in range(1, classes + 1)), None
        low, high = INPUT_SCALES[scale % len(INPUT_SCALES)]
        return tuple(_decimal(rng, low, high) * rng.choice((1, -1)) for _ in range(classes)), None
    if ref.activation.has(Sum):
        return None, _spread(classes) if rng is None else _composition(rng, classes)
    if rng is None:
        return None, (Rational(2, 5),) if classes == 1 else tuple(Rational((m - 1) % 9 + 1, 10) for m in range(1, classes + 1))
    return None, tuple(_decimal(rng, *_output_box(ref)) for _ in range(classes))


def sample_points(ref: Reference, seed: int = SEED, claim: Expr | None = None) -> list[Point]:
    """Showcase points first (H = 3 before the others, round numbers), then random ones; every family.

    The random points cover the certifier's domain: inputs on every scale, targets as declared,
    H up to the largest of ``EXTRA_SAMPLED_CLASSES`` at symbolic H, and every class number the claim names as k.
    """
    rng = random.Random(seed)
    families = TARGET_FAMILIES[TARGET_FAMILIES.index(ref.targets):]
    sizes = sorted(ref.sampled_classes, key=lambda h: (h != 3, h != 2, h == 1, h))
    named = sorted({int(i) for node in claim.atoms(Indexed) for i in node.indices if i.is_Integer}) if claim is not None else []
    points = []
    for classes in sizes:
        ks = range(1, classes + 1) if classes <= 3 else (1, 2, classes)
        inputs, outputs = _variables(ref, classes, None)
        for family in families:
            for k in ks:
                targets = _targets(family, classes, k, 1, None)
                points.append(Point(classes, k, family, inputs, outputs, targets, 4, True))
    for classes in sizes:
        for family in families:
            ks = [rng.randint(1, classes) for _ in range(len(INPUT_SCALES))] + [c for c in named if c <= classes]
            for n, k in enumerate(ks):
                hot = k if n % 2 == 0 or classes == 1 else rng.choice([m for m in range(1, classes + 1) if m != k])
                inputs, outputs = _variables(ref, classes, rng, n)
                targets = _targets(family, classes, k, hot, rng)
                points.append(Point(classes, k, family, inputs, outputs, targets, rng.randint(2, 9), False))
    return points


def outputs_at(ref: Reference, point: Point, evaluation: Evaluation) -> tuple:
    """The outputs at a point: given (``--wrt o``) or computed from z by the activation."""
    if point.outputs is not None:
        return point.outputs
    return tuple(evaluation.value(OUTPUT[m], point) for m in range(1, point.classes + 1))

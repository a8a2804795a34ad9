"""The points ``derive check`` compares a claim at, and its exact evaluation there.

A point is exact decimals: H, k, the inputs (or, with ``--wrt o``, the outputs)
and the targets, drawn over the certifier's domain (``derive.certify.points``):
inputs on every scale and either sign, targets as declared.  Values are computed
with mpmath at ``PRECISION`` digits; a sum is a loop.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mpmath
from sympy import (Abs, Add, Basic, Expr, Float, Indexed, Integer, KroneckerDelta, Mul, NumberSymbol, Pow, Rational, Sum,
                   Symbol, UnevaluatedExpr, cosh, exp, log, sinh, tanh)

from derive import catalog
from derive.certify.points import INPUT_SCALES, TARGET_RANGES
from derive.check.diagnose import FAMILIES
from derive.symbols import CLASSES, EXAMPLES, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.sums import SumExcept

if TYPE_CHECKING:  # the reference derivations a claim is judged against (derive.check.claims)
    from derive.check.claims import Reference

PRECISION = 40                 # significant digits of every sampled value
MAX_EXPONENT_ARGUMENT = 10**5  # exp, sinh, cosh of anything larger is not evaluated (it would not end)
MAX_VALUE = 10**300            # a value larger than this counts as having no usable value
SEED = 20250001

_MP = mpmath.MPContext()
_MP.dps = PRECISION


# -- numbers -----------------------------------------------------------------------------------

class Undefined(Exception):
    """The expression has no real value at this point (a division by zero, the log of a negative ...)."""


_FUNCTIONS = {exp: _MP.exp, log: _MP.log, tanh: _MP.tanh, sinh: _MP.sinh, cosh: _MP.cosh, Abs: _MP.fabs}


class Evaluation:
    """Values at one point.  A sum is a loop; a closed sum (``Σ_j e^{z_j}``) is computed once."""

    def __init__(self, point: "Point", activation: Expr):
        self.point = point
        self.activation = activation
        self.outputs: dict[int, object] = {}
        self.memo: dict = {}

    def value(self, expr: Basic):
        try:
            result = self._value(expr, {})
        except (ZeroDivisionError, OverflowError, ValueError) as error:
            raise Undefined(str(error)) from None
        if isinstance(result, int):
            result = _MP.mpf(result)
        if not isinstance(result, _MP.mpf) or not _MP.isfinite(result) or abs(result) > MAX_VALUE:
            raise Undefined("not a finite real number of a size a float can hold")
        return result

    def leaf(self, base, m: int):
        if not 1 <= m <= self.point.classes:
            raise ValueError(f"class {m} outside 1..{self.point.classes}")
        if base == TARGET:
            return _MP.mpf(self.point.targets[m - 1])
        if base == INPUT:
            return _MP.mpf(self.point.inputs[m - 1])
        if self.point.outputs is not None:
            return _MP.mpf(self.point.outputs[m - 1])
        if m not in self.outputs:
            self.outputs[m] = self._value(self.activation.xreplace({SUM_INDEX: Integer(m)}), {})
        return self.outputs[m]

    def _value(self, node: Basic, env: dict):
        if node.is_Rational:
            return _MP.mpf(node.p) / node.q
        if isinstance(node, (NumberSymbol, Float)):
            return _MP.mpf(str(node.evalf(PRECISION + 5)))
        if isinstance(node, Symbol):
            if node in env:
                return env[node]
            if node == CLASSES:
                return self.point.classes
            if node == FREE_INDEX:
                return self.point.k
            if node == EXAMPLES:
                return self.point.examples
            raise ValueError(f"no value for {node}")
        if isinstance(node, Indexed):
            return self.leaf(node.base, int(self._value(node.indices[0], env)))
        if isinstance(node, (Sum, SumExcept)):
            return self._sum(node, env)
        if isinstance(node, UnevaluatedExpr):
            return self._value(node.args[0], env)
        if isinstance(node, Add):
            return _MP.fsum(self._value(arg, env) for arg in node.args)
        if isinstance(node, Mul):
            return _MP.fprod(self._value(arg, env) for arg in node.args)
        if isinstance(node, Pow):
            return self._power(self._value(node.base, env), self._value(node.exp, env))
        if isinstance(node, KroneckerDelta):
            return int(self._value(node.args[0], env) == self._value(node.args[1], env))
        if type(node) in _FUNCTIONS:
            argument = self._value(node.args[0], env)
            if isinstance(node, log) and argument <= 0:
                raise ValueError("log of a number that is not positive")
            if isinstance(node, (exp, sinh, cosh)) and abs(argument) > MAX_EXPONENT_ARGUMENT:
                raise OverflowError("too large to evaluate")
            return _FUNCTIONS[type(node)](argument)
        raise ValueError(f"cannot evaluate {type(node).__name__}")

    def _power(self, base, power):
        if base == 0 and power < 0:
            raise ZeroDivisionError("zero to a negative power")
        if base < 0 and power != int(power):
            raise ValueError("a negative number to a fractional power")
        return _MP.power(base, int(power)) if power == int(power) else _MP.power(base, power)

    def _sum(self, node, env: dict):
        bound = tuple(sorted((s.name, env[s]) for s in node.free_symbols if s in env))
        key = (node, bound)
        if key not in self.memo:
            if isinstance(node, SumExcept):
                skip = int(self._value(node.excluded, env))
                limits = [(node.index, node.lower, node.upper)]
            else:
                skip, limits = None, list(node.limits)  # Σ_i Σ_j f is one Sum; its last limit is the outer sum
            self.memo[key] = self._loop(node.function, limits, env, skip)
        return self.memo[key]

    def _loop(self, function, limits: list, env: dict, skip):
        if not limits:
            return self._value(function, env)
        index, lower, upper = limits[-1]
        low, high = int(self._value(lower, env)), int(self._value(upper, env))
        return _MP.fsum(self._loop(function, limits[:-1], {**env, index: m}, None)
                        for m in range(low, high + 1) if m != skip)


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
    if ref.wrt == "z" or ref.problem.activation_expr is not None:  # a user's outputs: computed from inputs
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
    families = FAMILIES[FAMILIES.index(ref.targets):]
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


def outputs_at(ref: Reference, point: Point) -> tuple:
    """The outputs at a point: given (``--wrt o``) or computed from z by the activation."""
    if point.outputs is not None:
        return point.outputs
    evaluation = Evaluation(point, ref.activation)
    return tuple(evaluation.leaf(OUTPUT, m) for m in range(1, point.classes + 1))

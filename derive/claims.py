"""``derive check``: compare a claimed gradient with the certified one.

The reference is always a certified trail: ``∂E/∂z_k`` from :func:`derive.engine.derive`,
and ``∂E/∂o_k`` from the same strategy run with the outputs as the variables (the
context has no definition for ``o``).  A claim is parsed by the whitelist parser
only, then judged in two ways:

* **symbolic**: ``claim − truth`` is rewritten (sums split and given one canonical
  index, ``Σ_i y_i = 1`` where the targets assumption grants it) and cancelled
  as a rational function; zero proves the claim for every H;
* **sampled**: both sides are evaluated with mpmath at ``PRECISION`` digits at
  exact decimal points, for every H in ``1..MAX_SAMPLED_CLASSES`` (or the given H),
  with targets drawn from the stated family and from every narrower one.

Sampling always runs: it finds the counterexample when the claim is wrong, it
feeds the diagnosis (:mod:`derive.diagnose`), and when the symbolic proof
succeeds it must agree with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import mpmath
from sympy import (Abs, Add, Basic, Eq, Expr, Float, Indexed, Integer, KroneckerDelta, Mul, NumberSymbol, Pow, Rational, Sum,
                   Symbol, UnevaluatedExpr, cancel, cosh, diff, exp, expand, log, sinh, tanh)
from sympy.core.cache import clear_cache

from derive import catalog
from derive.deadline import budget
from derive.certify.proof import prove
from derive.certify import CertificationError, certify
from derive.certify.points import INPUT_SCALES, TARGET_RANGES
from derive.context import Context
from derive.diagnose import FAMILIES, Diagnosis, Sample, agree, diagnose
from derive.engine import derive
from derive.formulation import formulate
from derive.holding import release
from derive.parse import EXAMPLES, parse_expression
from derive.problem import MAX_CHECK_CLASSES, Problem
from derive.rules.base import d
from derive.rules.lemma import LEMMA
from derive.strategy import derive_gradient
from derive.sums import SumExcept
from derive.symbols import CLASSES, ERROR, FREE_INDEX, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.trail import Trail

PRECISION = 40                 # significant digits of every sampled value
MAX_SAMPLED_CLASSES = 6        # symbolic H is sampled at H = 1..6
EXTRA_SAMPLED_CLASSES = (7, 9, 12)  # symbolic H is also sampled at these
PROOF_SECONDS = 2.0            # wall-clock budget for the symbolic proof
MAX_EXPONENT_ARGUMENT = 10**5  # exp, sinh, cosh of anything larger is not evaluated (it would not end)
MAX_VALUE = 10**300            # a value larger than this counts as having no usable value
SEED = 20250001

_MP = mpmath.MPContext()
_MP.dps = PRECISION
_INDICES = (SUM_INDEX, INNER_INDEX, FREE_INDEX)


class ClaimError(ValueError):
    """A claim that cannot be checked as asked (wrong names or indices).  One line; exit code 2."""


@dataclass(frozen=True)
class Reference:
    """What a claim is judged against: certified derivations for one activation and loss."""

    problem: Problem
    wrt: str                 # "z" (∂E/∂z_k) or "o" (∂E/∂o_k)
    inputs: Trail            # certified ∂E/∂z_k
    outputs: Trail           # certified ∂E/∂o_k
    activation: Expr         # o_i in terms of z (index SUM_INDEX, class count CLASSES)
    diagonal: Expr           # ∂o_k/∂z_k in the outputs, from the certified lemma

    @property
    def trail(self) -> Trail:
        return self.inputs if self.wrt == "z" else self.outputs

    @property
    def truth(self) -> Expr:
        return release(self.trail.result)

    @property
    def targets(self) -> str:
        return self.inputs.targets

    @property
    def sampled_classes(self) -> tuple[int, ...]:
        if self.problem.classes is not None:
            return (self.problem.classes,)
        smallest = max(1, self.inputs.min_classes)
        return (*range(smallest, MAX_SAMPLED_CLASSES + 1), *EXTRA_SAMPLED_CLASSES)

    def shapes(self) -> dict:
        """The true derivative and the wrong form a mistaken chain rule gives (see derive.diagnose)."""
        gradient_o, gradient_z = release(self.outputs.result), release(self.inputs.result)
        if self.wrt == "z":
            return {"truth": gradient_z, "diagonal-only": gradient_o * self.diagonal}
        return {"truth": gradient_o, "divided-factors": gradient_z / self.diagonal}


def reference(problem: Problem, wrt: str) -> Reference:
    """Derive and certify both gradients; raises the catalogue's and the problem's errors for bad input."""
    if wrt not in ("z", "o"):
        raise ClaimError(f"--wrt must be z or o, not {wrt!r}")
    if problem.classes is not None and problem.classes > MAX_CHECK_CLASSES:
        raise ClaimError(f"check samples every class exactly, so --H must be at most {MAX_CHECK_CLASSES}")
    formulate(problem)  # refuses an unknown or undefined pair at this H
    symbolic = replace(problem, classes=None)
    inputs = certify(derive(symbolic))
    outputs = certify(output_trail(symbolic))
    activation = formulate(symbolic).context.definition_of(OUTPUT).body
    return Reference(problem, wrt, inputs, outputs, activation, diagonal_entry(inputs, activation))


def output_trail(problem: Problem) -> Trail:
    """``∂E/∂o_k``: the loss's own definition only, so the outputs are the variables.

    For the certifier the outputs are written as logistic functions of random
    inputs: that makes every ``o_i`` an independent number in (0, 1), which is
    all an identity in the outputs needs.
    """
    setup = formulate(problem)
    error = setup.context.definition_of(ERROR)
    ctx = Context((error,), frozenset({ERROR}), setup.context.assumptions, setup.context.classes)
    start = d(Sum(ERROR[SUM_INDEX], (SUM_INDEX, 1, CLASSES)), OUTPUT[FREE_INDEX])
    steps, result = derive_gradient(start, ctx)
    sampler = Eq(OUTPUT[SUM_INDEX], 1 / (1 + exp(-INPUT[SUM_INDEX])), evaluate=False)
    return Trail(activation=setup.activation, loss=setup.loss, classes=None, targets=setup.targets, start=start,
                 steps=tuple(steps), result=result, assumptions=ctx.assumptions,
                 definitions=(error.equation(), sampler), min_classes=setup.min_classes)


def diagonal_entry(trail: Trail, activation: Expr) -> Expr:
    """``∂o_k/∂z_k``: the certified lemma ``∂o_i/∂z_k`` at ``i = k``, cross-checked with ``sympy.diff``."""
    lemmas = [step for step in trail.steps if step.rule is LEMMA and step.focus is not None]
    if not lemmas:
        raise CertificationError("the derivation has no lemma for the activation's derivative")
    derivative, value = lemmas[0].focus
    entry = release(value).xreplace({derivative.expr.indices[0]: FREE_INDEX})
    classes, k = 3, 2
    body = activation.xreplace({CLASSES: classes})
    point = {INPUT[m]: Rational(2 * m - 3, 4) for m in range(1, classes + 1)}
    written = {OUTPUT[m]: body.xreplace({SUM_INDEX: m}).doit() for m in range(1, classes + 1)}
    expected = diff(written[OUTPUT[k]], INPUT[k]).xreplace(point).evalf(PRECISION)
    found = entry.xreplace({FREE_INDEX: k}).xreplace(written).xreplace(point).evalf(PRECISION)
    if not agree(expected, found):
        raise CertificationError("the lemma's diagonal entry disagrees with sympy.diff of the activation")
    return entry


# -- the claim ---------------------------------------------------------------------------------

def read_claim(text: str, ref: Reference) -> Expr:
    """Parse ``text`` (never evaluated) and check that it talks about the right quantities."""
    claim = parse_expression(text, role="claim")
    free = {s for s in claim.free_symbols if s in _INDICES}
    if free - {FREE_INDEX}:
        name = sorted(str(s) for s in free - {FREE_INDEX})[0]
        raise ClaimError(f"index {name!r} is used outside a sum; only k may stand alone in a claim")
    if ref.wrt == "o" and claim.has(INPUT):
        raise ClaimError("with --wrt o the claim is a function of the outputs: use o[...], y[...] and N, not z")
    fixed = sorted({int(i) for node in claim.atoms(Indexed) for i in node.indices if i.is_Integer})
    if fixed and ref.problem.classes is None:
        raise ClaimError(f"class number {fixed[0]} in the claim needs a concrete --H; otherwise use k, i and j")
    if fixed and fixed[-1] > ref.problem.classes:
        raise ClaimError(f"class number {fixed[-1]} is larger than H = {ref.problem.classes}")
    return claim


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


# -- symbolic proof ----------------------------------------------------------------------------

class _OutOfTime(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` inside SymPy swallows it."""


def symbolic_proof(claim: Expr, ref: Reference) -> str | None:
    """How ``claim = truth`` is proved for every H: "plain", "assumption" (``Σ_i y_i = 1`` was needed) or None.

    The certifier's proof kernel decides (``derive.certify.proof``): derivatives by ``sympy.diff``,
    definitions substituted, every index pattern (``k = 3`` when ``z_3`` appears), sums in a normal
    form, the difference cancelled exactly.  None proves nothing either way; sampling decides.
    """
    definitions = ref.trail.definitions
    if ref.problem.classes is not None:
        claim, truth = claim.xreplace({CLASSES: ref.problem.classes}), ref.truth.xreplace({CLASSES: ref.problem.classes})
    else:
        truth = ref.truth

    def attempt() -> str | None:
        if prove(claim, truth, definitions) is None:
            return "plain"
        if ref.targets in ("one-hot", "distribution") and prove(claim, truth, definitions, Integer(1)) is None:
            return "assumption"
        return None
    try:
        return _within(PROOF_SECONDS, attempt)
    except _OutOfTime:
        clear_cache()
        return None
    except RecursionError:
        return None
    except Exception:  # noqa: BLE001 - SymPy's polynomial code can refuse odd generators; sampling decides
        return None


def _within(seconds: float, work):
    """Run ``work()`` within ``seconds`` (``derive.deadline.budget``), raising ``_OutOfTime`` after."""
    with budget(seconds, _OutOfTime):
        return work()


# -- the verdict -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counterexample:
    point: Point
    outputs: tuple           # the outputs at the point (computed from z with --wrt z)
    claimed: object          # an mpf, or None where the claim is undefined
    true: object


@dataclass(frozen=True)
class Outcome:
    claim: Expr
    reference: Reference
    holds: bool
    method: str                          # "symbolic" or "sampled"
    assumption_used: bool                # the symbolic proof needed Σ_i y_i = 1
    classes: tuple[int, ...]             # the H values sampled
    points: int                          # how many points were compared
    counterexample: Counterexample | None
    diagnosis: Diagnosis | None


MIN_SAMPLES = 12  # a sampled verdict needs at least this many points where the loss is defined


def check(claim: Expr, ref: Reference, seed: int = SEED) -> Outcome:
    proved = symbolic_proof(claim, ref)
    shapes = ref.shapes()
    samples, first_wrong = [], None
    for point in sample_points(ref, seed, claim):
        evaluation = Evaluation(point, ref.activation)
        values = {}
        for name, expr in shapes.items():
            try:
                values[name] = evaluation.value(expr)
            except Undefined:
                values[name] = None
        if values["truth"] is None:
            continue  # outside the loss's domain: not a point the claim can be judged at
        try:
            claimed = evaluation.value(claim)
        except Undefined:
            claimed = None
        samples.append(Sample(FAMILIES.index(point.family), point.examples, claimed, values))
        if first_wrong is None and not agree(claimed, values["truth"]):
            first_wrong = Counterexample(point, outputs_at(ref, point), claimed, values["truth"])
    if proved and first_wrong is not None:
        raise CertificationError("the symbolic proof and the sampled values disagree")
    if not proved and len(samples) < MIN_SAMPLES:
        raise CertificationError(
            f"only {len(samples)} sample points lie inside the loss's domain (at least {MIN_SAMPLES} are needed): no verdict"
        )
    holds = first_wrong is None
    return Outcome(
        claim=claim, reference=ref, holds=holds, method="symbolic" if proved else "sampled",
        assumption_used=proved == "assumption",
        classes=ref.sampled_classes, points=len(samples), counterexample=first_wrong,
        diagnosis=None if holds else diagnose(samples, FAMILIES.index(ref.targets)),
    )

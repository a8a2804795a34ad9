"""``derive check``: compare a claimed gradient with the certified one.

The reference is always a certified trail: ``∂E/∂z_k`` from :func:`derive.engine.derivation.derive`,
and ``∂E/∂o_k`` from the same strategy run with the outputs as the variables (the
context has no definition for ``o``).  A claim is parsed by the whitelist parser
only, then judged in two ways:

* **symbolic**: ``claim − truth`` is rewritten (sums split and given one canonical
  index, ``Σ_i y_i = 1`` where the targets assumption grants it) and cancelled
  as a rational function; zero proves the claim for every H;
* **sampled**: both sides are evaluated by the certifier's evaluator (at least ``SAMPLE_DIGITS`` digits) at
  exact decimal points, for every H in ``1..MAX_SAMPLED_CLASSES`` (or the given H),
  with targets drawn from the stated family and from every narrower one.

Sampling always runs: it finds the counterexample when the claim is wrong, it
feeds the diagnosis (:mod:`derive.check.diagnose`), and when the symbolic proof
succeeds it must agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Eq, Expr, Indexed, Integer, Rational, Sum, diff, exp
from sympy.core.cache import clear_cache

from derive.deadline import OutOfTime, budget
from derive.certify.proof import prove
from derive.certify import CertificationError, certify
from derive.check.claim_points import SAMPLE_DIGITS, SEED, Evaluation, Point, Undefined, outputs_at, sample_points
from derive.context import Context
from derive.check.diagnose import TARGET_FAMILIES, Diagnosis, Sample, agree, diagnose
from derive.engine.derivation import derive
from derive.engine.formulation import formulate
from derive.holding import release
from derive.parse import parse_expression
from derive.problem import MAX_CHECK_CLASSES, ClaimError, Problem
from derive.engine.rules.base import d
from derive.engine.rules.lemma import LEMMA
from derive.engine.strategy import derive_gradient
from derive.symbols import CLASSES, ERROR, FREE_INDEX, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX
from derive.trail import Trail

MAX_SAMPLED_CLASSES = 6        # symbolic H is sampled at H = 1..6
EXTRA_SAMPLED_CLASSES = (7, 9, 12)  # symbolic H is also sampled at these
PROOF_SECONDS = 2.0            # wall-clock budget for the symbolic proof
_INDICES = (SUM_INDEX, INNER_INDEX, FREE_INDEX)


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
        """The true derivative and the wrong form a mistaken chain rule gives (see derive.check.diagnose)."""
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
    expected = diff(written[OUTPUT[k]], INPUT[k]).xreplace(point).evalf(SAMPLE_DIGITS)
    found = entry.xreplace({FREE_INDEX: k}).xreplace(written).xreplace(point).evalf(SAMPLE_DIGITS)
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


# -- symbolic proof ----------------------------------------------------------------------------

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
        with budget(PROOF_SECONDS, OutOfTime):
            return attempt()
    except OutOfTime:
        clear_cache()
        return None
    except RecursionError:
        return None
    except Exception:  # noqa: BLE001 - SymPy's polynomial code can refuse odd generators; sampling decides
        return None


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


def _value(evaluation: Evaluation, expr: Expr, point: Point):
    """``expr`` at ``point``, or None where it has no value."""
    try:
        return evaluation.value(expr, point)
    except Undefined:
        return None


def check(claim: Expr, ref: Reference, seed: int = SEED) -> Outcome:
    proved = symbolic_proof(claim, ref)
    shapes = ref.shapes()
    samples, first_wrong = [], None
    evaluation = Evaluation(ref)
    try:
        for point in sample_points(ref, seed, claim):
            values = {name: _value(evaluation, expr, point) for name, expr in shapes.items()}
            if values["truth"] is None:
                continue  # outside the loss's domain: not a point the claim can be judged at
            claimed = _value(evaluation, claim, point)
            samples.append(Sample(TARGET_FAMILIES.index(point.family), point.examples, claimed, values))
            if first_wrong is None and not agree(claimed, values["truth"]):
                first_wrong = Counterexample(point, outputs_at(ref, point, evaluation), claimed, values["truth"])
    finally:
        evaluation.release()
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
        diagnosis=None if holds else diagnose(samples, TARGET_FAMILIES.index(ref.targets)),
    )

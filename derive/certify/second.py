"""Certifying a second derivative (``SecondTrail``): the steps, the result, the Hessian's entries, the matrix
form and the definiteness claimed, independently of the rules.

* The steps and the result go through the output layer's certifier (``certify``): each step proved by the
  proof kernel for every H and every pattern of the indices k and l where it can (else marked tested), and
  sampled as a second line at H = 1, 2, 3, 5, one H from 6 to 12 and every class number an equation names,
  at inputs of either sign up to |z| = 8 and targets as declared; the result against ``sympy.diff`` of the
  loss, differentiated twice.
* At concrete H, the Hessian's entries (all of them up to ``ENTRIES``, else a choice with the corners)
  against ``sympy.diff`` of the loss by ``z_k`` and ``z_l``, at random points.
* The matrix form ``c (diag(O) − OOᵀ)`` or ``diag(a)`` by the proof kernel: its (k, l) entry equals the result.
* A diagonal entry claimed ≥ 0 is sampled at inputs from -8 to 8 and targets as declared; a point claimed to
  make it negative is recomputed from ``sympy.diff`` of the loss at H = 2.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sympy import Derivative, Float, KroneckerDelta, Rational

from derive.certify.core import CertificationError, Certifier, certify
from derive.certify.numbers import PRECISION
from derive.certify.points import World, random_values
from derive.certify.proof import attempt
from derive.certify.reference import ReferenceEvaluator
from derive.symbols import FREE_INDEX, INPUT, OUTPUT, SECOND_INDEX, TARGET
from derive.trail import SecondTrail, assumed_total

ENTRIES = 12  # Hessian entries compared with sympy.diff at concrete H (all when there are fewer)
SIGN_INPUTS = tuple(Rational(n, 2) for n in range(-16, 17))
SIGN_TARGETS = {"one-hot": (0, 1), "distribution": (0, Rational(1, 2), 1), "any": (-3, -1, 0, Rational(1, 2), 1, 3)}


def certify_second(second: SecondTrail, seed: int = 20261205) -> SecondTrail:
    """``second`` with every step certified, or ``CertificationError``."""
    trail = certify(second.trail, seed)
    total = assumed_total(second.output.assumptions)
    _entries(second, total, random.Random(seed))
    _form(second, total)
    _sign(second)
    return replace(second, trail=trail)


def _entries(second: SecondTrail, total, rng: random.Random) -> None:
    if second.hessian is None:
        return
    classes = len(second.hessian)
    places = [(a, b) for a in range(1, classes + 1) for b in range(1, classes + 1)]
    corners = [(1, 1), (1, classes), (classes, 1), (classes, classes)]
    chosen = places if len(places) <= ENTRIES else list(dict.fromkeys(corners + rng.sample(places, ENTRIES - 4)))
    loss = second.trail.start.expr
    checker = Certifier(second.trail, seed=rng.randrange(2**31))
    for a, b in chosen:
        truth = Derivative(loss, INPUT[a], INPUT[b])
        for scale in (0, 1, 2):
            world = World(classes, {}, random_values(classes, total, [], checker.rng, scale, second.trail.targets))
            ok, detail = checker.agree(truth, second.hessian[a - 1][b - 1], world)
            if not ok:
                raise CertificationError(f"Hessian entry ({a}, {b}) disagrees with sympy.diff of the loss ({detail})")


def _form(second: SecondTrail, total) -> None:
    """The matrix form's (k, l) entry equals the result, for every H, k and l (the proof kernel)."""
    form, result = second.form, second.trail.result
    k, l = FREE_INDEX, SECOND_INDEX
    delta = KroneckerDelta(k, l)
    entry = {
        "scaled-softmax": lambda: form.scale * (OUTPUT[k] * delta - OUTPUT[k] * OUTPUT[l]),
        "diagonal": lambda: (form.diagonal if form.diagonal is not None else 0) * delta,
        "zero": lambda: 0,
    }.get(form.kind)
    if entry is None:
        return
    reason, _ = attempt(result, entry(), second.trail.definitions, total)
    if reason is not None:
        raise CertificationError(f"the matrix form ({form.kind}) is not the result's: {reason}")


def _sign(second: SecondTrail) -> None:
    """``∂²E/∂Z_1²`` from ``sympy.diff`` of the loss at H = 2: never negative where every diagonal entry is
    claimed ≥ 0 (sampled), negative where the witness says."""
    form = second.form
    if form.kind != "diagonal" or form.definite not in ("proved", "refuted"):
        return
    reference = ReferenceEvaluator(second.trail.definitions)
    truth = Derivative(second.trail.start.expr, INPUT[1], INPUT[1])
    classes = max(2, second.trail.min_classes)

    def value(z, y):
        values = {INPUT[1]: Float(z, PRECISION), INPUT[2]: Float("0.3", PRECISION), TARGET[1]: Float(y, PRECISION)}
        others = 0 if second.trail.targets == "any" else 1 - y
        values |= {INPUT[m]: Float("0.3", PRECISION) for m in range(3, classes + 1)}
        values |= {TARGET[m]: Float(others, PRECISION) / (classes - 1) for m in range(2, classes + 1)}
        return reference.value(truth, World(classes, {}, values))

    if form.definite == "refuted":
        z, y, _ = form.witness
        if not value(z, y) < 0:
            raise CertificationError(f"the diagonal entry is not negative at Z_k = {z}, y_k = {y}")
        return
    for z in SIGN_INPUTS:
        for y in SIGN_TARGETS[second.trail.targets]:
            if value(z, y) < -Float("1e-30", PRECISION):
                raise CertificationError(f"a diagonal entry claimed nonnegative is negative at Z_k = {z}, y_k = {y}")

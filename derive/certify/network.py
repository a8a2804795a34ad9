"""Certifying a derivation past the output layer (``NetworkTrail``): every step, the result, the gradient's
entries and the matrix summary, independently of the rules.

The second line is the plain method (``ReferenceEvaluator``): at concrete numbers of classes H and of
inputs D, every sum is written out, every definition substituted (``Z_i = Σ_d W_id x_d + b_i`` too),
every derivative taken by ``sympy.diff`` of what it stands for, and both sides are compared at random
weights, biases, inputs and targets, at every pattern of the free indices.

The first line, a proof for every H and D, is found for three kinds of equation and no other:

* one in the output layer's own variables (no derivative by ``W``, ``b``, ``x`` or of ``Z``): the proof
  kernel (``derive.certify.proof``) with the output layer's definitions;
* ``∂Z_i/∂p = v``: ``sympy.diff`` of ``Z_i``'s definition at symbolic D, its sums written out by SymPy,
  and the conditions SymPy attaches (``j ≤ D``) decided from the ranges of the indices;
* ``∂E/∂p = Σ_i ∂E/∂Z_i ∂Z_i/∂p`` over all of Z's units, where the definitions show that ``E`` reaches
  ``p`` only through ``Z``: the multivariable chain rule.
"""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import product

from sympy import (
    IndexedBase, Add, And, Basic, Derivative, Float, Indexed, Matrix, MatrixSymbol, Mul, Piecewise, Sum, diff, expand, sympify, true,
)

from derive.certify.core import CertificationError
from derive.certify.numbers import PRECISION, _agree
from derive.certify.points import World
from derive.certify.proof import attempt
from derive.certify.reference import ReferenceEvaluator
from derive.context import bound_indices, fresh_index
from derive.symbols import BIAS, CLASSES, INPUT, INPUTS, LOSS, NETWORK_INPUT, OUTPUT, TARGET, WEIGHT
from derive.trail import Certificate, NetworkTrail, Step, assumed_total

SIZES = ((1, 2), (2, 1), (2, 3), (3, 2))  # (H, D) sampled when they are symbolic (H at least the pair's least)
POINTS = 2             # random points per size and index pattern
MAX_PATTERNS = 4       # index patterns per size (all of them up to this many, else a random choice)
ENTRIES = 12           # gradient entries compared with sympy.diff at concrete sizes (all when there are fewer)
SUMMARY_SIZES = ((3, 2), (2, 3))  # the matrix summary is compared entry by entry at these (H, D)
LEAF_RANGE = (-1.5, 1.5)
GRADIENT = IndexedBase("g")  # ∇_Z E in the summary, when it is not O − y


class NetworkCertificationError(CertificationError):
    """A step, the result, a gradient entry or a summary line failed its check."""


class NetworkCertifier:
    def __init__(self, trail: NetworkTrail, seed: int = 20261204):
        self.trail = trail
        self.rng = random.Random(seed)
        least = trail.output.min_classes
        self.sizes = tuple(dict.fromkeys(
            (max(h, least) if trail.classes is None else trail.classes, d if trail.inputs is None else trail.inputs)
            for h, d in SIZES))
        self.total = assumed_total(trail.output.assumptions)
        self.ranges = dict(trail.ranges)
        self.memo: dict = {}

    # -- numbers -------------------------------------------------------------------------
    def evaluator(self, inputs: int) -> ReferenceEvaluator:
        return ReferenceEvaluator(tuple(eq.xreplace({INPUTS: inputs}) for eq in self.trail.definitions))

    def point(self, classes: int, inputs: int) -> dict:
        uniform = self.rng.uniform
        values = {NETWORK_INPUT[d]: uniform(*LEAF_RANGE) for d in range(1, inputs + 1)}
        values |= {BIAS[m]: uniform(*LEAF_RANGE) for m in range(1, classes + 1)}
        values |= {WEIGHT[m, d]: uniform(*LEAF_RANGE) for m in range(1, classes + 1) for d in range(1, inputs + 1)}
        if self.trail.output.targets == "any":
            targets = [Float(uniform(-3.0, 3.0), PRECISION) for _ in range(classes)]
        else:
            weights = [Float(uniform(0.05, 1.0), PRECISION) for _ in range(classes)]
            targets = [w / Add(*weights) for w in weights]  # Σ y = 1, as the targets are declared (to 50 digits)
        values = {key: Float(value, PRECISION) for key, value in values.items()}
        return values | {TARGET[m]: value for m, value in enumerate(targets, start=1)}

    def loss(self, around: Basic) -> Basic:
        """What ``E`` stands for, its summation indices renamed apart from every index of ``around``."""
        taken = set(around.free_symbols) | {s for n in around.atoms(Sum) for s in n.variables}
        renames, loss = {}, self.trail.loss
        for bound in bound_indices(loss):
            renames[bound] = fresh_index(taken | set(renames.values()) | {bound})
        return loss.xreplace(renames)

    def value(self, expr: Basic, classes: int, inputs: int, indices: dict, values: dict) -> Basic:
        expr = expr.xreplace({LOSS: self.loss(expr)}).xreplace({CLASSES: classes, INPUTS: inputs})
        world = World(classes, indices, values)
        return self.evaluator(inputs).value(expr, world)

    def patterns(self, symbols: list, classes: int, inputs: int) -> list[dict]:
        last = {CLASSES: classes, INPUTS: inputs}
        choices = [range(1, int(sympify(self.ranges.get(s, CLASSES)).xreplace(last)) + 1) for s in symbols]
        every = [dict(zip(symbols, values)) for values in product(*choices)]
        return every if len(every) <= MAX_PATTERNS else self.rng.sample(every, MAX_PATTERNS)

    def equal(self, left: Basic, right: Basic) -> tuple[bool, str]:
        symbols = sorted((s for s in (left.free_symbols | right.free_symbols) if s.is_integer and s not in (CLASSES, INPUTS)), key=str)
        for classes, inputs in self.sizes:
            for indices in self.patterns(symbols, classes, inputs):
                for _ in range(POINTS):
                    values = self.point(classes, inputs)
                    a = self.value(left, classes, inputs, indices, values)
                    b = self.value(right, classes, inputs, indices, values)
                    if not _agree(a, b):
                        where = ", ".join(f"{s}={v}" for s, v in indices.items())
                        return False, f"H={classes}, D={inputs}{', ' + where if where else ''}: {a} != {b}"
        return True, ""

    # -- steps ---------------------------------------------------------------------------
    def step(self, step: Step) -> Step:
        substeps = tuple(self.step(sub) for sub in step.substeps)
        for left, right in [(step.before, step.after)] + ([step.focus] if step.focus else []):
            ok, detail = self.equal(left, right)
            if not ok:
                raise NetworkCertificationError(f"step '{step.rule.title}' failed certification ({detail})")
        return step.certify(substeps, self.certificate(step))

    def certificate(self, step: Step) -> Certificate:
        left, right = step.focus if step.focus is not None else (step.before, step.after)
        total = assumed_total(step.assumptions)
        for proof in (self.output_layer_proof, self.layer_proof, self.chain_rule_proof):
            reason = proof(left, right, total)
            if reason is None:
                return Certificate("proof")
        return Certificate("tested", "no proof found: the proof kernel covers the output layer, the linear "
                                     "layer's derivative and the chain rule through the layer, and this is none of them")

    def output_layer_proof(self, left: Basic, right: Basic, total) -> str | None:
        network = {WEIGHT, BIAS, NETWORK_INPUT}
        for derivative in (left.atoms(Derivative) | right.atoms(Derivative)):
            variable = derivative.variables[0]
            inside = {n.base for n in derivative.expr.atoms(Indexed)}
            if getattr(variable, "base", None) in network or inside & ({INPUT} | network):
                return "a derivative through the linear layer"
        output_definitions = self.trail.output.definitions
        left, right = left.xreplace({LOSS: self.loss(left)}), right.xreplace({LOSS: self.loss(right)})
        return attempt(left, right, output_definitions, total, self.memo)[0]

    def layer_proof(self, left: Basic, right: Basic, total) -> str | None:
        """``∂Z_i/∂p = v``: ``sympy.diff`` of the definition, its conditions decided from the index ranges."""
        if not isinstance(left, Derivative) or not isinstance(left.expr, Indexed) or left.expr.base != INPUT:
            return "not the layer's derivative"
        layer = next(eq for eq in self.trail.definitions if eq.lhs.base == INPUT)
        unit = left.expr
        body = layer.rhs.xreplace({layer.lhs.indices[0]: unit.indices[0]})
        taken = set(left.variables[0].free_symbols) | set(unit.free_symbols)
        body = body.xreplace({bound: fresh_index(taken | {bound}) for bound in bound_indices(body) if bound in taken})
        value = diff(body, left.variables[0]).doit()
        value = value.replace(lambda n: isinstance(n, Piecewise), self.decided)
        if value.has(Piecewise):
            return "a condition on the indices that the ranges do not decide"
        return None if expand(value - right) == 0 else "the difference is not 0"

    def decided(self, piecewise: Piecewise) -> Basic:
        for expr, condition in piecewise.args:
            known = self.known(condition)
            if known is True:
                return expr
            if known is None:
                return piecewise
        return piecewise

    def known(self, condition: Basic) -> bool | None:
        """A condition on the indices, decided from their ranges (``1 ≤ j ≤ D``); ``None`` when it is not."""
        if condition == true:
            return True
        parts = condition.args if isinstance(condition, And) else (condition,)
        facts = []
        for part in parts:
            small, large = (part.lts, part.gts) if hasattr(part, "lts") else (None, None)
            facts.append(small is not None and (self.ranges.get(small) == large or (small == 1 and large in self.ranges)))
        return True if all(facts) else None

    def chain_rule_proof(self, left: Basic, right: Basic, total) -> str | None:
        """``∂E/∂p = Σ_i ∂E/∂Z_i ∂Z_i/∂p`` over every unit of ``Z``, ``E`` reaching ``p`` only through ``Z``."""
        if not isinstance(left, Derivative) or not isinstance(right, Sum) or len(right.limits) != 1:
            return "not the chain rule through the layer"
        f, p = left.expr, left.variables[0]
        index, lower, upper = right.limits[0]
        factors = Mul.make_args(right.function)
        outer = [x for x in factors if isinstance(x, Derivative) and x.expr == f]
        inner = [x for x in factors if isinstance(x, Derivative) and x.variables[0] == p]
        if len(factors) != 2 or len(outer) != 1 or len(inner) != 1:
            return "not the chain rule through the layer"
        unit = outer[0].variables[0]
        if inner[0].expr != unit or not isinstance(unit, Indexed) or unit.indices != (index,) or lower != 1:
            return "not the chain rule through the layer"
        if unit.base != INPUT or upper != (self.trail.classes or CLASSES) or index in p.free_symbols:
            return "the sum does not run over every unit of the layer"
        if self.reaches_around(f, p.base, unit.base):
            return "the loss reaches the variable other than through the layer"
        return None

    def reaches_around(self, f: Basic, base, layer) -> bool:
        definitions = {eq.lhs.base: eq.rhs for eq in self.trail.definitions}
        pending, seen = [n.base for n in f.xreplace({LOSS: self.trail.loss}).atoms(Indexed)], set()
        while pending:
            current = pending.pop()
            if current == base:
                return True
            if current in seen or current == layer:
                continue
            seen.add(current)
            pending.extend(n.base for n in definitions.get(current, Add()).atoms(Indexed))
        return False

    # -- the result, the entries, the summary ----------------------------------------------------
    def chain(self) -> None:
        current = self.trail.start
        for step in self.trail.steps:
            if step.before != current:
                raise NetworkCertificationError(f"step '{step.rule.title}' does not start where the previous step ended")
            current = step.after
        if current != self.trail.result:
            raise NetworkCertificationError("the result is not where the last step ended")

    def result(self) -> None:
        truth = Derivative(self.trail.loss, self.trail.variable)
        ok, detail = self.equal(truth, self.trail.result)
        if not ok:
            raise NetworkCertificationError(f"the result disagrees with sympy.diff of the loss ({detail})")

    def entries(self) -> None:
        """Gradient entries against ``sympy.diff`` of the loss by that very weight, bias or input."""
        gradient = self.trail.gradient
        if gradient is None:
            return
        (classes, inputs), = self.sizes
        flat = [((m,), v) for m, v in enumerate(gradient, 1)] if not isinstance(gradient[0], tuple) else \
            [((m, n), v) for m, row in enumerate(gradient, 1) for n, v in enumerate(row, 1)]
        chosen = flat if len(flat) <= ENTRIES else [flat[0], flat[-1]] + self.rng.sample(flat[1:-1], ENTRIES - 2)
        base = self.trail.variable.base
        for where, entry in chosen:
            values = self.point(classes, inputs)
            truth = self.value(Derivative(self.trail.loss, base[where]), classes, inputs, {}, values)
            if not _agree(truth, self.value(entry, classes, inputs, {}, values)):
                raise NetworkCertificationError(f"gradient entry {where} disagrees with sympy.diff of the loss")

    def summary(self) -> None:
        """Each line of the matrix summary, entry by entry, against ``sympy.diff`` of the loss."""
        sizes = [(self.trail.classes or h, self.trail.inputs or d) for h, d in SUMMARY_SIZES]
        for classes, inputs in dict.fromkeys(sizes):
            if classes < self.trail.output.min_classes:
                continue
            values = self.point(classes, inputs)
            matrices = {
                "o": Matrix(classes, 1, lambda m, _: OUTPUT[m + 1]), "y": Matrix(classes, 1, lambda m, _: TARGET[m + 1]),
                "x": Matrix(inputs, 1, lambda d, _: NETWORK_INPUT[d + 1]), "b": Matrix(classes, 1, lambda m, _: BIAS[m + 1]),
                "W": Matrix(classes, inputs, lambda m, d: WEIGHT[m + 1, d + 1]),
                "g": Matrix(classes, 1, lambda m, _: GRADIENT[m + 1]),  # ∂E/∂Z_m, put in after ``doit``
            }
            by = {"z": lambda m, _: INPUT[m + 1], "W": lambda m, d: WEIGHT[m + 1, d + 1], "b": lambda m, _: BIAS[m + 1],
                  "x": lambda d, _: NETWORK_INPUT[d + 1]}
            for row in self.trail.summary:
                explicit = Matrix(row.value.xreplace({m: matrices[m.name] for m in row.value.atoms(MatrixSymbol)}).doit())
                every = list(product(range(explicit.shape[0]), range(explicit.shape[1])))
                for r, c in every if len(every) <= ENTRIES else self.rng.sample(every, ENTRIES):
                    truth = self.value(Derivative(self.trail.loss, by[row.name](r, c)), classes, inputs, {}, values)
                    entry = explicit[r, c].xreplace({g: Derivative(LOSS, INPUT[g.indices[0]]) for g in explicit[r, c].atoms(Indexed)
                                                     if g.base == GRADIENT})
                    claimed = self.value(entry, classes, inputs, {}, values)
                    if not _agree(truth, claimed):
                        raise NetworkCertificationError(f"the matrix summary's line for {row.name} disagrees with sympy.diff "
                                                        f"at entry ({r + 1}, {c + 1}), H={classes}, D={inputs}")


def sample_statement(certifier: NetworkCertifier) -> tuple[tuple[int, int], ...]:
    """The (H, D) the second line sampled."""
    return certifier.sizes


def certify_network(trail: NetworkTrail, seed: int = 20261204) -> NetworkTrail:
    """``trail`` with every step certified, or ``NetworkCertificationError``."""
    certifier = NetworkCertifier(trail, seed)
    certifier.chain()
    steps = tuple(certifier.step(step) for step in trail.steps)
    certifier.result()
    certifier.entries()
    certifier.summary()
    return replace(trail, steps=steps, sample_certificate=sample_statement(certifier))

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
    IndexedBase, Add, And, Basic, Derivative, Float, Indexed, Matrix, MatrixSymbol, Mul, Piecewise, Sum, Symbol, diff, expand, sympify, true,
)

from derive.certify.core import CertificationError
from derive.certify.dual import DualEvaluator, Unsupported
from derive.certify.numbers import PRECISION, agree_values as _agree
from derive.certify.points import World, constant_indices
from derive.certify.proof import attempt
from derive.certify.reference import ReferenceEvaluator
from derive.expressions import bound_indices, fresh_index
from derive.symbols import (
    BIAS, CLASSES, ERROR, HIDDEN, HIDDEN_BIAS, HIDDEN_WEIGHT, INPUT, INPUTS, LOSS, NETWORK_INPUT, OUTPUT, PREACTIVATION, TARGET,
    UNITS, WEIGHT,
)
from derive.trail import Certificate, NetworkTrail, Step, assumed_total

SIZES = ((1, 2, 2), (2, 1, 3), (3, 2, 1))  # (H, D, M) sampled when they are symbolic (H at least the pair's least)
POINTS = 2             # random points per size and index pattern
MAX_PATTERNS = 3       # index patterns per size (all of them up to this many, else a random choice)
ENTRIES = 12           # gradient entries compared with sympy.diff at concrete sizes (all when there are fewer)
SUMMARY_SIZES = ((3, 2, 2), (2, 3, 3))  # the matrix summary is compared entry by entry at these (H, D, M)
# The network's inputs are drawn on each scale in turn, either sign; on the larger one the weights and biases are
# drawn below 1.5 / (the largest size), so that Z stays where 50 digits still tell O from 1 (a saturated sigmoid is not a
# counterexample).
LEAF_SCALES = ((0.0, 1.5), (5.0, 8.0))
MOST_NAMED = 12        # a class or input number an equation names (k = 7) is sampled up to this one
GRADIENT = IndexedBase("g")  # ∇_Z E in the summary, when it is not O − y
DELTA = IndexedBase("delta")  # ∇_a E, the hidden layer's delta
LINEAR = (INPUT, PREACTIVATION)  # the linear layers: Z = W·(x or h) + b, a = V x + c


class NetworkCertificationError(CertificationError):
    """A step, the result, a gradient entry or a summary line failed its check."""


class NetworkCertifier:
    def __init__(self, trail: NetworkTrail, seed: int = 20261204):
        self.trail = trail
        self.rng = random.Random(seed)
        least = trail.output.min_classes
        given = {CLASSES: trail.classes, INPUTS: trail.inputs, UNITS: trail.units}
        hidden = trail.hidden is not None
        self.sizes = tuple(dict.fromkeys(
            tuple(given[s] or (max(v, least) if s == CLASSES else v) for s, v in zip((CLASSES, INPUTS, UNITS), triple))
            if hidden else (given[CLASSES] or max(triple[0], least), given[INPUTS] or triple[1], None)
            for triple in SIZES))
        self.shapes = dict(trail.shapes)
        self.memo: dict = {}
        self.evaluators: dict = {}
        self.written: dict = {}  # (expression, sizes, indices) -> written out, before the numbers go in
        self.current = None  # (the point's values, its forward-mode evaluator)

    # -- numbers -------------------------------------------------------------------------
    @staticmethod
    def named(sizes: tuple) -> dict:
        return {symbol: value for symbol, value in zip((CLASSES, INPUTS, UNITS), sizes) if value is not None}

    def evaluator(self, sizes: tuple) -> ReferenceEvaluator:
        if sizes not in self.evaluators:
            named = self.named(sizes)
            named.pop(CLASSES)
            self.evaluators[sizes] = ReferenceEvaluator(tuple(eq.xreplace(named) for eq in self.trail.definitions))
        return self.evaluators[sizes]

    def leaf(self, scale: tuple[float, float]) -> Float:
        return Float(self.rng.choice((-1, 1)) * self.rng.uniform(*scale), PRECISION)

    def point(self, sizes: tuple, scale: tuple[float, float] = LEAF_SCALES[0]) -> dict:
        uniform, named = self.rng.uniform, self.named(sizes)
        values = {}
        for base, shape in self.shapes.items():
            if base in (OUTPUT, TARGET, ERROR, INPUT, HIDDEN, PREACTIVATION):
                continue  # defined, or drawn below (the targets)
            lasts = [int(sympify(last).xreplace(named)) for last in shape]
            drawn = scale if base == NETWORK_INPUT or scale == LEAF_SCALES[0] else (0.0, 1.5 / max(named.values()))
            values |= {base[place]: self.leaf(drawn) for place in product(*(range(1, n + 1) for n in lasts))}
        classes = named[CLASSES]
        if self.trail.output.targets == "any":
            targets = [Float(uniform(-3.0, 3.0), PRECISION) for _ in range(classes)]
        else:
            weights = [Float(uniform(0.05, 1.0), PRECISION) for _ in range(classes)]
            targets = [w / Add(*weights) for w in weights]  # Σ y = 1, as the targets are declared (to 50 digits)
        return values | {TARGET[m]: value for m, value in enumerate(targets, start=1)}

    def ranges(self, *exprs: Basic) -> dict:
        """Each index's last value, from the quantities it indexes (``k`` in ``W_kj``: H, ``j``: D or M)."""
        found: dict = {}
        for expr in exprs:
            for node in sorted(expr.atoms(Indexed), key=str):
                for index, last in zip(node.indices, self.shapes.get(node.base, ())):
                    if index.is_Symbol:
                        found.setdefault(index, last)
        return found

    def loss(self, around: Basic) -> Basic:
        """What ``E`` stands for, its summation indices renamed apart from every index of ``around``."""
        taken = set(around.atoms(Symbol))  # every name, bound ones and a derivative's variable's indices too
        renames, loss = {}, self.trail.loss
        for bound in bound_indices(loss):
            renames[bound] = fresh_index(taken | set(renames.values()) | {bound})
        return loss.xreplace(renames)

    def value(self, expr: Basic, sizes: tuple, indices: dict, values: dict) -> Basic:
        """``expr`` at a point: by forward-mode differentiation (``derive.certify.dual``), or where that does not
        reach, by the plain method (written out once per size and index pattern, then the numbers put in)."""
        instance = expr.xreplace({LOSS: self.loss(expr)}).xreplace(self.named(sizes))
        try:
            return Float(str(self.dual(sizes, values).value(instance.xreplace(indices))), PRECISION)
        except Unsupported:
            pass
        key = (expr, sizes, tuple(indices.items()))
        if key not in self.written:
            evaluator, world = self.evaluator(sizes), World(sizes[0], indices, {})
            self.written[key] = evaluator.substitute(evaluator.concretize(instance.xreplace(indices), world), world)
        return self.written[key].xreplace(values).evalf(PRECISION)

    def dual(self, sizes: tuple, values: dict) -> DualEvaluator:
        """The forward-mode evaluator of this point (one is kept: the point being compared)."""
        if self.current is None or self.current[0] is not values:
            named = self.named(sizes)
            named.pop(CLASSES)
            definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs.xreplace(named).xreplace({CLASSES: sizes[0]}))
                           for eq in self.trail.definitions}
            self.current = (values, DualEvaluator(definitions, values))
        return self.current[1]

    def patterns(self, symbols: list, sizes: tuple, ranges: dict, numbers: tuple[int, ...] = ()) -> list[dict]:
        """Index patterns: every one up to ``MAX_PATTERNS``, else a random choice, and each index at every
        number an equation names (``δ_{k7}``) that its range holds."""
        named = self.named(sizes)
        choices = [range(1, int(sympify(ranges.get(s, CLASSES)).xreplace(named)) + 1) for s in symbols]
        every = [dict(zip(symbols, values)) for values in product(*choices)]
        chosen = every if len(every) <= MAX_PATTERNS else self.rng.sample(every, MAX_PATTERNS)
        at_named = [pattern | {symbol: number} for symbol, values in zip(symbols, choices) for number in numbers
                    if number in values for pattern in chosen[:1]]
        return chosen + [pattern for pattern in at_named if pattern not in chosen]

    def sizes_for(self, numbers: tuple[int, ...]) -> tuple:
        """The sampled sizes, and one large enough for the largest number an equation names (up to MOST_NAMED)."""
        reach = max((n for n in numbers if n <= MOST_NAMED), default=0)
        if any(all(v is None or v >= reach for v in sizes) for sizes in self.sizes):
            return self.sizes
        given = (self.trail.classes, self.trail.inputs, self.trail.units)
        return self.sizes + (tuple(None if v is None else (g or max(v, reach)) for v, g in zip(self.sizes[-1], given)),)

    def equal(self, left: Basic, right: Basic) -> tuple[bool, str]:
        free = left.free_symbols | right.free_symbols  # a derivative binds its variable: its indices are free all the same
        free |= {s for side in (left, right) for n in side.atoms(Derivative) for v in n.variables for s in v.free_symbols}
        free -= {s for side in (left, right) for s in bound_indices(side)}
        symbols = sorted((s for s in free if s.is_Symbol and s.is_integer and s not in (CLASSES, INPUTS, UNITS)), key=str)
        ranges = self.ranges(left, right)
        placeholders = sorted((s for s in free if s.is_Symbol and not s.is_integer and s != LOSS), key=str)  # a rule's u
        numbers = constant_indices(left, right)
        for sizes in self.sizes_for(numbers):
            for indices in self.patterns(symbols, sizes, ranges, numbers):
                for scale in LEAF_SCALES[:POINTS]:
                    values = self.point(sizes, scale) | {u: Float(self.rng.uniform(0.2, 0.9), PRECISION) for u in placeholders}
                    a, b = self.value(left, sizes, indices, values), self.value(right, sizes, indices, values)
                    if not _agree(a, b):
                        where = ", ".join(f"{s}={v}" for s, v in indices.items())
                        shown = ", ".join(f"{s}={v}" for s, v in self.named(sizes).items())
                        return False, f"{shown}{', ' + where if where else ''}: {a} != {b}"
        return True, ""

    # -- steps ---------------------------------------------------------------------------
    def step(self, step: Step) -> Step:
        substeps = tuple(self.step(sub) for sub in step.substeps)
        for left, right in [(step.before, step.after)] + ([step.focus] if step.focus else []):
            ok, detail = self.equal(left, right)
            if not ok:
                raise NetworkCertificationError(f"step '{step.rule.title}' failed certification ({detail})")
        return step.with_certificate(substeps, self.certificate(step))

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
        """The proof kernel, given every definition but the linear layers'; only for derivatives whose every
        path from function to variable avoids those layers (else the kernel would see a false 0)."""
        for derivative in (left.atoms(Derivative) | right.atoms(Derivative)):
            variable = derivative.variables[0]
            if not isinstance(variable, Indexed) or self.through_linear(derivative.expr, variable.base):
                return "a derivative through a linear layer"
        kept = tuple(eq for eq in self.trail.definitions if eq.lhs.base not in LINEAR)
        left, right = left.xreplace({LOSS: self.loss(left)}), right.xreplace({LOSS: self.loss(right)})
        return attempt(left, right, kept, total, self.memo)[0]

    def through_linear(self, f: Basic, target) -> bool:
        """Whether ``target`` is reached from ``f`` by a path that goes through a linear layer."""
        definitions = {eq.lhs.base: eq.rhs for eq in self.trail.definitions}
        pending = [(n.base, False) for n in f.xreplace({LOSS: self.trail.loss}).atoms(Indexed)]
        seen = set()
        while pending:
            base, passed = pending.pop()
            if base == target and passed:
                return True
            if (base, passed) in seen or base == target:
                continue
            seen.add((base, passed))
            onward = passed or base in LINEAR
            pending.extend((n.base, onward) for n in definitions.get(base, Add()).atoms(Indexed))
        return False

    def layer_proof(self, left: Basic, right: Basic, total) -> str | None:
        """``∂Z_i/∂p = v`` (or ``∂a_m/∂p``): ``sympy.diff`` of the definition, its conditions decided from the
        ranges of the indices."""
        if not isinstance(left, Derivative) or not isinstance(left.expr, Indexed) or left.expr.base not in LINEAR:
            return "not a linear layer's derivative"
        layer = next(eq for eq in self.trail.definitions if eq.lhs.base == left.expr.base)
        unit = left.expr
        body = layer.rhs.xreplace({layer.lhs.indices[0]: unit.indices[0]})
        taken = set(left.variables[0].free_symbols) | set(unit.free_symbols)
        body = body.xreplace({bound: fresh_index(taken | {bound}) for bound in bound_indices(body) if bound in taken})
        value = diff(body, left.variables[0]).doit()
        ranges = self.ranges(left, right)
        value = value.replace(lambda n: isinstance(n, Piecewise), lambda n: decided(n, ranges))
        if value.has(Piecewise):
            return "a condition on the indices that the ranges do not decide"
        return None if expand(value - right) == 0 else "the difference is not 0"

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
        if upper != self.shapes.get(unit.base, (None,))[0] or index in p.free_symbols:
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
        sizes, = self.sizes
        flat = [((m,), v) for m, v in enumerate(gradient, 1)] if not isinstance(gradient[0], tuple) else \
            [((m, n), v) for m, row in enumerate(gradient, 1) for n, v in enumerate(row, 1)]
        chosen = flat if len(flat) <= ENTRIES else [flat[0], flat[-1]] + self.rng.sample(flat[1:-1], ENTRIES - 2)
        base = self.trail.variable.base
        for where, entry in chosen:
            values = self.point(sizes)
            truth = self.value(Derivative(self.trail.loss, base[where]), sizes, {}, values)
            if not _agree(truth, self.value(entry, sizes, {}, values)):
                raise NetworkCertificationError(f"gradient entry {where} disagrees with sympy.diff of the loss")

    def summary(self) -> None:
        """Each line of the matrix summary, entry by entry, against ``sympy.diff`` of the loss."""
        hidden = self.trail.hidden is not None
        wanted = [(self.trail.classes or h, self.trail.inputs or d, (self.trail.units or m) if hidden else None)
                  for h, d, m in SUMMARY_SIZES]
        for sizes in dict.fromkeys(wanted):
            if sizes[0] < self.trail.output.min_classes:
                continue
            self.summary_at(sizes)

    def summary_at(self, sizes: tuple) -> None:
        classes, inputs, units = sizes
        columns = inputs if units is None else units
        values = self.point(sizes)
        vector = {"o": OUTPUT, "y": TARGET, "b": BIAS, "g": GRADIENT, "h": HIDDEN, "delta": DELTA, "x": NETWORK_INPUT}
        lengths = {"o": classes, "y": classes, "b": classes, "g": classes, "h": units, "delta": units, "x": inputs}
        matrices = {name: Matrix(lengths[name], 1, lambda m, _, base=base: base[m + 1]) for name, base in vector.items()
                    if lengths[name] is not None}
        matrices["W"] = Matrix(classes, columns, lambda m, d: WEIGHT[m + 1, d + 1])
        if units is not None:
            matrices["V"] = Matrix(units, inputs, lambda m, d: HIDDEN_WEIGHT[m + 1, d + 1])
        by = {"z": INPUT, "W": WEIGHT, "b": BIAS, "x": NETWORK_INPUT, "h": HIDDEN, "V": HIDDEN_WEIGHT, "c": HIDDEN_BIAS}
        stand_for = {GRADIENT: INPUT, DELTA: PREACTIVATION}  # g_m = ∂E/∂Z_m, δ_m = ∂E/∂a_m, put in after ``doit``
        for row in self.trail.summary:
            explicit = Matrix(row.value.xreplace({m: matrices[m.name] for m in row.value.atoms(MatrixSymbol)}).doit())
            every = list(product(range(explicit.shape[0]), range(explicit.shape[1])))
            for r, c in every if len(every) <= ENTRIES else self.rng.sample(every, ENTRIES):
                place = (r + 1, c + 1) if explicit.shape[1] > 1 else (r + 1,)
                truth = self.value(Derivative(self.trail.loss, by[row.name][place]), sizes, {}, values)
                entry = explicit[r, c].xreplace({n: Derivative(LOSS, stand_for[n.base][n.indices[0]])
                                                 for n in explicit[r, c].atoms(Indexed) if n.base in stand_for})
                if not _agree(truth, self.value(entry, sizes, {}, values)):
                    raise NetworkCertificationError(f"the matrix summary's line for {row.name} disagrees with sympy.diff "
                                                    f"at entry {place}, H={classes}, D={inputs}")


def sample_statement(certifier: NetworkCertifier) -> tuple[tuple[int, int, int | None], ...]:
    """The (H, D, M) the second line sampled (M is None without a hidden layer)."""
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


def decided(piecewise: Piecewise, ranges: dict) -> Basic:
    """The branch of ``piecewise`` its conditions choose, decided from the indices' ranges; itself when undecided."""
    for expr, condition in piecewise.args:
        known = holds(condition, ranges)
        if known is True:
            return expr
        if known is None:
            return piecewise
    return piecewise


def holds(condition: Basic, ranges: dict) -> bool | None:
    """A condition on the indices, decided from their ranges (``1 ≤ j ≤ D``); ``None`` when it is not."""
    if condition == true:
        return True
    parts = condition.args if isinstance(condition, And) else (condition,)
    facts = []
    for part in parts:
        small, large = (part.lts, part.gts) if hasattr(part, "lts") else (None, None)
        facts.append(small is not None and (ranges.get(small) == large or (small == 1 and large in ranges)))
    return True if all(facts) else None

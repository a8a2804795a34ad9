"""Independent certification of every step.

Nothing here uses the rules.  A step ``before -> after`` is instantiated at
several concrete class counts H, at every pattern of equal and unequal free
indices, and at random points; unevaluated derivatives are evaluated with
``sympy.diff`` (with respect to an intermediate such as ``O_i`` *before* its
definition is substituted); both sides are then compared at 50 significant
digits.  The final result is compared with ``sympy.diff`` of the loss itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from itertools import product

from sympy import Basic, Derivative, Eq, Float, Indexed, Sum, Symbol, UnevaluatedExpr, diff

from derive.sums import SumExcept
from derive.symbols import CLASSES, FREE_INDEX, INPUT, TARGET
from derive.trail import Step, Trail

PRECISION = 50
TOLERANCE = Float(10) ** -(PRECISION - 12)
CHECK_CLASSES = (1, 2, 3, 5)
POINTS = 2
MAX_INDEX_PATTERNS = 6


class CertificationError(Exception):
    """A step (or the result) failed its independent check: an engine bug, never to be printed as proven."""


@dataclass(frozen=True)
class World:
    """A concrete instance: H, values for free indices, values for every leaf variable."""

    classes: int
    indices: dict
    values: dict


class Evaluator:
    """Evaluates trail expressions numerically in a ``World``, given the trail's definitions."""

    def __init__(self, definitions: tuple[Eq, ...]):
        self.definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}

    # -- symbolic instantiation ---------------------------------------------------------
    def concretize(self, expr: Basic, world: World) -> Basic:
        """Expand sums, open holds and take every derivative, at concrete H and indices."""
        if isinstance(expr, (Sum, SumExcept)):
            function, (index, lower, upper) = expr.args[0], expr.args[1]
            lower, upper = int(lower), int(upper)
            skip = int(expr.excluded) if isinstance(expr, SumExcept) else None
            terms = [self.concretize(function.xreplace({index: value}), world) for value in range(lower, upper + 1) if value != skip]
            return sum(terms, Float(0)) if terms else Float(0)
        if isinstance(expr, UnevaluatedExpr):
            return self.concretize(expr.args[0], world)
        if isinstance(expr, Derivative):
            (variable, count), = expr.variable_count
            inner = self.concretize(expr.expr, world)
            keep = variable.base if isinstance(variable, Indexed) and variable.base in self.definitions else None
            return diff(self.substitute(inner, world, keep=keep), variable, count)
        if not expr.args:
            return expr
        return expr.func(*[self.concretize(arg, world) for arg in expr.args])

    def substitute(self, expr: Basic, world: World, keep=None) -> Basic:
        """Write every defined quantity out in its ingredients, except ``keep``."""
        for _ in range(len(self.definitions) + 1):
            replacements = {
                node: self.concretize(self._body(node, world), world)
                for node in expr.atoms(Indexed)
                if node.base in self.definitions and node.base != keep
            }
            if not replacements:
                return expr
            expr = expr.xreplace(replacements)
        return expr

    def _body(self, node: Indexed, world: World) -> Basic:
        index, body = self.definitions[node.base]
        return body.xreplace({CLASSES: world.classes, index: node.indices[0]})

    # -- numbers ---------------------------------------------------------------------------
    def value(self, expr: Basic, world: World) -> Basic:
        instance = expr.xreplace({CLASSES: world.classes, **world.indices})
        concrete = self.substitute(self.concretize(instance, world), world)
        numeric = concrete.xreplace(world.values)
        leftover = numeric.free_symbols
        if leftover:
            numeric = numeric.xreplace({symbol: world.values.get(symbol, Float("0.37", PRECISION)) for symbol in leftover})
        return numeric.evalf(PRECISION)


def _index_symbols(*exprs: Basic) -> list[Symbol]:
    free = set().union(*(expr.free_symbols for expr in exprs))
    return sorted((s for s in free if isinstance(s, Symbol) and s.is_integer and s != CLASSES), key=str)


def _placeholders(*exprs: Basic) -> list[Symbol]:
    free = set().union(*(expr.free_symbols for expr in exprs))
    return sorted((s for s in free if isinstance(s, Symbol) and not s.is_integer and s != CLASSES), key=str)


def _index_assignments(symbols: list[Symbol], classes: int, rng: random.Random) -> list[dict]:
    """Every assignment for tiny H, otherwise a spread including all-equal and all-distinct patterns."""
    every = [dict(zip(symbols, values)) for values in product(range(1, classes + 1), repeat=len(symbols))]
    if len(every) <= MAX_INDEX_PATTERNS:
        return every
    chosen = [dict.fromkeys(symbols, 1), dict.fromkeys(symbols, classes)]
    if classes >= len(symbols):
        chosen.append(dict(zip(symbols, rng.sample(range(1, classes + 1), len(symbols)))))
    while len(chosen) < MAX_INDEX_PATTERNS:
        chosen.append(dict(zip(symbols, (rng.randint(1, classes) for _ in symbols))))
    return chosen


def target_total(assumptions) -> Basic | None:
    """The total ``c`` of an assumption ``Σ_i y_i = c`` among ``assumptions``, if there is one."""
    for assumption in assumptions:
        statement = assumption.statement
        if isinstance(statement, Eq) and isinstance(statement.lhs, Sum):
            return statement.rhs
    return None


def _random_values(classes: int, total: Basic | None, placeholders: list[Symbol], rng: random.Random) -> dict:
    """Random inputs and targets; targets are scaled to sum to ``total`` when a step relies on that."""
    def number(low: float, high: float) -> Float:
        return Float(rng.uniform(low, high), PRECISION)

    values = {INPUT[m]: number(-2, 2) for m in range(1, classes + 1)}
    weights = [number(0.05, 1) for _ in range(classes)]
    scale = 1 if total is None else Float(total, PRECISION) / sum(weights)
    values.update({TARGET[m]: weights[m - 1] * scale for m in range(1, classes + 1)})
    values.update({symbol: number(0.2, 0.9) for symbol in placeholders})
    return values


def _agree(a: Basic, b: Basic) -> bool:
    if not (a.is_number and b.is_number):
        return False
    scale = max(1, abs(a), abs(b))
    return bool(abs(a - b) <= TOLERANCE * scale)


class Certifier:
    def __init__(self, trail: Trail, seed: int = 20261123):
        self.trail = trail
        self.evaluator = Evaluator(trail.definitions)
        self.rng = random.Random(seed)
        sizes = CHECK_CLASSES if trail.classes is None else (trail.classes,)
        self.sizes = tuple(h for h in sizes if h >= trail.min_classes)

    def equal(self, before: Basic, after: Basic, total: Basic | None) -> tuple[bool, str]:
        for classes in self.sizes:
            symbols = _index_symbols(before, after)
            for indices in _index_assignments(symbols, classes, self.rng):
                for _ in range(POINTS):
                    world = World(classes, indices, _random_values(classes, total, _placeholders(before, after), self.rng))
                    left, right = self.evaluator.value(before, world), self.evaluator.value(after, world)
                    if not _agree(left, right):
                        where = ", ".join(f"{s}={v}" for s, v in indices.items())
                        return False, f"H={classes}{', ' + where if where else ''}: {left} != {right}"
        return True, ""

    def step(self, step: Step) -> Step:
        substeps = tuple(self.step(sub) for sub in step.substeps)
        ok, detail = self.equal(step.before, step.after, target_total(step.assumptions))
        if not ok:
            raise CertificationError(f"step '{step.rule.title}' failed certification ({detail})")
        return step.certify(substeps)

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
        ok, detail = self.equal(truth, self.trail.result, target_total(self.trail.assumptions))
        if not ok:
            raise CertificationError(f"the result disagrees with sympy.diff of the loss ({detail})")
        for k, component in enumerate(self.trail.gradient or (), start=1):
            fixed = truth.xreplace({FREE_INDEX: k})
            ok, detail = self.equal(fixed, component, target_total(self.trail.assumptions))
            if not ok:
                raise CertificationError(f"gradient component {k} disagrees with sympy.diff ({detail})")


def certify(trail: Trail, seed: int = 20261123) -> Trail:
    """Return ``trail`` with every step marked certified, or raise ``CertificationError``."""
    certifier = Certifier(trail, seed)
    certifier.chain()
    steps = tuple(certifier.step(step) for step in trail.steps)
    certifier.result()
    return replace(trail, steps=steps)

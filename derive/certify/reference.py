"""The plain method: sums expanded, definitions substituted, ``sympy.diff`` of the whole, ``evalf``."""

from __future__ import annotations

from sympy import Add, Basic, Derivative, Eq, Float, Indexed, Sum, UnevaluatedExpr, diff

from derive.certify.numbers import PRECISION
from derive.certify.points import World
from derive.sums import SumExcept
from derive.symbols import CLASSES


class ReferenceEvaluator:
    """The original method: write everything out symbolically, then put the numbers in.

    Slow (the expressions grow with H), but short enough to read at a glance.
    ``Evaluator`` falls back on it for what its fast path does not cover, and the
    tests use it as the oracle for the fast path.
    """

    def __init__(self, definitions: tuple[Eq, ...]):
        self.definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}

    # -- symbolic instantiation ---------------------------------------------------------
    def concretize(self, expr: Basic, world: World) -> Basic:
        """Expand sums, open holds and take every derivative, at concrete H and indices."""
        if isinstance(expr, Sum) and len(expr.limits) > 1:  # Σ_i Σ_j f: the outermost limit, then the rest
            (index, lower, upper), inner = expr.limits[-1], Sum(expr.function, *expr.limits[:-1])
            return Add(*[self.concretize(inner.xreplace({index: value}), world) for value in range(int(lower), int(upper) + 1)])
        if isinstance(expr, (Sum, SumExcept)):
            function, (index, lower, upper) = expr.args[0], expr.args[1]
            lower, upper = int(lower), int(upper)
            skip = int(expr.excluded) if isinstance(expr, SumExcept) else None
            terms = [self.concretize(function.xreplace({index: value}), world) for value in range(lower, upper + 1) if value != skip]
            return Add(*terms)  # exact: a 15-digit Float(0) start would round sums of integers (1/Σ_j 1)
        if isinstance(expr, UnevaluatedExpr):
            return self.concretize(expr.args[0], world)
        if isinstance(expr, Derivative):  # ∂²f/∂x∂w: by x first, then by w
            inner = self.concretize(expr.expr, world)
            for variable, count in expr.variable_count:
                keep = variable.base if isinstance(variable, Indexed) and variable.base in self.definitions else None
                inner = diff(self.substitute(inner, world, keep=keep), variable, count)
            return inner
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
        values = world.values if isinstance(world.values, dict) else dict(world.values.items())
        numeric = concrete.xreplace(values)
        leftover = numeric.free_symbols
        if leftover:
            numeric = numeric.xreplace({symbol: _leaf(world.values, symbol) for symbol in leftover})
        return numeric.evalf(PRECISION)


def _leaf(values, symbol) -> Basic:
    """The point's value of a leaf the items did not list (``L_n``), or 0.37 for what it has none of."""
    try:
        return values[symbol]
    except KeyError:
        return Float("0.37", PRECISION)

"""Values and first derivatives of expressions at a point, by forward-mode differentiation (dual numbers).

The plain method (``ReferenceEvaluator``) writes everything out and calls ``sympy.diff`` on the whole; at
H = M = D = 20 one such derivative takes a minute.  Here an expression is walked once per point: a defined
quantity (``O_i``, ``Z_i``, ``h_m``) is computed from its definition, once, and remembered, and a derivative
``∂f/∂w`` is the dual part of ``f`` with ``w`` seeded: ``w`` itself carries 1, a quantity whose definition
reaches ``w`` carries what its body carries, and everything else 0.  Each elementary function has its own
derivative below; nothing here knows a rule of the engine.  What it does not cover (a derivative inside a
derivative, a symbolic bound) raises ``Unsupported``, and the caller falls back on the plain method.
"""

from __future__ import annotations

import mpmath
from sympy import (
    Add, Derivative, Eq, Float, Indexed, Integer, KroneckerDelta, Mul, Piecewise, Pow, Rational, Sum, Symbol, UnevaluatedExpr,
    cosh, exp, log, sinh, tanh,
)
from sympy.logic.boolalg import BooleanTrue

from derive.sums import SumExcept

DIGITS = 50


class Unsupported(Exception):
    """An expression this evaluator does not cover."""


class DualEvaluator:
    """``value(expr, values)`` at one point: ``values`` maps leaves (``x_d``, ``W_kd``, ``y_k``, a placeholder) to
    numbers; ``definitions`` maps a base to ``(index, body)``."""

    def __init__(self, definitions: dict, values: dict):
        self.mp = mpmath.MPContext()
        self.mp.dps = DIGITS
        self.definitions = definitions
        self.values = {key: self.mp.mpf(str(value)) if not isinstance(value, Rational) else self.mp.mpf(value.p) / value.q
                       for key, value in values.items()}
        self.memo: dict = {}
        self.reach: dict = {}

    def value(self, expr) -> mpmath.mpf:
        return self.dual(expr, None)[0]

    def reaches(self, base, target) -> bool:
        """Whether ``base``'s definition reaches ``target``'s base (so a change in ``target`` changes it)."""
        key = (base, target)
        if key not in self.reach:
            pending, seen, found = [base], set(), False
            while pending and not found:
                current = pending.pop()
                if current in seen or current not in self.definitions:
                    continue
                seen.add(current)
                bases = {n.base for n in self.definitions[current][1].atoms(Indexed)}
                found = target in bases
                pending.extend(bases)
            self.reach[key] = found
        return self.reach[key]

    def dual(self, expr, seed) -> tuple:
        """``(value, ∂value/∂seed)``; ``seed`` is an ``Indexed`` with numbers for indices, or None."""
        key = (expr, seed)
        if key not in self.memo:
            self.memo[key] = self._dual(expr, seed)
        return self.memo[key]

    def _dual(self, expr, seed) -> tuple:
        mp, zero = self.mp, self.mp.zero
        if isinstance(expr, (Integer, Rational)):
            return mp.mpf(expr.p) / expr.q, zero
        if isinstance(expr, Float):
            return mp.mpf(str(expr)), zero
        if isinstance(expr, Indexed):
            return self._indexed(expr, seed)
        if isinstance(expr, Symbol):
            if expr not in self.values:
                raise Unsupported(f"no value for {expr}")
            return self.values[expr], (mp.one if expr == seed else zero)
        if isinstance(expr, Add):
            parts = [self.dual(arg, seed) for arg in expr.args]
            return mp.fsum(p[0] for p in parts), mp.fsum(p[1] for p in parts)
        if isinstance(expr, Mul):
            value, slope = mp.one, zero
            for arg in expr.args:
                a, da = self.dual(arg, seed)
                value, slope = value * a, slope * a + value * da
            return value, slope
        if isinstance(expr, Pow):
            (a, da), (p, dp) = self.dual(expr.base, seed), self.dual(expr.exp, seed)
            value = mp.power(a, p)
            slope = p * mp.power(a, p - 1) * da if dp == 0 else value * (dp * mp.log(a) + p * da / a)
            return value, slope
        if isinstance(expr, (exp, log, tanh, sinh, cosh)):
            a, da = self.dual(expr.args[0], seed)
            table = {exp: (mp.exp, mp.exp), log: (mp.log, lambda u: 1 / u), tanh: (mp.tanh, lambda u: 1 - mp.tanh(u) ** 2),
                     sinh: (mp.sinh, mp.cosh), cosh: (mp.cosh, mp.sinh)}
            function, derivative = table[type(expr)]
            return function(a), derivative(a) * da
        if isinstance(expr, UnevaluatedExpr):
            return self.dual(expr.args[0], seed)
        if isinstance(expr, KroneckerDelta):
            a, b = expr.args
            if not (a.is_Integer and b.is_Integer):
                raise Unsupported(f"an index left in {expr}")
            return (mp.one if a == b else zero), zero
        if isinstance(expr, (Sum, SumExcept)):
            return self._sum(expr, seed)
        if isinstance(expr, Piecewise):
            for branch, condition in expr.args:
                if isinstance(condition, BooleanTrue) or (isinstance(condition, Eq) and condition.lhs == condition.rhs):
                    return self.dual(branch, seed)
                if isinstance(condition, Eq) and condition.lhs.is_Integer and condition.rhs.is_Integer:
                    continue
                raise Unsupported(f"a condition {condition}")
            raise Unsupported("no branch holds")
        if isinstance(expr, Derivative):
            if seed is not None or len(expr.variables) != 1:
                raise Unsupported("a derivative inside a derivative")
            variable = expr.variables[0]
            if not isinstance(variable, (Indexed, Symbol)):
                raise Unsupported(f"a derivative by {variable}")
            return self.dual(expr.expr, variable)[1], zero
        raise Unsupported(f"{type(expr).__name__}")

    def _indexed(self, node: Indexed, seed) -> tuple:
        if not all(index.is_Integer for index in node.indices):
            raise Unsupported(f"an index left in {node}")
        if node == seed:
            return self.dual(node, None)[0], self.mp.one
        if node.base in self.definitions:
            index, body = self.definitions[node.base]
            value = self.dual(body.xreplace({index: node.indices[0]}), None)[0] if seed is None else None
            if seed is not None and isinstance(seed, Indexed) and self.reaches(node.base, seed.base):
                return self.dual(body.xreplace({index: node.indices[0]}), seed)
            return (value if value is not None else self.dual(node, None)[0]), self.mp.zero
        if node not in self.values:
            raise Unsupported(f"no value for {node}")
        return self.values[node], self.mp.zero

    def _sum(self, expr, seed) -> tuple:
        function, (index, lower, upper) = expr.args[0], expr.args[1]
        if not (lower.is_Integer and upper.is_Integer):
            raise Unsupported("a sum with a symbolic bound")
        skip = expr.excluded if isinstance(expr, SumExcept) else None
        if skip is not None and not skip.is_Integer:
            raise Unsupported("an excluded index left")
        parts = [self.dual(function.xreplace({index: v}), seed) for v in range(int(lower), int(upper) + 1) if v != skip]
        return self.mp.fsum(p[0] for p in parts), self.mp.fsum(p[1] for p in parts)

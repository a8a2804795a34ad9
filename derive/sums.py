"""``SumExcept``: a sum over an index range that leaves out one index value.

SymPy's ``Sum`` cannot say "sum over i from 1 to H, i != k".  The index split
needs exactly that, so it gets a small expression class of its own::

    SumExcept(f(i), (i, 1, H), k)  ==  Sum(f(i), (i, 1, H)) - f(k)   for 1 <= k <= H

It never evaluates itself: the certifier expands it at concrete H.
"""

from __future__ import annotations

from sympy import Add, Expr, Tuple
from sympy.core.sympify import _sympify  # strict: never parses strings


class SumExcept(Expr):
    """Sum of ``function`` over ``index`` in [lower, upper], skipping ``index == excluded``."""

    is_commutative = True

    def __new__(cls, function, limits, excluded):
        index, lower, upper = limits
        return Expr.__new__(cls, _sympify(function), Tuple(index, lower, upper), _sympify(excluded))

    @property
    def function(self) -> Expr:
        return self.args[0]

    @property
    def index(self):
        return self.args[1][0]

    @property
    def lower(self):
        return self.args[1][1]

    @property
    def upper(self):
        return self.args[1][2]

    @property
    def excluded(self):
        return self.args[2]

    @property
    def free_symbols(self):
        inner = {s for s in self.function.free_symbols if self.index not in s.free_symbols}
        return inner | self.lower.free_symbols | self.upper.free_symbols | self.excluded.free_symbols

    def doit(self, **hints):
        """The explicit sum, once the bounds and the excluded index are numbers."""
        bounds = (self.lower, self.upper, self.excluded)
        if not all(b.is_Integer for b in bounds):
            return self
        function = self.function.doit(**hints) if hints.get("deep", True) else self.function
        return Add(*(function.xreplace({self.index: v}) for v in range(int(self.lower), int(self.upper) + 1) if v != self.excluded))

    def _eval_subs(self, old, new):
        if old == self.index:
            return self
        return None

    def _hashable_content(self):
        return self.args

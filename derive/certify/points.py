"""Random points: the values of free indices, leaf values, and the ``World`` they make."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product

from mpmath.libmp import from_float, fzero, mpf_add, mpf_div, mpf_mul, to_float
from sympy import Add, Basic, Derivative, Eq, Float, Indexed, Mul, Pow, Sum, Symbol, exp, log

from derive.certify.arithmetic import MPF
from derive.certify.numbers import _BITS, _MPMATH, _RN, _UNSUPPORTED, PRECISION
from derive.context import bound_indices, fresh_index
from derive.sums import SumExcept
from derive.symbols import CLASSES, INPUT, TARGET

MAX_INDEX_PATTERNS = 6


@dataclass(frozen=True)
class World:
    """A concrete instance: H, values for free indices, values for every leaf variable."""

    classes: int
    indices: dict
    values: Mapping
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # evaluator -> values computed here


_LEAVES = {INPUT: "input", TARGET: "target"}


def leaf_token(base):
    """What a leaf's base is looked up by at a point: ``"input"``, ``"target"`` (strings hash
    without calling back into SymPy), or the base itself for anything else."""
    return _LEAVES.get(base, base)


class _RandomValues(Mapping):
    """The leaf values of one random point, drawn exactly as before; each number is made on first use."""

    def __init__(self, classes: int, total, placeholders: list[Symbol], rng: random.Random):
        uniform, draw = rng.uniform, rng.random  # uniform(a, b) is a + (b - a) * random(): the same draws, inlined
        self.classes = classes
        self._inputs = [-2 + 4 * draw() for _ in range(classes)]
        self._weights = [0.05 + (1 - 0.05) * draw() for _ in range(classes)]
        self._total = total  # None (targets are the weights) or an mpf the targets are scaled to sum to
        self._scale = None
        self._placeholders = {symbol: from_float(uniform(0.2, 0.9)) for symbol in placeholders}
        self._made: dict = {}
        self._float_scale = None

    def source(self, numbers) -> tuple:
        """``(leaf, symbol)`` giving this point's values in ``numbers``' arithmetic."""
        if numbers is MPF:
            return self.leaf, self.symbol
        return self.float_leaf, self.float_symbol

    def leaf(self, base, index):
        key = (base, index)
        value = self._made.get(key, _UNSUPPORTED)
        if value is _UNSUPPORTED:
            value = self._made[key] = self._make(base, index)
        return value

    def _make(self, base, index):
        kind = base if type(base) is str else _LEAVES.get(base)
        if kind is None or type(index) is not int or not 1 <= index <= self.classes:
            return None
        if kind == "input":
            return from_float(self._inputs[index - 1])
        weight = from_float(self._weights[index - 1])
        if self._total is None:
            return weight
        if self._scale is None:
            weights = fzero
            for other in self._weights:
                weights = mpf_add(weights, from_float(other), _BITS, _RN)
            self._scale = mpf_div(self._total, weights, _BITS, _RN)
        return mpf_mul(weight, self._scale, _BITS, _RN)

    def symbol(self, symbol):
        return self._placeholders.get(symbol)

    def float_leaf(self, base, index):
        """``leaf`` as a machine float: the same point to 53 bits (the draws are floats already)."""
        kind = base if type(base) is str else _LEAVES.get(base)
        if kind is None or type(index) is not int or not 1 <= index <= self.classes:
            return None
        if kind == "input":
            return self._inputs[index - 1]
        weight = self._weights[index - 1]
        if self._total is None:
            return weight
        if self._float_scale is None:
            self._float_scale = to_float(self._total) / math.fsum(self._weights)
        return weight * self._float_scale

    def float_symbol(self, symbol):
        value = self._placeholders.get(symbol)
        return None if value is None else to_float(value)

    # Mapping: the same dict of SymPy Floats as before, for the reference method
    def _keys(self):
        yield from (INPUT[m] for m in range(1, self.classes + 1))
        yield from (TARGET[m] for m in range(1, self.classes + 1))
        yield from self._placeholders

    def __iter__(self):
        return self._keys()

    def __len__(self):
        return 2 * self.classes + len(self._placeholders)

    def __getitem__(self, key):
        if isinstance(key, Indexed) and len(key.indices) == 1 and key.indices[0].is_Integer:
            value = self.leaf(key.base, int(key.indices[0]))
        elif isinstance(key, Symbol):
            value = self._placeholders.get(key)
        else:
            value = None
        if value is None:
            raise KeyError(key)
        return Float._new(value, _BITS)


def _free(expr: Basic) -> set:
    """Free symbols, including those only a derivative's variable carries.

    SymPy's ``Derivative.free_symbols`` leaves the variable out, so the ``k`` of
    ``∂f/∂z_k`` would never get a value and both sides would be derivatives at
    no class at all (zero): a wrong step could pass.  Indices bound by a sum
    stay out.
    """
    variables = {s for node in expr.atoms(Derivative) for v, _ in node.variable_count for s in v.free_symbols}
    return expr.free_symbols | (variables - set(bound_indices(expr)))


def _unclash(expr: Basic, free: list[Symbol]) -> Basic:
    """Rename summation indices that share a name with a free index, so assigning the free one
    a class number cannot reach into the sum (``z_i Σ_i z_i`` becomes ``z_i Σ_j z_j``)."""
    from sympy import Sum

    clashes = set(free)
    renamed = {}
    for node in sorted(expr.atoms(Sum, SumExcept), key=str):
        index = node.index if isinstance(node, SumExcept) else node.limits[0][0]
        if index in clashes:
            new = fresh_index(clashes | _free(expr) | set(bound_indices(expr)))
            clashes.add(new)
            function = node.args[0].xreplace({index: new})
            renamed[node] = node.func(function, (new, *node.args[1][1:]), *node.args[2:])
    return expr.xreplace(renamed) if renamed else expr


def _index_symbols(*exprs: Basic) -> list[Symbol]:
    return _index_symbols_of(set().union(*(_free(expr) for expr in exprs)))


def _placeholders(*exprs: Basic) -> list[Symbol]:
    return _placeholders_of(set().union(*(_free(expr) for expr in exprs)))


def _index_symbols_of(free: set) -> list[Symbol]:
    return sorted((s for s in free if isinstance(s, Symbol) and s.is_integer and s != CLASSES), key=str)


def _placeholders_of(free: set) -> list[Symbol]:
    return sorted((s for s in free if isinstance(s, Symbol) and not s.is_integer and s != CLASSES), key=str)


def _index_assignments(symbols: list[Symbol], classes: int, rng: random.Random) -> list[dict]:
    """Every assignment for tiny H, otherwise a spread including all-equal and all-distinct patterns."""
    if classes ** len(symbols) <= MAX_INDEX_PATTERNS:  # (the count of every assignment, without listing them)
        return [dict(zip(symbols, values)) for values in product(range(1, classes + 1), repeat=len(symbols))]
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


def _random_values(classes: int, total: Basic | None, placeholders: list[Symbol], rng: random.Random) -> Mapping:
    """Random inputs and targets; targets are scaled to sum to ``total`` when a step relies on that."""
    scale_to = None if total is None else Float(total, PRECISION)._mpf_
    return _RandomValues(classes, scale_to, placeholders, rng)


def _symbols_in(exprs) -> set:
    """``set().union(*(e.free_symbols for e in exprs))``, walking a shared subexpression once."""
    found: set = set()
    seen: set = set()  # ids: every node is held by ``exprs`` for the whole walk
    pending = list(exprs)
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, (Add, Mul, Pow, exp, log)) or type(node) in _MPMATH:
            pending.extend(node.args)
        else:
            found |= node.free_symbols
    return found

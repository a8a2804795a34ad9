"""Random points: the values of free indices, leaf values, and the ``World`` they make."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import product

from mpmath.libmp import from_float, fzero, mpf_add, mpf_div, mpf_mul, to_float
from sympy import Add, Basic, Derivative, Eq, Float, Indexed, KroneckerDelta, Mul, Pow, Sum, Symbol, exp, log

from derive.certify.arithmetic import MPF
from derive.certify.numbers import FLOAT_BITS, MPMATH_FUNCTIONS, ROUNDING, UNSUPPORTED, PRECISION
from derive.expressions import bound_indices, fresh_index
from derive.sums import SumExcept
from derive.symbols import CLASSES, INPUT, TARGET

MAX_INDEX_PATTERNS = 6    # index patterns drawn when there are too many to list (at POINTS points each)
ALL_PATTERNS = 25         # every pattern is listed when there are at most this many (H = 5 with two indices)
EXTRA_CLASSES = (6, 12)   # symbolic H: one more H, drawn from this range for every comparison
CONSTANT_CLASSES = 1000   # a constant index up to this is sampled (k = 7 when δ_{k7} or o_7 appears)
CONSTANT_PATTERNS = 8     # at most this many distinct constant indices get patterns of their own
# inputs on three scales, both signs: |z| in [0, 1], [1, 3] and [5, 8]; the n-th point of a comparison uses scale n % 3
INPUT_SCALES = ((0.0, 1.0), (1.0, 3.0), (5.0, 8.0))
TARGET_RANGES = {"any": (-3.0, 3.0)}  # targets as declared: `any` is negative and above 1 as well
TARGET_RANGE = (0.05, 1.0)            # one-hot and distribution targets: in [0, 1]
OTHER_RANGE = (0.2, 0.9)              # any other leaf (the other examples' losses L_n): a value per index


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


class RandomValues(Mapping):
    """The leaf values of one random point, drawn exactly as before; each number is made on first use."""

    def __init__(self, classes: int, total, placeholders: list[Symbol], rng: random.Random, scale: int = 0,
                 targets: str | None = None):
        uniform, draw = rng.uniform, rng.random  # uniform(a, b) is a + (b - a) * random(), inlined
        self.classes = classes
        low, high = INPUT_SCALES[scale % len(INPUT_SCALES)]
        self._inputs = [(low + (high - low) * draw()) * (1 if draw() < 0.5 else -1) for _ in range(classes)]
        low, high = TARGET_RANGES.get(targets, TARGET_RANGE)
        self._weights = [low + (high - low) * draw() for _ in range(classes)]
        self._salt = f"{draw():.17g}"  # seeds the values of other leaves, so every (base, index) has its own
        self._others: dict = {}
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
        value = self._made.get(key, UNSUPPORTED)
        if value is UNSUPPORTED:
            value = self._made[key] = self._make(base, index)
        return value

    def _other(self, base, index):
        """A leaf that is neither an input nor a target (``L_n``): its own value at every index, so
        that a step replacing ``Σ_{n≠m} L_n`` by ``(N − 1) L_1`` cannot pass."""
        key = (str(base), index)
        value = self._others.get(key)
        if value is None:
            value = self._others[key] = random.Random(f"{self._salt}/{key[0]}/{index}").uniform(*OTHER_RANGE)
        return value

    def _make(self, base, index):
        kind = base if type(base) is str else _LEAVES.get(base)
        if kind is None and type(index) is int and index >= 1:
            return from_float(self._other(base, index))
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
                weights = mpf_add(weights, from_float(other), FLOAT_BITS, ROUNDING)
            self._scale = mpf_div(self._total, weights, FLOAT_BITS, ROUNDING)
        return mpf_mul(weight, self._scale, FLOAT_BITS, ROUNDING)

    def symbol(self, symbol):
        return self._placeholders.get(symbol)

    def float_leaf(self, base, index):
        """``leaf`` as a machine float: the same point to 53 bits (the draws are floats already)."""
        kind = base if type(base) is str else _LEAVES.get(base)
        if kind is None and type(index) is int and index >= 1:
            return self._other(base, index)
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
        return Float._new(value, FLOAT_BITS)


def _free(expr: Basic) -> set:
    """Free symbols, including those only a derivative's variable carries.

    SymPy's ``Derivative.free_symbols`` leaves the variable out, so the ``k`` of
    ``∂f/∂z_k`` would never get a value and both sides would be derivatives at
    no class at all (zero): a wrong step could pass.  Indices bound by a sum
    stay out.
    """
    variables = {s for node in expr.atoms(Derivative) for v, _ in node.variable_count for s in v.free_symbols}
    return expr.free_symbols | (variables - set(bound_indices(expr)))


def unclash(expr: Basic, free: list[Symbol]) -> Basic:
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


def index_symbols(*exprs: Basic) -> list[Symbol]:
    return index_symbols_of(set().union(*(_free(expr) for expr in exprs)))


def placeholder_symbols(*exprs: Basic) -> list[Symbol]:
    return placeholder_symbols_of(set().union(*(_free(expr) for expr in exprs)))


def index_symbols_of(free: set) -> list[Symbol]:
    return sorted((s for s in free if isinstance(s, Symbol) and s.is_integer and s != CLASSES), key=str)


def placeholder_symbols_of(free: set) -> list[Symbol]:
    return sorted((s for s in free if isinstance(s, Symbol) and not s.is_integer and s != CLASSES), key=str)


def index_assignments(symbols: list[Symbol], classes: int, rng: random.Random, constants=()) -> list[dict]:
    """Every assignment when there are at most ``ALL_PATTERNS``, otherwise a spread including all-equal
    and all-distinct patterns; and, for every constant index ``c <= H`` of the expression, every pattern
    that puts some of the free indices at ``c`` (the rest elsewhere)."""
    if classes ** len(symbols) <= ALL_PATTERNS:  # (the count of every assignment, without listing them)
        return [dict(zip(symbols, values)) for values in product(range(1, classes + 1), repeat=len(symbols))]
    chosen = [dict.fromkeys(symbols, 1), dict.fromkeys(symbols, classes)]
    if classes >= len(symbols):
        chosen.append(dict(zip(symbols, rng.sample(range(1, classes + 1), len(symbols)))))
    while len(chosen) < MAX_INDEX_PATTERNS:
        chosen.append(dict(zip(symbols, (rng.randint(1, classes) for _ in symbols))))
    for constant in constants:
        if constant > classes:
            continue
        elsewhere = [m for m in range(1, classes + 1) if m != constant] or [constant]
        for at in product((True, False), repeat=len(symbols)):
            if any(at):
                pattern = {s: constant if here else rng.choice(elsewhere) for s, here in zip(symbols, at)}
                if pattern not in chosen:
                    chosen.append(pattern)
    return chosen


def constant_indices(*exprs: Basic) -> tuple[int, ...]:
    """The positive whole numbers used as an index (``o_7``, ``δ_{k7}``), smallest first."""
    found = set()
    for expr in exprs:
        for node in expr.atoms(Indexed):
            found.update(int(i) for i in node.indices if i.is_Integer and i > 0)
        for node in expr.atoms(KroneckerDelta):
            found.update(int(i) for i in node.args if i.is_Integer and i > 0)
    return tuple(sorted(found))


def sample_sizes(sizes: tuple[int, ...], symbolic: bool, min_classes: int, constants, rng: random.Random):
    """The H values a comparison is made at: the trail's, and at symbolic H one drawn from
    ``EXTRA_CLASSES`` and every constant index (up to ``CONSTANT_CLASSES``), so that the index exists."""
    if not symbolic:
        return sizes
    extra = [rng.randint(*EXTRA_CLASSES)]
    extra += [c for c in constants if c <= CONSTANT_CLASSES]
    return sizes + tuple(sorted({h for h in extra if h >= min_classes} - set(sizes)))


def random_values(classes: int, total: Basic | None, placeholders: list[Symbol], rng: random.Random,
                   scale: int = 0, targets: str | None = None) -> Mapping:
    """Random inputs (on the ``scale``-th of ``INPUT_SCALES``) and targets (as the ``targets`` kind
    declares); targets are scaled to sum to ``total`` when a step relies on that."""
    scale_to = None if total is None else Float(total, PRECISION)._mpf_
    return RandomValues(classes, scale_to, placeholders, rng, scale, targets)


def symbols_in(exprs) -> set:
    """``set().union(*(e.free_symbols for e in exprs))``, walking a shared subexpression once."""
    found: set = set()
    seen: set = set()  # ids: every node is held by ``exprs`` for the whole walk
    pending = list(exprs)
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, (Add, Mul, Pow, exp, log)) or type(node) in MPMATH_FUNCTIONS:
            pending.extend(node.args)
        else:
            found |= node.free_symbols
    return found

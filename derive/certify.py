"""Independent certification of every step.

Nothing here uses the rules.  A step ``before -> after`` is instantiated at
several concrete class counts H, at every pattern of equal and unequal free
indices, and at random points; unevaluated derivatives are evaluated with
``sympy.diff`` (with respect to an intermediate such as ``O_i`` *before* its
definition is substituted); both sides are then compared at 50 significant
digits.  The final result is compared with ``sympy.diff`` of the loss itself.

How the numbers are computed (``Evaluator``) is built for speed; what is checked
is what it always was, at the same H, index patterns and random points:

* Values are computed straight from the expression with mpmath's binary
  floats, at 193 bits (58 digits; the random values have 169 bits, SymPy's 50
  digits, as before).  A sum at concrete H is a loop, not a SymPy expression
  with H terms, and a defined quantity such as ``o_m`` is computed once per
  random point, from its definition, and reused.  Each expression is compiled
  once into Python closures.
* A derivative ``∂f/∂x`` is still taken by ``sympy.diff``, but piece by piece.
  ``f`` is written out at the concrete H and indices with every defined
  quantity (``o_m``, ``e_m``) and every written-out sum (``Σ_j e^{z_j}``) kept
  as a named intermediate; ``sympy.diff`` gives each piece's partial
  derivatives, and the multivariable chain rule joins them: ``∂f/∂x`` is the
  sum over the paths from ``f`` to ``x`` of the products of the partials.
  Small ``f`` go forwards (rates of change shared between derivatives at the
  same point), ``f`` made of many intermediates (``Σ_i e_i``) backwards (one
  pass serves every ``x``).  The partials are symbolic and computed once per
  run and per shape (``ln o_5 · y_5`` and ``ln o_7 · y_7`` share one
  ``sympy.diff``); only their values change from point to point.
* Everything remembered is keyed on content: an expression, H, and the values
  of the indices the expression depends on (within a random point, the point).
  ``Evaluator(definitions, cache=False)`` forgets everything before each value;
  the tests check that it agrees with the cached evaluation.
* Whatever the fast path does not cover (higher or nested derivatives, a
  summation index that is also a free index, complex values) is computed the
  original way by ``ReferenceEvaluator``: sums expanded, definitions
  substituted, ``sympy.diff`` of the whole, ``evalf``.
* The gradient components (concrete H) are checked at ``POINTS`` random points
  per H each, as before, but the points are drawn once and shared by the H
  components, so that check is linear in H rather than quadratic.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import product

import mpmath
from mpmath.libmp import (
    ComplexResult,
    dps_to_prec,
    fnan,
    fone,
    from_float,
    from_int,
    from_rational,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_cmp,
    mpf_div,
    mpf_eq,
    mpf_exp,
    mpf_le,
    mpf_log,
    mpf_lt,
    mpf_mul,
    mpf_pos,
    mpf_pow,
    mpf_pow_int,
    mpf_sqrt,
    mpf_sub,
    round_nearest,
)
from sympy import (
    Abs,
    Add,
    Basic,
    Derivative,
    Dummy,
    Eq,
    Float,
    Indexed,
    Integer,
    KroneckerDelta,
    Mul,
    Piecewise,
    Pow,
    Rational,
    S,
    Subs,
    Sum,
    Symbol,
    UnevaluatedExpr,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    cos,
    cosh,
    diff,
    erf,
    erfc,
    exp,
    log,
    sin,
    sinh,
    tan,
    tanh,
)
from sympy.concrete.expr_with_limits import ExprWithLimits
from sympy.core.numbers import NumberSymbol
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanFalse, BooleanTrue, Not, Or

from derive.context import bound_indices, fresh_index
from derive.sums import SumExcept
from derive.symbols import CLASSES, FREE_INDEX, INPUT, TARGET
from derive.holding import release
from derive.trail import Rule, Step, Trail

PRECISION = 50
TOLERANCE = Float(10) ** -(PRECISION - 12)
CHECK_CLASSES = (1, 2, 3, 5)
POINTS = 2
MAX_INDEX_PATTERNS = 6

_BITS = dps_to_prec(PRECISION)  # 169 bits: the precision of SymPy's Float(x, 50)
_WP = _BITS + 24  # working precision, with guard bits
_RN = round_nearest
_TOL = TOLERANCE._mpf_
REFERENCE_CLASSES = 3  # the plain, independent recheck of the result runs at H <= 3 (it grows with H)
_DEFAULT = Float("0.37", PRECISION)._mpf_  # a leaf with no value (as before)
_BIG = 16  # sums and products with more arguments than this are remembered per point
_FORWARD = 8  # derivatives through at most this many intermediates are taken forwards, the rest backwards
_MP = mpmath.MPContext()
_MP.prec = _WP
_MPMATH = {
    tanh: _MP.tanh, sinh: _MP.sinh, cosh: _MP.cosh, sin: _MP.sin, cos: _MP.cos, tan: _MP.tan,
    atanh: _MP.atanh, asinh: _MP.asinh, acosh: _MP.acosh, atan: _MP.atan, asin: _MP.asin,
    acos: _MP.acos, erf: _MP.erf, erfc: _MP.erfc, Abs: _MP.fabs,
}
_PLAIN = Dummy().assumptions0  # assumptions of a symbol about which nothing is known
_CANONICAL: list = []  # t_0, t_1, ...: the names atoms get while a derivative is taken
_COMPARE = {"==": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c < 0,
            "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}


class CertificationError(Exception):
    """A step (or the result) failed its independent check: an engine bug, never to be printed as proven."""


@dataclass(frozen=True)
class World:
    """A concrete instance: H, values for free indices, values for every leaf variable."""

    classes: int
    indices: dict
    values: Mapping
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # evaluator -> values computed here


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
        values = world.values if isinstance(world.values, dict) else dict(world.values.items())
        numeric = concrete.xreplace(values)
        leftover = numeric.free_symbols
        if leftover:
            numeric = numeric.xreplace({symbol: values.get(symbol, Float("0.37", PRECISION)) for symbol in leftover})
        return numeric.evalf(PRECISION)


# -- the fast path ----------------------------------------------------------------------------


class _Unsupported(Exception):
    """The fast path does not cover this expression: use the reference method."""


_UNSUPPORTED = object()  # a leaf value the fast path cannot use (symbolic, complex)


def _mpf_of(value) -> tuple | object:
    """A SymPy (or Python) real number as an mpf tuple."""
    try:
        number = value if isinstance(value, Basic) else Float(value, PRECISION)
        if isinstance(number, Float):
            return number._mpf_
        if number.is_Rational:
            return from_rational(int(number.p), int(number.q), _WP, _RN)
        if number.is_number and number.is_extended_real:
            return Float(number, PRECISION + 10)._mpf_
    except (TypeError, ValueError):
        pass
    return _UNSUPPORTED


def _finite(value: tuple) -> bool:
    return value[1] != 0 or value == fzero  # inf and nan have a zero mantissa


def _free_indices(node: Basic, memo: dict) -> frozenset:
    """The integer symbols a node's value depends on, including a derivative's variable (SymPy leaves it out)."""
    found = memo.get(node)
    if found is None:
        if isinstance(node, Symbol):
            found = frozenset((node,)) if node.is_integer else frozenset()
        elif isinstance(node, (Sum, SumExcept)):
            if isinstance(node, SumExcept):
                index, limits, rest = node.args[1][0], node.args[1][1:], (node.args[2],)
            else:
                index, limits, rest = node.limits[0][0], node.limits[0][1:], ()
            inner = _free_indices(node.args[0], memo) - {index}
            found = inner.union(*(_free_indices(part, memo) for part in (*limits, *rest)))
        elif not node.args:
            found = frozenset()
        else:
            found = frozenset().union(*(_free_indices(arg, memo) for arg in node.args))
        memo[node] = found
    return found


def _plain(node: Basic, memo: dict) -> bool:
    """No sum, derivative or other bound variable anywhere inside."""
    found = memo.get(node)
    if found is None:
        if isinstance(node, (Sum, SumExcept, Derivative, ExprWithLimits)):
            found = False
        else:
            found = all(_plain(arg, memo) for arg in node.args)
        memo[node] = found
    return found


def _symbols_in(exprs, memo: dict) -> set:
    """``set().union(*(e.free_symbols for e in exprs))``, without walking a shared subexpression twice."""

    def walk(node):
        found = memo.get(node)
        if found is None:
            if isinstance(node, (Add, Mul, Pow, exp, log)) or type(node) in _MPMATH:
                found = frozenset().union(*(walk(arg) for arg in node.args))
            else:
                found = frozenset(node.free_symbols)
            memo[node] = found
        return found

    return set().union(*(walk(expr) for expr in exprs))


def _fast_path_covers(expr: Basic, assigned: frozenset, plain: dict) -> bool:
    """Derivatives of first order, not nested; every summation index bound once and never assigned."""
    pending = [(expr, frozenset(), False)]
    while pending:
        node, bound, in_derivative = pending.pop()
        if _plain(node, plain):
            continue
        if isinstance(node, SumExcept):
            index = node.args[1][0]
            if index in assigned or index in bound:
                return False
            pending.append((node.args[0], bound | {index}, in_derivative))
            pending.extend((part, bound, in_derivative) for part in (*node.args[1][1:], node.args[2]))
        elif isinstance(node, Sum):
            if len(node.limits) != 1 or len(node.limits[0]) != 3:
                return False
            index = node.limits[0][0]
            if index in assigned or index in bound:
                return False
            pending.append((node.function, bound | {index}, in_derivative))
            pending.extend((part, bound, in_derivative) for part in node.limits[0][1:])
        elif isinstance(node, ExprWithLimits):
            return False
        elif isinstance(node, Derivative):
            if in_derivative or len(node.variable_count) != 1:
                return False
            variable, count = node.variable_count[0]
            if count != 1 or not isinstance(variable, (Indexed, Symbol)) or variable.is_integer:
                return False
            pending.append((node.expr, bound, True))
            pending.append((variable, bound, True))
        else:
            pending.extend((arg, bound, in_derivative) for arg in node.args)
    return True


class _State:
    """What one evaluator has computed at one point."""

    __slots__ = ("classes", "env", "memo", "defined", "busy", "adjoints", "tangents", "leaf", "symbol")

    def __init__(self, classes: int, values: Mapping):
        self.classes = classes
        self.env = {CLASSES: classes}  # for concrete expressions: only H is left to know
        self.memo: dict = {}
        self.defined: dict = {}
        self.busy: set = set()
        self.adjoints: dict = {}
        self.tangents: dict = {}
        if isinstance(values, _RandomValues):
            self.leaf, self.symbol = values.leaf, values.symbol
        else:
            leaves, symbols = {}, {}
            for key, value in values.items():
                if isinstance(key, Indexed) and all(index.is_Integer for index in key.indices):
                    indices = tuple(int(index) for index in key.indices)
                    leaves[(key.base, indices[0] if len(indices) == 1 else indices)] = _mpf_of(value)
                elif isinstance(key, Symbol):
                    symbols[key] = _mpf_of(value)
            self.leaf = lambda base, index: leaves.get((base, index))
            self.symbol = symbols.get


class _Tape:
    """``f`` and everything it is made of, in an order where each node comes before what it uses."""

    __slots__ = ("top", "order", "position", "bodies", "edges", "parents", "sweep")

    def __init__(self, top, order, bodies, edges, parents):
        self.top, self.order, self.bodies, self.edges, self.parents = top, order, bodies, edges, parents
        self.position = {owner: n for n, owner in enumerate(order)}  # order[0] is top
        self.sweep = None


class _Rate:
    """How fast one quantity changes with one leaf: directly, and through intermediates (forwards)."""

    __slots__ = ("direct", "through")

    def __init__(self, direct, through):
        self.direct, self.through = direct, through

    def value(self, st: "_State") -> tuple:
        value = st.tangents.get(self)
        if value is None:
            env = st.env
            value = fzero if self.direct is None else self.direct(env, st)
            for partial, rate in self.through:
                change = rate.value(st)
                if change != fzero:
                    value = mpf_add(value, mpf_mul(partial(env, st), change, _WP, _RN), _WP, _RN)
            st.tangents[self] = value
        return value


def _zero(st) -> tuple:
    return fzero


class Evaluator:
    """Evaluates trail expressions numerically in a ``World``, given the trail's definitions.

    Everything remembered is keyed on content (an expression, H and the values of
    the indices it depends on), so a remembered value is the value it stands for.
    ``cache=False`` forgets everything after each value (for the tests).
    """

    def __init__(self, definitions: tuple[Eq, ...], cache: bool = True):
        self.definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}
        self.reference = ReferenceEvaluator(definitions)
        self.cache = cache
        self.fallbacks = 0  # values that needed the reference method
        self._forget()

    def _forget(self) -> None:
        self._compiled: dict = {}  # id(node) -> (node, its closure)
        self._free: dict = {}  # node -> the integer symbols its value depends on
        self._seen: dict = {}  # id(node) -> (node, the equal node used as a key, the indices it depends on)
        self._interned: dict = {}  # node -> the first equal node seen
        self._plain: dict = {}  # node -> whether it has no sum or derivative inside
        self._covered: dict = {}  # (expr, assigned indices) -> whether the fast path applies
        self._concrete: dict = {}  # (node, H, index values) -> the node written out (sums as intermediates)
        self._atoms: dict = {}  # (base, indices) -> Indexed with integer indices
        self._sigma: dict = {}  # intermediate standing for a written-out sum -> the sum
        self._shapes: dict = {}  # body -> (its atoms, its terms by atom when it is a long sum)
        self._tapes: dict = {}
        self._bodies: dict = {}  # (defined quantity, H) -> its definition written out
        self._inners: dict = {}  # (body, kept base) -> the intermediates in it
        self._wides: dict = {}  # (body, kept base, H) -> whether a part is made of many intermediates
        self._rates: dict = {}  # (owner, leaf, kept base, H) -> its _Rate (None: identically 0)
        self._partials: dict = {}
        self._canonical: dict = {}  # (expression in canonical symbols, variable) -> its derivative

    # -- public ------------------------------------------------------------------------------
    def value(self, expr: Basic, world: World) -> Basic:
        """The value as a SymPy number (a Float of 50 digits when it is real)."""
        return _sympy_number(self.number(expr, world))

    def number(self, expr: Basic, world: World):
        """The value: an mpf tuple, a SymPy number (reference method), or None when it is not a number."""
        if not self.cache:
            self._forget()
            world.cache.pop(self, None)
        indices = {symbol: int(value) for symbol, value in world.indices.items()}
        key = (expr, frozenset(indices))
        covered = self._covered.get(key)
        if covered is None:
            covered = self._covered[key] = _fast_path_covers(expr, key[1], self._plain)
        if covered:
            state = world.cache.get(self)
            if state is None:
                state = world.cache[self] = _State(world.classes, world.values)
            env = {CLASSES: world.classes, **indices}
            try:
                value = self._ev(expr, env, state)
            except ZeroDivisionError:
                return None
            except (ComplexResult, _Unsupported):
                pass
            else:
                return value if _finite(value) else None
        self.fallbacks += 1
        return self.reference.value(expr, world)

    # -- numbers -----------------------------------------------------------------------------
    # Each expression is compiled once into a closure ``f(env, st)``: ``env`` holds H and
    # the values of the indices, ``st`` what is known at the current point.

    def _ev(self, node: Basic, env: dict, st: _State) -> tuple:
        return self._fn(node)(env, st)

    def _fn(self, node: Basic):
        entry = self._compiled.get(id(node))
        if entry is None or entry[0] is not node:
            entry = self._compiled[id(node)] = (node, self._compile(node))
        return entry[1]

    def _key(self, node: Basic, env: dict):
        """What ``node``'s value is a function of: its content and the values of the indices it depends on."""
        same, names = self._key_parts(node)
        return (same, tuple([env.get(name) for name in names])) if names else same

    def _key_parts(self, node: Basic) -> tuple:
        """A number standing for ``node``'s content, and the indices ``node`` depends on.

        Equal expressions are looked up by content once, then by identity: two copies
        of a 1000-term sum are compared term by term once, not at every lookup.  The
        number is the ``id`` of the first equal expression seen, which ``_interned``
        keeps alive for as long as the evaluator, so it stands for that content alone.
        """
        seen = self._seen.get(id(node))
        if seen is None or seen[0] is not node:
            same = self._interned.setdefault(node, node)
            seen = self._seen[id(node)] = (node, id(same), tuple(sorted(_free_indices(same, self._free), key=str)))
        return seen[1], seen[2]

    def _memoized(self, node: Basic, compute):
        """``compute``, remembered at each point under ``node``'s key."""
        same, names = self._key_parts(node)
        if not names:

            def remembered(env, st):
                value = st.memo.get(same)
                if value is None:
                    value = st.memo[same] = compute(env, st)
                return value

        else:

            def remembered(env, st):
                key = (same, tuple([env.get(name) for name in names]))
                value = st.memo.get(key)
                if value is None:
                    value = st.memo[key] = compute(env, st)
                return value

        return remembered

    def _compile(self, node: Basic):
        if isinstance(node, (Integer, Rational, Float)):
            value = _number(node)
            return lambda env, st: value
        if isinstance(node, NumberSymbol):
            value = node._as_mpf_val(_WP)
            return lambda env, st: value
        if isinstance(node, UnevaluatedExpr):
            return self._fn(node.args[0])
        compile_as = _COMPILERS.get(type(node))
        if compile_as is None:
            compile_as = next((_COMPILERS[c] for c in type(node).__mro__ if c in _COMPILERS), None)
        if compile_as is not None:
            return compile_as(self, node)
        if isinstance(node, KroneckerDelta):
            return lambda env, st: self._delta(node, env, st)
        if isinstance(node, Piecewise):
            return lambda env, st: self._piecewise(node, env, st)
        if any(c in _MPMATH for c in type(node).__mro__):
            return self._memoized(node, lambda env, st: self._mpmath(node, env, st))
        return self._memoized(node, lambda env, st: self._other(node, env, st))

    def _compile_add(self, node: Add):
        parts = [self._fn(arg) for arg in node.args]
        if len(parts) == 2:
            first, second = parts
            return lambda env, st: mpf_add(first(env, st), second(env, st), _WP, _RN)

        def add(env, st):
            total = fzero
            for part in parts:
                total = mpf_add(total, part(env, st), _WP, _RN)
            return total

        return self._memoized(node, add) if len(parts) > _BIG else add

    def _compile_mul(self, node: Mul):
        parts = [self._fn(arg) for arg in node.args]
        if len(parts) == 2:
            first, second = parts
            return lambda env, st: mpf_mul(first(env, st), second(env, st), _WP, _RN)

        def mul(env, st):
            total = fone
            for part in parts:
                total = mpf_mul(total, part(env, st), _WP, _RN)
            return total

        return self._memoized(node, mul) if len(parts) > _BIG else mul

    def _compile_pow(self, node: Pow):
        base, power = node.args
        of = self._fn(base)
        if power.is_Integer:
            n = int(power)
            if n == -1:
                return lambda env, st: mpf_div(fone, of(env, st), _WP, _RN)
            if n == 2:
                return lambda env, st: _square(of(env, st))
            return lambda env, st: mpf_pow_int(of(env, st), n, _WP, _RN)
        if power is S.Half:
            return lambda env, st: mpf_sqrt(of(env, st), _WP, _RN)
        to = self._fn(power)
        return lambda env, st: mpf_pow(of(env, st), to(env, st), _WP, _RN)

    def _compile_exp(self, node: exp):
        of = self._fn(node.args[0])
        return self._memoized(node, lambda env, st: mpf_exp(of(env, st), _WP, _RN))

    def _compile_log(self, node: log):
        of = self._fn(node.args[0])
        return self._memoized(node, lambda env, st: mpf_log(of(env, st), _WP, _RN))

    def _compile_symbol(self, node: Symbol):
        total = self._sigma.get(node)
        if total is not None:  # a written-out sum, named
            of, key = self._fn(total), id(node)  # (kept alive by _sigma)

            def named(env, st):
                value = st.memo.get(key)
                if value is None:
                    value = st.memo[key] = of(st.env, st)
                return value

            return named

        def symbol(env, st):
            value = env.get(node)
            if value is not None:
                return from_int(value)
            value = st.symbol(node)
            if value is None:
                return _DEFAULT
            if value is _UNSUPPORTED:
                raise _Unsupported(str(node))
            return value

        return symbol

    def _compile_indexed(self, node: Indexed):
        base = node.args[0]
        where = self._index_getter(node.args[1]) if len(node.args) == 2 else self._indices_getter(node.args[1:])
        if base in self.definitions:
            defined = self._defined
            return lambda env, st: defined(base, where(env), st)

        def leaf(env, st):
            value = st.leaf(base, where(env))
            if value is None:
                return _DEFAULT
            if value is _UNSUPPORTED:
                raise _Unsupported(str(node))
            return value

        return leaf

    def _compile_sum(self, node):
        function, (index, lower, upper) = node.args[0], node.args[1]
        body = self._fn(function)
        low, high = self._index_getter(lower), self._index_getter(upper)
        skip = self._index_getter(node.args[2]) if isinstance(node, SumExcept) else (lambda env: None)

        def total(env, st):
            inner, result, excluded = dict(env), fzero, skip(env)
            for value in range(low(env), high(env) + 1):
                if value != excluded:
                    inner[index] = value
                    result = mpf_add(result, body(inner, st), _WP, _RN)
            return result

        return self._memoized(node, total)

    def _compile_derivative(self, node: Derivative):
        """``∂f/∂x``: for each H and index values, a plan (the partials compiled); at each point, its value."""
        function, ((variable, _),) = node.args[0], node.variable_count
        keep = variable.base if isinstance(variable, Indexed) and variable.base in self.definitions else None
        names = sorted(_free_indices(node, self._free), key=str)
        plans: dict = {}

        def derivative(env, st):
            key = (st.classes, *[env.get(name) for name in names])
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = self._plan(function, variable, keep, env, st.classes)
            return plan(st)

        return self._memoized(node, derivative)

    def _index_getter(self, index: Basic):
        """``env -> int``: the value of an index expression."""
        if index.is_Integer:
            fixed = int(index)
            return lambda env: fixed
        if isinstance(index, Symbol):

            def symbol(env):
                value = env.get(index)
                if value is None:
                    raise _Unsupported(f"unassigned index {index}")
                return value

            return symbol
        return lambda env: self._int(index, env)

    def _indices_getter(self, indices):
        getters = [self._index_getter(index) for index in indices]
        return lambda env: tuple(get(env) for get in getters)

    def _int(self, expr: Basic, env: dict) -> int:
        if expr.is_Integer:
            return int(expr)
        if isinstance(expr, Symbol):
            value = env.get(expr)
            if value is None:
                raise _Unsupported(f"unassigned index {expr}")
            return value
        try:
            return int(expr.xreplace({symbol: Integer(value) for symbol, value in env.items()}))
        except (TypeError, ValueError):
            raise _Unsupported(f"index {expr}") from None

    def _defined(self, base, index, st: _State) -> tuple:
        """``o_m`` from its definition, once per point."""
        key = (base, index)
        value = st.defined.get(key)
        if value is None:
            if key in st.busy or isinstance(index, tuple):
                raise _Unsupported(f"definition of {base}")
            st.busy.add(key)
            symbol, body = self.definitions[base]
            try:
                value = st.defined[key] = self._ev(body, {CLASSES: st.classes, symbol: index}, st)
            finally:
                st.busy.discard(key)
        return value

    def _mpmath(self, node, env, st):
        function = next(_MPMATH[c] for c in type(node).__mro__ if c in _MPMATH)
        result = function(*(_MP.make_mpf(self._ev(arg, env, st)) for arg in node.args))
        if not isinstance(result, _MP.mpf):
            raise ComplexResult(str(node))
        return result._mpf_

    def _other(self, node, env, st):
        """Anything else: SymPy's own ``evalf`` on the node, with its arguments as numbers."""
        try:
            if node.args:
                node = node.func(*[Float._new(mpf_pos(self._ev(arg, env, st), _WP, _RN), _WP) for arg in node.args])
            number = node.evalf(PRECISION + 10)
        except (TypeError, ValueError, AttributeError, NotImplementedError) as error:
            raise _Unsupported(str(error)) from None
        if isinstance(number, Float):
            return number._mpf_
        if number.is_number:
            if number.is_extended_real is False:
                raise ComplexResult(str(node))
            if number.is_Rational:
                return from_rational(int(number.p), int(number.q), _WP, _RN)
            return fnan  # an infinity or nan: not a number
        raise _Unsupported(str(node))

    def _delta(self, node, env, st):
        if len(node.args) != 2:
            raise _Unsupported(str(node))
        left, right = (self._ev(arg, env, st) for arg in node.args)
        return fone if mpf_eq(left, right) else fzero

    def _piecewise(self, node, env, st):
        for pair in node.args:
            expr, condition = pair.args
            if self._truth(condition, env, st):
                return self._ev(expr, env, st)
        return fnan

    def _truth(self, condition, env, st) -> bool:
        if isinstance(condition, BooleanTrue):
            return True
        if isinstance(condition, BooleanFalse):
            return False
        if isinstance(condition, Relational) and condition.rel_op in _COMPARE:
            left, right = (self._ev(side, env, st) for side in condition.args)
            if not (_finite(left) and _finite(right)):
                raise _Unsupported(str(condition))
            return _COMPARE[condition.rel_op](mpf_cmp(left, right))
        if isinstance(condition, And):
            return all(self._truth(arg, env, st) for arg in condition.args)
        if isinstance(condition, Or):
            return any(self._truth(arg, env, st) for arg in condition.args)
        if isinstance(condition, Not):
            return not self._truth(condition.args[0], env, st)
        raise _Unsupported(str(condition))

    # -- derivatives ---------------------------------------------------------------------------
    def _plan(self, function: Basic, variable: Basic, keep, env: dict, classes: int):
        """``∂f/∂x`` at given H and indices: the chain rule over what ``f`` is made of, the partials
        by ``sympy.diff``; returns ``point -> value``."""
        root = self._written(function, env)
        if any(symbol not in env for symbol in _free_indices(variable, self._free)):
            # The point gives the variable's index no value: a derivative at no class at all.  Both
            # sides would come out 0 and agree vacuously, so refuse instead of answering.
            raise _Unsupported(f"the variable {variable} has an index with no value")
        leaf = self._written(variable, env)
        if not self._wide(root, keep, classes):
            rate = self._rate(("root", root), root, leaf, keep, classes)
            return _zero if rate is None else rate.value
        tape = self._tape(root, classes, keep)
        owners = [
            (tape.position[owner], self._fn(self._partial(classes, owner, tape.bodies[owner], leaf)))
            for owner in tape.parents.get(leaf, ())
        ]
        if not owners:
            return _zero
        sweep = self._sweep(tape, classes)

        def backwards(st):
            adjoint = st.adjoints.get(tape)
            if adjoint is None:
                adjoint = st.adjoints[tape] = sweep(st)
            total = fzero
            for position, partial in owners:
                weight = adjoint[position]
                if weight != fzero:
                    total = mpf_add(total, mpf_mul(weight, partial(st.env, st), _WP, _RN), _WP, _RN)
            return total

        return backwards

    def _wide(self, body: Basic, keep, classes: int) -> bool:
        """Whether some part of ``body`` is made of many intermediates (``Σ_i e_i``): then work backwards."""
        key = (body, keep, classes)
        wide = self._wides.get(key)
        if wide is None:
            inner = self._inner(body, keep)
            wide = len(inner) > _FORWARD or any(self._wide(self._body(child, classes), keep, classes) for child in inner)
            self._wides[key] = wide
        return wide

    def _rate(self, owner, body: Basic, leaf: Basic, keep, classes: int):
        """``∂ owner / ∂ leaf`` forwards: the partial by ``leaf`` itself, and through each intermediate
        of ``body`` (its partial times the intermediate's own rate).  ``None`` when it is identically 0."""
        key = (owner, leaf, keep, classes)
        if key in self._rates:
            return self._rates[key]
        direct = self._fn(self._partial(classes, owner, body, leaf)) if leaf in self._shape(body)[0] else None
        through = []
        for child in self._inner(body, keep):
            rate = self._rate(child, self._body(child, classes), leaf, keep, classes)
            if rate is not None:
                through.append((self._fn(self._partial(classes, owner, body, child)), rate))
        rate = self._rates[key] = _Rate(direct, tuple(through)) if direct is not None or through else None
        return rate

    def _sweep(self, tape: _Tape, classes: int):
        """``point -> [∂f/∂u for every intermediate u of the tape]`` (reverse accumulation)."""
        if tape.sweep is None:
            steps = [
                (n, [(tape.position[child], self._fn(self._partial(classes, owner, tape.bodies[owner], child)))
                     for child in tape.edges[owner]])
                for n, owner in enumerate(tape.order)
            ]
            size = len(tape.order)

            def sweep(st):
                adjoint = [fzero] * size
                adjoint[0] = fone
                env = st.env
                for n, edges in steps:
                    weight = adjoint[n]
                    if weight == fzero:
                        continue
                    for child, partial in edges:
                        adjoint[child] = mpf_add(adjoint[child], mpf_mul(weight, partial(env, st), _WP, _RN), _WP, _RN)
                return adjoint

            tape.sweep = sweep
        return tape.sweep

    def _tape(self, root: Basic, classes: int, keep) -> _Tape:
        key = (root, classes, keep)
        tape = self._tapes.get(key)
        if tape is None:
            tape = self._tapes[key] = self._build_tape(root, classes, keep)
        return tape

    def _build_tape(self, root: Basic, classes: int, keep) -> _Tape:
        """Everything ``root`` is made of; ``order`` lists each intermediate after every one that uses it."""
        top = ("root", root)
        bodies, edges, parents, finished = {top: root}, {}, {}, []
        for atom in self._shape(root)[0]:
            if not self._intermediate(atom, keep):
                parents.setdefault(atom, []).append(top)
        edges[top] = self._inner(root, keep)
        pending = [(top, iter(edges[top]))]
        while pending:  # depth first: an owner is finished once everything it uses is finished
            owner, children = pending[-1]
            for child in children:
                if child not in bodies:
                    body = bodies[child] = self._body(child, classes)
                    for atom in self._shape(body)[0]:
                        if not self._intermediate(atom, keep):
                            parents.setdefault(atom, []).append(child)
                    edges[child] = self._inner(body, keep)
                    pending.append((child, iter(edges[child])))
                    break
            else:
                pending.pop()
                finished.append(owner)
        finished.reverse()
        return _Tape(top, finished, bodies, edges, parents)

    def _inner(self, body: Basic, keep) -> list:
        """The intermediates ``body`` is made of (defined quantities but ``keep``, written-out sums)."""
        key = (body, keep)
        inner = self._inners.get(key)
        if inner is None:
            inner = self._inners[key] = [atom for atom in self._shape(body)[0] if self._intermediate(atom, keep)]
        return inner

    def _intermediate(self, atom: Basic, keep) -> bool:
        if isinstance(atom, Indexed):
            return atom.base in self.definitions and atom.base != keep
        return atom in self._sigma

    def _body(self, atom: Basic, classes: int) -> Basic:
        """What an intermediate stands for, written out at H = ``classes``."""
        total = self._sigma.get(atom)
        if total is not None:
            return total
        key = (atom, classes)
        body = self._bodies.get(key)
        if body is None:
            symbol, definition = self.definitions[atom.base]
            if len(atom.indices) != 1:
                raise _Unsupported(f"definition of {atom}")
            body = self._bodies[key] = self._written(definition, {CLASSES: classes, symbol: int(atom.indices[0])})
        return body

    def _shape(self, body: Basic) -> tuple:
        """The atoms ``body`` is made of (a dict, in a stable order), and for a long sum which terms hold each."""
        shape = self._shapes.get(body)
        if shape is None:
            if isinstance(body, Add) and len(body.args) > _BIG:
                holders: dict = {}
                for term in body.args:
                    for atom in _atoms(term):
                        holders.setdefault(atom, []).append(term)
                shape = (dict.fromkeys(holders), holders)
            else:
                shape = (_atoms(body), None)
            self._shapes[body] = shape
        return shape

    def _partial(self, classes: int, owner, body: Basic, atom: Basic) -> Basic:
        """``∂ body / ∂ atom`` by ``sympy.diff``, every other atom held fixed."""
        key = (classes, owner, atom)
        partial = self._partials.get(key)
        if partial is None:
            holders = self._shape(body)[1]
            terms = (body,) if holders is None else holders.get(atom, ())
            partial = Add(*[self._diff(term, atom) for term in terms])
            if partial.has(Derivative, Subs):  # SymPy could not take it: not a number, as before
                partial = S.NaN
            self._partials[key] = partial
        return partial

    def _diff(self, expr: Basic, atom: Basic) -> Basic:
        """``sympy.diff(expr, atom)``, taken once per shape.

        The atoms of ``expr`` (indexed quantities and symbols without assumptions,
        all independent variables here) are renamed one to one to canonical
        symbols, so ``ln o_5 · y_5`` and ``ln o_7 · y_7`` are the same
        ``ln t_0 · t_1``; the derivative of that is taken by ``sympy.diff`` and
        renamed back.  Renaming variables commutes with differentiation.
        """
        if expr == atom:
            return S.One
        atoms = [a for a in self._shape(expr)[0] if a.assumptions0 == _PLAIN]
        while len(_CANONICAL) < len(atoms):
            _CANONICAL.append(Dummy(f"t{len(_CANONICAL)}"))
        forward = dict(zip(atoms, _CANONICAL))
        canonical = expr.xreplace(forward)
        variable = forward.get(atom, atom)
        key = (canonical, variable)
        derivative = self._canonical.get(key)
        if derivative is None:
            derivative = self._canonical[key] = diff(canonical, variable)
        return derivative.xreplace({name: a for a, name in forward.items()})

    def _written(self, node: Basic, env: dict) -> Basic:
        """``node`` at concrete H and indices, every sum written out as a named intermediate."""
        if not node.args:
            if isinstance(node, Symbol) and node in env:
                return Integer(env[node])
            return node
        key = (self._key(node, env), env[CLASSES])
        done = self._concrete.get(key)
        if done is None:
            if isinstance(node, Indexed):
                indices = tuple(self._int(index, env) for index in node.indices)
                done = self._atoms.get((node.base, indices))
                if done is None:
                    done = self._atoms[(node.base, indices)] = Indexed(node.base, *indices)
            elif isinstance(node, UnevaluatedExpr):
                done = self._written(node.args[0], env)
            elif isinstance(node, (Sum, SumExcept)):
                function, (index, lower, upper) = node.args[0], node.args[1]
                skip = self._int(node.args[2], env) if isinstance(node, SumExcept) else None
                inner, terms = dict(env), []
                for value in range(self._int(lower, env), self._int(upper, env) + 1):
                    if value != skip:
                        inner[index] = value
                        terms.append(self._written(function, inner))
                done = Dummy("sigma")
                self._sigma[done] = Add(*terms)
            elif isinstance(node, Derivative):
                raise _Unsupported("a derivative inside a derivative")
            else:
                done = node.func(*[self._written(arg, env) for arg in node.args])
            self._concrete[key] = done
        return done


_COMPILERS = {
    Add: Evaluator._compile_add, Mul: Evaluator._compile_mul, Pow: Evaluator._compile_pow,
    exp: Evaluator._compile_exp, log: Evaluator._compile_log, Symbol: Evaluator._compile_symbol,
    Indexed: Evaluator._compile_indexed, Sum: Evaluator._compile_sum, SumExcept: Evaluator._compile_sum,
    Derivative: Evaluator._compile_derivative,
}


def _number(node: Basic) -> tuple:
    if isinstance(node, Float):
        return node._mpf_
    if isinstance(node, Integer):
        return from_int(int(node.p))
    return from_rational(int(node.p), int(node.q), _WP, _RN)


def _square(value: tuple) -> tuple:
    return mpf_mul(value, value, _WP, _RN)


def _atoms(expr: Basic) -> dict:
    """The leaves of a written-out expression (indexed quantities and symbols), in a stable order."""
    found: dict = {}
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, (Indexed, Symbol)):
            found[node] = None
        elif node.args:
            pending.extend(reversed(node.args))
    return found


def _sympy_number(value) -> Basic:
    if value is None:
        return S.NaN
    if isinstance(value, tuple):
        return Float._new(mpf_pos(value, _BITS, _RN), _BITS)
    return value


# -- random points ----------------------------------------------------------------------------


_LEAVES = {INPUT: "input", TARGET: "target"}


class _RandomValues(Mapping):
    """The leaf values of one random point, drawn exactly as before; each number is made on first use."""

    def __init__(self, classes: int, total, placeholders: list[Symbol], rng: random.Random):
        uniform = rng.uniform
        self.classes = classes
        self._inputs = [uniform(-2, 2) for _ in range(classes)]
        self._weights = [uniform(0.05, 1) for _ in range(classes)]
        self._total = total  # None (targets are the weights) or an mpf the targets are scaled to sum to
        self._scale = None
        self._placeholders = {symbol: from_float(uniform(0.2, 0.9)) for symbol in placeholders}
        self._made: dict = {}

    def leaf(self, base, index):
        key = (base, index)
        value = self._made.get(key, _UNSUPPORTED)
        if value is _UNSUPPORTED:
            value = self._made[key] = self._make(base, index)
        return value

    def _make(self, base, index):
        kind = _LEAVES.get(base)
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


# -- the certifier ------------------------------------------------------------------------------


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


def _agree(a: Basic, b: Basic) -> bool:
    if not (a.is_number and b.is_number):
        return False
    scale = max(1, abs(a), abs(b))
    return bool(abs(a - b) <= TOLERANCE * scale)


def _agree_numbers(a, b) -> bool:
    """``_agree`` on the evaluator's numbers, without making SymPy Floats when both are mpf."""
    if a is None or b is None:
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        scale = fone
        for size in (mpf_abs(a), mpf_abs(b)):
            if mpf_lt(scale, size):
                scale = size
        return mpf_le(mpf_abs(mpf_sub(a, b, _WP, _RN)), mpf_mul(_TOL, scale, _WP, _RN))
    return _agree(_sympy_number(a), _sympy_number(b))


class Certifier:
    def __init__(self, trail: Trail, seed: int = 20261123):
        self.trail = trail
        self.evaluator = Evaluator(trail.definitions)
        self.rng = random.Random(seed)
        sizes = CHECK_CLASSES if trail.classes is None else (trail.classes,)
        self.sizes = tuple(h for h in sizes if h >= trail.min_classes)

    def equal(self, before: Basic, after: Basic, total: Basic | None) -> tuple[bool, str]:
        symbols = _index_symbols(before, after)
        before, after = _unclash(before, symbols), _unclash(after, symbols)
        placeholders = _placeholders(before, after)
        number = self.evaluator.number
        for classes in self.sizes:
            for indices in _index_assignments(symbols, classes, self.rng):
                for _ in range(POINTS):
                    world = World(classes, indices, _random_values(classes, total, placeholders, self.rng))
                    left, right = number(before, world), number(after, world)
                    if not _agree_numbers(left, right):
                        where = ", ".join(f"{s}={v}" for s, v in indices.items())
                        return False, f"H={classes}{', ' + where if where else ''}: {_shown(left)} != {_shown(right)}"
        return True, ""

    def step(self, step: Step) -> Step:
        substeps = tuple(self.step(sub) for sub in step.substeps)
        _joined(step)
        total = target_total(step.assumptions)
        ok, detail = self.equal(step.before, step.after, total)
        if ok and step.focus is not None:  # the local rewrite is printed as an equation of its own
            ok, detail = self.equal(step.focus[0], step.focus[1], total)
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
        total = target_total(self.trail.assumptions)
        ok, detail = self.equal(truth, self.trail.result, total)
        if not ok:
            raise CertificationError(f"the result disagrees with sympy.diff of the loss ({detail})")
        self.against_reference(truth, total)
        if self.trail.gradient:
            self.gradient(truth, total)

    def against_reference(self, truth: Basic, total: Basic | None) -> None:
        """Once more, with the plain method only: the loss written out in full, ``sympy.diff`` of it,
        ``evalf``.  It shares no code with the fast path, so a bug there cannot hide here."""
        reference = ReferenceEvaluator(self.trail.definitions)
        symbols = _index_symbols(truth, self.trail.result)
        placeholders = _placeholders(truth, self.trail.result)
        for classes in [h for h in self.sizes if h <= REFERENCE_CLASSES]:
            for indices in _index_assignments(symbols, classes, self.rng):
                world = World(classes, indices, _random_values(classes, total, placeholders, self.rng))
                left, right = reference.value(truth, world), reference.value(self.trail.result, world)
                if not _agree(left, right):
                    raise CertificationError(
                        f"the result disagrees with sympy.diff of the written-out loss (H={classes}: {left} != {right})"
                    )

    def gradient(self, truth: Basic, total: Basic | None) -> None:
        """Each component ``∂E/∂z_k`` against ``sympy.diff`` of the loss at that k.

        Every component is checked at ``POINTS`` random points at every H, as
        every step is; the points are drawn once and shared by the components,
        so the check costs H evaluations per point rather than H random points
        of H values each.
        """
        pairs = [(truth.xreplace({FREE_INDEX: k}), component) for k, component in enumerate(self.trail.gradient, start=1)]
        seen: dict = {}  # the components share their written-out sums: walk each once
        free = [_symbols_in(pair, seen) for pair in pairs]
        if any(_index_symbols_of(symbols) for symbols in free):  # not written in z and y alone
            for k, (fixed, component) in enumerate(pairs, start=1):
                ok, detail = self.equal(fixed, component, total)
                if not ok:
                    raise CertificationError(f"gradient component {k} disagrees with sympy.diff ({detail})")
            return
        placeholders = _placeholders_of(set().union(*free))
        worlds = [
            World(classes, {}, _random_values(classes, total, placeholders, self.rng))
            for classes in self.sizes
            for _ in range(POINTS)
        ]
        number = self.evaluator.number
        for k, (fixed, component) in enumerate(pairs, start=1):
            for world in worlds:
                left, right = number(fixed, world), number(component, world)
                if not _agree_numbers(left, right):
                    detail = f"H={world.classes}: {_shown(left)} != {_shown(right)}"
                    raise CertificationError(f"gradient component {k} disagrees with sympy.diff ({detail})")


def _joined(step: Step) -> None:
    """Substeps must form one unbroken chain from what the step rewrote to what it became.

    The last substep may restate the value instead of reaching it (the lemma's cases);
    the chain rule's elementary substep works on a placeholder and only has to join up inside.
    """
    subs = step.substeps
    if not subs:
        return
    for earlier, later in zip(subs, subs[1:]):
        if later.before != earlier.after:
            raise CertificationError(f"the substeps of '{step.rule.title}' do not join up at '{later.rule.title}'")
    if step.rule is Rule.CHAIN:
        return
    start, end = (step.before, step.after) if step.focus is None else step.focus
    if subs[0].before not in (start, step.before):
        raise CertificationError(f"the substeps of '{step.rule.title}' do not start from what it rewrote")
    ends = {end, release(end), step.after}
    if subs[-1].after not in ends and subs[-1].before not in ends:
        raise CertificationError(f"the substeps of '{step.rule.title}' do not arrive at what it wrote")


def _shown(value) -> str:
    return str(_sympy_number(value))


def certify(trail: Trail, seed: int = 20261123) -> Trail:
    """Return ``trail`` with every step marked certified, or raise ``CertificationError``."""
    certifier = Certifier(trail, seed)
    certifier.chain()
    steps = tuple(certifier.step(step) for step in trail.steps)
    certifier.result()
    return replace(trail, steps=steps)

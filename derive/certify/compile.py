"""The fast evaluator's numbers: each expression compiled once into closures over numbers of one
``Arithmetic`` (machine floats, or mpf tuples at 193 bits)."""

from __future__ import annotations

from mpmath.libmp import ComplexResult
from sympy import (
    Add,
    Basic,
    Derivative,
    Float,
    Indexed,
    Integer,
    KroneckerDelta,
    Mul,
    Piecewise,
    Pow,
    Rational,
    S,
    Sum,
    Symbol,
    UnevaluatedExpr,
    exp,
    log,
)
from sympy.core.numbers import NumberSymbol
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanFalse, BooleanTrue, Not, Or

from derive.certify.arithmetic import Arithmetic
from derive.certify.fast_path import PointState, Unsupported, free_indices, index_value
from derive.certify.memory import SymbolicMemory
from derive.certify.points import leaf_token
from derive.certify.numbers import UNSUPPORTED, PRECISION
from derive.sums import SumExcept
from derive.symbols import CLASSES

_DEFAULT = Float("0.37", PRECISION)  # the value of a leaf the point gives none (as before)
MANY_ARGUMENTS = 16  # sums and products with more arguments than this are remembered per point
_COMPARE = {"==": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c < 0,
            "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}


class Compiler:
    """Computes values in one ``Arithmetic``: each expression is compiled once into a closure ``f(env, st)``,
    where ``env`` holds H and the values of the indices and ``st`` what is known at the current point.

    ``definitions`` maps a defined quantity's base to (its index, its body).  What is symbolic
    (written-out sums, which indices a node depends on) lives in ``memory``, shared; the closures
    are this compiler's own.  A derivative is compiled by asking ``plan_derivative`` (the
    ``Differentiator``'s ``plan``, attached by the ``Evaluator``) for its plan.
    """

    def __init__(self, definitions: dict, arithmetic: Arithmetic, memory: SymbolicMemory):
        self.definitions = definitions
        self.arithmetic = arithmetic
        self.memory = memory
        self.plan_derivative = None  # (function, variable, kept base, env, H) -> point -> value
        self.compiled: dict = {}  # id(node) -> (node, its closure)
        self.slots: dict = {}  # defined quantity (o, e) -> a number standing for it in per-point keys

    def clear(self) -> None:
        """Drop every closure (they refer back to this compiler) and the link to the differentiator."""
        self.compiled.clear()
        self.slots.clear()
        self.plan_derivative = None

    def evaluate(self, node: Basic, env: dict, st: PointState) -> tuple:
        """``node``'s value at H and index values ``env`` and the point ``st``."""
        return self.function(node)(env, st)

    def function(self, node: Basic):
        """``node`` compiled: ``(env, st) -> value``, compiled once per node."""
        entry = self.compiled.get(id(node))
        if entry is None or entry[0] is not node:
            entry = self.compiled[id(node)] = (node, self._compile(node))
        return entry[1]

    def _memoized(self, node: Basic, compute):
        """``compute``, remembered at each point under ``node``'s key."""
        same, names = self.memory.content_key(node)
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
            value = self.arithmetic.number(node)
            return lambda env, st: value
        if isinstance(node, NumberSymbol):
            value = self.arithmetic.constant(node)
            return lambda env, st: value
        if isinstance(node, UnevaluatedExpr):
            return self.function(node.args[0])
        compile_as = _COMPILERS.get(type(node))
        if compile_as is None:
            compile_as = next((_COMPILERS[c] for c in type(node).__mro__ if c in _COMPILERS), None)
        if compile_as is not None:
            return compile_as(self, node)
        if isinstance(node, KroneckerDelta):
            return lambda env, st: self._delta(node, env, st)
        if isinstance(node, Piecewise):
            return lambda env, st: self._piecewise(node, env, st)
        function = next((self.arithmetic.functions[c] for c in type(node).__mro__ if c in self.arithmetic.functions), None)
        if function is not None:  # tanh, erf ...: the arithmetic's own implementation
            args = [self.function(arg) for arg in node.args]
            return self._elementary(node, lambda env, st: function(*[arg(env, st) for arg in args]))
        return self._memoized(node, lambda env, st: self._other(node, env, st))

    def _compile_add(self, node: Add):
        return self._fold(node, self.arithmetic.add, self.arithmetic.total)

    def _compile_mul(self, node: Mul):
        return self._fold(node, self.arithmetic.mul, self.arithmetic.product)

    def _fold(self, node, combine, reduce):
        """A sum or product of the compiled arguments (two arguments without a loop)."""
        parts = [self.function(arg) for arg in node.args]
        if len(parts) == 2:
            first, second = parts
            return lambda env, st: combine(first(env, st), second(env, st))

        def fold(env, st):
            return reduce([part(env, st) for part in parts])

        return self._memoized(node, fold) if len(parts) > MANY_ARGUMENTS else fold

    def _compile_pow(self, node: Pow):
        base, power = node.args
        of, numbers = self.function(base), self.arithmetic
        if power.is_Integer:
            n = int(power)
            if n == -1:
                div, one = numbers.div, numbers.one
                return lambda env, st: div(one, of(env, st))
            if n == 2:
                square = numbers.square
                return lambda env, st: square(of(env, st))
            pow_int = numbers.pow_int
            return lambda env, st: pow_int(of(env, st), n)
        if power is S.Half:
            sqrt = numbers.sqrt
            return lambda env, st: sqrt(of(env, st))
        to, pow_ = self.function(power), numbers.pow
        return lambda env, st: pow_(of(env, st), to(env, st))

    def _compile_exp(self, node: exp):
        of, exp_ = self.function(node.args[0]), self.arithmetic.exp
        return self._elementary(node, lambda env, st: exp_(of(env, st)))

    def _compile_log(self, node: log):
        of, log_ = self.function(node.args[0]), self.arithmetic.log
        return self._elementary(node, lambda env, st: log_(of(env, st)))

    def _elementary(self, node: Basic, compute):
        """``exp``, ``ln``, ``tanh`` ...: remembered at each point only when a value costs more than
        looking it up (mpf)."""
        return compute if self.arithmetic.cheap else self._memoized(node, compute)

    def _compile_symbol(self, node: Symbol):
        total = self.memory.sigma.get(node)
        if total is not None:  # a written-out sum, named
            of, key = self.function(total), id(node)  # (kept alive by memory.sigma)

            def named(env, st):
                value = st.memo.get(key)
                if value is None:
                    value = st.memo[key] = of(st.env, st)
                return value

            return named

        from_int, default = self.arithmetic.from_int, self.arithmetic.number(_DEFAULT)

        def symbol(env, st):
            value = env.get(node)
            if value is not None:
                return from_int(value)
            value = st.symbol(node)
            if value is None:
                return default
            if value is UNSUPPORTED:
                raise Unsupported(str(node))
            return value

        return symbol

    def _compile_indexed(self, node: Indexed):
        base = node.args[0]
        where = self._index_getter(node.args[1]) if len(node.args) == 2 else self._indices_getter(node.args[1:])
        if base in self.definitions:
            defined, slot = self._defined, self.slots.setdefault(base, len(self.slots))
            return lambda env, st: defined(slot, base, where(env), st)

        default, token = self.arithmetic.number(_DEFAULT), leaf_token(base)

        def leaf(env, st):
            value = st.leaf(token, where(env))
            if value is None:
                return default
            if value is UNSUPPORTED:
                raise Unsupported(str(node))
            return value

        return leaf

    def _compile_sum(self, node):
        if isinstance(node, Sum) and len(node.limits) > 1:
            return self._compile_sums(node)
        function, (index, lower, upper) = node.args[0], node.args[1]
        body = self.function(function)
        low, high = self._index_getter(lower), self._index_getter(upper)
        skip = self._index_getter(node.args[2]) if isinstance(node, SumExcept) else (lambda env: None)
        reduce = self.arithmetic.total

        def terms(env, st):
            inner, excluded = dict(env), skip(env)
            for value in range(low(env), high(env) + 1):
                if value != excluded:
                    inner[index] = value
                    yield body(inner, st)

        def total(env, st):
            return reduce(terms(env, st))

        return self._memoized(node, total)

    def _compile_sums(self, node: Sum):
        """``Σ_i Σ_j f``, one Sum with its limits innermost first: nested loops, the outermost outside."""
        body = self.function(node.function)
        loops = [(index, self._index_getter(lower), self._index_getter(upper)) for index, lower, upper in node.limits]
        reduce = self.arithmetic.total

        def terms(inner, st, level):
            index, low, high = loops[level]
            for value in range(low(inner), high(inner) + 1):
                inner[index] = value
                if level:
                    yield from terms(inner, st, level - 1)
                else:
                    yield body(inner, st)

        def total(env, st):
            return reduce(terms(dict(env), st, len(loops) - 1))

        return self._memoized(node, total)

    def _compile_derivative(self, node: Derivative):
        """``∂f/∂x``: for each H and index values, a plan (the partials compiled); at each point, its value."""
        function, ((variable, _),) = node.args[0], node.variable_count
        keep = variable.base if isinstance(variable, Indexed) and variable.base in self.definitions else None
        names = sorted(free_indices(node, self.memory.free), key=str)
        plans: dict = {}

        def derivative(env, st):
            key = (st.classes, *[env.get(name) for name in names])
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = self.plan_derivative(function, variable, keep, env, st.classes)
            return plan(st)

        # a plan remembers its own rates at each point; in floats looking the value up costs more
        return derivative if self.arithmetic.cheap else self._memoized(node, derivative)

    def _index_getter(self, index: Basic):
        """``env -> int``: the value of an index expression."""
        if index.is_Integer:
            fixed = int(index)
            return lambda env: fixed
        if isinstance(index, Symbol):

            def symbol(env):
                value = env.get(index)
                if value is None:
                    raise Unsupported(f"unassigned index {index}")
                return value

            return symbol
        return lambda env: index_value(index, env)

    def _indices_getter(self, indices):
        getters = [self._index_getter(index) for index in indices]
        return lambda env: tuple(get(env) for get in getters)

    def _defined(self, slot: int, base, index, st: PointState):
        """``o_m`` from its definition, once per point (``slot`` numbers the defined quantity ``base``)."""
        key = (slot, index)
        value = st.defined.get(key)
        if value is None:
            if key in st.busy or isinstance(index, tuple):
                raise Unsupported(f"definition of {base}")
            st.busy.add(key)
            symbol, body = self.definitions[base]
            try:
                value = st.defined[key] = self.evaluate(body, {CLASSES: st.classes, symbol: index}, st)
            finally:
                st.busy.discard(key)
        return value

    def _other(self, node, env, st):
        """Anything else: SymPy's own ``evalf`` on the node, with its arguments as numbers."""
        numbers = self.arithmetic
        try:
            if node.args:
                node = node.func(*[numbers.to_sympy(self.evaluate(arg, env, st)) for arg in node.args])
            number = node.evalf(PRECISION + 10)
        except (TypeError, ValueError, AttributeError, NotImplementedError) as error:
            raise Unsupported(str(error)) from None
        if number.is_number:
            if number.is_extended_real is False:
                raise ComplexResult(str(node))
            if isinstance(number, Float) or number.is_Rational:
                return numbers.from_sympy(number)
            return numbers.nan  # an infinity or nan: not a number
        raise Unsupported(str(node))

    def _delta(self, node, env, st):
        if len(node.args) != 2:
            raise Unsupported(str(node))
        left, right = (self.evaluate(arg, env, st) for arg in node.args)
        return self.arithmetic.one if self.arithmetic.equal(left, right) else self.arithmetic.zero

    def _piecewise(self, node, env, st):
        for pair in node.args:
            expr, condition = pair.args
            if self._truth(condition, env, st):
                return self.evaluate(expr, env, st)
        return self.arithmetic.nan

    def _truth(self, condition, env, st) -> bool:
        if isinstance(condition, BooleanTrue):
            return True
        if isinstance(condition, BooleanFalse):
            return False
        if isinstance(condition, Relational) and condition.rel_op in _COMPARE:
            left, right = (self.evaluate(side, env, st) for side in condition.args)
            if not (self.arithmetic.finite(left) and self.arithmetic.finite(right)):
                raise Unsupported(str(condition))
            return _COMPARE[condition.rel_op](self.arithmetic.compare(left, right))
        if isinstance(condition, And):
            return all(self._truth(arg, env, st) for arg in condition.args)
        if isinstance(condition, Or):
            return any(self._truth(arg, env, st) for arg in condition.args)
        if isinstance(condition, Not):
            return not self._truth(condition.args[0], env, st)
        raise Unsupported(str(condition))


_COMPILERS = {
    Add: Compiler._compile_add, Mul: Compiler._compile_mul, Pow: Compiler._compile_pow,
    exp: Compiler._compile_exp, log: Compiler._compile_log, Symbol: Compiler._compile_symbol,
    Indexed: Compiler._compile_indexed, Sum: Compiler._compile_sum, SumExcept: Compiler._compile_sum,
    Derivative: Compiler._compile_derivative,
}


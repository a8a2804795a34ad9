"""The fast evaluator's numbers: each expression compiled once into closures over mpf tuples."""

from __future__ import annotations

from mpmath.libmp import (
    ComplexResult,
    fnan,
    fone,
    from_int,
    from_rational,
    fzero,
    mpf_add,
    mpf_cmp,
    mpf_div,
    mpf_eq,
    mpf_exp,
    mpf_log,
    mpf_mul,
    mpf_pos,
    mpf_pow,
    mpf_pow_int,
    mpf_sqrt,
)
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

from derive.certify.fast_path import _free_indices, _State, _Unsupported
from derive.certify.numbers import _MP, _MPMATH, _RN, _UNSUPPORTED, _WP, PRECISION, _finite, _number, _square
from derive.sums import SumExcept
from derive.symbols import CLASSES

_DEFAULT = Float("0.37", PRECISION)._mpf_  # a leaf with no value (as before)
_BIG = 16  # sums and products with more arguments than this are remembered per point
_COMPARE = {"==": lambda c: c == 0, "!=": lambda c: c != 0, "<": lambda c: c < 0,
            "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}


class _Compiling:
    """The part of ``Evaluator`` that computes values (see ``derive.certify.evaluator``)."""

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
        return self._fold(node, mpf_add, fzero)

    def _compile_mul(self, node: Mul):
        return self._fold(node, mpf_mul, fone)

    def _fold(self, node, combine, start):
        """A sum or product of the compiled arguments (two arguments without a loop)."""
        parts = [self._fn(arg) for arg in node.args]
        if len(parts) == 2:
            first, second = parts
            return lambda env, st: combine(first(env, st), second(env, st), _WP, _RN)

        def fold(env, st):
            total = start
            for part in parts:
                total = combine(total, part(env, st), _WP, _RN)
            return total

        return self._memoized(node, fold) if len(parts) > _BIG else fold

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


_COMPILERS = {
    Add: _Compiling._compile_add, Mul: _Compiling._compile_mul, Pow: _Compiling._compile_pow,
    exp: _Compiling._compile_exp, log: _Compiling._compile_log, Symbol: _Compiling._compile_symbol,
    Indexed: _Compiling._compile_indexed, Sum: _Compiling._compile_sum, SumExcept: _Compiling._compile_sum,
    Derivative: _Compiling._compile_derivative,
}


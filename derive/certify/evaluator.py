"""``Evaluator``: the certifier's fast numerical evaluation of trail expressions."""

from __future__ import annotations

from mpmath.libmp import ComplexResult
from sympy import Basic, Eq

from derive.certify.arithmetic import FLOATS, MPF, Arithmetic
from derive.certify.compile import Compiler
from derive.certify.derivatives import Differentiator
from derive.certify.fast_path import PointState, Unsupported, fast_path_covers
from derive.certify.memory import SymbolicMemory
from derive.certify.numbers import MP_CONTEXT, mpf_finite, mpf_of, sympy_number
from derive.certify.points import World
from derive.certify.reference import ReferenceEvaluator
from derive.symbols import CLASSES


class Evaluator:
    """Evaluates trail expressions numerically in a ``World``, given the trail's definitions.

    It computes in ``arithmetic``: ``MPF`` (193 bits) by default, or ``FLOATS``.  In
    floats it never falls back on the reference method: what floats cannot decide
    (a value outside the fast path, a division by zero, an overflow, a value that is
    not real) has the value ``None``, and the certifier asks the ``MPF`` evaluator.

    ``memory`` shares the symbolic work with another evaluator (``SymbolicMemory``).
    Everything remembered is keyed on content (an expression, H and the values of
    the indices it depends on), so a remembered value is the value it stands for.
    ``cache=False`` forgets everything after each value (for the tests).
    ``fallback=False`` never uses the reference method, in any arithmetic: a value the
    fast path does not cover, or that is not a finite real number, is ``None``.

    It is composed of a ``Compiler`` (values) and a ``Differentiator`` (derivatives), which
    share ``memory`` and this arithmetic; a derivative's compiled closure asks the
    differentiator for its plan, and the differentiator compiles its partials with the compiler.
    """

    def __init__(
        self, definitions: tuple[Eq, ...], cache: bool = True, arithmetic: Arithmetic = MPF,
        memory: SymbolicMemory | None = None, fallback: bool = True,
    ):
        self.arithmetic = arithmetic
        self.fallback = fallback and arithmetic is not FLOATS  # whether the reference method computes what the fast path does not
        self.definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}
        self.reference = ReferenceEvaluator(definitions)
        self.cache = cache
        self.fallbacks = 0  # values that needed the reference method
        self.memory = memory if memory is not None else SymbolicMemory()  # (without a cache, each value starts a new one)
        self._forget()

    def release(self) -> None:
        """Forget everything now.  The compiled closures refer back to the compiler and the
        differentiator, cycles that would otherwise hold their memory until Python's cycle
        collector runs."""
        self.compiler.clear()
        self.differentiator.clear()
        self.memory = SymbolicMemory()
        self._forget()

    def _forget(self) -> None:
        """A new compiler and differentiator (and, without a cache, a new memory)."""
        if not self.cache:
            self.memory = SymbolicMemory()
        self.compiler = Compiler(self.definitions, self.arithmetic, self.memory)
        self.differentiator = Differentiator(self.definitions, self.arithmetic, self.memory, self.compiler.function)
        self.compiler.plan_derivative = self.differentiator.plan

    def value(self, expr: Basic, world: World) -> Basic:
        """The value as a SymPy number (a Float of 50 digits when it is real)."""
        return sympy_number(self.number(expr, world))

    def real(self, expr: Basic, world: World):
        """The value as an mpmath number at the certifier's working precision, or None when it is not a
        finite real number (``MPF`` only)."""
        value = self.number(expr, world)
        if isinstance(value, tuple):
            return MP_CONTEXT.make_mpf(value)
        number = None if value is None else mpf_of(value)  # (the reference method's SymPy number)
        return MP_CONTEXT.make_mpf(number) if isinstance(number, tuple) and mpf_finite(number) else None

    def number(self, expr: Basic, world: World):
        """The value: a number of the arithmetic (an mpf tuple or a float), a SymPy number (reference
        method, ``MPF`` only), or None when it is not a number (or, in floats, not decided)."""
        if not self.cache:
            self._forget()
            world.cache.pop(self, None)
        indices = {symbol: int(value) for symbol, value in world.indices.items()}
        key = (expr, frozenset(indices))
        memory = self.memory
        covered = memory.covered.get(key)
        if covered is None:
            covered = memory.covered[key] = fast_path_covers(expr, key[1], memory.plain)
        alone = not self.fallback
        if not covered and alone:
            return None
        if covered:
            state = world.cache.get(self)
            if state is None:
                state = world.cache[self] = PointState(world.classes, world.values, self.arithmetic)
            env = {CLASSES: world.classes, **indices}
            try:
                value = self.compiler.evaluate(expr, env, state)
            except ZeroDivisionError:
                return None
            except (ComplexResult, Unsupported, OverflowError):
                if alone:
                    return None
            else:
                return value if self.arithmetic.finite(value) else None
        self.fallbacks += 1
        return self.reference.value(expr, world)

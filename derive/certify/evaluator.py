"""``Evaluator``: the certifier's fast numerical evaluation of trail expressions."""

from __future__ import annotations

from dataclasses import dataclass, field

from mpmath.libmp import ComplexResult
from sympy import Basic, Eq

from derive.certify.compile import _Compiling
from derive.certify.derivatives import _Differentiating
from derive.certify.fast_path import _fast_path_covers, _State, _Unsupported
from derive.certify.arithmetic import FLOATS, MPF, Arithmetic
from derive.certify.numbers import _sympy_number
from derive.certify.points import World
from derive.certify.reference import ReferenceEvaluator
from derive.symbols import CLASSES


@dataclass
class SymbolicMemory:
    """What an evaluator learns about expressions, whatever it computes in.

    All of it is symbolic (expressions written out, ``sympy.diff`` results, which
    indices a node depends on), keyed on content, so evaluators in different
    arithmetics can share one: the 193-bit evaluator that rechecks a point then
    does not take the derivatives the float evaluator already took.
    """

    free: dict = field(default_factory=dict)  # node -> the integer symbols its value depends on
    seen: dict = field(default_factory=dict)  # id(node) -> (node, the equal node used as a key, its indices)
    interned: dict = field(default_factory=dict)  # node -> the first equal node seen
    plain: dict = field(default_factory=dict)  # node -> whether it has no sum or derivative inside
    covered: dict = field(default_factory=dict)  # (expr, assigned indices) -> whether the fast path applies
    concrete: dict = field(default_factory=dict)  # (node, H, index values) -> the node written out
    atoms: dict = field(default_factory=dict)  # (base, indices) -> Indexed with integer indices
    sigma: dict = field(default_factory=dict)  # intermediate standing for a written-out sum -> the sum
    shapes: dict = field(default_factory=dict)  # body -> (its atoms, its terms by atom when it is a long sum)
    tapes: dict = field(default_factory=dict)  # (root, H, kept base) -> its _Tape
    bodies: dict = field(default_factory=dict)  # (defined quantity, H) -> its definition written out
    inners: dict = field(default_factory=dict)  # (body, kept base) -> the intermediates in it
    wides: dict = field(default_factory=dict)  # (body, kept base, H) -> whether a part has many intermediates
    partials: dict = field(default_factory=dict)  # (H, owner, atom) -> ∂ owner / ∂ atom
    canonical: dict = field(default_factory=dict)  # (expression in canonical symbols, variable) -> its derivative
    names: list = field(default_factory=list)  # t_0, t_1, ...: the names atoms get while a derivative is taken


class Evaluator(_Compiling, _Differentiating):
    """Evaluates trail expressions numerically in a ``World``, given the trail's definitions.

    It computes in ``arithmetic``: ``MPF`` (193 bits) by default, or ``FLOATS``.  In
    floats it never falls back on the reference method: what floats cannot decide
    (a value outside the fast path, a division by zero, an overflow, a value that is
    not real) has the value ``None``, and the certifier asks the ``MPF`` evaluator.

    ``memory`` shares the symbolic work with another evaluator (``SymbolicMemory``).
    Everything remembered is keyed on content (an expression, H and the values of
    the indices it depends on), so a remembered value is the value it stands for.
    ``cache=False`` forgets everything after each value (for the tests).
    """

    def __init__(
        self, definitions: tuple[Eq, ...], cache: bool = True, arithmetic: Arithmetic = MPF,
        memory: SymbolicMemory | None = None,
    ):
        self.arithmetic = arithmetic
        self.definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}
        self.reference = ReferenceEvaluator(definitions)
        self.cache = cache
        self.fallbacks = 0  # values that needed the reference method
        self.memory = memory if memory is not None else SymbolicMemory()  # (without a cache, _forget drops it)
        self._forget()

    def release(self) -> None:
        """Forget everything now.  The compiled closures refer back to the evaluator, a cycle that
        would otherwise hold their memory until Python's cycle collector runs."""
        self.memory = SymbolicMemory()
        self._forget()

    def _forget(self) -> None:
        if not self.cache:
            self.memory = SymbolicMemory()
        memory = self.memory
        self._free, self._seen, self._interned = memory.free, memory.seen, memory.interned
        self._plain, self._covered, self._concrete = memory.plain, memory.covered, memory.concrete
        self._atoms, self._sigma, self._shapes, self._tapes = memory.atoms, memory.sigma, memory.shapes, memory.tapes
        self._bodies, self._inners, self._wides = memory.bodies, memory.inners, memory.wides
        self._partials, self._canonical, self._canonical_names = memory.partials, memory.canonical, memory.names
        # closures, in this evaluator's arithmetic
        self._compiled: dict = {}  # id(node) -> (node, its closure)
        self._slots: dict = {}  # defined quantity (o, e) -> a number standing for it in per-point keys
        self._rates: dict = {}  # (owner, leaf, kept base, H) -> its _Rate (None: identically 0)
        self._linked: dict = {}  # (owner, kept base, H) -> its intermediates, their bodies, its partials by them
        self._sweeps: dict = {}  # _Tape -> point -> the adjoints of its intermediates

    # -- public ------------------------------------------------------------------------------
    def value(self, expr: Basic, world: World) -> Basic:
        """The value as a SymPy number (a Float of 50 digits when it is real)."""
        return _sympy_number(self.number(expr, world))

    def number(self, expr: Basic, world: World):
        """The value: a number of the arithmetic (an mpf tuple or a float), a SymPy number (reference
        method, ``MPF`` only), or None when it is not a number (or, in floats, not decided)."""
        if not self.cache:
            self._forget()
            world.cache.pop(self, None)
        indices = {symbol: int(value) for symbol, value in world.indices.items()}
        key = (expr, frozenset(indices))
        covered = self._covered.get(key)
        if covered is None:
            covered = self._covered[key] = _fast_path_covers(expr, key[1], self._plain)
        floats = self.arithmetic is FLOATS
        if not covered and floats:
            return None
        if covered:
            state = world.cache.get(self)
            if state is None:
                state = world.cache[self] = _State(world.classes, world.values, self.arithmetic)
            env = {CLASSES: world.classes, **indices}
            try:
                value = self._ev(expr, env, state)
            except ZeroDivisionError:
                return None
            except (ComplexResult, _Unsupported, OverflowError):
                if floats:
                    return None
            else:
                return value if self.arithmetic.finite(value) else None
        self.fallbacks += 1
        return self.reference.value(expr, world)

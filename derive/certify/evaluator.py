"""``Evaluator``: the certifier's fast numerical evaluation of trail expressions."""

from __future__ import annotations

from mpmath.libmp import ComplexResult
from sympy import Basic, Eq

from derive.certify.compile import _Compiling
from derive.certify.derivatives import _Differentiating
from derive.certify.fast_path import _fast_path_covers, _State, _Unsupported
from derive.certify.numbers import _finite, _sympy_number
from derive.certify.points import World
from derive.certify.reference import ReferenceEvaluator
from derive.symbols import CLASSES


class Evaluator(_Compiling, _Differentiating):
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
        self._canonical_names: list = []  # t_0, t_1, ...: the names atoms get while a derivative is taken
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

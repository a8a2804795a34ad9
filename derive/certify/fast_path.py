"""What the fast path covers, which indices a value depends on, and what it knows at one point."""

from __future__ import annotations

from collections.abc import Mapping

from sympy import Basic, Derivative, Indexed, Integer, Sum, Symbol
from sympy.concrete.expr_with_limits import ExprWithLimits

from derive.certify.numbers import UNSUPPORTED
from derive.certify.points import RandomValues, leaf_token
from derive.sums import SumExcept
from derive.symbols import CLASSES


class Unsupported(Exception):
    """The fast path does not cover this expression: use the reference method."""


def index_value(expr: Basic, env: dict) -> int:
    """The value of an index expression (``k``, ``k + 1``) at the index values ``env``."""
    if expr.is_Integer:
        return int(expr)
    if isinstance(expr, Symbol):
        value = env.get(expr)
        if value is None:
            raise Unsupported(f"unassigned index {expr}")
        return value
    try:
        return int(expr.xreplace({symbol: Integer(value) for symbol, value in env.items()}))
    except (TypeError, ValueError):
        raise Unsupported(f"index {expr}") from None


def free_indices(node: Basic, memo: dict) -> frozenset:
    """The integer symbols a node's value depends on, including a derivative's variable (SymPy leaves it out)."""
    found = memo.get(node)
    if found is None:
        if isinstance(node, Symbol):
            found = frozenset((node,)) if node.is_integer else frozenset()
        elif isinstance(node, SumExcept):
            index, limits, rest = node.args[1][0], node.args[1][1:], (node.args[2],)
            inner = free_indices(node.args[0], memo) - {index}
            found = inner.union(*(free_indices(part, memo) for part in (*limits, *rest)))
        elif isinstance(node, Sum):  # Σ_i Σ_j f is one Sum, its limits innermost first
            found = free_indices(node.function, memo)
            for index, *limits in node.limits:
                found = (found - {index}).union(*(free_indices(part, memo) for part in limits))
        elif not node.args:
            found = frozenset()
        else:
            found = frozenset().union(*(free_indices(arg, memo) for arg in node.args))
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


def fast_path_covers(expr: Basic, assigned: frozenset, plain: dict) -> bool:
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
        elif isinstance(node, Sum):  # several limits (Σ_i Σ_j f) only outside a derivative
            if (len(node.limits) != 1 and in_derivative) or any(len(limit) != 3 for limit in node.limits):
                return False
            indices = {limit[0] for limit in node.limits}
            if len(indices) != len(node.limits) or indices & (assigned | bound):
                return False
            pending.append((node.function, bound | indices, in_derivative))
            pending.extend((part, bound | indices, in_derivative) for limit in node.limits for part in limit[1:])
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


class PointState:
    """What one evaluator has computed at one point."""

    __slots__ = ("classes", "env", "memo", "defined", "busy", "adjoints", "tangents", "leaf", "symbol")

    def __init__(self, classes: int, values: Mapping, numbers):
        self.classes = classes
        self.env = {CLASSES: classes}  # for concrete expressions: only H is left to know
        self.memo: dict = {}
        self.defined: dict = {}
        self.busy: set = set()
        self.adjoints: dict = {}
        self.tangents: dict = {}
        if isinstance(values, RandomValues):
            self.leaf, self.symbol = values.source(numbers)
        else:
            leaves, symbols = {}, {}
            for key, value in values.items():
                if isinstance(key, Indexed) and all(index.is_Integer for index in key.indices):
                    indices = tuple(int(index) for index in key.indices)
                    leaves[(leaf_token(key.base), indices[0] if len(indices) == 1 else indices)] = _number_of(value, numbers)
                elif isinstance(key, Symbol):
                    symbols[key] = _number_of(value, numbers)
            self.leaf = lambda base, index: leaves.get((base, index))
            self.symbol = symbols.get


def _number_of(value, numbers):
    """A given leaf value in ``numbers``' arithmetic (``UNSUPPORTED`` when it is not a real number)."""
    try:
        return numbers.from_sympy(value)
    except (TypeError, ValueError, OverflowError):
        return UNSUPPORTED

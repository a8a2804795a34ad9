"""Terms keep their places from one step to the next.

SymPy stores a sum's terms in its own canonical order, so a step that rewrites one
term (or distributes a minus sign) can print the others in a new order, and the
reader sees terms jump about that the step never touched.  A lecturer copies the
line down and changes only what the step changes.

:func:`carried_orders` walks a trail once and decides, for every sum (``Add``) that
appears, the order its terms are written in: the first time a sum appears, each of
its terms goes to the place of the most similar term of a sum in the expression
before it (the same term, or the one sharing most of its symbols and the same kind
of sum); terms with no counterpart follow in the printer's own order.  After a line whose terms
the engine laid out for show (a product multiplied out, its cancelling pair side by side), the next
line starts with a positive term again.  A sum that
appears again is written as it was the first time.  A sum the engine built
unevaluated (``evaluate=False``) keeps the engine's order and is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sympy import Add, Basic, Derivative, Function, Indexed, Sum, UnevaluatedExpr

from derive.present.latex_order import is_unevaluated
from derive.sums import SumExcept
from derive.trail import Step

Orders = dict  # Add -> tuple of its terms, in the order they are written
CLOSE = 0.6  # the least similarity at which one term counts as another's counterpart


def is_negative_term(term: Basic) -> bool:
    """A term written with a leading minus sign."""
    return not isinstance(term, Add) and term.as_coeff_Mul()[0].is_negative


def default_order(expr: Add) -> tuple:
    """The printer's own order: SymPy's ordered terms, positive terms first."""
    return _positive_first(tuple(expr.as_ordered_terms()))


def written_order(orders: Orders, expr: Add) -> tuple:
    """The order the printer writes ``expr``'s terms in."""
    if expr in orders:
        return orders[expr]
    return expr.args if is_unevaluated(expr) else default_order(expr)


def _sums(expr: Basic) -> Iterator[Add]:
    if isinstance(expr, Add):
        yield expr
    for arg in expr.args:
        yield from _sums(arg)


def _core(term: Basic) -> Basic:
    """A term with holds opened and each derivative counted as what it differentiates (the sum rule
    turns ``f`` into ``∂f/∂Z_k``)."""
    core = term.args[0] if isinstance(term, UnevaluatedExpr) else term
    return core.replace(lambda node: isinstance(node, Derivative), lambda node: node.expr)


def _features(term: Basic) -> frozenset:
    """What a term is made of, whatever its indices: ``y_k(1 − O_k)`` is like ``(y_i/O_i)·O_i(1 − O_i)``."""
    core = _core(term)
    found = {str(node.base) for node in core.atoms(Indexed)}
    found |= {type(node).__name__ for node in core.atoms(Function)}
    found |= {"sum"} if core.has(Sum, SumExcept) else set()
    return frozenset(found | ({"minus"} if is_negative_term(term) else set()))


def _similarity(term: Basic, other: Basic) -> float:
    if term == other:
        return 10.0
    if _core(term) == _core(other):
        return 5.0
    mine, theirs = _features(term), _features(other)
    if not mine or not theirs:
        return 0.0
    alike = len(mine & theirs) / len(mine | theirs)
    if alike < CLOSE:
        return 0.0
    shared_sum = "sum" in mine & theirs
    same_symbols = term.atoms(Indexed) == other.atoms(Indexed)
    return alike + (1.0 if shared_sum else 0.0) + (0.25 if same_symbols else 0.0)


def _placed(expr: Add, written: tuple) -> tuple[float, tuple]:
    """``expr``'s terms ordered by the places of their counterparts in ``written``, and how well they match.

    A term counts as another's counterpart only when they are alike (``CLOSE``); a term with none
    takes the first place left free, in the printer's own order.
    """
    pairs = sorted(
        ((_similarity(term, other), position, place) for position, term in enumerate(expr.args)
         for place, other in enumerate(written)),
        key=lambda triple: (-triple[0], triple[1], triple[2]),
    )
    place_of: dict[int, int] = {}
    taken: set[int] = set()
    score = 0.0
    for similarity, position, place in pairs:
        if similarity < CLOSE or position in place_of or place in taken:
            continue
        place_of[position], score = place, score + similarity
        taken.add(place)
    free = iter(sorted(set(range(max(len(written), len(expr.args)) + len(expr.args))) - taken))
    for term in default_order(expr):
        position = expr.args.index(term)
        if position not in place_of:
            place_of[position] = next(free)
    keyed = sorted(range(len(expr.args)), key=place_of.__getitem__)
    return score, tuple(expr.args[position] for position in keyed)


def _positive_first(terms: tuple) -> tuple:
    """A line starts with a positive term where it has one (``O_k − y_k``, not ``−y_k + O_k``)."""
    return tuple([t for t in terms if not is_negative_term(t)] + [t for t in terms if is_negative_term(t)])


def _carry(orders: Orders, before: Basic, after: Basic) -> None:
    """Record an order for every new sum of ``after``, following the sums of ``before``."""
    previous = [(written_order(orders, node), is_unevaluated(node)) for node in _sums(before)]
    for node in _sums(after):
        if node in orders or is_unevaluated(node):
            continue
        candidates = [(*_placed(node, written), shown_as_built) for written, shown_as_built in previous]
        score, order, after_a_display = max(candidates, key=lambda found: found[0], default=(0.0, (), False))
        # terms the engine laid out for show (a product multiplied out beside its cancelling pair) are
        # followed by a line in the usual order, which starts with a positive term
        orders[node] = default_order(node) if score <= 0 else _positive_first(order) if after_a_display else order


def _walk(orders: Orders, start: Basic, steps: Iterable[Step]) -> None:
    _carry(orders, start, start)
    for step in steps:  # the step itself first: its substeps then write its result as it does
        _carry(orders, step.before, step.after)
        if step.focus is not None:
            _carry(orders, step.focus[0], step.focus[1])
        if step.substeps:
            _walk(orders, step.substeps[0].before, step.substeps)


def carried_orders(start: Basic, steps: Iterable[Step]) -> Orders:
    """The written order of every sum in a derivation that starts at ``start`` and takes ``steps``."""
    orders: Orders = {}
    _walk(orders, start, steps)
    return orders

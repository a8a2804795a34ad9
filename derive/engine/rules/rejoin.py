"""Rejoining a split sum: ``c·Σ_{i≠k} f_i + c·f_k = c·Σ_i f_i``.

When no assumption removes ``Σ_{i≠k} y_i``, the term that the index split took
out is put back, giving the compact ``O_k Σ_i y_i − y_k``.  The products are
multiplied out first (a substep) so that the matching term can be seen: one bracket
where that is enough (``O_k(1 − O_k)(O_k − y_k)`` gives ``O_k(O_k − y_k) − O_k²(O_k − y_k)``),
otherwise all of them.
"""

from sympy import Add, Mul, Sum

from derive.engine.rules.base import local
from derive.engine.rules.expand_products import EXPAND, expanded_terms
from derive.sums import SumExcept
from derive.trail import Rule


def _split_sums(node):
    for term in Add.make_args(node):
        for factor in Mul.make_args(term):
            if isinstance(factor, SumExcept):
                yield term, factor


def _opened_once(term):
    """``term`` with one bracket multiplied out, for each bracket: ``(1 − O_k)·a -> [a, −O_k·a]``."""
    factors = Mul.make_args(term)
    for position, factor in enumerate(factors):
        if factor.is_Add:
            rest = Mul(*factors[:position], *factors[position + 1:])
            yield [rest * addend for addend in factor.args]


def _spellings(others):
    """The other terms as written, with one bracket opened (the least change: the step shows it at
    once), and fully multiplied out (shown in a substep); each with whether it needs that substep."""
    yield list(others), False
    for position, term in enumerate(others):
        for opened in _opened_once(term):
            yield [*others[:position], *opened, *others[position + 1:]], False
    expanded = expanded_terms(Add(*others))
    yield expanded, expanded != list(others)


def rejoin(node, ctx):
    if not isinstance(node, Add):
        return None
    for term, partial in _split_sums(node):
        coefficient = term / partial
        missing = coefficient * partial.function.xreplace({partial.index: partial.excluded})
        others = [t for t in Add.make_args(node) if t is not term]
        pieces, multiplied_out = next(((found, shown) for found, shown in _spellings(others) if missing in found),
                                      (None, False))
        if pieces is None:
            continue
        expanded = Add(term, *pieces, evaluate=False)
        pieces.remove(missing)
        whole = Sum(partial.function, (partial.index, partial.lower, partial.upper))
        after = Add(coefficient * whole, *pieces)
        substeps = (local(EXPAND, node, expanded), local(REJOIN, expanded, after)) if multiplied_out else ()
        return local(REJOIN, node, after, substeps=substeps)
    return None


REJOIN = Rule(
    slug="rejoin",
    title="Rejoining the sum",
    formula=r"\sum_{i \neq k} f_i + f_k = \sum_i f_i",
    function=rejoin,
    tidying=True,
)

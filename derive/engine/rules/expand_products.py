"""Expanding products, applied only where multiplying out makes the expression shorter.

``O_k(1 − y_k) − y_k(1 − O_k) = O_k − O_k y_k − y_k + O_k y_k``: the result is
kept unevaluated so the reader sees the pair that cancels (marked), and the
collect rule then removes it.
"""

from collections import defaultdict

from sympy import Add, Mul, S, count_ops

from derive.engine.rules.base import local
from derive.trail import Annotation, Mark, Rule


def written_order(node):
    """The terms of a sum as a person writes them: positive terms first, otherwise as SymPy keeps them."""
    terms = Add.make_args(node)
    negative = [t.as_coeff_Mul()[0].is_negative for t in terms]
    return [t for t, neg in zip(terms, negative) if not neg] + [t for t, neg in zip(terms, negative) if neg]


def _has_fraction(factor):
    return factor.is_Add and any(
        power.exp.is_negative for term in factor.args for power in Mul.make_args(term) if power.is_Pow)


def distribute(term):
    """``c·(a + b − d) -> [c·a, c·b, −c·d]``, in the written order of the bracket."""
    factors = Mul.make_args(term)
    # a bracket of fractions first, so that its denominators cancel against the factors in front
    for position, factor in sorted(enumerate(factors), key=lambda pair: not _has_fraction(pair[1])):
        if factor.is_Add:
            rest = Mul(*(f for p, f in enumerate(factors) if p != position))
            return [term for addend in written_order(factor) for term in distribute(rest * addend)]
    return [term]


def expanded_terms(node):
    return [piece for term in written_order(node) for piece in distribute(term)]


def cancelling_terms(terms):
    """Terms whose like-term group sums to zero."""
    groups = defaultdict(list)
    for term in terms:
        groups[term.as_coeff_Mul()[1]].append(term)
    return [term for group in groups.values() if len(group) > 1 and Add(*group) == S.Zero for term in group]


def _has_product_of_sum(node):
    return any(isinstance(t, Mul) and any(a.is_Add for a in t.args) for t in Add.make_args(node))


def expand_products(node, ctx):
    if not isinstance(node, (Add, Mul)) or not _has_product_of_sum(node):
        return None
    terms = expanded_terms(node)
    cancelling = cancelling_terms(terms)
    if count_ops(Add(*terms)) >= count_ops(node):
        return None  # only where the collected result is strictly shorter, so expand and factor never undo each other
    # with a cancelling pair, show the terms side by side (the collect rule removes the pair next);
    # without one, the written-out sum is simply the result
    after = Add(*terms, evaluate=False) if cancelling else Add(*terms)
    marks = tuple(Annotation(Mark.CANCEL, term) for term in cancelling)
    return local(EXPAND, node, after, annotations=marks)


EXPAND = Rule(
    slug="expand",
    title="Expanding the products",
    formula=r"a(b + c) = ab + ac",
    function=expand_products,
    tidying=True,
)

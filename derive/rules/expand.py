"""Expanding products, applied only where the expansion lets terms cancel.

``O_k(1 − y_k) − y_k(1 − O_k) = O_k − O_k y_k − y_k + O_k y_k``: the result is
kept unevaluated so the reader sees the pair that cancels (marked), and the
collect rule then removes it.
"""

from collections import defaultdict

from sympy import Add, Mul, S, expand as sympy_expand

from derive.rules.base import local
from derive.trail import Annotation, Mark, Rule


def _written_order(node):
    """Terms as a person writes them: those without a leading minus first, otherwise as given."""
    terms = Add.make_args(node)
    return [t for t in terms if not t.could_extract_minus_sign()] + [t for t in terms if t.could_extract_minus_sign()]


def expanded_terms(node):
    terms = []
    for term in _written_order(node):
        terms.extend(Add.make_args(sympy_expand(term, deep=False, power_exp=False, log=False, multinomial=False)))
    return terms


def cancelling_terms(terms):
    """Terms whose like-term group sums to zero."""
    groups = defaultdict(list)
    for term in terms:
        groups[term.as_coeff_Mul()[1]].append(term)
    return [term for group in groups.values() if len(group) > 1 and Add(*group) == S.Zero for term in group]


def expand(node, ctx):
    if not isinstance(node, Add) or not any(isinstance(t, Mul) and any(a.is_Add for a in t.args) for t in node.args):
        return None
    terms = expanded_terms(node)
    cancelling = cancelling_terms(terms)
    if not cancelling:
        return None
    after = Add(*terms, evaluate=False)
    marks = tuple(Annotation(Mark.CANCEL, term) for term in cancelling)
    return local(Rule.EXPAND, node, after, annotations=marks)

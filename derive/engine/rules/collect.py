"""Collecting like terms of a sum written out term by term: ``a − a = 0``."""

from sympy import Add

from derive.engine.rules.base import local
from derive.engine.rules.expand_products import cancelling_terms
from derive.trail import Annotation, Mark, Rule


def collect(node, ctx):
    if not isinstance(node, Add):
        return None
    after = Add(*node.args)
    if after == node:
        return None
    marks = tuple(Annotation(Mark.CANCELLED, term) for term in cancelling_terms(list(node.args)))
    return local(COLLECT, node, after, annotations=marks)


COLLECT = Rule(
    slug="collect",
    title="Collecting like terms",
    formula=r"a - a = 0",
    function=collect,
    tidying=True,
)

"""Recognising the result: ``f = g`` wherever ``f − g = 0``, for a simpler ``g`` (``O_k − y_k`` or 0).

A last step when the result equals ``O_k − y_k`` or 0 by value but not by form (a shifted
softmax, ``O_k − O_k Σ_i O_i``): the simpler form, first without and then under the
context's assumptions.  The engine tries it once, after the strategy reaches its fixpoint.
"""

from sympy import Derivative

from derive.engine.rules.base import local
from derive.symbols import OUTPUT
from derive.trail import Rule
from derive.engine.verdict import recognised
from derive.trail import assumed_total


def recognise(node, ctx):
    if node.has(Derivative):
        return None
    definitions = tuple(definition.equation() for definition in ctx.definitions if definition.base == OUTPUT)
    for assumptions in ((), ctx.assumptions) if ctx.assumptions else ((),):
        simpler = recognised(node, definitions, assumed_total(assumptions))
        if simpler is not None:
            return local(RECOGNISE, node, simpler, assumptions=tuple(assumptions))
    return None


RECOGNISE = Rule(
    slug="recognise",
    title="Recognising the result",
    formula=r"f = g \text{ wherever } f - g = 0",
    function=recognise,
)

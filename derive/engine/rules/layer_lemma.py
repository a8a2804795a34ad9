"""The output layer's gradient as a lemma: ``∂E/∂Z_i`` is the result of the derivation of ``∂E/∂Z_k``, at ``k = i``.

That derivation is run first, by the same rules, and certified on its own; the context carries its
result (``ctx.known``) and the assumptions it used, which the lemma relies on as well.  Its free index is renamed to the index at hand, and a summation index of the
result that would clash with it is renamed first.
"""

from __future__ import annotations

from sympy import Indexed

from derive.context import Definition
from derive.engine.rules.base import is_derivative, known_result, local, parts
from derive.symbols import FREE_INDEX, INNER_INDEX, INPUT_INDEX, UNIT_INDEX
from derive.trail import Rule

RESERVED = frozenset({FREE_INDEX, INNER_INDEX, INPUT_INDEX, UNIT_INDEX})


def layer_lemma(node, ctx):
    if not is_derivative(node):
        return None
    f, unit = parts(node)
    if not isinstance(unit, Indexed):
        return None
    known = known_result(ctx, f, unit.base)
    if known is None:
        return None
    value, index, assumptions = known
    avoid = frozenset(node.free_symbols) | RESERVED  # a summation index never takes a parameter's index name
    renamed = Definition(unit.base, index, value).at(unit.indices[0], avoid)
    return local(LAYER_LEMMA, node, renamed, assumptions=assumptions)


LAYER_LEMMA = Rule(
    slug="layer-lemma",
    title="Lemma: the output layer's gradient",
    formula=r"\partial E / \partial Z_i = \left.\partial E / \partial Z_k\right|_{k = i}",
    function=layer_lemma,
    pivotal=True,
    kept_in_brief=True,
    lemma="recalled",
)

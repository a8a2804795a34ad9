"""Derivative of a linear layer: ``∂Z_i/∂W_kj = δ_ik x_j``, ``∂Z_i/∂b_k = δ_ik``, ``∂Z_i/∂x_d = W_id``.

``Z_i = Σ_d W_id x_d + b_i`` is written out and differentiated term by term.  A term is linear in the
parameter's base: ``∂W_id/∂W_kj = δ_ik δ_dj``, and the sum over ``d`` keeps its one term ``d = j``
(``j`` is one of the inputs, so it is in range).  A term without the base contributes nothing.
"""

from __future__ import annotations

from sympy import Add, Indexed, KroneckerDelta, Mul, S, Sum

from derive.engine.rules.base import is_derivative, local, parts
from derive.trail import Annotation, Mark, Rule


def _term_derivative(term, p):
    """``∂term/∂p`` for a term linear in ``p``'s base (``None`` when it is not)."""
    summed = None
    if isinstance(term, Sum):
        if len(term.limits) != 1:
            return None
        summed, term = term.limits[0][0], term.function
    factors = Mul.make_args(term)
    hits = [f for f in factors if isinstance(f, Indexed) and f.base == p.base]
    if not hits:
        return None if term.has(p.base) else S.Zero
    if len(hits) != 1 or len(hits[0].indices) != len(p.indices):
        return None
    hit = hits[0]
    rest = Mul(*(f for f in factors if f is not hit))
    if rest.has(p.base):
        return None
    pairs = list(zip(hit.indices, p.indices))
    if summed is None:
        return Mul(*(KroneckerDelta(a, b) for a, b in pairs)) * rest
    sifted = [(a, b) for a, b in pairs if a == summed]
    if len(sifted) != 1 or any(summed in b.free_symbols for _, b in pairs):
        return None  # the summed index not sifted by exactly one delta: not this rule's case
    value = sifted[0][1]
    deltas = Mul(*(KroneckerDelta(a, b) for a, b in pairs if a != summed))
    return (deltas * rest).xreplace({summed: value})


def layer_derivative(node, ctx):
    if not is_derivative(node):
        return None
    unit, p = parts(node)
    if not isinstance(unit, Indexed) or not isinstance(p, Indexed):
        return None
    definition = ctx.definition_of(unit.base)
    if definition is None or not definition.body.has(p.base):
        return None
    body = definition.at(unit.indices[0], frozenset(p.free_symbols))
    pieces = [_term_derivative(term, p) for term in Add.make_args(body)]
    if any(piece is None for piece in pieces):
        return None
    return local(LAYER_DERIVATIVE, node, Add(*pieces), annotations=(Annotation(Mark.DEFINITION, unit, body),))


LAYER_DERIVATIVE = Rule(
    slug="layer-derivative",
    title="Derivative of the linear layer",
    formula=r"\partial Z_i / \partial W_{kj} = \delta_{ik} x_j",
    function=layer_derivative,
)

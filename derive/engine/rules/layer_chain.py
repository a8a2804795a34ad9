"""Chain rule through a layer: ``∂E/∂p = Σ_i ∂E/∂Z_i · ∂Z_i/∂p`` when ``E`` reaches ``p`` only through ``Z``.

``p`` is a parameter or an input of the network (``W_kj``, ``b_k``, ``x_d``: it has no definition).
``Z`` is the one layer whose definition uses ``p``'s base directly; the sum runs over all of its units,
since any ``Z_i`` may depend on ``p``.  The next rules find which ones do.
"""

from __future__ import annotations

from sympy import Indexed, Mul, Sum

from derive.context import fresh_index
from derive.engine.rules.base import d, is_derivative, local, parts
from derive.symbols import SUM_INDEX
from derive.trail import Annotation, Mark, Rule


def layer_using(base, ctx):
    """The one definition whose body uses ``base`` directly, or ``None`` (none, or several)."""
    found = [definition for definition in ctx.definitions if base in {n.base for n in definition.body.atoms(Indexed)}]
    return found[0] if len(found) == 1 else None


def reaches_only_through(f, base, layer, ctx) -> bool:
    """Whether every path from ``f`` to ``base`` goes through the ``layer``'s units."""
    f = f.xreplace(dict(ctx.scalars))
    pending, seen = [n.base for n in f.atoms(Indexed)], set()
    while pending:
        current = pending.pop()
        if current == base:
            return False
        if current in seen or current == layer.base:
            continue
        seen.add(current)
        definition = ctx.definition_of(current)
        if definition is not None:
            pending.extend(n.base for n in definition.body.atoms(Indexed))
    return True


def layer_chain(node, ctx):
    if not is_derivative(node):
        return None
    f, p = parts(node)
    if not isinstance(p, Indexed) or ctx.is_intermediate(p):
        return None
    layer = layer_using(p.base, ctx)
    if layer is None or (isinstance(f, Indexed) and f.base == layer.base) or not ctx.depends(f, p):
        return None
    if not reaches_only_through(f, p.base, layer, ctx):
        return None
    taken = node.free_symbols
    index = SUM_INDEX if SUM_INDEX not in taken else fresh_index(set(taken))
    unit = layer.base[index]
    size = ctx.classes if layer.size is None else layer.size
    after = Sum(Mul(d(f, unit), d(unit, p), evaluate=False), (index, 1, size))
    return local(LAYER_CHAIN, node, after, annotations=(Annotation(Mark.INTERMEDIATE, unit),))


LAYER_CHAIN = Rule(
    slug="layer-chain",
    title="Chain rule through the layer",
    formula=r"\partial E / \partial p = \sum_i \partial E / \partial Z_i \cdot \partial Z_i / \partial p",
    function=layer_chain,
)

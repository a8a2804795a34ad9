"""Chain rule through a layer: ``∂E/∂p = Σ_i ∂E/∂Z_i · ∂Z_i/∂p`` when ``E`` reaches ``p`` only through ``Z``.

``p`` is a parameter, an input or a hidden unit of the network (``W_kj``, ``b_k``, ``x_d``, ``h_m``), but not a
quantity whose derivative is already known (``Z``: the output layer's lemma gives it).
``Z`` is the one layer whose definition uses ``p``'s base directly; the sum runs over all of its units,
since any ``Z_i`` may depend on ``p``.  The next rules find which ones do.
"""

from __future__ import annotations

from sympy import Indexed, Mul, Sum

from derive.context import fresh_index
from derive.engine.rules.base import d, is_derivative, local, parts
from derive.symbols import SUM_INDEX, UNIT_SUM_INDICES
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
    if not isinstance(p, Indexed) or any(parts(known)[1].base == p.base for known, _, _ in ctx.known):
        return None  # a variable whose derivative is a known result: the lemma gives it
    layer = layer_using(p.base, ctx)
    if layer is None or (isinstance(f, Indexed) and f.base == layer.base) or not ctx.depends(f, p):
        return None
    if not reaches_only_through(f, p.base, layer, ctx):
        return None
    taken = set(node.free_symbols) | set(p.free_symbols)  # a derivative binds its variable: its indices count too
    if layer.size is None:  # the classes: i, as everywhere
        index = SUM_INDEX if SUM_INDEX not in taken else fresh_index(taken)
    else:  # hidden units: a letter of their own, whose range the context states (so the sifting knows it)
        index = next((n for n in UNIT_SUM_INDICES if n not in taken), None)
        if index is None:
            return None
    unit = layer.base[index]
    size = ctx.classes if layer.size is None else layer.size
    after = Sum(Mul(d(f, unit), d(unit, p), evaluate=False), (index, 1, size))
    return local(LAYER_CHAIN, node, after, annotations=(Annotation(Mark.INTERMEDIATE, unit),))


LAYER_CHAIN = Rule(
    slug="layer-chain",
    title="Chain rule through a layer",
    formula=r"\partial E / \partial p = \sum_i \partial E / \partial Z_i \cdot \partial Z_i / \partial p",
    function=layer_chain,
)

"""Definition: write a defined quantity out where it is about to be differentiated.

``∂E/∂Z_k`` with ``E = Σ_i e_i`` and ``e_i = −y_i ln O_i`` becomes
``∂(Σ_i −y_i ln O_i)/∂Z_k``; inside a lemma ``∂O_i/∂Z_k`` becomes
``∂(e^{Z_i}/Σ_j e^{Z_j})/∂Z_k``.  Only quantities the context marks as inline
are written out, and only under a derivative, so a result folded back into
``O`` is never expanded again.
"""

from sympy import Indexed

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Annotation, Mark, Rule


def definition(node, ctx):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    replacements = {}
    for quantity in f.atoms(Indexed):
        found = ctx.definition_of(quantity.base) if quantity.base in ctx.inline else None
        if found is not None and len(quantity.indices) == 1:
            replacements[quantity] = found.at(quantity.indices[0], frozenset(f.free_symbols | x.free_symbols))
    if not replacements:
        return None
    marks = tuple(Annotation(Mark.DEFINITION, quantity, body) for quantity, body in sorted(replacements.items(), key=str))
    return local(DEFINITION, node, d(f.xreplace(replacements), x), annotations=marks)


DEFINITION = Rule(
    slug="definition",
    title="Definition",
    formula=r"E = \sum_i e_i",
    function=definition,
    kept_in_brief=True,
)

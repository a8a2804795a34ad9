"""Chain rule: ``∂f(u)/∂x = ∂f(u)/∂u · ∂u/∂x`` when ``u`` is not ``x`` itself but depends on it.

When ``u`` is a variable (``O_i``, ``Z_i``) the outer derivative stays as ``∂f/∂u``
for the next rule to evaluate, the way a lecturer writes it.  When ``u`` is a
compound expression (``1 − O_i``) the outer derivative is taken at once with a
placeholder ``u`` and that elementary step is kept as a substep.
"""

from __future__ import annotations

from sympy import Basic, Function, Indexed, Pow, Symbol

from derive.engine.rules.base import d, is_derivative, local, parts
from derive.trail import Annotation, Mark, Rule


# the ``u`` of an elementary substep: a fixed symbol (not a Dummy) so output is reproducible;
# no user expression can contain it, since the parser admits only o, y, z, N and i, j, k
PLACEHOLDER = Symbol("u", real=True)


def _outer_and_inner(f: Basic) -> tuple[Basic, Basic] | None:
    if isinstance(f, Pow):
        return f, f.base
    if isinstance(f, Function) and len(f.args) == 1:
        return f, f.args[0]
    return None


def chain(node, ctx, outer_rules=()):
    if not is_derivative(node):
        return None
    f, x = parts(node)
    split = _outer_and_inner(f)
    if split is None:
        return None
    outer, inner = split
    if inner == x or not ctx.depends(inner, x):
        return None
    if isinstance(f, Pow) and ctx.depends(f.exp, x):
        return None
    if isinstance(inner, (Indexed, Symbol)):
        return local(CHAIN, node, d(outer, inner) * d(inner, x), annotations=(Annotation(Mark.INTERMEDIATE, inner),))
    placeholder = PLACEHOLDER
    elementary = d(outer.xreplace({inner: placeholder}), placeholder)
    for rule in outer_rules:
        step = rule(elementary, ctx)
        if step is not None:
            # the placeholder goes in after the product is formed, so a factor such as 2(O_i - y_i)
            # stays as written (SymPy distributes a number over a sum only in a product of two)
            after = (step.after * d(inner, x)).xreplace({placeholder: inner})
            return local(CHAIN, node, after, annotations=(Annotation(Mark.INTERMEDIATE, inner),), substeps=(step,))
    return None


CHAIN = Rule(
    slug="chain",
    title="Chain rule",
    formula=r"\partial f(u) / \partial x = \partial f / \partial u \cdot \partial u / \partial x",
    function=chain,
    placeholder_substeps=True,
    elementary=True,
)

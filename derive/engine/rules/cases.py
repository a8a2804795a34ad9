"""Cases of the Kronecker delta: ``f(δ_ik)`` is ``f(1)`` at ``i = k`` and ``f(0)`` at ``i ≠ k``."""

from sympy import Eq, KroneckerDelta, Piecewise, S, true

from derive.expressions import bound_indices
from derive.engine.rules.base import local
from derive.trail import Rule


def cases(node, ctx):
    if isinstance(node, Piecewise):
        return None
    bound = set(bound_indices(node))
    free = node.free_symbols - bound
    for delta in sorted(node.atoms(KroneckerDelta), key=lambda n: n.sort_key()):
        a, b = delta.args
        if a in free and b in free and a != b:
            same = node.xreplace({a: b})
            others = node.xreplace({delta: S.Zero})
            return local(CASES, node, Piecewise((same, Eq(a, b)), (others, true)))
    return None


CASES = Rule(
    slug="cases",
    title="Cases of the Kronecker delta",
    formula=r"\delta_{ik} = 1 \text{ if } i = k,\ 0 \text{ otherwise}",
    function=cases,
    kept_in_brief=True,
)

"""Index split: ``Σ_i f_i = Σ_{i≠k} f_i + f_k``, used where ``f_i`` holds ``δ_ik``.

In the ``i ≠ k`` terms ``δ_ik = 0``; in the single ``i = k`` term ``δ_kk = 1``.  When every
``i ≠ k`` term is zero (an elementwise activation), their sum is left out and ``f_k`` alone is written.
Each held value that carried the delta is marked with an underbrace naming its case.
"""

from sympy import Eq, KroneckerDelta, Ne, S, Sum

from derive.holding import held_parts, release
from derive.engine.rules.base import local
from derive.engine.rules.delta_sum import in_range
from derive.sums import SumExcept
from derive.trail import Annotation, Mark, Rule


def _split_partner(body, index):
    for delta in sorted(body.atoms(KroneckerDelta), key=lambda node: node.sort_key()):
        if index in delta.args:
            other = delta.args[1] if delta.args[0] == index else delta.args[0]
            if other != index and index not in other.free_symbols:
                return delta, other
    return None


def index_split(node, ctx):
    if not isinstance(node, Sum) or len(node.limits) != 1:
        return None
    index, lower, upper = node.limits[0]
    found = _split_partner(node.function, index)
    if found is None:
        return None
    delta, partner = found
    if in_range(partner, lower, upper, ctx) is not True:
        return None
    others = node.function.xreplace({delta: S.Zero})
    same = node.function.xreplace({index: partner})
    vanishing = release(others) == S.Zero
    cases = ((same, Eq(index, partner)),) if vanishing else ((others, Ne(index, partner)), (same, Eq(index, partner)))
    annotations = tuple(
        Annotation(Mark.UNDERBRACE, part, note)
        for expression, note in cases
        for part in held_parts(expression)
    )
    # a sum whose every term is zero is left out: only the i = k term is written
    after = same if vanishing else SumExcept(others, (index, lower, upper), partner) + same
    return local(INDEX_SPLIT, node, after, annotations=annotations)


INDEX_SPLIT = Rule(
    slug="index-split",
    title="Index split",
    formula=r"\sum_i f_i = \sum_{i \neq k} f_i + f_k",
    function=index_split,
    pivotal=True,
    kept_in_brief=True,
)

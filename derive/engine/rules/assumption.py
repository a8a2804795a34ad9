"""Substituting an assumption about the targets, ``Σ_i y_i = c`` (``c = 1`` for one-hot targets).

On the full sum it applies directly.  On ``Σ_{i≠k} y_i`` it first completes the
sum, ``Σ_{i≠k} y_i = Σ_i y_i − y_k``, and then applies it, giving ``c − y_k``;
both moves are kept as substeps.
"""

from sympy import Eq, Sum

from derive.engine.rules.base import local
from derive.engine.rules.index_split import INDEX_SPLIT
from derive.sums import SumExcept
from derive.trail import Rule


def _matches(summand_sum, assumption):
    statement = assumption.statement
    if not isinstance(statement, Eq) or not isinstance(statement.lhs, Sum):
        return False
    total = statement.lhs
    index = total.limits[0][0]
    own = summand_sum.args[1][0]
    if not summand_sum.function.has(own):
        return False
    return summand_sum.function.xreplace({summand_sum.args[1][0]: index}) == total.function and (
        tuple(summand_sum.args[1][1:]) == tuple(total.limits[0][1:])
    )


def assumption(node, ctx):
    if not isinstance(node, (Sum, SumExcept)):
        return None
    for hypothesis in ctx.assumptions:
        if isinstance(node, Sum):
            if len(node.limits) == 1 and _matches(node, hypothesis):
                return local(ASSUMPTION, node, hypothesis.statement.rhs, assumptions=(hypothesis,))
            continue
        if not _matches(node, hypothesis):
            continue
        whole = Sum(node.function, node.args[1])
        missing = node.function.xreplace({node.index: node.excluded})
        completed = whole - missing
        substeps = (
            local(INDEX_SPLIT, node, completed),
            local(ASSUMPTION, completed, hypothesis.statement.rhs - missing, assumptions=(hypothesis,)),
        )
        after = hypothesis.statement.rhs - missing
        return local(ASSUMPTION, node, after, assumptions=(hypothesis,), substeps=substeps)
    return None


ASSUMPTION = Rule(
    slug="assumption",
    title="Assumption",
    formula=r"\sum_i y_i = 1",
    function=assumption,
    pivotal=True,
    kept_in_brief=True,
)

"""Taking out common factors: ``(2a − 2b)/2 = a − b``, ``a·x + a·y = a(x + y)``.

Applied only where it makes the expression strictly shorter, so that a result
such as ``O_k(1 − O_k)(O_k − y_k)`` is written the way a person would leave it.
"""

from sympy import Add, Mul, count_ops, factor_terms

from derive.engine.rules.base import local
from derive.trail import Rule


def common_factor(node, ctx):
    if not isinstance(node, (Add, Mul)) or node.has(Add) is False:
        return None
    tidied = factor_terms(node)
    if tidied == node or count_ops(tidied) >= count_ops(node):
        return None
    if tidied.func(*tidied.args) == node:
        return None  # SymPy multiplies a number back into a sum (2(a − b) is 2a − 2b) once it is rebuilt in place
    return local(COMMON_FACTOR, node, tidied)


COMMON_FACTOR = Rule(
    slug="common-factor",
    title="Taking out common factors",
    formula=r"a b + a c = a (b + c)",
    function=common_factor,
    tidying=True,
)

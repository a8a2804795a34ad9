"""Writing the result as a multiple of ``O_k − y_k`` when it is one.

``−O_k^3 + O_k^2 y_k + O_k − y_k = (1 − O_k^2)(O_k − y_k)``: the last step of a
derivation factors out the output-minus-target gap whenever the remaining factor
depends on the outputs alone (or on the outputs and inputs, where the result keeps ``Z``), so the reader can compare the result with the
clean ``O_k − y_k`` at a glance.
"""

from sympy import Add, Indexed, Mul, Sum, cancel, count_ops

from derive.engine.rules.base import local
from derive.engine.rules.fold import tidiest
from derive.sums import SumExcept
from derive.symbols import FREE_INDEX, INPUT, OUTPUT, TARGET
from derive.trail import Rule

GAP = OUTPUT[FREE_INDEX] - TARGET[FREE_INDEX]


def factor_gap(node, ctx):
    if not isinstance(node, (Add, Mul)) or node.has(Sum, SumExcept) or node == GAP or not node.has(TARGET[FREE_INDEX]):
        return None
    if GAP in Mul.make_args(node) or -GAP in Mul.make_args(node):
        return None  # already written as a multiple of the gap
    ratio = cancel(node / GAP)
    if ratio.is_Number or any(ix.base not in (OUTPUT, INPUT) for ix in ratio.atoms(Indexed)) or ratio.has(Sum):
        return None  # a plain number times the gap is already as clear as it gets
    after = Mul(tidiest(ratio), GAP)
    if after == node or count_ops(after) > count_ops(node):
        return None
    return local(FACTOR_GAP, node, after)


FACTOR_GAP = Rule(
    slug="factor-gap",
    title="Factoring out the output error",
    formula=r"f\,(O_k - y_k)",
    function=factor_gap,
)

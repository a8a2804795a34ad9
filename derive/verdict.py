"""Does a derived gradient collapse to ``O_k − y_k``, and if not, what is in the way?

This inspects the certified result only.  The factor is reported when the result
is ``factor · (O_k − y_k)`` with a factor in the outputs alone (the sigmoid with
squared error gives ``O_k(1 − O_k)``); its zeros at the ends of the activation's
range are where a saturated unit stops learning.
"""

from __future__ import annotations

from sympy import Indexed, S, Sum, cancel, expand

from derive import catalog
from derive.holding import release
from derive.problem import Problem
from derive.rules.fold import tidiest
from derive.sums import SumExcept
from derive.symbols import FREE_INDEX, INPUT, OUTPUT, TARGET
from derive.trail import Verdict

TARGET_OUTPUT_GAP = OUTPUT[FREE_INDEX] - TARGET[FREE_INDEX]


def _ends(problem: Problem) -> tuple:
    if problem.activation_expr is not None or problem.activation not in catalog.ACTIVATIONS:
        return ()
    outputs = catalog.ACTIVATIONS[problem.activation].outputs
    return tuple(end for end in (outputs.start, outputs.end) if end.is_finite)


def _target_sums_to_one(expr):
    return expr.replace(
        lambda node: isinstance(node, Sum) and isinstance(node.function, Indexed) and node.function.base == TARGET,
        lambda node: S.One,
    )


def judge(result, problem: Problem) -> Verdict:
    result = release(result)
    if expand(result - TARGET_OUTPUT_GAP) == 0:
        return Verdict(True, S.One)
    summed = _target_sums_to_one(result)
    normalised = expand(summed - TARGET_OUTPUT_GAP) == 0
    value = None if summed == result or summed.has(Sum, SumExcept) else tidiest(summed)
    if result.has(Sum, SumExcept):
        return Verdict(False, None, when_targets_sum_to_one=normalised, when_normalised=value)
    ratio = cancel(result / TARGET_OUTPUT_GAP)
    if any(node.base not in (OUTPUT, INPUT) for node in ratio.atoms(Indexed)) or ratio.has(Sum, SumExcept):
        return Verdict(False, None, when_targets_sum_to_one=normalised, when_normalised=value)
    factor = tidiest(ratio)
    zeros = tuple(end for end in _ends(problem) if factor.xreplace({OUTPUT[FREE_INDEX]: end}) == 0)
    return Verdict(False, factor, zeros)

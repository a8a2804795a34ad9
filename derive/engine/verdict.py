"""Does a derived gradient collapse to ``O_k − y_k``, and if not, what is in the way?

This inspects the certified result only.  The factor is reported when the result
is ``factor · (O_k − y_k)`` with a factor in the outputs alone (the sigmoid with
squared error gives ``O_k(1 − O_k)``); its zeros at the ends of the activation's
range are where a saturated unit stops learning.
"""

from __future__ import annotations

from sympy import Indexed, Rational, S, Sum, cancel, expand

from derive import catalog
from derive.holding import release
from derive.problem import Problem
from derive.engine.rules.fold import tidiest
from derive.sums import SumExcept
from derive.symbols import CLASSES, FREE_INDEX, INPUT, OUTPUT, TARGET
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


def recognised(result, definitions: tuple = (), total=None):
    """``O_k − y_k`` or 0 when ``result`` equals it by value (the activation substituted, for every H,
    index and input, under ``Σ_i y_i = total`` when given), decided by the proof kernel; else None."""
    from derive.certify.proof import prove  # the kernel decides equality; it knows no rule

    result = release(result)
    for simpler in (S.Zero, TARGET_OUTPUT_GAP):
        if result == simpler:
            continue
        if expand(result - simpler) == 0:
            return simpler
        if not _apart_at_a_point(result - simpler, definitions, total) and prove(result, simpler, definitions, total) is None:
            return simpler
    return None


def _apart_at_a_point(difference, definitions: tuple, total) -> bool:
    """True when ``difference`` is clearly not 0 at one point (H = 3 or the largest class number named,
    k = 2, fixed inputs and targets): a cheap filter before the proof kernel, never a proof."""
    indices = [int(i) for node in difference.atoms(Indexed) for i in node.indices if i.is_Integer]
    classes = max([3, *indices])
    expr = difference.xreplace({CLASSES: classes, FREE_INDEX: 2})
    for _ in range(len(definitions) + 1):
        found = {node: eq.rhs.xreplace({eq.lhs.indices[0]: node.indices[0], CLASSES: classes})
                 for node in expr.atoms(Indexed) for eq in definitions if node.base == eq.lhs.base}
        if not found:
            break
        expr = expr.xreplace(found).doit()
    expr = expr.doit()
    weights = [Rational(m + 1, 7) for m in range(1, classes + 1)]
    if total is not None:
        weights = [w * total / sum(weights) for w in weights]
    values = {INPUT[m]: Rational(2 * m - 5, 3) for m in range(1, classes + 1)}
    values |= {TARGET[m]: weights[m - 1] for m in range(1, classes + 1)}
    values |= {symbol: Rational(7, 5) for symbol in expr.free_symbols if symbol not in values}  # N, L_n, ...
    try:
        number = expr.xreplace(values).evalf(30)
        return bool(number.is_number and number.is_finite and abs(number) > Rational(1, 10**12))
    except (TypeError, ValueError, ArithmeticError):
        return False


def judge(result, problem: Problem, definitions: tuple = ()) -> Verdict:
    """The verdict by value: the form is tried first, then the proof kernel (``recognised``)."""
    result = release(result)
    if expand(result - TARGET_OUTPUT_GAP) == 0:
        return Verdict(True, S.One)
    if result == 0:
        return Verdict(False, S.Zero)
    summed = _target_sums_to_one(result)
    normalised = expand(summed - TARGET_OUTPUT_GAP) == 0
    if not normalised and result.has(TARGET) and definitions:
        normalised = recognised(result, definitions, S.One) == TARGET_OUTPUT_GAP
    value = None if summed == result or summed.has(Sum, SumExcept) else tidiest(summed)
    if result.has(Sum, SumExcept):
        return Verdict(False, None, when_targets_sum_to_one=normalised, when_normalised=value)
    ratio = cancel(result / TARGET_OUTPUT_GAP)
    if any(node.base not in (OUTPUT, INPUT) for node in ratio.atoms(Indexed)) or ratio.has(Sum, SumExcept):
        return Verdict(False, None, when_targets_sum_to_one=normalised, when_normalised=value)
    factor = tidiest(ratio)
    zeros = tuple(end for end in _ends(problem) if factor.xreplace({OUTPUT[FREE_INDEX]: end}) == 0)
    return Verdict(False, factor, zeros)

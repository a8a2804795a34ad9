"""Facts computed on a step, from which its sentence is chosen (issue 12, item 4).

A template never asserts what the maths does not show: whether a denominator
went away, whether zero factors were present, whether the expression grew or
shrank, what the derivative moved into, what was differentiated, whether a
case split off has the value zero.  Each is
computed here from the step's own expressions; the templates pick a sentence by
fact, so no sentence can contradict its equation.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Derivative, Indexed, Mul, Ne, Pow, Sum, Symbol, preorder_traversal

from derive.holding import release
from derive.sums import SumExcept
from derive.trail import Mark


@dataclass(frozen=True, slots=True)
class StepFacts:
    denominators_cancelled: bool  # the part rewritten had a denominator that its result does not
    zero_factors: bool  # a product in the part rewritten has a factor that is zero
    longer: bool  # the result names more quantities (counted with repetition) than what it came from
    shorter: bool
    into_sum: bool  # a derivative of a sum (Σ_i ...) became a sum of derivatives: it moved inside the sum
    constant: Basic | None  # what a derivative was taken of, when it is a number (∂1/∂z_k)
    off_diagonal_zero: bool  # a value braced for the i ≠ k case is zero: ∂O_i/∂Z_k = 0 there (elementwise)


def step_facts(step) -> StepFacts:
    before, after = (step.before, step.after) if step.focus is None else step.focus
    grown = _size(after) - _size(before)
    differentiated = before.expr if isinstance(before, Derivative) else None
    return StepFacts(
        denominators_cancelled=bool(_denominators(before) - _denominators(after)),
        zero_factors=any(isinstance(node, Mul) and any(arg.is_zero for arg in node.args) for node in preorder_traversal(before)),
        longer=grown > 0,
        shorter=grown < 0,
        into_sum=differentiated is not None and isinstance(differentiated, (Sum, SumExcept)),
        constant=differentiated if differentiated is not None and differentiated.is_number else None,
        off_diagonal_zero=any(
            annotation.mark is Mark.UNDERBRACE and isinstance(annotation.note, Ne) and release(annotation.target).is_zero
            for annotation in step.annotations
        ),
    )


def _denominators(expr: Basic) -> set:
    return {node.base for node in preorder_traversal(expr) if isinstance(node, Pow) and node.exp.is_negative}


def _size(expr: Basic) -> int:
    """How much there is to read: the quantities named (``O_k``, ``y_k``), each time they appear."""
    count, pending = 0, [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, (Indexed, Symbol)):
            count += 1
        else:
            pending.extend(node.args)
    return count

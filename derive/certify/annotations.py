"""Annotations certified like equations (issue 12, item 4): what the prose names must be so.

* a factor named constant does not depend on the inputs (definitions written out) when it
  leaves a derivative, nor on the summation index when it leaves a sum;
* the chain rule's intermediate is one the differentiated function goes through;
* a definition written out is the trail's definition of that quantity;
* what is said to cancel is a factor of a denominator of what the step rewrote, or the
  terms struck out add up to zero.
"""

from __future__ import annotations

from sympy import (Basic, Derivative, Eq, Indexed, KroneckerDelta, Mul, Ne, Pow, Sum, UnevaluatedExpr, expand,
                   preorder_traversal)

from derive.certify.proof import canonical_sums, prove
from derive.expressions import unwrapped
from derive.sums import SumExcept

from derive.symbols import INPUT
from derive.trail import Mark


def annotation_errors(trail) -> list[str]:
    definitions = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in trail.definitions}
    problems = []
    pending = [(str(n), step) for n, step in enumerate(trail.steps, start=1)]
    while pending:
        number, step = pending.pop(0)
        before = step.before if step.focus is None else step.focus[0]
        struck = sum((a.target for a in step.annotations if a.mark is Mark.CANCELLED), start=0)
        for annotation in step.annotations:
            why = _wrong(annotation, before, definitions, struck == 0)
            if why:
                problems.append(f"step {number} ('{step.rule.title}'): {why}")
        why = _rewrites_more(step, trail.definitions)
        if why:
            problems.append(f"step {number} ('{step.rule.title}'): {why}")
        pending.extend((f"{number}.{m}", sub) for m, sub in enumerate(step.substeps, start=1))
    return problems


def _rewrites_more(step, equations: tuple) -> str | None:
    """A step that says it writes out definitions under a derivative must leave the function under it
    the same once they are substituted: the derivative of a changed constant (``Σ_{n≠m} L_n`` made
    ``(N − 1) L_1``) would still agree, but the function printed would be wrong."""
    if not any(a.mark is Mark.DEFINITION for a in step.annotations):
        return None
    before, after = (step.before, step.after) if step.focus is None else step.focus
    if not (isinstance(before, Derivative) and isinstance(after, Derivative)):
        return None
    if before.variables != after.variables:
        return "the definitions are written out under a derivative by another variable"
    reason = prove(before.expr, after.expr, equations)
    if reason is not None:
        return f"the function under the derivative changes beyond its definitions ({reason})"
    return None


def _wrong(annotation, before: Basic, definitions: dict, opposites: bool) -> str | None:
    target = annotation.target
    if annotation.mark is Mark.CONSTANT:
        if isinstance(before, Derivative) and _written_out(target, definitions).has(INPUT):
            return f"{target} is named a constant but depends on the inputs"
        if isinstance(before, (Sum, SumExcept)) and target.has(before.args[1][0]):
            return f"{target} is named a constant but depends on the summation index"
    if annotation.mark is Mark.INTERMEDIATE:
        inner = [d.expr for d in preorder_traversal(before) if isinstance(d, Derivative)]
        if inner and not any(expr.has(target) for expr in inner):
            return f"the chain rule is said to go through {target}, which the function does not contain"
    if annotation.mark is Mark.DEFINITION and isinstance(target, Indexed) and target.base in definitions:
        index, body = definitions[target.base]
        written = body.xreplace({index: target.indices[0]})
        if annotation.note is not None and canonical_sums(annotation.note) != canonical_sums(written):
            return f"{target} is written out as {annotation.note}, not as its definition"
    if annotation.mark is Mark.UNDERBRACE and isinstance(annotation.note, (Eq, Ne)):
        if not _case_value(target, annotation.note, before):
            return f"{target} is labelled {annotation.note} but is not what the expression is in that case"
    if annotation.mark is Mark.CANCELLED and not opposites and not _in_a_denominator(target, before):
        return f"{target} is said to cancel but divides nothing in what the step rewrote"
    return None


def _case_value(target: Basic, case, before: Basic) -> bool:
    """Whether ``target`` is one of the held values of ``before`` read in ``case``: with ``i = k`` the
    index replaced (``δ_kk = 1``), with ``i ≠ k`` the delta set to 0.  Swapped labels fail."""
    a, b = case.args
    wanted = expand(unwrapped(target))
    for part in before.atoms(UnevaluatedExpr):
        if isinstance(case, Eq):
            value = part.xreplace({a: b})
        else:
            value = part.xreplace({KroneckerDelta(a, b): 0, KroneckerDelta(b, a): 0})
        if expand(unwrapped(value) - wanted) == 0:
            return True
    return False


def _written_out(expr: Basic, definitions: dict) -> Basic:
    for _ in range(len(definitions) + 1):
        found = {n: definitions[n.base][1].xreplace({definitions[n.base][0]: n.indices[0]})
                 for n in expr.atoms(Indexed) if n.base in definitions}
        if not found:
            break
        expr = expr.xreplace(found)
    return expr


def _in_a_denominator(target: Basic, expr: Basic) -> bool:
    factors = set(Mul.make_args(target))
    for node in preorder_traversal(expr):
        if isinstance(node, Pow) and node.exp.is_negative:
            if factors & (set(Mul.make_args(node.base)) | {node.base}):
                return True
    return False

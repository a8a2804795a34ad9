"""Assumptions follow from the declared targets (issue 12, item 3).

A trail may rely on ``Σ_i y_i = 1`` only when its targets are declared one-hot
or a distribution, and then only under that name: a ``--targets any`` trail
that uses it anywhere (a step, a substep, the trail itself) is refused, and so
is an assumption named otherwise ("arbitrary") or stating another total.
"""

from __future__ import annotations

from sympy import Eq, Integer, Sum

from derive.symbols import TARGET

SUMMING_TO_ONE = ("one-hot", "distribution")  # the target kinds under which Σ y = 1 holds


def assumption_errors(trail) -> list[str]:
    """Why the trail's assumptions do not follow from its declared targets (empty when they do)."""
    problems = []
    for where, assumption in _every_assumption(trail):
        if assumption.name == "domain":
            continue  # where a user's loss is defined (its logarithms' arguments > 0): not about the targets
        statement = assumption.statement
        sums_targets = (
            isinstance(statement, Eq) and isinstance(statement.lhs, Sum) and statement.lhs.function.has(TARGET)
        )
        if trail.targets not in SUMMING_TO_ONE:
            problems.append(f"{where} assumes {statement} but the targets are declared {trail.targets!r}")
        elif not sums_targets or statement.rhs != Integer(1):
            problems.append(f"{where} assumes {statement}, which {trail.targets} targets do not give")
        elif assumption.name != trail.targets:
            problems.append(f"{where} names its assumption {assumption.name!r} but the targets are {trail.targets!r}")
    return problems


def _every_assumption(trail):
    for assumption in trail.assumptions:
        yield "the trail", assumption
    pending = [(str(n), step) for n, step in enumerate(trail.steps, start=1)]
    while pending:
        number, step = pending.pop(0)
        for assumption in step.assumptions:
            yield f"step {number} ('{step.rule.title}')", assumption
        pending.extend((f"{number}.{m}", sub) for m, sub in enumerate(step.substeps, start=1))

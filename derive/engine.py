"""``derive(problem) -> Trail``: set up the definitions and run the strategy.

The engine knows the problem's formulas and assumptions; how the derivation
proceeds is entirely the strategy's rules.  It knows nothing about LaTeX.
"""

from __future__ import annotations

from sympy import Eq, Expr, Indexed, Sum

from derive import catalog
from derive.context import Context, Definition
from derive.problem import Problem
from derive.rules.base import d
from derive.strategy import derive_gradient
from derive.symbols import CLASSES, ERROR, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.trail import Assumption, Trail


def target_assumptions(problem: Problem, classes: Expr) -> tuple[Assumption, ...]:
    if problem.targets == "one-hot":
        total = Sum(TARGET[SUM_INDEX], (SUM_INDEX, 1, classes))
        return (Assumption("one-hot", Eq(total, 1)),)
    return ()


def context_for(problem: Problem) -> Context:
    classes = CLASSES if problem.classes is None else problem.classes
    activation = catalog.activation(problem.activation)
    loss = catalog.loss(problem.loss)
    definitions = (
        Definition(ERROR, SUM_INDEX, loss.per_class(SUM_INDEX)),
        Definition(OUTPUT, SUM_INDEX, activation.formula(SUM_INDEX, classes)),
    )
    return Context(definitions, frozenset({ERROR}), target_assumptions(problem, classes))


def pinned_targets(ctx: Context, classes: int) -> dict:
    """Targets an assumption fixes outright: at H = 1, ``Σ y_i = 1`` means ``y_1 = 1``."""
    pinned = {}
    for assumption in ctx.assumptions:
        statement = assumption.statement.xreplace({CLASSES: classes}).doit()
        if isinstance(statement, Eq) and isinstance(statement.lhs, Indexed):
            pinned[statement.lhs] = statement.rhs
    return pinned


def gradient_components(result: Expr, ctx: Context, classes: int) -> tuple[Expr, ...]:
    """``∂E/∂z_k`` for k = 1..H with the activation written out, so only ``z`` and ``y`` remain."""
    output = ctx.definition_of(OUTPUT)
    pinned = pinned_targets(ctx, classes)
    components = []
    for k in range(1, classes + 1):
        component = result.xreplace({FREE_INDEX: k}).xreplace(pinned)
        outputs = {node: output.at(node.indices[0]).doit() for node in component.atoms(Indexed) if node.base == OUTPUT}
        components.append(component.xreplace(outputs))
    return tuple(components)


def derive(problem: Problem) -> Trail:
    ctx = context_for(problem)
    classes = CLASSES if problem.classes is None else problem.classes
    start = d(Sum(ERROR[SUM_INDEX], (SUM_INDEX, 1, classes)), INPUT[FREE_INDEX])
    steps, result = derive_gradient(start, ctx)
    gradient = None if problem.classes is None else gradient_components(result, ctx, problem.classes)
    return Trail(
        activation=problem.activation,
        loss=problem.loss,
        classes=problem.classes,
        targets=problem.targets,
        start=start,
        steps=tuple(steps),
        result=result,
        assumptions=ctx.assumptions,
        definitions=tuple(definition.equation() for definition in ctx.definitions),
        gradient=gradient,
    )

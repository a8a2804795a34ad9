"""``derive(problem) -> Trail``: set up the definitions and run the strategy.

The engine knows the problem's formulas and assumptions; how the derivation
proceeds is entirely the strategy's rules.  It knows nothing about LaTeX.
"""

from __future__ import annotations

from sympy import Add, Derivative, Eq, Expr, Indexed, Sum

from derive.context import Context
from derive.engine.formulation import formulate
from derive.problem import Problem, UnsupportedError
from derive.syntax import user_syntax
from derive.engine.strategy import DEFAULT, Strategy, derive_gradient
from derive.symbols import CLASSES, FREE_INDEX, OUTPUT
from derive.trail import Trail
from derive.engine.verdict import judge


def pinned_targets(ctx: Context, classes: int) -> dict:
    """Targets an assumption fixes outright: at H = 1, ``Σ y_i = 1`` means ``y_1 = 1``."""
    pinned = {}
    for assumption in ctx.assumptions:
        statement = assumption.statement.xreplace({CLASSES: classes})
        if isinstance(statement, Eq) and isinstance(statement.lhs, Sum) and _terms(statement.lhs) != 1:
            continue  # a sum of several targets pins none of them (and writing it out costs O(H))
        statement = statement.doit()
        if isinstance(statement, Eq) and isinstance(statement.lhs, Indexed):
            pinned[statement.lhs] = statement.rhs
    return pinned


def _terms(total: Sum):
    """How many terms a sum with concrete limits has (None when a limit is symbolic)."""
    if len(total.limits) != 1:
        return None
    (_, lower, upper), = total.limits
    return int(upper - lower + 1) if (upper - lower).is_Integer else None


def _written_out(total: Sum) -> Expr:
    """``total.doit()``, term by term: SymPy's ``doit`` substitutes each term with ``subs``, slowly."""
    count = _terms(total)
    if count is None:
        return total.doit()
    (index, lower, _), = total.limits
    return Add(*[total.function.xreplace({index: value}) for value in range(int(lower), int(lower) + count)])


def gradient_components(result: Expr, ctx: Context, classes: int) -> tuple[Expr, ...]:
    """``∂E/∂z_k`` for k = 1..H with the activation written out, so only ``z`` and ``y`` remain.

    Each ``o_m`` is written out as ``output.at(m).doit()``, but every sum in the
    activation (softmax's ``Σ_j e^{z_j}``) is written out once and the very same
    expression is shared by all H components: linear in H instead of quadratic.
    """
    from sympy import Dummy  # local: only this function needs it

    output = ctx.definition_of(OUTPUT)
    pinned = pinned_targets(ctx, classes)
    # sums that do not involve the output's own index are the same for every o_m
    shared = {total: Dummy() for total in output.body.atoms(Sum) if output.index not in total.free_symbols}
    hidden_body = output.body.xreplace(shared)
    opened = {dummy: _written_out(total) for total, dummy in shared.items()}
    written: dict = {}  # o_m -> output.at(m).doit()

    def written_out(node: Indexed) -> Expr:
        if node not in written:
            body = hidden_body.xreplace({output.index: node.indices[0]}).doit()
            written[node] = body.xreplace(opened) if opened else body
        return written[node]

    components = []
    for k in range(1, classes + 1):
        component = result.xreplace({FREE_INDEX: k}).xreplace(pinned).doit()  # sums over i written out term by term
        outputs = {node: written_out(node) for node in component.atoms(Indexed) if node.base == OUTPUT}
        components.append(component.xreplace(outputs))
    return tuple(components)


def derive(problem: Problem, strategy: Strategy = DEFAULT) -> Trail:
    setup = formulate(problem)
    ctx = setup.context
    steps, result = derive_gradient(setup.start, ctx, strategy)
    unfinished = sorted(result.atoms(Derivative), key=str)
    if unfinished:
        raise UnsupportedError(f"no rule can finish the derivative {user_syntax(unfinished[0])}")
    recognition = strategy.recognise(result, ctx) if steps else None
    if recognition is not None:
        steps, result = [*steps, recognition], recognition.after
    gradient = None if problem.classes is None else gradient_components(result, ctx, problem.classes)
    definitions = tuple(definition.equation() for definition in ctx.definitions)
    return Trail(
        activation=setup.activation,
        loss=setup.loss,
        classes=problem.classes,
        targets=setup.targets,
        start=setup.start,
        steps=tuple(steps),
        result=result,
        assumptions=ctx.assumptions,
        definitions=definitions,
        gradient=gradient,
        verdict=judge(result, problem, definitions),
        min_classes=setup.min_classes,
        reduction=problem.reduction,
    )

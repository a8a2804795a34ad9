"""From a problem to what the strategy needs: definitions, assumptions and the start.

A catalogue pair and a user-defined pair are set up the same way: the activation
becomes the definition of ``O_i``, the loss becomes the per-class error ``e_i``
(so that ``E = Σ_i e_i``), and the target kind becomes assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, Eq, Expr, Indexed, Mul, S, Sum, log

from derive import catalog
from derive.context import Context, Definition
from derive.engine.domain import refuse_outside_domain
from derive.engine.inverse import invert, placeholder
from derive.problem import Problem, ProblemError
from derive.engine.rules.base import d
from derive.sums import SumExcept
from derive.symbols import (
    CLASSES, ELEMENTWISE_INPUT, ERROR, EXAMPLE_INDEX, EXAMPLES, FREE_INDEX, INPUT, OTHER_LOSS, OUTPUT, SUM_INDEX, TARGET, THIS_EXAMPLE,
)
from derive.trail import Assumption



@dataclass(frozen=True)
class Formulation:
    context: Context
    start: Expr
    targets: str
    activation: str
    loss: str
    min_classes: int = 1


def target_assumptions(kind: str, classes) -> tuple[Assumption, ...]:
    if kind in ("one-hot", "distribution"):
        return (Assumption(kind, Eq(Sum(TARGET[SUM_INDEX], (SUM_INDEX, 1, classes)), 1)),)
    return ()


def per_class_error(loss: Expr) -> Expr:
    """``e_i`` from ``E``: the loss must be a sum over ``i`` (times constants) of per-class terms."""
    pieces = []
    for term in Add.make_args(loss):
        sums = [f for f in Mul.make_args(term) if isinstance(f, Sum)]
        constant = Mul(*(f for f in Mul.make_args(term) if not isinstance(f, Sum)))
        if len(sums) != 1 or sums[0].limits[0][0] != SUM_INDEX or constant.has(SUM_INDEX):
            raise ProblemError("the loss must be a sum over i of per-class terms, e.g. -sum(y[i]*log(o[i]), i)")
        pieces.append(constant * sums[0].function)
    return Add(*pieces)


def _activation_body(problem: Problem, classes) -> tuple[str, Expr]:
    if problem.activation_expr is None:
        entry = catalog.activation(problem.activation)
        return entry.name, entry.formula(SUM_INDEX, classes)
    body = problem.activation_expr.xreplace({ELEMENTWISE_INPUT: INPUT[SUM_INDEX], CLASSES: classes})
    return "user-defined", body


def _loss_error(problem: Problem, classes) -> tuple[str, Expr, str]:
    if problem.loss_expr is None:
        entry = catalog.loss(problem.loss)
        return entry.name, entry.per_class(SUM_INDEX), entry.default_targets
    return "user-defined", per_class_error(problem.loss_expr.xreplace({CLASSES: classes})), "any"


def _domain_assumptions(error: Expr) -> tuple[Assumption, ...]:
    """A user-defined loss with logarithms is only defined where their arguments are positive: say so."""
    arguments = sorted({node.args[0] for node in error.atoms(log)}, key=str)
    return tuple(Assumption("domain", argument > 0) for argument in arguments)


def _constant_indices(problem: Problem) -> int:
    """The largest constant index the user wrote (``z[3]``, ``o[2]``): H must be at least that."""
    found = [ix.indices[0] for expr in (problem.activation_expr, problem.loss_expr) if expr is not None
             for ix in expr.atoms(Indexed) if ix.indices[0].is_Integer]
    for role, expr in (("activation", problem.activation_expr), ("loss", problem.loss_expr)):
        if expr is not None and FREE_INDEX in expr.free_symbols:
            raise ProblemError(f"the {role} may not use the index k: it names the input the gradient is taken by")
    largest = int(max(found, default=1))
    if problem.classes is not None and problem.classes < largest:
        raise ProblemError(f"the index {largest} needs at least {largest} classes; use --H {largest} or more")
    return largest


def _min_classes(problem: Problem, error: Expr) -> int:
    """A constant index such as ``z[3]`` needs at least that many classes.  An activation whose one
    output is a constant at H = 1 (a softmax's is 1) needs two classes when the loss is undefined at
    that constant (``ln(1 − O)``)."""
    least = _constant_indices(problem)
    _, body = _activation_body(problem, 1)
    alone = body.xreplace({SUM_INDEX: 1}).doit()
    if not alone.is_number or not _undefined_at(error, alone):
        return least
    if problem.classes == 1:
        name = catalog.activation(problem.activation).wording.noun if problem.activation_expr is None else "activation"
        loss = problem.loss if problem.loss_expr is None else "the loss"
        raise catalog.UndefinedPair(
            f"with one class the {name} output is always {alone}, where {loss} is undefined; use --H 2 or more")
    return max(least, 2)


def _undefined_at(error: Expr, output) -> bool:
    """Whether the per-class error has no value when the output is ``output``, whatever the target."""
    at = error.xreplace({OUTPUT[SUM_INDEX]: output})
    if at.has(S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity):
        return True
    return any(node.args[0].is_number and bool(node.args[0] <= 0) for node in at.atoms(log))


def _reduced(loss: Expr, reduction: str) -> Expr:
    """The loss of one example, or the mean over N examples where only example m's loss sees its inputs.

    ``E = (1/N)(Σ_i e_i + Σ_{n≠m} L_n)``: the first sum is example m's loss (the one whose inputs we
    differentiate by); ``L_n`` are the other examples' losses, plain symbols that do not depend on them.
    """
    if reduction == "sum":
        return loss
    others = SumExcept(OTHER_LOSS[EXAMPLE_INDEX], (EXAMPLE_INDEX, 1, EXAMPLES), THIS_EXAMPLE)
    return (loss + others) / EXAMPLES


def formulate(problem: Problem) -> Formulation:
    classes = CLASSES if problem.classes is None else problem.classes
    if problem.activation_expr is None and problem.loss_expr is None:
        catalog.check_pair(catalog.activation(problem.activation), catalog.loss(problem.loss))
    activation_name, body = _activation_body(problem, classes)
    loss_name, error, default_targets = _loss_error(problem, classes)
    min_classes = _min_classes(problem, error)
    targets = problem.targets or default_targets
    if problem.activation_expr is not None or problem.loss_expr is not None:
        refuse_outside_domain(_activation_body(problem, CLASSES)[1], error, loss_name, problem.loss_expr is None)
    w = placeholder()
    inverse = None if body.has(Sum) else invert(body, INPUT[SUM_INDEX], w)
    definitions = (
        Definition(ERROR, SUM_INDEX, error),
        Definition(OUTPUT, SUM_INDEX, body, inverse, w),
    )
    assumptions = target_assumptions(targets, classes)
    if problem.loss_expr is not None:
        assumptions += _domain_assumptions(error)
    context = Context(definitions, frozenset({ERROR}), assumptions, classes)
    start = d(_reduced(Sum(ERROR[SUM_INDEX], (SUM_INDEX, 1, classes)), problem.reduction), INPUT[FREE_INDEX])
    return Formulation(context, start, targets, activation_name, loss_name, min_classes)

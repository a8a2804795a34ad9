"""Where a loss is defined on what the activation can output: a pair that takes a logarithm of
zero or of a negative number somewhere on the real line is refused (exit 2), not derived.

The activation's range over the real line is computed symbolically (SymPy's ``function_range``,
under a time bound).  When SymPy cannot find it, nothing is refused here: the loss's logarithms
are then recorded as ``domain`` assumptions, as before.
"""

from __future__ import annotations

from sympy import Expr, Indexed, Interval, Rational, S, Sum, Symbol, log, oo
from sympy.calculus.util import function_range

from derive import catalog
from derive.deadline import budget
from derive.symbols import CLASSES, INPUT, OUTPUT, SUM_INDEX, TARGET

RANGE_SECONDS = 2.0
_X = Symbol("x", real=True)
POSITIVE = Interval.open(0, oo)


class _Slow(Exception):
    pass


def _range(expr: Expr) -> Interval | None:
    """The values ``expr`` (a function of ``_X``) takes over the real line, or None if not found."""
    try:
        with budget(RANGE_SECONDS, _Slow):
            found = function_range(expr, _X, S.Reals)
    except (_Slow, NotImplementedError, ValueError, TypeError, RecursionError):
        return None
    except Exception:  # noqa: BLE001 - SymPy's solvers raise many kinds; no range found is no refusal
        return None
    return found if isinstance(found, Interval) else None


def elementwise(body: Expr) -> Expr | None:
    """The activation as a function of one real input ``_X``, when it reads ``Z_i`` alone."""
    if body.has(Sum) or {ix for ix in body.atoms(Indexed)} != {INPUT[SUM_INDEX]}:
        return None
    return body.xreplace({INPUT[SUM_INDEX]: _X})


def refuse_outside_domain(body: Expr, error: Expr, loss: str, catalogue_loss: bool) -> None:
    """Raise ``UndefinedPair`` when the loss is undefined somewhere on the activation's outputs.

    The range is found symbolically where SymPy can; otherwise a point where the loss is undefined
    is looked for (``_witness``), and only such a point, a real counterexample, refuses the pair."""
    activation = elementwise(body)
    arguments = [node.args[0] for node in sorted(error.atoms(log), key=str)
                 if node.args[0].has(OUTPUT) and not node.args[0].has(TARGET)]  # the targets' kind decides the rest
    domain = catalog.loss(loss).domain if catalogue_loss else None
    if not arguments and (domain is None or domain == S.Reals):
        return  # the loss is defined at every real output: nothing to refuse
    if activation is not None and catalogue_loss:
        outputs = _range(activation)
        if outputs is not None and not outputs.is_subset(domain):
            raise catalog.UndefinedPair(
                f"{loss} is undefined for this activation: its outputs take every value in "
                f"{catalog.interval_text(outputs)}, but {catalog.loss(loss).reason} and needs outputs in "
                f"{catalog.interval_text(domain)}"
            )
    if activation is not None and not catalogue_loss:
        for inside in arguments:
            values = _range(inside.xreplace({OUTPUT[SUM_INDEX]: activation}))
            if values is not None and not values.is_subset(POSITIVE):
                raise catalog.UndefinedPair(
                    f"the loss takes log({inside}) of values in {catalog.interval_text(values)} for this activation, "
                    f"so it is undefined where they are not positive"
                )
    found = _witness(body, arguments, domain)
    if found is not None:
        inputs, output = found
        raise catalog.UndefinedPair(
            f"the loss is undefined for this activation: at z = ({inputs}) an output is {output}, "
            f"where {'it' if catalogue_loss else 'a logarithm in it'} has no value"
        )


WITNESS_CLASSES = 3
_WITNESS_INPUTS = [Rational(n, 2) for n in range(-20, 21)]  # z from -10 to 10 in steps of 1/2


def _witness(body: Expr, arguments: list, domain) -> tuple[str, str] | None:
    """Inputs (at H = 3) where an output lies outside ``domain`` or makes a log argument <= 0."""
    checks = [(argument, True) for argument in arguments]  # (must be positive, or only not negative)
    if domain is not None and domain != S.Reals:
        checks += [(OUTPUT[SUM_INDEX] - domain.start, domain.left_open)] if domain.start.is_finite else []
        checks += [(domain.end - OUTPUT[SUM_INDEX], domain.right_open)] if domain.end.is_finite else []
    outputs = [body.xreplace({SUM_INDEX: m, CLASSES: WITNESS_CLASSES}).doit() for m in range(1, WITNESS_CLASSES + 1)]
    for point in _points():
        values = {INPUT[m]: v for m, v in enumerate(point, start=1)}
        for output in outputs:
            exact = output.xreplace(values)
            shown = exact.evalf(30)
            if not (shown.is_number and shown.is_real and shown.is_finite):
                continue  # the activation itself has no value here: not the loss's fault
            if any(_outside(check.xreplace({OUTPUT[SUM_INDEX]: exact}), strict) for check, strict in checks):
                return ", ".join(str(v) for v in point), str(shown.round(6))
    return None


def _outside(value: Expr, strict: bool) -> bool:
    """``value`` (exact) is negative, or 0 where it must be positive (``strict``).  SymPy's evalf raises
    its working precision until the digits asked for are right, so 1 − 1/(1 + e^{−90}) is seen to be
    positive, not rounded to 0."""
    if value == 0:
        return strict
    number = value.evalf(30, maxn=4000)
    return bool(number.is_number and number.is_real and (number <= 0 if strict else number < 0))


def _points():
    """The same z in every place (an elementwise activation's whole grid), then mixed vectors."""
    for v in _WITNESS_INPUTS:
        yield (v,) * WITNESS_CLASSES
    for v in _WITNESS_INPUTS[::4]:
        yield (v, -v, v / 2)
        yield (0, v, -v)  # one input exactly 0: z_i^2 / sum_j z_j^2 is 0 there

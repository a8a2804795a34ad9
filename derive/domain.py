"""Where a loss is defined on what the activation can output: a pair that takes a logarithm of
zero or of a negative number somewhere on the real line is refused (exit 2), not derived.

The activation's range over the real line is computed symbolically (SymPy's ``function_range``,
under a time bound).  When SymPy cannot find it, nothing is refused here: the loss's logarithms
are then recorded as ``domain`` assumptions, as before.
"""

from __future__ import annotations

from sympy import Expr, Indexed, Interval, S, Sum, Symbol, log, oo
from sympy.calculus.util import function_range

from derive import catalog
from derive.deadline import budget
from derive.symbols import INPUT, OUTPUT, SUM_INDEX, TARGET

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
    """Raise ``UndefinedPair`` when the loss is undefined somewhere on the activation's outputs."""
    activation = elementwise(body)
    if activation is None:
        return
    if catalogue_loss:
        entry = catalog.loss(loss)
        outputs = _range(activation)
        if outputs is not None and not outputs.is_subset(entry.domain):
            raise catalog.UndefinedPair(
                f"{entry.name} is undefined for this activation: its outputs take every value in "
                f"{catalog.interval_text(outputs)}, but {entry.reason} and needs outputs in "
                f"{catalog.interval_text(entry.domain)}"
            )
        return
    for argument in sorted(error.atoms(log), key=str):
        inside = argument.args[0]
        if inside.has(TARGET) or not inside.has(OUTPUT):
            continue  # depends on the targets (their kind decides), or not on the outputs at all
        values = _range(inside.xreplace({OUTPUT[SUM_INDEX]: activation}))
        if values is not None and not values.is_subset(POSITIVE):
            raise catalog.UndefinedPair(
                f"the loss takes log({inside}) of values in {catalog.interval_text(values)} for this activation, "
                f"so it is undefined where they are not positive"
            )

"""The two arithmetics the evaluator computes in: machine floats, and mpmath at 193 bits.

The evaluator's closures are written once against an ``Arithmetic``: the same
compiled expression computes in ``FLOATS`` (fast: one machine operation each)
or in ``MPF`` (mpmath's binary floats at 193 bits, 58 digits; the operations are
mpmath's own, called with the precision and rounding bound in).  The certifier
compares both sides of a step in floats first, and only when they do not agree
to ``FLOAT_DIGITS`` significant digits does it compute that same point again in
``MPF`` and decide there (see ``derive.certify.core``).

Every operation raises rather than guess: a division by zero raises
``ZeroDivisionError``, a value outside the real numbers ``ComplexResult``, and a
float that overflows ``OverflowError``.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

from mpmath.libmp import (
    ComplexResult,
    fnan,
    fone,
    from_int,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_cmp,
    mpf_div,
    mpf_eq,
    mpf_exp,
    mpf_log,
    mpf_mul,
    mpf_pos,
    mpf_pow,
    mpf_pow_int,
    mpf_sqrt,
)
from sympy import Abs, Basic, Float, Integer

from derive.certify.numbers import MP_CONTEXT, MPMATH_FUNCTIONS, ROUNDING, UNSUPPORTED, WORKING_BITS, PRECISION, mpf_finite, mpf_of, mpf_number, mpf_square

FLOAT_DIGITS = 12  # two float values agree when they match to this many significant digits
FLOAT_TOLERANCE = 10.0**-FLOAT_DIGITS
MAX_EXPONENT_ARGUMENT = 10**5  # exp, sinh and cosh of anything larger are not evaluated (OverflowError)
_EXPONENT_LIMIT = from_int(MAX_EXPONENT_ARGUMENT)

# the same functions as mpmath's, from the math module (which names them alike)
_MATH = {kind: abs if kind is Abs else getattr(math, kind.__name__) for kind in MPMATH_FUNCTIONS}


@dataclass(frozen=True)
class Arithmetic:
    """What a number is, and the operations on it, for one kind of number."""

    name: str
    cheap: bool  # whether computing exp, ln or a derivative's plan again costs less than remembering the value
    zero: Any
    one: Any
    nan: Any
    add: Callable
    mul: Callable
    div: Callable
    exp: Callable
    log: Callable
    pow: Callable  # x ** y
    pow_int: Callable  # x ** n for a Python int n
    sqrt: Callable
    square: Callable
    total: Callable  # the sum of an iterable of numbers
    product: Callable  # the product of an iterable of numbers
    from_int: Callable
    number: Callable  # a SymPy Integer, Rational or Float
    constant: Callable  # a SymPy NumberSymbol (pi, E)
    finite: Callable
    compare: Callable  # -1, 0 or 1
    equal: Callable
    functions: dict  # SymPy function class -> the function on numbers
    to_sympy: Callable  # a number as a SymPy Float (for ``evalf`` on what has no compiled form)
    from_sympy: Callable  # a SymPy real number, or raises TypeError


def _float_pow(base: float, power: float) -> float:
    try:
        return math.pow(base, power)
    except ValueError:  # a negative base to a fractional power, or 0 to a negative power
        if base == 0:
            raise ZeroDivisionError("0 to a negative power") from None
        raise ComplexResult(f"{base} ** {power}") from None


def _float_log(value: float) -> float:
    if value <= 0:
        raise ComplexResult(f"log({value})")  # log 0 too: the float check decides nothing there
    return math.log(value)


def _float_sqrt(value: float) -> float:
    if value < 0:
        raise ComplexResult(f"sqrt({value})")
    return math.sqrt(value)


def _float_number(node: Basic) -> float:
    if isinstance(node, Integer):
        return float(int(node.p))
    if isinstance(node, Float):
        return float(node)
    return int(node.p) / int(node.q)


def _float_from_sympy(value: Basic) -> float:
    number = value if isinstance(value, Basic) else Float(value, PRECISION)
    if number.is_number and number.is_extended_real:
        return float(number)
    raise TypeError(f"not a real number: {value}")


def _float_function(function):
    def checked(*args):
        try:
            return function(*args)
        except ValueError:  # outside the function's real domain
            raise ComplexResult(function.__name__) from None

    return checked


FLOATS = Arithmetic(
    name="float",
    cheap=True,
    zero=0.0,
    one=1.0,
    nan=math.nan,
    add=operator.add,
    mul=operator.mul,
    div=operator.truediv,
    exp=math.exp,
    log=_float_log,
    pow=_float_pow,
    pow_int=lambda value, n: value**n,
    sqrt=_float_sqrt,
    square=lambda value: value * value,
    total=math.fsum,
    product=math.prod,
    from_int=float,
    number=_float_number,
    constant=float,
    finite=math.isfinite,
    compare=lambda a, b: (a > b) - (a < b),
    equal=operator.eq,
    functions={kind: _float_function(function) for kind, function in _MATH.items()},
    to_sympy=lambda value: Float(value, PRECISION),
    from_sympy=_float_from_sympy,
)


def _mpf_total(values) -> tuple:
    result = fzero
    for value in values:
        result = mpf_add(result, value, WORKING_BITS, ROUNDING)
    return result


def _mpf_product(values) -> tuple:
    result = fone
    for value in values:
        result = mpf_mul(result, value, WORKING_BITS, ROUNDING)
    return result


def _mpf_log(value: tuple) -> tuple:
    return mpf_log(value, WORKING_BITS, ROUNDING)  # raises ComplexResult below 0; log 0 is -inf, not finite


def _mpf_exp(value: tuple) -> tuple:
    _exponent_bounded(value)
    return mpf_exp(value, WORKING_BITS, ROUNDING)


def _exponent_bounded(value: tuple) -> None:
    """Refuse (``OverflowError``) an exponent beyond ``MAX_EXPONENT_ARGUMENT``: its result has over 43,000
    digits, and the next exponential of it would not end.  (|x| < 2**16 needs no comparison.)"""
    if value[2] + value[3] > 16 and mpf_cmp(mpf_abs(value), _EXPONENT_LIMIT) > 0:
        raise OverflowError("an exponent too large to evaluate")


def _mpf_function(function):
    bounded = function in (MP_CONTEXT.sinh, MP_CONTEXT.cosh)

    def checked(*args):
        if bounded:
            _exponent_bounded(args[0])
        result = function(*(MP_CONTEXT.make_mpf(arg) for arg in args))
        if not isinstance(result, MP_CONTEXT.mpf):
            raise ComplexResult(function.__name__)
        return result._mpf_

    return checked


def _mpf_from_sympy(value) -> tuple:
    number = mpf_of(value)
    if number is UNSUPPORTED:
        raise TypeError(f"not a real number: {value}")
    return number


MPF = Arithmetic(
    name="mpf",
    cheap=False,
    zero=fzero,
    one=fone,
    nan=fnan,
    add=lambda a, b: mpf_add(a, b, WORKING_BITS, ROUNDING),
    mul=lambda a, b: mpf_mul(a, b, WORKING_BITS, ROUNDING),
    div=lambda a, b: mpf_div(a, b, WORKING_BITS, ROUNDING),
    exp=_mpf_exp,
    log=_mpf_log,
    pow=lambda a, b: mpf_pow(a, b, WORKING_BITS, ROUNDING),
    pow_int=lambda a, n: mpf_pow_int(a, n, WORKING_BITS, ROUNDING),
    sqrt=lambda a: mpf_sqrt(a, WORKING_BITS, ROUNDING),
    square=mpf_square,
    total=_mpf_total,
    product=_mpf_product,
    from_int=from_int,
    number=mpf_number,
    constant=lambda node: node._as_mpf_val(WORKING_BITS),
    finite=mpf_finite,
    compare=mpf_cmp,
    equal=mpf_eq,
    functions={kind: _mpf_function(function) for kind, function in MPMATH_FUNCTIONS.items()},
    to_sympy=lambda value: Float._new(mpf_pos(value, WORKING_BITS, ROUNDING), WORKING_BITS),
    from_sympy=_mpf_from_sympy,
)


def floats_agree(a, b) -> bool:
    """Two float values that match to ``FLOAT_DIGITS`` significant digits (``None``: no value)."""
    if a is None or b is None:
        return False
    return abs(a - b) <= FLOAT_TOLERANCE * max(abs(a), abs(b))


__all__ = ["FLOATS", "FLOAT_DIGITS", "FLOAT_TOLERANCE", "MAX_EXPONENT_ARGUMENT", "MPF", "Arithmetic", "floats_agree"]

"""Numbers at the certifier's precision: mpf tuples, SymPy Floats, and when two values agree."""

from __future__ import annotations

import mpmath
from mpmath.libmp import (
    dps_to_prec,
    fone,
    from_int,
    from_rational,
    fzero,
    mpf_abs,
    mpf_le,
    mpf_lt,
    mpf_mul,
    mpf_pos,
    mpf_sub,
    round_nearest,
)
from sympy import (
    Abs,
    Basic,
    Float,
    Integer,
    S,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atanh,
    cos,
    cosh,
    erf,
    erfc,
    sin,
    sinh,
    tan,
    tanh,
)

PRECISION = 50
AGREEMENT = PRECISION - 12  # significant digits two 50-digit values must share
TOLERANCE = Float(10) ** -AGREEMENT

FLOAT_BITS = dps_to_prec(PRECISION)  # 169 bits: the precision of SymPy's Float(x, 50)
WORKING_BITS = FLOAT_BITS + 24  # working precision, with guard bits
ROUNDING = round_nearest
_TOL = TOLERANCE._mpf_
MP_CONTEXT = mpmath.MPContext()
MP_CONTEXT.prec = WORKING_BITS
MPMATH_FUNCTIONS = {
    tanh: MP_CONTEXT.tanh, sinh: MP_CONTEXT.sinh, cosh: MP_CONTEXT.cosh, sin: MP_CONTEXT.sin, cos: MP_CONTEXT.cos, tan: MP_CONTEXT.tan,
    atanh: MP_CONTEXT.atanh, asinh: MP_CONTEXT.asinh, acosh: MP_CONTEXT.acosh, atan: MP_CONTEXT.atan, asin: MP_CONTEXT.asin,
    acos: MP_CONTEXT.acos, erf: MP_CONTEXT.erf, erfc: MP_CONTEXT.erfc, Abs: MP_CONTEXT.fabs,
}

UNSUPPORTED = object()  # a leaf value the fast path cannot use (symbolic, complex)


def mpf_of(value) -> tuple | object:
    """A SymPy (or Python) real number as an mpf tuple."""
    try:
        number = value if isinstance(value, Basic) else Float(value, PRECISION)
        if isinstance(number, Float):
            return number._mpf_
        if number.is_Rational:
            return from_rational(int(number.p), int(number.q), WORKING_BITS, ROUNDING)
        if number.is_number and number.is_extended_real:
            return Float(number, PRECISION + 10)._mpf_
    except (TypeError, ValueError):
        pass
    return UNSUPPORTED


def mpf_finite(value: tuple) -> bool:
    return value[1] != 0 or value == fzero  # inf and nan have a zero mantissa


def mpf_number(node: Basic) -> tuple:
    if isinstance(node, Float):
        return node._mpf_
    if isinstance(node, Integer):
        return from_int(int(node.p))
    return from_rational(int(node.p), int(node.q), WORKING_BITS, ROUNDING)


def mpf_square(value: tuple) -> tuple:
    return mpf_mul(value, value, WORKING_BITS, ROUNDING)


def sympy_number(value) -> Basic:
    if value is None:
        return S.NaN
    if isinstance(value, tuple):
        return Float._new(mpf_pos(value, FLOAT_BITS, ROUNDING), FLOAT_BITS)
    return value


def agree_values(a: Basic, b: Basic) -> bool:
    if not (a.is_number and b.is_number) or not (a.is_finite and b.is_finite):
        return False  # nan and the infinities agree with nothing (comparing them raises)
    scale = max(1, abs(a), abs(b))
    return bool(abs(a - b) <= TOLERANCE * scale)


def agree_numbers(a, b) -> bool:
    """``agree_values`` on the evaluator's numbers, without making SymPy Floats when both are mpf."""
    if a is None or b is None:
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        scale = fone
        for size in (mpf_abs(a), mpf_abs(b)):
            if mpf_lt(scale, size):
                scale = size
        return mpf_le(mpf_abs(mpf_sub(a, b, WORKING_BITS, ROUNDING)), mpf_mul(_TOL, scale, WORKING_BITS, ROUNDING))
    return agree_values(sympy_number(a), sympy_number(b))

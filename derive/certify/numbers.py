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

_BITS = dps_to_prec(PRECISION)  # 169 bits: the precision of SymPy's Float(x, 50)
_WP = _BITS + 24  # working precision, with guard bits
_RN = round_nearest
_TOL = TOLERANCE._mpf_
_MP = mpmath.MPContext()
_MP.prec = _WP
_MPMATH = {
    tanh: _MP.tanh, sinh: _MP.sinh, cosh: _MP.cosh, sin: _MP.sin, cos: _MP.cos, tan: _MP.tan,
    atanh: _MP.atanh, asinh: _MP.asinh, acosh: _MP.acosh, atan: _MP.atan, asin: _MP.asin,
    acos: _MP.acos, erf: _MP.erf, erfc: _MP.erfc, Abs: _MP.fabs,
}

_UNSUPPORTED = object()  # a leaf value the fast path cannot use (symbolic, complex)


def _mpf_of(value) -> tuple | object:
    """A SymPy (or Python) real number as an mpf tuple."""
    try:
        number = value if isinstance(value, Basic) else Float(value, PRECISION)
        if isinstance(number, Float):
            return number._mpf_
        if number.is_Rational:
            return from_rational(int(number.p), int(number.q), _WP, _RN)
        if number.is_number and number.is_extended_real:
            return Float(number, PRECISION + 10)._mpf_
    except (TypeError, ValueError):
        pass
    return _UNSUPPORTED


def _finite(value: tuple) -> bool:
    return value[1] != 0 or value == fzero  # inf and nan have a zero mantissa


def _number(node: Basic) -> tuple:
    if isinstance(node, Float):
        return node._mpf_
    if isinstance(node, Integer):
        return from_int(int(node.p))
    return from_rational(int(node.p), int(node.q), _WP, _RN)


def _square(value: tuple) -> tuple:
    return mpf_mul(value, value, _WP, _RN)


def _sympy_number(value) -> Basic:
    if value is None:
        return S.NaN
    if isinstance(value, tuple):
        return Float._new(mpf_pos(value, _BITS, _RN), _BITS)
    return value


def _agree(a: Basic, b: Basic) -> bool:
    if not (a.is_number and b.is_number) or not (a.is_finite and b.is_finite):
        return False  # nan and the infinities agree with nothing (comparing them raises)
    scale = max(1, abs(a), abs(b))
    return bool(abs(a - b) <= TOLERANCE * scale)


def _agree_numbers(a, b) -> bool:
    """``_agree`` on the evaluator's numbers, without making SymPy Floats when both are mpf."""
    if a is None or b is None:
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        scale = fone
        for size in (mpf_abs(a), mpf_abs(b)):
            if mpf_lt(scale, size):
                scale = size
        return mpf_le(mpf_abs(mpf_sub(a, b, _WP, _RN)), mpf_mul(_TOL, scale, _WP, _RN))
    return _agree(_sympy_number(a), _sympy_number(b))

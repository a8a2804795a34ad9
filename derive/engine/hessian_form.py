"""The second derivative as a matrix, and what can be said of its definiteness.

``∂²E/∂Z_k∂Z_l = A_k δ_kl + B_kl``.  When ``B = −c O_k O_l`` and ``A = c O_k`` with ``c`` free of k and l, the
matrix is ``c (diag(O) − OOᵀ)``, and ``vᵀ(diag(O) − OOᵀ)v = Σ O_i v_i² − (Σ O_i v_i)²`` is a variance under the
distribution ``O`` (softmax outputs are positive and sum to one), so it is PSD wherever ``c ≥ 0``.  When
``B = 0`` the matrix is ``diag(A)``: PSD exactly when every ``A_k ≥ 0``, which is shown from SymPy's sign
assumptions (``A_k`` written in ``Z_k`` and ``y_k``), or refuted by a point where ``A_k < 0``, or left undecided.
"""

from __future__ import annotations

from itertools import product

from sympy import Dummy, Float, KroneckerDelta, Rational, S, Symbol, cancel, expand, factor, together

from derive.expressions import unwrapped
from derive.symbols import FREE_INDEX, INPUT, OUTPUT, SECOND_INDEX, TARGET
from derive.trail import HessianForm

# where a negative diagonal entry is looked for: inputs, and targets as each declaration allows them
INPUTS = tuple(Rational(n, 2) for n in range(-16, 17))
TARGETS = {"one-hot": (0, 1), "distribution": (0, Rational(1, 2), 1), "any": (-3, -1, 0, Rational(1, 2), 1, 3)}
NEGATIVE = Float("-1e-20", 50)  # a value below this, at 50 digits, is negative (not a rounding of 0)


def split(result):
    """``(A, B)`` with ``result = A δ_kl + B`` (``A`` at ``l = k``), or None when ``result`` is not linear in
    ``δ_kl`` or holds another delta of k or l (a sum not yet sifted)."""
    result = unwrapped(result)
    delta, t = KroneckerDelta(FREE_INDEX, SECOND_INDEX), Dummy("t")
    linear = result.xreplace({delta: t})
    if any({FREE_INDEX, SECOND_INDEX} & node.free_symbols for node in linear.atoms(KroneckerDelta)):
        return None
    rest = linear.xreplace({t: S.Zero})
    coefficient = linear.xreplace({t: S.One}) - rest
    if expand(linear - rest - coefficient * t) != 0:
        return None
    return coefficient.xreplace({SECOND_INDEX: FREE_INDEX}), rest


def hessian_form(result, ctx, targets: str) -> HessianForm:
    parts = split(result)
    if parts is None:
        return HessianForm("general", "undecided")
    diagonal, rest = parts
    if expand(rest) == 0:
        if expand(diagonal) == 0:
            return HessianForm("zero", "zero")
        return _diagonal(diagonal, ctx, targets)
    o_k, o_l = OUTPUT[FREE_INDEX], OUTPUT[SECOND_INDEX]
    scale = cancel(-rest / (o_k * o_l))
    if {FREE_INDEX, SECOND_INDEX} & scale.free_symbols or expand(diagonal - scale * o_k) != 0:
        return HessianForm("general", "undecided")
    if scale.is_number:
        definite = "variance" if scale > 0 else "undecided"
    else:
        definite = "where-scale-nonnegative"
    return HessianForm("scaled-softmax", definite, scale=scale)


def _diagonal(diagonal, ctx, targets: str) -> HessianForm:
    """``diag(a)``: PSD when every ``a_k ≥ 0`` is shown, not PSD at a point where ``a_k < 0``."""
    z, y = Symbol("z", real=True), Symbol("y", real=True, **({} if targets == "any" else {"nonnegative": True}))
    definition = ctx.definition_of(OUTPUT)
    written = diagonal
    if definition is not None:
        written = written.xreplace({o_k: definition.at(FREE_INDEX) for o_k in [OUTPUT[FREE_INDEX]]})
    written = unwrapped(written).xreplace({INPUT[FREE_INDEX]: z, TARGET[FREE_INDEX]: y})
    if written.free_symbols - {z, y}:
        return HessianForm("diagonal", "undecided", diagonal=diagonal)
    if factor(cancel(together(written))).is_nonnegative:
        return HessianForm("diagonal", "proved", diagonal=diagonal)
    values = [(written.xreplace({z: z_value, y: y_value}).evalf(50), z_value, y_value)
              for z_value, y_value in product(INPUTS, TARGETS[targets])]
    negative = [found for found in values if found[0].is_real and found[0] < NEGATIVE]
    if negative:  # the most negative point of the grid, a target in [0, 1] first: the clearest counterexample
        value, z_value, y_value = min(negative, key=lambda found: (not 0 <= found[2] <= 1, found[0]))
        return HessianForm("diagonal", "refuted", diagonal=diagonal, witness=(z_value, y_value, value))
    return HessianForm("diagonal", "undecided", diagonal=diagonal)

"""Which factor a person writes first, and which need no brackets: layout rules of the LaTeX printer.

SymPy sorts the factors of a product by its own canonical key, so ``y_i/O_i``
times a derivative comes out as ``1/O_i, dO_i/dZ_k, y_i``.  On a whiteboard a
lecturer writes the numeric coefficient first, then targets, outputs, inputs,
other plain factors (a network's weights), bracketed sums, applied functions (``\\ln O_i``, ``e^{Z_k}``,
``\\delta_{ik}``), sums, a layer's inputs (``x_d``, ``h_m``), and the derivative fractions last, in chain-rule order
(``dE/dO_i`` before ``dO_i/dZ_k``).  Held values (``UnevaluatedExpr``: a value the
engine substituted and keeps apart until it cancels) stand where the derivative
they replaced stood, after the fraction.  Every key is built from
``default_sort_key``, so the order never depends on ``PYTHONHASHSEED``.

A product or sum built with ``evaluate=False`` keeps the order the engine gave
it; :func:`is_unevaluated` tells the two apart.  A sum written out term by term
(``e^{Z_1} + e^{Z_2} + \\cdots``) is ordered by its index: :func:`indexed_family`.
"""

from __future__ import annotations

from types import MappingProxyType

from sympy import Add, Derivative, Idx, Indexed, Mul, Piecewise, Pow, Sum, Symbol, UnevaluatedExpr, default_sort_key

from derive.sums import SumExcept
from derive.symbols import HIDDEN, INPUT, NETWORK_INPUT, OUTPUT, TARGET

_OTHER_PLAIN, _BRACKETED, _APPLIED, _SUMS, _LAYER_INPUTS, _DERIVATIVES = 4, 5, 6, 7, 7.5, 8
# rank of a plain indexed factor by its canonical base name: y before o before z; a layer's inputs (the network's
# x_d, the hidden outputs h_m) last, as in a weight's gradient (O_k - y_k) x_j and in the layer W_id x_d
_BASE_RANK = MappingProxyType({
    TARGET.label.name: 1, OUTPUT.label.name: 2, INPUT.label.name: 3,
    NETWORK_INPUT.label.name: _LAYER_INPUTS, HIDDEN.label.name: _LAYER_INPUTS,
})
_SLOT = Symbol("slot", integer=True)  # stands for the index a written-out sum runs over


def indexed_family(terms) -> list | None:
    """The terms in index order, when they are one term written out for consecutive indices.

    ``e^{Z_{10}}, e^{Z_{9}}, e^{Z_{11}}`` qualify: each term holds exactly one
    integer index, and with a placeholder in its place all terms are the same.
    ``None`` for anything else (different shapes, two indices, a gap).
    """
    shape, keyed = None, []
    for term in terms:
        nodes = term.atoms(Indexed)
        values = {index for node in nodes for index in node.indices if index.is_Integer}
        if len(values) != 1:
            return None
        (value,) = values
        generic = term.xreplace({
            node: Indexed(node.base, *[_SLOT if index == value else index for index in node.indices]) for node in nodes
        })
        if shape is None:
            shape = generic
        elif generic != shape:
            return None
        keyed.append((int(value), term))
    keyed.sort(key=lambda pair: pair[0])
    first = keyed[0][0]
    if [value for value, _ in keyed] != list(range(first, first + len(keyed))):
        return None
    return [term for _, term in keyed]


def is_plain(expr) -> bool:
    """A single symbol, indexed symbol or non-negative integer: needs no brackets anywhere."""
    return expr.is_Symbol or isinstance(expr, (Indexed, Idx)) or (expr.is_Integer and expr.is_nonnegative)


def is_short(expr) -> bool:
    """Short enough to sit in the numerator of a derivative: ``\\partial \\ln O_i``, ``\\partial O_i^2``."""
    if is_plain(expr):
        return True
    if isinstance(expr, Pow):
        return is_plain(expr.base) and (expr.exp.is_Symbol or expr.exp.is_Integer)
    if expr.is_Function and not isinstance(expr, Piecewise):
        return all(is_plain(arg) for arg in expr.args)
    return False


def is_unevaluated(expr) -> bool:
    """True when ``expr`` (an Add or Mul) was built with ``evaluate=False`` in a non-canonical shape.

    Evaluating an already evaluated Add/Mul gives back the same arguments, so a
    difference means the engine chose this shape on purpose.  An unevaluated
    expression whose arguments happen to be canonical cannot be told apart.
    """
    return expr.func(*expr.args, evaluate=True).args != expr.args


def factor_key(factor) -> tuple:
    """Sort key of one factor of a product: ``(rank, index key, canonical key)``."""
    core = factor.args[0] if isinstance(factor, UnevaluatedExpr) else factor
    base = core.base if isinstance(core, Pow) else core
    index: tuple = ()
    if core.is_number:
        rank = 0
    elif isinstance(base, Indexed):
        rank = _BASE_RANK.get(str(base.base.label), _OTHER_PLAIN)
        index = tuple(default_sort_key(i) for i in base.indices)
    elif base.is_Symbol:
        rank = _OTHER_PLAIN
    elif isinstance(base, Add):
        rank = _BRACKETED
    elif isinstance(base, (Sum, SumExcept)):
        rank = _SUMS
    elif isinstance(base, Derivative):
        rank = _DERIVATIVES
    else:
        rank = _APPLIED
    return (rank, index, default_sort_key(factor))


def chain_order(derivatives: list) -> list:
    """Order derivative factors as the chain rule reads: ``dE/dO`` before ``dO/dZ``.

    Repeatedly take the first (canonically sorted) derivative whose expression
    is not the variable of another remaining one.
    """
    remaining = sorted(derivatives, key=default_sort_key)
    ordered = []
    while remaining:
        pick = 0
        for pos, candidate in enumerate(remaining):
            others = remaining[:pos] + remaining[pos + 1:]
            if not any(candidate.expr in other.variables for other in others):
                pick = pos
                break
        ordered.append(remaining.pop(pick))
    return ordered


def split_product(expr: Mul) -> tuple:
    """Split an evaluated product into ``(coefficient, numerator, denominator, trailing)``.

    Numerator and denominator factors come back in whiteboard order; a factor
    ``x**-n`` (rational n > 0) goes to the denominator as ``x**n``.  Trailing
    factors are written after the fraction: held values, then derivatives.
    """
    coefficient, rest = expr.as_coeff_Mul()
    numerator, denominator, held, derivatives = [], [], [], []
    for factor in Mul.make_args(rest):
        if factor == 1:
            continue
        if isinstance(factor, Derivative):
            derivatives.append(factor)
        elif isinstance(factor, UnevaluatedExpr):
            held.append(factor)
        elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
            denominator.append(Pow(factor.base, -factor.exp))
        else:
            numerator.append(factor)
    return (
        coefficient,
        sorted(numerator, key=factor_key),
        sorted(denominator, key=factor_key),
        sorted(held, key=factor_key) + chain_order(derivatives),
    )

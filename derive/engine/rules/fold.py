"""Rewriting in the outputs: replace the activation's formula by its name.

For an elementwise activation with a known inverse ``Z = g⁻¹(O)`` every ``Z_m``
is replaced by ``g⁻¹(O_m)`` (the sigmoid's ``e^{-Z}/(1 + e^{-Z})^2`` becomes
``O(1 − O)``).  For a normalised activation ``O_m = g(Z_m) / S`` with ``S = Σ_j g(Z_j)`` every
``g(Z_m)`` becomes ``O_m·S``; the ``S`` then cancel, leaving an expression in
the outputs alone, e.g. ``(S e^{Z_i} δ_ik − e^{Z_i} e^{Z_k}) / S² = O_i(δ_ik − O_k)``.
The rewrite is accepted only if no input ``Z`` is left.
"""

from __future__ import annotations

from sympy import Add, Derivative, Dummy, Indexed, Mul, Pow, Sum, cancel as sympy_cancel, count_ops, exp as exp_function, expand, factor, factor_terms, fraction

from derive.engine.rules.base import local
from derive.symbols import INPUT
from derive.trail import Rule


def _free_indices(node, base):
    """Indices of ``base`` that are free in ``node`` (not bound by one of its sums)."""
    free = node.free_symbols
    found = {ix.indices[0] for ix in node.atoms(Indexed) if ix.base == base}
    return sorted((m for m in found if m.is_Integer or m in free), key=lambda s: s.sort_key())


def _normalised(definition):
    numerator, denominator = fraction(definition.body, exact=True)
    if isinstance(denominator, Sum) and len(denominator.limits) == 1:
        return numerator, denominator
    return None


def _inputs(definition):
    return {ix.base for ix in definition.body.atoms(Indexed)}


def _tidy_sign(expr):
    """Prefer ``O_i(δ_ik − O_k)`` to ``−O_i(O_k − δ_ik)``."""
    coefficient, rest = expr.as_coeff_Mul()
    if coefficient == -1 and isinstance(rest, Mul):
        sums = [factor for factor in rest.args if factor.is_Add]
        if len(sums) == 1:
            others = [factor for factor in rest.args if factor is not sums[0]]
            return Mul(*others) * (-sums[0])
    return expr


MAX_FACTOR_DEGREE = 24  # exp(851 z/500) is a polynomial of degree 851 in exp(z/500): factoring it does not end


def _factorable(expr) -> bool:
    """No exponential or power whose rational exponent makes the polynomials ``factor`` sees huge."""
    for node in expr.atoms(exp_function, Pow):
        exponent = node.exp if isinstance(node, Pow) else node.args[0]
        for term in Add.make_args(exponent):
            coefficient = term.as_coeff_Mul()[0]
            if coefficient.is_Rational and not coefficient.is_Integer and max(abs(coefficient.p), coefficient.q) > MAX_FACTOR_DEGREE:
                return False
    return True


def tidiest(expr, written=None):
    """The shortest of the factored form, the form as ``written`` before SymPy cancelled it, the form as it
    stands and the multiplied-out form, in that order on a tie (``(1 − O^2) δ`` stays as written, rather
    than become ``δ − O^2 δ`` or ``(1 − O)(1 + O) δ``)."""
    if not _factorable(expr):
        return expr
    shared = factor_terms(expand(expr))  # a factor common to every term taken out: δ − e^{−O} δ is (1 − e^{−O}) δ
    candidates = (_tidy_sign(factor(expr)), *(() if written is None else (written,)), shared, expr, expand(expr))
    return min(candidates, key=count_ops)


def _literal(node, definition):
    """Every ``g(Z_m)`` in ``node`` written ``O_m`` (and ``(u^p)^n`` as ``O_m^n``): no inverse needed.

    This is how an activation without an inverse valid on the whole real line (``(Z + 2)^2``,
    ``e^{-Z^2}``) is still written in the outputs as far as it literally appears, leaving ``Z`` elsewhere.
    """
    body = definition.body
    replacements = {}
    for m in _free_indices(node, definition.body.atoms(Indexed).pop().base):
        at = body.xreplace({definition.index: m})
        replacements[at] = definition.base[m]
        if isinstance(at, Pow) and at.exp.is_number:
            for power in node.atoms(Pow):
                ratio = power.exp / at.exp if power.base == at.base and power.exp.is_number else None
                if ratio is not None and ratio.is_Integer and ratio != 1:
                    replacements[power] = definition.base[m] ** ratio
    folded = node.xreplace(replacements)
    return None if folded == node else tidiest(sympy_cancel(folded), folded)


def fold_elementwise(node, definition):
    if definition.inverse is None:
        if len(_inputs(definition)) != 1 or not definition.body.has(Indexed):
            return None
        return _literal(node, definition)
    inputs = _inputs(definition)
    replacements = {
        base[m]: definition.inverse.xreplace({definition.placeholder: definition.base[m]})
        for base in inputs
        for m in _free_indices(node, base)
    }
    if not replacements:
        return None
    written = node.xreplace(replacements)
    folded = tidiest(sympy_cancel(written), written)
    if any(ix.base in inputs for ix in folded.atoms(Indexed)):
        return None
    return folded


def _same_sums(node, total):
    """Sums in ``node`` that are ``total`` with the summation index renamed."""
    (index, lower, upper), = total.limits
    for found in node.atoms(Sum):
        if len(found.limits) == 1 and tuple(found.limits[0][1:]) == (lower, upper):
            if found.function.xreplace({found.limits[0][0]: index}) == total.function:
                yield found


def fold_normalised(node, definition):
    shape = _normalised(definition)
    if shape is None:
        return None
    numerator, total = shape
    replacements = {}
    for input_base in _inputs(definition):
        for m in _free_indices(node, input_base):
            at = numerator.xreplace({definition.index: m})
            if at.is_number:
                continue  # e^{Z_1 − Z_1} = 1 at a constant index: not something to look for
            for power in (1, 2, 3):  # SymPy writes (e^{u})^2 as e^{2u}
                replacements[at**power] = (definition.base[m] * total) ** power
    if not replacements:
        return None
    placeholder = Dummy("S")
    totals = {total: placeholder} | {found: placeholder for found in _same_sums(node, total)}
    held_total = {key: value.xreplace(totals) for key, value in replacements.items()}
    rewritten = node.xreplace(totals).xreplace(held_total)
    folded = tidiest(sympy_cancel(rewritten))
    if folded.has(placeholder) or any(ix.base in _inputs(definition) for ix in folded.atoms(Indexed)):
        return None
    return folded


def fold(node, ctx):
    if node.has(Derivative) or not isinstance(node, (Mul, Pow, Add)):
        return None
    for definition in ctx.definitions:
        if definition.base not in ctx.inline or _inputs(definition) != {INPUT}:
            continue  # only the activation, read off the inputs: ``e_i = O_i`` must not turn O back into e
        folded = fold_normalised(node, definition) if node.has(Sum) else fold_elementwise(node, definition)
        if folded is not None and folded != node:
            return local(FOLD, node, folded)
    return None


FOLD = Rule(
    slug="fold",
    title="Rewriting in the outputs",
    formula=r"e^{Z_i} / \sum_j e^{Z_j} = O_i",
    function=fold,
)

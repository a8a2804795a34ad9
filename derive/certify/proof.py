"""The proof kernel: a step's two sides shown equal symbolically, for all H and every free index.

Nothing here uses the rules.  Both sides go through the same four moves:

1. Every unevaluated derivative is taken by ``sympy.diff``: the defined
   quantities other than the variable's own base are written out first (so
   ``∂ ln O_i / ∂ O_i`` is taken with respect to ``O_i`` *before* ``O_i`` is
   replaced by its definition), then every definition is substituted.
2. The free indices (and any constant index such as the 7 of ``δ_{k7}``) are
   split into every pattern of equal and unequal values.  In each pattern a
   Kronecker delta or a case condition between two indices is decided.
3. Sums over ``1..U`` are brought to a normal form: linearity, sifting
   (``Σ_j f_j δ_jx = f_x``), constant factors taken out, ``Σ_{i≠k} f_i =
   Σ_i f_i − f_k``, and each bound index renamed canonically.  An assumption
   ``Σ_i y_i = c`` stated by the step replaces its sum.
4. The difference is decided zero by exact arithmetic over the atoms
   (``cancel`` of ``together``); only when that fails, ``simplify`` under a
   time bound.

``prove`` returns ``None`` when the sides are shown equal, otherwise the
reason no proof was found.  A missing proof is not a refutation: the numeric
check stays the independent second line.
"""

from __future__ import annotations

from sympy import (
    Add, Basic, Derivative, Eq, Expr, Indexed, Integer, KroneckerDelta, Mul, Piecewise, Pow, S, Sum, Symbol,
    UnevaluatedExpr, asinh, atanh, cancel, diff, exp, expand, log, simplify, sinh, tanh, together,
)

from derive.deadline import budget
from derive.sums import SumExcept

SIMPLIFY_SECONDS = 2.0
MAX_PATTERNS = 52  # Bell(5): up to five free or constant indices


class _NoProof(Exception):
    """The kernel cannot bring a side to its normal form (the reason is the message)."""


class _Slow(Exception):
    pass


def prove(before: Basic, after: Basic, definitions: tuple = (), total: Basic | None = None) -> str | None:
    """``None`` if ``before == after`` is proved for every H, free index and input; else why not."""
    return attempt(before, after, definitions, total)[0]


def attempt(
    before: Basic, after: Basic, definitions: tuple = (), total: Basic | None = None, memo: dict | None = None,
) -> tuple[str | None, dict | None]:
    """``prove``, and the index pattern where the difference did not reduce to 0 (a place to look for
    a counterexample), when there is one.  ``memo`` (a dict the caller keeps for one trail) remembers
    evaluated sides and normal forms: consecutive steps share a side."""
    defs = {eq.lhs.base: (eq.lhs.indices[0], eq.rhs) for eq in definitions}
    memo = {} if memo is None else memo
    try:
        left, right = _remembered(memo, ("evaluated", before, definitions), lambda: _evaluated(before, defs)), \
            _remembered(memo, ("evaluated", after, definitions), lambda: _evaluated(after, defs))
        indices = _index_names(left, right)
        patterns = _partitions(indices)
        if len(patterns) > MAX_PATTERNS:
            return f"too many index patterns ({len(patterns)})", None
        for pattern in patterns:
            difference = _normal_memo(memo, left, pattern, total) - _normal_memo(memo, right, pattern, total)
            if not _zero(difference):
                shown = ", ".join(f"{a}={b}" for a, b in pattern.items() if a != b) or "distinct indices"
                return f"the difference does not reduce to 0 ({shown})", pattern
    except _NoProof as reason:
        return str(reason), None
    except RecursionError:
        return "the expression is too deep for the proof kernel", None
    return None, None


def _remembered(memo: dict, key, work):
    if key not in memo:
        memo[key] = work()
    return memo[key]


def _normal_memo(memo: dict, side: Basic, pattern: dict, total: Basic | None) -> Basic:
    key = ("normal", side, tuple(sorted(((a, b) for a, b in pattern.items()), key=str)), total)
    # sifting can bring two free indices into one delta (Σ_i δ_ik δ_il = δ_kl): the pattern decides it too
    return _remembered(memo, key, lambda: _decide(_normal(_resolve(side, pattern), total), set(pattern.values())))


# -- 1. derivatives by sympy.diff, then definitions substituted ------------------------------
def _evaluated(expr: Basic, defs: dict) -> Basic:
    expr = _opened(expr)
    expr = _derivatives(expr, defs)
    return canonical_sums(_inverses_cancelled(_substituted(expr, defs, keep=None)))


_INVERSES = {atanh: tanh, asinh: sinh, log: exp}  # f⁻¹(f(u)) = u for every real u: f is one-to-one on ℝ


def _inverses_cancelled(expr: Basic) -> Basic:
    """``atanh(tanh u)``, ``asinh(sinh u)`` and ``ln(e^u)`` written ``u``: the inputs and targets are real,
    and each of these functions is one-to-one on the real line, so its inverse undoes it there."""
    if not expr.args:
        return expr
    args = [_inverses_cancelled(arg) for arg in expr.args]
    inner = args[0] if len(args) == 1 else None
    if type(expr) in _INVERSES and inner is not None and isinstance(inner, _INVERSES[type(expr)]):
        return inner.args[0]
    return expr.func(*args)


def _opened(expr: Basic) -> Basic:
    """Holds released and ``Σ_{i≠x} f_i`` written ``Σ_i f_i − f_x``."""
    if not expr.args:
        return expr
    args = [_opened(arg) for arg in expr.args]
    if isinstance(expr, UnevaluatedExpr):
        return args[0]
    if isinstance(expr, SumExcept):
        function, (index, lower, upper), excluded = args
        return Sum(function, (index, lower, upper)) - function.xreplace({index: excluded})
    return expr.func(*args)


def _derivatives(expr: Basic, defs: dict) -> Basic:
    if not expr.args:
        return expr
    if isinstance(expr, Derivative):
        inner = _derivatives(expr.expr, defs)
        for variable, count in expr.variable_count:
            keep = variable.base if isinstance(variable, Indexed) else None
            inner = diff(_substituted(inner, defs, keep), variable, count)
            if inner.has(Derivative):
                raise _NoProof(f"sympy.diff left a derivative by {variable} unevaluated")
        return inner
    return expr.func(*[_derivatives(arg, defs) for arg in expr.args])


def _substituted(expr: Basic, defs: dict, keep) -> Basic:
    """Every defined quantity but ``keep`` written out, until none is left."""
    for _ in range(len(defs) + 2):
        found = {node for node in expr.atoms(Indexed) if node.base in defs and node.base != keep}
        if not found:
            return expr
        replacements = {}
        for node in found:
            index, body = defs[node.base]
            replacements[node] = _at(body, index, node.indices[0])
        expr = expr.xreplace(replacements)
    raise _NoProof("the definitions do not terminate")


def _at(body: Basic, index: Symbol, value: Basic) -> Basic:
    """``body`` with ``index`` set to ``value``, bound indices renamed so none is captured."""
    return canonical_sums(body).xreplace({index: value})


# -- 2. index patterns ------------------------------------------------------------------------
def _index_names(*exprs: Basic) -> list:
    """Free integer symbols (not bounds such as H or N) and constant indices."""
    found: set = set()
    bounds: set = set()
    for expr in exprs:
        for node in expr.atoms(Indexed, KroneckerDelta):
            for index in node.args[1:] if isinstance(node, Indexed) else node.args:
                found |= {s for s in index.free_symbols if s.is_integer} if not index.is_Integer else {index}
        for node in expr.atoms(Sum):
            for _, lower, upper in node.limits:
                bounds |= upper.free_symbols | lower.free_symbols
        for node in expr.atoms(Eq):
            found |= {a for a in node.args if isinstance(a, Symbol) and a.is_integer or a.is_Integer}
    bound_names = {s for expr in exprs for node in expr.atoms(Sum) for s in node.variables}
    names = {s for s in found if s not in bounds and (s.is_Integer or s not in bound_names or _free_in(s, exprs))}
    return sorted(names, key=lambda s: (s.is_Integer, str(s)))


def _free_in(symbol: Symbol, exprs) -> bool:
    return any(symbol in expr.free_symbols for expr in exprs)


def _partitions(names: list) -> list[dict]:
    """Every way of making some of ``names`` equal: a map from each name to its block's representative.

    Constants are representatives only, and two constants are never in one block.
    """
    patterns: list[list[list]] = [[]]
    for name in names:
        grown = []
        for blocks in patterns:
            for n, block in enumerate(blocks):
                if name.is_Integer and any(member.is_Integer for member in block):
                    continue
                grown.append(blocks[:n] + [block + [name]] + blocks[n + 1:])
            grown.append(blocks + [[name]])
        patterns = grown
    result = []
    for blocks in patterns:
        mapping = {}
        for block in blocks:
            constants = [member for member in block if member.is_Integer]
            representative = constants[0] if constants else block[0]
            mapping.update({member: representative for member in block})
        result.append(mapping)
    return result


def _resolve(expr: Basic, pattern: dict) -> Basic:
    """``expr`` in one pattern: indices replaced by their representative, deltas and cases decided."""
    moved = {a: b for a, b in pattern.items() if a != b and not a.is_Integer}
    expr = expr.xreplace(moved) if moved else expr
    representatives = set(pattern.values())
    return _decide(expr, representatives)


def _decide(expr: Basic, representatives: set) -> Basic:
    if not expr.args:
        return expr
    args = [_decide(arg, representatives) for arg in expr.args] if not isinstance(expr, Piecewise) else None
    if isinstance(expr, KroneckerDelta):
        a, b = args
        if a == b:
            return S.One
        if a in representatives and b in representatives:
            return S.Zero
        return KroneckerDelta(a, b)
    if isinstance(expr, Piecewise):
        for value, condition in expr.args:
            verdict = _condition(_decide(condition, representatives), representatives)
            if verdict is None:
                raise _NoProof(f"a case condition {condition} is not decided by the indices")
            if verdict:
                return _decide(value, representatives)
        raise _NoProof("no case of a piecewise expression applies")
    return expr.func(*args)


def _condition(condition: Basic, representatives: set) -> bool | None:
    if condition is S.true or condition is True:
        return True
    if condition is S.false or condition is False:
        return False
    if isinstance(condition, Eq):
        a, b = condition.args
        if a == b:
            return True
        if a in representatives and b in representatives:
            return False
    return None


# -- 3. sums in normal form ---------------------------------------------------------------------
def _normal(expr: Basic, total: Basic | None) -> Basic:
    expr = _sums(expr)
    if total is not None:
        expr = _assume(expr, total)
    return expr


def _sums(expr: Basic) -> Basic:
    if not expr.args or not expr.has(Sum):
        return expr
    if isinstance(expr, Sum):
        if len(expr.limits) != 1:
            raise _NoProof("a sum over several indices")
        function = _sums(expr.function)
        (index, lower, upper), = expr.limits
        return _sum_terms(function, index, lower, upper)
    return expr.func(*[_sums(arg) for arg in expr.args])


def _sum_terms(function: Basic, index: Symbol, lower: Basic, upper: Basic) -> Basic:
    """``Σ_{index=lower}^{upper} function`` by linearity, sifting and constant factors."""
    terms = Add.make_args(expand(function, power_exp=True, log=False))  # e^{z_j - z_1} = e^{z_j} e^{-z_1}
    result = []
    for term in terms:
        factors = Mul.make_args(term)
        delta = next((f for f in factors if isinstance(f, KroneckerDelta) and index in f.args), None)
        if delta is not None:
            if lower != 1:
                raise _NoProof("a delta inside a sum that does not start at 1")
            other = delta.args[1] if delta.args[0] == index else delta.args[0]
            if other == index:
                result.append(_sum_terms(Mul(*[f for f in factors if f is not delta]), index, lower, upper))
                continue
            rest = Mul(*[f for f in factors if f is not delta])
            result.append(_sums(rest.xreplace({index: other})))
            continue
        constant = Mul(*[f for f in factors if index not in f.free_symbols])
        varying = Mul(*[f for f in factors if index in f.free_symbols])
        if varying == 1:
            result.append(constant * (upper - lower + 1))
        else:
            result.append(constant * canonical_sums(Sum(varying, (index, lower, upper))))
    return Add(*result)


def canonical_sums(expr: Basic) -> Basic:
    """Every bound index renamed by the sum's height (``_b0`` for a sum with no sum inside): two sums
    that differ only in the name of the index they run over become the same expression."""
    if not expr.args or not expr.has(Sum):
        return expr
    args = [canonical_sums(arg) for arg in expr.args]
    if isinstance(expr, Sum) and len(expr.limits) == 1:
        function = args[0]
        (index, lower, upper), = expr.limits
        name = Symbol(f"_b{_height(function)}", integer=True, positive=True)
        return Sum(function.xreplace({index: name}), (name, lower, upper))
    return expr.func(*args)


def _height(expr: Basic) -> int:
    sums = expr.atoms(Sum)
    return 1 + max(_height(node.function) for node in sums) if sums else 0


def _assume(expr: Basic, total: Basic) -> Basic:
    """``Σ_i y_i`` replaced by the total the step assumes."""
    replacements = {}
    for node in expr.atoms(Sum):
        (index, lower, upper), = node.limits
        function = node.function
        if lower == 1 and isinstance(function, Indexed) and function.base.name == "y" and function.indices == (index,):
            replacements[node] = total
    return expr.xreplace(replacements) if replacements else expr


# -- 4. zero by exact arithmetic over the atoms ------------------------------------------------
MAX_EXPONENT_DENOMINATOR = 24  # e^{851 z/500} is a polynomial of degree 851 in e^{z/500}: too big to cancel


def _polynomial_sized(expr: Basic) -> bool:
    """Whether exact cancellation stays small: no exponential or power with a rational exponent whose
    numerator or denominator exceeds ``MAX_EXPONENT_DENOMINATOR`` (a deterministic bound, not a timer)."""
    for node in expr.atoms(exp, Pow):
        exponent = node.args[0] if isinstance(node, exp) else node.exp
        for term in Add.make_args(exponent):
            coefficient = term.as_coeff_Mul()[0]
            if coefficient.is_Rational and not coefficient.is_Integer and \
                    max(abs(coefficient.p), coefficient.q) > MAX_EXPONENT_DENOMINATOR:
                return False
    return True


def _zero(difference: Basic) -> bool:
    if difference == 0:
        return True
    if not _polynomial_sized(difference):
        raise _NoProof("exponents with large rational coefficients (exact cancellation would not end)")
    exact = cancel(together(expand(difference, power_exp=True, log=False, mul=False, multinomial=False)))
    if exact == 0:
        return True
    try:
        with budget(SIMPLIFY_SECONDS, _Slow):
            return simplify(exact) == 0
    except _Slow:
        return False
    except Exception:  # simplify is known to crash on some sums (StopIteration and others)
        return False

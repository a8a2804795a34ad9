"""Small facts about SymPy expressions that the engine, the certifier and presentation all need.

Nothing here knows a rule or the engine's conventions: which indices a sum binds, a
summation index name not yet taken, and an expression with SymPy's ``UnevaluatedExpr``
wrappers opened.
"""

from __future__ import annotations

from sympy import Basic, Sum, Symbol, UnevaluatedExpr

from derive.sums import SumExcept


def bound_indices(expr: Basic) -> list[Symbol]:
    """Summation indices bound anywhere inside ``expr``."""
    found = [limit[0] for node in expr.atoms(Sum) for limit in node.limits]
    found += [node.index for node in expr.atoms(SumExcept)]
    return sorted(set(found), key=str)


INDEX_NAMES = ("j", "l", "m", "n", "p", "q", "r", "s")


def fresh_index(taken: set) -> Symbol:
    """A summation index (``j``, ``l``, ``m`` ...) whose name none of ``taken`` has."""
    names = {getattr(symbol, "name", None) for symbol in taken}
    for name in INDEX_NAMES + tuple(f"j{n}" for n in range(2, 100)):
        if name not in names:
            return Symbol(name, integer=True, positive=True)
    raise ValueError("no fresh index name left")


def unwrapped(expr: Basic) -> Basic:
    """``expr`` with every ``UnevaluatedExpr`` opened, so SymPy's ordinary evaluation applies."""
    if not expr.has(UnevaluatedExpr):
        return expr
    return expr.replace(lambda node: isinstance(node, UnevaluatedExpr), lambda node: node.args[0])

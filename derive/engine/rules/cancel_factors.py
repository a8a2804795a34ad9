"""Cancelling common factors: release held values and let ``(a/b)·(b·c)`` become ``a·c``.

The factors that cancelled are recorded, so the reader is told what disappeared.
"""

from sympy import Mul, UnevaluatedExpr

from derive.holding import release
from derive.engine.rules.base import local
from derive.trail import Annotation, Mark, Rule


def _cancelled_factors(node):
    found = set()
    for product in node.atoms(Mul):
        if not any(isinstance(arg, UnevaluatedExpr) for arg in product.args):
            continue
        exponents: dict = {}
        for factor in _flat_factors(product):
            base, exponent = factor.as_base_exp()
            exponents.setdefault(base, set()).add(exponent.is_positive)
        found.update(base for base, signs in exponents.items() if signs == {True, False})
    return sorted(found, key=lambda node: node.sort_key())


def _flat_factors(product):
    for arg in product.args:
        inner = arg.args[0] if isinstance(arg, UnevaluatedExpr) else arg
        yield from Mul.make_args(inner)


def cancel_factors(node, ctx):
    if not node.has(UnevaluatedExpr):
        return None
    after = release(node)
    annotations = tuple(Annotation(Mark.CANCELLED, factor) for factor in _cancelled_factors(node))
    return local(CANCEL, node, after, annotations=annotations)


CANCEL = Rule(
    slug="cancel",
    title="Cancelling common factors",
    formula=r"\frac{a}{b} b = a",
    function=cancel_factors,
    tidying=True,
)

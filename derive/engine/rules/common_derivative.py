"""Gathering a derivative: ``a·∂u/∂x + b·∂u/∂x = (a + b)·∂u/∂x``.

Where two terms still carry the same derivative (the two logarithms of binary
cross-entropy both lead to ``∂O_i/∂Z_k``), a lecturer gathers them first, so
that the lemma's value is substituted once, in one place.
"""

from sympy import Add, Mul

from derive.engine.rules.base import is_derivative, local
from derive.trail import Annotation, Mark, Rule


def _derivative_of(term):
    """The one derivative factor of ``term``, if it has exactly one."""
    found = [factor for factor in Mul.make_args(term) if is_derivative(factor)]
    return found[0] if len(found) == 1 else None


def common_derivative(node, ctx):
    if not isinstance(node, Add):
        return None
    derivatives = [_derivative_of(term) for term in node.args]
    for shared in sorted({found for found in derivatives if found is not None}, key=lambda n: n.sort_key()):
        carrying = [term for term, found in zip(node.args, derivatives) if found == shared]
        if len(carrying) < 2:
            continue
        others = [term for term, found in zip(node.args, derivatives) if found != shared]
        gathered = Mul(Add(*(term / shared for term in carrying)), shared)
        marks = (Annotation(Mark.CONSTANT, shared),)
        return local(COMMON_DERIVATIVE, node, Add(*others, gathered), annotations=marks)
    return None


COMMON_DERIVATIVE = Rule(
    slug="common-derivative",
    title="Gathering the derivative",
    formula=r"a \frac{\partial u}{\partial x} + b \frac{\partial u}{\partial x} = (a + b) \frac{\partial u}{\partial x}",
    function=common_derivative,
    tidying=True,
)

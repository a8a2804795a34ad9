"""Small helpers every rule uses: building derivatives and local steps."""

from __future__ import annotations

from sympy import Basic, Derivative

from derive.trail import Annotation, Assumption, Rule, Step


def d(f: Basic, x: Basic) -> Derivative:
    """The unevaluated partial derivative ``∂f/∂x``."""
    return Derivative(f, x, evaluate=False)


def is_derivative(node: Basic) -> bool:
    return isinstance(node, Derivative) and len(node.variable_count) == 1 and node.variable_count[0][1] == 1


def parts(node: Derivative) -> tuple[Basic, Basic]:
    """``(f, x)`` of ``∂f/∂x``."""
    return node.expr, node.variable_count[0][0]


def known_result(ctx, f: Basic, base: Basic):
    """A result the context carries for ``∂f/∂base_n`` (an earlier, certified derivation's): its value, its
    index ``n`` and the assumptions it used; ``None`` when there is none."""
    for derivative, value, assumptions in ctx.known:
        known_f, known_variable = parts(derivative)
        if known_f == f and known_variable.base == base:
            return value, known_variable.indices[0], assumptions
    return None


def elementary(node: Basic, function: type) -> Basic | None:
    """``u`` when ``node`` is ``∂function(u)/∂u`` (an elementary rule's case), else ``None``."""
    if not is_derivative(node):
        return None
    f, x = parts(node)
    return x if isinstance(f, function) and f.args[0] == x else None


def local(
    rule: Rule,
    before: Basic,
    after: Basic,
    *,
    assumptions: tuple[Assumption, ...] = (),
    annotations: tuple[Annotation, ...] = (),
    substeps: tuple[Step, ...] = (),
) -> Step:
    """A step that rewrites the node ``before`` into ``after``."""
    return Step(rule, before, after, assumptions, annotations, substeps)

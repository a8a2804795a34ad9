"""One rule per module.  A rule is a pure function ``(expr, ctx) -> Step | None``.

Derivative rules receive one unevaluated ``Derivative(f, x)`` node; algebra rules
receive any node.  ``None`` means "does not apply here".  The order in which
rules are tried lives in ``derive.strategy``, not here.
"""

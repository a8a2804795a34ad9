"""One rule per module.  A rule is a pure function ``(expr, ctx) -> Step | None``.

Derivative rules receive one unevaluated ``Derivative(f, x)`` node; algebra rules
receive any node.  ``None`` means "does not apply here".  Each module declares its
rule's one record (``derive.trail.Rule``: slug, title, formula, function), and
``derive.engine.rules.registry`` lists them all.  The order in which rules are tried lives
in ``derive.engine.strategy``, not here.
"""

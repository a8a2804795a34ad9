"""``SymbolicMemory``: what the evaluator's compiler and differentiator learn about expressions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sympy import Basic

from derive.certify.fast_path import free_indices


@dataclass
class SymbolicMemory:
    """What an evaluator learns about expressions, whatever it computes in.

    All of it is symbolic (expressions written out, ``sympy.diff`` results, which
    indices a node depends on), keyed on content, so evaluators in different
    arithmetics can share one: the 193-bit evaluator that rechecks a point then
    does not take the derivatives the float evaluator already took.
    """

    free: dict = field(default_factory=dict)  # node -> the integer symbols its value depends on
    seen: dict = field(default_factory=dict)  # id(node) -> (node, the equal node used as a key, its indices)
    interned: dict = field(default_factory=dict)  # node -> the first equal node seen
    plain: dict = field(default_factory=dict)  # node -> whether it has no sum or derivative inside
    covered: dict = field(default_factory=dict)  # (expr, assigned indices) -> whether the fast path applies
    concrete: dict = field(default_factory=dict)  # (node, H, index values) -> the node written out
    atoms: dict = field(default_factory=dict)  # (base, indices) -> Indexed with integer indices
    sigma: dict = field(default_factory=dict)  # intermediate standing for a written-out sum -> the sum
    shapes: dict = field(default_factory=dict)  # body -> (its atoms, its terms by atom when it is a long sum)
    tapes: dict = field(default_factory=dict)  # (root, H, kept base) -> its Tape
    bodies: dict = field(default_factory=dict)  # (defined quantity, H) -> its definition written out
    inners: dict = field(default_factory=dict)  # (body, kept base) -> the intermediates in it
    wides: dict = field(default_factory=dict)  # (body, kept base, H) -> whether a part has many intermediates
    partials: dict = field(default_factory=dict)  # (H, owner, atom) -> ∂ owner / ∂ atom
    canonical: dict = field(default_factory=dict)  # (expression in canonical symbols, variable) -> its derivative
    names: list = field(default_factory=list)  # t_0, t_1, ...: the names atoms get while a derivative is taken

    def content_key(self, node: Basic) -> tuple:
        """A number standing for ``node``'s content, and the indices ``node`` depends on.

        Equal expressions are looked up by content once, then by identity: two copies
        of a 1000-term sum are compared term by term once, not at every lookup.  The
        number is the ``id`` of the first equal expression seen, which ``interned``
        keeps alive for as long as the memory, so it stands for that content alone.
        """
        seen = self.seen.get(id(node))
        if seen is None or seen[0] is not node:
            same = self.interned.setdefault(node, node)
            seen = self.seen[id(node)] = (node, id(same), tuple(sorted(free_indices(same, self.free), key=str)))
        return seen[1], seen[2]

    def key(self, node: Basic, env: dict):
        """What ``node``'s value is a function of: its content and the values of the indices it depends on."""
        same, names = self.content_key(node)
        return (same, tuple([env.get(name) for name in names])) if names else same

"""What the rules may know about the problem: definitions and dependence.

Index-aware dependence is the crux: ``Σ_i y_i ln O_i`` depends on ``Z_k`` even
though ``Z_k`` never appears in it literally, because ``O`` is defined through
``Z`` and an ``Indexed`` ``Z_j`` may coincide with ``Z_k``.  Dependence is
therefore decided per IndexedBase, closed over the definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Eq, Expr, Indexed, IndexedBase, Symbol


@dataclass(frozen=True, slots=True)
class Definition:
    """``base[index] := body`` (for example ``o[i] := exp(z[i]) / Σ_j exp(z[j])``).

    ``inverse`` is optional: for an elementwise activation, the input written in
    terms of ``placeholder`` (standing for the output), e.g. ``z = −ln(1/w − 1)``.
    """

    base: IndexedBase
    index: Symbol
    body: Expr
    inverse: Expr | None = None
    placeholder: Symbol | None = None

    def at(self, index) -> Expr:
        """The body with the definition's index replaced by ``index``."""
        return self.body.xreplace({self.index: index})

    def equation(self) -> Eq:
        return Eq(self.base[self.index], self.body, evaluate=False)


@dataclass(frozen=True, slots=True)
class Context:
    """Read-only knowledge passed down to every rule: definitions, in dependency order."""

    definitions: tuple[Definition, ...] = ()
    inline: frozenset[IndexedBase] = frozenset()  # bases the definition rule writes out
    assumptions: tuple = ()  # Assumption records the assumption rule may use

    def with_inline(self, *bases: IndexedBase) -> "Context":
        return Context(self.definitions, self.inline | frozenset(bases), self.assumptions)

    def definition_of(self, base: IndexedBase) -> Definition | None:
        for definition in self.definitions:
            if definition.base == base:
                return definition
        return None

    def is_intermediate(self, expr: Basic) -> bool:
        """True for ``o[i]``-like quantities that are defined through other variables."""
        return isinstance(expr, Indexed) and self.definition_of(expr.base) is not None

    def bases_behind(self, base: IndexedBase) -> frozenset[IndexedBase]:
        """``base`` and every base its definition reaches, transitively."""
        seen: set[IndexedBase] = set()
        pending = [base]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            definition = self.definition_of(current)
            if definition is not None:
                pending.extend(bases_in(definition.body))
        return frozenset(seen)

    def depends(self, expr: Basic, variable: Basic) -> bool:
        """Whether ``expr`` may vary with ``variable`` (an ``Indexed`` or a ``Symbol``)."""
        if expr == variable:
            return True
        if isinstance(variable, Indexed):
            return any(variable.base in self.bases_behind(base) for base in bases_in(expr))
        return variable in expr.free_symbols


def bases_in(expr: Basic) -> frozenset[IndexedBase]:
    """Every IndexedBase used in ``expr``, bound or free."""
    return frozenset(node.base for node in expr.atoms(Indexed))

"""What the rules may know about the problem: definitions and dependence.

Index-aware dependence is the crux: ``Σ_i y_i ln O_i`` depends on ``Z_k`` even
though ``Z_k`` never appears in it literally, because ``O`` is defined through
``Z`` and an ``Indexed`` ``Z_j`` may coincide with ``Z_k``.  Dependence is
therefore decided per IndexedBase, closed over the definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Basic, Eq, Expr, Indexed, IndexedBase, Symbol

from derive.expressions import bound_indices, fresh_index


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
    size: Expr | int | None = None  # how many units the index runs over, when not the classes H (a hidden layer's M)

    def at(self, index, avoid: frozenset = frozenset()) -> Expr:
        """The body with the definition's index replaced by ``index``, without capture.

        A summation index of the body that clashes with ``index`` or with ``avoid``
        (the free indices around the place it goes) is renamed first.
        """
        taken = set(avoid) | index.free_symbols | self.body.free_symbols
        renames = {}
        for bound in bound_indices(self.body):
            if bound in taken and bound != self.index:
                renames[bound] = fresh_index(taken | set(renames.values()))
        # replacing only what changes leaves a body the catalogue holds as written (-(a + b)) as it is
        replacements = renames | ({} if index == self.index else {self.index: index})
        return self.body.xreplace(replacements) if replacements else self.body

    def equation(self) -> Eq:
        return Eq(self.base[self.index], self.body, evaluate=False)


@dataclass(frozen=True, slots=True)
class Context:
    """Read-only knowledge passed down to every rule: definitions, in dependency order."""

    definitions: tuple[Definition, ...] = ()
    inline: frozenset[IndexedBase] = frozenset()  # bases the definition rule writes out
    assumptions: tuple = ()  # Assumption records the assumption rule may use
    classes: Expr | int | None = None  # H: every index of the problem runs over 1..H
    # past the output layer: named scalars a rule may look through (the loss E = Σ_i e_i), and results
    # already derived ((∂E/∂Z_k, its value, the assumptions it used)), which the layer lemma cites
    scalars: tuple[tuple[Symbol, Expr], ...] = ()
    known: tuple[tuple[Expr, Expr, tuple], ...] = ()
    ranges: tuple[tuple[Symbol, Expr], ...] = ()  # free indices that do not run over the classes (m: 1..M)

    def with_inline(self, *bases: IndexedBase) -> "Context":
        return Context(self.definitions, self.inline | frozenset(bases), self.assumptions, self.classes, self.scalars,
                       self.known, self.ranges)

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
        if self.scalars:
            expr = expr.xreplace(dict(self.scalars))
        behind = {reached for base in bases_in(expr) for reached in self.bases_behind(base)}
        if isinstance(variable, Indexed):
            return variable.base in behind
        bodies = [d.body for d in self.definitions if d.base in behind]
        return variable in expr.free_symbols or any(variable in body.free_symbols for body in bodies)


def bases_in(expr: Basic) -> frozenset[IndexedBase]:
    """Every IndexedBase used in ``expr``, bound or free."""
    return frozenset(node.base for node in expr.atoms(Indexed))

"""The proof trail: immutable records of every rule application.

A ``Step`` says which rule turned ``before`` into ``after``, which assumptions
it relied on, what a reader should see marked (underbraces, cancellations) and
the sub-derivation that justifies it.  A ``Trail`` is the whole derivation.
Both serialise to JSON without loss (``srepr`` round-trips through SymPy's
constructors, never through ``eval`` of user text).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable

from sympy import Basic, Eq, Sum


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule's record, declared once in its module under ``derive/engine/rules/`` and listed by
    ``derive.engine.rules.registry``: the stable id a step carries (``slug``, also its JSON name and the
    name of its template ``templates/rules/<slug>.j2``), a human ``title`` and the ``formula`` it applies.

    ``function`` is the rule itself, ``(expr, ctx) -> Step | None`` (``None`` for a rule no strategy
    tries).  The flags say what a reader of the trail needs to know without asking which rule it is:
    ``tidying`` rules are algebra with no calculus idea of their own (a brief document leaves them
    out), a ``placeholder_substeps`` rule's substeps work on a placeholder, so they join up only
    among themselves (the chain rule's elementary substep), and a ``states_result`` rule's substeps
    derive a result that stands on its own (a lemma): a brief document states it in place of them.

    How a whiteboard document lays a step out (``derive.present.chains``) is said here too: a ``pivotal``
    step needs a sentence, so its chain stops before it; a brief document never folds a ``kept_in_brief``
    step into a neighbour (it carries an idea of the derivation); inside a lemma, a standard document writes
    a run of ``elementary`` derivatives as one line.  A ``lemma`` rule's value is laid out before the line
    that substitutes it: ``"derived"`` by its substeps (recalled at brief), ``"recalled"`` from another
    document (the output layer's gradient, in a network document).
    """

    slug: str
    title: str
    formula: str
    function: Callable | None = field(default=None, compare=False, repr=False)
    tidying: bool = False
    placeholder_substeps: bool = False
    states_result: bool = False
    pivotal: bool = False
    kept_in_brief: bool = False
    elementary: bool = False
    lemma: str = ""


@dataclass(frozen=True, slots=True)
class Assumption:
    """A hypothesis a step relies on, e.g. one-hot targets giving ``Σ y_i = 1``."""

    name: str
    statement: Basic  # a SymPy Eq, rendered by the printer


def assumed_total(assumptions) -> Basic | None:
    """The total ``c`` of an assumption ``Σ_i y_i = c`` among ``assumptions``, if there is one."""
    for assumption in assumptions:
        statement = assumption.statement
        if isinstance(statement, Eq) and isinstance(statement.lhs, Sum):
            return statement.rhs
    return None


class Mark(Enum):
    """How a step points the reader at a sub-expression.

    ``UNDERBRACE`` and ``CANCEL`` are drawn inside the step's ``after``;
    the others (a factor or term that disappeared, the quantity the chain rule
    goes through, a factor moved out, a definition used) are named in the prose.
    """

    UNDERBRACE = "underbrace"
    CANCEL = "cancel"
    CANCELLED = "cancelled"
    INTERMEDIATE = "intermediate"
    CONSTANT = "constant"        # a factor moved out of a derivative or a sum
    DEFINITION = "definition"    # a quantity written out; note holds its definition


@dataclass(frozen=True, slots=True)
class Annotation:
    """Highlight ``target`` (a sub-expression of the step's maths) with ``mark``; ``note`` is maths."""

    mark: Mark
    target: Basic
    note: Basic | None = None


@dataclass(frozen=True, slots=True)
class Certificate:
    """How a step was shown right: ``proof`` (equal symbolically for every H, index and input in the
    declared domain) or ``tested`` (agreement at sampled points only; ``reason`` says why no proof)."""

    kind: str  # "proof" | "tested"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One application of ``rule``: ``before`` was rewritten into ``after``.

    ``focus`` is the sub-expression the rule acted on and what it became, when the
    step rewrites only part of ``before``.  ``substeps`` justify the step (a lemma's
    derivation, the pieces of an assumption).  ``certified`` and ``certificate`` are set by
    the certifier only.
    """

    rule: Rule
    before: Basic
    after: Basic
    assumptions: tuple[Assumption, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    substeps: tuple["Step", ...] = ()
    focus: tuple[Basic, Basic] | None = None
    certified: bool = False
    certificate: Certificate | None = None

    def with_certificate(self, substeps: tuple["Step", ...], certificate: Certificate | None = None) -> "Step":
        return replace(self, substeps=substeps, certified=True, certificate=certificate)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Does the result collapse to ``O_k − y_k``?  If not, the extra factor and where it vanishes."""

    matches: bool
    factor: Basic | None  # result = factor · (O_k − y_k), when such a factor in the outputs exists
    vanishes_at: tuple[Basic, ...] = ()  # output values where the factor is zero (saturation)
    when_targets_sum_to_one: bool = False  # equals O_k − y_k once Σ y_i = 1 is used
    when_normalised: Basic | None = None  # the result once Σ y_i = 1, when that differs from it (targets 'any')


@dataclass(frozen=True, slots=True)
class Trail:
    """A whole derivation of ``d loss / d z_k``: what was asked, the steps and the result."""

    activation: str
    loss: str
    classes: int | None  # None means symbolic H
    targets: str
    start: Basic
    steps: tuple[Step, ...]
    result: Basic
    assumptions: tuple[Assumption, ...] = ()
    definitions: tuple[Basic, ...] = field(default=())  # Eq(o_i, ...), Eq(e_i, ...)
    gradient: tuple[Basic, ...] | None = None  # concrete H: dE/dz_k for k = 1..H, in z and y only
    verdict: Verdict | None = None
    reduction: str = "sum"  # "mean": E averages the losses of N examples
    min_classes: int = 1  # the derivation holds for H >= min_classes (softmax with a loss undefined at O = 1 needs 2)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One line of a matrix summary: ``lhs = value`` (SymPy matrix expressions) and its shape (rows, columns)."""

    name: str  # what is differentiated by: "z", "W", "b", "x"
    lhs: Basic
    value: Basic
    shape: tuple[Basic, Basic]


@dataclass(frozen=True, slots=True)
class NetworkTrail:
    """A derivation past the output layer, ``∂E/∂p`` for a parameter or input ``p`` (``W_kj``, ``b_k``, ``x_d``).

    ``output`` is the certified derivation of ``∂E/∂Z_k`` whose result the layer lemma cites.  ``loss`` is
    what the symbol ``E`` stands for (``Σ_i e_i``); ``definitions`` add the layer (``Z_i = Σ_d W_id x_d + b_i``)
    to the output layer's.  ``ranges`` give each free index its last value (``k``: H, ``j``: D).  At concrete
    sizes, ``gradient`` has ``p``'s shape (a tuple of rows for ``W``), written in ``x``, ``y``, ``W``, ``b`` alone.
    """

    output: Trail
    wrt: str
    inputs: int | None  # None means symbolic D
    variable: Basic
    loss: Basic
    start: Basic
    steps: tuple[Step, ...]
    result: Basic
    definitions: tuple[Basic, ...]
    ranges: tuple[tuple[Basic, Basic], ...]
    gradient: tuple | None = None
    summary: tuple[MatrixRow, ...] = ()
    sample_certificate: tuple = ()  # set by the certifier: the (H, D, M) its second line sampled
    units: int | None = None  # a hidden layer's M (None: symbolic, or no hidden layer)
    hidden: str | None = None  # the hidden layer's activation (None: no hidden layer)
    shapes: tuple = ()  # each indexed quantity's base and the ranges of its indices

    @property
    def classes(self) -> int | None:
        return self.output.classes


@dataclass(frozen=True, slots=True)
class HessianForm:
    """The second derivative ``∂²E/∂Z_k∂Z_l`` as a matrix, and what is known of its definiteness.

    ``kind``: ``scaled-softmax`` (``c (diag(O) − OOᵀ)``, ``scale`` = c), ``diagonal`` (``diag(a)``, ``diagonal`` =
    a_k), ``zero``, or ``general`` (no matrix form beyond the entries).  ``definite``: ``variance`` (PSD, c > 0 a
    number), ``where-scale-nonnegative`` (PSD wherever c ≥ 0), ``proved`` (every diagonal entry ≥ 0, shown by
    SymPy's assumptions), ``refuted`` (a negative diagonal entry at ``witness`` = (Z_k, y_k, value)), ``zero``,
    or ``undecided`` (nothing is claimed).
    """

    kind: str
    definite: str
    scale: Basic | None = None
    diagonal: Basic | None = None
    witness: tuple | None = None


@dataclass(frozen=True, slots=True)
class SecondTrail:
    """The second derivative ``∂²E/∂Z_k∂Z_l`` (``--second``).  ``output`` is the certified derivation of
    ``∂E/∂Z_k``, cited as a lemma; ``trail`` is the derivation of the second derivative, in the output layer's
    own record (its ``start`` is ``∂²E/∂Z_k∂Z_l``), so the same certifier and chains serve it.  At concrete H,
    ``hessian`` holds the H × H entries, written in ``z`` and ``y`` alone."""

    output: Trail
    trail: Trail
    form: HessianForm
    hessian: tuple | None = None

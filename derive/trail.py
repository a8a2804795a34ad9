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

from sympy import Basic


class Rule(Enum):
    """Every move the engine can make: a stable id, a name and the formula it applies."""

    def __new__(cls, slug: str, title: str, formula: str):
        member = object.__new__(cls)
        member._value_ = slug
        member.title = title
        member.formula = formula
        return member

    DEFINITION = ("definition", "Definition", r"E = \sum_i e_i")
    SUM = ("sum", "Sum rule", r"\partial (f + g) = \partial f + \partial g")
    CONSTANT_FACTOR = ("constant-factor", "Constant-factor rule", r"\partial (c f) = c\, \partial f")
    INDEPENDENT = ("independent", "Independence", r"\partial c / \partial x = 0")
    SELF = ("self", "Derivative of a variable", r"\partial x / \partial x = 1")
    INDEX = ("index", "Index rule", r"\partial Z_j / \partial Z_k = \delta_{jk}")
    CHAIN = ("chain", "Chain rule", r"\partial f(u) / \partial x = \partial f / \partial u \cdot \partial u / \partial x")
    LOG = ("log", "Log rule", r"\partial \ln u / \partial u = 1/u")
    EXP = ("exp", "Exp rule", r"\partial e^u / \partial u = e^u")
    TANH = ("tanh", "Tanh rule", r"\partial \tanh u / \partial u = 1 - \tanh^2 u")
    SINH = ("sinh", "Sinh rule", r"\partial \sinh u / \partial u = \cosh u")
    COSH = ("cosh", "Cosh rule", r"\partial \cosh u / \partial u = \sinh u")
    POWER = ("power", "Power rule", r"\partial u^n / \partial u = n u^{n-1}")
    QUOTIENT = ("quotient", "Quotient rule", r"\partial (f/g) = (g\, \partial f - f\, \partial g)/g^2")
    PRODUCT = ("product", "Product rule", r"\partial (f g) = g\, \partial f + f\, \partial g")
    DELTA_SUM = ("delta-sum", "Sifting by the Kronecker delta", r"\sum_j f_j \delta_{jk} = f_k")
    FOLD = ("fold", "Rewriting in the outputs", r"e^{Z_i} / \sum_j e^{Z_j} = O_i")
    CASES = ("cases", "Cases of the Kronecker delta", r"\delta_{ik} = 1 \text{ if } i = k,\ 0 \text{ otherwise}")
    LEMMA = ("lemma", "Lemma", r"\partial O_i / \partial Z_k")
    INDEX_SPLIT = ("index-split", "Index split", r"\sum_i f_i = \sum_{i \neq k} f_i + f_k")
    CANCEL = ("cancel", "Cancelling common factors", r"\frac{a}{b} b = a")
    FACTOR_OUT = ("factor-out", "Factor out of the sum", r"\sum_i c f_i = c \sum_i f_i")
    ASSUMPTION = ("assumption", "Assumption", r"\sum_i y_i = 1")
    EXPAND = ("expand", "Expanding the products", r"a(b + c) = ab + ac")
    COLLECT = ("collect", "Collecting like terms", r"a - a = 0")
    VANISH = ("vanish", "Vanishing terms", r"\sum_{i \neq k} 0 = 0")
    COMMON_FACTOR = ("common-factor", "Taking out common factors", r"a b + a c = a (b + c)")
    FACTOR_GAP = ("factor-gap", "Factoring out the output error", r"f\,(O_k - y_k)")
    REJOIN = ("rejoin", "Rejoining the sum", r"\sum_{i \neq k} f_i + f_k = \sum_i f_i")
    RECOGNISE = ("recognise", "Recognising the result", r"f = g \text{ wherever } f - g = 0")


@dataclass(frozen=True, slots=True)
class Assumption:
    """A hypothesis a step relies on, e.g. one-hot targets giving ``Σ y_i = 1``."""

    name: str
    statement: Basic  # a SymPy Eq, rendered by the printer


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

    def certify(self, substeps: tuple["Step", ...], certificate: Certificate | None = None) -> "Step":
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

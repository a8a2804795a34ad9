"""The view a second-derivative document's templates see (``--second``): a certified ``SecondTrail`` as LaTeX.

The derivation itself is the output layer's ``DocumentView`` of the trail (its chains, setting and symbols);
this adds what only a second derivative has: the first derivative cited, the matrix form of the Hessian,
what is known of its definiteness, and at concrete H some of its entries written out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Derivative, Float, Symbol

from derive.present.document import DocumentView, Formatter
from derive.present.notation import Notation
from derive.symbols import FREE_INDEX, INPUT, LOSS_NAME, SECOND_INDEX
from derive.trail import SecondTrail

SHOWN_ENTRIES = 3  # at concrete H: the entries (1, 1), (1, 2) and (H, H)


@dataclass(frozen=True)
class SecondView:
    doc: DocumentView          # the derivation of ∂²E/∂Z_k∂Z_l, as the output layer's documents show one
    first_lhs: str             # ∂E/∂Z_k
    first_value: str           # its value, the lemma
    command: str               # the command that derives it on its own
    hessian_lhs: str           # ∇²_Z E
    kind: str                  # scaled-softmax | diagonal | zero | general
    definite: str              # variance | where-scale-nonnegative | proved | refuted | zero | undecided
    matrix: str | None         # the matrix form, e.g. diag(O) − OOᵀ
    scale: str | None          # c of c (diag(O) − OOᵀ), when it is not 1
    diagonal: str | None       # a_k of diag(a)
    witness: tuple[str, str, str] | None  # (Z_k, y_k, the negative diagonal entry there)
    entries: tuple[tuple[str, str], ...]  # concrete H: (∂²E/∂Z_1∂Z_1, its value), some of them
    classes_count: int | None


def _number(value) -> str:
    return f"{float(value):.4g}" if isinstance(value, Float) else str(value)


def _command(second: SecondTrail) -> str:
    output = second.output
    if output.activation == "user-defined" or output.loss == "user-defined":
        return "derive pair ..."
    return " ".join(["derive pair", output.activation, output.loss] + ([f"--H {output.classes}"] if output.classes else []))


def _matrix(fmt: Formatter, second: SecondTrail, classes: str, symbols) -> tuple[str | None, str | None, str | None]:
    """(the matrix, c when it is not 1, a_k): LaTeX built from the canonical vector ``O``."""
    form, o = second.form, symbols.output
    if form.kind == "scaled-softmax":
        core = r"\mathrm{diag}(%s) - %s %s^{\top}" % (o, o, o)
        if form.scale == 1:
            return core, None, None
        return r"c \left(%s\right)" % core, fmt.tex(form.scale), None
    if form.kind == "diagonal":
        return r"\mathrm{diag}(a_1, \ldots, a_{%s})" % classes, None, fmt.tex(form.diagonal)
    if form.kind == "zero":
        return "0", None, None
    return None, None, None


def second_view(second: SecondTrail, doc: DocumentView, notation: Notation) -> SecondView:
    fmt = Formatter(notation)
    loss = Symbol(LOSS_NAME)
    matrix, scale, diagonal = _matrix(fmt, second, doc.classes, doc.symbols)
    entries, count = (), None
    if second.hessian is not None:
        count = len(second.hessian)
        shown = list(dict.fromkeys([(1, 1), (1, min(2, count)), (count, count)]))[:SHOWN_ENTRIES]
        entries = tuple((fmt.tex(Derivative(loss, INPUT[a], INPUT[b], evaluate=False)),
                         fmt.tex(second.trail.result.xreplace({FREE_INDEX: a, SECOND_INDEX: b}).doit())) for a, b in shown)
    witness = None
    if second.form.witness is not None:
        z, y, value = second.form.witness
        witness = (fmt.tex(z), fmt.tex(y), _number(value))
    return SecondView(
        doc=doc,
        first_lhs=fmt.tex(Derivative(loss, INPUT[FREE_INDEX], evaluate=False)),
        first_value=fmt.tex(second.output.result),
        command=_command(second),
        hessian_lhs=r"\nabla^{2}_{%s} %s" % (doc.symbols.input, doc.symbols.loss),
        kind=second.form.kind,
        definite=second.form.definite,
        matrix=matrix,
        scale=scale,
        diagonal=diagonal,
        witness=witness,
        entries=entries,
        classes_count=count,
    )

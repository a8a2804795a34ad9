"""``derive pair ACT LOSS --wrt W|b|x``: past the output layer, as a certified derivation and its documents.

The output layer's derivation (``--wrt z``) is derived and certified first; its result is the lemma the
network derivation cites.  Documents come from ``templates/network.<format>.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from derive.certify import certify
from derive.certify.network import certify_network
from derive.cli.usage import whole_number
from derive.engine.derivation import derive
from derive.engine.hidden_layer import MAX_UNITS, Hidden
from derive.engine.network import HIDDEN_PARAMETERS, MAX_INPUTS, check_sizes, derive_network
from derive.cli.pdf import PDF_SOURCES, build_pdf
from derive.present import render
from derive.present.network_view import NetworkView, network_view
from derive.present.notation import HIDDEN_ROLES, NETWORK_ROLES, Notation
from derive.problem import Problem, ProblemError
from derive.trail import NetworkTrail

WRT = ("z",) + HIDDEN_PARAMETERS


@dataclass(frozen=True)
class NetworkDerivation:
    problem: Problem
    trail: NetworkTrail
    notation: Notation = Notation()
    detail: str = "standard"
    templates: Path | None = None
    options: render.RenderOptions = render.RenderOptions()

    @property
    def slug(self) -> str:
        trail = self.trail
        hidden = "" if trail.hidden is None else f"-hidden-{trail.hidden}" + ("" if trail.units is None else f"-M{trail.units}")
        sizes = "" if trail.inputs is None else f"-D{trail.inputs}"
        return f"{self.problem.slug}{hidden}-wrt-{trail.wrt}{sizes}"

    @cached_property
    def view(self) -> NetworkView:
        return network_view(self.trail, self.notation, self.slug, self.problem.name, self.detail)

    def document(self, fmt: str) -> str | bytes:
        if fmt == "json":
            from derive.serialize_network import network_json_text

            return network_json_text(self.trail, self.notation)
        if fmt in PDF_SOURCES:
            return build_pdf(self.document(PDF_SOURCES[fmt]))
        return render.network(render.environment(self.templates), fmt, self.view, self.options)


def derive_network_certified(problem: Problem, wrt: str, inputs: int | None, notation: Notation = Notation(),
                             detail: str = "standard", templates: Path | None = None,
                             hidden: Hidden | None = None,
                             options: render.RenderOptions = render.RenderOptions()) -> NetworkDerivation:
    """The output layer's derivation, certified, then the network's, certified: or ``CertificationError``."""
    if problem.reduction != "sum":
        raise ProblemError(f"--reduction {problem.reduction} is not supported with --wrt {wrt} (only sum)")
    check_sizes(problem.classes, inputs, None if hidden is None else hidden.units)  # before the output layer is derived
    output = certify(derive(problem))
    trail = certify_network(derive_network(problem, wrt, inputs, output, hidden=hidden))
    return NetworkDerivation(problem, trail, notation, detail, templates, options)


def hidden_argument(args) -> Hidden | None:
    """``--hidden NAME|EXPR`` and ``--units M``: the hidden layer, or None."""
    from derive.engine.hidden_layer import hidden_layer
    from derive.catalog import ACTIVATIONS

    units = args.units
    if args.hidden is None:
        if units is not None:
            raise ProblemError("--units needs --hidden ACTIVATION")
        return None
    if args.hidden in ACTIVATIONS:
        return hidden_layer(args.hidden, None, units)
    from derive.parse import parse_expression  # local: only a hidden layer written out needs the parser

    return hidden_layer(None, parse_expression(args.hidden, role="activation"), units)


def network_roles(network: bool, hidden) -> tuple[str, ...]:
    """The notation roles a document shows besides the output layer's: none, the layer's, or the hidden layer's too."""
    if not network:
        return ()
    return NETWORK_ROLES + (HIDDEN_ROLES if hidden is not None else ())


def add_arguments(pair) -> None:
    pair.add_argument("--wrt", choices=WRT, default="z",
                      help="differentiate by the output layer's inputs z (default), its weights W, biases b, or the inputs x")
    pair.add_argument("--inputs", dest="inputs", type=whole_number("--inputs", MAX_INPUTS), default=None, metavar="D",
                      help=f"a concrete number of network inputs, 1 <= D <= {MAX_INPUTS} (default: symbolic D)")
    pair.add_argument("--hidden", default=None, metavar="ACT2",
                      help="a hidden layer before the output layer: an elementwise activation, by name or as 'tanh(z)'")
    pair.add_argument("--units", type=whole_number("--units", MAX_UNITS), default=None, metavar="M",
                      help=f"with --hidden: a concrete number of hidden units, 1 <= M <= {MAX_UNITS} (default: symbolic M)")

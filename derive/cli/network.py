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
from derive.engine.derivation import derive
from derive.engine.network import MAX_INPUTS, PARAMETERS, derive_network
from derive.present import render
from derive.present.network_view import NetworkView, network_view
from derive.present.notation import Notation
from derive.problem import Problem, ProblemError
from derive.trail import NetworkTrail

WRT = ("z",) + PARAMETERS


@dataclass(frozen=True)
class NetworkDerivation:
    problem: Problem
    trail: NetworkTrail
    notation: Notation = Notation()
    detail: str = "standard"
    templates: Path | None = None

    @property
    def slug(self) -> str:
        sizes = "" if self.trail.inputs is None else f"-D{self.trail.inputs}"
        return f"{self.problem.slug}-wrt-{self.trail.wrt}{sizes}"

    @cached_property
    def view(self) -> NetworkView:
        return network_view(self.trail, self.notation, self.slug, self.problem.name, self.detail)

    def document(self, fmt: str) -> str | bytes:
        from derive.cli.pipeline import build_pdf  # local: the pipeline imports this module's callers

        if fmt == "json":
            from derive.serialize_network import network_json_text

            return network_json_text(self.trail, self.notation)
        if fmt == "pdf":
            return build_pdf(self.document("tex"))
        return render.network(render.environment(self.templates), fmt, self.view)


def derive_network_certified(problem: Problem, wrt: str, inputs: int | None, notation: Notation = Notation(),
                             detail: str = "standard", templates: Path | None = None) -> NetworkDerivation:
    """The output layer's derivation, certified, then the network's, certified: or ``CertificationError``."""
    if problem.reduction != "sum":
        raise ProblemError(f"--reduction {problem.reduction} is not supported with --wrt {wrt} (only sum)")
    output = certify(derive(problem))
    trail = certify_network(derive_network(problem, wrt, inputs, output))
    return NetworkDerivation(problem, trail, notation, detail, templates)


def inputs_argument(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ProblemError(f"--inputs expects a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_INPUTS:
        raise ProblemError(f"--inputs must be between 1 and {MAX_INPUTS}, got {value}")
    return value


def add_arguments(pair) -> None:
    pair.add_argument("--wrt", choices=WRT, default="z",
                      help="differentiate by the output layer's inputs z (default), its weights W, biases b, or the inputs x")
    pair.add_argument("--inputs", dest="inputs", default=None, metavar="D",
                      help=f"a concrete number of network inputs, 1 <= D <= {MAX_INPUTS} (default: symbolic D)")

"""How the canonical symbols are shown to a reader.

The engine always works in ``o``, ``y``, ``z``, ``e`` with indices ``i``, ``j``,
``k`` and class count ``H``.  A ``Notation`` maps those to display names, so a
document can follow seed 000 (O, y, Z) or seed 001 (o, t, z) without the maths
changing.  Names are validated here, once, so no renderer has to trust them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

_SAFE_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]{0,7})?$")


class NotationError(ValueError):
    """A display name that could not be used safely."""


@dataclass(frozen=True, slots=True)
class Notation:
    output: str = "O"      # o_i
    target: str = "y"      # y_i
    input: str = "Z"       # z_i
    loss: str = "E"        # E
    error: str = "e"       # e_i, the per-class error
    sum_index: str = "i"
    free_index: str = "k"
    inner_index: str = "j"
    classes: str = "H"
    # past the output layer (--wrt W|b|x): Z_k = Σ_d W_kd x_d + b_k
    weight: str = "W"
    bias: str = "b"
    network_input: str = "x"
    inputs: str = "D"
    input_index: str = "d"
    hidden_weight: str = "V"
    hidden_bias: str = "c"
    hidden: str = "h"
    preactivation: str = "a"
    units: str = "M"
    second_index: str = "l"  # the second derivative (--second): ∂²E/∂Z_k∂Z_l

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, str) or not _SAFE_NAME.match(value):
                raise NotationError(
                    f"notation {field.name}={value!r}: use a letter followed by at most 7 letters or digits"
                )

    def with_symbols(self, **overrides: str) -> "Notation":
        unknown = sorted(set(overrides) - {f.name for f in fields(self)})
        if unknown:
            raise NotationError(f"unknown notation symbol {unknown[0]!r}")
        return replace(self, **overrides)


NETWORK_ROLES = ("weight", "bias", "network_input", "inputs", "input_index")  # shown only in network documents
SECOND_ROLES = ("second_index",)  # shown only in second-derivative documents
HIDDEN_ROLES = ("hidden_weight", "hidden_bias", "hidden", "preactivation", "units")  # and these with a hidden layer  # shown only in network documents

PRESETS: dict[str, Notation] = {
    "seed000": Notation(),
    "seed001": Notation(output="o", target="t", input="z", sum_index="i", free_index="j", inner_index="k"),
}

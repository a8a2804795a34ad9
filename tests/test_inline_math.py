"""Fractions in running text are written on the line (a/b or \\tfrac), never stacked with \\frac."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from derive.present.inline_math import flattened, inline_fractions

OUTPUT = Path(__file__).resolve().parent.parent / "output"
INLINE = re.compile(r"(?<![\\$])\$(?!\$)([^$\n]+?)(?<!\\)\$(?!\$)")


@pytest.mark.parametrize("tex, expected", [
    (r"\frac{y_{i}}{O_{i}}", r"y_{i}/O_{i}"),
    (r"\frac{\partial \ln O_{i}}{\partial O_{i}} = \frac{1}{O_{i}}", r"\partial \ln O_{i}/\partial O_{i} = 1/O_{i}"),
    (r"\frac{\partial e^{Z_{i}}}{\partial Z_{k}}", r"\partial e^{Z_{i}}/\partial Z_{k}"),
    (r"\frac{1}{2} \sum_{i=1}^{H}", r"\tfrac{1}{2} \sum_{i=1}^{H}"),
    (r"\frac{1 - y_{i}}{1 - O_{i}}", r"\tfrac{1 - y_{i}}{1 - O_{i}}"),
    (r"\frac{y_{i}}{O_{i} \left(1 - O_{i}\right)}", r"\tfrac{y_{i}}{O_{i} \left(1 - O_{i}\right)}"),
    (r"\frac{\frac{a}{b}}{c}", r"\tfrac{a/b}{c}"),
    (r"\tanh^{2} u", r"\tanh^{2} u"),
])
def test_fractions_are_flattened(tex, expected):
    assert flattened(tex) == expected


def test_only_inline_maths_is_touched():
    text = "Text $\\frac{a}{b}$ and\n\n$$\n\\frac{a}{b}\n$$\n\nprice \\$5 and $\\frac{c}{d}$.\n"
    assert inline_fractions(text) == "Text $a/b$ and\n\n$$\n\\frac{a}{b}\n$$\n\nprice \\$5 and $c/d$.\n"


@pytest.mark.parametrize("path", sorted(OUTPUT.glob("*.md")) + sorted(OUTPUT.glob("*.tex")), ids=lambda p: p.name)
def test_no_stacked_fraction_in_running_text(path):
    text = path.read_text()
    assert [tex for tex in INLINE.findall(text) if "\\frac" in tex] == []

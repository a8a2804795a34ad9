"""Helpers for tests of user-defined pairs: run ``derive pair`` and compare with ``sympy.diff``.

Tests import this module as ``from user_pairs import ...`` (``tests/conftest.py``
puts this folder on ``sys.path``).  It is a plain module, not a test file.

The reference gradient is built from the parsed activation and loss only (the
whitelist parser, never ``sympify``): every sum is written out for a concrete
H, every ``o_m`` replaced by the activation at ``m``, and ``sympy.diff`` takes
the derivative.  It is compared with the gradient the command prints (JSON,
concrete H) at inputs spread over ``[-10, 10]``, both signs.
"""

from __future__ import annotations

import io
import json
import random
from contextlib import redirect_stderr, redirect_stdout

from sympy import Rational, diff

from derive.__main__ import main
from derive.parse import ELEMENTWISE_INPUT, parse_expression
from derive.srepr import load
from derive.symbols import CLASSES, FREE_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET

WIDE = 10  # inputs are drawn from [-WIDE, WIDE]
DIGITS = 40
TOLERANCE = Rational(1, 10**25)
SSE = "sum((o[i]-y[i])**2, i)/2"
POISSON = "sum(o[i] - y[i]*log(o[i]), i)"
BCE = "-sum(y[i]*log(o[i]) + (1-y[i])*log(1-o[i]), i)"
CE = "-sum(y[i]*log(o[i]), i)"


def run_pair(activation: str, loss: str, *extra: str) -> tuple[int, dict | None, str]:
    """``derive pair --activation ... --loss ... --format json -o -``: exit code, parsed JSON, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["pair", "--activation", activation, "--loss", loss, *extra, "--format", "json", "-o", "-"])
    return code, (json.loads(out.getvalue()) if code == 0 else None), err.getvalue()


def reference(activation: str, loss: str, classes: int) -> list:
    """``∂E/∂z_k`` for k = 1..H by ``sympy.diff`` of the written-out loss."""
    act = parse_expression(activation, role="activation").xreplace({CLASSES: classes})
    written = parse_expression(loss, role="loss").xreplace({CLASSES: classes}).doit()
    outputs = {OUTPUT[m]: act.xreplace({ELEMENTWISE_INPUT: INPUT[m], SUM_INDEX: m}).doit() for m in range(1, classes + 1)}
    total = written.xreplace(outputs)
    return [diff(total.xreplace({FREE_INDEX: k}), INPUT[k]) for k in range(1, classes + 1)]


def points(classes: int, targets: str, count: int, seed: int) -> list[dict]:
    """Inputs uniform on [-WIDE, WIDE]; targets as the declared kind allows (random in [0, 1] for ``any``)."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        point = {INPUT[m]: Rational(rng.randint(-WIDE * 1000, WIDE * 1000), 1000) for m in range(1, classes + 1)}
        if targets == "one-hot":
            hot = rng.randint(1, classes)
            ys = [int(m == hot) for m in range(1, classes + 1)]
        else:
            ys = [Rational(rng.randint(0, 1000), 1000) for _ in range(classes)]
            if targets == "distribution":
                total = sum(ys) or 1
                ys = [value / total for value in ys] if sum(ys) else [Rational(1, classes)] * classes
        point.update({TARGET[m]: value for m, value in enumerate(ys, start=1)})
        found.append(point)
    return found


def _finite(value) -> bool:
    return value.is_number and value.is_finite and value.is_extended_real


def agrees(data: dict, activation: str, loss: str, targets: str = "any", count: int = 6, seed: int = 0) -> int:
    """Assert the printed gradient equals the reference wherever the reference is a real number; return how many points."""
    classes = int(data["H"])
    gradient = [load(text) for text in data["gradient"]]
    truth = reference(activation, loss, classes)
    compared = 0
    for point in points(classes, targets, count, seed):
        for k, (mine, expected) in enumerate(zip(gradient, truth), start=1):
            want = expected.xreplace(point).evalf(DIGITS)
            if not _finite(want):
                continue
            got = mine.xreplace(point).evalf(DIGITS)
            assert _finite(got) and abs(got - want) <= TOLERANCE * max(1, abs(want)), (k, point, got, want)
            compared += 1
    return compared

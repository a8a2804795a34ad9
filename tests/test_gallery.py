"""The README's gallery of well-known pairs (issue 11, item 8): each derives (exit 0) at symbolic H and at
H = 3, and the H = 3 gradient equals ``sympy.diff`` of the written-out loss at inputs spread over [-10, 10].
The README's table is checked against this list, so the two cannot drift apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from user_pairs import BCE, CE, POISSON, SSE, agrees, run_pair

GALLERY = [
    ("Temperature softmax (T = 2) + cross-entropy", "exp(z[i]/2)/sum(exp(z[j]/2), j)", CE, "one-hot"),
    ("Label smoothing (0.1) + softmax", "exp(z[i])/sum(exp(z[j]), j)", "-sum((0.9*y[i]+0.1/sum(1, j))*log(o[i]), i)", "one-hot"),
    ("Focal loss (gamma = 2) + softmax", "exp(z[i])/sum(exp(z[j]), j)", "-sum(y[i]*(1-o[i])**2*log(o[i]), i)", "one-hot"),
    ("KL divergence + softmax", "exp(z[i])/sum(exp(z[j]), j)", "sum(y[i]*log(y[i]) - y[i]*log(o[i]), i)", "distribution"),
    ("Log-cosh + identity", "z", "sum(log(cosh(o[i]-y[i])), i)", None),
    ("GELU (tanh form) + squared error", "0.5*z*(1+tanh(0.7978845608*(z+0.044715*z**3)))", SSE, None),
    ("Swish + squared error", "z/(1+exp(-z))", SSE, None),
    ("Mish + squared error", "z*tanh(log(1+exp(z)))", SSE, None),
    ("Gaussian unit + squared error", "exp(-z**2)", SSE, None),
    ("ISRU (a smooth softsign) + squared error", "z/sqrt(1+z**2)", SSE, None),
    ("Log-softmax + negative log-likelihood", "z[i]-log(sum(exp(z[j]), j))", "-sum(y[i]*o[i], i)", "one-hot"),
    ("Softplus + Poisson", "log(1+exp(z))", POISSON, None),
    ("Sigmoid + binary cross-entropy", "1/(1+exp(-z))", BCE, None),
    ("Pseudo-Huber + identity", "z", "sum(sqrt(1+(o[i]-y[i])**2)-1, i)", None),
    ("Tanh + squared error", "tanh(z)", SSE, None),
    ("Exp + Poisson", "exp(z)", POISSON, None),
    ("Cube + squared error", "z**3", SSE, None),
]


@pytest.mark.parametrize("name, activation, loss, targets", [
    row if n % 6 == 0 else pytest.param(*row, marks=pytest.mark.slow)  # every sixth in the fast tier
    for n, row in enumerate(GALLERY)
], ids=[row[0] for row in GALLERY])
def test_gallery_pair_derives_and_matches_sympy_diff(name, activation, loss, targets):
    extra = ("--targets", targets) if targets else ()
    code, data, err = run_pair(activation, loss, *extra)
    assert code == 0, err
    code, data, err = run_pair(activation, loss, *extra, "--H", "3")
    assert code == 0, err
    assert agrees(data, activation, loss, targets or "any") > 0


def test_the_readme_lists_the_gallery():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert len(GALLERY) >= 15
    for name, activation, loss, _ in GALLERY:
        assert f"| {name} | `{activation}` | `{loss}` |" in readme, name

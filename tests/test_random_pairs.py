"""Random pairs from the whole input syntax (issue 11, item 3): elementwise and vector activations,
constant indices such as z[3] and o[2], sums, every function.  Each run ends with exit 0 and a gradient
equal to ``sympy.diff`` at inputs over [-10, 10], or with exit 2 and one line: never an internal error,
never the step limit.  The default run draws a few examples (derandomised); the slow variant draws more."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from user_pairs import agrees, run_pair

FUNCTIONS = ("exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs")


@st.composite
def elementwise(draw, depth=2):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(["z", "2*z", "z/3", "(z+1)", "-z"]))
    inner = draw(elementwise(depth=depth - 1))
    shape = draw(st.sampled_from(["f", "pow", "add", "mul"]))
    if shape == "f":
        return f"{draw(st.sampled_from(FUNCTIONS))}({inner})"
    if shape == "pow":
        return f"({inner})**{draw(st.sampled_from(['2', '3', '0.5', '-1']))}"
    return f"({inner}){'+' if shape == 'add' else '*'}{draw(st.sampled_from(['z', '1', '0.5']))}"


VECTOR = [
    "exp(z[i])/sum(exp(z[j]), j)", "exp(z[i]-z[1])/sum(exp(z[j]-z[1]), j)", "z[i]+z[3]", "z[i]-sum(z[j],j)/sum(1,j)",
    "z[i]*z[2]", "tanh(z[i])/sum(1, j)",
]
LOSSES = [
    "sum((o[i]-y[i])**2, i)/2", "sum(o[i] - y[i]*log(o[i]), i)", "-sum(y[i]*log(o[i]), i)",
    "-sum(y[i]*log(o[i]) + (1-y[i])*log(1-o[i]), i)", "sum(o[i]*o[2], i)", "sum(sqrt(1+(o[i]-y[i])**2), i)",
    "sum(log(cosh(o[i]-y[i])), i)", "sum(exp(o[i]) - y[i]*o[i], i)",
]


@st.composite
def pairs(draw):
    activation = draw(st.one_of(elementwise(), st.sampled_from(VECTOR)))
    return activation, draw(st.sampled_from(LOSSES))


def check(pair):
    activation, loss = pair
    code, data, err = run_pair(activation, loss, "--H", "3")
    assert code in (0, 2), (activation, loss, err)
    if code == 2:
        assert err.count("\n") == 1 and "internal error" not in err and "did not finish" not in err, err
    else:
        agrees(data, activation, loss, count=3)


@pytest.mark.slow  # with the 150-example variant below; each example is a full derivation
@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(pairs())
def test_random_pairs_derive_or_are_refused(pair):
    check(pair)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(pairs())
def test_many_random_pairs_derive_or_are_refused(pair):
    check(pair)

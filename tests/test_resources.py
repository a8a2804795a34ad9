"""The speed and memory work changes how results are built, never what they are.

* ``json_text`` writes exactly ``json.dumps(data, indent=2, ensure_ascii=False)``.
* The certifier releases what it remembered, so it leaves no reference cycles of
  its own for Python's cycle collector, which ``derive_certified`` pauses while
  it works.
* ``derive_certified`` gives the same trail with the collector paused.
No timing here.
"""

from __future__ import annotations

import gc
import json

import pytest

from derive.certify import certify
from derive.engine.derivation import derive
from derive.cli.pipeline import collector_paused, derive_certified
from derive.problem import Problem
from derive.serialize import json_text, trail_to_json

TABLES = [
    {"a": 1, "gradient": ["x", 'y"quoted"', "back\\slash", "control\x01", "tab\there", "é∂ unicode", ""]},
    {"a": [1, {"b": 2.5, "c": None}], "gradient": []},
    {"gradient": ["a"], "after": 1},  # not the last key: the plain json.dumps path
    {"a": True, "gradient": ["only one"]},
    {"nested": {"gradient": ["x"]}, "gradient": ["Add(Symbol('x'), Integer(1))", "Mul(Integer(2), Symbol('y'))"]},
    {"no": "gradient"},
    {"gradient": ["the only key"]},
]


@pytest.mark.parametrize("data", TABLES)
def test_json_text_is_json_dumps(data):
    assert json_text(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("classes", [1, 4, 9])
def test_json_text_of_a_trail_is_json_dumps(classes):
    data = trail_to_json(derive_certified(Problem(classes=classes)).trail)
    assert data["gradient"]
    assert json_text(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_json_text_reads_back():
    data = trail_to_json(derive_certified(Problem(classes=5)).trail)
    assert json.loads(json_text(data)) == data


def _cyclic_garbage_after(work) -> int:
    gc.collect()
    gc.disable()
    try:
        work()
    finally:
        gc.enable()
    return gc.collect()


def test_certification_leaves_no_cycles_behind():
    """Only SymPy's own few (``Basic.replace`` makes a recursive closure): a few hundred objects."""
    trail = derive(Problem(classes=6))
    assert _cyclic_garbage_after(lambda: certify(trail)) < 1000


def test_without_releasing_the_certifier_would_leave_cycles(monkeypatch):
    """The check above can fail: keep the evaluators' closures and the collector has work to do."""
    import derive.certify.evaluator as evaluator_module

    trail = derive(Problem(classes=6))
    monkeypatch.setattr(evaluator_module.Evaluator, "release", lambda self: None)
    assert _cyclic_garbage_after(lambda: certify(trail)) > 3000


def test_collector_paused_restores_the_collector():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        with collector_paused():
            1 / 0
    assert gc.isenabled()


def test_a_paused_collector_gives_the_same_trail():
    paused = derive_certified(Problem(classes=3)).trail
    plain = certify(derive(Problem(classes=3)))
    assert paused == plain

"""Printed annotations are certified like equations (issue 12, item 4): the edits of the issue are refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sympy import Derivative, Eq, Ne

from derive.certify import CertificationError, certify
from derive.certify.annotations import annotation_errors
from derive.engine.derivation import derive
from derive.problem import Problem
from derive.symbols import ERROR, INPUT, OUTPUT, SUM_INDEX, TARGET
from derive.trail import Mark

i, O, Y, Z = SUM_INDEX, OUTPUT, TARGET, INPUT


def _all_steps(steps):
    for step in steps:
        yield step
        yield from _all_steps(step.substeps)


def edited(trail, mark, change):
    """The first step carrying an annotation marked ``mark``, with that annotation changed."""
    done = []

    def walk(steps):
        out = []
        for step in steps:
            notes = list(step.annotations)
            for n, a in enumerate(notes):
                if not done and a.mark is mark:
                    notes[n] = change(a)
                    done.append(step)
            out.append(replace(step, annotations=tuple(notes), substeps=walk(step.substeps)))
        return tuple(out)

    steps = walk(trail.steps)
    assert done, f"no {mark} annotation"
    return replace(trail, steps=steps)


EDITS = {
    "the constant named O_i": (Mark.CONSTANT, lambda a: replace(a, target=O[i]), "named a constant"),
    "the chain rule through Z_i": (Mark.INTERMEDIATE, lambda a: replace(a, target=Z[i] ** 7 + Y[i]), "go through"),
    "e_i written out as -y_i O_i": (Mark.DEFINITION, lambda a: replace(a, note=-Y[i] * O[i]), "not as its definition"),
    "y_i cancels": (Mark.CANCELLED, lambda a: replace(a, target=Y[i]), "cancel"),
}


@pytest.mark.parametrize("name", EDITS)
def test_an_edited_annotation_is_refused(name):
    mark, change, message = EDITS[name]
    trail = derive(Problem())
    with pytest.raises(CertificationError, match=message):
        certify(edited(trail, mark, change))


@pytest.mark.parametrize("pair", [("softmax", "cross-entropy"), ("tanh", "sum-of-squares"), ("sigmoid", "binary-cross-entropy")])
def test_the_untouched_annotations_pass(pair):
    assert annotation_errors(derive(Problem(*pair))) == []


def test_swapped_underbrace_labels_are_refused():
    """The i = k and i ≠ k labels of the index split exchanged: the equations are untouched."""
    def swap(a):
        return replace(a, note=Eq(*a.note.args) if isinstance(a.note, Ne) else Ne(*a.note.args))

    trail = derive(Problem())
    steps = []
    for step in trail.steps:
        if any(a.mark is Mark.UNDERBRACE for a in step.annotations):
            step = replace(step, annotations=tuple(swap(a) if a.mark is Mark.UNDERBRACE else a for a in step.annotations))
        steps.append(step)
    with pytest.raises(CertificationError, match="is labelled"):
        certify(replace(trail, steps=tuple(steps)))

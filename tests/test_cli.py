"""The command-line contract, exercised through ``main(argv)`` without a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from derive.__main__ import main
from derive.srepr import load
from sympy import Indexed, IndexedBase


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_no_arguments_writes_both_documents(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run([], capsys)
    assert code == 0 and err == ""
    expected = [Path("output/softmax-cross-entropy.md"), Path("output/softmax-cross-entropy.tex")]
    assert out.split() == [str(path) for path in expected]
    assert all((tmp_path / path).stat().st_size > 1000 for path in expected)


def json_of(argv, capsys):
    code, out, err = run(argv + ["--format", "json", "-o", "-"], capsys)
    assert code == 0 and err == ""
    return json.loads(out)


def all_steps(steps):
    for step in steps:
        yield step
        yield from all_steps(step["substeps"])


@pytest.mark.parametrize("extra, classes", [([], "H"), (["--H", "3"], 3)])
def test_json_contract(extra, classes, capsys):
    data = json_of(["pair", "softmax", "cross-entropy", *extra], capsys)
    assert data["activation"] == "softmax" and data["loss"] == "cross-entropy"
    assert data["H"] == classes
    assert data["assumptions"][0]["name"] == "one-hot" and data["assumptions"][0]["latex"]
    for step in all_steps(data["steps"]):
        assert {"rule", "title", "before", "after", "certified", "substeps"} <= set(step)
        assert set(step["before"]) == set(step["after"]) == {"latex", "srepr"}
        assert step["certified"] is True
    assert data["result"]["latex"] == "O_{k} - y_{k}"
    assert ("gradient" in data) == (classes != "H")


def test_json_gradient_is_in_z_and_y_only(capsys):
    data = json_of(["pair", "softmax", "cross-entropy", "--H", "4"], capsys)
    assert len(data["gradient"]) == 4
    for text in data["gradient"]:
        component = load(text)
        assert {node.base for node in component.atoms(Indexed)} == {IndexedBase("z"), IndexedBase("y")}


def test_stdout_and_file_output(tmp_path, capsys):
    target = tmp_path / "deep" / "doc.tex"
    code, out, _ = run(["pair", "softmax", "cross-entropy", "--H", "2", "--format", "tex", "-o", str(target)], capsys)
    assert code == 0 and out.strip() == str(target)
    assert target.read_text().startswith(r"\documentclass")
    code, out, _ = run(["pair", "softmax", "cross-entropy", "--format", "md", "-o", "-"], capsys)
    assert code == 0 and out.startswith("# The gradient of categorical cross-entropy")


@pytest.mark.parametrize(
    "argv",
    [
        ["pair", "softmax", "hinge"],
        ["pair", "relu6", "cross-entropy"],
        ["pair", "softmax", "cross-entropy", "--H", "0"],
        ["pair", "softmax", "cross-entropy", "--H", "three"],
        ["pair", "softmax", "cross-entropy", "--H", "1000000000"],
        ["pair", "softmax", "cross-entropy", "--format", "docx"],
        ["pair", "softmax", "cross-entropy", "--format", "md,tex", "-o", "-"],
        ["pair", "softmax"],
        ["catalogue"],
        ["frobnicate"],
        ["--no-such-flag"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.startswith("derive: ") and err.count("\n") == 1 and "Traceback" not in err
    assert out == "" and list(tmp_path.iterdir()) == []


def test_unwritable_destination_is_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run(["pair", "softmax", "cross-entropy", "--format", "md", "-o", str(blocker / "x.md")], capsys)
    assert code == 2 and err.count("\n") == 1
    assert blocker.read_text() == "not a folder"


def test_catalogue_names_may_be_given_as_flags(capsys):
    """``--activation softmax --loss cross-entropy`` is ``softmax cross-entropy``, not an expression."""
    code, by_flags, _ = run(["pair", "--activation", "softmax", "--loss", "cross-entropy", "--format", "json", "-o", "-"], capsys)
    assert code == 0
    code, by_names, _ = run(["pair", "softmax", "cross-entropy", "--format", "json", "-o", "-"], capsys)
    assert code == 0 and by_flags == by_names


def test_list_rules_prints_the_registry_one_rule_a_line(capsys):
    from derive.engine.rules.registry import RULES

    code, out, err = run(["list", "--rules"], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(RULES)
    for line, rule in zip(lines, RULES):
        slug, rest = line.split(maxsplit=1)
        assert slug == rule.slug
        assert rest.startswith(rule.title) and rest.endswith(rule.formula)
    assert "Chain rule" in out and r"\partial \ln u / \partial u = 1/u" in out


def test_plain_list_does_not_print_the_rules(capsys):
    code, out, err = run(["list"], capsys)
    assert code == 0 and "Chain rule" not in out and out.startswith("activations")


@pytest.mark.parametrize("argv, line", [
    (["pair", "softmax", "cross-entropy", "--H", "two"], "derive: --H expects a whole number, got 'two'\n"),
    (["check", "softmax", "cross-entropy", "--claim", "o[k]", "--H", "two"], "derive: --H expects a whole number, got 'two'\n"),
    (["check", "softmax", "cross-entropy", "--claim", "o[k]", "--H", "0"], "derive: --H must be between 1 and 100, got 0\n"),
    (["pair", "softmax", "cross-entropy", "--wrt", "W", "--inputs", "1.5"], "derive: --inputs expects a whole number, got '1.5'\n"),
])
def test_every_size_flag_has_one_wording_whichever_command(argv, line, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err == line

"""The registry is the only list of rules: walk it and check that each rule has everything it needs.

For every rule: a unique slug, its record declared in the module of its function, its prose
template ``templates/rules/<slug>.j2``, rows in the rule tables of ``tests/test_rules.py`` (both
applying and refusing), and a place in the mutation test (``tests/test_mutations.py`` mutates
the rules its subjects use).  No template, and no rule in a step, falls outside the registry.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from derive.engine.rules.registry import RULES, rule_named
from derive.trail import Rule
from test_mutations import SUBJECTS, mutation_targets
from test_rules import APPLIES, REFUSES

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "rules"
BY_SLUG = pytest.mark.parametrize("rule", RULES, ids=[rule.slug for rule in RULES])


def test_slugs_are_unique_and_each_names_its_rule():
    assert len({rule.slug for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule_named(rule.slug) is rule
    with pytest.raises(ValueError, match="'no-such-rule' is not a valid Rule"):
        rule_named("no-such-rule")


@BY_SLUG
def test_each_rule_module_declares_its_one_record(rule):
    module = importlib.import_module(rule.function.__module__)
    records = [value for value in vars(module).values() if isinstance(value, Rule) and value.function.__module__ == module.__name__]
    assert records == [rule]
    assert rule.title and rule.formula and module.__doc__, "a title, a formula, and the formula in the module's docstring"


@BY_SLUG
def test_each_rule_has_its_template(rule):
    assert (TEMPLATES / f"{rule.slug}.j2").is_file()


def test_every_rule_template_belongs_to_a_rule():
    assert sorted(path.stem for path in TEMPLATES.glob("*.j2")) == sorted(rule.slug for rule in RULES)


def _rule_of(row) -> Rule:
    """The rule a table row tries: its function, or the function a ``partial`` wraps."""
    function = row.values[0]
    return next(rule for rule in RULES if rule.function is getattr(function, "func", function))


@BY_SLUG
def test_each_rule_has_rows_in_the_rule_tables(rule):
    assert any(row.values[4] is rule and _rule_of(row) is rule for row in APPLIES), "no row where it applies"
    assert any(_rule_of(row) is rule for row in REFUSES), "no row where it refuses"


def test_every_rule_is_used_by_the_mutation_test():
    """The mutation test mutates the rules its subjects' derivations use: together, all of them."""
    used = {rule for derivation, only in SUBJECTS.values() for rule in mutation_targets(derivation, only)}
    assert [rule.slug for rule in RULES if rule not in used] == []

"""The only list of rules: every rule the engine can apply, each found from its one record.

A rule's module declares its record (``derive.trail.Rule``: slug, title, formula, function);
this module lists them, in the order ``derive list --rules`` prints them.  Its prose lives in
``templates/rules/<slug>.j2``.  Adding a rule means one module, one line here and one template.
"""

from __future__ import annotations

from derive.engine.rules.assumption import ASSUMPTION
from derive.engine.rules.cancel_factors import CANCEL
from derive.engine.rules.cases import CASES
from derive.engine.rules.chain import CHAIN
from derive.engine.rules.collect import COLLECT
from derive.engine.rules.common_derivative import COMMON_DERIVATIVE
from derive.engine.rules.common_factor import COMMON_FACTOR
from derive.engine.rules.constant_factor import CONSTANT_FACTOR
from derive.engine.rules.cosh import COSH
from derive.engine.rules.definition import DEFINITION
from derive.engine.rules.delta_sum import DELTA_SUM
from derive.engine.rules.exp import EXP
from derive.engine.rules.expand_products import EXPAND
from derive.engine.rules.factor_gap import FACTOR_GAP
from derive.engine.rules.factor_out import FACTOR_OUT
from derive.engine.rules.fold import FOLD
from derive.engine.rules.independent import INDEPENDENT
from derive.engine.rules.index import INDEX
from derive.engine.rules.index_split import INDEX_SPLIT
from derive.engine.rules.layer_chain import LAYER_CHAIN
from derive.engine.rules.layer_derivative import LAYER_DERIVATIVE
from derive.engine.rules.layer_lemma import LAYER_LEMMA
from derive.engine.rules.lemma import LEMMA
from derive.engine.rules.log import LOG
from derive.engine.rules.power import POWER
from derive.engine.rules.product import PRODUCT
from derive.engine.rules.quotient import QUOTIENT
from derive.engine.rules.recognise import RECOGNISE
from derive.engine.rules.rejoin import REJOIN
from derive.engine.rules.second_derivative import SECOND_DERIVATIVE
from derive.engine.rules.self import SELF
from derive.engine.rules.sinh import SINH
from derive.engine.rules.sum import SUM
from derive.engine.rules.tanh import TANH
from derive.engine.rules.unit_lemma import UNIT_LEMMA
from derive.trail import Rule

RULES: tuple[Rule, ...] = (
    DEFINITION, SUM, CONSTANT_FACTOR, INDEPENDENT, SELF, INDEX, CHAIN, LOG, EXP, TANH, SINH, COSH, POWER,
    QUOTIENT, PRODUCT, DELTA_SUM, FOLD, CASES, COMMON_DERIVATIVE, LEMMA, INDEX_SPLIT, CANCEL, FACTOR_OUT, ASSUMPTION, EXPAND,
    COLLECT, COMMON_FACTOR, FACTOR_GAP, REJOIN, RECOGNISE, LAYER_CHAIN, LAYER_LEMMA, LAYER_DERIVATIVE, UNIT_LEMMA,
    SECOND_DERIVATIVE,
)


def rule_named(slug: str) -> Rule:
    """The rule whose slug is ``slug``; a ``ValueError`` (as the enum of rules used to raise) for any other name."""
    found = next((rule for rule in RULES if rule.slug == slug), None)
    if found is None:
        raise ValueError(f"{slug!r} is not a valid Rule")
    return found

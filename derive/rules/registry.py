"""The only list of rules: every rule the engine can apply, each found from its one record.

A rule's module declares its record (``derive.trail.Rule``: slug, title, formula, function);
this module lists them, in the order ``derive list --rules`` prints them.  Its prose lives in
``templates/rules/<slug>.j2``.  Adding a rule means one module, one line here and one template.
"""

from __future__ import annotations

from derive.rules.assumption import ASSUMPTION
from derive.rules.cancel_factors import CANCEL
from derive.rules.cases import CASES
from derive.rules.chain import CHAIN
from derive.rules.collect import COLLECT
from derive.rules.common_factor import COMMON_FACTOR
from derive.rules.constant_factor import CONSTANT_FACTOR
from derive.rules.cosh import COSH
from derive.rules.definition import DEFINITION
from derive.rules.delta_sum import DELTA_SUM
from derive.rules.exp import EXP
from derive.rules.expand_products import EXPAND
from derive.rules.factor_gap import FACTOR_GAP
from derive.rules.factor_out import FACTOR_OUT
from derive.rules.fold import FOLD
from derive.rules.independent import INDEPENDENT
from derive.rules.index import INDEX
from derive.rules.index_split import INDEX_SPLIT
from derive.rules.lemma import LEMMA
from derive.rules.log import LOG
from derive.rules.power import POWER
from derive.rules.product import PRODUCT
from derive.rules.quotient import QUOTIENT
from derive.rules.recognise import RECOGNISE
from derive.rules.rejoin import REJOIN
from derive.rules.self import SELF
from derive.rules.sinh import SINH
from derive.rules.sum import SUM
from derive.rules.tanh import TANH
from derive.rules.vanish import VANISH
from derive.trail import Rule

RULES: tuple[Rule, ...] = (
    DEFINITION, SUM, CONSTANT_FACTOR, INDEPENDENT, SELF, INDEX, CHAIN, LOG, EXP, TANH, SINH, COSH, POWER,
    QUOTIENT, PRODUCT, DELTA_SUM, FOLD, CASES, LEMMA, INDEX_SPLIT, CANCEL, FACTOR_OUT, ASSUMPTION, EXPAND,
    COLLECT, VANISH, COMMON_FACTOR, FACTOR_GAP, REJOIN, RECOGNISE,
)


def rule_named(slug: str) -> Rule:
    """The rule whose slug is ``slug``; a ``ValueError`` (as the enum of rules used to raise) for any other name."""
    found = next((rule for rule in RULES if rule.slug == slug), None)
    if found is None:
        raise ValueError(f"{slug!r} is not a valid Rule")
    return found

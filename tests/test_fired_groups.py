"""The rules durable_rules fired, grouped by family once per distinct family case (engine/evaluate.py)."""
from datetime import date

from engine.derive import fact_values
from engine.evaluate import Evaluator
from tests.conftest import enterprise, policy_and_rules


def firm(i: int, revenue_wan: str):
    return enterprise(name=f"企业{i}", town="分水镇", in_park=False, industry_code="C3484",
                      is_legal_person=True, established_on="2015-03-01", in_scope=False,
                      revenue_last_year=revenue_wan)


def test_records_that_fire_the_same_rules_of_a_family_share_its_group_and_get_the_same_verdict():
    policy, book = policy_and_rules()
    as_of = date(2024, 12, 31)
    shared = Evaluator(policy, book, as_of)
    # Firms that differ in one family only (the revenue decides eligibility; the rest is the same).
    firms = [firm(i, wan) for i, wan in enumerate(["1000", "3000", "1500", "3000", "2500", "10"])]
    fired = [shared.compiled.engine.fire_all(shared.compiled.encoder.record(fact_values(f, shared._derived, as_of)))
             for f in firms]
    groups = [shared.grouped(list(names)) for names in fired]
    assert len({tuple(names) for names in fired}) > 1 and len({g.names for g in groups[0]}) > 1
    for a in range(len(groups)):
        for b in range(len(groups)):
            for ga, gb in zip(groups[a], groups[b]):
                # a family's group is one object wherever that family fired the same rules
                assert (ga is gb) == (ga.names == gb.names)
    # and sharing changes no decision: each firm as a fresh evaluator decides it
    for f in firms:
        alone = Evaluator(policy, book, as_of).evaluate(f)
        assert [(d.type, d.outcome, d.rule_id, d.amount_yuan) for d in shared.evaluate(f).decisions] == \
               [(d.type, d.outcome, d.rule_id, d.amount_yuan) for d in alone.decisions]

"""The facts schema (<policy rules folder>/facts.yaml) is the one list of register columns: the reader
maps headers to it, the rules test it, and the typed row (engine/facts.Enterprise) must agree with it."""
from __future__ import annotations

import shutil

import pytest

from engine.errors import PolicyDataError
from engine.register.columns import load_columns, register_columns
from engine.rulebook import load_rulebook
from tests.conftest import ROOT, policy_and_rules


def schema_copy(tmp_path, old: str, new: str):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    facts = rules / "facts.yaml"
    text = facts.read_text(encoding="utf-8")
    assert old in text
    facts.write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


def test_the_reader_the_rules_and_the_policy_share_one_schema():
    policy, book = policy_and_rules()
    columns = register_columns(policy)
    assert policy.rules_folder == book.folder
    # The same columns; the reader's also carry the other names of values the policy's glossary gives.
    assert {c.id: c.model_copy(update={"value_aliases": ()}) for c in columns} == \
        {fid: spec for fid, spec in book.facts.items() if not spec.fn}
    assert {c.id for c in columns if c.value_aliases} == set(policy.column_vocabulary)


def test_an_enum_value_the_typed_row_does_not_know_is_refused(tmp_path):
    rules = schema_copy(tmp_path, "values: [正常, 半停产, 停产]", "values: [正常, 半停产, 停产, 歇业]")
    with pytest.raises(PolicyDataError, match="production_status: enum values .* differ from Enterprise"):
        load_columns(rules)


def test_a_column_type_the_typed_row_does_not_hold_is_refused(tmp_path):
    rules = schema_copy(tmp_path, "{id: employees, type: int,", "{id: employees, type: money,")
    with pytest.raises(PolicyDataError, match="employees: type money does not match Enterprise"):
        load_columns(rules)


def test_a_rule_on_a_fact_the_schema_lacks_is_refused(tmp_path):
    policy, _ = policy_and_rules()
    rules = schema_copy(tmp_path, "  - {id: loss_years,", "  - {id: loss_yearz,")
    with pytest.raises(PolicyDataError, match="unknown fact 'loss_years'"):
        load_rulebook(rules, policy)

"""#17's findings, one test each: shared rules bound per policy through provisions.yaml, families a
policy does not provide, amounts it does not offer, tags through its vocabulary, and messages that
point the way."""
from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.analysis.policy_check import check_policy
from engine.analysis.reform import Reform, apply_reform
from engine.columnar.evaluator import ColumnarEvaluator
from engine.evaluate import Evaluator, load_engine_inputs
from engine.policy import load_policy, policies_root
from engine.rulebook import load_rulebook
from tests.conftest import ROOT
from tests.districts import one_clause_notice as notice
from tests.test_award_run import firm

AS_OF = date(2024, 12, 31)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def copy(tmp_path):
    """A copy of a bundled policy (with the jurisdictions beside it) to edit."""
    def make(policy_id: str) -> Path:
        root = tmp_path / "policies"
        shutil.copytree(policies_root() / policy_id, root / policy_id)
        if not (root / "jurisdictions").exists():
            shutil.copytree(policies_root() / "jurisdictions", root / "jurisdictions")
        text = (root / policy_id / "policy.yaml").read_text(encoding="utf-8")
        (root / policy_id / "policy.yaml").write_text(text.replace("rules: ../../rules\n", ""), encoding="utf-8")
        return root / policy_id
    return make


def unbind(folder: Path, prefix: str) -> None:
    """Remove every binding of provisions starting with `prefix` (the policy no longer has them)."""
    path = folder / "provisions.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(l for l in lines if not re.match(rf"\s+{re.escape(prefix)}[.:]", l)), encoding="utf-8")


def errors(folder: Path) -> list[str]:
    return [f.message for f in check_policy(folder) if f.severity == "error"]


def test_rule_records_name_provisions_and_quote_no_clause():
    for path in (ROOT / "rules").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(- )?(clause|text): ", text, re.M), path.name


def test_a_policy_without_the_pool_says_so_and_needs_none_of_its_readings(copy):
    folder = copy("wanzhou-2022-80")
    unbind(folder, "pool")
    interpretations = folder / "interpretations.yaml"
    text = interpretations.read_text(encoding="utf-8")
    start = text.index("  - id: pool_criteria")
    end = text.find("  - id: ", start + 1)
    interpretations.write_text(text[:start] + (text[end:] if end > 0 else ""), encoding="utf-8")
    assert errors(folder) == []
    findings = check_policy(folder)
    assert any(f.code == "provision.not_provided" and "pool_entry" in f.message for f in findings)
    policy, book = load_engine_inputs(str(folder))
    d = Evaluator(policy, book, AS_OF).evaluate(firm("甲", in_scope=False)).decision("pool_entry")
    assert (d.outcome, d.reason, d.clause_id) == ("not_applicable", "not_provided", None)


def test_binding_part_of_a_family_without_its_conclusion_is_an_error(copy):
    folder = copy("wanzhou-2022-80")
    path = folder / "provisions.yaml"
    path.write_text(re.sub(r"\n  pool: \{[^\n]*", "", path.read_text(encoding="utf-8")), encoding="utf-8")
    assert any("binds pool.industrial" in m and "conclusion's provision 'pool'" in m for m in errors(folder))


def test_a_provision_bound_to_a_quote_not_in_its_clause_is_an_error(copy):
    folder = copy("example-district-2024")
    path = folder / "provisions.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("priority.growth: {clause: 三(三), text: 成长性较好}",
                                                             "priority.growth: {clause: 三(三), text: 成长性很好}"),
                    encoding="utf-8")
    assert any("priority.growth: text is not a verbatim part of clause 三(三)" in m for m in errors(folder))


def test_policy_check_names_the_folder_of_the_rule_files_it_read(copy):
    folder = copy("example-district-2024")
    read = [f for f in check_policy(folder) if f.code == "rules.read"]
    assert read and str((ROOT / "rules").resolve()) in read[0].message and "enterprise_award.yaml" in read[0].message


@pytest.mark.parametrize("backend", ["durable", "columnar"])
def test_a_zero_town_award_is_not_offered_not_an_award_of_nothing(backend):
    policy, book = load_engine_inputs("example-district-2024")
    zero = apply_reform(policy, Reform(name="no town award", effective=date(2024, 1, 1),
                                       parameters={"town_award_per_enterprise": "0"}))
    ent = firm("甲", origin="小升规", in_scope_since="2024-03", town="东湖街道")
    if backend == "durable":
        d = Evaluator(zero, book, AS_OF).evaluate(ent).decision("town_award")
    else:
        d = next(x for x in ColumnarEvaluator(zero, book, AS_OF).evaluate([ent])[0].decisions if x.type == "town_award")
    assert (d.outcome, d.reason, d.amount_yuan) == ("not_awarded", "no_amount_offered", None)


def test_an_exclusion_in_an_indicators_family_is_refused(copy):
    folder = copy("wanzhou-2022-80")
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (folder / "policy.yaml").read_text(encoding="utf-8")
    (folder / "policy.yaml").write_text(text + "rules: rules\n", encoding="utf-8")
    path = rules / "delisting_warning.yaml"
    body = path.read_text(encoding="utf-8")
    marker = "rules:\n"
    at = body.index(marker) + len(marker)
    path.write_text(body[:at] + """  - id: delisting_warning.never
    kind: exclusion
    outcome: not_applicable
    provision: delisting
    label_zh: 不预警
    label_en: never warned
    when: {fact: in_scope, op: "==", value: true}
""" + body[at:], encoding="utf-8")
    assert any("delisting_warning.never: an indicators family has no exclusions" in m for m in errors(folder))


def test_a_tag_in_the_clause_s_words_earns_the_bonus_and_an_unknown_tag_is_a_row_warning(tmp_path):
    policy, book = load_engine_inputs("example-district-2024")
    ent = firm("甲", origin="小升规", in_scope_since="2024-03", town="东湖街道", tags=["战略性新兴产业"])
    d = Evaluator(policy, book, AS_OF).evaluate(ent).decision("enterprise_award")
    assert d.amount_yuan == Decimal(70000)                   # 小升规 5万 + the one-off 2万
    register = tmp_path / "r.csv"
    sample = (policies_root() / "example-district-2024" / "sample-registers" / "2024.csv").read_text(encoding="utf-8-sig")
    register.write_text(sample.replace(",高技术,", ",高科技,", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(register), "--as-of", "2024-12-31",
                                                       "--policy", "example-district-2024"])
    assert result.exit_code == 0
    assert "row 2" in result.stderr and "unknown tag(s) 高科技" in result.stderr and "vocabulary.yaml" in result.stderr


def test_policy_check_does_not_enumerate_origins_the_register_rejects(tmp_path):
    folder = notice.write(tmp_path)
    assert not [f for f in check_policy(folder) if "origin=其他" in f.message]


def test_the_terms_line_of_a_single_payment(tmp_path):
    from engine.awards.present import render_plan
    from tests.test_award_run import run_year
    policy, book = load_engine_inputs(str(notice.write(tmp_path)))
    plan = run_year(tmp_path / "l.db", 2024, [firm("甲", origin="小升规", in_scope_since="2024-04", town="北岭镇")],
                    policy=policy, book=book, commit=False)
    text = render_plan(plan, policy, "zh", "run", True)
    assert "企业奖励拨付条款：一次性全额拨付" in text and "余款" not in text
    assert "in full at once" in render_plan(plan, policy, "en", "run", True)


def test_another_district_s_town_names_the_policy_to_use(tmp_path):
    sample = policies_root() / "example-district-2024" / "sample-registers" / "2024.csv"
    result = CliRunner().invoke(main, ["check", str(sample), "--as-of", "2024-12-31"])
    assert 'unknown town "东湖街道"' in result.stderr and "use --policy example-district-2024" in result.stderr


def test_every_command_that_reads_a_policy_shows_policy_in_its_synopsis():
    import click

    def commands(group, path):
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                yield from commands(cmd, path + [name])
            elif any(isinstance(p, click.Option) and p.name == "policy_id" for p in cmd.params):
                yield path + [name]
    paths = list(commands(main, []))
    assert ["explain"] in paths
    for path in paths:
        usage = run(*path, "--help").output.splitlines()[0]
        assert "--policy" in usage, usage


def test_a_clause_that_decides_nothing_is_listed_as_not_modelled_in_the_policy(tmp_path):
    folder = notice.write(tmp_path)
    period = "本通知自2024年3月1日起施行，有效期至2026年12月31日。"
    with (folder / "clauses.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"  - {{id: 施行, kind: provision, heading_zh: 施行, heading_en: In force, text: \"{period}\"}}\n")
    assert any("clause 施行 is implemented by no rule" in m for m in errors(folder))
    with (folder / "provisions.yaml").open("a", encoding="utf-8") as fh:
        fh.write("not_modelled:\n  施行: the period in force, read into policy.yaml in_force\n")
    assert errors(folder) == []
    with (folder / "provisions.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  附则: nothing\n")
    assert any("not_modelled: unknown clause '附则'" in m for m in errors(folder))

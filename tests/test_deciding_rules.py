"""An explanation lists the rules that bear on a decision's outcome (engine/deciding_rules.py): a decision
settled by an applicability rule lists the applicability rules, one settled by an exclusion those and the
exclusions, a refusal everything but the amounts; it says how many it leaves out, quotes only the readings
of the rules it lists, and `explain --all-rules` lists every rule. Whatever a text points to above ("见上")
is there."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from cli import main
from engine.commands.common import policy_and_rules
from engine.deciding_rules import listing
from engine.evaluate import Evaluator
from engine.register import read_register
from engine.render import Quoted, _explain_words, render_decision, render_explanations
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
DATES = (date(2024, 12, 31), date(2025, 6, 30))
BELOW_SCALE_FIRM = "915001017N0TR346AU"          # examples/register.csv: industrial, not yet in scope


@pytest.fixture(scope="module")
def evaluated():
    """(book, [(as_of, result)]) for every firm of the bundled register at two dates."""
    policy, book = policy_and_rules("wanzhou-2022-80")
    results = []
    for as_of in DATES:
        ev = Evaluator(policy, book, as_of)
        results += [(as_of, ev.evaluate(e)) for _, e in read_register(REGISTER, as_of=as_of, policy=policy).accepted]
    return book, results


def settled_by(evaluated, kind: str):
    """Each (result, decision) whose cited rule is of `kind`."""
    _, results = evaluated
    for _, r in results:
        for d in r.decisions:
            cited = next((f for f in d.findings if f.rule.id == d.rule_id), None)
            if cited is not None and cited.rule.kind == kind:
                yield r, d


def test_a_decision_settled_by_applicability_lists_only_those_rules(evaluated):
    book, _ = evaluated
    seen = set()
    for r, d in settled_by(evaluated, "applicability"):
        text = render_decision(d, r, book, "zh")
        later = [f for f in d.findings if f.rule.kind != "applicability" and f.rule.kind != "classification"]
        assert later, "the family has rules after its applicability rules: the test compares something"
        assert not any(f.rule.label_zh in text for f in later)
        assert all(f.rule.label_zh in text for f in d.findings if f.rule.kind == "applicability")
        assert f"（另有 {len(later)} 条规则不影响此结论，未列出）" in text
        # No warning "triggered", no data asked for, no reading of a rule not listed.
        assert "⚠" not in text and "缺少数据" not in text
        relied = {f.rule.interpretation for f in d.findings if f.rule.kind in ("applicability", "classification")}
        assert not any(f"〔{i.id}〕" in text for i in d.readings if i.id not in relied)
        full = render_decision(d, r, book, "zh", every_rule=True)
        assert all(f.rule.label_zh in full for f in later) and "未列出" not in full
        seen.add(d.type)
    assert {"delisting_warning", "enterprise_award", "land_power_priority"} <= seen


def test_a_decision_settled_by_an_exclusion_lists_the_exclusions_not_the_conditions(evaluated):
    book, _ = evaluated
    seen = 0
    for r, d in settled_by(evaluated, "exclusion"):
        text = render_decision(d, r, book, "en")
        kinds = {f.rule.kind for f in d.findings}
        assert "condition" in kinds
        for f in d.findings:
            listed = f.rule.label_en in text
            assert listed == (f.rule.kind in ("applicability", "exclusion")), (f.rule.id, text)
        seen += 1
    assert seen >= 3


def test_a_refusal_lists_every_condition_but_no_amount(evaluated):
    book, _ = evaluated
    seen = 0
    for r, d in settled_by(evaluated, "condition"):
        amounts = [f for f in d.findings if f.rule.kind == "amount"]
        text = render_decision(d, r, book, "zh")
        assert all(f.rule.label_zh in text for f in d.findings if f.rule.kind in ("condition", "exclusion"))
        if amounts:
            assert not any(f.rule.label_zh in text for f in amounts)
            assert f"（另有 {len(amounts)} 条规则不影响此结论，未列出）" in text
            seen += 1
    assert seen >= 3


def test_a_yes_a_warning_level_and_no_amount_offered_list_every_rule(evaluated):
    book, results = evaluated
    seen = set()
    for _, r in results:
        for d in r.decisions:
            cited = next((f for f in d.findings if f.rule.id == d.rule_id), None)
            if d.findings and (cited is None or cited.rule.kind not in ("applicability", "exclusion", "condition")):
                assert listing(d).left_out == 0
                assert render_decision(d, r, book, "zh") == render_decision(d, r, book, "zh", every_rule=True)
                seen.add(d.outcome)
    assert {"eligible", "awarded", "red", "yellow", "none"} <= seen


def test_a_rule_that_does_not_apply_is_named_without_its_lines(evaluated):
    book, _ = evaluated
    seen = 0
    for r, d in settled_by(evaluated, "condition"):
        text = render_decision(d, r, book, "zh")
        for f in listing(d).findings:
            if f.status == "not_applicable" and f.rule.kind == "condition":
                lines = text.splitlines()
                at = next(i for i, line in enumerate(lines) if line.startswith("– ") and f.rule.label_zh in line)
                assert not lines[at + 1].startswith("    "), lines[at:at + 2]
                seen += 1
    assert seen >= 1


def test_whatever_an_explanation_points_to_above_is_there(evaluated):
    """A shared rule "shown above" is listed with its lines in an earlier decision; a parameter's basis or an
    assumed value's note quoted once is quoted in full in the text before the line that points to it."""
    book, results = evaluated
    for lang in ("zh", "en"):
        basis = _explain_words(book, lang)["basis"]
        above = "逐项见上" if lang == "zh" else "shown above"
        for _, r in results:
            texts = render_explanations(r, book, lang)
            # What the explanation counts as quoted (later lines point to it) is quoted in full in it.
            quoted = Quoted()
            assert [render_decision(d, r, book, lang, quoted) for d in r.decisions] == texts
            assert all(text in "".join(texts) for kind, text in quoted.seen if kind == "basis")
            for k, (d, text) in enumerate(zip(r.decisions, texts)):
                before = "".join(texts[:k])
                for line in text.splitlines():
                    if line.rstrip("）)").endswith(above):
                        label = next(f.rule.label_zh if lang == "zh" else f.rule.label_en for f in d.findings
                                     if (f.rule.label_zh if lang == "zh" else f.rule.label_en) in line)
                        assert re.search(re.escape(label) + r"[^\n]*\n    ", before), (r.enterprise_id, label)
                so_far = before + text
                for f in listing(d).findings:
                    if f.status in ("not_applicable", "not_modelled") or f.rule.kind == "classification":
                        continue
                    for c in f.conditions:
                        for p in c.params:
                            full, once = basis(p)
                            assert not once or full in so_far, (r.enterprise_id, d.type, full)


def test_explain_lists_every_rule_on_request_and_says_how(tmp_path):
    runner = CliRunner()
    args = ["explain", BELOW_SCALE_FIRM, str(REGISTER), "--as-of", "2024-12-31", "--type", "delisting_warning"]
    default = runner.invoke(main, args)
    every = runner.invoke(main, [*args, "--all-rules"])
    assert default.exit_code == every.exit_code == 0
    assert "现有规上企业" in default.stdout and "营业收入同比大幅下降" not in default.stdout
    assert "--all-rules" in default.stdout.splitlines()[-1]
    assert "营业收入同比大幅下降" in every.stdout and "--all-rules" not in every.stdout
    as_json = [json.loads(runner.invoke(main, [*args, *more, "--format", "json"]).stdout)["decisions"][0]["explanation"]
               for more in ([], ["--all-rules"])]
    assert "营业收入同比大幅下降" not in as_json[0] and "营业收入同比大幅下降" in as_json[1]
    both = runner.invoke(main, [*args, "--all-rules", "--brief"])
    assert both.exit_code == 2 and "choose one" in both.output and "Traceback" not in both.output

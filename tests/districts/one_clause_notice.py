"""A FICTIONAL one-clause award notice of another district, written out as a policy folder: the data a
policy office writes for such a notice, and nothing else (the shared rules are bound to its one clause
by provisions.yaml). Used by tests/test_any_district.py; every name and figure is invented."""
from __future__ import annotations

from pathlib import Path

from engine.uscc import make_uscc

POLICY_ID = "demo-notice-2024"
CLAUSE = "正文"
TEXT = ("对首次纳入规模以上工业统计范围的企业给予奖励：属于招商引资企业的奖励8万元，属于小升规企业的奖励6万元；"
        "所属镇街每新进一户奖励2万元。属于战略性新兴产业企业的，一次性增加奖励3万元。"
        "企业入统后3年内营业收入每年同比增长15%以上的，再奖励4万元。奖励资金一次性拨付。")
SOURCE = f"""演示区人民政府办公室关于奖励新进规模以上工业企业的通知
演示府办发〔2024〕9号
各镇人民政府，各街道办事处：
{TEXT}
本通知自2024年3月1日起施行，有效期至2026年12月31日。
"""

FILES = {
    "policy.yaml": f"""id: {POLICY_ID}
document_number: 演示府办发〔2024〕9号
title_zh: 演示区人民政府办公室关于奖励新进规模以上工业企业的通知
title_en: Notice on awards to enterprises newly above designated size (fictional)
issuer_zh: 演示区人民政府办公室
issuer_en: General Office of Demo District (fictional)
signed_on: "2024-02-20"
issued_on: "2024-02-20"
in_force: {{from: "2024-03-01", to: "2026-12-31", provenance: source, note: 本通知自2024年3月1日起施行，有效期至2026年12月31日}}
jurisdiction: 990102-demo
source_file: source.txt
fictional: true
""",
    "source.txt": SOURCE,
    "clauses.yaml": f"""clauses:
  - {{id: {CLAUSE}, kind: provision, heading_zh: 正文, heading_en: Body, text: "{TEXT}"}}
""",
    "provisions.yaml": f"""provisions:
  award.enterprise: {{clause: {CLAUSE}, text: 对首次纳入规模以上工业统计范围的企业给予奖励}}
  award.enterprise.sector: {{clause: {CLAUSE}, text: 规模以上工业}}
  award.enterprise.newly_in_scope: {{clause: {CLAUSE}, text: 首次纳入规模以上工业统计范围的企业}}
  award.enterprise.origin_amount: {{clause: {CLAUSE}, text: 属于招商引资企业的奖励8万元，属于小升规企业的奖励6万元}}
  award.enterprise.bonus: {{clause: {CLAUSE}, text: 属于战略性新兴产业企业的，一次性增加奖励3万元}}
  award.town: {{clause: {CLAUSE}, text: 所属镇街每新进一户奖励2万元}}
  award.town.amount: {{clause: {CLAUSE}, text: 所属镇街每新进一户奖励2万元}}
  award.town.beneficiary: {{clause: {CLAUSE}, text: 所属镇街}}
""",
    "parameters.yaml": f"""industrial_sections:
  label_zh: 规模以上工业统计范围的行业门类
  label_en: GB/T 4754-2017 sections counted as industry
  type: text_list
  values:
    "2011-01-01": {{value: [B, C, D], provenance: source, reference: 国家统计局规模以上工业统计范围}}
software_divisions:
  label_zh: 软件信息服务业的行业大类
  label_en: divisions read as software/IT services
  type: text_list
  values:
    "2011-01-01": {{value: [I63, I64, I65], provenance: assumed, note: the notice rewards industry only; kept for the shared sector test}}
monthly_inclusion_cutoff:
  label_zh: 月度入统新建投产企业日期起点（上年）
  label_en: start of the monthly-inclusion window (previous year)
  type: annual_date
  year: previous
  values:
    "2011-01-01": {{value: "10-01", provenance: assumed, note: local practice for reading origin from dates}}
enterprise_award_investment:
  label_zh: 招商引资企业奖励
  label_en: award to a firm from investment promotion
  type: money
  values:
    "2024-03-01": {{value: "80000", provenance: source, clause: {CLAUSE}}}
enterprise_award_small_to_scale:
  label_zh: 小升规企业奖励
  label_en: award to a firm that grew into scope
  type: money
  values:
    "2024-03-01": {{value: "60000", provenance: source, clause: {CLAUSE}}}
award_bonus_tags:
  label_zh: 一次性增加奖励的企业类别
  label_en: tags that earn the one-off bonus
  type: text_list
  values:
    "2024-03-01": {{value: [战略性新兴产业], provenance: source, clause: {CLAUSE}}}
award_tag_bonus:
  label_zh: 一次性增加奖励
  label_en: one-off bonus
  type: money
  values:
    "2024-03-01": {{value: "30000", provenance: source, clause: {CLAUSE}}}
town_award_per_enterprise:
  label_zh: 镇街每新进一户奖励
  label_en: award to the town per newly upgraded enterprise
  type: money
  values:
    "2024-03-01": {{value: "20000", provenance: source, clause: {CLAUSE}}}
town_award_basis:
  label_zh: 镇街奖励计算口径
  label_en: how the town award is counted
  type: enum
  choices: [per_new_enterprise, per_net_increase]
  values:
    "2024-03-01": {{value: per_new_enterprise, provenance: source, clause: {CLAUSE}}}
town_award_park_attribution:
  label_zh: 园内企业的镇街奖励归属
  label_en: who receives the town award for a firm in the zone
  type: enum
  choices: [town, development_zone]
  values:
    "2024-03-01": {{value: town, provenance: assumed, note: 所属镇街 read literally}}
award_first_instalment_share:
  label_zh: 首期拨付比例
  label_en: share paid in the award year
  type: ratio
  values:
    "2024-03-01": {{value: "1", provenance: source, clause: {CLAUSE}}}
award_instalment_condition:
  label_zh: 余款拨付条件
  label_en: condition for the rest
  type: enum
  choices: [none, in_scope_at_next_review]
  values:
    "2024-03-01": {{value: none, provenance: source, clause: {CLAUSE}}}
growth_topup_amount:
  label_zh: 入统后持续增长再奖励
  label_en: growth top-up
  type: money
  values:
    "2024-03-01": {{value: "40000", provenance: source, clause: {CLAUSE}}}
growth_topup_rate:
  label_zh: 再奖励的营业收入年增速要求
  label_en: growth required in each year
  type: ratio
  values:
    "2024-03-01": {{value: "0.15", provenance: source, clause: {CLAUSE}}}
growth_topup_years:
  label_zh: 再奖励考核年数
  label_en: years checked for the top-up
  type: count
  values:
    "2024-03-01": {{value: 3, provenance: source, clause: {CLAUSE}}}
clawback_years:
  label_zh: 退规追回年限
  label_en: clawback years
  type: count
  values:
    "2024-03-01": {{value: 0, provenance: assumed, note: the notice provides no clawback}}
award_entry_window_from:
  label_zh: 奖励的入统期间起始日
  label_en: first day of the award's entry window
  type: date
  values:
    "2024-03-01": {{value: "2024-03-01", provenance: source, reference: 本通知自2024年3月1日起施行}}
award_entry_window_to:
  label_zh: 奖励的入统期间截止日
  label_en: last day of the award's entry window
  type: date
  values:
    "2024-03-01": {{value: "2026-12-31", provenance: source, reference: 有效期至2026年12月31日}}
warning_registration_red:
  label_zh: 视为退出的登记状态
  label_en: registration statuses that end inclusion
  type: text_list
  values:
    "2011-01-01": {{value: [注销, 吊销, 迁出], provenance: assumed, note: a deregistered firm is no longer in scope}}
""",
    "interpretations.yaml": "interpretations:\n" + "".join(
        f"""  - id: {iid}
    clause: {CLAUSE}
    text: {quote}
    reading_zh: {zh}
    reading_en: {en}
    decided_by: worked test example
""" for iid, quote, zh, en in (
            ("software_scope", "规模以上工业", "仅工业企业获奖", "industry only"),
            ("first_time_only", "首次纳入", "再次入统的不奖励", "a re-entry is not rewarded"),
            ("award_year_and_entry_window", "首次纳入规模以上工业统计范围", "按入统年份计奖", "the award belongs to the year of entry"),
            ("one_award_per_year", "给予奖励", "每户每年一项", "one award per firm per year"),
            ("town_award_attribution", "所属镇街", "按所属镇街奖励", "the firm's own town is paid"),
        )),
}

JURISDICTION = {
    "jurisdiction.yaml": """id: 990102-demo
code: "990102"
name_zh: 演示区
name_en: Demo District (fictional)
townships_file: townships.csv
townships_source: invented for tests
development_zone: {name_zh: 演示园区, name_en: Demo Park (fictional), authority_zh: 演示园区管委会}
""",
    "townships.csv": "nbs_code_9,name,type,former_name_before_2021,former_code\n"
                     "990102001,南湖街道,街道,,\n990102101,北岭镇,镇,,\n990102102,东坝镇,镇,,\n",
}


def uscc(n: int) -> str:
    return make_uscc(f"91990102MA{n:07d}")


HEADER = "统一社会信用代码,企业名称,所属乡镇（街道）,是否园内,行业代码,是否法人单位,成立日期,是否规上,入统年月,曾经入统,来源,本年累计营业收入,累计截至月份,上年同期累计营业收入,标签,登记状态"
# key: (name, town, industry, in scope, in scope since, previously in scope, origin, tags)
FIRMS = {
    "investment": ("演示甲精工有限公司", "南湖街道", "C3484", "是", "2024-05", "否", "招商引资", ""),
    "small": ("演示乙食品有限公司", "北岭镇", "C1391", "是", "2024-06", "否", "小升规", ""),
    "tagged": ("演示丙新材有限公司", "东坝镇", "C2929", "是", "2024-04", "否", "小升规", "战略性新兴产业"),
    "tagged_investment": ("演示丁电子有限公司", "南湖街道", "C3971", "是", "2024-07", "否", "招商引资", "战略性新兴产业"),
    "re_entry": ("演示戊机械有限公司", "北岭镇", "C3484", "是", "2024-08", "是", "小升规", ""),
    "earlier_year": ("演示己包装有限公司", "东坝镇", "C2231", "是", "2023-03", "否", "小升规", ""),
    "below_scale": ("演示庚五金有限公司", "南湖街道", "C3389", "否", "", "否", "", ""),
}
EXPECTED = {   # enterprise award (yuan) or outcome, town award (yuan) or outcome
    "investment": ("80000", "20000"), "small": ("60000", "20000"), "tagged": ("90000", "20000"),
    "tagged_investment": ("110000", "20000"), "re_entry": ("not_awarded", "not_awarded"),
    "earlier_year": ("not_awarded", "not_awarded"), "below_scale": ("not_awarded", "not_awarded"),
}


def register_csv() -> str:
    rows = [HEADER]
    for i, (name, town, code, in_scope, since, before, origin, tags) in enumerate(FIRMS.values(), start=1):
        revenue = "2600.00" if in_scope == "是" else "900.00"
        rows.append(f"{uscc(i)},{name},{town},否,{code},是,2015-04-18,{in_scope},{since},{before},{origin},"
                    f"{revenue},2024-12,2000.00,{tags},存续")
    return "\n".join(rows) + "\n"


def write(root: Path) -> Path:
    """The policy folder under root/policies/ (with its jurisdiction beside it); returns the folder."""
    folder = root / "policies" / POLICY_ID
    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    jur = root / "policies" / "jurisdictions" / "990102-demo"
    jur.mkdir(parents=True)
    for name, text in JURISDICTION.items():
        (jur / name).write_text(text, encoding="utf-8")
    return folder

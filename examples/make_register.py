"""Writes the bundled sample register (examples/register.csv, .xlsx, .json), the invalid-input sample
(examples/register_with_errors.csv) and the case table of examples/README.md from the one list of
enterprise records below, so the formats cannot drift apart.

Run from the repository root:  python examples/make_register.py
Deterministic: no randomness, no clock. Running it twice gives byte-identical files (the XLSX too:
its document dates and zip entry times are fixed).

Every enterprise is fictional. Evaluation date of the demo: 2024-12-31; revenue_ytd is Jan–Nov 2024
unless ytd_through says otherwise, and revenue_ytd_last_year is the same months of 2023.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.uscc import CHARSET, make_uscc, uscc_problem  # noqa: E402
from engine.yamlio import load_yaml  # noqa: E402

OUT = ROOT / "examples"
TITLE = "万州区工业企业培育名录（截至2024年11月）"
AS_OF = "2024-12-31"
FIXED_TIME = dt.datetime(2024, 12, 1, 9, 0, 0)  # document dates of the XLSX (no wall clock)
TAG_SEP = "；"

# Column ids, types and Chinese headers come from the input data contract itself.
COLUMNS = load_yaml(ROOT / "rules" / "facts.yaml")["columns"]
IDS = [c["id"] for c in COLUMNS]
TYPES = {c["id"]: c["type"] for c in COLUMNS}
HEADERS_ZH = [c["aliases"][0] for c in COLUMNS]


def uscc_for(name: str) -> str:
    """A valid USCC for a fictional enterprise: 91 (enterprise) + 500101 (万州区) + '7' + 8 characters
    taken from a hash of the name (stable when rows are added or reordered) + the check character."""
    n = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    body = ""
    for _ in range(8):
        n, r = divmod(n, len(CHARSET))
        body += CHARSET[r]
    return make_uscc("915001017" + body)


def ent(name, town, in_park, industry_code, established_on, *, case, expect, **facts):
    """One register row. Defaults describe an ordinary going concern; a case overrides what it is about.
    Money in 万元 as strings with 2 decimals; None = unknown (empty cell)."""
    row = dict(
        name=name, town=town, in_park=in_park, industry_code=industry_code, is_legal_person=True,
        independent_accounting=True, established_on=established_on, commissioned_on=None,
        in_scope=False, in_scope_since=None, previously_in_scope=False, origin=None,
        revenue_last_year=None, revenue_ytd=None, ytd_through="2024-11", revenue_ytd_last_year=None,
        employees=None, production_status="正常", months_without_output=0, profit_ytd=None,
        loss_years=0, mujun_class=None, land_request_mu=None, power_request_kva=None, tags=(),
        registration_status="存续",
    )
    unknown = set(facts) - set(row)
    assert not unknown, f"{name}: unknown fact(s) {unknown}"
    row.update(facts)
    if row["revenue_ytd"] is None:
        row["ytd_through"] = None
    row["enterprise_id"] = uscc_for(name)
    return {"row": row, "case": case, "expect": expect}


# ---------------------------------------------------------------------------------------------------
# The enterprises. `case` = what the row illustrates; `expect` = what the calculator should say as of
# 2024-12-31 (README table). 规上 = in_scope. Growth = revenue_ytd / revenue_ytd_last_year − 1.
# ---------------------------------------------------------------------------------------------------
ENTERPRISES = [
    # ---- below scale (规下): upgrade eligibility and the cultivation pool -------------------------
    ent("重庆万州澜岳精密机械制造有限公司", "五桥街道", True, "C3484", "2015-04-18",
        revenue_last_year="2000.00", revenue_ytd="1750.00", revenue_ytd_last_year="1835.00",
        employees=86, profit_ytd="96.40", mujun_class="B",
        case="upgrade: 上年营业收入 exactly 2000.00万 (及以上, inclusive)",
        expect="upgrade eligible, annual path (小升规); pool not eligible (上年 not < 2000万; YTD pace 1909.09万)"),
    ent("重庆万州岑峰塑胶制品有限公司", "天城街道", True, "C2922", "2017-09-03",
        revenue_last_year="1999.99", revenue_ytd="1820.00", revenue_ytd_last_year="1790.00",
        employees=64, profit_ytd="71.25",
        case="upgrade: 上年营业收入 1999.99万, 0.01万 short",
        expect="upgrade not eligible (short 0.01万 on 上年, 180.00万 on YTD); pool eligible (1999.99万 in [1000, 2000))"),
    ent("重庆翊禾软件技术有限公司", "牌楼街道", False, "I6513", "2014-03-12",
        revenue_last_year="1800.00", revenue_ytd="1640.00", revenue_ytd_last_year="1650.00", employees=60,
        profit_ytd="122.00", tags=("数字经济",),
        case="software 1800万 with 60 employees (would qualify under the pre-2020 rule: ≥1000万 or ≥50 staff)",
        expect="upgrade not eligible (software threshold 2000万 since 2020, short 200.00万); pool not applicable (not industrial)"),
    ent("重庆沅泰信息技术有限公司", "陈家坝街道", False, "I6531", "2016-07-21",
        revenue_last_year="1500.00", revenue_ytd="2300.00", revenue_ytd_last_year="1380.00", employees=72,
        profit_ytd="186.30", tags=("数字经济",),
        case="software 2300万 YTD",
        expect="upgrade eligible (software, YTD 2300.00万 ≥ 2000万), annual path; pool not applicable (not industrial)"),
    ent("重庆万州棠溪新能源科技有限公司", "高峰街道", True, "C3841", "2023-11-16",
        commissioned_on="2024-02-26", revenue_last_year="0.00", revenue_ytd="2150.00", employees=135,
        profit_ytd="64.80", tags=("战略性新兴", "高技术"),
        case="new build: established 2023-11, commissioned 2024-02, YTD 2150万, in park; 来源 left empty",
        expect="upgrade eligible, monthly path (新建投产, start 2024-02-26 ≥ 2023-10-01), origin derived 招商引资; "
               "pool eligible (10 months, pace 2580.00万)"),
    ent("重庆市万州区蕖香食品有限公司", "分水镇", False, "C1371", "2012-06-05",
        revenue_last_year="1680.00", revenue_ytd="2150.00", revenue_ytd_last_year="1540.00", employees=95,
        profit_ytd="88.60",
        case="小升规 out of park in 分水镇: YTD 2150万 through 2024-11",
        expect="upgrade eligible, annual path, origin derived 小升规; pool eligible (上年 1680.00万)"),
    ent("重庆琮晟建材有限公司万州分公司", "龙沙镇", False, "C3021", "2018-05-30",
        is_legal_person=False, independent_accounting=False,
        revenue_last_year="2500.00", revenue_ytd="2310.00", revenue_ytd_last_year="2280.00", employees=48,
        case="branch, not a legal person (是否法人单位=否), revenue 2500万",
        expect="upgrade not eligible (not a legal person); pool not eligible (not a legal person)"),
    ent("重庆万州砚川商贸有限公司", "沙河街道", False, "F5165", "2010-11-08",
        revenue_last_year="5000.00", revenue_ytd="4720.00", revenue_ytd_last_year="4580.00", employees=23,
        case="wholesale (F5165 建材批发), 5000万",
        expect="upgrade not applicable (section F is neither industry nor software); pool not applicable"),
    ent("重庆万州筑垣建设工程有限公司", "周家坝街道", False, "E4790", "2009-02-17",
        revenue_last_year="3800.00", revenue_ytd="3350.00", revenue_ytd_last_year="3420.00", employees=140,
        case="construction (E4790), 3800万",
        expect="upgrade not applicable (section E); pool not applicable"),
    ent("重庆万州骐程汽配贸易有限公司", "双河口街道", False, "F5172", "2019-08-26",
        revenue_last_year="1200.00", revenue_ytd="1150.00", revenue_ytd_last_year="1090.00", employees=12,
        case="wholesale (F5172 汽车零配件批发) in the pool's revenue band",
        expect="upgrade not applicable; pool not applicable (not industrial, despite 1200.00万)"),
    ent("重庆万州椿岭木业有限公司", "孙家镇", False, "C2110", "2013-10-14",
        revenue_last_year="1000.00", revenue_ytd="960.00", revenue_ytd_last_year="905.00", employees=58,
        profit_ytd="35.10",
        case="pool: 上年营业收入 exactly 1000.00万 (lower bound, inclusive)",
        expect="pool eligible; upgrade not eligible (short 1000.00万)"),
    ent("重庆万州苎溪纸制品有限公司", "长岭镇", False, "C2231", "2016-01-20",
        revenue_last_year="999.99", revenue_ytd="905.00", revenue_ytd_last_year="890.00", employees=41,
        profit_ytd="22.70",
        case="pool: 上年营业收入 999.99万, 0.01万 below the lower bound",
        expect="pool not eligible (999.99万 < 1000万; pace 987.27万 < 2000万); upgrade not eligible"),
    ent("重庆万州黛湖饲料有限公司", "甘宁镇", False, "C1329", "2011-04-09",
        revenue_last_year="1500.00", revenue_ytd="1420.00", revenue_ytd_last_year="1365.00", employees=37,
        profit_ytd="41.00",
        case="pool: 1500万, middle of the band",
        expect="pool eligible; upgrade not eligible"),
    ent("重庆万州磬石新型建材有限公司", "武陵镇", False, "C3031", "2014-12-02",
        revenue_last_year="1999.00", revenue_ytd="1780.00", revenue_ytd_last_year="1760.00", employees=66,
        profit_ytd="58.90",
        case="pool: 1999万, top of the band",
        expect="pool eligible; upgrade not eligible (short 1.00万 on 上年)"),
    ent("重庆万州栎川电子科技有限公司", "五桥街道", True, "C3982", "2019-05-15",
        revenue_last_year="800.00", revenue_ytd="1900.00", revenue_ytd_last_year="720.00", employees=88,
        profit_ytd="77.40", tags=("高技术",),
        case="pool on pace: 上年 800万, YTD 1900万 through Nov",
        expect="pool eligible (pace 1900.00×12/11 = 2072.73万 ≥ 2000万); upgrade not eligible yet (YTD short 100.00万)"),
    ent("重庆万州芷岸茶业有限公司", "龙驹镇", False, "C1530", "2020-03-18",
        employees=19, production_status=None, months_without_output=None, loss_years=None,
        case="no revenue figures at all",
        expect="upgrade insufficient_data and pool insufficient_data (missing 上年营业收入, 本年累计营业收入)"),
    ent("重庆万州岩湾矿业有限公司", "白土镇", False, "B1011", "2008-07-07",
        revenue_last_year="1350.00", revenue_ytd="1260.00", revenue_ytd_last_year="1225.00", employees=44,
        profit_ytd="47.20",
        case="mining (section B) below scale",
        expect="pool eligible (industrial: B counts); upgrade not eligible"),
    ent("重庆万州泷源供水有限公司", "溪口乡", False, "D4610", "2006-09-11",
        revenue_last_year="2080.00", revenue_ytd="1930.00", revenue_ytd_last_year="1905.00", employees=52,
        profit_ytd="63.00",
        case="water supply (section D) with 上年 2080万",
        expect="upgrade eligible, annual path; pool eligible (pace 2105.45万)"),
    ent("重庆万州荞丰豆制品有限公司", "太龙镇", False, "C1392", "2018-02-27",
        revenue_last_year="460.00", revenue_ytd="430.00", revenue_ytd_last_year="415.00", employees=17,
        profit_ytd="12.30", independent_accounting=None, previously_in_scope=None,
        case="ordinary small firm (460万); 是否独立核算 and 曾经入统 left empty",
        expect="upgrade not eligible; pool not eligible"),
    ent("重庆万州桤林环保装备有限公司", "新田镇", True, "C3591", "2017-06-19",
        revenue_last_year="1720.00", revenue_ytd="1610.00", revenue_ytd_last_year="1580.00", employees=73,
        profit_ytd="69.90",
        case="ordinary pool member in the 新田 park",
        expect="pool eligible; upgrade not eligible"),
    ent("重庆万州沣澜光电科技有限公司", "新田镇", True, "C3976", "2024-01-10",
        commissioned_on="2024-05-06", revenue_last_year="0.00", revenue_ytd="1950.00", employees=110,
        profit_ytd="55.00", tags=("高技术", "战略性新兴"),
        case="new build commissioned 2024-05, YTD 1950万 (not there yet)",
        expect="upgrade not eligible (short 50.00万; monthly path when reached); pool eligible (7 months, pace 3342.86万)"),

    # ---- 规上 since 2023/2024: awards and land/power priority -----------------------------------
    ent("重庆万州钜衡汽车零部件有限公司", "高峰镇", True, "C3670", "2016-08-09",
        in_scope=True, in_scope_since="2024-01", origin="小升规",
        revenue_last_year="2520.00", revenue_ytd="2769.69", revenue_ytd_last_year="2310.00", employees=156,
        profit_ytd="142.50", land_request_mu="20", power_request_kva="1250",
        case="new 规上 2024 in park; town written 高峰镇 (former name); growth 19.9%",
        expect="enterprise award; town award to 高峰街道; priority not eligible (growth 19.90% < 20%); no warning"),
    ent("重庆万州昱辰新材料有限公司", "天城街道", True, "C3252", "2023-10-01",
        in_scope=True, in_scope_since="2024-06", origin="招商引资",
        revenue_last_year="380.00", revenue_ytd="4200.00", revenue_ytd_last_year="120.00", employees=210,
        profit_ytd="305.00", land_request_mu="25", mujun_class="未评价", power_request_kva="2500", tags=("战略性新兴",),
        case="new 规上 2024 in park via the monthly path, established 2023-10-01 (the cut-off day)",
        expect="enterprise award (招商引资); town award to 天城街道; priority eligible (growth 3400.00%); no warning"),
    ent("重庆万州瀼溪酒业有限公司", "瀼渡镇", False, "C1512", "2005-03-28",
        in_scope=True, in_scope_since="2024-01",
        revenue_last_year="2680.00", revenue_ytd="2590.00", revenue_ytd_last_year="2470.00", employees=118,
        profit_ytd="203.40",
        case="new 规上 2024 out of park (来源 empty, derived 小升规)",
        expect="enterprise award; town award to 瀼渡镇; priority not eligible (growth 4.86%); no warning"),
    ent("重庆万州垣丰铸造有限公司", "新田镇", True, "C3391", "2010-05-12",
        in_scope=True, in_scope_since="2024-01", previously_in_scope=True,
        revenue_last_year="2210.00", revenue_ytd="2150.00", revenue_ytd_last_year="2010.00", employees=97,
        profit_ytd="40.60",
        case="re-entry: 规上 again from 2024-01 after leaving (曾经入统=是)",
        expect="enterprise award not awarded and town award not awarded (not first time, 首次); "
               "priority not eligible (growth 6.97%); W7 yellow (上年 2210.00万)"),
    ent("重庆万州珩宇通信网络有限公司", "高笋塘街道", False, "I6311", "2015-11-02",
        in_scope=True, in_scope_since="2024-03",
        revenue_last_year="2620.00", revenue_ytd="2580.00", revenue_ytd_last_year="2390.00", employees=81,
        profit_ytd="174.00", tags=("数字经济",),
        case="software/IT (I63) newly 规上 in 2024",
        expect="software enterprise award; town award to 高笋塘街道; priority not eligible (growth 7.95%); no warning"),
    ent("重庆万州骁远智能装备有限公司", "五桥街道", True, "C3441", "2012-09-17",
        in_scope=True, in_scope_since="2023-01", mujun_class="B",
        revenue_last_year="2870.00", revenue_ytd="3125.00", revenue_ytd_last_year="2500.00", employees=164,
        profit_ytd="236.00", land_request_mu="30", power_request_kva="2000", tags=("专精特新",),
        case="included 2023, growth 25%, land and power requested",
        expect="no 2024 award (included 2023); priority eligible (growth 25.00%, 亩均 B); no warning"),
    ent("重庆万州琨睿电子材料有限公司", "五桥街道", True, "C3985", "2018-04-23",
        in_scope=True, in_scope_since="2024-02",
        revenue_last_year="2760.00", revenue_ytd="3000.00", revenue_ytd_last_year="2500.00", employees=127,
        profit_ytd="198.00", land_request_mu="15", mujun_class="未评价", power_request_kva="1600", tags=("高技术",),
        case="new 规上 2024 in park, growth exactly 20%",
        expect="enterprise award; town award to 五桥街道; priority eligible (growth 20.00%, inclusive); no warning"),
    ent("重庆万州鹤汀化工有限公司", "新田镇", True, "C2613", "2011-08-30",
        in_scope=True, in_scope_since="2023-01", mujun_class="D",
        revenue_last_year="3300.00", revenue_ytd="3650.00", revenue_ytd_last_year="2900.00", employees=138,
        profit_ytd="161.00", land_request_mu="40", power_request_kva="3150",
        case="priority candidate (included 2023, growth 25.86%) but 亩均效益评价 D",
        expect="no 2024 award; priority not eligible (亩均 D excluded); no warning"),
    ent("重庆万州汀兰制药有限公司", "高峰街道", False, "C2740", "2013-02-14",
        in_scope=True, in_scope_since="2024-01",
        revenue_last_year="2580.00", revenue_ytd="2900.00", revenue_ytd_last_year="2320.00", employees=109,
        profit_ytd="251.00", tags=("高技术",), mujun_class="未评价",
        case="new 规上 2024 out of park in 高峰街道, growth 25%, no 用地/用电 request",
        expect="enterprise award; town award to 高峰街道; priority: growth condition met (25.00%) but nothing "
               "requested, so nothing to allocate; no warning"),
    ent("重庆万州磐拓精工有限公司", "天城街道", True, "C3484", "2014-06-06",
        in_scope=True, in_scope_since="2022-01", mujun_class="A",
        revenue_last_year="3400.00", revenue_ytd="4030.00", revenue_ytd_last_year="3100.00", employees=175,
        profit_ytd="288.00", land_request_mu="18", power_request_kva="1000",
        case="fast growth (30%) but included 2022",
        expect="no award; priority not eligible (included 2022, outside 2023–2024); no warning"),

    # ---- 规上: de-listing warnings (W1–W8) -------------------------------------------------------
    ent("重庆万州蓼岸印务有限公司", "钟鼓楼街道", False, "C2319", "2007-04-11",
        in_scope=True, in_scope_since="2018-01", mujun_class="C",
        revenue_last_year="2950.00", revenue_ytd="2880.00", revenue_ytd_last_year=None, employees=92,
        profit_ytd="96.00",
        case="规上 without 上年同期累计营业收入",
        expect="W1 none (pace 3141.82万); W2 and W3 insufficient_data (missing 上年同期累计营业收入); W4–W8 none"),
    ent("重庆万州络纬服饰有限公司", "龙都街道", False, "C1810", "2009-10-20",
        in_scope=True, in_scope_since="2017-01", mujun_class="C",
        revenue_last_year="2200.00", revenue_ytd="1380.00", revenue_ytd_last_year="2050.00", employees=210,
        profit_ytd="8.50", loss_years=1,
        case="sharp fall: YTD 1380万 vs 2050万",
        expect="W1 red (pace 1505.45万 < 1600万); W2 yellow (1530.00万); W3 red (−32.68%); W7 yellow"),
    ent("重庆万州泓屹陶瓷有限公司", "大周镇", False, "C3071", "2012-12-12",
        in_scope=True, in_scope_since="2015-01", mujun_class="B",
        revenue_last_year="2600.00", revenue_ytd="1700.00", revenue_ytd_last_year="1950.00", employees=120,
        profit_ytd="45.00",
        case="behind pro-rata pace only",
        expect="W1 yellow (pace 1854.55万); W2 none (2350.00万); W3 none (−12.82%); others none"),
    ent("重庆万州峦启五金制品有限公司", "小周镇", False, "C3381", "2013-07-25",
        in_scope=True, in_scope_since="2020-01", mujun_class="C",
        revenue_last_year="2100.00", revenue_ytd="1850.00", revenue_ytd_last_year="2000.00", employees=76,
        profit_ytd="31.00",
        case="projected year below 2000万 while the pace is above it",
        expect="W2 yellow (1850.00 + 100.00 = 1950.00万); W1 none (pace 2018.18万); W3 none (−7.50%); W7 yellow"),
    ent("重庆万州溯川医药化工有限公司", "高峰街道", True, "C2710", "2010-01-08",
        in_scope=True, in_scope_since="2012-01", mujun_class="B",
        revenue_last_year="3250.00", revenue_ytd="2250.00", revenue_ytd_last_year="3000.00", employees=188,
        profit_ytd="102.00",
        case="year-on-year fall of 25%",
        expect="W3 yellow (−25.00%); W1 none (pace 2454.55万); W2 none (2500.00万)"),
    ent("重庆万州枫涧食品有限公司", "李河镇", False, "C1411", "2011-03-03",
        in_scope=True, in_scope_since="2016-01", mujun_class="B",
        revenue_last_year="3400.00", revenue_ytd="3050.00", revenue_ytd_last_year="3150.00", employees=134,
        profit_ytd="120.00", months_without_output=1,
        case="one month without output",
        expect="W4 yellow (1 month); others none"),
    ent("重庆万州霁川纸业有限公司", "新乡镇", False, "C2221", "2006-05-19",
        in_scope=True, in_scope_since="2014-01", mujun_class="D",
        revenue_last_year="2900.00", revenue_ytd="1620.00", revenue_ytd_last_year="2650.00", employees=105,
        production_status="停产", months_without_output=4, profit_ytd="-186.40", loss_years=2,
        case="stopped production since August 2024, losses",
        expect="W1 yellow (pace 1767.27万); W2 yellow (1870.00万); W3 red (−38.87%); W4 red (4 months, declared 停产); "
               "W6 yellow (2 years, a loss to date)"),
    ent("重庆万州砾岗矿业有限公司", "走马镇", False, "B1011", "2008-11-26",
        in_scope=True, in_scope_since="2013-01", mujun_class="C",
        revenue_last_year="2750.00", revenue_ytd="2150.00", revenue_ytd_last_year="2520.00", employees=68,
        production_status="半停产", profit_ytd="54.00",
        case="mining firm at half production",
        expect="W5 yellow (declared 半停产); W3 none (−14.68%); others none"),
    ent("重庆万州铧锐机电有限公司", "天城街道", True, "C3812", "2015-09-09",
        in_scope=True, in_scope_since="2017-01", mujun_class="C",
        revenue_last_year="4100.00", revenue_ytd="3880.00", revenue_ytd_last_year="3760.00", employees=230,
        profit_ytd="-85.30", loss_years=3,
        case="three loss-making years",
        expect="W6 yellow (3 years, a loss to date); others none"),
    ent("重庆万州柘林塑料薄膜有限公司", "响水镇", False, "C2921", "2012-04-16",
        in_scope=True, in_scope_since="2019-01", mujun_class="B",
        revenue_last_year="2400.00", revenue_ytd="2280.00", revenue_ytd_last_year="2190.00", employees=84,
        profit_ytd="66.00",
        case="上年营业收入 2400万, inside the watch band",
        expect="W7 yellow (2400.00万 in [2000, 2500)); others none"),
    ent("重庆万州蔚岚再生资源有限公司", "弹子镇", False, "C4210", "2014-08-21",
        in_scope=True, in_scope_since="2018-01", mujun_class="B",
        revenue_last_year="3600.00", revenue_ytd="3380.00", revenue_ytd_last_year="3290.00", employees=59,
        profit_ytd="97.00", registration_status="经营异常",
        case="listed as 经营异常",
        expect="W8 yellow (经营异常); others none"),
    ent("重庆万州岫云钢结构有限公司", "太安镇", False, "C3311", "2010-10-10",
        in_scope=True, in_scope_since="2015-01", mujun_class="C",
        revenue_last_year="2950.00", revenue_ytd="2700.00", revenue_ytd_last_year="2800.00", employees=101,
        profit_ytd="71.00", registration_status="迁出",
        case="registered as moved out of the district (迁出)",
        expect="W8 red (迁出); others none"),

    # ---- 规上: healthy firms ----------------------------------------------------------------------
    ent("重庆万州澄锦铜材有限公司", "高峰街道", True, "C3251", "2009-06-18",
        in_scope=True, in_scope_since="2011-01", mujun_class="A",
        revenue_last_year="58600.00", revenue_ytd="61280.00", revenue_ytd_last_year="54100.00", employees=1260,
        profit_ytd="3120.00", tags=("专精特新", "战略性新兴"),
        case="healthy big firm",
        expect="no warning; no award; priority not eligible (included 2011)"),
    ent("重庆万州磐涧水电开发有限公司", "长滩镇", False, "D4413", "2004-02-09",
        in_scope=True, in_scope_since="2010-01", mujun_class="B",
        revenue_last_year="3120.00", revenue_ytd="2780.00", ytd_through="2024-10", revenue_ytd_last_year="2650.00",
        employees=46, profit_ytd="640.00",
        case="hydropower (D4413) reporting through 2024-10 only",
        expect="no warning (pace 2780.00×12/10 = 3336.00万)"),
    ent("重庆万州梓航船舶配件有限公司", "500101144", False, "C3734", "2011-11-11",
        in_scope=True, in_scope_since="2019-01", mujun_class="B",
        revenue_last_year="5200.00", revenue_ytd="4980.00", revenue_ytd_last_year="4710.00", employees=142,
        profit_ytd="233.00",
        case="town given by NBS code 500101144 (分水镇)",
        expect="town resolves to 分水镇; no warning"),
    ent("重庆万州槐序肉类食品有限公司", "九池街道", False, "C1353", "2008-03-06",
        in_scope=True, in_scope_since="2012-01", mujun_class="A",
        revenue_last_year="8650.00", revenue_ytd="8320.00", revenue_ytd_last_year="7940.00", employees=305,
        profit_ytd="410.00",
        case="healthy food processor",
        expect="no warning"),
    ent("重庆万州翎讯信息技术有限公司", "高笋塘街道", False, "I6513", "2013-05-27",
        in_scope=True, in_scope_since="2021-01",
        revenue_last_year="3950.00", revenue_ytd="3710.00", revenue_ytd_last_year="3540.00", employees=133,
        profit_ytd="402.00", tags=("数字经济", "高技术"),
        case="software firm 规上 since 2021",
        expect="no award (included 2021); no warning"),
    ent("重庆万州曜川汽车电子有限公司", "五桥街道", True, "C3670", "2016-12-01",
        in_scope=True, in_scope_since="2018-01", mujun_class="A",
        revenue_last_year="12400.00", revenue_ytd="12950.00", revenue_ytd_last_year="11300.00", employees=480,
        profit_ytd="905.00", tags=("高技术",),
        case="healthy park firm",
        expect="no warning"),
    ent("重庆万州恒岚燃气有限公司", "恒合土家族乡", False, "D4511", "2007-08-15",
        in_scope=True, in_scope_since="2013-01", mujun_class="B",
        revenue_last_year="2950.00", revenue_ytd="2760.00", revenue_ytd_last_year="2690.00", employees=38,
        profit_ytd="188.00",
        case="gas supply (D4511) in a 民族乡",
        expect="no warning"),
]

# The invalid-input sample: five good rows copied from above, three rows with exactly one defect each.
ERRORS_GOOD = ["重庆万州澜岳精密机械制造有限公司", "重庆市万州区蕖香食品有限公司", "重庆万州钜衡汽车零部件有限公司",
               "重庆万州霁川纸业有限公司", "重庆万州梓航船舶配件有限公司"]
ERRORS_BAD = [
    ent("重庆万州粟禾粮油有限公司", "高粱镇", False, "C1331", "2012-10-09",
        revenue_last_year="1380.00", revenue_ytd="1295.00", revenue_ytd_last_year="1260.00", employees=33,
        case="bad town", expect="所属乡镇（街道）: unknown town 高粱镇; did you mean 高梁镇?"),
    ent("重庆万州晗光照明电器有限公司", "五桥街道", True, "C3872", "2017-03-14",
        revenue_last_year="1630.00", revenue_ytd="1540.00", revenue_ytd_last_year="1495.00", employees=45,
        case="bad USCC check character", expect="(set below)"),
    ent("重庆万州椴木家居有限公司", "长岭镇", False, "C2110", "2015-05-05",
        revenue_last_year="abc", revenue_ytd="1120.00", revenue_ytd_last_year="1080.00", employees=29,
        case="bad money value", expect="上年营业收入: 'abc' is not a number"),
]


def _break_check_char(code: str) -> str:
    wrong = CHARSET[(CHARSET.index(code[17]) + 1) % len(CHARSET)]
    return code[:17] + wrong


_good_code = ERRORS_BAD[1]["row"]["enterprise_id"]
ERRORS_BAD[1]["row"]["enterprise_id"] = _break_check_char(_good_code)
ERRORS_BAD[1]["expect"] = (f"统一社会信用代码 {ERRORS_BAD[1]['row']['enterprise_id']}: check character is "
                           f"{ERRORS_BAD[1]['row']['enterprise_id'][17]} but should be {_good_code[17]}")


# ---------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------
def cell_text(cid: str, value) -> str:
    """A value as officers type it into the Chinese CSV."""
    if value is None:
        return ""
    kind = TYPES[cid]
    if kind == "bool":
        return "是" if value else "否"
    if kind == "tags":
        return TAG_SEP.join(value)
    return str(value)


def json_value(cid: str, value):
    if value is None:
        return None
    kind = TYPES[cid]
    if kind == "tags":
        return list(value) or None
    return value  # bools and ints stay JSON types; money and decimals stay strings (no float)


def xlsx_value(cid: str, value):
    """Excel exports carry numbers and dates as typed cells: money is a number (2 decimals shown),
    a date is a date; year-months, codes and 是/否 stay text."""
    if value is None:
        return None
    kind = TYPES[cid]
    if kind == "int":
        return value
    if kind == "money":
        return float(Decimal(value))
    if kind == "decimal":
        d = Decimal(value)
        return int(d) if d == d.to_integral_value() else float(d)
    if kind == "date":
        return dt.datetime.strptime(value, "%Y-%m-%d")
    return cell_text(cid, value)


def write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS_ZH)
    for r in rows:
        w.writerow([cell_text(c, r[c]) for c in IDS])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))


def write_json(path: Path, rows: list[dict]) -> None:
    data = [{c: json_value(c, r[c]) for c in IDS} for r in rows]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_xlsx(path: Path, rows: list[dict]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    ws = wb.active
    ws.title = "培育名录"
    ncol = len(IDS)
    ws.cell(row=1, column=1, value=TITLE).font = Font(bold=True, size=14)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    for j, head in enumerate(HEADERS_ZH, start=1):
        ws.cell(row=2, column=j, value=head).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(36, 2 * len(head) + 2))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 36
    for i, r in enumerate(rows, start=3):
        for j, cid in enumerate(IDS, start=1):
            cell = ws.cell(row=i, column=j, value=xlsx_value(cid, r[cid]))
            if TYPES[cid] == "money" and r[cid] is not None:
                cell.number_format = "0.00"
            elif TYPES[cid] == "date" and r[cid] is not None:
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "C3"
    wb.properties.creator = "scaleup examples/make_register.py"
    wb.properties.title = TITLE
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    # openpyxl's save_workbook() stamps `modified` with the clock, and zipfile stamps every entry:
    # write through ExcelWriter, then re-pack the archive with a fixed entry time.
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    path.write_bytes(out.getvalue())


def _replace_between(text: str, marker: str, lines: list[str]) -> str:
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n" + "\n".join(lines) + f"\n{end}{tail}"


def write_readme_tables(path: Path, error_rows: list[dict]) -> None:
    """Regenerate the tables between the markers of examples/README.md; the prose around them stays."""
    cases = ["| # | 企业名称 | 所属乡镇（街道） | 规上 | case | expected as of 2024-12-31 |",
             "|---|---|---|---|---|---|"]
    for n, e in enumerate(ENTERPRISES, start=1):
        r = e["row"]
        cases.append(f"| {n} | {r['name']} | {r['town']}{'（园内）' if r['in_park'] else ''} | "
                     f"{'是' if r['in_scope'] else '否'} | {e['case']} | {e['expect']} |")
    bad = {e["row"]["name"]: e for e in ERRORS_BAD}
    errors = ["| file row | 企业名称 | expected |", "|---|---|---|"]
    for n, r in enumerate(error_rows, start=2):  # row 1 is the header
        e = bad.get(r["name"])
        errors.append(f"| {n} | {r['name']} | {e['expect'] if e else 'valid, processed as in register.csv'} |")
    text = path.read_text(encoding="utf-8")
    text = _replace_between(text, "cases", cases)
    text = _replace_between(text, "errors", errors)
    path.write_text(text, encoding="utf-8")


def check(rows: list[dict]) -> None:
    jur_csv = ROOT / "policies" / "jurisdictions" / "500101-wanzhou" / "townships.csv"
    with open(jur_csv, encoding="utf-8-sig", newline="") as fh:
        towns = list(csv.DictReader(fh))
    known = ({t["name"] for t in towns} | {t["nbs_code_9"] for t in towns}
             | {t["former_name_before_2021"] for t in towns if t["former_name_before_2021"]})
    ids = [r["enterprise_id"] for r in rows]
    assert len(set(ids)) == len(ids), "duplicate USCC"
    assert len({r["name"] for r in rows}) == len(rows), "duplicate name"
    for r in rows:
        assert uscc_problem(r["enterprise_id"]) is None, r["name"]
        assert r["town"] in known, f"{r['name']}: unknown town {r['town']}"
        for cid in IDS:
            if TYPES[cid] == "money" and r[cid] is not None:
                assert Decimal(r[cid]) == Decimal(r[cid]).quantize(Decimal("0.01")), (r["name"], cid)
                assert len(r[cid].split(".")[1]) == 2, (r["name"], cid)
        if r["in_scope"]:
            assert r["in_scope_since"], r["name"]
        same, full = r["revenue_ytd_last_year"], r["revenue_last_year"]
        if same is not None and full is not None:
            assert Decimal(same) <= Decimal(full), f"{r['name']}: Jan–Nov 2023 exceeds the whole of 2023"


def main() -> None:
    rows = [e["row"] for e in ENTERPRISES]
    check(rows)
    write_csv(OUT / "register.csv", rows)
    write_xlsx(OUT / "register.xlsx", rows)
    write_json(OUT / "register.json", rows)
    by_name = {r["name"]: r for r in rows}
    good = [by_name[n] for n in ERRORS_GOOD]
    bad = [e["row"] for e in ERRORS_BAD]
    # Bad rows interleaved, so that their file rows (header = row 1) are 4, 6 and 8.
    error_rows = [good[0], good[1], bad[0], good[2], bad[1], good[3], bad[2], good[4]]
    write_csv(OUT / "register_with_errors.csv", error_rows)
    write_readme_tables(OUT / "README.md", error_rows)
    print(f"wrote {len(rows)} enterprises in {len({r['town'] for r in rows})} town spellings "
          f"to examples/register.csv, .xlsx, .json; 8 rows to examples/register_with_errors.csv")


if __name__ == "__main__":
    main()

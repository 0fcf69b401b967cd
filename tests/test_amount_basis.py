"""Every figure shows its provenance wherever money is read (#15): an assumed amount is marked as such in
each output that shows money — check (table, CSV, XLSX, JSON), explain, review (Markdown, HTML), the
HTML report, awards (dry run, commit, the re-run list, by town, XLSX — the CSV is its first sheet), ledger (show, pay, export),
diff and sweep, in Chinese and English — and once the district fixes the amounts by its own document
(provenance `decided`, with 文号, issuer and date) in a copy of the policy, no output marks them assumed
and the review sheet cites the document.

Fast by construction: a three-firm register, every output computed once per policy (module fixtures),
one ledger per policy."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT, copy_policy

AWARDED = "915001017P5X326G0R"      # awarded in the bundled register as of 2024-12-31
FIRMS = (AWARDED, "9150010171LJD2DMFM", "91500101751UP3NC2M")    # two awarded, one re-entrant
DOCUMENT = "万州经信发〔2024〕7号"
ASSUMED_MARKS = ("假定", "ASSUMED", "assumed")
AS_OF = ("--as-of", "2024-12-31")


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> str:
    """The bundled register's header and three of its firms."""
    lines = (ROOT / "examples" / "register.csv").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path_factory.mktemp("register") / "register.csv"
    path.write_text("\n".join([lines[0], *[l for l in lines[1:] if l.split(",")[0] in FIRMS]]) + "\n",
                    encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def decided_policy(tmp_path_factory) -> str:
    """The bundled policy as if the district had fixed every assumed figure by one document."""
    folder = copy_policy(ROOT / "policies" / "wanzhou-2022-80", tmp_path_factory.mktemp("policy") / "wanzhou-decided")
    params = folder / "parameters.yaml"
    text, n = re.subn(r"provenance: assumed,", f'provenance: decided, reference: "{DOCUMENT}", '
                      f'issuer: 万州区经济和信息化委员会, decided_on: "2024-03-01",', params.read_text(encoding="utf-8"))
    assert n > 10
    params.write_text(text, encoding="utf-8")
    return str(folder)


def visible(html: str) -> str:
    """What a reader of an HTML page sees: no style sheet, no tags (a class name is no mark)."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<style.*?</style>", " ", html))


def run(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    return "\n".join(" ".join("" if v is None else str(v) for v in row)
                     for ws in book.worksheets for row in ws.iter_rows(values_only=True))


def shown(register: str, policy: list[str], work: Path) -> dict[str, str]:
    """Every output that shows money, in both languages, by name."""
    out: dict[str, str] = {"work": str(work)}
    db = work / "awards.db"
    for lang in ("zh", "en"):
        L = ("--lang", lang)
        out[f"check table {lang}"] = run("check", register, *AS_OF, *L, *policy)
        out[f"check csv {lang}"] = run("check", register, *AS_OF, "--format", "csv", *L, *policy)
        run("check", register, *AS_OF, *L, "--out", work / f"check-{lang}.xlsx", *policy)
        out[f"check xlsx {lang}"] = workbook_text(work / f"check-{lang}.xlsx")
        out[f"explain {lang}"] = run("explain", AWARDED, register, *AS_OF, "--type", "enterprise_award", *L, *policy)
        for fmt in ("md", "html"):
            sheet = run("review", AWARDED, register, *AS_OF, "--format", fmt, *L, *policy)
            out[f"review {fmt} {lang}"] = visible(sheet) if fmt == "html" else sheet
        run("report", register, *AS_OF, "--out", work / f"report-{lang}.html", *L, *policy)
        out[f"report html {lang}"] = visible((work / f"report-{lang}.html").read_text(encoding="utf-8"))
        out[f"awards dry run {lang}"] = run("awards", register, "--year", 2024, "--ledger", db, *L, *policy)
        out[f"diff {lang}"] = run("diff", register, *AS_OF, "--set", "scale_threshold=1800万", *L, *policy)
        out[f"sweep {lang}"] = run("sweep", register, *AS_OF, "--param", "scale_threshold", "--from", "1500万",
                                   "--to", "2500万", "--steps", 2, *L, *policy)
    out["check json"] = run("check", register, *AS_OF, "--format", "json", *policy)
    out["diff json"] = run("diff", register, *AS_OF, "--set", "scale_threshold=1800万", "--format", "json", *policy)
    out["awards commit zh"] = run("awards", register, "--year", 2024, "--ledger", db, "--commit", *policy)
    for lang in ("zh", "en"):
        L = ("--lang", lang)
        # A second commit records nothing: what it shows is the year's awards read back from the ledger.
        out[f"awards re-run {lang}"] = run("awards", register, "--year", 2024, "--ledger", db, "--commit", *L, *policy)
        out[f"awards by town {lang}"] = run("awards", register, "--year", 2024, "--ledger", db, "--by", "town", *L,
                                            *policy)
        run("awards", register, "--year", 2024, "--ledger", db, "--format", "xlsx", "--out",
            work / f"awards-{lang}.xlsx", *L, *policy)
        out[f"awards xlsx {lang}"] = workbook_text(work / f"awards-{lang}.xlsx")
        out[f"ledger show {lang}"] = run("ledger", "show", "--ledger", db, *L)
        out[f"ledger pay {lang}"] = run("ledger", "pay", "--ledger", db, "--paid-on", "2025-01-15",
                                        "--reference", "财拨1号", *L)
    run("ledger", "export", "--ledger", db, "--out", work / "export")
    out["ledger export"] = (work / "export" / "awards.csv").read_text(encoding="utf-8-sig")
    return out


@pytest.fixture(scope="module")
def assumed_outputs(register, tmp_path_factory) -> dict[str, str]:
    return shown(register, [], tmp_path_factory.mktemp("assumed"))


@pytest.fixture(scope="module")
def decided_outputs(register, decided_policy, tmp_path_factory) -> dict[str, str]:
    return shown(register, ["--policy", decided_policy], tmp_path_factory.mktemp("decided"))


def work_of(outputs: dict[str, str]) -> Path:
    return Path(outputs["work"])


def paid_bases(outputs: dict[str, str]) -> set:
    """The amount basis every machine-readable output gives a paid amount."""
    doc = json.loads(outputs["check json"])
    bases = {d.get("amount_basis") for e in doc for d in e["decisions"] if d.get("amount_yuan") not in (None, "0.00")}
    table = list(csv.DictReader(io.StringIO(outputs["check csv en"].lstrip("\ufeff"))))
    bases |= {r["enterprise_award.amount_basis"] for r in table if r["enterprise_award.amount_yuan"]}
    diff = json.loads(outputs["diff json"])
    bases |= {b for v in diff["budget_by_type"].values() for b in v["amount_basis"].values()}
    bases |= {r["amount_basis"] for r in csv.DictReader(io.StringIO(outputs["ledger export"]))}
    return bases


def test_every_output_that_shows_money_marks_an_assumed_amount(assumed_outputs):
    unmarked = [name for name, text in assumed_outputs.items()
                if name != "work" and not any(m in text for m in ASSUMED_MARKS)]
    assert not unmarked
    assert paid_bases(assumed_outputs) == {"assumed"}


def test_totals_that_include_an_assumed_amount_say_so(assumed_outputs):
    out = assumed_outputs
    assert re.search(r"【合计】2024年度全部运行：新增奖励 [\d.]+万元（[\d,.]+元）【含假定金额】", out["awards re-run zh"])
    assert "[includes assumed amounts]" in out["awards re-run en"]
    assert re.search(r"本年度此前已入账的奖励】\d+ 项，合计 [^\n]*【含假定金额】", out["awards re-run zh"])
    assert re.search(r"企业奖励 10\.00万元（100,000\.00元）（假定值）  第1次运行", out["awards re-run zh"])
    assert re.search(r"(?m)^合计 .*假定值（待确认）$", out["awards by town zh"])
    assert re.search(r"应付 \d+ 笔 [\d,.]+元（其中假定值 [\d,.]+元）", out["ledger show zh"])
    assert re.search(r"(?m)^1 .*假定值（待确认）", out["ledger show zh"])        # the run's row
    assert re.search(r"合计 [\d,.]+元【含假定金额】", out["ledger pay zh"])
    assert f"{AWARDED} 重庆万州钜衡汽车零部件有限公司 企业奖励 2024年度 第1笔 分期 100,000.00元（假定值）" in out["ledger pay zh"]
    report = (work_of(out) / "report-zh.html").read_text(encoding="utf-8")
    assert re.search(r'id="total-card" data-basis="assumed"', report)
    assert re.search(r'id="total-amount"[^>]*>[^<]*<span class="badge assumed"[^>]*>假定值</span>', report)
    assert 'id="chart-awards-basis"' in report and "图中金额含假定值" in report
    assert re.search(r'<tr class="total"><td>合计</td>.*<span class="badge assumed"', report)
    assert re.search(r"企业奖励：[\d.]+万元（假定值） → [\d.]+万元（假定值）", out["diff zh"])
    assert re.search(r"(?m)^\S+万元（[\d,.]+元）\s.*\s假定值\s", out["sweep zh"])


def test_amounts_fixed_by_a_district_document_are_never_marked_assumed(decided_outputs):
    marked = {}
    for name, text in decided_outputs.items():
        if name == "work":
            continue
        # The sheet saying there is none is no mark.
        text = text.replace("本决定未依据任何假定值", "").replace("This decision rests on no assumed figure", "")
        found = [m for m in ASSUMED_MARKS if m in text]
        if found:
            marked[name] = found
    assert not marked
    assert paid_bases(decided_outputs) == {"decided"}


def test_a_decided_amount_cites_its_document(decided_outputs):
    out = decided_outputs
    for sheet in ("review md zh", "review html zh"):
        assert "本决定未依据任何假定值" in out[sheet]
        assert DOCUMENT in out[sheet] and "万州区经济和信息化委员会" in out[sheet]
    assert DOCUMENT in out["explain zh"] and DOCUMENT in out["review md en"]
    assert f"企业奖励 10.00万元（100,000.00元）（依据{DOCUMENT}）  第1次运行" in out["awards re-run zh"]
    assert f"100,000.00元（依据{DOCUMENT}）" in out["ledger pay zh"]
    assert f"(decided by {DOCUMENT})" in out["ledger pay en"]
    report = (work_of(out) / "report-zh.html").read_text(encoding="utf-8")
    assert 'data-basis="decided"' in report and f"金额由区级文件确定：{DOCUMENT}" in report
    assert "区级文件" in out["awards by town zh"] and "区级文件" in out["sweep zh"]

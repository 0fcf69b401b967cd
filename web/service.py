"""The engine calls behind every page and API route: the same functions `scaleup` calls, one per
question. Results are kept with their upload, so a page of the decisions table, an enterprise and a
download all read the same evaluation."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from engine.decisions import EnterpriseResult
from engine.evaluate import Evaluator, load_engine_inputs
from engine.families import AWARD_TYPES
from engine.output import csv_columns, csv_headers, result_json, summary_row
from engine.policy import Policy
from engine.register import RegisterRead, read_register, write_rejected
from engine.rules_model import Rulebook
from web.problems import RequestProblem
from web.workspace import Upload


@dataclass
class Evaluation:
    policy_id: str
    as_of: date
    policy: Policy
    book: Rulebook
    read: RegisterRead
    results: list[EnterpriseResult]
    rows: list[dict] = field(default_factory=list)            # summary_row of each result, in register order
    by_id: dict[str, int] = field(default_factory=dict)       # enterprise id -> index

    def find(self, enterprise_id: str) -> int:
        index = self.by_id.get(enterprise_id.strip().upper())
        if index is None:
            raise RequestProblem(404, "no_enterprise", enterprise_id=enterprise_id[:40])
        return index


def evaluate(upload: Upload, policy_id: str, as_of: date, max_rows: int) -> Evaluation:
    """Read the uploaded register and evaluate every accepted row (what `scaleup check` does)."""
    ev = read_upload(upload, policy_id, as_of, max_rows)
    evaluate_rest(ev, upload)
    return ev


def evaluate_rest(ev: Evaluation, upload: Upload) -> None:
    """Evaluate every accepted row of a read register, without streaming."""
    for _ in evaluated(ev, upload):
        pass


def read_upload(upload: Upload, policy_id: str, as_of: date, max_rows: int) -> Evaluation:
    """The register read and validated (rows accepted and rejected), nothing evaluated yet."""
    policy, book = load_engine_inputs(policy_id)
    read = read_register(upload.path, as_of=as_of, policy=policy)
    if read.total_rows > max_rows:
        raise RequestProblem(413, "too_many_rows", rows=read.total_rows, limit=max_rows)
    return Evaluation(policy_id, as_of, policy, book, read, [])


def evaluated(ev: Evaluation, upload: Upload) -> Iterator[EnterpriseResult]:
    """Evaluate the accepted rows one by one, yielding each result as it comes (a streamed answer
    starts at once); the upload's evaluation is complete, and kept, when the last one is done."""
    evaluator = Evaluator(ev.policy, ev.book, ev.as_of)
    for _, enterprise in ev.read.accepted:
        result = evaluator.evaluate(enterprise)
        row = summary_row(result)
        row["assumed"] = assumed_amounts(result)
        ev.results.append(result)
        ev.rows.append(row)
        yield result
    ev.by_id = {r.enterprise_id: i for i, r in enumerate(ev.results)}
    upload.evaluation = ev


def assumed_amounts(result: EnterpriseResult) -> list[str]:
    """The decision types whose amount rests on a figure the policy does not state (provenance
    "assumed", as the engine resolved it): these amounts carry the 假定值 / ASSUMED mark."""
    return [d.type for d in result.decisions
            if d.amount_yuan is not None and any(line.chosen and line.param.provenance == "assumed"
                                                 for line in d.amount_lines)]


def evaluation_of(upload: Upload) -> Evaluation:
    if upload.evaluation is None:
        raise RequestProblem(409, "not_evaluated")
    return upload.evaluation


# ------------------------------------------------------------------------------------ downloads
DOWNLOADS = {"xlsx": "decisions.xlsx", "csv": "decisions.csv", "ndjson": "decisions.ndjson",
             "rejected": "rejected.csv"}


def write_download(upload: Upload, kind: str, lang: str) -> Path:
    """The results as the command line writes them: XLSX/CSV (`check --format csv`, one row per
    enterprise), NDJSON (one JSON contract object per line) or the rejected rows with their reasons."""
    from engine.tabular import write_csv, write_xlsx
    ev = evaluation_of(upload)
    if kind not in DOWNLOADS:
        raise RequestProblem(404, "no_download", kind=kind[:20])
    path = upload.output(f"{lang}-{DOWNLOADS[kind]}")
    cols = csv_columns()
    if kind == "xlsx":
        write_xlsx(path, {"decisions": (csv_headers(lang), [[r.get(c, "") for c in cols] for r in ev.rows])})
    elif kind == "csv":
        write_csv(path, csv_headers(lang), [[r.get(c, "") for c in cols] for r in ev.rows])
    elif kind == "ndjson":
        with open(path, "w", encoding="utf-8") as fh:
            for line in ndjson_lines(ev, lang):
                fh.write(line)
    else:
        write_rejected(ev.read, path)
    return path


def ndjson_lines(ev: Evaluation, lang: str, results: Optional[Iterable[EnterpriseResult]] = None) -> Iterator[str]:
    """One JSON contract object per enterprise and line, from `results` as they come (default: all)."""
    for result in ev.results if results is None else results:
        yield json.dumps(result_json(result, ev.book, lang), ensure_ascii=False) + "\n"


def rejected_json(upload: Upload) -> list[dict]:
    ev = evaluation_of(upload)
    return [{"row": r.row, "problems": [upload.shown(p) for p in r.problems], "original": r.original}
            for r in ev.read.rejected]


# ------------------------------------------------------------------------------------ one enterprise
def enterprise_view(ev: Evaluation, enterprise_id: str, lang: str) -> dict:
    """Every decision of one enterprise with the engine's explanation and, for each "no", the
    alternatives the engine found that would turn it (each a set of conditions to change), of the rules
    the explanation lists: a later rule's changes cannot turn a decision settled before it."""
    from engine.deciding_rules import listing
    from engine.render import Formatter, render_decision
    index = ev.find(enterprise_id)
    result = ev.results[index]
    fmt = Formatter(ev.book, lang)
    decisions = []
    for d in result.decisions:
        turns = [[{"rule_id": c.rule_id, "fact": fmt.fact_label(c.fact), "value": fmt.value(c.fact, c.value),
                   "op": c.op, "threshold": fmt.value(c.fact, c.threshold) if c.fact else str(c.threshold),
                   "margin": fmt.margin(c.fact, c.margin) if c.margin is not None else None,
                   "direction": c.direction} for c in alternative]
                 for f in listing(d).findings for alternative in f.changes if alternative]
        decisions.append({"type": d.type, "outcome": d.outcome, "amount_yuan": d.amount_yuan,
                          "label": ev.book.families[d.type].spec.label_zh if lang == "zh"
                          else ev.book.families[d.type].spec.label_en,
                          "explanation": render_decision(d, result, ev.book, lang), "turns": turns[:6],
                          "assumed": d.type in ev.rows[index]["assumed"]})
    return {"result": result, "row": ev.rows[index], "decisions": decisions,
            "register_row": ev.read.accepted[index][0]}


def audit_record(upload: Upload, enterprise_id: str, type_: str) -> dict:
    """The audit record of one decision (`scaleup audit`), its source named by the uploaded file's name."""
    from engine.awards.audit import build_record
    ev = evaluation_of(upload)
    index = ev.find(enterprise_id)
    result = ev.results[index]
    if type_ not in ev.book.families:
        raise RequestProblem(400, "bad_type", type=type_[:40], allowed=", ".join(ev.book.families))
    row, enterprise = ev.read.accepted[index]
    return build_record(result, result.decision(type_), enterprise, ev.policy, ev.book,
                        source={"file": upload.display_name, "row": row})


def review_sheet(upload: Upload, enterprise_id: str, type_: str, lang: str, fmt: str) -> str:
    """The review sheet (审核表) of one award, as `scaleup review` prints it."""
    from engine.awards.review import review_sheet as sheet
    if type_ not in AWARD_TYPES:
        raise RequestProblem(400, "bad_type", type=type_[:40], allowed=", ".join(AWARD_TYPES))
    if fmt not in ("html", "md"):
        raise RequestProblem(400, "bad_format", format=fmt[:20], allowed="html, md")
    ev = evaluation_of(upload)
    record = audit_record(upload, enterprise_id, type_)
    result = ev.results[ev.find(enterprise_id)]
    return sheet(record, result, result.decision(type_), ev.policy, ev.book, lang, fmt)


# ------------------------------------------------------------------------------------ award runs
def award_plan(upload: Upload, ledger_path: Path, year: int, commit: bool):
    """A year's award run against the ledger (`scaleup awards`): a dry run, or the run committed in
    one transaction (the ledger awards each enterprise once however many commits race)."""
    from engine.awards.ledger import Ledger
    from engine.awards.plan import RunContext, prepare_items
    from engine.awards.run import commit_run, dry_run
    ev = evaluation_of(upload)
    as_of = ev.as_of
    if as_of.year != year:
        raise RequestProblem(400, "year_mismatch", year=year, as_of=as_of.isoformat())
    ctx = RunContext.build(year, as_of, ev.policy, ev.book, upload.path)
    ctx = dataclasses.replace(ctx, register_file=upload.display_name)
    items = prepare_items(ctx, ev.read.accepted, ev.results)
    if commit:
        with Ledger.open(ledger_path) as ledger:
            return commit_run(ledger, ctx, items)
    if ledger_path.exists():
        with Ledger.open(ledger_path, create=False) as ledger:
            return dry_run(ledger, ctx, items)
    with Ledger.empty() as ledger:
        plan = dry_run(ledger, ctx, items)
    plan.ledger_name, plan.ledger_exists = str(ledger_path.name), False
    return plan


def ledger_summary(ledger_path: Path) -> Optional[dict]:
    """`scaleup ledger show`: runs, instalments by status, clawbacks, and the consistency check."""
    from engine.commands.awards import ledger_summary as summary
    return summary(ledger_path).summary if ledger_path.exists() else None


def record_payment(ledger_path: Path, paid_on: date, reference: str, year: Optional[int], commit: bool) -> list[dict]:
    """`scaleup ledger pay`: payable instalments marked paid with the voucher number (文号) and date."""
    from engine.commands.awards import ledger_pay
    return ledger_pay(ledger_path, paid_on=paid_on, reference=reference, year=year, enterprise_ids=(),
                      commit=commit)


# ------------------------------------------------------------------------------------ plan, policy, what-if
def targets(ev: Evaluation, year: Optional[int]) -> dict:
    """`scaleup targets FILE`: the annex and the text's floors beside the register's actuals."""
    from engine.analysis.targets import targets_from_register
    return targets_from_register([e for _, e in ev.read.accepted], ev.results, ev.policy, ev.book, ev.as_of, year)


def targets_chart(table: dict) -> dict:
    """The chart of new enterprises, plan beside actual, as the HTML report draws it."""
    from engine.analysis.targets import chart_series
    from engine.report.report import grouped_bar_chart
    series = chart_series(table, "new_total")
    return {"series": series, "chart": grouped_bar_chart(series["years"], [
        ("plan", [v or 0 for v in series["plan"]]), ("actual", [v or 0 for v in series["actual"]])])}


def whatif(ev: Evaluation, set_items: list[str]):
    """`scaleup diff --set NAME=VALUE ...`: validated like --set; the diff of decisions and budget."""
    from engine.analysis.whatif import diff
    from engine.commands.common import reform_from_options
    from engine.errors import PolicyDataError
    reform = reform_from_options(tuple(s.strip() for s in set_items if s.strip()), None, ev.as_of)
    if reform is None:
        raise PolicyDataError(["diff needs a change: --set NAME=VALUE"])
    return diff([e for _, e in ev.read.accepted], ev.policy, ev.book, reform, ev.as_of)


def policies() -> list[dict]:
    """`scaleup policy list`."""
    from engine.commands.policies import list_policies
    out = []
    for listed in list_policies():
        m = listed.meta
        out.append({"id": listed.policy_id, "valid": False, "problems": listed.problems} if m is None else
                   {"id": listed.policy_id, "valid": True, "document_number": m.document_number,
                    "title_zh": m.title_zh, "title_en": m.title_en, "fictional": m.fictional,
                    "in_force": {"from": m.in_force.from_.isoformat(), "to": m.in_force.to.isoformat()}})
    return out


def known_policy(policy_id: str) -> str:
    """Only a bundled policy id: the web app never loads a policy from a path the request names."""
    if policy_id not in {p["id"] for p in policies()}:
        raise RequestProblem(404, "unknown_policy", policy=policy_id[:60])
    return policy_id


def policy_document(policy_id: str, as_of: Optional[date]) -> dict:
    """`scaleup policy show --format json`, plus what is not modelled and why."""
    from engine.commands.policies import show_policy
    _, book = load_engine_inputs(known_policy(policy_id))
    doc = show_policy(policy_id, as_of).doc
    doc["not_modelled"] = [r.model_dump(mode="json") for r in book.not_modelled]
    return doc


def policy_findings(policy_id: str) -> list[dict]:
    """`scaleup policy check --format json`."""
    return list(_bundled_policy_findings(known_policy(policy_id)))


@lru_cache(maxsize=8)
def _bundled_policy_findings(policy_id: str) -> tuple:
    # A bundled policy changes only with the installed package, so its checks (about a second) run once.
    from engine.commands.policies import check_policy
    return tuple(check_policy(policy_id).json("zh")["findings"])


def plain(value: Any) -> Any:
    """A JSON-ready copy of an engine document (dates and Decimals as text)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))

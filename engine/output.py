"""Results as the documented outputs: the JSON contract (docs/decisions.md#output-contract; schema version
in SCHEMA_VERSION), one CSV row per enterprise for Excel, and a terminal table."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from engine.decisions import Decision, EnterpriseResult, interpretation_ids
from engine.facts import YearMonth
from engine.render import environment, render_decision
from engine.rules_model import Rulebook

SCHEMA_VERSION = "1"
PLACES = {"money": Decimal("0.01"), "ratio": Decimal("0.000001"), "decimal": Decimal("0.0001")}


def json_value(value: Any, kind: str | None = None) -> Any:
    """Exact where the value is exact; a fraction (annualised, growth) as a decimal string rounded for display."""
    if value is None or isinstance(value, (bool, int, str)) and not (kind == "money" and isinstance(value, int)):
        return value
    if isinstance(value, Fraction):
        q = PLACES.get(kind or "", Decimal("0.000001"))
        return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(q, rounding=ROUND_HALF_EVEN))
    if isinstance(value, Decimal) or isinstance(value, int):
        d = Decimal(value)
        return str(d.quantize(PLACES["money"])) if kind == "money" else format(d.normalize(), "f")
    if isinstance(value, (date, YearMonth)):
        return value.isoformat() if isinstance(value, date) else str(value)
    if hasattr(value, "as_json"):     # a band of an amount schedule
        return value.as_json()
    if isinstance(value, tuple):
        if len(value) == 2 and all(isinstance(v, int) for v in value) and kind == "annual_date":
            return f"{value[0]:02d}-{value[1]:02d}"
        return [json_value(v, kind) for v in value]
    return str(value)


def decision_document(d: Any, findings: list, params: dict, kinds: dict[str, str], explanation: str) -> dict:
    """The contract's decision object from a decision (durable's Decision or the columnar engine's) and the
    findings and parameters behind it."""
    conditions = []
    for f in findings:
        for c in f.conditions:
            kind = kinds.get(c.fact) if c.fact else (c.params[0].parameter.type if c.params else None)
            conditions.append({
                "rule_id": c.rule_id, "fact": c.fact, "value": json_value(c.value, kind), "op": c.op,
                "threshold": json_value(c.threshold, kind if c.fact else None),
                "threshold_parameters": [p.name for p in c.params],
                "met": c.met, "margin": json_value(c.margin, kind) if c.margin is not None else None,
            })
    out = {
        "type": d.type,
        "outcome": d.outcome,
        "rule_id": d.rule_id,
        "clause_id": d.clause_id,
        "clause_text": d.clause_text,
        "amount_yuan": json_value(d.amount_yuan, "money") if d.amount_yuan is not None else None,
        "amount_basis": d.amount_basis,
        "conditions": conditions,
        "parameters": [{"name": p.name, "value": json_value(p.value, p.parameter.type), "unit": p.parameter.unit,
                        "provenance": p.provenance, "clause": p.clause, "reference": p.reference, "note": p.note,
                        "since": p.since.isoformat(), **p.decided_by()} for p in params.values()],
        "rules": [{"rule_id": f.rule.id, "kind": f.rule.kind, "clause_id": f.rule.clause, "status": f.status,
                   "included_from": f.included_from, "missing_facts": f.missing_facts} for f in findings],
        "attributes": {k: json_value(v) for k, v in d.attributes.items()},
        "triggered": d.triggered,
        "triggered_codes": d.triggered_codes,
        "missing_facts": d.missing_facts,
        "reason": d.reason,
        "interpretations": interpretation_ids(findings),
        "explanation": explanation,
    }
    if d.type == "town_award":
        out["beneficiary"] = d.beneficiary
    return out


def decision_json(decision: Decision, result: EnterpriseResult, book: Rulebook, lang: str,
                  every_rule: bool = False) -> dict:
    kinds = {fid: spec.type for fid, spec in book.facts.items()}
    out = decision_document(decision, decision.findings, decision.params, kinds,
                            render_decision(decision, result, book, lang, every_rule=every_rule))
    if decision.amount_lines:
        out["amount_lines"] = [{"rule_id": a.rule_id, "clause_id": a.clause, "parameter": a.param.name,
                                "amount_yuan": json_value(a.amount, "money"), "provenance": a.param.provenance,
                                "chosen": a.chosen, **_band_json(a, kinds)} for a in decision.amount_lines]
    return out


def _band_json(line, kinds: dict) -> dict:
    """An amount schedule's line: the fact, its value and the band that applied (both edges)."""
    if line.band is None:
        return {}
    return {"band": {"fact": line.band_fact, "value": json_value(line.band_value, kinds.get(line.band_fact)),
                     "index": line.band_index + 1, **line.band.as_json()}}


def result_json(result: EnterpriseResult, book: Rulebook, lang: str, every_rule: bool = False) -> dict:
    """Version 1 of an enterprise's decisions; `every_rule`: each explanation lists every rule (explain
    --all-rules), not only those that bear on the outcome."""
    return {"enterprise_id": result.enterprise_id, "name": result.name, "as_of": result.as_of,
            "policy": result.policy,
            "decisions": [decision_json(d, result, book, lang, every_rule) for d in result.decisions]}


def summary_row(result: EnterpriseResult) -> dict[str, Any]:
    """One flat row per enterprise (CSV/XLSX and the table): each family's outcome, deciding rule and the
    summary fields the export has a column for (templates/columns.yaml)."""
    row: dict[str, Any] = {"enterprise_id": result.enterprise_id, "name": result.name, "town": result.town,
                           "in_park": result.in_park, "as_of": result.as_of}
    for d in result.decisions:
        t = d.type
        fields = {f"{t}.{k}": d.attributes.get(k, "") for k in _attribute_columns(t)}
        fields.update({
            t: d.outcome,
            f"{t}.rule_id": d.rule_id,
            f"{t}.amount_yuan": json_value(d.amount_yuan, "money") if d.amount_yuan is not None else "",
            f"{t}.amount_basis": d.amount_basis or "",
            f"{t}.beneficiary": d.beneficiary or "",
            f"{t}.triggered": " ".join(d.triggered_codes),
            f"{t}.missing": " ".join(d.missing_facts),
            f"{t}.reason": d.reason or "",      # not_provided: the summary says so instead of a count
        })
        row.update(fields)
    return row


@lru_cache(maxsize=None)
def _attribute_columns(family: str) -> tuple[str, ...]:
    """The attributes of a family's decision the export has columns for (e.g. the upgrade path)."""
    generic = {"rule_id", "amount_yuan", "amount_basis", "beneficiary", "triggered", "missing"}
    prefix = family + "."
    return tuple(c[len(prefix):] for c in csv_columns() if c.startswith(prefix) and c[len(prefix):] not in generic)


@lru_cache(maxsize=1)
def _column_labels() -> dict[str, dict[str, str]]:
    from engine.render import TEMPLATES
    from engine.yamlio import load_yaml
    return load_yaml(TEMPLATES / "columns.yaml")


def csv_columns() -> list[str]:
    """The export's columns in order: the keys of templates/columns.yaml (the output contract)."""
    return list(_column_labels()["zh"])


def render_table(results: list[EnterpriseResult], lang: str) -> str:
    template = environment().get_template(f"table_{lang}.txt.j2")
    text = template.render(rows=[summary_row(r) for r in results])
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def csv_headers(lang: str) -> list[str]:
    """Headers for the CSV/XLSX export: Chinese labels (zh) or the column ids (en, machine-friendly)."""
    cols = csv_columns()
    if lang != "zh":
        return cols
    labels = _column_labels()["zh"]
    return [labels.get(c, c) for c in cols]

"""A policy as the `policy show` command presents it: metadata, clauses, parameters (in force on a
date, or every dated value), targets and interpretations, as plain data for JSON or a template."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from engine.output import json_value
from engine.policy import Policy, coerce_param_value
from engine.rules_model import Rulebook


def policy_document(policy: Policy, as_of: Optional[date], book: Optional[Rulebook] = None) -> dict[str, Any]:
    """With the rulebook, also its rules: every rule id a decision of output contract v2 carries (the
    rules and each family's conclusion) resolves here, with its family, kind, clause and interpretation."""
    meta = policy.meta
    params = []
    for name, p in policy.parameters.items():
        entries = []
        if as_of is not None:
            hit = p.in_force(as_of)
            entries = [hit] if hit else []
        else:
            entries = sorted(p.values.items())
        for since, pv in entries:
            params.append({"name": name, "label_zh": p.label_zh, "label_en": p.label_en, "type": p.type,
                           "unit": p.unit, "value": json_value(coerce_param_value(p, pv.value), p.type),
                           "since": since.isoformat(), "until": pv.until.isoformat() if pv.until else None,
                           "provenance": pv.provenance, "clause": pv.clause, "reference": pv.reference,
                           "issuer": pv.issuer, "decided_on": pv.decided_on.isoformat() if pv.decided_on else None,
                           "note": pv.note})
        if as_of is not None and not entries:
            params.append({"name": name, "label_zh": p.label_zh, "label_en": p.label_en, "type": p.type,
                           "unit": p.unit, "value": None, "since": None, "until": None,
                           "provenance": "not_in_force", "clause": None, "reference": None,
                           "note": f"no value in force on {as_of.isoformat()}"})
    annex = policy.targets.annex
    return {
        "id": policy.id,
        "as_of": as_of.isoformat() if as_of else None,
        "metadata": {"document_number": meta.document_number, "title_zh": meta.title_zh, "title_en": meta.title_en,
                     "issuer_zh": meta.issuer_zh, "issuer_en": meta.issuer_en, "approved_by_zh": meta.approved_by_zh,
                     "signed_on": meta.signed_on.isoformat(), "issued_on": meta.issued_on.isoformat(),
                     "in_force": {"from": meta.in_force.from_.isoformat(), "to": meta.in_force.to.isoformat(),
                                  "provenance": meta.in_force.provenance, "note": meta.in_force.note},
                     "in_force_on_as_of": meta.in_force.covers(as_of) if as_of else None,
                     "jurisdiction": policy.jurisdiction.name_zh, "fictional": meta.fictional},
        "clauses": [{"id": c.id, "kind": c.kind, "heading_zh": c.heading_zh, "heading_en": c.heading_en,
                     "text": c.text} for c in policy.clauses.values()],
        "parameters": params,
        "targets": {
            "annex": None if annex is None else {
                "clause": annex.clause, "title_zh": annex.title_zh, "unit": annex.unit,
                "columns": {k: v.model_dump() for k, v in annex.columns.items()},
                "rows": [dict(year=r.year, **r.model_extra) for r in annex.rows]},
            "text_targets": [t.model_dump() for t in policy.targets.text_targets],
        },
        "interpretations": [i.model_dump() for i in policy.interpretations.values()],
        **({"rules": rules_document(book)} if book is not None else {}),
    }


def rules_document(book: Rulebook) -> list[dict[str, Any]]:
    out = []
    for name, family in book.families.items():
        concl = family.spec.conclusion
        out.append({"id": concl.id, "family": name, "kind": "conclusion", "clause": concl.clause,
                    "interpretation": getattr(concl, "interpretation", None)})
        for r in family.rules:
            out.append({"id": r.id, "family": name, "kind": r.kind, "clause": r.clause,
                        "interpretation": r.interpretation})
    return out


def policy_text(policy: Policy, as_of: Optional[date], lang: str) -> str:
    """`policy show` as text: every value in the reader's words and units (万元 with 元, percentages,
    是/否, lists joined, choices and annex columns by their labels), never a Python value."""
    from engine.render import environment
    doc = policy_document(policy, as_of)
    for p in doc["parameters"]:
        param = policy.parameters[p["name"]]
        p["shown"] = None if p["value"] is None else shown_value(param, coerce_param_value(
            param, param.values[date.fromisoformat(p["since"])].value), lang)
    labels = {} if policy.targets.annex is None else {
        k: (c.label_zh if lang == "zh" else c.label_en) for k, c in policy.targets.annex.columns.items()}
    template = environment().get_template(f"policy_show_{lang}.txt.j2")
    return template.render(doc=doc, labels=labels).rstrip()


def shown_value(param, value: Any, lang: str) -> str:
    from engine.render import money, plain, ratio
    words = _show_words(lang)
    if param.type == "money":
        return money(value, lang, both=lang == "zh")
    if param.type == "ratio":
        return ratio(value, lang)
    if param.type == "count":
        return f"{value}{words.UNIT.get(param.unit, ' ' + (param.unit or '')).rstrip()}" if param.unit else str(value)
    if param.type == "annual_date":
        month, day = value
        prefix = words.YEAR[param.year]
        return f"{prefix}{month}月{day}日" if lang == "zh" else f"{prefix}{month:02d}-{day:02d}"
    if param.type == "enum":
        return words.CHOICE.get(value, value)
    if param.type == "schedule":
        from engine.render import schedule_text
        return schedule_text(value, lang)
    return plain(tuple(value) if isinstance(value, list) else value, lang)


def _show_words(lang: str):
    from engine.render import environment
    return environment().get_template(f"_policy_words_{lang}.j2").module

"""Review sheets (审核表) for awards: the document a finance reviewer signs, in Markdown or HTML,
Chinese or English.

The sheet is built from the same evaluation as the award's audit record and carries its decision id,
so the paper and the record can be matched. Every figure on it says where it comes from: the register
(file, row, column), a derivation from named columns, the evaluation date, the rule itself, or a
parameter — stated by a source (依据…) or an assumed default (假定值) with the parameter's note.
This module arranges values (formatted by engine/render.py); every word is in the templates
(review_sheet.*.j2 for the layout, _sheet_words_<lang>.j2 for the wording).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from markupsafe import escape

from engine.decisions import ConditionFinding, Decision, EnterpriseResult
from engine.policy import Policy, ResolvedParam
from engine.render import Formatter, environment, money
from engine.rules_model import Rulebook

FORMATS = ("md", "html")
GATE_KINDS = ("applicability", "exclusion", "condition", "classification", "not_modelled")


def md_escape(text: Any) -> str:
    """Data inside Markdown: nothing in it may start a table cell, a tag, a link or emphasis."""
    out = str(text if text is not None else "")
    for ch in ("\\", "`", "*", "|", "[", "]"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;").replace("\r", " ").replace("\n", " ")


def html_escaped(obj: Any) -> Any:
    """Every text inside escaped (as Markup). For values handed to the wording macros of
    _sheet_words_<lang>.j2: those templates are shared with Markdown, so they do not escape, and
    jinja marks a macro's result safe; the HTML layout therefore escapes what it passes in."""
    if isinstance(obj, str):
        return escape(obj)
    if isinstance(obj, dict):
        # An operator is a word of the closed rule language (<, >=, in …), the key of the wording's OP table.
        return {k: v if k == "op" else html_escaped(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [html_escaped(v) for v in obj]
    return obj


def param_source(rp: ResolvedParam, lang: str = "en") -> dict:
    return {"kind": "param", "name": rp.name, "assumed": rp.provenance == "assumed", "provenance": rp.provenance,
            "reference": rp.reference, "clause": rp.clause, "note": rp.note_in(lang), "since": rp.since.isoformat(),
            "issuer": rp.issuer, "decided_on": rp.decided_on.isoformat() if rp.decided_on else None}


class SheetBuilder:
    """Turns one evaluated decision (and its audit record) into the values a sheet shows."""

    def __init__(self, record: dict, result: EnterpriseResult, decision: Decision, policy: Policy,
                 book: Rulebook, lang: str):
        self.record, self.result, self.decision = record, result, decision
        self.policy, self.book, self.lang = policy, book, lang
        self.fmt = Formatter(book, lang)
        source = (record.get("input") or {}).get("source") or {}
        self.file, self.row = source.get("file"), source.get("row")
        self.columns: dict[str, str] = {}

    def label(self, obj) -> str:
        return obj.label_zh if self.lang == "zh" else obj.label_en

    def fact_source(self, fact: Optional[str]) -> dict:
        spec = self.book.facts.get(fact or "")
        if spec is None:
            return {"kind": "rule", "assumed": False}
        if spec.fn:
            return {"kind": "derived", "assumed": False, "from": [self.fmt.fact_label(a) for a in spec.args]}
        # The column as the register's own header names it (曾经入统), whatever the sheet's language.
        return {"kind": "register", "assumed": False, "file": self.file, "row": self.row,
                "column": self.columns.get(fact) or self.fmt.fact_label(fact)}

    def threshold(self, c: ConditionFinding) -> tuple[str, list[dict]]:
        if c.op in ("exists", "missing"):      # filled in or blank: the rule itself states the test
            return "", [{"kind": "rule", "assumed": False, "rule_id": c.rule_id}]
        if c.fact is None:        # a test on a parameter alone: the parameter is the figure
            return self.fmt.param(c.params[0]), [param_source(p, self.lang) for p in c.params]
        if c.context:
            return self.fmt.value(c.fact, c.threshold), [{"kind": "context", "assumed": False, "name": c.context,
                                                           "as_of": self.result.as_of}]
        if c.params:
            text = " × ".join(self.fmt.param(p) for p in c.params)
            if len(c.params) > 1:
                text += f" = {self.fmt.value(c.fact, c.threshold)}"
            return text, [param_source(p, self.lang) for p in c.params]
        return self.fmt.value(c.fact, c.threshold), [{"kind": "rule", "assumed": False, "rule_id": c.rule_id}]

    def condition(self, c: ConditionFinding) -> dict:
        threshold, sources = self.threshold(c)
        return {"fact": c.fact, "label": self.fmt.fact_label(c.fact) if c.fact else self.label(c.params[0].parameter),
                "value": self.fmt.value(c.fact, c.value) if c.fact else self.fmt.param(c.params[0]),
                "value_source": self.fact_source(c.fact) if c.fact else param_source(c.params[0], self.lang),
                "op": c.op, "threshold": threshold, "threshold_sources": sources, "met": c.met,
                "margin": self.fmt.margin(c.fact, c.margin) if c.margin is not None else None,
                "missing_note": (c.missing_note_zh if self.lang == "zh" else c.missing_note_en)}

    def rules(self) -> list[dict]:
        out = []
        for f in self.decision.findings:
            if f.rule.kind not in GATE_KINDS:
                continue
            row = {"rule_id": f.rule.id, "clause": f.rule.clause, "kind": f.rule.kind, "label": self.label(f.rule),
                   "status": f.status, "text": f.rule.text,
                   "included_from": (self.label(self.book.families[f.included_from].spec)
                                     if f.included_from else None),
                   "reason": (f.rule.reason_zh if self.lang == "zh" else f.rule.reason) if f.status == "not_modelled" else None,
                   "conditions": [] if f.rule.kind == "classification" else [self.condition(c) for c in f.conditions],
                   "value": None}
            if f.rule.kind == "classification":
                row["value"] = self.decision.attributes.get(f.rule.attribute)
                if row["value"] is None:
                    continue
            out.append(row)
        return out

    def amount_rules(self) -> list[dict]:
        chosen = {a.rule_id for a in self.decision.amount_lines if a.chosen}
        applied = {a.rule_id: a.amount for a in self.decision.amount_lines}   # a schedule: its band's amount
        out = []
        for f in self.decision.findings:
            if f.rule.kind != "amount" or f.included_from:
                continue
            rp = self.decision.params[f.rule.amount_param]
            amount = applied.get(f.rule.id, None if f.rule.band_fact else rp.value)
            out.append({"rule_id": f.rule.id, "label": self.label(f.rule), "role": f.rule.role or "base",
                        "status": f.status, "amount": money(amount, self.lang, both=True) if amount is not None else "",
                        "parameter": rp.name, "parameter_label": self.label(rp.parameter),
                        "source": param_source(rp, self.lang), "chosen": f.rule.id in chosen})
        return out

    def steps(self) -> list[dict]:
        amount = (self.record.get("decision") or {}).get("amount") or {}
        return [{"step": s["step"], "method": s["method"],
                 "candidates": [money(Decimal(c), self.lang) for c in s["candidates"]],
                 "result": money(Decimal(s["result_yuan"]), self.lang, both=s["step"] == "total"),
                 "chosen_rule_id": s["chosen_rule_id"]} for s in amount.get("steps", [])]

    def clauses(self) -> list[dict]:
        ids = [self.decision.clause_id]
        spec = self.book.families[self.decision.type].spec
        if spec.amount:
            ids.append(spec.amount.clause)
        ids += [f.rule.clause for f in self.decision.findings]
        out = []
        for cid in dict.fromkeys(ids):
            clause = self.policy.clauses.get(cid)
            if clause is not None:
                out.append({"id": cid, "heading": clause.heading_zh if self.lang == "zh" else clause.heading_en,
                            "text": clause.text})
        return out

    def interpretations(self) -> list[dict]:
        ids = [f.rule.interpretation for f in self.decision.findings if f.rule.interpretation]
        spec = self.book.families[self.decision.type].spec
        if spec.amount and spec.amount.interpretation:
            ids.append(spec.amount.interpretation)
        out = []
        for iid in dict.fromkeys(ids):
            it = self.policy.interpretations.get(iid)
            if it is not None:
                out.append({"id": iid, "clause": it.clause,
                            "reading": it.reading_zh if self.lang == "zh" else it.reading_en,
                            "decided_by": it.decided_by})
        return out

    def parameters(self) -> list[dict]:
        return [{"name": rp.name, "label": self.label(rp.parameter), "value": self.fmt.param(rp),
                 "source": param_source(rp, self.lang)} for rp in self.decision.params.values()]

    def assumptions_in_play(self) -> set[str]:
        """The assumed parameters this decision rests on: those tested by a rule that applied, and the
        amount lines chosen. An amount line not chosen (a zero amount not used, a lower amount) and a
        rule that did not apply (the software test for an industrial firm) play no part."""
        names = set()
        for f in self.decision.findings:
            if f.rule.kind == "amount" or f.status in ("not_applicable", "not_modelled"):
                continue
            held = f.status in ("met", "triggered", "set")
            # A condition counts when its result is the rule's (a branch of `any` not taken plays no part).
            names.update(p.name for c in f.conditions if c.met is None or c.met == held
                         for p in c.params if p.provenance == "assumed")
        names.update(a.param.name for a in self.decision.amount_lines if a.chosen and a.param.provenance == "assumed")
        return names

    def view(self) -> dict:
        d, r, meta = self.decision, self.result, self.policy.meta
        spec = self.book.families[d.type].spec
        rules, amounts, params = self.rules(), self.amount_rules(), self.parameters()
        return {
            "lang": self.lang, "type": d.type, "title": self.label(spec), "outcome": d.outcome,
            "amount": money(d.amount_yuan, self.lang, both=True) if d.amount_yuan is not None else None,
            "amount_assumed": any(a["chosen"] and a["source"]["assumed"] for a in amounts),
            "enterprise": {"name": r.name, "id": r.enterprise_id, "town": r.town,
                           "in_park": self.fmt.value("in_park", r.in_park),
                           "industry_code": r.facts.get("industry_code")},
            "beneficiary": d.beneficiary, "as_of": r.as_of,
            "policy": {"id": self.policy.id, "document_number": meta.document_number,
                       "title": meta.title_zh if self.lang == "zh" else meta.title_en},
            "record": {"decision_id": self.record["decision_id"], "engine": self.record["engine"]["version"],
                       "data_hash": self.record["policy"]["data_hash"], "rules_hash": self.record["rules"]["hash"],
                       "file": self.file, "row": self.row},
            "clauses": self.clauses(), "interpretations": self.interpretations(),
            "rules": rules, "amount_rules": amounts, "steps": self.steps(), "parameters": params,
            "assumed_count": len(self.assumptions_in_play()),
            "reason": d.reason,
        }


def review_sheet(record: dict, result: EnterpriseResult, decision: Decision, policy: Policy, book: Rulebook,
                 lang: str = "zh", fmt: str = "md", headers: Optional[list[str]] = None) -> str:
    """headers: the register's header row, so a figure's source names the column as the file does."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown sheet format {fmt!r}; expected one of {', '.join(FORMATS)}")
    builder = SheetBuilder(record, result, decision, policy, book, lang)
    builder.columns = headers_by_fact(headers or [], policy)
    view = builder.view()
    template = environment().get_template(f"review_sheet.{fmt}.j2")
    text = template.render(s=view, lang=lang, md=md_escape, esc=html_escaped)
    return text.strip() + "\n"


def headers_by_fact(headers: list[str], policy: Policy) -> dict[str, str]:
    """Fact id -> the header text the register uses for it."""
    from engine.register.columns import match_header, register_columns
    columns = register_columns(policy)
    out: dict[str, str] = {}
    for label in headers:
        found = match_header(label, columns)
        if found is not None:
            out.setdefault(found[0].id, label)
    return out


def sheet_file_name(record: dict, lang: str, fmt: str) -> str:
    from engine.awards.audit import record_file_name
    return record_file_name(record).removesuffix(".json") + f".{lang}.{fmt}"

"""The officer's workbook of a register's decisions (`check --out FILE.xlsx`): one row per enterprise,
made to be filtered, summed and passed on in Excel. Outcomes in the chosen language with the codes in
hidden columns beside them, money as numbers in 元, dates as dates, 是/否 for yes/no, a one-line
reason (the deciding condition and its margin) per decision, and the audit decision id of each award
(the same id `scaleup audit` writes). Words come from templates/_export_words_{lang}.j2.

The machine-facing CSV (`--format csv`) keeps its documented columns (engine/output.py).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, Optional

from engine.decisions import EnterpriseResult
from engine.families import AWARD_TYPES, DELISTING_WARNING, ENTERPRISE_AWARD, TOWN_AWARD, UPGRADE
from engine.render import Formatter, environment, reason_line
from engine.rules_model import Rulebook
from engine.tabular import Column

AWARD_FAMILIES = AWARD_TYPES
_EXTRA = {
    UPGRADE: (("upgrade_eligibility.path", "text"), ("upgrade_eligibility.origin", "text")),
    ENTERPRISE_AWARD: (("enterprise_award.amount_yuan", "money"), ("enterprise_award.amount_basis", "text")),
    TOWN_AWARD: (("town_award.amount_yuan", "money"), ("town_award.amount_basis", "text"),
                 ("town_award.beneficiary", "text")),
    DELISTING_WARNING: (("delisting_warning.triggered", "code"),),
}


@lru_cache(maxsize=None)
def words(lang: str):
    return environment().get_template(f"_export_words_{lang}.j2").module


def decision_columns(lang: str, book: Rulebook) -> list[Column]:
    """The columns of the decisions sheet, a group per family in the rulebook's order: what an officer
    reads first, then, hidden, the codes."""
    w = words(lang)
    head = w.HEAD
    cols = [Column(head["enterprise_id"], "code"), Column(head["name"]), Column(head["town"]),
            Column(head["in_park"], width=10), Column(head["as_of"], "date")]
    for fam in book.families:
        cols.append(Column(head[fam]))
        cols += [Column(head[key], kind) for key, kind in _EXTRA.get(fam, ())]
        cols.append(Column(f"{w.FAMILY[fam]}{w.SEP}{head['reason']}", width=40))
        if fam in AWARD_FAMILIES:
            cols.append(Column(f"{w.FAMILY[fam]}{w.SEP}{head['decision_id']}", "code", width=24))
    cols.append(Column(head["missing"]))
    for fam in book.families:
        cols += [Column(f"{fam}.outcome", "code", hidden=True), Column(f"{fam}.rule_id", "code", hidden=True)]
    return cols


class DecisionRows:
    """Builds the decisions sheet's rows for one language and rulebook."""

    def __init__(self, book: Rulebook, lang: str):
        self.book, self.lang = book, lang
        self.w = words(lang)
        self.fmt = Formatter(book, lang)

    def row(self, result: EnterpriseResult, decision_ids: Optional[dict[str, str]] = None) -> list[Any]:
        """decision_ids: decision type -> the audit decision id of that (awarded) decision."""
        w = self.w
        out: list[Any] = [result.enterprise_id, result.name, result.town, w.YES if result.in_park else w.NO,
                          _date(result.as_of)]
        missing: list[str] = []
        for fam in self.book.families:
            d = result.decision(fam)
            out.append(w.OUTCOME[d.outcome])
            for key, _ in _EXTRA.get(fam, ()):
                out.append(self._extra(key, d))
            out.append(self.reason(d))
            if fam in AWARD_FAMILIES:
                out.append((decision_ids or {}).get(fam))
            # Data missing matters only where it left the decision open: a 规下 firm's blank 入统年月
            # is not missing data for an award it cannot get anyway.
            if d.outcome == "insufficient_data":
                missing += [m for m in d.missing_facts if m not in missing]
        out.append("、".join(self.fmt.fact_label(m) or m for m in missing) if self.lang == "zh"
                   else ", ".join(self.fmt.fact_label(m) or m for m in missing))
        for fam in self.book.families:
            d = result.decision(fam)
            out += [d.outcome, d.rule_id]
        return out

    def _extra(self, key: str, d) -> Any:
        if key.endswith(".amount_yuan"):
            return Decimal(d.amount_yuan) if d.amount_yuan is not None else None
        if key.endswith(".amount_basis"):
            basis = getattr(d, "amount_basis", None)
            return self.w.BASIS.get(basis, basis) if basis and d.amount_yuan is not None else None
        if key == "town_award.beneficiary":
            return d.beneficiary or None
        if key == "upgrade_eligibility.path":
            path = d.attributes.get("path")
            return self.w.PATH.get(path, path) if path else None
        if key == "upgrade_eligibility.origin":
            origin = d.attributes.get("origin")
            return self.w.ORIGIN.get(origin, origin) if origin else None
        if key == "delisting_warning.triggered":
            return " ".join(d.triggered_codes) or None
        raise KeyError(key)

    def reason(self, d) -> Optional[str]:
        """The failing condition and its margin in one line (None for a "yes")."""
        return reason_line(d, self.fmt)


def _date(text: Any) -> Any:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return text


def award_decision_ids(result: EnterpriseResult, enterprise, policy, book: Rulebook, source: dict,
                       fp=None) -> dict[str, str]:
    """The audit decision id of each award paid, exactly as `scaleup audit` records it (same source)."""
    from engine.awards.audit import build_record
    return {d.type: build_record(result, d, enterprise, policy, book, source=source, fp=fp)["decision_id"]
            for d in result.decisions if d.type in AWARD_FAMILIES and d.outcome == "awarded"}


def write_decisions_xlsx(path, rows, lang: str, book: Rulebook) -> None:
    """The decisions workbook from rows made by DecisionRows (streamed: a long register is never held)."""
    from engine.tabular import write_xlsx
    write_xlsx(path, {words(lang).SHEET["decisions"]: (decision_columns(lang, book), rows)})

"""Who was a candidate for a new-entry award (三(一) 新进规上) and was refused, with the reason.

A candidate is a firm in scope whose inclusion (入统年月) falls in the award year: the award's own
premise. A firm below scale, or in scope since an earlier year, was never one, and counting it as
"not awarded" buries the few real refusals (re-entry, not a legal person...) under dozens of firms
that could not have been awarded. Used by the report and the award run's text."""
from __future__ import annotations

from typing import Any

from engine.decisions import EnterpriseResult
from engine.families import ENTERPRISE_AWARD
from engine.render import Formatter, reason_line
from engine.rules_model import Rulebook


def is_candidate(result: EnterpriseResult, year: int) -> bool:
    facts = result.facts or {}
    return facts.get("in_scope") is True and facts.get("inclusion_year") == year


def refused(result: EnterpriseResult, book: Rulebook, year: int, type_: str = ENTERPRISE_AWARD) -> dict | None:
    """The refusal of a candidate (outcome not_awarded or insufficient_data) with its reason in both
    languages, or None when the firm was not a candidate or was awarded."""
    if not is_candidate(result, year):
        return None
    d = result.decision(type_)
    if d.outcome not in ("not_awarded", "insufficient_data"):
        return None
    reasons = {lang: reason_line(d, Formatter(book, lang)) for lang in ("zh", "en")}
    return {"enterprise_id": result.enterprise_id, "name": result.name, "town": result.town, "type": type_,
            "outcome": d.outcome, "rule_id": d.rule_id, "clause_id": d.clause_id, "reason": reasons}


def refused_candidates(results: list[EnterpriseResult], book: Rulebook, year: int) -> list[dict[str, Any]]:
    return [r for r in (refused(x, book, year) for x in results) if r is not None]

"""Batch report: one self-contained HTML page (inline CSS and inline SVG, no script, no network) that
summarises a register's evaluation for an officer: counts, decisions by family, a table by town, award
totals by town and beneficiary type, the de-listing warnings by level, and charts.

This module only counts and lays out: it reads the decisions the engine made (never re-deciding
anything) and computes chart geometry. Every amount carries its basis (engine/provenance.py: the policy
text, a district decision, or assumed); a total is as firm as its weakest part, so a card, table cell or
chart that adds up any assumed amount is marked assumed. Every word is in engine/templates/report.html.j2 and
_report_words_<lang>.j2; every value reaches the page through jinja's autoescape.

Extension point: other parts of the product (priority ranking, targets, what-if) add a section by
registering a function with `register_section`; it receives the ReportData and the language and
returns a `Section` (its title and its HTML, already escaped — render it with its own template) or
None to stay out. Sections appear after the built-in ones, in registration order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional

from markupsafe import Markup

from engine import __version__
from engine.awards.totals import decision_lines, place_order, place_type
from engine.candidates import is_candidate, refused_candidates
from engine.families import (AWARD_TYPES, DELISTING_WARNING, ENTERPRISE_AWARD, POOL, PRIORITY, TOWN_AWARD,
                              UPGRADE)
from engine.decisions import EnterpriseResult
from engine.output import json_value
from engine.policy import Policy
from engine.provenance import combined_basis
from engine.render import environment, money
from engine.rules_model import Rulebook

OUTCOME_COLUMNS = ("eligible", "awarded", "red", "yellow", "not_eligible", "not_awarded", "none", "not_applicable",
                   "insufficient_data")
ORIGINS = ("招商引资", "小升规")


# ------------------------------------------------------------------------------ extension point
@dataclass
class Section:
    id: str            # HTML id, for the table of contents
    title: str         # in the report's language
    html: Markup       # the section's body, already escaped


@dataclass
class ReportData:
    as_of: str
    lang: str
    policy: Policy
    book: Rulebook
    results: list[EnterpriseResult]
    source: str
    total_rows: int
    rejected_rows: int
    view: dict = field(default_factory=dict)     # what the template shows (filled by build_report_data)


ExtraSection = Callable[[ReportData, str], Optional[Section]]
EXTRA_SECTIONS: list[ExtraSection] = []


def register_section(fn: ExtraSection) -> ExtraSection:
    """Add a section to every report (usable as a decorator). Priority ranking, targets and what-if
    analyses plug in here."""
    EXTRA_SECTIONS.append(fn)
    return fn


# ------------------------------------------------------------------------------ counting
def _origin(result: EnterpriseResult, book: Rulebook) -> Optional[str]:
    """The origin the engine classified (招商引资 / 小升规): the upgrade decision's attribute when it is
    positive, else the upgrade family's own origin classification finding, else the register's column."""
    upgrade = next((d for d in result.decisions if d.type == UPGRADE), None)
    if upgrade is not None:
        if upgrade.attributes.get("origin"):
            return upgrade.attributes["origin"]
        for f in upgrade.findings:
            if f.rule.kind == "classification" and f.rule.attribute == "origin" and f.status == "set" and f.rule.cases:
                value = f.rule.cases[f.value].value
                return result.facts.get(value["fact"]) if isinstance(value, dict) and "fact" in value else value
    return result.facts.get("origin")


def _outcome(result: EnterpriseResult, type_: str) -> Optional[str]:
    d = next((d for d in result.decisions if d.type == type_), None)
    return None if d is None else d.outcome


def _amount(result: EnterpriseResult, type_: str) -> Decimal:
    d = next((d for d in result.decisions if d.type == type_), None)
    return d.amount_yuan if d is not None and d.outcome == "awarded" and d.amount_yuan is not None else Decimal(0)


def award_list(results: list[EnterpriseResult], lang: str) -> list[dict]:
    """Every enterprise awarded (enterprise award, town award or both), in register order: what finance
    pays, firm by firm, each amount with its basis."""
    rows = []
    for r in results:
        ent, town = r.decision(ENTERPRISE_AWARD), r.decision(TOWN_AWARD)
        if ent.outcome != "awarded" and town.outcome != "awarded":
            continue
        rows.append({"enterprise": r.name, "id": r.enterprise_id, "town": r.town,
                     "enterprise_amount": money(_amount(r, ENTERPRISE_AWARD), lang) if ent.outcome == "awarded" else "",
                     "enterprise_basis": ent.amount_basis if ent.outcome == "awarded" else None,
                     "beneficiary": town.beneficiary if town.outcome == "awarded" else "",
                     "town_amount": money(_amount(r, TOWN_AWARD), lang) if town.outcome == "awarded" else "",
                     "town_basis": town.amount_basis if town.outcome == "awarded" else None})
    return rows


def decided_references(results: list[EnterpriseResult]) -> list[str]:
    """The documents (文号) that decided an amount paid in these results, in first-seen order."""
    refs: dict[str, None] = {}
    for r in results:
        for d in r.decisions:
            if d.type in AWARD_TYPES and d.outcome == "awarded":
                for line in getattr(d, "amount_lines", None) or ():
                    if line.chosen and line.param.provenance == "decided" and line.param.reference:
                        refs.setdefault(line.param.reference)
    return list(refs)


def build_report_data(results: list[EnterpriseResult], policy: Policy, book: Rulebook, as_of: str, lang: str, *,
                      source: str = "", total_rows: Optional[int] = None, rejected_rows: int = 0,
                      town: Optional[str] = None) -> ReportData:
    data = ReportData(as_of=as_of, lang=lang, policy=policy, book=book, results=results, source=source,
                      total_rows=len(results) + rejected_rows if total_rows is None else total_rows,
                      rejected_rows=rejected_rows)
    label = (lambda o: o.label_zh) if lang == "zh" else (lambda o: o.label_en)
    fmt_money = lambda v, both=False: money(v, lang, both)           # noqa: E731
    towns, town_totals = _by_town(results, policy)
    award_rows, award_totals, by_type = _awards_by_place(results, policy)
    grand_total = award_totals["total"]
    warnings = _warnings(results, book, policy, label)
    origin_rows = _origin_rows(results, book)
    summary = {
        "enterprises": len(results), "rows": data.total_rows, "rejected": rejected_rows,
        "upgrade": town_totals["upgrade"], "pool": town_totals["pool"], "priority": town_totals["priority"],
        "enterprise_awards": award_totals["enterprise_count"], "town_awards": award_totals["town_count"],
        "enterprise_amount": fmt_money(award_totals["enterprise_amount"], True),
        "town_amount": fmt_money(award_totals["town_amount"], True),
        "total_amount": fmt_money(grand_total, True), "total_amount_short": fmt_money(grand_total),
        "enterprise_basis": award_totals["enterprise_basis"], "town_basis": award_totals["town_basis"],
        "total_basis": award_totals["basis"],
        "total_amount_yuan": json_value(grand_total, "money"),
        "red": len(warnings["red"]), "yellow": len(warnings["yellow"]),
        "towns_with_firms": len(towns), "towns_in_jurisdiction": len(policy.jurisdiction.towns),
    }
    charts = {
        "awards_by_town": bar_chart_horizontal(
            [p["place"] for p in award_rows],
            [("enterprise", [p["enterprise_amount"] for p in award_rows]),
             ("town", [p["town_amount"] for p in award_rows])],
            value_text=lambda v: fmt_money(v), unit=Decimal(10000) if lang == "zh" else Decimal(1)),
        "origin_groups": grouped_bar_chart(
            [(row["in_park"], row["origin"]) for row in origin_rows],
            [(s, [row[s] for row in origin_rows]) for s in ("upgrade", "pool", "awarded")]),
    }

    def money_cells(row: dict, keys: tuple) -> dict:
        return {**row, **{k: fmt_money(row[k]) for k in keys}}

    data.view = {
        "as_of": as_of, "source": source, "engine": __version__,
        "policy": {"id": policy.id, "document_number": policy.meta.document_number,
                   "title": policy.meta.title_zh if lang == "zh" else policy.meta.title_en,
                   "zone": policy.jurisdiction.development_zone.name_zh},
        "summary": summary, "families": _family_counts(results, book, label, int(as_of[:4])), "outcome_columns": OUTCOME_COLUMNS,
        "towns": [money_cells(t, ("enterprise_amount",)) for t in towns],
        "town_totals": money_cells(town_totals, ("enterprise_amount",)),
        "award_rows": [money_cells(p, ("enterprise_amount", "town_amount", "total")) for p in award_rows],
        "award_totals": money_cells(award_totals, ("enterprise_amount", "town_amount", "total")),
        "award_by_type": [{"kind": k, "count": c, "amount": fmt_money(a, True), "basis": combined_basis(b)}
                          for k, (c, a, b) in by_type.items() if c or k != "development_zone"],
        "references": decided_references(results),
        "warnings": warnings, "origin_rows": origin_rows, "charts": charts, "town": town,
        "award_list": award_list(results, lang),
        "refused": [{**x, "reason": x["reason"][lang]} for x in refused_candidates(results, book, int(as_of[:4]))],
    }
    return data


def _family_counts(results: list[EnterpriseResult], book: Rulebook, label, year: int) -> list[dict]:
    """Each family's outcomes counted, in the rulebook's family order. An award's 不予奖励 counts only the
    year's candidates (engine/candidates.py): a firm below scale or included in an earlier year was never
    going to be awarded, and is counted apart (not_candidates)."""
    families = []
    for type_, family in book.families.items():
        counts = {o: 0 for o in family.outcome_words}
        not_candidates = 0
        for r in results:
            o = _outcome(r, type_)
            if o == "not_awarded" and type_ in AWARD_TYPES and not is_candidate(r, year):
                not_candidates += 1
            elif o is not None:
                counts[o] = counts.get(o, 0) + 1
        families.append({"type": type_, "label": label(family.spec),
                         "counts": {c: counts.get(c) if c in counts else None for c in OUTCOME_COLUMNS},
                         "not_candidates": not_candidates if type_ in AWARD_TYPES else None})
    return families


def _by_town(results: list[EnterpriseResult], policy: Policy) -> tuple[list[dict], dict]:
    """Firms and decisions per town, in the jurisdiction's order; only towns with firms in the register."""
    key = place_order(policy)
    by_town: dict[str, dict] = {}
    for r in results:
        row = by_town.setdefault(r.town, {"town": r.town, "firms": 0, "in_park": 0, "upgrade": 0, "pool": 0,
                                          "enterprise_awards": 0, "enterprise_amount": Decimal(0),
                                          "enterprise_bases": set(), "priority": 0, "red": 0, "yellow": 0})
        row["firms"] += 1
        row["in_park"] += bool(r.in_park)
        row["upgrade"] += _outcome(r, UPGRADE) == "eligible"
        row["pool"] += _outcome(r, POOL) == "eligible"
        row["priority"] += _outcome(r, PRIORITY) == "eligible"
        warning = _outcome(r, DELISTING_WARNING)
        row["red"] += warning == "red"
        row["yellow"] += warning == "yellow"
    for line in decision_lines(results, policy):
        if line.kind == "enterprise":
            by_town[line.place]["enterprise_awards"] += 1
            by_town[line.place]["enterprise_amount"] += line.amount
            by_town[line.place]["enterprise_bases"].add(line.basis)
    towns = sorted(by_town.values(), key=lambda row: key(row["town"]))
    totals = {k: sum(row[k] for row in towns) for k in ("firms", "in_park", "upgrade", "pool",
                                                        "enterprise_awards", "priority", "red", "yellow")}
    totals["enterprise_amount"] = sum((row["enterprise_amount"] for row in towns), Decimal(0))
    totals["enterprise_basis"] = combined_basis(b for row in towns for b in row["enterprise_bases"])
    for row in towns:
        row["enterprise_basis"] = combined_basis(row.pop("enterprise_bases"))
    return towns, totals


def _awards_by_place(results: list[EnterpriseResult], policy: Policy) -> tuple[list[dict], dict, dict]:
    """Award counts and amounts by place and by beneficiary type (engine/awards/totals.py rules)."""
    places: dict[str, dict] = {}
    by_type = {t: [0, Decimal(0), set()] for t in ("enterprise", "town", "development_zone")}
    for line in decision_lines(results, policy):
        p = places.setdefault(line.place, {"place": line.place, "kind": place_type(line.place, policy),
                                           "enterprise_count": 0, "enterprise_amount": Decimal(0),
                                           "town_count": 0, "town_amount": Decimal(0),
                                           "enterprise_bases": set(), "town_bases": set()})
        p[f"{line.kind}_count"] += 1
        p[f"{line.kind}_amount"] += line.amount
        p[f"{line.kind}_bases"].add(line.basis)
        by_type[line.beneficiary_type][0] += 1
        by_type[line.beneficiary_type][1] += line.amount
        by_type[line.beneficiary_type][2].add(line.basis)
    key = place_order(policy)
    award_rows = sorted(places.values(), key=lambda p: key(p["place"]))
    bases: dict[str, set] = {"enterprise": set(), "town": set()}
    for p in award_rows:
        p["total"] = p["enterprise_amount"] + p["town_amount"]
        for kind in bases:
            bases[kind] |= p[f"{kind}_bases"]
            p[f"{kind}_basis"] = combined_basis(p.pop(f"{kind}_bases"))
        p["basis"] = combined_basis((p["enterprise_basis"], p["town_basis"]))
    totals = {"enterprise_basis": combined_basis(bases["enterprise"]), "town_basis": combined_basis(bases["town"]),
              "basis": combined_basis(bases["enterprise"] | bases["town"]),
              "enterprise_count": sum(p["enterprise_count"] for p in award_rows),
              "enterprise_amount": sum((p["enterprise_amount"] for p in award_rows), Decimal(0)),
              "town_count": sum(p["town_count"] for p in award_rows),
              "town_amount": sum((p["town_amount"] for p in award_rows), Decimal(0)),
              "total": sum((p["total"] for p in award_rows), Decimal(0))}
    return award_rows, totals, by_type


def _warnings(results: list[EnterpriseResult], book: Rulebook, policy: Policy, label) -> dict[str, list]:
    """Warnings by level, red first; each with its triggered indicators (code and rule label)."""
    key = place_order(policy)
    warnings: dict[str, list] = {"red": [], "yellow": []}
    for r in results:
        d = next((d for d in r.decisions if d.type == DELISTING_WARNING), None)
        if d is None or d.outcome not in warnings:
            continue
        indicators = []
        for rid in d.triggered:
            rule = book.rule(rid)
            indicators.append({"code": rule.code, "level": rule.level, "label": label(rule)})
        warnings[d.outcome].append({"enterprise": r.name, "id": r.enterprise_id, "town": r.town,
                                    "codes": d.triggered_codes, "indicators": indicators})
    for level in warnings:
        warnings[level].sort(key=lambda w: (key(w["town"])[0], w["id"]))
    return warnings


def _origin_rows(results: list[EnterpriseResult], book: Rulebook) -> list[dict]:
    """Upgrades, pool and new awards by 园内/园外 × origin."""
    groups = [(park, origin) for park in (True, False) for origin in ORIGINS]
    origin_counts = {g: {"upgrade": 0, "pool": 0, "awarded": 0} for g in groups}
    unknown = {"upgrade": 0, "pool": 0, "awarded": 0}
    for r in results:
        origin = _origin(r, book)
        bucket = origin_counts.get((bool(r.in_park), origin), unknown)
        bucket["upgrade"] += _outcome(r, UPGRADE) == "eligible"
        bucket["pool"] += _outcome(r, POOL) == "eligible"
        bucket["awarded"] += _outcome(r, ENTERPRISE_AWARD) == "awarded"
    origin_rows = [{"in_park": park, "origin": origin, **origin_counts[(park, origin)]} for park, origin in groups]
    if any(unknown.values()):
        origin_rows.append({"in_park": None, "origin": None, **unknown})
    return origin_rows


# ------------------------------------------------------------------------------ chart geometry
def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ value (axis end)."""
    if value <= 0:
        return Decimal(1)
    exp = value.adjusted()
    for _ in range(2):
        for m in (1, 2, Decimal("2.5"), 5, 10):
            candidate = Decimal(m).scaleb(exp)
            if candidate >= value:
                return candidate
        exp += 1
    return value


def _ticks(top: Decimal, n: int = 5) -> list[Decimal]:
    return [top * i / n for i in range(n + 1)]


def _plain_number(d: Decimal) -> str:
    q = d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()
    return f"{q:,f}" if q == q.to_integral_value() else f"{q:,}"


def bar_chart_horizontal(categories: list[str], series: list[tuple[str, list[Decimal]]], *,
                         value_text: Callable[[Decimal], str], unit: Decimal = Decimal(1),
                         width: int = 900, label_width: int = 150, row: int = 28, bar: int = 18) -> dict:
    """Stacked horizontal bars, one row per category. Geometry only; the template draws it."""
    top_pad, bottom_pad, right_pad = 40, 30, 130
    plot_w = width - label_width - right_pad
    totals = [sum((s[1][i] for s in series), Decimal(0)) for i in range(len(categories))]
    top = nice_ceiling(max(totals, default=Decimal(0)) / unit) * unit
    scale = Decimal(plot_w) / top
    height = top_pad + bottom_pad + row * max(1, len(categories))
    rows = []
    for i, cat in enumerate(categories):
        y = top_pad + i * row + (row - bar) // 2
        x = Decimal(label_width)
        rects = []
        for key, values in series:
            w = values[i] * scale
            if w > 0:
                rects.append({"series": key, "x": _f(x), "y": y, "w": _f(w), "h": bar,
                              "value": value_text(values[i])})
            x += w
        rows.append({"label": cat, "label_x": label_width - 8, "label_y": y + bar / 2 + 4, "rects": rects,
                     "total": value_text(totals[i]), "total_x": _f(x + 6)})
    ticks = [{"x": _f(Decimal(label_width) + t * scale), "text": _plain_number(t / unit)} for t in _ticks(top)]
    return {"width": width, "height": height, "plot_top": top_pad - 6, "plot_bottom": height - bottom_pad,
            "tick_y": height - bottom_pad + 16, "rows": rows, "ticks": ticks, "series": [s[0] for s in series],
            "legend_y": 16, "empty": not categories}


def grouped_bar_chart(groups: list[Any], series: list[tuple[str, list[int]]], *, width: int = 900,
                      height: int = 340) -> dict:
    """Vertical bars grouped by category (counts). Geometry only; the template draws it."""
    left, right, top_pad, bottom = 50, 20, 44, 56
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max([v for _, values in series for v in values] + [1])
    top = int(nice_ceiling(Decimal(top))) if top > 5 else 5
    group_w = plot_w / max(1, len(groups))
    bar_w = min(36.0, group_w * 0.8 / max(1, len(series)))
    out = []
    for gi, g in enumerate(groups):
        gx = left + gi * group_w + (group_w - bar_w * len(series)) / 2
        bars = []
        for si, (key, values) in enumerate(series):
            h = plot_h * values[gi] / top
            bars.append({"series": key, "x": round(gx + si * bar_w, 2), "y": round(top_pad + plot_h - h, 2),
                         "w": round(bar_w - 3, 2), "h": round(h, 2), "value": values[gi]})
        out.append({"key": g, "label_x": round(left + gi * group_w + group_w / 2, 2), "bars": bars})
    step = max(1, top // 5)
    ticks = [{"y": round(top_pad + plot_h - plot_h * t / top, 2), "text": str(t)} for t in range(0, top + 1, step)]
    return {"width": width, "height": height, "left": left, "right": width - right, "plot_top": top_pad,
            "baseline": top_pad + plot_h, "label_y": top_pad + plot_h + 18, "label2_y": top_pad + plot_h + 36,
            "groups": out, "ticks": ticks, "series": [s[0] for s in series], "legend_y": 16}


def _f(d: Decimal) -> float:
    # SVG coordinates only (never money): two decimals are plenty for pixels.
    return round(float(d), 2)


# ------------------------------------------------------------------------------ rendering
def render_report(data: ReportData) -> str:
    extra = []
    for fn in EXTRA_SECTIONS:
        section = fn(data, data.lang)
        if section is not None:
            extra.append(section)
    template = environment().get_template("report.html.j2")
    return template.render(v=data.view, lang=data.lang, extra_sections=extra).strip() + "\n"

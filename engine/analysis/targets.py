"""Progress against the plan's targets (docs/domain.md#targets-annex): actual new 规上 industrial
enterprises per year (园内/园外, 招商引资/小升规), exits and net stock, beside the annex table and the
text's floors, with the gap to each, and a projection of the year end from the cultivation pool.

The counting works on scope events (an enterprise entering or leaving the scope, dated when known),
so a register snapshot and the scope ledger feed the same computation:

* `events_from_register` builds them from a snapshot. A snapshot shows entries (入统年月) of the firms
  still in it, and only hints at exits (登记状态, 曾经入统) without their dates; the result says so.
* `history_from_ledger` takes the scope ledger's dated 入统/退规 events (engine/awards/ledger.py) and gives a
  `ScopeHistory(complete=True)`: exits per year and a net stock per year end, from its first run on.

Origin where the register leaves 来源 empty is derived by the rules' own classification
(`upgrade_eligibility.origin`, evaluated as of 31 December of the year of inclusion). Everything returned is plain
data (`targets_table` -> dict) for JSON, the text templates and the HTML report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Iterable, Optional

from engine import logic
from engine.families import DELISTING_WARNING, POOL, UPGRADE
from engine.decisions import EnterpriseResult
from engine.derive import fact_values
from engine.errors import ParameterNotInForce
from engine.facts import Enterprise, YearMonth
from engine.policy import Policy
from engine.rules_model import Rulebook

# The annex counts 规模以上工业企业: the reading of "industrial" is the rules' shared definition.
INDUSTRIAL_DEFINITION = "sector.industrial"
# The statuses that end inclusion: the red registration warning (W8) lists them.
EXIT_STATUS_PARAMETER = "warning_registration_red"
# The measures this module can count, named as the annex columns and text targets name them.
NEW_MEASURES = ("new_in_park", "new_out_of_park", "new_investment", "new_small_to_scale", "new_total")
STOCK_MEASURES = ("cumulative_in_park", "cumulative_out_of_park", "cumulative_total")
ORIGIN_MEASURE = {"招商引资": "new_investment", "小升规": "new_small_to_scale"}


@dataclass(frozen=True)
class ScopeEvent:
    enterprise_id: str
    name: str
    kind: str                              # entry | exit
    month: Optional[YearMonth]             # None: the date is not known
    in_park: bool
    origin: Optional[str] = None           # entries: 招商引资 | 小升规 (None: unknown)
    origin_basis: Optional[str] = None     # declared | derived | unknown
    first_time: Optional[bool] = None      # entries: False for a re-entry (not 首次)
    evidence: str = ""                     # in_scope_since | registration_status | previously_in_scope | ledger
    detail: Optional[str] = None           # e.g. the registration status
    still_in_scope: Optional[bool] = None  # snapshot exits: the register still marks the firm 规上
    date_basis: Optional[str] = None       # ledger: in_scope_since (入统年月) | observed (the run that saw it)


@dataclass
class ScopeHistory:
    source: str                            # register | ledger
    events: list[ScopeEvent]
    complete: bool                         # every entry and exit dated (a ledger), not a snapshot
    stock: Optional[list[ScopeEvent]] = None   # snapshot: the entries of the firms in scope on the date
    excluded: list[dict] = field(default_factory=list)   # firms in scope but not counted (not industrial)
    exit_statuses: tuple[str, ...] = ()
    readings: dict = field(default_factory=dict)          # which rules and parameters the counting used
    notes: list[str] = field(default_factory=list)        # what the source cannot tell (codes for the templates)
    recorded_from: Optional[date] = None                  # a ledger: the as-of date of its first run


# ---------------------------------------------------------------- events from a register snapshot

class _Rules:
    """The rules' own readings, resolved per as-of date: is a firm industrial, what is its origin."""

    def __init__(self, policy: Policy, book: Rulebook):
        self.policy, self.book = policy, book
        self.derived = [s for s in book.facts.values() if s.fn]
        self.origin_rule = next((r for fam in book.families.values() for r in fam.rules
                                 if r.kind == "classification" and r.attribute == "origin"), None)
        self.origin_cases = next((fam.cases[r.id] for fam in book.families.values() for r in fam.rules
                                  if r is self.origin_rule), [])
        self._cache: dict[tuple, Any] = {}

    def _resolved(self, what: str, day: date):
        key = (what, day)
        if key not in self._cache:
            ctx = logic.Context(self.policy, self.book, day)
            if what == "industrial":
                self._cache[key] = logic.resolve(self.book.definition_conditions[INDUSTRIAL_DEFINITION], ctx)
            else:
                self._cache[key] = [(logic.resolve(cond, ctx), value) for cond, value in self.origin_cases]
        return self._cache[key]

    def readings(self, as_of: date, year: int) -> dict:
        """The rules and parameters behind "industrial" and the derived origin, for the output."""
        from engine.render import Formatter

        def used(cond_list, day):
            ctx = logic.Context(self.policy, self.book, day)
            try:
                for cond in cond_list:
                    logic.resolve(cond, ctx)
            except ParameterNotInForce:
                return []
            return [{"name": rp.name, "provenance": rp.provenance, "value_zh": Formatter(self.book, "zh").param(rp),
                     "value_en": Formatter(self.book, "en").param(rp)} for rp in ctx.params_used.values()]

        definition = self.book.definitions[INDUSTRIAL_DEFINITION]
        out = {"industrial": {"id": INDUSTRIAL_DEFINITION, "label_zh": definition.label_zh, "label_en": definition.label_en,
                              "params": used([self.book.definition_conditions[INDUSTRIAL_DEFINITION]], as_of)}}
        if self.origin_rule is not None:
            r = self.origin_rule
            out["origin"] = {"id": r.id, "label_zh": r.label_zh, "label_en": r.label_en,
                             "params": used([c for c, _ in self.origin_cases], date(year, 12, 31))}
        return out

    def is_industrial(self, values: dict, day: date) -> Optional[bool]:
        return logic.evaluate(self._resolved("industrial", day), values)

    def origin(self, enterprise: Enterprise, year: int) -> tuple[Optional[str], str]:
        if enterprise.origin:
            return enterprise.origin, "declared"
        day = date(year, 12, 31)
        values = fact_values(enterprise, self.derived, day)
        try:
            cases = self._resolved("origin", day)
        except ParameterNotInForce:     # a year before the rules' parameters existed
            return None, "unknown"
        for node, value in cases:
            if logic.evaluate(node, values) is True:
                if isinstance(value, dict):            # {fact: origin}: the declared value
                    return values.get(value.get("fact")), "declared"
                return value, "derived"
        return None, "unknown"


def events_from_register(enterprises: Iterable[Enterprise], policy: Policy, book: Rulebook, as_of: date,
                         year: Optional[int] = None) -> ScopeHistory:
    rules = _Rules(policy, book)
    exit_statuses = tuple(policy.param(EXIT_STATUS_PARAMETER, as_of).value)
    events: list[ScopeEvent] = []
    stock: list[ScopeEvent] = []
    excluded: list[dict] = []
    for ent in enterprises:
        values = fact_values(ent, rules.derived, as_of)
        if rules.is_industrial(values, as_of) is not True:
            if ent.in_scope:
                excluded.append({"enterprise_id": ent.enterprise_id, "name": ent.name, "industry_code": ent.industry_code})
            continue
        if ent.in_scope:
            month = ent.in_scope_since
            origin, basis = rules.origin(ent, month.year) if month else (ent.origin, "declared" if ent.origin else "unknown")
            entry = ScopeEvent(ent.enterprise_id, ent.name, "entry", month, ent.in_park, origin, basis,
                               first_time=None if ent.previously_in_scope is None else not ent.previously_in_scope,
                               evidence="in_scope_since")
            events.append(entry)
            stock.append(entry)
        status = ent.registration_status
        if status in exit_statuses:
            events.append(ScopeEvent(ent.enterprise_id, ent.name, "exit", None, ent.in_park, evidence="registration_status",
                                     detail=status, still_in_scope=ent.in_scope))
        elif not ent.in_scope and ent.previously_in_scope:
            events.append(ScopeEvent(ent.enterprise_id, ent.name, "exit", None, ent.in_park, evidence="previously_in_scope",
                                     still_in_scope=False))
    return ScopeHistory("register", events, complete=False, stock=stock, excluded=excluded, exit_statuses=exit_statuses,
                        readings=rules.readings(as_of, year or as_of.year))


# ---------------------------------------------------------------- events from the scope ledger

def history_from_ledger(rows: list[dict], policy: Policy, book: Rulebook, as_of: date,
                        enterprises: Optional[Iterable[Enterprise]] = None, year: Optional[int] = None,
                        recorded_from: Optional[date] = None) -> ScopeHistory:
    """The ledger's dated 入统/退规 events (engine/awards/ledger.py `Ledger.scope_events()`) up to the date.
    The ledger keeps no industry code or start date: with a register beside it, firms found there are
    filtered to industry and get their origin derived as in a snapshot; without one, every firm counts.
    `recorded_from` (its first run's date): firms that left before it never reached the ledger, so the
    years before it are lower bounds, as in a snapshot."""
    rules = _Rules(policy, book)
    register = {e.enterprise_id: e for e in (enterprises or [])}
    events: list[ScopeEvent] = []
    excluded: list[dict] = []
    unknown_industry: set[str] = set()
    exited: set[str] = set()
    for row in rows:
        day = date.fromisoformat(row["event_date"])
        if day > as_of:
            continue
        eid = row["enterprise_id"]
        ent = register.get(eid)
        if register and ent is None:
            unknown_industry.add(eid)
        elif ent is not None and rules.is_industrial(fact_values(ent, rules.derived, as_of), as_of) is not True:
            if not any(x["enterprise_id"] == eid for x in excluded):
                excluded.append({"enterprise_id": eid, "name": row["name"], "industry_code": ent.industry_code})
            continue
        month = YearMonth(year=day.year, month=day.month)
        in_park = bool(row["in_park"])
        if row["kind"] == "entry":
            origin, basis = (row["origin"], "declared") if row.get("origin") else (
                rules.origin(ent, day.year) if ent is not None else (None, "unknown"))
            events.append(ScopeEvent(eid, row["name"], "entry", month, in_park, origin, basis,
                                     first_time=False if eid in exited else None, evidence="ledger",
                                     date_basis=row.get("date_basis")))
        else:
            exited.add(eid)
            events.append(ScopeEvent(eid, row["name"], "exit", month, in_park, evidence="ledger", detail=row.get("detail"),
                                     date_basis=row.get("date_basis")))
    notes = ["ledger_exit_observed"] + ([f"ledger_recorded_from:{recorded_from.isoformat()}"] if recorded_from else [])
    notes.append("ledger_industry_from_register" if register else "ledger_no_industry")
    if unknown_industry:
        notes.append(f"ledger_not_in_register:{len(unknown_industry)}")
    return ScopeHistory("ledger", events, complete=True, excluded=excluded,
                        exit_statuses=tuple(policy.param(EXIT_STATUS_PARAMETER, as_of).value),
                        readings=rules.readings(as_of, year or as_of.year) if register else {}, notes=notes,
                        recorded_from=recorded_from)


# ---------------------------------------------------------------- counting

def entered_scope(history: ScopeHistory, year: int, as_of: date) -> list[ScopeEvent]:
    """The one definition of "entered the scope in year Y", for targets, what-if, the report and the
    ledger: a dated entry (入统年月 in a register, or the ledger's entry event) in the year and not after
    the as-of date, of an enterprise the rules' shared definition reads as industrial (sector.industrial;
    the plan counts 规模以上工业企业). Software firms enter the scope too and are awarded, but are not
    counted against the plan."""
    entries = [e for e in history.events if e.kind == "entry" and e.month is not None and e.month.year == year
               and e.month.first_day() <= as_of]
    return sorted(entries, key=lambda e: (e.month.month, e.enterprise_id))


def _new_counts(entries: list[ScopeEvent]) -> dict[str, int]:
    out = {m: 0 for m in NEW_MEASURES}
    out.update(new_origin_unknown=0, re_entries=0, origin_derived=0)
    for e in entries:
        out["new_total"] += 1
        out["new_in_park" if e.in_park else "new_out_of_park"] += 1
        if e.origin in ORIGIN_MEASURE:
            out[ORIGIN_MEASURE[e.origin]] += 1
        else:
            out["new_origin_unknown"] += 1
        if e.origin_basis == "derived":
            out["origin_derived"] += 1
        if e.first_time is False:
            out["re_entries"] += 1
    return out


def _stock_counts(firms: list[ScopeEvent]) -> dict[str, int]:
    park = sum(1 for e in firms if e.in_park)
    return {"cumulative_in_park": park, "cumulative_out_of_park": len(firms) - park, "cumulative_total": len(firms)}


def _in_scope_at(history: ScopeHistory, day: date) -> list[ScopeEvent]:
    """A complete history: the last dated event of each firm on or before the day decides."""
    last: dict[str, ScopeEvent] = {}
    for e in sorted((e for e in history.events if e.month is not None), key=lambda e: (e.month.year, e.month.month)):
        if e.month.first_day() <= day:
            last[e.enterprise_id] = e
    return [e for e in last.values() if e.kind == "entry"]


def year_actuals(history: ScopeHistory, year: int, as_of: date) -> dict[str, Any]:
    """The year's counts. `bound` per measure: exact | to_date (the year is not over) | at_least
    (a snapshot's survivors) | None (cannot be known)."""
    status = "past" if year < as_of.year else ("current" if year == as_of.year else "future")
    if status == "future":
        return {"status": status, "actual": {m: None for m in NEW_MEASURES + STOCK_MEASURES}, "bound": {},
                "extra": {}, "entries": []}
    entries = entered_scope(history, year, as_of)
    counts = _new_counts(entries)
    new_bound = "to_date" if status == "current" and as_of < date(year, 12, 31) else "exact"
    exits_dated = [e for e in history.events if e.kind == "exit" and e.month is not None and e.month.year == year]
    extra = {k: counts[k] for k in ("new_origin_unknown", "re_entries", "origin_derived")}
    extra["exits"] = len(exits_dated) if history.complete else None
    actual = {m: counts[m] for m in NEW_MEASURES}
    bound = {m: new_bound for m in NEW_MEASURES}
    if not history.complete and status == "past":
        # A snapshot only holds the firms that are still in it: firms that entered in the year and
        # have left since are missing, so past counts are lower bounds.
        bound = {m: "at_least" for m in NEW_MEASURES}
    if history.complete:
        stock = _stock_counts(_in_scope_at(history, min(date(year, 12, 31), as_of)))
        actual.update(stock)
        bound.update({m: new_bound for m in STOCK_MEASURES})
        if history.recorded_from is not None and year < history.recorded_from.year:
            # Before the ledger's first run: firms that had left by then were never recorded.
            bound = {m: "at_least" for m in bound}
            extra["exits"] = None
    elif status == "current":
        actual.update(_stock_counts(history.stock or []))
        bound.update({m: new_bound for m in STOCK_MEASURES})
    else:
        survivors = [e for e in history.stock or [] if e.month is not None and e.month.year <= year]
        actual.update(_stock_counts(survivors))
        bound.update({m: "at_least" for m in STOCK_MEASURES})
    return {"status": status, "actual": actual, "bound": bound, "extra": extra, "entries": entries}


def _gap(actual: Optional[int], target: Optional[int]) -> Optional[int]:
    return None if actual is None or target is None else actual - target


def _floor_status(actual: Optional[int], bound: Optional[str], op: str, value: int, year_status: str) -> str:
    if year_status == "future" or actual is None:
        return "not_yet" if year_status == "future" else "unknown"
    holds = actual >= value if op == ">=" else actual == value
    if bound == "at_least":
        return "met" if holds and op == ">=" else "unknown"
    if bound == "to_date":
        return "met" if holds and op == ">=" else "in_progress"
    return "met" if holds else "not_met"


# ---------------------------------------------------------------- projection from the pool

def projection(results: list[EnterpriseResult], policy: Policy, book: Rulebook, as_of: date,
               new_to_date: Optional[int] = None) -> dict[str, Any]:
    """The year end: firms in scope now + below-scale firms on pace to cross the threshold − firms with a
    red warning. Each term lists its firms; the assumptions are stated by the templates."""
    rules = _Rules(policy, book)
    threshold = policy.param("scale_threshold", as_of)
    stock, on_pace, red = [], [], []
    for r in results:
        if rules.is_industrial(r.facts, as_of) is not True:
            continue
        firm = {"enterprise_id": r.enterprise_id, "name": r.name, "in_park": r.in_park}
        if r.facts.get("in_scope"):
            stock.append(firm)
            warning = r.decision(DELISTING_WARNING)
            if warning.outcome == "red":
                red.append({**firm, "codes": list(warning.triggered_codes)})
            continue
        upgrade, pool = r.decision(UPGRADE), r.decision(POOL)
        pace = r.facts.get("revenue_annualised")
        if upgrade.outcome == "eligible":
            on_pace.append({**firm, "basis": "upgrade_eligible", "annualised_yuan": _money(pace)})
        elif pool.outcome == "eligible" and pace is not None and Fraction(pace) >= Fraction(threshold.value):
            on_pace.append({**firm, "basis": "pool_on_pace", "annualised_yuan": _money(pace)})

    def split(firms):
        park = sum(1 for f in firms if f["in_park"])
        return {"total": len(firms), "in_park": park, "out_of_park": len(firms) - park}

    s, p, d = split(stock), split(on_pace), split(red)
    projected = {k: s[k] + p[k] - d[k] for k in s}
    return {"year": as_of.year, "as_of": as_of.isoformat(), "stock": s, "on_pace": on_pace, "on_pace_count": p,
            "red": red, "red_count": d, "projected": projected,
            "projected_new_total": None if new_to_date is None else new_to_date + p["total"],
            "threshold_yuan": _money(threshold.value), "threshold_provenance": threshold.provenance,
            "threshold_reference": threshold.reference}


def _money(value: Any) -> Optional[str]:
    """Yuan as a decimal string: exact when the value is, else to 0.000001 yuan (never a float)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else Decimal(value)
    if Fraction(exact) == Fraction(value) and exact == exact.quantize(Decimal("0.01")):
        return str(exact.quantize(Decimal("0.01")))
    return str(exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


# ---------------------------------------------------------------- the table

def targets_table(policy: Policy, history: ScopeHistory, as_of: date, year: Optional[int] = None,
                  projected: Optional[dict] = None) -> dict[str, Any]:
    """Plan beside actuals, per annex year (and `year` if outside the annex), with gaps (actual − target),
    the text's floors, the exits that can be seen, and the projection when given."""
    year = year or as_of.year
    annex = policy.targets.annex
    annex_years = [r.year for r in annex.rows] if annex else []
    columns = list(annex.columns) if annex else list(NEW_MEASURES + STOCK_MEASURES)
    rows = []
    computed: dict[int, dict] = {}
    for y in sorted(set(annex_years) | {year}):
        computed[y] = year_actuals(history, y, as_of)
        got = computed[y]
        plan = {c: annex.figure(y, c) for c in columns} if annex and y in annex_years else {c: None for c in columns}
        actual = {c: got["actual"].get(c) for c in columns}
        rows.append({"year": y, "status": got["status"], "in_annex": y in annex_years, "plan": plan, "actual": actual,
                     "bound": {c: got["bound"].get(c) for c in columns},
                     "gap": {c: _gap(actual[c], plan[c]) for c in columns}, "extra": got["extra"]})
    implied_base = {}
    if annex and annex.rows:
        first = annex.rows[0]
        for rt in annex.running_totals:
            implied_base[rt.stock] = first.model_extra[rt.stock] - first.model_extra[rt.additions]
    floors = []
    for t in policy.targets.text_targets:
        got = computed.get(t.year) or year_actuals(history, t.year, as_of)
        actual, bound = got["actual"].get(t.measure), got["bound"].get(t.measure)
        floors.append({"id": t.id, "clause": t.clause, "year": t.year, "measure": t.measure, "op": t.op,
                       "value": t.value, "text": t.text, "actual": actual, "bound": bound,
                       "gap": _gap(actual, t.value), "status": _floor_status(actual, bound, t.op, t.value, got["status"]),
                       "year_status": got["status"]})
    focus = computed[year]
    exits = [e for e in history.events if e.kind == "exit"]
    out = {
        "policy": policy.id, "as_of": as_of.isoformat(), "year": year, "source": history.source,
        "complete": history.complete,
        "columns": {c: (annex.columns[c].model_dump() if annex else {"label_zh": c, "label_en": c}) for c in columns},
        "annex_title": annex.title_zh if annex else None, "annex_clause": annex.clause if annex else None,
        "rows": rows, "implied_base": implied_base, "implied_base_year": (annex_years[0] - 1) if annex_years else None,
        "text_targets": floors,
        "new_firms": [{"enterprise_id": e.enterprise_id, "name": e.name, "month": str(e.month), "in_park": e.in_park,
                       "origin": e.origin, "origin_basis": e.origin_basis, "first_time": e.first_time}
                      for e in focus["entries"]],
        "exits": {
            "dated": [_exit(e) for e in exits if e.month is not None],
            "undated": [_exit(e) for e in exits if e.month is None],
            "per_year_known": history.complete,
        },
        "excluded_not_industrial": history.excluded,
        "stock_without_month": [{"enterprise_id": e.enterprise_id, "name": e.name, "in_park": e.in_park}
                                for e in (history.stock or []) if e.month is None],
        "exit_statuses": list(history.exit_statuses),
        "readings": history.readings,
        "notes": list(history.notes),
        "projection": projected if projected and projected.get("year") == year else None,
    }
    if out["projection"] is not None:
        row = next(r for r in rows if r["year"] == year)
        p = out["projection"]
        p["gaps"] = {
            "cumulative_total": _gap(p["projected"]["total"], row["plan"].get("cumulative_total")),
            "cumulative_in_park": _gap(p["projected"]["in_park"], row["plan"].get("cumulative_in_park")),
            "cumulative_out_of_park": _gap(p["projected"]["out_of_park"], row["plan"].get("cumulative_out_of_park")),
            "new_total": _gap(p["projected_new_total"], row["plan"].get("new_total")),
        }
        p["floors"] = [{"id": f["id"], "measure": f["measure"], "value": f["value"],
                        "projected": _projected_measure(p, f["measure"]),
                        "gap": _gap(_projected_measure(p, f["measure"]), f["value"])}
                       for f in floors if f["year"] == year and _projected_measure(p, f["measure"]) is not None]
    return out


def _projected_measure(p: dict, measure: str) -> Optional[int]:
    return {"cumulative_total": p["projected"]["total"], "cumulative_in_park": p["projected"]["in_park"],
            "cumulative_out_of_park": p["projected"]["out_of_park"], "new_total": p["projected_new_total"]}.get(measure)


def _exit(e: ScopeEvent) -> dict:
    return {"enterprise_id": e.enterprise_id, "name": e.name, "month": None if e.month is None else str(e.month),
            "in_park": e.in_park, "evidence": e.evidence, "detail": e.detail, "still_in_scope": e.still_in_scope,
            "date_basis": e.date_basis}


def targets_from_register(enterprises: list[Enterprise], results: list[EnterpriseResult], policy: Policy,
                          book: Rulebook, as_of: date, year: Optional[int] = None,
                          ledger_rows: Optional[list[dict]] = None, recorded_from: Optional[date] = None
                          ) -> dict[str, Any]:
    """The whole report from one register snapshot (what `scaleup targets FILE` and the HTML report use),
    or from the ledger's events when `ledger_rows` is given (the register then filters and projects)."""
    year = year or as_of.year
    if policy.targets.annex is None and not policy.targets.text_targets:
        return no_targets(policy, as_of, year)
    if ledger_rows is not None:
        history = history_from_ledger(ledger_rows, policy, book, as_of, enterprises, year, recorded_from)
    else:
        history = events_from_register(enterprises, policy, book, as_of, year)
    projected = None
    if year == as_of.year and results:
        new_to_date = year_actuals(history, year, as_of)["actual"]["new_total"]
        projected = projection(results, policy, book, as_of, new_to_date)
    return targets_table(policy, history, as_of, year, projected)


def no_targets(policy: Policy, as_of: date, year: int) -> dict[str, Any]:
    """The report of a policy that sets no targets (it has no targets.yaml): it says so."""
    return {"policy": policy.id, "as_of": as_of.isoformat(), "year": year, "provided": False,
            "document_number": policy.meta.document_number}


def targets_from_results(results: list[EnterpriseResult], policy: Policy, book: Rulebook, as_of: date,
                         year: Optional[int] = None) -> dict[str, Any]:
    """The same report from evaluated results alone (their facts hold every register column)."""
    fields = Enterprise.model_fields
    enterprises = [Enterprise(**{k: v for k, v in r.facts.items() if k in fields}) for r in results]
    return targets_from_register(enterprises, results, policy, book, as_of, year)


def chart_series(table: dict, measure: str = "new_total") -> dict[str, Any]:
    """Target vs actual per annex year for one measure, for a chart: years, plan, actual (None where
    unknown or not yet), and whether each actual is only a lower bound."""
    rows = [r for r in table["rows"] if r["in_annex"]]
    return {"measure": measure, "years": [r["year"] for r in rows], "plan": [r["plan"].get(measure) for r in rows],
            "actual": [r["actual"].get(measure) for r in rows],
            "at_least": [r["bound"].get(measure) == "at_least" for r in rows]}


# ---------------------------------------------------------------- wording

def render_targets(table: dict, lang: str) -> str:
    from engine.render import environment, money

    def shown(yuan: Optional[str]) -> str:
        # Annualised revenue is a fraction (exact in JSON to the fen); the text rounds it to 0.01万元.
        if yuan is None:
            return "—"
        d = Decimal(yuan)
        if lang != "zh":
            return money(d, lang)
        wan = d / 10000
        q = wan.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        return ("" if q == wan else "约") + f"{q:,.2f}万元"

    template = environment().get_template(f"targets_{lang}.txt.j2" if table.get("provided", True)
                                          else f"_command_words_{lang}.j2")
    if not table.get("provided", True):
        return template.module.no_targets(table) + "\n"
    text = template.render(t=table, money=shown)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"

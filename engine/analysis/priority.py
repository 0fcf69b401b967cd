"""Priority land and power (三(三)): the firms whose `land_power_priority` decision is eligible are
ranked by an explained score and served in rank order within the land and power quotas.

The score's components, their parameters, the tie-break order and the resources are data
(rules/priority_ranking.yaml, weights in the policy's parameters.yaml); this module only adds up
points (exact fractions, never floats), sorts, and walks the ranking. Structured results only:
every word is in engine/templates/priority_{zh,en}.txt.j2. `allocate` is what the CLI and the HTML
report call.
"""
from __future__ import annotations

import dataclasses

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cmp_to_key
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.decisions import ConditionFinding, EnterpriseResult
from engine.errors import ParameterNotInForce, PolicyDataError, validation_messages
from engine.facts import YearMonth
from engine.policy import Policy, ResolvedParam
from engine.rules_model import Rulebook
from engine.yamlio import YamlFileError, load_yaml

Strict = ConfigDict(extra="forbid", frozen=True)
ALLOCATION_OUTCOMES = ("allocated", "partially_allocated", "not_allocated", "nothing_requested", "not_ranked")
SCORE_KEY = "score"


# ---------------------------------------------------------------- the ranking spec (data)

class Text(BaseModel):
    model_config = Strict
    zh: str
    en: str


class Scaled(BaseModel):
    """points = min(fact, cap) × weight (the weight is points per 1 of the fact, e.g. per 100% growth)."""

    model_config = Strict
    weight: str
    cap: Optional[str] = None


class Component(BaseModel):
    model_config = Strict
    id: str
    label_zh: str
    label_en: str
    fact: str
    scaled: Optional[Scaled] = None
    points: Optional[dict[Union[int, str], str]] = None     # fact value -> points parameter
    missing: Optional[str] = None                            # points parameter when the fact is missing
    otherwise: Optional[str] = None                          # points parameter for a value not listed

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.scaled is None) == (self.points is None):
            raise ValueError("a component is either `scaled` or `points`, exactly one")
        if self.otherwise is not None and self.points is None:
            raise ValueError("`otherwise` is only for a `points` component")
        return self


class TieKey(BaseModel):
    model_config = Strict
    key: str                                  # "score" or a fact id
    order: Literal["asc", "desc"]
    missing: Literal["first", "last"] = "last"


class Resource(BaseModel):
    model_config = Strict
    id: str
    fact: str
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str


class RankingSpec(BaseModel):
    model_config = Strict
    provision: Optional[str] = None      # bound to the policy's clause and quote (provisions.yaml)
    clause: Optional[str] = None
    text: Optional[str] = None
    interpretation: Text
    ranked_family: str
    ranked_outcome: str
    components: list[Component] = Field(min_length=1)
    tie_break: list[TieKey] = Field(min_length=1)
    resources: list[Resource] = Field(min_length=1)
    partial: str

    @model_validator(mode="after")
    def _total_order(self):
        for what, ids in (("component", [c.id for c in self.components]), ("tie_break key", [k.key for k in self.tie_break]),
                          ("resource", [r.id for r in self.resources])):
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate {what} in {ids}")
        if self.tie_break[0].key != SCORE_KEY:
            raise ValueError("the first tie_break key must be `score` (the ranking is by score)")
        if self.tie_break[-1].key != "enterprise_id":
            raise ValueError("the last tie_break key must be `enterprise_id`, so the order is total")
        return self


def bound_ranking(spec: RankingSpec, policy: Policy) -> RankingSpec:
    """The spec with the clause and quote of the provision it names, as this policy binds it."""
    binding = policy.provisions.get(spec.provision) if spec.provision else None
    return spec.model_copy(update={"clause": binding.clause, "text": binding.text}) if binding else spec


def priority_provided(policy: Policy, book: Rulebook) -> bool:
    """Whether the policy provides the family the ranking serves (it binds its provisions)."""
    spec = load_ranking_spec(ranking_spec_path(policy))
    family = book.families.get(spec.ranked_family)
    return family is not None and family.provided


def ranking_spec_path(policy: Policy) -> Path:
    """The ranking of the policy's own rules folder."""
    return policy.rules_folder / "priority_ranking.yaml"


def load_ranking_spec(path: Path) -> RankingSpec:
    path = Path(path)
    try:
        raw = load_yaml(path)
    except YamlFileError as exc:
        raise PolicyDataError([str(exc)]) from None
    if not isinstance(raw, dict):
        raise PolicyDataError([f"{path}: expected a mapping at the top level"])
    try:
        return RankingSpec(**raw)
    except ValidationError as exc:
        raise PolicyDataError(validation_messages(exc, str(path))) from None


def resolve_spec(spec: RankingSpec, policy: Policy, book: Rulebook, as_of: date) -> dict[str, ResolvedParam]:
    """Every parameter the spec names, in force on the date; every fact and family it names checked.
    Raises PolicyDataError listing every problem."""
    where = str(ranking_spec_path(policy))
    problems: list[str] = []
    if spec.clause not in policy.clauses:
        problems.append(f"{where}: provision {spec.provision!r} is not bound by the policy's provisions.yaml"
                        if spec.clause is None else f"{where}: clause: unknown clause {spec.clause!r}")
    if spec.ranked_family not in book.families:
        problems.append(f"{where}: ranked_family: unknown family {spec.ranked_family!r}")
    elif spec.ranked_outcome not in book.families[spec.ranked_family].outcome_words:
        problems.append(f"{where}: ranked_outcome: {spec.ranked_outcome!r} is not an outcome of {spec.ranked_family}")
    facts = [(f"components.{c.id}.fact", c.fact) for c in spec.components] + \
        [(f"tie_break.{k.key}", k.key) for k in spec.tie_break if k.key not in (SCORE_KEY, "enterprise_id")] + \
        [(f"resources.{r.id}.fact", r.fact) for r in spec.resources]
    for loc, fact in facts:
        if fact not in book.facts:
            problems.append(f"{where}: {loc}: unknown fact {fact!r}")
    wanted: dict[str, tuple[str, ...]] = {}
    for c in spec.components:
        if c.scaled:
            wanted[c.scaled.weight] = ("count", "ratio")
            if c.scaled.cap:
                wanted[c.scaled.cap] = ("ratio", "count")
        for name in (list(c.points.values()) if c.points else []) + [n for n in (c.missing, c.otherwise) if n]:
            wanted[name] = ("count", "ratio")
    wanted[spec.partial] = ("bool",)
    params: dict[str, ResolvedParam] = {}
    for name, types in wanted.items():
        try:
            rp = policy.param(name, as_of)
        except ParameterNotInForce as exc:
            problems.append(f"{where}: {exc}")
            continue
        if rp.parameter.type not in types:
            problems.append(f"{where}: parameter {name!r} is of type {rp.parameter.type}; expected {' or '.join(types)}")
        params[name] = rp
    if problems:
        raise PolicyDataError(problems)
    return params


# ---------------------------------------------------------------- scores

@dataclass(frozen=True)
class ComponentScore:
    id: str
    label_zh: str
    label_en: str
    fact: str
    value: Any                  # the fact's value (None when missing)
    points: Fraction
    basis: str                  # scaled | listed | otherwise | missing | unknown (missing, no points given)
    counted: Optional[Fraction] = None   # scaled: the value after the cap
    capped: bool = False
    params: tuple[ResolvedParam, ...] = ()


def score_component(c: Component, values: dict, params: dict[str, ResolvedParam]) -> ComponentScore:
    value = values.get(c.fact)
    base = dict(id=c.id, label_zh=c.label_zh, label_en=c.label_en, fact=c.fact, value=value)
    if value is None:
        if c.missing:
            rp = params[c.missing]
            return ComponentScore(**base, points=Fraction(rp.value), basis="missing", params=(rp,))
        return ComponentScore(**base, points=Fraction(0), basis="unknown")
    if c.scaled:
        weight = params[c.scaled.weight]
        counted, capped, used = Fraction(value), False, [weight]
        if c.scaled.cap:
            cap = params[c.scaled.cap]
            used.append(cap)
            if counted > Fraction(cap.value):
                counted, capped = Fraction(cap.value), True
        return ComponentScore(**base, points=counted * Fraction(weight.value), basis="scaled", counted=counted,
                              capped=capped, params=tuple(used))
    if value in c.points:
        rp = params[c.points[value]]
        return ComponentScore(**base, points=Fraction(rp.value), basis="listed", params=(rp,))
    if c.otherwise:
        rp = params[c.otherwise]
        return ComponentScore(**base, points=Fraction(rp.value), basis="otherwise", params=(rp,))
    return ComponentScore(**base, points=Fraction(0), basis="unknown")


@dataclass
class TieNote:
    """Why a firm sits before or after a neighbour with the same score."""

    other_id: str
    other_name: str
    position: str               # "before" | "after" the other firm
    key: str                    # the tie-break key that decided
    order: str
    mine: Any
    theirs: Any
    equal_keys: tuple[str, ...]  # keys compared before it, on which the two were equal


@dataclass
class RankedFirm:
    enterprise_id: str
    name: str
    town: str
    in_park: bool
    score: Fraction
    components: list[ComponentScore]
    requests: dict[str, Optional[Decimal]]     # resource id -> request (None: not requested)
    keys: dict[str, Any]                       # tie-break key -> value
    rank: int = 0
    ties: list[TieNote] = field(default_factory=list)


def _sortable(value: Any) -> Any:
    if isinstance(value, YearMonth):
        return (value.year, value.month)
    if isinstance(value, (Decimal, int, Fraction)) and not isinstance(value, bool):
        return Fraction(value)
    return value


def _compare_key(tk: TieKey, a: Any, b: Any) -> int:
    """-1 when a comes first. A missing value sorts first or last whatever the order."""
    if a is None or b is None:
        if a is None and b is None:
            return 0
        first_if_missing = tk.missing == "first"
        return (-1 if first_if_missing else 1) if a is None else (1 if first_if_missing else -1)
    a, b = _sortable(a), _sortable(b)
    if a == b:
        return 0
    less = -1 if a < b else 1
    return less if tk.order == "asc" else -less


def rank(firms: list[RankedFirm], spec: RankingSpec) -> list[RankedFirm]:
    """Sort by the tie-break keys (score first), number the ranks, and note every tie decided."""

    def cmp(x: RankedFirm, y: RankedFirm) -> int:
        for tk in spec.tie_break:
            c = _compare_key(tk, x.keys[tk.key], y.keys[tk.key])
            if c:
                return c
        return 0

    ordered = sorted(firms, key=cmp_to_key(cmp))
    for i, firm in enumerate(ordered, 1):
        firm.rank, firm.ties = i, []
    for x, y in zip(ordered, ordered[1:]):
        if x.score != y.score:
            continue
        equal: list[str] = []
        for tk in spec.tie_break[1:]:
            if _compare_key(tk, x.keys[tk.key], y.keys[tk.key]):
                x.ties.append(TieNote(y.enterprise_id, y.name, "before", tk.key, tk.order, x.keys[tk.key],
                                      y.keys[tk.key], tuple(equal)))
                y.ties.append(TieNote(x.enterprise_id, x.name, "after", tk.key, tk.order, y.keys[tk.key],
                                      x.keys[tk.key], tuple(equal)))
                break
            equal.append(tk.key)
    return ordered


# ---------------------------------------------------------------- allocation

@dataclass(frozen=True)
class Grant:
    resource: str
    requested: Optional[Decimal]    # None: nothing requested of this resource
    before: Decimal                 # quota left before this firm
    granted: Decimal
    after: Decimal
    shortfall: Decimal              # how much the request exceeds what was left (0 when it fits)


@dataclass
class AllocationLine:
    firm: RankedFirm
    outcome: str                    # allocated | partially_allocated | not_allocated | nothing_requested
    grants: list[Grant]


@dataclass
class NotRanked:
    enterprise_id: str
    name: str
    town: str
    in_park: bool
    decision_outcome: str
    rule_id: str
    reasons: list[tuple[Any, str, list[ConditionFinding]]]   # (rule record, status, unmet conditions)
    missing_facts: list[str]
    reason: Optional[str]           # e.g. policy_not_in_force:...
    requests: dict[str, Optional[Decimal]]


@dataclass
class Allocation:
    policy_id: str
    as_of: date
    spec: RankingSpec
    params: dict[str, ResolvedParam]
    quotas: dict[str, Decimal]
    remaining: dict[str, Decimal]
    partial: bool
    lines: list[AllocationLine]
    not_ranked: list[NotRanked]

    def totals(self) -> dict[str, int]:
        out = {o: 0 for o in ALLOCATION_OUTCOMES}
        for line in self.lines:
            out[line.outcome] += 1
        out["not_ranked"] = len(self.not_ranked)
        return out


def _request(values: dict, fact: str) -> Optional[Decimal]:
    v = values.get(fact)
    return None if v is None else Decimal(v)


def candidate(result: EnterpriseResult, spec: RankingSpec, params: dict[str, ResolvedParam]) -> RankedFirm:
    values = result.facts
    components = [score_component(c, values, params) for c in spec.components]
    score = sum((c.points for c in components), Fraction(0))
    keys = {SCORE_KEY: score, "enterprise_id": result.enterprise_id}
    keys.update({tk.key: values.get(tk.key) for tk in spec.tie_break if tk.key not in keys})
    return RankedFirm(result.enterprise_id, result.name, result.town, result.in_park, score, components,
                      {r.id: _request(values, r.fact) for r in spec.resources}, keys)


def walk(ranked: list[RankedFirm], spec: RankingSpec, quotas: dict[str, Decimal], partial: bool
         ) -> tuple[list[AllocationLine], dict[str, Decimal]]:
    """Serve firms in rank order. A firm is granted when every resource it requests fits what is left;
    otherwise nothing (the quota stays for the firms below), or what is left when `partial`."""
    remaining = dict(quotas)
    lines = []
    for firm in ranked:
        wanted = {r.id: firm.requests[r.id] for r in spec.resources}
        asks = {k: v for k, v in wanted.items() if v is not None and v > 0}
        if not asks:
            lines.append(AllocationLine(firm, "nothing_requested", [
                Grant(r.id, wanted[r.id], remaining[r.id], Decimal(0), remaining[r.id], Decimal(0)) for r in spec.resources]))
            continue
        fits = all(v <= remaining[k] for k, v in asks.items())
        granted = {k: (v if fits else (min(v, remaining[k]) if partial else Decimal(0))) for k, v in asks.items()}
        grants = []
        for r in spec.resources:
            g = granted.get(r.id, Decimal(0))
            req = wanted[r.id]
            short = max(Decimal(0), req - remaining[r.id]) if req is not None else Decimal(0)
            grants.append(Grant(r.id, req, remaining[r.id], g, remaining[r.id] - g, short))
            remaining[r.id] -= g
        if fits:
            outcome = "allocated"
        elif any(g > 0 for g in granted.values()):
            outcome = "partially_allocated"
        else:
            outcome = "not_allocated"
        lines.append(AllocationLine(firm, outcome, grants))
    return lines, remaining


def not_ranked(result: EnterpriseResult, spec: RankingSpec) -> NotRanked:
    d = result.decision(spec.ranked_family)
    # A firm outside the family's scope is explained by what put it outside, not by every condition.
    kinds = ("applicability", "exclusion") if d.outcome == "not_applicable" else None
    reasons = [(f.rule, f.status, [c for c in f.conditions if c.met is not True]) for f in d.findings
               if f.status in ("not_met", "missing", "excluded") and (kinds is None or f.rule.kind in kinds)]
    return NotRanked(result.enterprise_id, result.name, result.town, result.in_park, d.outcome, d.rule_id, reasons,
                     list(d.missing_facts), d.reason,
                     {r.id: _request(result.facts, r.fact) for r in spec.resources})


def rank_eligible(results: list[EnterpriseResult], policy: Policy, book: Rulebook, as_of: date,
                  spec: Optional[RankingSpec] = None) -> list[RankedFirm]:
    """The ranking alone, without quotas (e.g. for a report that has no quota to share)."""
    spec = bound_ranking(spec or load_ranking_spec(ranking_spec_path(policy)), policy)
    params = resolve_spec(spec, policy, book, as_of)
    eligible = [r for r in results if r.decision(spec.ranked_family).outcome == spec.ranked_outcome]
    return rank([candidate(r, spec, params) for r in eligible], spec)


def allocate(results: list[EnterpriseResult], policy: Policy, book: Rulebook, as_of: date,
             quotas: dict[str, Decimal], spec: Optional[RankingSpec] = None) -> Allocation:
    """Rank the eligible firms of `results` (from Evaluator) and share `quotas` (resource id -> amount,
    e.g. {"land": Decimal("50"), "power": Decimal("4000")}) among them."""
    spec = bound_ranking(spec or load_ranking_spec(ranking_spec_path(policy)), policy)
    params = resolve_spec(spec, policy, book, as_of)
    unknown = set(quotas) - {r.id for r in spec.resources}
    missing = {r.id for r in spec.resources} - set(quotas)
    if unknown or missing:
        raise PolicyDataError([f"quotas: expected one for each of {[r.id for r in spec.resources]}; "
                               f"unknown {sorted(unknown)}, missing {sorted(missing)}"])
    negative = [k for k, v in quotas.items() if v < 0]
    if negative:
        raise PolicyDataError([f"quotas: {k} quota {quotas[k]} is negative; expected 0 or more" for k in negative])
    eligible = [r for r in results if r.decision(spec.ranked_family).outcome == spec.ranked_outcome]
    others = [r for r in results if r.decision(spec.ranked_family).outcome != spec.ranked_outcome]
    ranked = rank([candidate(r, spec, params) for r in eligible], spec)
    partial = bool(params[spec.partial].value)
    lines, remaining = walk(ranked, spec, {k: Decimal(v) for k, v in quotas.items()}, partial)
    return Allocation(policy.id, as_of, spec, params, {k: Decimal(v) for k, v in quotas.items()}, remaining,
                      partial, lines, [not_ranked(r, spec) for r in others])


# ---------------------------------------------------------------- output

def _fraction_text(value: Fraction) -> tuple[str, bool]:
    """A decimal string: exact when the fraction terminates within 6 places, else rounded (exact=False)."""
    from engine.output import json_value
    d = Decimal(value.numerator) / Decimal(value.denominator)
    if Fraction(d) == value and d == d.quantize(Decimal("0.000001")):
        return format(d.normalize(), "f"), True
    return json_value(value), False


def _words(lang: str):
    from engine.render import Formatter, environment, plain, ratio
    return environment(), Formatter, plain, ratio


def _template_args(alloc: Allocation, book: Rulebook, lang: str) -> dict:
    env, Formatter, plain, ratio = _words(lang)
    fmt = Formatter(book, lang)

    def num(value: Any) -> str:
        if isinstance(value, Fraction):
            text, exact = _fraction_text(value)
            return text if exact else ("约" if lang == "zh" else "≈") + text
        return plain(value, lang)

    def key_value(key: str, value: Any) -> str:
        if key == SCORE_KEY:
            return num(value)
        if key == "enterprise_id" or value is None:
            return plain(value, lang)
        return fmt.value(key, value)

    def key_label(key: str) -> str:
        if key == SCORE_KEY:
            return "得分" if lang == "zh" else "score"
        return fmt.fact_label(key) or key

    def cell(value: Optional[Decimal]) -> str:
        return "—" if value is None or value == 0 else plain(value, lang)

    def used_params(firm: RankedFirm) -> list[ResolvedParam]:
        return list({p.name: p for c in firm.components for p in c.params}.values())

    resources = {r.id: r for r in alloc.spec.resources}
    return dict(a=alloc, fmt=fmt, num=num, plain=lambda v: plain(v, lang), ratio=lambda v: ratio(v, lang),
                key_value=key_value, key_label=key_label, resources=resources, cell=cell, used_params=used_params)


def line_explanation(alloc: Allocation, line: Union[AllocationLine, NotRanked], book: Rulebook, lang: str) -> str:
    env = _words(lang)[0]
    template = env.get_template(f"priority_{lang}.txt.j2")
    mode = "not_ranked" if isinstance(line, NotRanked) else "line"
    return template.render(mode=mode, line=line, **_template_args(alloc, book, lang)).strip()


def render_allocation(alloc: Allocation, book: Rulebook, lang: str, show_all: bool = True,
                      town: Optional[str] = None) -> str:
    """The ranking and allocation as text. show_all=False leaves out the explanation of each firm not
    ranked (a count and how to see them instead); town shows only that town's firms (the quotas are
    still allocated over the whole district's ranking)."""
    env = _words(lang)[0]
    if town is not None:
        alloc = dataclasses.replace(alloc, lines=[l for l in alloc.lines if l.firm.town == town],
                                    not_ranked=[n for n in alloc.not_ranked if n.town == town])
    template = env.get_template(f"priority_{lang}.txt.j2")
    text = template.render(mode="report", line=None, show_all=show_all, town=town,
                           **_template_args(alloc, book, lang))
    return "\n".join(l.rstrip() for l in text.strip().splitlines()) + "\n"


def allocation_json(alloc: Allocation, book: Rulebook, lang: str) -> dict:
    from engine.output import json_value

    def qty(v: Optional[Decimal]) -> Optional[str]:
        return None if v is None else format(Decimal(v).normalize(), "f")

    def param(rp: ResolvedParam) -> dict:
        return {"name": rp.name, "value": json_value(rp.value, rp.parameter.type), "provenance": rp.provenance,
                "clause": rp.clause, "reference": rp.reference, "note": rp.note, "since": rp.since.isoformat()}

    ranked = []
    for line in alloc.lines:
        f = line.firm
        score, exact = _fraction_text(f.score)
        ranked.append({
            "rank": f.rank, "enterprise_id": f.enterprise_id, "name": f.name, "town": f.town, "in_park": f.in_park,
            "score": score, "score_exact": exact, "score_fraction": f"{f.score.numerator}/{f.score.denominator}",
            "components": [{"id": c.id, "fact": c.fact, "value": json_value(c.value, book.facts[c.fact].type),
                            "basis": c.basis, "capped": c.capped,
                            "counted": None if c.counted is None else _fraction_text(c.counted)[0],
                            "points": _fraction_text(c.points)[0], "parameters": [p.name for p in c.params]}
                           for c in f.components],
            "tie_break": [{"other": t.other_id, "position": t.position, "key": t.key, "order": t.order,
                           "value": json_value(t.mine), "other_value": json_value(t.theirs),
                           "equal_keys": list(t.equal_keys)} for t in f.ties],
            "requests": {k: qty(v) for k, v in f.requests.items()},
            "outcome": line.outcome,
            "grants": [{"resource": g.resource, "requested": qty(g.requested), "remaining_before": qty(g.before),
                        "granted": qty(g.granted), "remaining_after": qty(g.after), "shortfall": qty(g.shortfall)}
                       for g in line.grants],
            "explanation": line_explanation(alloc, line, book, lang),
        })
    others = [{"enterprise_id": n.enterprise_id, "name": n.name, "town": n.town, "in_park": n.in_park,
               "outcome": "not_ranked", "decision_outcome": n.decision_outcome, "rule_id": n.rule_id,
               "reasons": [{"rule_id": r.id, "status": s} for r, s, _ in n.reasons],
               "missing_facts": n.missing_facts, "reason": n.reason,
               "requests": {k: qty(v) for k, v in n.requests.items()},
               "explanation": line_explanation(alloc, n, book, lang)} for n in alloc.not_ranked]
    spec = alloc.spec
    return {
        "policy": alloc.policy_id, "as_of": alloc.as_of.isoformat(), "clause": spec.clause, "clause_text": spec.text,
        "quotas": {k: qty(v) for k, v in alloc.quotas.items()},
        "remaining": {k: qty(v) for k, v in alloc.remaining.items()},
        "units": {r.id: r.unit_en for r in spec.resources},
        "partial_allocation": alloc.partial,
        "components": [c.model_dump() for c in spec.components],
        "tie_break": [k.model_dump() for k in spec.tie_break],
        "parameters": [param(rp) for rp in alloc.params.values()],
        "totals": alloc.totals(),
        "ranked": ranked,
        "not_ranked": others,
    }

"""Rule records (rules/*.yaml) as validated data: a closed condition language, no eval, no literal
figures. engine/rulebook.py loads a rules folder into a Rulebook; engine/rules_check.py cross-checks
every reference (facts, parameters, clauses, definitions)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from engine.errors import validation_messages


Strict = ConfigDict(extra="forbid", frozen=True)
CompareOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "has_any"]
ContextName = Literal["as_of_year", "as_of_date"]
LEVELS = ("yellow", "red")          # indicator levels, lowest first
FACT_TYPES = ("text", "bool", "date", "year_month", "money", "int", "decimal", "enum", "tags", "ratio", "year")


class Compare(BaseModel):
    """fact <op> (param | value | context). `value` holds only words and booleans: figures are parameters."""

    model_config = Strict
    fact: str
    op: CompareOp
    param: Optional[str] = None
    scale: Optional[str] = None          # threshold = param × scale (both parameters)
    value: Union[bool, str, list[str], None] = None
    context: Optional[ContextName] = None
    if_missing: Optional[Literal["met", "not_met"]] = None
    missing_note_zh: Optional[str] = None
    missing_note_en: Optional[str] = None

    @model_validator(mode="after")
    def _one_operand(self):
        operands = [x for x in (self.param, self.context) if x is not None] + ([1] if self.value is not None else [])
        if len(operands) != 1:
            raise ValueError("a comparison needs exactly one of param, value, context")
        if self.scale and not self.param:
            raise ValueError("scale multiplies a param")
        if self.op in ("in", "not_in") and self.context:
            raise ValueError("in/not_in compare against a list (param or value)")
        if self.if_missing and not (self.missing_note_zh and self.missing_note_en):
            raise ValueError("if_missing needs missing_note_zh and missing_note_en saying why this reading")
        return self


class Presence(BaseModel):
    model_config = Strict
    fact: str
    op: Literal["exists", "missing"]


class ParamTest(BaseModel):
    """A test on a parameter alone (a switch such as town_award_park_attribution); fixed per as-of date."""

    model_config = Strict
    param: str
    op: Literal["==", "!="]
    value: Union[bool, str]


class Ref(BaseModel):
    model_config = Strict
    ref: str


class All(BaseModel):
    model_config = Strict
    all: list["Condition"]


class AnyOf(BaseModel):
    model_config = Strict
    any: list["Condition"]


class Not(BaseModel):
    model_config = Strict
    not_: "Condition"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def __init__(self, **data):
        if "not" in data:
            data["not_"] = data.pop("not")
        super().__init__(**data)


Condition = Union[Compare, Presence, ParamTest, Ref, All, AnyOf, Not]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def parse_condition(raw: Any, where: str) -> Condition:
    """Pick the node type by its keys, so an error names what was meant rather than every union member."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a condition must be a mapping, got {raw!r}")
    keys = set(raw)
    try:
        if "all" in keys:
            return All(all=[parse_condition(c, f"{where}.all[{i}]") for i, c in enumerate(_as_list(raw, "all", where))],
                       **{k: v for k, v in raw.items() if k != "all"})
        if "any" in keys:
            return AnyOf(any=[parse_condition(c, f"{where}.any[{i}]") for i, c in enumerate(_as_list(raw, "any", where))],
                         **{k: v for k, v in raw.items() if k != "any"})
        if "not" in keys:
            if len(keys) != 1:
                raise ValueError(f"{where}: 'not' takes one condition and nothing else")
            return Not(not_=parse_condition(raw["not"], f"{where}.not"))
        if "ref" in keys:
            return Ref(**raw)
        if "fact" in keys and raw.get("op") in ("exists", "missing"):
            return Presence(**raw)
        if "fact" in keys:
            return Compare(**raw)
        if "param" in keys:
            return ParamTest(**raw)
    except ValidationError as exc:
        raise ValueError("; ".join(validation_messages(exc, key=where))) from None
    raise ValueError(f"{where}: not a condition (expected one of all, any, not, ref, fact, param): {sorted(keys)}")


def _as_list(raw: dict, key: str, where: str) -> list:
    value = raw[key]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}.{key}: expected a non-empty list of conditions")
    return value



RuleKind = Literal["applicability", "exclusion", "condition", "classification", "amount", "indicator", "not_modelled"]


class Case(BaseModel):
    model_config = Strict
    when: Any
    value: Union[str, dict[str, str]]


class Cited(BaseModel):
    """What grounds a record: the *provision* it implements (`provision: award.enterprise`), which each
    policy binds to its own clause and quote (policies/<id>/provisions.yaml); or, for a policy's own
    records, a clause of that policy and the words quoted from it. Binding fills clause and text."""

    model_config = Strict
    provision: Optional[str] = None
    clause: Optional[str] = None
    text: Optional[str] = None

    @model_validator(mode="after")
    def _cites_something(self):
        if self.provision is None and not (self.clause and self.text is not None):
            raise ValueError("name the provision it implements (provision: ...) or a clause and its quoted text")
        return self


class RuleRecord(Cited):
    id: str
    kind: RuleKind
    label_zh: str
    label_en: str
    when: Any = None
    applies_when: Any = None
    outcome: Optional[str] = None             # exclusion: the outcome it concludes
    attribute: Optional[str] = None           # classification
    cases: Optional[list[Case]] = None        # classification
    amount: Optional[dict[str, str]] = None   # amount: {param: name} or {schedule: name, fact: id}
    role: Optional[Literal["base", "bonus"]] = None    # amount: base awards (highest wins) or a one-off bonus
    level: Optional[Literal[LEVELS]] = None   # type: ignore[valid-type]  # indicator
    code: Optional[str] = None                # indicator (W1..W8)
    required: bool = False                    # indicator: missing facts make the warning level unknown
    interpretation: Optional[str] = None      # id in the policy's interpretations.yaml
    reason: Optional[str] = None              # not_modelled: why (English)
    reason_zh: Optional[str] = None           # not_modelled: why (Chinese)
    basis: Optional[str] = None               # a national rule or practice behind a condition, in words
    overrides: list[str] = []                 # exclusions: the exclusions this one takes precedence over

    @model_validator(mode="after")
    def _kind_fields(self):
        k = self.kind
        need = {"applicability": ["when"], "exclusion": ["when", "outcome"], "condition": ["when"],
                "classification": ["attribute", "cases"], "amount": ["amount", "role"],
                "indicator": ["when", "level", "code"], "not_modelled": ["reason", "reason_zh"]}[k]
        for name in need:
            if getattr(self, name) in (None, []):
                raise ValueError(f"a rule of kind {k} needs {name}")
        if self.applies_when is not None and k != "condition":
            raise ValueError("applies_when is only for kind condition")
        if k == "not_modelled" and self.when is not None:
            raise ValueError("a not_modelled rule has no condition")
        if k == "amount" and set(self.amount or {}) not in ({"param"}, {"schedule", "fact"}):
            raise ValueError("amount must be {param: <money parameter>} or {schedule: <schedule parameter>, "
                             "fact: <the fact whose bands it pays by>}")
        return self

    @property
    def amount_param(self) -> Optional[str]:
        """The parameter an amount rule pays from: a money figure, or a schedule of bands."""
        return None if self.amount is None else self.amount.get("param") or self.amount.get("schedule")

    @property
    def band_fact(self) -> Optional[str]:
        """The fact an amount schedule bands (None for a single figure)."""
        return None if self.amount is None else self.amount.get("fact")


class Conclusion(Cited):
    id: str
    label_zh: str
    label_en: str


class AmountPolicy(BaseModel):
    """How amount lines combine: the highest base line (就高不重复), plus the highest bonus line if any."""

    model_config = Strict
    base: Literal["highest"]
    bonus: Literal["highest"] = "highest"
    provision: Optional[str] = None
    clause: Optional[str] = None
    interpretation: Optional[str] = None


class FamilyFile(BaseModel):
    model_config = Strict
    family: str
    decision: Literal["gate", "indicators"]
    label_zh: str
    label_en: str
    period: Literal["policy", "parameters"]
    outcomes: dict[str, str]
    conclusion: Conclusion
    includes: list[str] = []
    amount: Optional[AmountPolicy] = None
    beneficiary: Optional[str] = None         # attribute naming who is paid (town awards)
    rules: list[RuleRecord]


class Definition(BaseModel):
    model_config = Strict
    id: str
    label_zh: str
    label_en: str
    when: Any


class FactSpec(BaseModel):
    """One fact of rules/facts.yaml: a register column (no `fn`) or a fact derived from columns. The one
    schema of facts: the register reader maps headers to the columns, the rules test the facts, and
    engine/facts.Enterprise holds exactly the columns (checked when the reader loads them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    type: Literal[FACT_TYPES]  # type: ignore[valid-type]
    label_zh: str
    label_en: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: Optional[tuple[str, ...]] = None
    signed: bool = False
    fn: Optional[str] = None
    args: tuple[str, ...] = ()
    # (other name, value) pairs of a closed column, from the policy's vocabulary.yaml (never facts.yaml):
    # engine/register/columns.register_columns sets them for the policy being read
    value_aliases: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"{self.id} ({self.label_zh})"


@dataclass
class Family:
    """A decision family with its conditions parsed and its definitions resolved."""

    name: str
    spec: FamilyFile
    rules: list[RuleRecord]
    conditions: dict[str, Condition]          # rule id -> parsed `when`
    guards: dict[str, Condition]              # rule id -> parsed `applies_when`
    cases: dict[str, list[tuple[Condition, Any]]]
    included_from: dict[str, str] = field(default_factory=dict)   # rule id -> family it comes from
    provided: bool = True     # False: the policy binds none of its provisions (本政策未规定)
    not_offered: list = field(default_factory=list)   # amount rules whose provision the policy lacks

    @property
    def outcome_words(self) -> tuple[str, ...]:
        """Every outcome the family's decision can have, in the order summaries count them."""
        words = self.spec.outcomes
        if self.spec.decision == "gate":
            decided: tuple[str, ...] = (words["positive"], words["negative"])
        else:
            decided = (*reversed(LEVELS), words["none"])
        return (*decided, "not_applicable", "insufficient_data")


@dataclass
class Rulebook:
    folder: Path
    facts: dict[str, FactSpec]
    not_modelled: list[RuleRecord]
    definitions: dict[str, Definition]
    definition_conditions: dict[str, Condition]
    families: dict[str, Family]
    files: list[Path]

    def rule(self, rule_id: str) -> RuleRecord:
        for fam in self.families.values():
            for r in fam.rules:
                if r.id == rule_id:
                    return r
        raise KeyError(rule_id)


def iter_nodes(cond: Condition):
    yield cond
    if isinstance(cond, All):
        for c in cond.all:
            yield from iter_nodes(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from iter_nodes(c)
    elif isinstance(cond, Not):
        yield from iter_nodes(cond.not_)

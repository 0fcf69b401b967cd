"""Rule records (rules/*.yaml) as validated data: a closed condition language, no eval, no literal
figures. Loading cross-checks every reference (facts, parameters, clauses, definitions) and reports
every problem at once with its file and rule id."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from engine.errors import PolicyDataError
from engine.policy import Policy, did_you_mean
from engine.yamlio import YamlFileError, load_yaml

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
        raise ValueError("; ".join(f"{where}.{'.'.join(map(str, e['loc']))}: {_msg(e)}" for e in exc.errors())) from None
    raise ValueError(f"{where}: not a condition (expected one of all, any, not, ref, fact, param): {sorted(keys)}")


def _as_list(raw: dict, key: str, where: str) -> list:
    value = raw[key]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}.{key}: expected a non-empty list of conditions")
    return value


def _msg(err: dict) -> str:
    return "unknown key (misspelt?)" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")


RuleKind = Literal["applicability", "exclusion", "condition", "classification", "amount", "indicator", "not_modelled"]


class Case(BaseModel):
    model_config = Strict
    when: Any
    value: Union[str, dict[str, str]]


class RuleRecord(BaseModel):
    model_config = Strict
    id: str
    kind: RuleKind
    clause: str
    text: str
    label_zh: str
    label_en: str
    when: Any = None
    applies_when: Any = None
    outcome: Optional[str] = None             # exclusion: the outcome it concludes
    attribute: Optional[str] = None           # classification
    cases: Optional[list[Case]] = None        # classification
    amount: Optional[dict[str, str]] = None   # amount: {param: name}
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
        if k == "amount" and set(self.amount or {}) != {"param"}:
            raise ValueError("amount must be {param: <money parameter>}")
        return self


class Conclusion(BaseModel):
    model_config = Strict
    id: str
    clause: str
    text: str
    label_zh: str
    label_en: str


class AmountPolicy(BaseModel):
    """How amount lines combine: the highest base line (就高不重复), plus the highest bonus line if any."""

    model_config = Strict
    base: Literal["highest"]
    bonus: Literal["highest"] = "highest"
    clause: str
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


FAMILIES_FILE = "families.yaml"     # the family ids, in output order; each family is <id>.yaml
OUTCOMES = {
    "gate": {"positive", "negative"},
    "indicators": {"none"},
}


def load_facts(folder: Path) -> dict[str, FactSpec]:
    raw = load_yaml(folder / "facts.yaml") or {}
    problems, facts = [], {}
    for section in ("columns", "derived"):
        for i, item in enumerate(raw.get(section, []) or []):
            try:
                spec = FactSpec(**item)
                facts[spec.id] = spec
            except (ValidationError, TypeError) as exc:
                problems.append(f"{folder / 'facts.yaml'}: {section}[{i}]: {exc}")
    if problems:
        raise PolicyDataError(problems)
    return facts


def load_rulebook(folder: Path, policy: Policy) -> Rulebook:
    folder = Path(folder)
    problems: list[str] = []
    try:
        facts = load_facts(folder)
    except (PolicyDataError, YamlFileError) as exc:
        raise PolicyDataError(getattr(exc, "problems", [str(exc)])) from None
    def_path = folder / "definitions.yaml"
    definitions, definition_conditions = _load_definitions(def_path, problems)
    files = [folder / "facts.yaml", def_path, folder / FAMILIES_FILE]
    families: dict[str, Family] = {}
    for family_id in family_ids(folder, problems):
        path = folder / f"{family_id}.yaml"
        files.append(path)
        fam = _load_family(path, family_id, problems)
        if fam is not None:
            families[family_id] = fam
    _bring_included_rules(folder, families, problems)
    nm_path = folder / "not_modelled.yaml"
    if nm_path.exists():
        files.append(nm_path)
    not_modelled = _load_not_modelled(nm_path, problems) if nm_path.exists() else []
    book = Rulebook(folder=folder, facts=facts, not_modelled=not_modelled, definitions=definitions,
                    definition_conditions=definition_conditions, families=families, files=files)
    problems += cross_check(book, policy)
    if problems:
        raise PolicyDataError(problems)
    return book


def family_ids(folder: Path, problems: list[str]) -> list[str]:
    """The decision families of a rules folder, in output order (rules/families.yaml)."""
    path = folder / FAMILIES_FILE
    try:
        raw = load_yaml(path) or {}
    except YamlFileError as exc:
        problems.append(str(exc))
        return []
    ids = raw.get("families") if isinstance(raw, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        problems.append(f"{path}: families: expected a list of family ids (each one is <id>.yaml beside it)")
        return []
    if len(set(ids)) != len(ids):
        problems.append(f"{path}: families: a family is listed twice")
    return list(dict.fromkeys(ids))


def _load_definitions(def_path: Path, problems: list[str]) -> tuple[dict[str, Definition], dict[str, Condition]]:
    definitions: dict[str, Definition] = {}
    definition_conditions: dict[str, Condition] = {}
    try:
        for i, item in enumerate((load_yaml(def_path) or {}).get("definitions", [])):
            try:
                d = Definition(**item)
                definitions[d.id] = d
                definition_conditions[d.id] = parse_condition(d.when, f"definitions[{i}].when")
            except (ValidationError, ValueError, TypeError) as exc:
                problems.append(f"{def_path}: definitions[{i}]: {exc}")
    except YamlFileError as exc:
        problems.append(str(exc))
    return definitions, definition_conditions


def _load_family(path: Path, family_id: str, problems: list[str]) -> Optional[Family]:
    try:
        raw = load_yaml(path)
    except YamlFileError as exc:
        problems.append(str(exc))
        return None
    try:
        spec = FamilyFile(**raw)
    except ValidationError as exc:
        for e in exc.errors():
            loc = ".".join(map(str, e["loc"]))
            rid = _rule_id_at(raw, e["loc"])
            problems.append(f"{path}: {loc}{' (rule ' + rid + ')' if rid else ''}: {_msg(e)}")
        return None
    except TypeError as exc:
        problems.append(f"{path}: {exc}")
        return None
    if spec.family != family_id:
        problems.append(f"{path}: family: {spec.family!r} must be the file's name, {family_id!r}")
    fam = Family(name=family_id, spec=spec, rules=list(spec.rules), conditions={}, guards={}, cases={})
    for r in spec.rules:
        try:
            if r.when is not None:
                fam.conditions[r.id] = parse_condition(r.when, f"{r.id}.when")
            if r.applies_when is not None:
                fam.guards[r.id] = parse_condition(r.applies_when, f"{r.id}.applies_when")
            if r.cases:
                fam.cases[r.id] = [(parse_condition(c.when, f"{r.id}.cases[{j}].when"), c.value)
                                   for j, c in enumerate(r.cases)]
        except ValueError as exc:
            problems.append(f"{path}: {exc}")
    return fam


def _bring_included_rules(folder: Path, families: dict[str, Family], problems: list[str]) -> None:
    """Included families bring their gate rules (not amounts or attributes) into the including family."""
    for fam in families.values():
        for inc in fam.spec.includes:
            src = families.get(inc)
            if src is None:
                problems.append(f"{folder}/{fam.name}: includes unknown family {inc!r}{did_you_mean(inc, families)}")
                continue
            brought = [r for r in src.rules if r.kind in ("applicability", "exclusion", "condition")]
            fam.rules = brought + fam.rules
            for r in brought:
                fam.included_from[r.id] = inc
                if r.id in src.conditions:
                    fam.conditions[r.id] = src.conditions[r.id]
                if r.id in src.guards:
                    fam.guards[r.id] = src.guards[r.id]


def _load_not_modelled(nm_path: Path, problems: list[str]) -> list[RuleRecord]:
    not_modelled: list[RuleRecord] = []
    try:
        for i, item in enumerate((load_yaml(nm_path) or {}).get("not_modelled", [])):
            try:
                rec = RuleRecord(**item)
                if rec.kind != "not_modelled":
                    problems.append(f"{nm_path}: not_modelled[{i}]: kind must be not_modelled")
                not_modelled.append(rec)
            except (ValidationError, TypeError) as exc:
                problems.append(f"{nm_path}: not_modelled[{i}]: {exc}")
    except YamlFileError as exc:
        problems.append(str(exc))
    return not_modelled


def _rule_id_at(raw: Any, loc: tuple) -> Optional[str]:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return raw["rules"][loc[1]].get("id")
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
    return None


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


NUMERIC_TYPES = ("money", "int", "decimal", "ratio", "year", "date")
PARAM_FOR_FACT = {"money": ("money",), "ratio": ("ratio",), "int": ("count",), "year": ("count",),
                  "decimal": ("count", "ratio"), "date": ("annual_date",)}


def cross_check(book: Rulebook, policy: Policy) -> list[str]:
    """Every reference resolves and every comparison is well typed."""
    problems: list[str] = []
    for d_id, cond in book.definition_conditions.items():
        problems += _condition_problems(book, policy, cond, f"rules/definitions.yaml {d_id}")
    for r in book.not_modelled:
        clause = policy.clauses.get(r.clause)
        if clause is None:
            problems.append(f"rules/not_modelled.yaml {r.id}: cites unknown clause {r.clause!r}"
                            f"{did_you_mean(r.clause, policy.clauses)}")
        elif r.text not in clause.text:
            problems.append(f"rules/not_modelled.yaml {r.id}: text is not a verbatim part of clause {r.clause}")
    seen_ids: dict[str, str] = {}
    for fam in book.families.values():
        problems += _family_problems(book, policy, fam, seen_ids)
    return problems


def _condition_problems(book: Rulebook, policy: Policy, cond: Condition, where: str, stack: tuple = ()) -> list[str]:
    problems: list[str] = []
    for node in iter_nodes(cond):
        if isinstance(node, Ref):
            if node.ref not in book.definition_conditions:
                problems.append(f"{where}: unknown definition {node.ref!r}{did_you_mean(node.ref, book.definitions)}")
            elif node.ref in stack:
                problems.append(f"{where}: definition {node.ref!r} refers to itself")
            else:
                problems += _condition_problems(book, policy, book.definition_conditions[node.ref], where,
                                                stack + (node.ref,))
        elif isinstance(node, (Compare, Presence)):
            spec = book.facts.get(node.fact)
            if spec is None:
                problems.append(f"{where}: unknown fact {node.fact!r}{did_you_mean(node.fact, book.facts)}")
                continue
            if isinstance(node, Compare):
                problems.extend(f"{where}: {p}" for p in _compare_problems(node, spec, policy))
        elif isinstance(node, ParamTest):
            param = policy.parameters.get(node.param)
            if param is None:
                problems.append(f"{where}: unknown parameter {node.param!r}{did_you_mean(node.param, policy.parameters)}")
            elif param.type not in ("bool", "enum"):
                problems.append(f"{where}: a parameter test needs a bool or enum parameter, {node.param!r} is {param.type}")
            elif param.type == "enum" and node.value not in (param.choices or ()):
                problems.append(f"{where}: {node.value!r} is not a choice of {node.param!r} ({', '.join(param.choices)})")
    return problems


def _family_problems(book: Rulebook, policy: Policy, fam: Family, seen_ids: dict[str, str]) -> list[str]:
    problems: list[str] = []
    spec = fam.spec
    where_f = f"rules/{fam.name}"
    expected = OUTCOMES[spec.decision]
    if set(spec.outcomes) != expected:
        problems.append(f"{where_f}: outcomes must name exactly {sorted(expected)}")
    if spec.conclusion.clause not in policy.clauses:
        problems.append(f"{where_f}: conclusion cites unknown clause {spec.conclusion.clause!r}")
    elif spec.conclusion.text not in policy.clauses[spec.conclusion.clause].text:
        problems.append(f"{where_f}: conclusion text is not a verbatim part of clause {spec.conclusion.clause}")
    if spec.amount and spec.amount.clause not in policy.clauses:
        problems.append(f"{where_f}: amount cites unknown clause {spec.amount.clause!r}")
    for r in fam.rules:
        if fam.included_from.get(r.id):
            continue
        where = f"{where_f} rule {r.id}"
        if r.id in seen_ids:
            problems.append(f"{where}: duplicate rule id (also in {seen_ids[r.id]})")
        seen_ids[r.id] = fam.name
        problems += _rule_problems(book, policy, fam, r, where)
    if spec.beneficiary and not any(r.kind == "classification" and r.attribute == spec.beneficiary for r in fam.rules):
        problems.append(f"{where_f}: beneficiary attribute {spec.beneficiary!r} is set by no classification rule")
    return problems


def _rule_problems(book: Rulebook, policy: Policy, fam: Family, r: RuleRecord, where: str) -> list[str]:
    problems: list[str] = []
    spec = fam.spec
    prefix = fam.name + "."
    if not r.id.startswith(prefix):
        problems.append(f"{where}: rule ids of this family start with {prefix!r}")
    clause = policy.clauses.get(r.clause)
    if clause is None:
        problems.append(f"{where}: cites unknown clause {r.clause!r}{did_you_mean(r.clause, policy.clauses)}")
    elif r.text not in clause.text:
        problems.append(f"{where}: text is not a verbatim part of clause {r.clause}")
    if r.interpretation and r.interpretation not in policy.interpretations:
        problems.append(f"{where}: unknown interpretation {r.interpretation!r}")
    if r.kind == "exclusion" and spec.decision == "gate":
        allowed = {"not_applicable", spec.outcomes.get("negative")}
        if r.outcome not in allowed:
            problems.append(f"{where}: an exclusion concludes one of {sorted(allowed)}, not {r.outcome!r}")
    for other in r.overrides:
        target = next((x for x in fam.rules if x.id == other), None)
        if r.kind != "exclusion" or target is None or target.kind != "exclusion":
            problems.append(f"{where}: overrides names {other!r}; only an exclusion overrides another "
                            "exclusion of the same family")
    if r.kind == "indicator" and spec.decision != "indicators":
        problems.append(f"{where}: indicators belong to an indicators family")
    if r.kind == "amount":
        param = policy.parameters.get(r.amount["param"])
        if param is None:
            problems.append(f"{where}: unknown parameter {r.amount['param']!r}{did_you_mean(r.amount['param'], policy.parameters)}")
        elif param.type != "money":
            problems.append(f"{where}: amount parameter {r.amount['param']!r} is not money")
        if not spec.amount:
            problems.append(f"{where}: the family has amount rules but no amount policy")
    for cond in ([fam.conditions[r.id]] if r.id in fam.conditions else []) + \
                ([fam.guards[r.id]] if r.id in fam.guards else []) + [c for c, _ in fam.cases.get(r.id, [])]:
        problems += _condition_problems(book, policy, cond, where)
    for _, value in fam.cases.get(r.id, []):
        if isinstance(value, dict) and not (set(value) <= {"fact", "context"} and len(value) == 1):
            problems.append(f"{where}: a case value is a word, {{fact: id}} or {{context: development_zone}}")
        elif isinstance(value, dict) and "fact" in value and value["fact"] not in book.facts:
            problems.append(f"{where}: case value names unknown fact {value['fact']!r}")
    return problems


def _compare_problems(node: Compare, spec: FactSpec, policy: Policy) -> list[str]:
    out = []
    if node.op in ("<", "<=", ">", ">=") and spec.type not in NUMERIC_TYPES:
        out.append(f"{node.op} needs a numeric or date fact; {node.fact} is {spec.type}")
    if node.op in ("in", "not_in") and spec.type not in ("text", "enum"):
        out.append(f"{node.op} needs a text fact; {node.fact} is {spec.type}")
    if (node.op == "has_any") != (spec.type == "tags"):
        out.append(f"has_any tests a tags fact (and a tags fact is tested with has_any); {node.fact} is {spec.type}")
    if node.value is not None:
        if spec.type in NUMERIC_TYPES:
            out.append(f"{node.fact}: figures are parameters, not literal values in a rule")
        elif spec.type == "bool" and not isinstance(node.value, bool):
            out.append(f"{node.fact} is yes/no: compare with true or false")
        elif spec.type == "enum":
            vals = node.value if isinstance(node.value, list) else [node.value]
            bad = [v for v in vals if v not in (spec.values or [])]
            if bad:
                out.append(f"{bad[0]!r} is not a value of {node.fact} ({', '.join(spec.values or [])})")
        if node.op in ("in", "not_in", "has_any") and not isinstance(node.value, list):
            out.append(f"{node.op} needs a list value")
    if node.param is not None:
        for pname in (node.param, node.scale):
            if pname and pname not in policy.parameters:
                out.append(f"unknown parameter {pname!r}{did_you_mean(pname, policy.parameters)}")
        param = policy.parameters.get(node.param)
        if param is not None:
            if node.op in ("in", "not_in", "has_any"):
                if param.type != "text_list":
                    out.append(f"{node.op} needs a text_list parameter; {node.param} is {param.type}")
            elif param.type not in PARAM_FOR_FACT.get(spec.type, ()):
                out.append(f"{node.fact} ({spec.type}) cannot be compared with {node.param} ({param.type})")
        if node.scale and node.scale in policy.parameters and policy.parameters[node.scale].type != "ratio":
            out.append(f"scale {node.scale!r} must be a ratio parameter")
    if node.context == "as_of_year" and spec.type not in ("year", "int"):
        out.append(f"as_of_year compares with a year fact; {node.fact} is {spec.type}")
    if node.context == "as_of_date" and spec.type != "date":
        out.append(f"as_of_date compares with a date fact; {node.fact} is {spec.type}")
    return out

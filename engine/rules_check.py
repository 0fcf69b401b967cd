"""The cross-check of a loaded Rulebook against its policy: every reference (facts, parameters, clauses,
definitions, interpretations) resolves, every comparison is well typed, every rule id starts with its
family's id."""
from __future__ import annotations

from engine.policy import Policy, did_you_mean
from engine.rules_model import (Compare, Condition, FactSpec, Family, ParamTest, Presence, Ref, RuleRecord, Rulebook,
                                iter_nodes)

OUTCOMES = {
    "gate": {"positive", "negative"},
    "indicators": {"none"},
}


NUMERIC_TYPES = ("money", "int", "decimal", "ratio", "year", "date")
PARAM_FOR_FACT = {"money": ("money",), "ratio": ("ratio",), "int": ("count",), "year": ("count",),
                  "decimal": ("count", "ratio"), "date": ("annual_date", "date")}


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
        if fam.provided:        # a family the policy does not provide needs none of its clauses or figures
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
    if r.kind == "exclusion" and spec.decision == "indicators":
        problems.append(f"{where}: an indicators family has no exclusions (its decision reads indicators and "
                        "applicability only); state where it does not apply as an applicability rule")
    if r.kind == "indicator" and spec.decision != "indicators":
        problems.append(f"{where}: indicators belong to an indicators family")
    if r.kind == "amount":
        name = r.amount_param
        param = policy.parameters.get(name)
        want = "schedule" if r.band_fact else "money"
        if param is None:
            problems.append(f"{where}: unknown parameter {name!r}{did_you_mean(name, policy.parameters)}")
        elif param.type != want:
            problems.append(f"{where}: amount parameter {name!r} is {param.type}, expected {want}")
        if r.band_fact:
            problems += _band_fact_problems(book, r.band_fact, where)
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


def _band_fact_problems(book: Rulebook, fact: str, where: str) -> list[str]:
    """A schedule bands a numeric fact (its edges are compared with it)."""
    spec = book.facts.get(fact)
    if spec is None:
        return [f"{where}: the schedule bands unknown fact {fact!r}{did_you_mean(fact, book.facts)}"]
    if spec.type not in ("money", "int", "decimal", "ratio", "year"):
        return [f"{where}: a schedule bands a number; {fact} is {spec.type}"]
    return []

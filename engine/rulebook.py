"""Loading a rules folder into a Rulebook: the facts schema (facts.yaml), the shared definitions, the
decision families listed in families.yaml (each <family id>.yaml) and the provisions not modelled; every
problem is reported at once with its file and rule id, after the cross-check (engine/rules_check.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from engine.errors import PolicyDataError, validation_messages
from engine.policy import Policy, did_you_mean
from engine.rule_binding import bind_family, bind_not_modelled
from engine.rules_check import cross_check
from engine.rules_model import (Condition, Definition, FactSpec, Family, FamilyFile, RuleRecord, Rulebook,
                                parse_condition)
from engine.vocabulary import VOCABULARY_FILE, vocabulary_problems
from engine.yamlio import YamlFileError, load_yaml

FAMILIES_FILE = "families.yaml"     # the family ids, in output order; each family is <id>.yaml
def load_facts(folder: Path) -> dict[str, FactSpec]:
    raw = load_yaml(folder / "facts.yaml") or {}
    problems, facts = [], {}
    for section in ("columns", "derived"):
        for i, item in enumerate(raw.get(section, []) or []):
            try:
                spec = FactSpec(**item)
                facts[spec.id] = spec
            except ValidationError as exc:
                problems += validation_messages(exc, str(folder / "facts.yaml"), f"{section}[{i}]")
            except TypeError as exc:
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
    problems += vocabulary_problems(policy.folder / VOCABULARY_FILE, policy.column_vocabulary,
                                    [f for f in facts.values() if not f.fn])
    def_path = folder / "definitions.yaml"
    definitions, definition_conditions = _load_definitions(def_path, problems)
    files = [folder / "facts.yaml", def_path, folder / FAMILIES_FILE]
    families: dict[str, Family] = {}
    for family_id in family_ids(folder, problems):
        path = folder / f"{family_id}.yaml"
        files.append(path)
        fam = _load_family(path, family_id, problems)
        if fam is not None:
            bind_family(fam, policy, problems)
            families[family_id] = fam
    _bring_included_rules(folder, families, problems)
    nm_path = folder / "not_modelled.yaml"
    if nm_path.exists():
        files.append(nm_path)
    not_modelled = bind_not_modelled(_load_not_modelled(nm_path, problems), policy) if nm_path.exists() else []
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
            except ValidationError as exc:
                problems += validation_messages(exc, str(def_path), f"definitions[{i}]")
            except (ValueError, TypeError) as exc:
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
        problems += validation_messages(exc, str(path), note=lambda loc: _rule_note(raw, loc))
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
        for inc in (fam.spec.includes if fam.provided else ()):
            src = families.get(inc)
            if src is None:
                problems.append(f"{folder}/{fam.name}: includes unknown family {inc!r}{did_you_mean(inc, families)}")
                continue
            if not src.provided:
                problems.append(f"{folder}/{fam.name}: includes family {inc!r}, which this policy does not "
                                "provide (bind its provisions, or do not bind this family's)")
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
            except ValidationError as exc:
                problems += validation_messages(exc, str(nm_path), f"not_modelled[{i}]")
            except TypeError as exc:
                problems.append(f"{nm_path}: not_modelled[{i}]: {exc}")
    except YamlFileError as exc:
        problems.append(str(exc))
    return not_modelled


def _rule_note(raw: Any, loc: tuple) -> str:
    rid = _rule_id_at(raw, loc)
    return f" (rule {rid})" if rid else ""


def _rule_id_at(raw: Any, loc: tuple) -> Optional[str]:
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return raw["rules"][loc[1]].get("id")
        except (KeyError, IndexError, AttributeError, TypeError):
            return None
    return None

"""Audit records: a replayable, self-describing JSON record of one decision, and its verification.

A record holds everything needed to recompute the decision and to notice when that is no longer
possible: the enterprise's input facts (exactly as evaluated, money in yuan as decimal strings), the
as-of date, the policy named by id and folder with content hashes of its data and of the rule files,
per-parameter / per-clause / per-rule digests (so a mismatch can be *named*), the rules that fired,
every condition with its values, the parameters with provenance, the arithmetic of the amount and the
engine version. `decision_id` is the sha256 of the record's canonical JSON without the id itself:
the same inputs always give the same id (no clock, no absolute paths of the project).

`verify_record` reports one of:
  ok         the id matches the content, the policy data and rules match their hashes, and the
             decision recomputed from the record's own facts is identical;
  changed    the policy data, the rules or the engine are no longer what the record names, with what
             differs (parameter, clause, rule, file) and how the recomputed decision moved;
  tampered   the content no longer matches its id, or (id recomputed after an edit) its results do not
             follow from its own facts under the unchanged policy, rules and engine;
  unverifiable  no installed policy has the id the record names (verify with --policy to choose one);
  unreadable not a record this version can read (or larger or deeper than engine/limits.py allows).
A record is always checked against the *installed* policy with the id it names (or the one --policy
gives), never against the folder it names: a record made under an edited copy says so (changed).
The id is a content hash, not a signature: it detects edits, it does not say who made the record.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from engine import __version__
from engine.awards import PAYING_TYPES
from engine.decisions import Decision, EnterpriseResult
from engine.errors import EngineError, ScaleupError, validation_messages
from engine.facts import Enterprise
from engine.output import decision_json, json_value
from engine.awards.record_file import RecordUnreadable, clipped, installed_policy_ref, read_record
from engine.limits import clip
from engine.policy import Policy, available_policies, bundle_root, content_hash, resolve_policy_folder
from engine.rules_model import Rulebook

SCHEMA_VERSION = "1"
RECORD_KIND = "scaleup-decision-audit"
POLICY_FILES = ("policy.yaml", "clauses.yaml", "parameters.yaml", "targets.yaml", "interpretations.yaml")
STATUSES = ("ok", "changed", "tampered", "unverifiable", "unreadable")
# What `ok` requires to be identical between the record and the recomputed decision.
COMPARED = ("outcome", "rule_id", "clause_id", "amount_yuan", "beneficiary", "attributes", "triggered_codes",
            "missing_facts", "conditions", "rules", "amount")


# ------------------------------------------------------------------------------------ canonical form
def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8; only dict/list/str/int/bool/None (money is a decimal string)."""
    _check_plain(obj, "record")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _check_plain(obj: Any, where: str) -> None:
    if obj is None or isinstance(obj, (str, bool, int)):
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise EngineError(f"{where}: non-text key {k!r} in an audit record")
            _check_plain(v, f"{where}.{k}")
        return
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            _check_plain(v, f"{where}[{i}]")
        return
    # A float (or a Decimal that slipped through) would make the id depend on formatting.
    raise EngineError(f"{where}: {type(obj).__name__} value {obj!r} in an audit record; expected text or a whole number")


def digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()


def decision_id_of(record: dict) -> str:
    return digest({k: v for k, v in record.items() if k != "decision_id"})


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _display_path(path: Path) -> str:
    """Inside the bundled policies and rules: relative (so ids do not depend on where the project is
    checked out or installed)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(bundle_root()).as_posix()
    except ValueError:
        return resolved.as_posix()


# ------------------------------------------------------------------------------------ fingerprints
def policy_files(policy: Policy) -> dict[str, Path]:
    """The files the engine reads for this policy: the instrument's folder and its jurisdiction."""
    files: dict[str, Path] = {}
    for name in (*POLICY_FILES, policy.meta.source_file):
        path = policy.folder / name
        if path.is_file():
            files[f"policy/{name}"] = path
    jdir = policy.folder.parent / "jurisdictions" / policy.meta.jurisdiction
    for name in ("jurisdiction.yaml", policy.jurisdiction.townships_file):
        path = jdir / name
        if path.is_file():
            files[f"jurisdiction/{name}"] = path
    return files


def rule_files(book: Rulebook) -> dict[str, Path]:
    return {f"rules/{p.name}": p for p in book.files if p.is_file()}


@dataclass
class Fingerprint:
    """Hashes of one policy + rulebook, computed once per run (records of a batch share them)."""

    policy_section: dict
    rules_hash: str
    rules_files: dict[str, str]
    definition_digests: dict[str, str]


def fingerprint(policy: Policy, book: Rulebook) -> Fingerprint:
    pfiles = policy_files(policy)
    rfiles = rule_files(book)
    section = {
        "id": policy.id,
        "document_number": policy.meta.document_number,
        "title_zh": policy.meta.title_zh,
        "folder": _display_path(policy.folder),
        "data_hash": content_hash(list(pfiles.values())),
        "files": {name: _file_digest(p) for name, p in sorted(pfiles.items())},
        "parameter_digests": {n: digest(p.model_dump(mode="json")) for n, p in sorted(policy.parameters.items())},
        "clause_digests": {c: digest(cl.model_dump(mode="json")) for c, cl in sorted(policy.clauses.items())},
        "interpretation_digests": {i: digest(it.model_dump(mode="json"))
                                   for i, it in sorted(policy.interpretations.items())},
    }
    return Fingerprint(policy_section=section, rules_hash=content_hash(list(rfiles.values())),
                       rules_files={n: _file_digest(p) for n, p in sorted(rfiles.items())},
                       definition_digests={d: digest(df.model_dump(mode="json"))
                                           for d, df in sorted(book.definitions.items())})


# ------------------------------------------------------------------------------------ building
def enterprise_json(enterprise: Enterprise) -> dict:
    """The input facts exactly as evaluated (money in yuan as decimal strings, dates ISO)."""
    return enterprise.model_dump(mode="json")


def decision_section(decision: Decision, result: EnterpriseResult, book: Rulebook) -> dict:
    """The decision as recorded: the output contract's fields (without the worded explanation; the
    parameters are recorded at the top level) plus the durable_rules rules that fired and the amount's
    arithmetic."""
    out = decision_json(decision, result, book, "zh")
    out.pop("explanation", None)
    out.pop("parameters", None)        # recorded at the top level, with labels and digests
    out.pop("amount_lines", None)      # recorded under "amount", with the arithmetic
    family = book.families[decision.type]
    out["engine_rules_fired"] = list(decision.fired)
    out["amount"] = amount_section(decision, family.spec)
    out["beneficiary"] = decision.beneficiary
    return out


def amount_section(decision: Decision, spec) -> Optional[dict]:
    """Candidates per role, the line chosen for each, and the sum; checked against the evaluator."""
    if not decision.amount_lines:
        return None
    lines = [{"rule_id": a.rule_id, "clause_id": a.clause, "role": getattr(a, "role", "base"),
              "parameter": a.param.name, "amount_yuan": json_value(a.amount, "money"),
              "provenance": a.param.provenance, "chosen": a.chosen} for a in decision.amount_lines]
    method = spec.amount.model_dump(mode="json", exclude={"clause", "interpretation"}) if spec.amount else {}
    steps = []
    for role in dict.fromkeys(line["role"] for line in lines):
        of_role = [line for line in lines if line["role"] == role]
        chosen = [line for line in of_role if line["chosen"]]
        steps.append({"step": role, "method": method.get(role), "candidates": [l["amount_yuan"] for l in of_role],
                      "chosen_rule_id": chosen[0]["rule_id"] if chosen else None,
                      "result_yuan": chosen[0]["amount_yuan"] if chosen else json_value(0, "money")})
    total = sum((a.amount for a in decision.amount_lines if a.chosen), start=0)
    if decision.amount_yuan is None or total != decision.amount_yuan:
        raise EngineError(f"{decision.type}: the chosen amount lines add up to {total}, "
                          f"the decision says {decision.amount_yuan}")
    steps.append({"step": "total", "method": "sum", "candidates": [s["result_yuan"] for s in steps],
                  "chosen_rule_id": None, "result_yuan": json_value(total, "money")})
    return {"clause_id": spec.amount.clause if spec.amount else decision.clause_id,
            "interpretation": spec.amount.interpretation if spec.amount else None,
            "method": method, "lines": lines, "steps": steps, "total_yuan": json_value(total, "money")}


def parameters_section(decision: Decision) -> list[dict]:
    return [{"name": p.name, "label_zh": p.parameter.label_zh, "label_en": p.parameter.label_en,
             "type": p.parameter.type, "unit": p.parameter.unit, "value": json_value(p.value, p.parameter.type),
             "provenance": p.provenance, "clause": p.clause, "reference": p.reference, "note": p.note,
             "since": p.since.isoformat(), **p.decided_by()} for p in decision.params.values()]


def facts_used(decision: Decision, result: EnterpriseResult, book: Rulebook) -> dict:
    """Every fact a condition of this decision read, input or derived, with its value."""
    used = {c.fact for f in decision.findings for c in f.conditions if c.fact}
    return {fact: json_value(result.facts.get(fact), book.facts[fact].type if fact in book.facts else None)
            for fact in sorted(used)}


def build_record(result: EnterpriseResult, decision: Decision, enterprise: Enterprise, policy: Policy,
                 book: Rulebook, *, source: Optional[dict] = None, fp: Optional[Fingerprint] = None) -> dict:
    """The audit record of one decision, with its decision_id."""
    fp = fp or fingerprint(policy, book)
    family = book.families[decision.type]
    record = {
        "schema_version": SCHEMA_VERSION,
        "kind": RECORD_KIND,
        "engine": {"name": "scaleup", "version": __version__},
        "as_of": result.as_of,
        "policy": fp.policy_section,
        "rules": {
            "folder": _display_path(book.folder),
            "hash": fp.rules_hash,
            "files": fp.rules_files,
            "family": decision.type,
            "family_digest": digest(family.spec.model_dump(mode="json", exclude={"rules"})),
            "rule_digests": {r.id: digest(r.model_dump(mode="json")) for r in family.rules},
            "definition_digests": fp.definition_digests,
        },
        "input": {"source": source, "enterprise": enterprise_json(enterprise)},
        "facts_used": facts_used(decision, result, book),
        "decision": decision_section(decision, result, book),
        "parameters": parameters_section(decision),
    }
    record["decision_id"] = decision_id_of(record)
    return record


def gets_audit_record(decision: Decision, every_decision: bool = False) -> bool:
    """Which decisions get an audit record: every award that pays money (an enterprise or town award
    awarded), or every decision when asked for all of them. The award run and `audit` both ask here."""
    return every_decision or (decision.type in PAYING_TYPES and decision.outcome == "awarded")


def has_review_sheet(decision: Decision) -> bool:
    """Only decisions that pay money have a review sheet (审核表)."""
    return decision.type in PAYING_TYPES


def record_file_name(record: dict) -> str:
    ent = record["input"]["enterprise"]["enterprise_id"]
    return f"{ent}-{record['decision']['type']}-{record['as_of']}.json"


def write_record(record: dict, out_dir: Path, guard=None) -> Path:
    """The record as <enterprise_id>-<type>-<as_of>.json in out_dir (created if missing), written whole
    or not at all; `guard` (an OutputGuard) refuses a name that is one of the command's inputs."""
    from engine.errors import OutputFileError
    from engine.fileguard import write_text
    from engine.tabular import safe_output_path
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(f"{out_dir}: cannot create the folder ({exc.strerror or exc})") from None
    path = safe_output_path(out_dir, record_file_name(record))
    write_text(path, json.dumps(record, ensure_ascii=False, indent=2) + "\n", guard)
    return path


# ------------------------------------------------------------------------------------ verifying
@dataclass
class Difference:
    """One thing that is not as the record says. kind: id | not_canonical | policy_id | file | parameter | parameter_other |
    clause | interpretation | rule | family | definition | policy | engine | facts | result."""

    kind: str
    name: str
    old: Any = None
    new: Any = None
    field: Optional[str] = None


@dataclass
class Verification:
    path: str
    status: str
    decision_id: Optional[str] = None
    computed_id: Optional[str] = None
    reason: Optional[str] = None          # tampered: why; unreadable: what is wrong
    differences: list[Difference] = field(default_factory=list)
    notes: list[Difference] = field(default_factory=list)    # informational (e.g. a newer engine, same result)
    same_result: Optional[bool] = None    # the recomputed decision equals the recorded one (None: not recomputed)

    def as_json(self) -> dict:
        return {"path": self.path, "status": self.status, "decision_id": self.decision_id,
                "computed_id": self.computed_id, "reason": self.reason,
                "same_result": self.same_result,
                "differences": [vars(d) for d in self.differences], "notes": [vars(d) for d in self.notes]}


class Verifier:
    """Verifies records, loading each policy/rules/evaluator once. `policy` / `rules_dir` override
    what the records name (a reviewer checking records against a copy being edited)."""

    def __init__(self, policy: Optional[str] = None, rules_dir: Optional[Path] = None):
        self.policy_override, self.rules_dir = policy, rules_dir
        self._inputs: dict[str, tuple] = {}
        self._evaluators: dict[tuple, Any] = {}
        self._results: dict[tuple, EnterpriseResult] = {}

    def _load(self, policy_ref: str):
        from engine.evaluate import load_engine_inputs
        if policy_ref not in self._inputs:
            folder = resolve_policy_folder(policy_ref)
            policy, book = load_engine_inputs(str(folder), self.rules_dir)
            self._inputs[policy_ref] = (policy, book, fingerprint(policy, book))
        return self._inputs[policy_ref]

    def _evaluator(self, policy_ref: str, as_of: date):
        from engine.evaluate import Evaluator
        key = (policy_ref, as_of)
        if key not in self._evaluators:
            policy, book, _ = self._load(policy_ref)
            self._evaluators[key] = Evaluator(policy, book, as_of)
        return self._evaluators[key]

    def _evaluate(self, policy_ref: str, as_of: str, facts: dict) -> EnterpriseResult:
        """One evaluation per enterprise, policy and date: the records of one enterprise share it."""
        key = (policy_ref, as_of, digest(facts))
        if key not in self._results:
            enterprise = Enterprise.model_validate(facts)
            self._results[key] = self._evaluator(policy_ref, date.fromisoformat(as_of)).evaluate(enterprise)
        return self._results[key]

    def verify_file(self, path: Path) -> Verification:
        """One record file, read with bounded size and depth; whatever is wrong with it is its own status."""
        try:
            record = read_record(Path(path))
        except RecordUnreadable as exc:
            return Verification(str(path), "unreadable", reason=str(exc))
        return self.verify(record, str(path))

    def verify(self, record: Any, path: str = "<record>") -> Verification:
        try:
            v = self._verify(record, path)
        except (ArithmeticError, RecursionError, ValueError, TypeError, KeyError, AttributeError,
                ValidationError, ScaleupError, EngineError) as exc:
            # A crafted record must not stop the verification of the others: it gets its own status.
            decision_id = record.get("decision_id") if isinstance(record, dict) else None
            v = Verification(path, "unreadable", decision_id=decision_id if isinstance(decision_id, str) else None,
                             reason=f"cannot be recomputed ({exc.__class__.__name__}: {_one_line(exc)})")
        for d in (*v.differences, *v.notes):
            d.old, d.new = clipped(d.old), clipped(d.new)
        v.reason = clipped(v.reason)
        return v

    def _verify(self, record: Any, path: str) -> Verification:
        problem = _kind_problem(record)
        if problem:
            return Verification(path, "unreadable", reason=problem,
                                decision_id=record.get("decision_id") if isinstance(record, dict) else None)
        v = Verification(path, "ok", decision_id=record["decision_id"])
        try:
            v.computed_id = decision_id_of(record)
        except EngineError as exc:      # a float or the like: never written by build_record
            v.differences.append(Difference("not_canonical", "record", None, _one_line(exc)))
            return _conclude(v, False, inputs_changed=False, result_changed=False)
        id_ok = v.computed_id == v.decision_id
        if not id_ok:
            v.differences.append(Difference("id", "decision_id", v.decision_id, v.computed_id))
        problem = _shape_problem(record)
        if problem:
            if not id_ok:
                return _conclude(v, False, inputs_changed=False, result_changed=False)
            return Verification(path, "unreadable", decision_id=v.decision_id, reason=problem)

        policy_ref = self.policy_override or installed_policy_ref(record)
        if policy_ref is None:
            if not id_ok:
                return _conclude(v, False, inputs_changed=False, result_changed=False)
            return Verification(path, "unverifiable", decision_id=v.decision_id,
                                reason=f"no installed policy has the id {clip(record['policy'].get('id'))!r} "
                                       f"(installed: {', '.join(available_policies())}); give one with --policy")
        try:
            policy, book, fp = self._load(policy_ref)
        except ScaleupError as exc:
            v.differences.append(Difference("policy", policy_ref, None, str(exc).splitlines()[0]))
            return _conclude(v, id_ok, inputs_changed=True, result_changed=False)
        try:
            inputs = compare_inputs(record, policy, book, fp)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            return Verification(path, "unreadable", decision_id=v.decision_id,
                                reason=f"malformed record ({exc.__class__.__name__}: {_one_line(exc)})")
        if self.policy_override is None and record["policy"].get("folder") != fp.policy_section["folder"]:
            # Made under another folder (an edited copy, say) that calls itself by the official id.
            inputs.append(Difference("policy_folder", "folder", record["policy"].get("folder"),
                                     fp.policy_section["folder"]))
        if record["engine"].get("version") != __version__:
            inputs.append(Difference("engine", "version", record["engine"].get("version"), __version__))

        result_diffs = []
        try:
            if record["decision"]["type"] not in book.families:
                raise ValueError(f"unknown decision type {clip(record['decision']['type'])!r}; expected one of "
                                 f"{', '.join(book.families)}")
            result = self._evaluate(policy_ref, record["as_of"], record["input"]["enterprise"])
            decision = result.decision(record["decision"]["type"])
            again = decision_section(decision, result, book)
            result_diffs = compare_decisions(record["decision"], again)
            v.same_result = not result_diffs
        except (ValidationError, ValueError, ArithmeticError, ScaleupError, StopIteration) as exc:
            result_diffs.append(Difference("facts", "input", None, _one_line(exc) or exc.__class__.__name__))

        engine_changed = any(d.kind == "engine" for d in inputs)
        if engine_changed and not result_diffs and all(d.kind == "engine" for d in inputs) and id_ok:
            v.notes += inputs          # recorded by another engine version, same decision: ok, with a note
            inputs = []
        v.differences += inputs + result_diffs
        return _conclude(v, id_ok, inputs_changed=bool(inputs), result_changed=bool(result_diffs))


def _conclude(v: Verification, id_ok: bool, inputs_changed: bool, result_changed: bool) -> Verification:
    if not id_ok:
        v.status, v.reason = "tampered", "content_does_not_match_id"
    elif inputs_changed:
        v.status = "changed"
    elif result_changed:
        # Same policy, rules and engine, id consistent, yet a different result: the record was edited
        # and its id recomputed. Its results do not follow from its own facts.
        v.status, v.reason = "tampered", "result_does_not_follow_from_facts"
    else:
        v.status = "ok"
    return v


def _one_line(exc: Exception) -> str:
    text = "; ".join(validation_messages(exc)) if isinstance(exc, ValidationError) else str(exc)
    return " ".join(text.split())[:300]


def _kind_problem(record: Any) -> Optional[str]:
    if not isinstance(record, dict):
        return "not an audit record (expected a JSON object)"
    if record.get("kind") != RECORD_KIND:
        return f"not an audit record (kind is {record.get('kind')!r}, expected {RECORD_KIND!r})"
    if record.get("schema_version") != SCHEMA_VERSION:
        return f"schema_version {record.get('schema_version')!r} is not supported (this engine reads {SCHEMA_VERSION!r})"
    if not isinstance(record.get("decision_id"), str):
        return "field 'decision_id' is missing"
    return None


def _shape_problem(record: dict) -> Optional[str]:
    for key, kind in (("as_of", str), ("engine", dict), ("policy", dict), ("rules", dict),
                      ("input", dict), ("decision", dict), ("parameters", list)):
        if not isinstance(record.get(key), kind):
            return f"field {key!r} is missing or not a {kind.__name__}"
    if not isinstance(record["input"].get("enterprise"), dict) or not isinstance(record["decision"].get("type"), str):
        return "field 'input.enterprise' or 'decision.type' is missing"
    try:
        date.fromisoformat(record["as_of"])
    except ValueError:
        return f"as_of {record['as_of']!r} is not a date (YYYY-MM-DD)"
    return None


def _dict_diff(kind: str, old: Any, new: dict, skip: set = frozenset()) -> list[Difference]:
    old = old if isinstance(old, dict) else {}
    out = []
    for name in sorted(set(old) | set(new)):
        if name not in skip and old.get(name) != new.get(name):
            out.append(Difference(kind, name, "present" if name in old else None, "present" if name in new else None)
                       if name not in old or name not in new else Difference(kind, name, old[name], new[name]))
    return out


def compare_inputs(record: dict, policy: Policy, book: Rulebook, fp: Fingerprint) -> list[Difference]:
    """What differs between the policy data / rules the record names and the ones loaded now, by name."""
    diffs: list[Difference] = []
    rp, rr = record["policy"], record["rules"]
    now = fp.policy_section
    if rp.get("id") != policy.id:
        diffs.append(Difference("policy_id", "id", rp.get("id"), policy.id))
    if rp.get("data_hash") != now["data_hash"]:
        diffs += _dict_diff("file", rp.get("files"), now["files"])
    used = {p.get("name"): p for p in record["parameters"] if isinstance(p, dict)}
    as_of = date.fromisoformat(record["as_of"])
    for name, old in used.items():
        if name not in policy.parameters:
            diffs.append(Difference("parameter", name, old.get("value"), None, "removed"))
            continue
        hit = policy.parameters[name].in_force(as_of)
        if hit is None:
            diffs.append(Difference("parameter", name, old.get("value"), None, "not_in_force"))
            continue
        current = policy.param(name, as_of)
        new = {"value": json_value(current.value, current.parameter.type), "provenance": current.provenance,
               "clause": current.clause, "reference": current.reference, "note": current.note,
               "since": current.since.isoformat()}
        changed = [f for f in new if old.get(f) != new[f]]
        for f in changed:
            diffs.append(Difference("parameter", name, old.get(f), new[f], f))
        if not changed and rp.get("parameter_digests", {}).get(name) != now["parameter_digests"].get(name):
            diffs.append(Difference("parameter", name, None, None, "dated_values"))
    diffs += _dict_diff("parameter_other", rp.get("parameter_digests"), now["parameter_digests"], skip=set(used))
    diffs += _dict_diff("clause", rp.get("clause_digests"), now["clause_digests"])
    diffs += _dict_diff("interpretation", rp.get("interpretation_digests"), now["interpretation_digests"])
    if rr.get("hash") != fp.rules_hash:
        diffs += _dict_diff("file", rr.get("files"), fp.rules_files)
    family = book.families.get(rr.get("family", ""))
    if family is None:
        diffs.append(Difference("family", str(rr.get("family")), "present", None))
    else:
        if rr.get("family_digest") != digest(family.spec.model_dump(mode="json", exclude={"rules"})):
            diffs.append(Difference("family", family.name, rr.get("family_digest"), None))
        diffs += _dict_diff("rule", rr.get("rule_digests"),
                            {r.id: digest(r.model_dump(mode="json")) for r in family.rules})
    diffs += _dict_diff("definition", rr.get("definition_digests"), fp.definition_digests)
    # Digests are informative only where they differ; show them short.
    for d in diffs:
        if d.kind in ("file", "clause", "interpretation", "rule", "definition", "family", "parameter_other"):
            d.old, d.new = _short(d.old), _short(d.new)
    return diffs


def _short(value: Any) -> Any:
    return value[:12] if isinstance(value, str) and len(value) == 64 else value


def compare_decisions(old: dict, new: dict) -> list[Difference]:
    """The recorded decision against the recomputed one, field by field (conditions one by one)."""
    diffs = []
    for key in COMPARED:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "conditions" and isinstance(a, list) and isinstance(b, list):
            for i in range(max(len(a), len(b))):
                ca = a[i] if i < len(a) else None
                cb = b[i] if i < len(b) else None
                if ca != cb:
                    name = _condition_name(cb or ca)
                    diffs.append(Difference("result", f"conditions[{i}] {name}", _condition_brief(ca),
                                            _condition_brief(cb)))
        elif key == "amount" and isinstance(a, dict) and isinstance(b, dict):
            if a.get("total_yuan") != b.get("total_yuan"):
                diffs.append(Difference("result", "amount.total_yuan", a.get("total_yuan"), b.get("total_yuan")))
            if a.get("lines") != b.get("lines"):
                diffs.append(Difference("result", "amount.lines", _lines_brief(a.get("lines")),
                                        _lines_brief(b.get("lines"))))
            for sub in ("clause_id", "interpretation", "method", "steps"):
                if a.get(sub) != b.get(sub) and not (sub == "steps" and diffs):
                    diffs.append(Difference("result", f"amount.{sub}", _brief(a.get(sub)), _brief(b.get(sub))))
        elif key == "rules" and isinstance(a, list) and isinstance(b, list):
            sa = {r.get("rule_id"): r for r in a if isinstance(r, dict)}
            sb = {r.get("rule_id"): r for r in b if isinstance(r, dict)}
            for rid in list(dict.fromkeys([*sa, *sb])):
                ra, rb = sa.get(rid, {}), sb.get(rid, {})
                if ra.get("status") != rb.get("status"):
                    diffs.append(Difference("result", f"rule {rid}", ra.get("status"), rb.get("status"), "status"))
        else:
            diffs.append(Difference("result", key, _brief(a), _brief(b)))
    return diffs


def _condition_name(c: Any) -> str:
    if not isinstance(c, dict):
        return "?"
    return f"{c.get('rule_id')} {c.get('fact') or ','.join(c.get('threshold_parameters') or [])}".strip()


def _condition_brief(c: Any) -> Any:
    if not isinstance(c, dict):
        return None
    return f"{c.get('value')} {c.get('op')} {c.get('threshold')} met={c.get('met')}"


def _lines_brief(lines: Any) -> Any:
    if not isinstance(lines, list):
        return lines
    return ", ".join(f"{l.get('parameter')}={l.get('amount_yuan')}{'*' if l.get('chosen') else ''}"
                     for l in lines if isinstance(l, dict))


def _brief(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 200 else text[:197] + "..."
    return value


def render_verifications(results: list[Verification], lang: str) -> str:
    from engine.render import environment
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    text = environment().get_template(f"verify_{lang}.txt.j2").render(results=results, counts=counts)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"

"""One enterprise's decisions explained (`explain`), its award's review sheet (`review`), the audit
records of a register's awards (`audit`) and their verification (`verify`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Optional

from engine.commands.common import Reporter, evaluate_register, find_enterprise, policy_and_rules, source_of
from engine.decisions import EnterpriseResult
from engine.errors import UsageConflict
from engine.fileguard import OutputGuard
from engine.rules_model import Rulebook


@dataclass
class Explained:
    result: EnterpriseResult
    book: Rulebook
    types: tuple = ()                  # only these decision types (--type); all when empty
    brief: bool = False                # each decision in two lines (--brief)
    every_rule: bool = False           # every rule, those that do not bear on the outcome too (--all-rules)

    def json(self, lang: str) -> Any:
        from engine.output import result_json
        doc = result_json(self.result, self.book, lang, self.every_rule)
        doc["decisions"] = [d for d in doc["decisions"] if not self.types or d["type"] in self.types]
        return doc

    def text(self, lang: str) -> str:
        """A header, then every decision's explanation, each followed by a blank line, and how to list the
        rules left out, if any were; or, brief, each decision's conclusion, amount, clause and deciding
        condition."""
        from engine.render import environment, render_brief, render_explanations
        if self.brief:
            return render_brief(self.result, self.book, lang, list(self.types))
        from engine.deciding_rules import listing
        words = environment().get_template(f"_command_words_{lang}.j2").module
        texts = render_explanations(self.result, self.book, lang, self.types, self.every_rule)
        left_out = not self.every_rule and any(listing(d).left_out for d in self.result.decisions
                                               if not self.types or d.type in self.types)
        return "".join([words.explain_header(self.result) + "\n", *(text + "\n\n" for text in texts),
                        words.rules_left_out() + "\n" if left_out else ""])


def explain(enterprise_id: str, file: Path, *, as_of: date, policy_id: str, sheet: Optional[str],
            types: tuple = (), brief: bool = False, every_rule: bool = False) -> Explained:
    """Evaluate one enterprise of a register, with every finding kept for its explanation."""
    from engine.evaluate import Evaluator
    policy, book = policy_and_rules(policy_id)
    read = _read_quietly(file, as_of, policy, sheet)
    _, enterprise = find_enterprise(read, enterprise_id, file)
    if brief and every_rule:
        raise UsageConflict("--brief shows each decision in two lines; --all-rules lists every rule: choose one")
    return Explained(Evaluator(policy, book, as_of).evaluate(enterprise), book, tuple(types), brief, every_rule)


def _read_quietly(file: Path, as_of: date, policy, sheet: Optional[str]):
    """One enterprise is wanted: the other rows' problems are not its business (a rejected row of the
    wanted enterprise is reported by find_enterprise)."""
    from engine.register import read_register
    return read_register(file, as_of=as_of, policy=policy, sheet=sheet)


def review(enterprise_id: str, file: Path, *, as_of: date, policy_id: str, decision_type: str, lang: str,
           fmt: str, sheet: Optional[str], out: Optional[Path] = None) -> str:
    """The review sheet (审核表) of one enterprise's award, carrying its audit record's decision id.
    `out`, where the caller will write it, is checked first: never one of the inputs."""
    from engine.awards.audit import build_record
    from engine.awards.review import review_sheet
    OutputGuard([file], [out])
    from engine.evaluate import Evaluator
    policy, book = policy_and_rules(policy_id)
    read = _read_quietly(file, as_of, policy, sheet)
    row, enterprise = find_enterprise(read, enterprise_id, file)
    result = Evaluator(policy, book, as_of).evaluate(enterprise)
    decision = result.decision(decision_type)
    record = build_record(result, decision, enterprise, policy, book, source=source_of(file, row, sheet))
    return review_sheet(record, result, decision, policy, book, lang, fmt, headers=read.headers)


@dataclass
class AuditWritten:
    records: list[tuple[Path, str]]          # (file, decision id), in the order written
    rejected: int


def audit(file: Path, *, as_of: date, policy_id: str, out_dir: Path, every_decision: bool,
          sheets: Optional[str], lang: str, sheet: Optional[str], errors: Optional[Path],
          reporter: Reporter) -> AuditWritten:
    """An audit record (and, with `sheets`, a review sheet) for every decision that gets one."""
    from engine.awards.audit import build_record, fingerprint, gets_audit_record, has_review_sheet, write_record
    from engine.awards.review import review_sheet, sheet_file_name
    from engine.tabular import safe_output_path
    guard = OutputGuard([file], [errors])
    guard.check_folder(out_dir)
    policy, book = policy_and_rules(policy_id)
    evaluated = evaluate_register(file, as_of, policy, book, sheet, errors, reporter, lang)
    fp = fingerprint(policy, book)
    written = []
    for (row, enterprise), result in zip(evaluated.read.accepted, evaluated.results):
        for decision in result.decisions:
            if not gets_audit_record(decision, every_decision):
                continue
            record = build_record(result, decision, enterprise, policy, book,
                                  source=source_of(file, row, sheet), fp=fp)
            written.append((write_record(record, out_dir, guard), record["decision_id"]))
            if sheets and has_review_sheet(decision):
                text = review_sheet(record, result, decision, policy, book, lang, sheets,
                                    headers=evaluated.read.headers)
                guard.write_text(safe_output_path(out_dir, sheet_file_name(record, lang, sheets)), text)
    return AuditWritten(written, evaluated.rejected)


def verify(records: tuple[Path, ...], *, policy_id: Optional[str], rules_dir: Optional[Path]) -> list:
    """Each record recomputed from its own facts: ok, changed, tampered, unverifiable or unreadable."""
    from engine.awards.audit import Verifier
    from engine.errors import UnknownPolicyError
    from engine.policy import resolve_policy_folder
    if policy_id is not None:
        try:
            resolve_policy_folder(policy_id)
        except UnknownPolicyError as exc:
            raise UsageConflict(f"--policy: {exc} (a policy id, or a folder holding policy.yaml)") from None
    paths = record_files(records)
    if not paths:
        raise UsageConflict("no *.json records in " + ", ".join(map(str, records)))
    verifier = Verifier(policy=policy_id, rules_dir=rules_dir)
    return [verifier.verify_file(p) for p in paths]


def record_files(paths: tuple[Path, ...]) -> list[Path]:
    """A folder stands for the *.json records in it."""
    found: list[Path] = []
    for p in paths:
        found += sorted(p.glob("*.json")) if p.is_dir() else [p]
    return found

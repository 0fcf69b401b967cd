"""`policy list`, `policy show` and `policy check`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional


@dataclass
class Listed:
    """One bundled policy: its metadata, or the problems that stop it loading."""

    policy_id: str
    meta: object = None                # engine.policy.PolicyMeta
    problems: Optional[list[str]] = None


def list_policies() -> list[Listed]:
    from engine.errors import PolicyDataError
    from engine.policy import available_policies, load_policy, resolve_policy_folder
    listed = []
    for pid in available_policies():
        try:
            listed.append(Listed(pid, meta=load_policy(resolve_policy_folder(pid)).meta))
        except PolicyDataError as exc:
            listed.append(Listed(pid, problems=exc.problems))
    return listed


@dataclass
class Shown:
    policy: object                     # engine.policy.Policy
    as_of: Optional[date]
    book: object = None                # engine.rulebook.Rulebook: the rules every v2 id resolves in
    readings_only: bool = False        # --interpretations: the readings of the text and their alternatives

    @property
    def doc(self) -> dict:
        """The policy document (engine/policy_view.py), as JSON shows it and the web pages read it."""
        from engine.policy_view import policy_document
        return policy_document(self.policy, self.as_of, self.book)

    def json(self, lang: str) -> Any:
        doc = self.doc
        if self.readings_only:
            return {"id": doc["id"], "interpretations": doc["interpretations"]}
        return doc

    def text(self, lang: str) -> str:
        """Every value in the reader's words and units (engine/policy_view.py policy_text)."""
        from engine.policy_view import policy_document, policy_text
        from engine.render import environment
        if self.readings_only:
            doc = policy_document(self.policy, self.as_of, self.book)
            return environment().get_template(f"policy_readings_{lang}.txt.j2").render(doc=doc).rstrip()
        return policy_text(self.policy, self.as_of, lang)


def show_policy(policy_id: str, as_of: Optional[date], readings_only: bool = False) -> Shown:
    """Clauses (verbatim), parameters with provenance (in force on `as_of`, or every dated value),
    targets, interpretations and the rules, as one document."""
    from engine.evaluate import load_engine_inputs
    policy, book = load_engine_inputs(policy_id)
    return Shown(policy, as_of, book, readings_only)   # with its rules: what v2 decisions' ids resolve in


@dataclass
class Checked:
    policy_id: str
    findings: list                     # engine.analysis.policy_check.Finding

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def json(self, lang: str) -> Any:
        from engine.analysis.policy_check import findings_json
        return {"policy": self.policy_id, "errors": self.count("error"), "findings": findings_json(self.findings)}

    def text(self, lang: str) -> str:
        """One line per finding, errors first, then the totals, in the run's language
        (templates/policy_check_{lang}.txt.j2)."""
        from engine.analysis.policy_check import render_findings
        return render_findings(self.findings, self.policy_id, lang)


def check_policy(policy_id: str) -> Checked:
    from engine.analysis.policy_check import check_policy as static_checks
    from engine.policy import resolve_policy_folder
    return Checked(policy_id, static_checks(resolve_policy_folder(policy_id)))


@dataclass
class Scaffolded:
    folder: object                     # pathlib.Path
    files: list
    clauses: int
    params: int
    bindings: int

    def text(self, lang: str) -> str:
        from engine.render import environment
        return environment().get_template(f"_command_words_{lang}.j2").module.scaffolded(self).rstrip()


def new_policy(policy_id: str, source, district: Optional[str], out, like: Optional[str] = None) -> Scaffolded:
    """A policy folder proposed from the document's text (engine/scaffold.py); with `like`, the parameters
    the rules read and the document does not state are copied from that policy, marked to review."""
    from pathlib import Path
    from engine.errors import InputFileError, UsageConflict
    from engine.policy import bundle_root, policies_root
    from engine.analysis.policy_check import check_policy as static_checks
    from engine.policy import resolve_policy_folder
    from engine.scaffold import (REVIEW_FILE, copy_unstated, load_catalogue, load_parameter_names, load_readings,
                                 missing_parameters, review_text, scaffold, write_scaffold)
    # The id names a folder and is written into policy.yaml: a plain slug, never a path.
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", policy_id):
        raise UsageConflict(f"policy id {policy_id!r}: use lower-case letters, digits and hyphens "
                            "(e.g. shili-2024-3), not a path")
    folder = Path(out) if out is not None else Path(policy_id)
    if folder.exists():
        raise UsageConflict(f"{folder} already exists: give --out a new folder")
    try:
        text = Path(source).read_bytes().decode("utf-8")       # verbatim: no newline or BOM change
    except (UnicodeDecodeError, OSError) as exc:
        raise InputFileError(f"{source}: cannot read the document as UTF-8 text ({exc.__class__.__name__})") from None
    jurisdiction = None
    if district:
        known = sorted(p.name for p in (policies_root() / "jurisdictions").iterdir() if p.is_dir())
        jurisdiction = next((j for j in known if j == district or j.split("-")[0] == district), district)
    rules = bundle_root() / "rules"
    catalogue = load_catalogue(rules)
    sc = scaffold(text, catalogue, load_parameter_names(rules), load_readings(rules))
    like_folder = resolve_policy_folder(like) if like else None     # a policy that does not exist: refused first
    files = write_scaffold(folder, policy_id, text, sc, jurisdiction)
    # Each round may let policy check read further (the ledger's and the ranking's parameters once the
    # rules load): copy until it names nothing more that the other policy has.
    copied: set[str] = set()
    while like_folder is not None:
        names = [n for n in missing_parameters(static_checks(folder)) if n not in copied]
        done = copy_unstated(folder, like_folder, names)
        if not done:
            break
        copied.update(done)
    review = folder / REVIEW_FILE         # what is left, condensed: the proposal and policy check's findings
    review.write_text(review_text(policy_id, folder, sc, catalogue, static_checks(folder)), encoding="utf-8")
    files.append(review)
    return Scaffolded(folder, files, len(sc.clauses), len(sc.params), len(sc.bindings))

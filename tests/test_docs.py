"""The repository stands on its own: every provenance note, comment and document cites files inside
it (docs/domain.md, docs/decisions.md) or a real public source, and every cited anchor exists."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from engine.yamlio import load_yaml
from tests.conftest import ROOT

DOCS = {"docs/domain.md", "docs/decisions.md"}
# Research notes the project was started from, outside the repository: a reader of the repository
# cannot follow a citation of them.
OUTSIDE = re.compile(r"\.\./shared|/work/shared|shared/(?:policy-source|data)/|"
                     r"(?<![\w/])(?:design|domain|durable_rules|style)\.md")
CITATION = re.compile(r"docs/(domain|decisions)\.md#([A-Za-z0-9_-]+)")
RELATIVE_LINK = re.compile(r"\[[^\]]*\]\((domain|decisions)\.md(?:#([A-Za-z0-9_-]+))?\)")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    return [ROOT / name for name in out.decode().split("\0") if name]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
        return None          # binary (xlsx) or a file deleted in the working tree


def anchors(doc: str) -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', (ROOT / doc).read_text(encoding="utf-8")))


def test_no_tracked_file_outside_tests_cites_notes_outside_the_repository():
    offenders = []
    for path in tracked_files():
        rel = path.relative_to(ROOT).as_posix()
        text = text_of(path)
        if rel.startswith("tests/") or text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            # docs/domain.md and docs/decisions.md, and their links to each other, are the project's own
            own = RELATIVE_LINK.sub("", CITATION.sub("", line.replace("docs/domain.md", "").replace("docs/decisions.md", "")))
            if OUTSIDE.search(own):
                offenders.append(f"{rel}:{number}: {line.strip()[:120]}")
    assert not offenders, "cite docs/domain.md or docs/decisions.md instead:\n" + "\n".join(offenders)


def test_every_cited_anchor_of_the_projects_docs_exists():
    known = {doc: anchors(doc) for doc in DOCS}
    broken = []
    for path in tracked_files():
        rel = path.relative_to(ROOT).as_posix()
        text = text_of(path)
        if text is None:
            continue
        cited = [(f"docs/{d}.md", a) for d, a in CITATION.findall(text)]
        if rel.startswith("docs/"):
            cited += [(f"docs/{d}.md", a) for d, a in RELATIVE_LINK.findall(text) if a]
        broken += [f"{rel}: {doc}#{a}" for doc, a in cited if a not in known[doc]]
    assert not broken, "no such anchor:\n" + "\n".join(broken)


def test_the_citation_check_catches_what_it_is_for():
    # the pattern above must see the citations it forbids and pass the project's own
    for bad in ("see design.md, Decisions", "(domain.md §4.3)", "../shared/domain.md", "/work/shared/x.txt",
                "copied from shared/policy-source/notice.txt"):
        assert OUTSIDE.search(bad), bad
    for good in ("docs/domain.md#towns", "[domain.md](domain.md#towns)"):
        assert not OUTSIDE.search(RELATIVE_LINK.sub("", CITATION.sub("", good))), good


def test_every_interpretation_names_the_decision_it_follows():
    for folder in sorted((ROOT / "policies").glob("*/interpretations.yaml")):
        for item in load_yaml(folder)["interpretations"]:
            decided = item.get("decided_by", "")
            if "product owner" in decided:
                assert CITATION.search(decided), f"{folder}: {item['id']}: decided_by cites no decision"


# A file path the README or a document under docs/ names: a reader follows it, so it must exist.
# Placeholders (<family>), the authoring guide's example policy and generated outputs are not files.
REPO_PATH = re.compile(r"(?<![\w/.-])((?:engine|rules|policies|tests|bench|docs|examples|web)/[\w./-]+\.(?:py|md|yaml|csv|xlsx|json|j2|txt))")
NOT_FILES = re.compile(r"<|my-district|bench/results/")


def test_every_path_the_readme_and_the_docs_name_exists():
    missing = []
    for doc in ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]:
        for path in sorted(set(REPO_PATH.findall((ROOT / doc).read_text(encoding="utf-8")))):
            if not NOT_FILES.search(path) and not (ROOT / path).exists():
                missing.append(f"{doc}: {path}")
    assert not missing, "no such file:\n" + "\n".join(missing)


def test_every_if_missing_default_in_rules_is_listed_with_its_justification():
    """docs/rules.md §2 lists each `if_missing` a rule record states (#15: a blank is never read in the
    firm's favour unless the documentation says why it cannot pay)."""
    stated = set()
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        for record in re.finditer(r"(?ms)^  - id: (\S+)\n(.*?)(?=^  - id: |\Z)", path.read_text(encoding="utf-8")):
            stated |= {(record.group(1), fact) for fact in re.findall(r"fact: (\w+)[^}\n]*if_missing:", record.group(2))}
    assert stated, "expected at least the entry window's default"
    table = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8").split("## 2.", 1)[1].split("\n## ", 1)[0]
    for rule_id, fact in stated:
        assert any(f"`{rule_id}`" in line and f"`{fact}`" in line for line in table.splitlines()), (rule_id, fact)

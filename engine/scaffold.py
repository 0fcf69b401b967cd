"""`scaleup policy new ID --from DOCUMENT.txt`: a policy folder proposed from the document's text by
rules over the text (no network, no language model). The clauses are split at the document's own
numbering (一、 （一） 1. 第X条), each an exact substring of the text; every amount, percentage and year
count in a clause is proposed as a parameter stated by that clause, with the quoted phrase, and named
after the parameter of the shared rules whose words the phrase (else its sentence) uses
(rules/provisions.yaml `parameters:`); each provision of the shared rules whose keywords a clause uses
is proposed as a binding; the readings those provisions' rules require are written as a skeleton.
Everything proposed is marked "to review"; REVIEW.md condenses what is left, and `scaleup policy
check` lists every mark still in the folder (review_marks) with what else is left to decide."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional

from engine.yamlio import load_yaml

NUMERALS = "一二三四五六七八九十"
TOP = re.compile(rf"^([{NUMERALS}]+)、\s*(.*)$")
SUB = re.compile(rf"（([{NUMERALS}]+)）")
ITEM = re.compile(r"^(\d+)[\.．、]\s*\S")
ARTICLE = re.compile(rf"^第([{NUMERALS}百]+)条")
NOISE = re.compile(r"^(\[[^\]]*\]\s*)+")          # converter marks such as [bookmark: _GoBack]
ANNEX = re.compile(r"^附件\s*\d*$")
DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
DOC_NUMBER = re.compile(r"\S+〔\d{4}〕\d+号")
MONEY = re.compile(r"(\d+(?:\.\d+)?)(万元|元)")
PERCENT = re.compile(r"(\d+(?:\.\d+)?)[%％]")
YEARS = re.compile(r"(?<!\d)(\d{1,2})年(?:内|以内|以上)?(?![\d月])")
PHRASE_STOP = "，。；：、（）《》"


@dataclass
class ProposedClause:
    id: str
    kind: str
    heading_zh: str
    text: str


@dataclass
class ProposedParam:
    name: str
    type: str
    value: str
    clause: str
    phrase: str
    known: Optional[dict] = None     # the catalogue entry (labels) when a rule or the ledger reads it


@dataclass
class Scaffold:
    clauses: list[ProposedClause]
    params: list[ProposedParam]
    bindings: list[tuple[str, str, str]]          # (provision, clause, quoted words)
    dates: list[tuple[str, str]] = field(default_factory=list)   # (ISO date, the phrase around it)
    document_number: Optional[str] = None
    readings: list[tuple[str, str, str]] = field(default_factory=list)   # (interpretation id, clause, quote)


def split_clauses(text: str) -> list[ProposedClause]:
    """The document's clauses at its own numbering, each text an exact substring of `text`."""
    lines = [NOISE.sub("", line).strip() for line in text.splitlines()]
    first_top = next((i for i, l in enumerate(lines) if TOP.match(l) or ARTICLE.match(l)), len(lines))
    clauses = _front_matter(lines[:first_top])
    top, top_heading, i = None, "", first_top
    while i < len(lines):
        line = lines[i]
        if ANNEX.match(line):
            title = next((l for l in lines[i + 1:] if l), "")
            if title:
                clauses.append(ProposedClause("附件", "annex", f"附件 {title}", title))
            break
        m_top, m_art = TOP.match(line), ARTICLE.match(line)
        if m_art:
            clauses.append(ProposedClause(f"第{m_art.group(1)}条", "provision", line[:m_art.end()], line))
        elif m_top:
            top, top_heading = m_top.group(1), line
            body = m_top.group(2)
            if "。" in body:          # the heading line carries its own text
                clauses.append(ProposedClause(top, "provision", top_heading, body))
        elif top is not None and line.startswith("（") and SUB.match(line):
            sub = SUB.match(line).group(1)
            clauses.append(ProposedClause(f"{top}({sub})", "provision", _sub_heading(top_heading, line), line))
        elif top is not None and ITEM.match(line) and clauses:
            parent = clauses[-1].id.split(".")[0]
            clauses.append(ProposedClause(f"{parent}.{ITEM.match(line).group(1)}", "provision", line[:12], line))
        elif top is not None and line.endswith("。") and not any(c.id == top for c in clauses) \
                and not any(c.id.startswith(f"{top}(") for c in clauses):
            clauses.append(ProposedClause(top, "provision", top_heading, line))
        i += 1
    if not any(c.kind == "provision" and c.id not in ("序言",) for c in clauses):
        clauses += _unnumbered_body(lines)
    return [c for c in clauses if c.text and c.text in text]


def _front_matter(lines: list[str]) -> list[ProposedClause]:
    """The notice of issue (…现印发给你们…) and the preamble (the last paragraph before 一、)."""
    out = []
    notice = next((l for l in lines if "印发" in l and l.endswith("。")), None)
    if notice:
        out.append(ProposedClause("通知", "notice", "印发通知", notice))
    paragraphs = [l for l in lines if l.endswith("。") and l != notice]
    if paragraphs and lines.index(paragraphs[-1]) > (lines.index(notice) if notice else -1):
        out.append(ProposedClause("序言", "provision", "序言", paragraphs[-1]))
    return out


def _unnumbered_body(lines: list[str]) -> list[ProposedClause]:
    """A notice without numbering: each paragraph after the addressees (…：) is a clause 正文, 正文2 …"""
    start = next((i for i, l in enumerate(lines) if l.endswith("：")), -1) + 1
    paragraphs = [l for l in lines[start:] if l.endswith("。")]
    return [ProposedClause("正文" if n == 0 else f"正文{n + 1}", "provision", "正文", p)
            for n, p in enumerate(paragraphs)]


def _sub_heading(top_heading: str, line: str) -> str:
    """「二、重点工作 （一）加快平台载体建设」: the sub-item's short title when its first sentence is one."""
    head, _, rest = line.partition("。")
    marker = line[:line.index("）") + 1]
    return f"{top_heading} {head}" if rest and len(head) <= 16 else f"{top_heading} {marker}"


def propose_parameters(clauses: list[ProposedClause], names: Optional[dict] = None) -> list[ProposedParam]:
    """Every amount, percentage and year count stated in a clause, with the phrase that states it, named
    after the catalogue's parameter (`names`: rules/provisions.yaml `parameters:`) its words point to;
    a figure no entry fits is named unmatched_<type>_<n>, to name or delete."""
    found: list[tuple[str, str, ProposedClause, re.Match]] = []
    for clause in clauses:
        if clause.kind != "provision":
            continue
        for m in MONEY.finditer(clause.text):
            yuan = Decimal(m.group(1)) * (10000 if m.group(2) == "万元" else 1)
            found.append(("money", f"{yuan.quantize(Decimal('0.01')).normalize():f}", clause, m))
        for m in PERCENT.finditer(clause.text):
            found.append(("ratio", f"{(Decimal(m.group(1)) / 100).normalize():f}", clause, m))
        for m in YEARS.finditer(clause.text):
            found.append(("count", m.group(1), clause, m))
    out: list[ProposedParam] = []
    used: set[str] = set()
    unmatched: dict[str, int] = {}
    for kind, value, clause, m in found:
        phrase = _phrase(clause.text, m)
        name = _name_for(kind, phrase, _sentence(clause.text, m), names or {}, used)
        if name is None:
            unmatched[kind] = unmatched.get(kind, 0) + 1
            name = f"unmatched_{kind}_{unmatched[kind]}"
        used.add(name)
        out.append(ProposedParam(name, kind, value, clause.id, phrase, (names or {}).get(name)))
    return out


def _name_for(kind: str, phrase: str, sentence: str, names: dict, used: set[str]) -> Optional[str]:
    """The first unused catalogue parameter of the figure's type whose words the phrase uses, else the
    first whose words the sentence uses."""
    candidates = [(n, e) for n, e in names.items() if e.get("type") == kind and n not in used]
    for where in (phrase, sentence):
        hit = next((n for n, e in candidates if any(w in where for w in e.get("words", ()))), None)
        if hit:
            return hit
    return None


def _sentence(text: str, m: re.Match) -> str:
    """The sentence around a figure: from the previous 。 or ； to the next."""
    start = max(text.rfind(ch, 0, m.start()) for ch in "。；") + 1
    ends = [i for i in (text.find(ch, m.end()) for ch in "。；") if i >= 0]
    return text[start:min(ends) if ends else len(text)]


def _line_of(text: str, m: re.Match) -> str:
    return text[text.rfind("\n", 0, m.start()) + 1:text.find("\n", m.end()) % (len(text) + 1)].strip()


def _phrase(text: str, m: re.Match) -> str:
    """The words around a figure, from the previous punctuation mark to the figure's end."""
    start = max(text.rfind(ch, 0, m.start()) for ch in PHRASE_STOP) + 1
    return text[start:m.end()]


def propose_bindings(clauses: list[ProposedClause], catalogue: dict) -> list[tuple[str, str, str]]:
    """(provision, clause, quoted sentence) for each provision whose keywords a clause uses. A provision
    is looked for first in the clause its parent provision was bound to (award.enterprise.sector where
    award.enterprise is), so a keyword in the preamble does not take it elsewhere."""
    out: list[tuple[str, str, str]] = []
    where: dict[str, str] = {}
    for pid, entry in catalogue.items():
        parents = [where[p] for p in _parents(pid) if p in where]
        ordered = sorted((c for c in clauses if c.kind in ("provision", "notice")),
                         key=lambda c: 0 if c.id in parents[:1] else 1)
        for clause in ordered:
            word = next((k for k in entry.get("keywords", []) if k in clause.text), None)
            if word:
                phrase = next(s for s in re.split(r"[，。；]", clause.text) if word in s)
                out.append((pid, clause.id, phrase))
                where[pid] = clause.id
                break
    return out


def _parents(pid: str) -> list[str]:
    """award.enterprise.sector -> [award.enterprise, award]: the nearest first."""
    parts = pid.split(".")
    return [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]


def scaffold(text: str, catalogue: dict, names: Optional[dict] = None,
             readings: Optional[dict[str, list[str]]] = None) -> Scaffold:
    """The proposal for a document: `catalogue` the provisions with their keywords, `names` the
    parameters a figure may be named after, `readings` provision -> the interpretation ids its rules
    name (load_catalogue, load_parameter_names, load_readings over the rules folder)."""
    clauses = split_clauses(text)
    dates = [(f"{int(y):04d}-{int(mo):02d}-{int(d):02d}", _line_of(text, m))
             for m in DATE.finditer(text) for y, mo, d in [m.groups()]]
    number = DOC_NUMBER.search(text)
    bindings = propose_bindings(clauses, catalogue)
    return Scaffold(clauses, propose_parameters(clauses, names), bindings, dates,
                    number.group(0) if number else None, propose_readings(bindings, readings or {}))


def propose_readings(bindings: list[tuple[str, str, str]], readings: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """(interpretation id, clause, quote) for every reading the rules of a proposed binding require,
    each once, at the clause and words of the first binding that needs it."""
    out: dict[str, tuple[str, str, str]] = {}
    for provision, clause, words in bindings:
        for rid in readings.get(provision, ()):
            out.setdefault(rid, (rid, clause, words))
    return list(out.values())


def load_catalogue(rules_folder: Path) -> dict:
    """The provisions of the shared rules with their keywords (rules/provisions.yaml)."""
    raw = load_yaml(Path(rules_folder) / "provisions.yaml") or {}
    return raw.get("provisions", {}) if isinstance(raw, dict) else {}


def load_parameter_names(rules_folder: Path) -> dict:
    """The parameters a document's figure may be named after, with their words (rules/provisions.yaml)."""
    raw = load_yaml(Path(rules_folder) / "provisions.yaml") or {}
    return raw.get("parameters", {}) if isinstance(raw, dict) else {}


def load_readings(rules_folder: Path) -> dict[str, list[str]]:
    """provision -> the interpretation ids of the rule records that cite it, over every family file."""
    out: dict[str, list[str]] = {}
    families = (load_yaml(Path(rules_folder) / "families.yaml") or {}).get("families", [])
    for family in families:
        for record in _records(load_yaml(Path(rules_folder) / f"{family}.yaml")):
            if isinstance(record.get("interpretation"), str) and record.get("provision"):
                ids = out.setdefault(record["provision"], [])
                if record["interpretation"] not in ids:
                    ids.append(record["interpretation"])
    return out


def _records(node) -> list[dict]:
    """Every mapping inside a family file (rules, the conclusion, the amount policy)."""
    if isinstance(node, dict):
        return [node, *(r for v in node.values() for r in _records(v))]
    if isinstance(node, list):
        return [r for v in node for r in _records(v)]
    return []


# ---------------------------------------------------------------- writing the folder

YEAR_RANGE = re.compile(r"（(\d{4})[－—\-–](\d{4})年）")
TO_REVIEW = "to review"


def write_scaffold(folder: Path, policy_id: str, text: str, sc: Scaffold, jurisdiction: Optional[str]) -> list[Path]:
    """The proposed policy folder (which must not exist yet); returns the files written."""
    import yaml
    folder = Path(folder)
    folder.mkdir(parents=True)
    start, end, in_force_note = _period(text, sc)
    files = {
        "source.txt": text,
        "policy.yaml": _dump({
            "id": policy_id, "document_number": sc.document_number or TO_REVIEW,
            "title_zh": _title(text), "title_en": TO_REVIEW, "issuer_zh": _issuer(text), "issuer_en": TO_REVIEW,
            "signed_on": sc.dates[0][0] if sc.dates else start, "issued_on": sc.dates[0][0] if sc.dates else start,
            "in_force": {"from": start, "to": end, "provenance": "assumed", "note": in_force_note},
            "jurisdiction": jurisdiction or TO_REVIEW, "source_file": "source.txt",
            "source_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}),
        "clauses.yaml": _dump({"clauses": [{"id": c.id, "kind": c.kind, "heading_zh": c.heading_zh,
                                             "heading_en": TO_REVIEW, "text": c.text} for c in sc.clauses]}),
        "parameters.yaml": _parameters_text(sc, start),
        "provisions.yaml": "\n".join(
            ["# Proposed by keywords: check each marked binding (is this what the clause says? are the quoted",
             "# words the ones that say it?), then delete its mark. Remove the provisions this instrument does not have.",
             "provisions:"] +
            [f"  {pid}: {yaml.safe_dump({'clause': cid, 'text': words}, allow_unicode=True, default_flow_style=True).strip()}"
             f"   # {TO_REVIEW}" for pid, cid, words in sc.bindings]) + "\n",
        "interpretations.yaml": _interpretations_text(sc),
    }
    written = []
    for name, body in files.items():
        (folder / name).write_bytes(body.encode("utf-8"))      # no newline translation: the hash holds
        written.append(folder / name)
    return written


def _dump(data: dict) -> str:
    import yaml
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _parameters_text(sc: Scaffold, start: str) -> str:
    lines = ["# Every figure the clauses state, proposed as a parameter stated by its clause (provenance",
             "# source) with the quoted phrase, named after the parameter of the shared rules its words point",
             "# to (rules/provisions.yaml `parameters:`). Check each name, value and phrase, then delete its",
             "# mark; a parameter named unmatched_… is read by no rule: name it after one, or delete it."]
    for p in sc.params:
        known = p.known or {}
        body = {p.name: {"label_zh": known.get("label_zh", p.phrase), "label_en": known.get("label_en", TO_REVIEW),
                         "type": p.type, **({"unit": "CNY"} if p.type == "money" else {}),
                         **({"unit": "years"} if p.type == "count" else {}),
                         "values": {start: {"value": int(p.value) if p.type == "count" else p.value,
                                            "provenance": "source", "clause": p.clause,
                                            "note": f"「{p.phrase}」"}}}}
        lines.append(f"# {TO_REVIEW}: {p.name} ← {p.clause}「{p.phrase}」"
                     + ("" if p.known else " (read by no rule: name it or delete it)"))
        lines.append(_dump(body).rstrip())
    for day, phrase in sc.dates:
        lines.append(f"# date in the text: {day} 「{phrase}」 (policy.yaml signed_on / in_force?)")
    return "\n".join(lines) + "\n"


def _interpretations_text(sc: Scaffold) -> str:
    """A skeleton of every reading the proposed provisions' rules require (rules/*.yaml `interpretation:`)."""
    lines = ["# The readings the rules of the proposed provisions require (their `interpretation:` ids): say how",
             "# this instrument's words are read where they leave room, with the alternatives not taken and who",
             "# decided (docs/policy-authoring.md). A reading of a provision you remove is not needed."]
    items = [{"id": rid, "clause": clause, "text": words, "reading_zh": TO_REVIEW, "reading_en": TO_REVIEW,
              "alternatives": [], "parameters": [], "decided_by": TO_REVIEW} for rid, clause, words in sc.readings]
    return "\n".join(lines) + "\n" + _dump({"interpretations": items})


def review_marks(folder: Path) -> list[tuple[str, str, list[int]]]:
    """(file, marked line, line numbers) for every line of the folder's YAML files still marked "to
    review", identical lines of one file together: what `policy check` lists as left to decide."""
    out = []
    for path in sorted(Path(folder).glob("*.yaml")):
        lines: dict[str, list[int]] = {}
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if TO_REVIEW in line:
                lines.setdefault(line.strip(), []).append(n)
        out += [(path.name, text, numbers) for text, numbers in lines.items()]
    return out


def _period(text: str, sc: Scaffold) -> tuple[str, str, str]:
    """The proposed period: the title's year range (2022－2025年), else the first date to its year's end."""
    m = YEAR_RANGE.search(text)
    if m:
        return f"{m.group(1)}-01-01", f"{m.group(2)}-12-31", f"{TO_REVIEW}: read from the title's period （{m.group(1)}－{m.group(2)}年）"
    if sc.dates:
        day = sc.dates[0][0]
        last = sc.dates[-1][0] if len(sc.dates) > 1 and sc.dates[-1][0] > day else f"{day[:4]}-12-31"
        return day, last, f"{TO_REVIEW}: from the dates in the text ({', '.join(d for d, _ in sc.dates)})"
    return "2000-01-01", "2000-12-31", f"{TO_REVIEW}: the text states no period"


def _title(text: str) -> str:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    joined = "".join(lines[:8])
    m = re.search(r"关于[^。]*?通知", joined)
    return m.group(0) if m else (lines[0] if lines else TO_REVIEW)


def _issuer(text: str) -> str:
    m = re.search(r"\S*人民政府(办公室)?", text)
    return m.group(0) if m else TO_REVIEW


# ---------------------------------------------------------------- the review list

REVIEW_FILE = "REVIEW.md"


def review_text(policy_id: str, folder: Path, sc: Scaffold, catalogue: dict, findings: list) -> str:
    """REVIEW.md: what the scaffold proposed and what `policy check` found left, in the order an author
    works through them (docs/policy-authoring.md). `findings`: policy check's, as the folder was written."""
    out = [f"# What is left to decide: {policy_id}", "",
           "Proposed by `scaleup policy new` from the document's text by rules over the text: nothing here is",
           "decided yet. Work through the sections, delete each `to review` mark in the YAML files once its",
           f"item is right, and run `scaleup policy check {folder}` after each step: it lists every mark",
           "still in the folder and what else is left, until it reports no error.", "",
           "## 1. The document (policy.yaml)", "",
           f"- document_number: {sc.document_number or 'not found in the text: write it'}",
           "- title_en, issuer_en: write them; check title_zh and issuer_zh against the document.",
           "- in_force: the proposed period is marked; set it from the document's own words.",
           "- jurisdiction: the district folder under policies/jurisdictions/ (`--district CODE`).", "",
           f"## 2. Clauses (clauses.yaml): {len(sc.clauses)} at the document's own numbering", "",
           f"- {', '.join(c.id for c in sc.clauses) or 'none found: write them'}",
           "- Each text is an exact part of source.txt; write each heading_en.", "",
           "## 3. Provisions (provisions.yaml): proposed where a clause uses a provision's keywords", ""]
    out += _table(["provision", "family", "clause", "words quoted"],
                  [(p, catalogue.get(p, {}).get("family", "?"), c, w) for p, c, w in sc.bindings])
    bound = sorted({catalogue.get(p, {}).get("family", "?") for p, _, _ in sc.bindings} - {"not_modelled"})
    out += ["", f"- Families with a proposed binding: {', '.join(bound) or 'none'}. A family binds every provision "
            "its rules name, or none (then it is not provided: 本政策未规定); `policy check` names what is missing.",
            "- Remove a binding whose clause does not say it; shorten a quote to the words that do.", "",
            "## 4. Figures (parameters.yaml): every amount, percentage and year count of a clause", ""]
    out += _table(["parameter", "value", "clause", "phrase"],
                  [(p.name if p.known else f"{p.name} (read by no rule)", p.value, p.clause, p.phrase)
                   for p in sc.params])
    out += ["", "- The rules read more parameters than a document states (industry sections, cut-off dates …):",
            "  `policy check` names each one missing; copy it from a bundled policy with its provenance.", "",
            "## 5. Readings (interpretations.yaml): required by the proposed provisions' rules", ""]
    out += _table(["reading", "clause", "words quoted"], sc.readings)
    out += ["", "- Write reading_zh and reading_en, the alternatives not taken, and decided_by.", "",
            "## 6. What `policy check` reported when the folder was written", ""]
    return "\n".join(out + _condensed(findings)) + "\n"


# How policy check names a parameter the rules, the ledger or the ranking read that the folder lacks.
UNKNOWN_PARAMETER = re.compile(r"(?:unknown parameter|no parameter named) '([^']+)'|: ([a-z_]+): missing; award runs")


def _condensed(findings: list) -> list[str]:
    """policy check's errors and warnings, each said once: the marks counted per file, the parameters
    the rules read that the folder lacks named together."""
    marks: dict[str, int] = {}
    missing: list[str] = []
    other: list[str] = []
    for f in findings:
        if f.code == "scaffold.to_review":
            name = Path(f.where).name
            marks[name] = marks.get(name, 0) + len(f.message.split(":", 1)[0].split(","))
        elif f.severity in ("error", "warning") and UNKNOWN_PARAMETER.search(f.message):
            missing += [m for m in missing_parameters([f]) if m not in missing]
        elif f.severity in ("error", "warning") and f"- {f.severity} {f.code}: {f.message}" not in other:
            other.append(f"- {f.severity} {f.code}: {f.message}")
    out = [f"- Lines still marked `to review`: {', '.join(f'{n} in {name}' for name, n in marks.items())}."] if marks else []
    if missing:
        out.append(f"- Parameters the rules read that parameters.yaml lacks ({len(missing)}): {', '.join(missing)}.")
    return out + other or ["- nothing"]


def _table(head: list[str], rows) -> list[str]:
    rows = [[str(x).replace("|", "\\|") for x in r] for r in rows]
    if not rows:
        return ["(none)"]
    return [f"| {' | '.join(head)} |", f"|{'---|' * len(head)}", *(f"| {' | '.join(r)} |" for r in rows)]


def copy_unstated(folder: Path, like: Path, names: list[str]) -> list[str]:
    """Append to the folder's parameters.yaml the definitions of `names` (parameters the rules read that
    the document states no figure for) as another policy folder has them, each marked to review;
    returns the names copied (those `like` defines)."""
    source = (Path(like) / "parameters.yaml").read_text(encoding="utf-8").splitlines()
    blocks: dict[str, list[str]] = {}
    current = None
    for line in source:
        top = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):\s*$", line)
        if top:
            current = top.group(1)
            blocks[current] = [line]
        elif current and (line.startswith((" ", "\t")) or not line.strip()):
            blocks[current].append(line)
        else:
            current = None
    copied = [n for n in names if n in blocks]
    if not copied:
        return []
    text = [f"\n# Copied from {Path(like).name}: the rules read these and the document states no figure for them.",
            "# Each keeps that policy's value and provenance; make it this instrument's (a figure it states, a",
            "# national reference, or an assumption with its reason), then delete its mark."]
    for name in copied:
        text += [f"# {TO_REVIEW}: {name} (copied from {Path(like).name})", *[l for l in blocks[name] if l.strip()]]
    with open(Path(folder) / "parameters.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n".join(text) + "\n")
    return copied


def missing_parameters(findings: list) -> list[str]:
    """The parameters policy check says the rules read and the folder lacks, in order, each once."""
    out: list[str] = []
    for f in findings:
        out += [m for pair in UNKNOWN_PARAMETER.findall(f.message) for m in pair if m and m not in out]
    return out

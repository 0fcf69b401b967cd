"""`scaleup policy new ID --from DOCUMENT.txt`: a policy folder proposed from the document's text by
rules over the text (no network, no language model). The clauses are split at the document's own
numbering (一、 （一） 1. 第X条), each an exact substring of the text; every amount, percentage and year
count in a clause is proposed as a parameter stated by that clause, with the quoted phrase; each
provision of the shared rules whose keywords a clause uses is proposed as a binding marked "to
review". `scaleup policy check` then lists what is left to decide."""
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


@dataclass
class Scaffold:
    clauses: list[ProposedClause]
    params: list[ProposedParam]
    bindings: list[tuple[str, str, str]]          # (provision, clause, quoted words)
    dates: list[tuple[str, str]] = field(default_factory=list)   # (ISO date, the phrase around it)
    document_number: Optional[str] = None


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


def propose_parameters(clauses: list[ProposedClause]) -> list[ProposedParam]:
    """Every amount, percentage and year count stated in a clause, with the phrase that states it."""
    out: list[ProposedParam] = []
    counters: dict[str, int] = {}

    def add(kind: str, value: str, clause: ProposedClause, m: re.Match) -> None:
        counters[kind] = counters.get(kind, 0) + 1
        out.append(ProposedParam(f"{kind}_{counters[kind]}", kind, value, clause.id, _phrase(clause.text, m)))

    for clause in clauses:
        if clause.kind != "provision":
            continue
        for m in MONEY.finditer(clause.text):
            yuan = Decimal(m.group(1)) * (10000 if m.group(2) == "万元" else 1)
            add("money", f"{yuan.quantize(Decimal('0.01')).normalize():f}", clause, m)
        for m in PERCENT.finditer(clause.text):
            add("ratio", f"{(Decimal(m.group(1)) / 100).normalize():f}", clause, m)
        for m in YEARS.finditer(clause.text):
            add("count", m.group(1), clause, m)
    return out


def _line_of(text: str, m: re.Match) -> str:
    return text[text.rfind("\n", 0, m.start()) + 1:text.find("\n", m.end()) % (len(text) + 1)].strip()


def _phrase(text: str, m: re.Match) -> str:
    """The words around a figure, from the previous punctuation mark to the figure's end."""
    start = max(text.rfind(ch, 0, m.start()) for ch in PHRASE_STOP) + 1
    return text[start:m.end()]


def propose_bindings(clauses: list[ProposedClause], catalogue: dict) -> list[tuple[str, str, str]]:
    """(provision, clause, quoted sentence) for each provision whose keywords a clause uses."""
    out = []
    for pid, entry in catalogue.items():
        for clause in clauses:
            word = next((k for k in entry.get("keywords", []) if k in clause.text), None)
            if clause.kind == "provision" and word:
                phrase = next(s for s in re.split(r"[，。；]", clause.text) if word in s)
                out.append((pid, clause.id, phrase))
                break
    return out


def scaffold(text: str, catalogue: dict) -> Scaffold:
    clauses = split_clauses(text)
    dates = [(f"{int(y):04d}-{int(mo):02d}-{int(d):02d}", _line_of(text, m))
             for m in DATE.finditer(text) for y, mo, d in [m.groups()]]
    number = DOC_NUMBER.search(text)
    return Scaffold(clauses, propose_parameters(clauses), propose_bindings(clauses, catalogue), dates,
                    number.group(0) if number else None)


def load_catalogue(rules_folder: Path) -> dict:
    """The provisions of the shared rules with their keywords (rules/provisions.yaml)."""
    raw = load_yaml(Path(rules_folder) / "provisions.yaml") or {}
    return raw.get("provisions", {}) if isinstance(raw, dict) else {}


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
            ["# Proposed by keywords: each binding is to review (is this what the clause says? are the quoted",
             "# words the ones that say it?). Remove the provisions this instrument does not have.",
             "provisions:"] +
            [f"  {pid}: {yaml.safe_dump({'clause': cid, 'text': words}, allow_unicode=True, default_flow_style=True).strip()}"
             f"   # {TO_REVIEW}" for pid, cid, words in sc.bindings]) + "\n",
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
             "# source) with the quoted phrase. To review: rename each to the parameter a rule reads (e.g.",
             "# scale_threshold, enterprise_award_investment), give its labels, or delete it."]
    for p in sc.params:
        body = {p.name: {"label_zh": p.phrase, "label_en": TO_REVIEW, "type": p.type,
                         **({"unit": "CNY"} if p.type == "money" else {}),
                         "values": {start: {"value": int(p.value) if p.type == "count" else p.value,
                                            "provenance": "source", "clause": p.clause,
                                            "note": f"{TO_REVIEW}: 「{p.phrase}」"}}}}
        lines.append(f"# {TO_REVIEW} — {p.clause}: 「{p.phrase}」")
        lines.append(_dump(body).rstrip())
    for day, phrase in sc.dates:
        lines.append(f"# date in the text: {day} 「{phrase}」 (policy.yaml signed_on / in_force?)")
    return "\n".join(lines) + "\n"


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

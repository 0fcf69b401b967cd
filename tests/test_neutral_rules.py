"""The shared rule records (rules/) and the engine's words serve every policy: no name of a bundled
jurisdiction — district, its short form, development zone, town or street — appears in them. A
district's own words belong in its policy folder (a clause quote in provisions.yaml, vocabulary.yaml)."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

JURISDICTIONS = ROOT / "policies" / "jurisdictions"


def jurisdiction_names() -> set[str]:
    names: set[str] = set()
    for folder in JURISDICTIONS.iterdir():
        meta = yaml.safe_load((folder / "jurisdiction.yaml").read_text(encoding="utf-8"))
        name = meta["name_zh"]
        short = re.sub(r"^\S+?[省市](?=\S{2,}[区县市])", "", name)        # 重庆市万州区 -> 万州区
        names |= {name, short}
        if not str(meta["code"]).startswith("99"):   # a real district; 示例 (the fictional one's) is a common word
            names.add(re.sub(r"[区县市]$", "", short))                   # 万州区 -> 万州
        names.add(meta["name_en"].split()[0])                            # Wanzhou
        zone = meta.get("development_zone") or {}
        names |= {zone[k] for k in ("name_zh", "authority_zh") if zone.get(k)}
        with open(folder / meta["townships_file"], encoding="utf-8", newline="") as f:
            names |= {row["name"] for row in csv.DictReader(f)}
    return {n for n in names if len(n) >= 2}


def test_the_names_include_each_district_s_short_form():
    names = jurisdiction_names()
    assert {"万州", "万州区", "Wanzhou", "示例区", "万州经开区", "示例高新区"} <= names


SHARED = sorted(p for p in (ROOT / "rules").rglob("*") if p.is_file()) + \
    sorted(p for p in (ROOT / "engine" / "templates").rglob("*") if p.is_file())


@pytest.mark.parametrize("path", SHARED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shared_rule_or_engine_template_names_a_jurisdiction(path: Path):
    text = path.read_text(encoding="utf-8")
    found = sorted(n for n in jurisdiction_names() if n in text)
    assert not found, f"{path.relative_to(ROOT)} names {found}: move the words to the policy's own data"


TEMPLATES = sorted(p for p in (ROOT / "engine" / "templates").rglob("*") if p.is_file())


def test_no_engine_template_shows_one_policy_s_clause_id():
    """A clause id such as 三(三) belongs to one document; what a template shows a user (outside its
    {# comments #}) must come from the policy (a binding, a decision's clause_id)."""
    clause_id = re.compile(r"[一二三四五六七八九十]+\([一二三四五六七八九十]+\)")
    shown = {p.relative_to(ROOT).as_posix(): clause_id.findall(re.sub(r"\{#.*?#\}", "", p.read_text(encoding="utf-8"),
                                                                      flags=re.S)) for p in TEMPLATES}
    assert {k: v for k, v in shown.items() if v} == {}

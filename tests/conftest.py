"""Shared test fixtures: the bundled policy and rules, loaded once; enterprises built from the
register's own conventions (money in 万元 as text, dates ISO, months YYYY-MM)."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from engine.evaluate import Evaluator, load_engine_inputs
from engine.facts import Enterprise, YearMonth
from engine.uscc import CHARSET, make_uscc

ROOT = Path(__file__).resolve().parent.parent
POLICY_ID = "wanzhou-2022-80"

settings.register_profile("default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def fast_examples(count: int) -> int:
    """max_examples for a property that is slow per example (it builds an engine for each): `count` in
    the default profile, the profile's own count under HYPOTHESIS_PROFILE=deep (`make test-deep`)."""
    profile = settings().max_examples
    return min(count, profile) if profile <= 100 else profile

MONEY_COLUMNS = ("revenue_last_year", "revenue_ytd", "revenue_ytd_last_year", "profit_ytd")


@lru_cache(maxsize=None)
def copy_policy(source: Path, folder: Path) -> Path:
    """A copy of a policy folder to edit in a test, its `rules:` pointed at the project's rules/ (a
    relative path would no longer reach them from the copy)."""
    shutil.copytree(source, folder)
    meta = folder / "policy.yaml"
    meta.write_text(re.sub(r"(?m)^rules: .*$", f"rules: {ROOT / 'rules'}", meta.read_text(encoding="utf-8")),
                    encoding="utf-8")
    return folder


def policy_and_rules(policy_id: str = POLICY_ID):
    """A bundled policy by id, or a test policy folder named from the project root (tests/districts/…).
    Loaded once per process: tests call this inside loops (a fresh load parses every YAML file, ~0.2 s),
    no test edits these folders (edits go to copies: copy_policy), and nothing mutates the loaded
    Policy and Rulebook — the cached evaluator() below already shares them between tests. A folder
    outside the project (a test's tmp_path) is loaded afresh every time."""
    if (ROOT / policy_id / "policy.yaml").is_file():
        policy_id = str(ROOT / policy_id)
    if Path(policy_id).is_absolute() and ROOT not in Path(policy_id).resolve().parents:
        return load_engine_inputs(policy_id)
    return _bundled_policy_and_rules(policy_id)


@lru_cache(maxsize=None)
def _bundled_policy_and_rules(policy_id: str):
    return load_engine_inputs(policy_id)


def published_variant(name: str, effective: date, parameters: dict, policy_id: str = POLICY_ID):
    """The bundled policy as if it had been published with other parameter values: for tests of the
    award ledger under other terms. A what-if is never committed (engine/awards/run.py refuse_what_if),
    so the variant is the reformed data without the what-if mark."""
    import dataclasses
    from engine.analysis.reform import Reform, apply_reform
    policy, _ = policy_and_rules(policy_id)
    return dataclasses.replace(apply_reform(policy, Reform(name=name, effective=effective, parameters=parameters)),
                               what_if=None)


@lru_cache(maxsize=None)
def evaluator(as_of: date, policy_id: str = POLICY_ID) -> Evaluator:
    policy, book = policy_and_rules(policy_id)
    return Evaluator(policy, book, as_of)


def bundled_register_results(as_of: date) -> tuple:
    """(rulebook, evaluator, results): every enterprise of the bundled register evaluated as of `as_of`
    by a fresh Evaluator (its caches its own)."""
    from engine.register import read_register
    policy, book = policy_and_rules(POLICY_ID)
    ev = Evaluator(policy, book, as_of)
    firms = [e for _, e in read_register(ROOT / "examples" / "register.csv", as_of=as_of, policy=policy).accepted]
    return book, ev, [ev.evaluate(e) for e in firms]


def uscc_for(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    body = "".join(CHARSET[b % len(CHARSET)] for b in digest[:8])
    return make_uscc("915001017" + body)


def enterprise(**facts) -> Enterprise:
    """An Enterprise from register-style values: money in 万元 (text or number), ISO dates, YYYY-MM."""
    data = dict(facts)
    data.setdefault("enterprise_id", uscc_for(repr(sorted(facts.items()))))
    data.setdefault("name", "测试企业")
    for key in MONEY_COLUMNS:
        if data.get(key) is not None:
            data[key] = Decimal(str(data[key])) * 10000
    for key in ("land_request_mu", "power_request_kva"):
        if data.get(key) is not None:
            data[key] = Decimal(str(data[key]))
    for key in ("in_scope_since", "ytd_through"):
        if data.get(key) is not None and not isinstance(data[key], YearMonth):
            data[key] = YearMonth.parse(str(data[key]))
    for key in ("established_on", "commissioned_on"):
        if isinstance(data.get(key), str):
            data[key] = date.fromisoformat(data[key])
    data["tags"] = tuple(data.get("tags") or ())
    data = {k: v for k, v in data.items() if v is not None}
    return Enterprise(**data)


@pytest.fixture
def evaluate():
    def run(as_of: str | date = "2024-12-31", **facts):
        day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        return evaluator(day).evaluate(enterprise(**facts))
    return run


def register_with_a_latin1_row(folder: Path) -> Path:
    """The bundled register with one cell of its fourth record (file line 5) written in Latin-1: a UTF-8
    file with one undecodable row."""
    lines = (ROOT / "examples" / "register.csv").read_bytes().split(b"\n")
    cells = lines[4].split(b",")
    cells[1] = "Café Müller".encode("latin-1")
    lines[4] = b",".join(cells)
    path = folder / "mixed.csv"
    path.write_bytes(b"\n".join(lines))
    return path


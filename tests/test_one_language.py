"""A run speaks one language end to end: every command with --lang en prints no Chinese punctuation
and no Python value (['B', 'C'], False, None, Decimal(...)) outside the policy's own verbatim data
(clause texts, document numbers, references); with --lang zh no English words outside ids, codes,
file names and the policy's own data."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.yamlio import load_yaml
from tests.conftest import ROOT

REGISTER = ROOT / "examples" / "register.csv"
FIRM = "915001017P5X326G0R"
AS_OF = ("--as-of", "2024-12-31")
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")
PYTHON_REPR = re.compile(r"\['|'\]|\bFalse\b|\bTrue\b|\bNone\b|Decimal\(|Fraction\(|datetime\.")
# English words a Chinese run may print: status codes shown beside their Chinese word, the program's and
# its commands' names.
ZH_ALLOWED = {"ok", "changed", "tampered", "unreadable", "unverifiable", "scaleup", "commit", "errors",
              # command names quoted in the text (运行 scaleup policy show ...)
              "verify", "explain", "check", "ledger", "audit", "policy", "show", "list", "review", "report", "awards",
              "priority", "targets", "diff", "sweep", "pay", "export"}


def commands(work: Path) -> list[list[str]]:
    db, audit = work / "a.db", work / "audit"
    return [
        ["policy", "list"], ["policy", "show", "--as-of", "2024-06-30"], ["policy", "check"],
        ["check", REGISTER, *AS_OF], ["explain", FIRM, REGISTER, *AS_OF],
        ["priority", REGISTER, *AS_OF, "--land-quota", "50", "--power-quota", "4000"],
        ["targets", REGISTER, *AS_OF], ["audit", REGISTER, *AS_OF, "--out", audit], ["verify", audit],
        ["review", FIRM, REGISTER, *AS_OF], ["report", REGISTER, *AS_OF, "--out", work / "r.html"],
        ["awards", REGISTER, "--year", "2024", "--ledger", db, "--commit"],
        ["awards", REGISTER, "--year", "2024", "--ledger", db, "--by", "town"],
        ["awards", REGISTER, "--year", "2024", "--ledger", db, "--format", "xlsx", "--out", work / "a.xlsx"],
        ["ledger", "show", "--ledger", db],
        ["ledger", "pay", "--ledger", db, "--paid-on", "2025-03-01", "--reference", "X-1"],
        ["ledger", "export", "--ledger", db, "--out", work / "export"],
        ["targets", "--ledger", db, *AS_OF],
        ["diff", REGISTER, *AS_OF, "--set", "enterprise_award_industrial=15万"],
        ["sweep", REGISTER, *AS_OF, "--param", "scale_threshold", "--from", "1500万", "--to", "2500万", "--steps", "3"],
    ]


@lru_cache(maxsize=None)
def data_strings() -> tuple[str, ...]:
    """Every text of the policy's and the rules' own data (verbatim clauses, references, notes, names):
    data, shown as written in either language."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str) and len(node) >= 8 and not re.fullmatch(r"[\w./-]+", node):
            found.add(node)
    for path in [*(ROOT / "policies" / "wanzhou-2022-80").glob("*.yaml"),
                 *(ROOT / "policies" / "example-district-2024").glob("*.yaml"),
                 *(ROOT / "policies" / "jurisdictions").glob("*.yaml"), *(ROOT / "rules").glob("*.yaml")]:
        walk(load_yaml(path))
    return tuple(sorted(found, key=len, reverse=True))


def without_data(text: str) -> str:
    text = re.sub(r"「[^」\n]*」|\"[^\"\n]*\"|^>.*$", " ", text, flags=re.M)
    for s in data_strings():
        if s in text:
            text = text.replace(s, " ")
    return text


@pytest.fixture(scope="module", params=["en", "zh"])
def outputs(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    runner = CliRunner()
    out = {}
    for cmd in commands(work):
        result = runner.invoke(main, [*map(str, cmd), "--lang", request.param], catch_exceptions=False)
        assert result.exit_code == 0, (cmd, result.output[-500:])
        out[" ".join(map(str, cmd[:2]))] = result.output
    return request.param, out


def test_every_command_takes_lang_and_speaks_it(outputs):
    lang, out = outputs
    for name, text in out.items():
        rest = without_data(text)
        assert not PYTHON_REPR.search(rest), (name, PYTHON_REPR.search(rest).group(0))
        if lang == "en":
            bad = [line for line in rest.splitlines() if CJK_PUNCTUATION.search(line)]
            assert not bad, (name, bad[:3])
        else:
            # ids (dotted, snake_case), paths and file names, options, hashes and codes are not words.
            rest = without_data(re.sub(r"\[[^\]\n]*[/\\][^\]\n]*\]|(?<![^\s\[(])/[\w./-]+", " ", text))
            rest = re.sub(r"[\w./\\-]*[/\\][\w./\\-]*|\S+\.(?:csv|db|json|html|md|xlsx)\b|--[a-z-]+"
                          r"|\b\w+(?:[._-]\w+)+\b|[A-Za-z]*\d[A-Za-z0-9]*|\b[A-Z][A-Z0-9]*\b", " ", rest)
            words = set(re.findall(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])", rest)) - ZH_ALLOWED
            assert not words, (name, sorted(words)[:10])

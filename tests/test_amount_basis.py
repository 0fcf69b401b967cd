"""Every figure shows its provenance wherever money is read (#15): an assumed amount is marked as such in
each output, and once the district fixes the amounts by its own document (provenance `decided`, with
文号, issuer and date) in a copy of the policy, no output marks them assumed and the review sheet cites
the document."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import ROOT

REGISTER = str(ROOT / "examples" / "register.csv")
AWARDED = "915001017P5X326G0R"      # awarded in the bundled register as of 2024-12-31
DOCUMENT = "万州经信发〔2024〕7号"
ASSUMED_MARKS = ("假定", "ASSUMED", "assumed")


@pytest.fixture(scope="module")
def decided_policy(tmp_path_factory) -> str:
    """The bundled policy as if the district had fixed every assumed figure by one document."""
    folder = tmp_path_factory.mktemp("policy") / "wanzhou-decided"
    shutil.copytree(ROOT / "policies" / "wanzhou-2022-80", folder)
    params = folder / "parameters.yaml"
    text, n = re.subn(r"provenance: assumed,", f'provenance: decided, reference: "{DOCUMENT}", '
                      f'issuer: 万州区经济和信息化委员会, decided_on: "2024-03-01",', params.read_text(encoding="utf-8"))
    assert n > 10
    params.write_text(text, encoding="utf-8")
    meta = folder / "policy.yaml"
    meta.write_text(re.sub(r"(?m)^rules: .*$", f"rules: {ROOT / 'rules'}", meta.read_text(encoding="utf-8")),
                    encoding="utf-8")
    return str(folder)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def outputs(policy: list[str], tmp_path) -> dict[str, str]:
    """Every output that shows an award amount, in both languages."""
    shown = {}
    for lang in ("zh", "en"):
        shown[f"check table {lang}"] = run("check", REGISTER, "--as-of", "2024-12-31", "--lang", lang, *policy)
        shown[f"explain {lang}"] = run("explain", AWARDED, REGISTER, "--as-of", "2024-12-31", "--lang", lang,
                                       "--type", "enterprise_award", *policy)
        shown[f"awards {lang}"] = run("awards", REGISTER, "--year", "2024", "--lang", lang,
                                      "--ledger", str(tmp_path / f"{lang}.db"), *policy)
    shown["review md"] = run("review", AWARDED, REGISTER, "--as-of", "2024-12-31", *policy)
    return shown


def award_bases(policy: list[str]) -> set:
    doc = json.loads(run("check", REGISTER, "--as-of", "2024-12-31", "--format", "json", *policy))
    paid = [d for e in doc for d in e["decisions"] if d.get("amount_yuan") not in (None, "0.00")]
    table = list(csv.DictReader(io.StringIO(run("check", REGISTER, "--as-of", "2024-12-31", "--format", "csv",
                                                "--lang", "en", *policy).lstrip("\ufeff"))))
    csv_bases = {r["enterprise_award.amount_basis"] for r in table if r["enterprise_award.amount_yuan"]}
    return {d.get("amount_basis") for d in paid} | csv_bases


def test_an_assumed_amount_is_marked_in_every_output_that_shows_it(tmp_path):
    for name, text in outputs([], tmp_path).items():
        assert any(mark in text for mark in ASSUMED_MARKS), name
    assert award_bases([]) == {"assumed"}


def test_amounts_fixed_by_a_district_document_are_never_marked_assumed(decided_policy, tmp_path):
    shown = outputs(["--policy", decided_policy], tmp_path)
    for name, text in shown.items():
        text = text.replace("本决定未依据任何假定值", "")      # the sheet saying there is none is no mark
        assert not any(mark in text for mark in ASSUMED_MARKS), (name, [m for m in ASSUMED_MARKS if m in text])
    assert "本决定未依据任何假定值" in shown["review md"]
    assert DOCUMENT in shown["review md"] and "万州区经济和信息化委员会" in shown["review md"]
    assert DOCUMENT in shown["explain zh"]
    assert award_bases(["--policy", decided_policy]) == {"decided"}

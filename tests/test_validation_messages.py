"""Data that does not validate reads as the user's messages, the same shape everywhere
(engine/errors.py validation_messages): where (file, row), which key, what was expected; a misspelt
key says so; never pydantic's own multi-line report."""
from __future__ import annotations

import shutil

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import PolicyDataError, validation_messages
from tests.conftest import ROOT


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


def _error(**data) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Sample(**data)
    return caught.value


def test_one_message_per_problem_naming_file_key_and_what_is_wrong():
    exc = _error(name="x", count="many", colour="red")
    assert validation_messages(exc, "data.yaml", "items[2]") == [
        "data.yaml: items[2].count: Input should be a valid integer, unable to parse string as an integer",
        "data.yaml: items[2].colour: unknown key (misspelt?)"]
    assert validation_messages(exc, key="when") == [
        "when.count: Input should be a valid integer, unable to parse string as an integer",
        "when.colour: unknown key (misspelt?)"]
    assert validation_messages(exc, "data.yaml", note=lambda loc: " (here)")[1] == "data.yaml: colour (here): unknown key (misspelt?)"


def _assert_plain(problems: list[str], *expected: str):
    text = "\n".join(problems)
    assert "validation error" not in text and "errors.pydantic.dev" not in text, text
    for part in expected:
        assert part in text, text


def test_a_misspelt_key_in_a_reform_file(tmp_path):
    from engine.analysis.reform import load_reform
    path = tmp_path / "reform.yaml"
    path.write_text("name: x\neffective: 2024-01-01\nparametres: {scale_threshold: '1'}\n", encoding="utf-8")
    with pytest.raises(PolicyDataError) as caught:
        load_reform(path)
    _assert_plain(caught.value.problems, f"{path}: parametres: unknown key (misspelt?)", f"{path}: parameters: Field required")


def test_a_bad_column_in_the_fact_schema(tmp_path):
    from engine.register.columns import load_columns
    data = yaml.safe_load((ROOT / "rules" / "facts.yaml").read_text(encoding="utf-8"))
    data["columns"][0]["colour"] = "red"
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyDataError) as caught:
        load_columns(tmp_path)
    _assert_plain(caught.value.problems, f"{path}: columns[0].colour: unknown key (misspelt?)")


def test_a_bad_town_row_in_a_jurisdiction(tmp_path):
    from engine.jurisdiction import load_jurisdiction
    folder = tmp_path / "j"
    shutil.copytree(ROOT / "policies" / "jurisdictions" / "500101-wanzhou", folder)
    towns = folder / "townships.csv"
    lines = towns.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("type")] = "村"
    towns.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(PolicyDataError) as caught:
        load_jurisdiction(folder)
    _assert_plain(caught.value.problems, f"{towns} row 2: type: Input should be")

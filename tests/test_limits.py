"""Bounded work on hostile files (issue #21, finding 4): each limit of engine/limits.py refuses its file
(or row) with a message naming the limit, before the expensive part; docs/limits.md lists them all."""
from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cli import main
from engine.errors import InputFileError, LimitExceeded
from engine.limits import LIMITS, limit
from engine.register import read_register, scan_register
from engine.register.columns import register_columns
from tests.conftest import ROOT, policy_and_rules

REGISTER = ROOT / "examples" / "register.csv"
AS_OF = date(2024, 12, 31)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def read(path):
    policy, _ = policy_and_rules()
    return read_register(path, as_of=AS_OF, policy=policy)


def test_docs_list_every_limit_with_its_default():
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    for spec in LIMITS.values():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{spec.name}` |")), None)
        assert row is not None, f"docs/limits.md does not list {spec.name}"
        assert f"{spec.default:,}" in row, f"docs/limits.md gives another default for {spec.name}"
    assert "SCALEUP_LIMIT_" in text


def test_a_limit_is_raised_with_its_environment_variable(monkeypatch):
    monkeypatch.setenv("SCALEUP_LIMIT_REGISTER_COLUMNS", "5000")
    assert limit("REGISTER_COLUMNS") == 5000
    monkeypatch.setenv("SCALEUP_LIMIT_REGISTER_COLUMNS", "many")
    with pytest.raises(LimitExceeded, match="not a whole number"):
        limit("REGISTER_COLUMNS")


# ---------------------------------------------------------------- workbooks
def zip_bomb_xlsx(path: Path, cell_bytes: int) -> None:
    """A valid-looking workbook whose one cell is `cell_bytes` of the letter A: about 1,000 times
    smaller compressed than expanded."""
    book = openpyxl.Workbook()
    book.active.append(["统一社会信用代码", "企业名称", "所属乡镇（街道）"])
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    filler = '<row r="2"><c r="A2" t="inlineStr"><is><t>' + "A" * cell_bytes + "</t></is></c></row>"
    sheet = sheet.replace("</sheetData>", filler + "</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = sheet.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for name, data in parts.items():
            out.writestr(name, data)


def test_a_zip_bomb_workbook_is_refused_before_parsing(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    zip_bomb_xlsx(bomb, 20 << 20)                         # 20 MiB of "A" in about 20 KB
    assert bomb.stat().st_size < 200_000
    with pytest.raises(InputFileError, match="XLSX_PART_RATIO"):
        read(bomb)
    with pytest.raises(InputFileError, match="XLSX_PART_RATIO"):
        scan_register(bomb, columns=register_columns(policy_and_rules()[0]))
    result = run("check", bomb, "--as-of", "2024-12-31", "--errors", tmp_path / "e.csv")
    assert result.exit_code == 1 and "SCALEUP_LIMIT_XLSX_PART_RATIO" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "e.csv").exists()


def test_a_workbook_larger_than_the_uncompressed_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEUP_LIMIT_XLSX_UNCOMPRESSED_BYTES", "10000")
    with pytest.raises(InputFileError, match="expands to .* bytes.*XLSX_UNCOMPRESSED_BYTES"):
        read(ROOT / "examples" / "register.xlsx")
    monkeypatch.delenv("SCALEUP_LIMIT_XLSX_UNCOMPRESSED_BYTES")
    assert read(ROOT / "examples" / "register.xlsx").accepted


# ---------------------------------------------------------------- CSV
def wide_csv(path: Path, columns: int) -> None:
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    extra = "," + ",".join(f"x{i}" for i in range(columns))
    path.write_text("\n".join([lines[0] + extra] + [line + extra for line in lines[1:6]]) + "\n", encoding="utf-8")


@pytest.mark.parametrize("engine", ["durable", "columnar"])
def test_a_register_of_100000_columns_is_refused_in_one_line(tmp_path, engine):
    path = tmp_path / "wide.csv"
    wide_csv(path, 100_000)
    result = run("check", path, "--as-of", "2024-12-31", "--engine", engine)
    assert result.exit_code == 1 and "REGISTER_COLUMNS" in result.output
    assert len(result.output.splitlines()) == 1


def test_a_register_within_the_column_limit_is_read(tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 200)
    assert len(read(path).accepted) == 5


def test_an_over_long_cell_rejects_its_row_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEUP_LIMIT_CELL_CHARS", "100")
    lines = REGISTER.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[2].split(",")
    cells[1] = "甲" * 101                                       # the name column
    lines[2] = ",".join(cells)
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read(path)
    assert [r.row for r in result.rejected] == [3]
    assert "101 characters; the limit is 100" in result.rejected[0].problems[0].message
    assert len(result.accepted) == len(lines) - 2


# ---------------------------------------------------------------- YAML and JSON
def alias_bomb(levels: int = 9, fan: int = 9) -> str:
    lines = ['name: bomb', 'effective: "2024-01-01"', 'a0: &a0 "' + "x" * 10 + '"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    lines.append(f"parameters: {{scale_threshold: *a{levels}}}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_overrides_is_refused_without_expanding(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--overrides", path)
    assert result.exit_code == 1 and "YAML alias" in result.output
    assert len(result.output) < 500


def test_a_large_overrides_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: big\neffective: '2024-01-01'\nparameters: {}\nlist:\n" + "- 1\n" * 600_000,
                    encoding="utf-8")
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--overrides", path)
    assert result.exit_code == 1 and "USER_YAML_BYTES" in result.output


def test_many_small_nodes_in_overrides_are_refused(tmp_path):
    path = tmp_path / "nodes.yaml"
    path.write_text("name: n\neffective: '2024-01-01'\nparameters: {}\nlist: [" + "1," * 20_000 + "1]\n",
                    encoding="utf-8")
    result = run("check", REGISTER, "--as-of", "2024-12-31", "--overrides", path)
    assert result.exit_code == 1 and "USER_YAML_NODES" in result.output


def test_a_json_register_larger_than_its_limit_is_refused(monkeypatch):
    monkeypatch.setenv("SCALEUP_LIMIT_JSON_REGISTER_BYTES", "100")
    with pytest.raises(InputFileError, match=re.escape("JSON_REGISTER_BYTES")):
        read(ROOT / "examples" / "register.json")

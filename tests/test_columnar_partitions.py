"""A Parquet dataset (a folder of partitions, hive-style key=value folders) through `check --engine
columnar` (issue #19): the same accepted rows, decisions and rejected rows as the same rows in one
Parquet file, with each partition's file named; folder keys fill or check their column; one output
file per partition, the same bytes for any number of workers; no output outside --out."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path, PurePosixPath

import pytest

from engine.columnar import id_log
from engine.errors import OutputFileError
from tests.test_columnar_arrow import AS_OF, hostile_rows, run, sample, write_parquet

pq = pytest.importorskip("pyarrow.parquet")

TOWN = "所属乡镇（街道）"


def dataset(root: Path) -> tuple[Path, dict, list]:
    """The hostile register split into three partitions — a/, b/ and town=五桥街道/ (its rows without
    the town column) — and the same rows, in the partitions' order, in one file. Returns (folder,
    {partition name: first row's number in the one file - 1}, the one file's rows)."""
    rows = [r for r in hostile_rows() if any(r)]
    header, body = rows[0], rows[1:]
    t = header.index(TOWN)
    wq = [r for r in body if r[t] == "五桥街道"]
    rest = [r for r in body if r[t] != "五桥街道"]
    folder = root / "ds"
    parts = [("a/part-0.parquet", header, rest[:15]), ("b/part-0.parquet", header, rest[15:]),
             ("town=五桥街道/part-0.parquet", header[:t] + header[t + 1:], [r[:t] + r[t + 1:] for r in wq])]
    offsets, at = {}, 0
    for rel, hdr, part in parts:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        write_parquet(folder / rel, [hdr] + part)
        offsets[str(folder / rel)] = at
        at += len(part)
    return folder, offsets, [header] + rest + wq


def check(path, *extra):
    return run("check", path, "--as-of", AS_OF, "--engine", "columnar", *extra)


_PLACE = re.compile(r"(\S+\.parquet) row (\d+)")
_ALSO = re.compile(r"also appears in ([^;]+);")


def absolute(text: str, current: str, offsets: dict) -> str:
    """A message with every "FILE row N" and "also appears in row N, FILE row M" as row numbers of the
    one file (sorted), so that a partition's message and the one file's can be compared."""
    text = _PLACE.sub(lambda m: f"row @{offsets[m[1]] + int(m[2])}", text)

    def places(m):
        rows, base = [], offsets[current]
        for token in m[1].split(", "):
            n = token.removeprefix("row ")
            rows.append(int(n[1:]) if n.startswith("@") else base + int(n))
        return f"also appears in rows {sorted(rows)};"
    return _ALSO.sub(places, text)


def errors_rows(path: Path, offsets: dict, single: str = "") -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    out = []
    for row in rows:
        name = row.pop("file", single)
        if row.get("town"):                                   # the folder key, filled as a column
            row[TOWN] = row.pop("town")
        row.pop("town", None)
        row["error"] = absolute(row["error"], name, offsets)
        out.append(row)
    return sorted(out, key=lambda r: r["统一社会信用代码"] + r["error"])


def checked_as_one(tmp_path: Path, folder: Path, one: Path, offsets: dict) -> dict:
    """For the dataset and the one file of its rows: (exit code, output CSV, rejected rows, messages),
    row numbers made the one file's (absolute)."""
    results = {}
    for path in (folder, one):
        out, errors = tmp_path / f"{path.name}.csv", tmp_path / f"{path.name}.errors.csv"
        result = check(path, "--format", "csv", "--out", out, "--errors", errors, "--chunk-size", 4)
        lines = sorted(absolute(line, _PLACE.search(line)[1], offsets) for line in result.output.splitlines()
                       if _PLACE.search(line))
        results[path] = (result.exit_code, out.read_text(encoding="utf-8"), errors_rows(errors, offsets, str(one)),
                         lines)
    return results


@pytest.mark.parametrize("spill_rows", [None, 3], ids=["ids held", "ids spilled"])
def test_a_dataset_gives_what_the_same_rows_in_one_file_give(tmp_path, monkeypatch, spill_rows):
    if spill_rows:       # the partitions' shared id log spilled to its bucket files every 3 rows
        monkeypatch.setattr(id_log, "SPILL_ROWS", spill_rows)
    folder, offsets, rows = dataset(tmp_path)
    one = write_parquet(tmp_path / "one.parquet", rows)
    offsets[str(one)] = 0
    results = checked_as_one(tmp_path, folder, one, offsets)
    assert results[folder][0] == results[one][0] == 1
    assert results[folder][1] == results[one][1], "the decisions differ"
    assert results[folder][2] == results[one][2], "the rejected rows differ"
    assert results[folder][3] == results[one][3], "the messages differ"
    messages = " ".join(results[folder][3])
    assert "also appears in rows" in messages and "each enterprise must appear once" in messages
    wq = [r for r in csv.reader(io.StringIO(results[folder][1].lstrip("\ufeff")))][1:]
    assert sum(r[2] == "五桥街道" for r in wq) >= 4          # the folder key filled the town column


def test_a_row_that_disagrees_with_its_folder_key_is_rejected_naming_file_row_and_column(tmp_path):
    rows = sample()
    header, body = rows[0], rows[1:6]
    t = header.index(TOWN)
    body = [r[:t] + ["分水镇"] + r[t + 1:] for r in body]
    body[1][t] = "五桥街道"
    folder = tmp_path / "ds"
    (folder / "town=分水镇").mkdir(parents=True)
    write_parquet(folder / "town=分水镇" / "p.parquet", [header] + body)
    (folder / "town=%E5%88%86%E6%B0%B4%E9%95%87").mkdir()                    # percent-encoded: 分水镇
    write_parquet(folder / "town=%E5%88%86%E6%B0%B4%E9%95%87" / "p.parquet",
                  [header[:t] + header[t + 1:]] + [r[:t] + r[t + 1:] for r in rows[6:8]])
    out = tmp_path / "out.csv"
    result = check(folder, "--format", "csv", "--out", out, "--errors", tmp_path / "e.csv")
    assert result.exit_code == 1
    name = folder / "town=分水镇" / "p.parquet"
    assert f'{name} row 2, column {TOWN}: "五桥街道" disagrees with its folder town=分水镇' in result.output
    decided = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))[1:]
    assert [r[2] for r in decided] == ["分水镇"] * 6 and body[1][0] not in [r[0] for r in decided]
    errors = list(csv.DictReader(io.StringIO((tmp_path / "e.csv").read_text(encoding="utf-8-sig"))))
    assert [(e["file"], e[TOWN]) for e in errors] == [(str(name), "五桥街道")]


def test_partitions_out_one_file_each_the_same_bytes_for_any_number_of_workers(tmp_path):
    folder, _offsets, _rows = dataset(tmp_path)
    stream = check(folder, "--format", "csv", "--out", tmp_path / "all.csv", "--chunk-size", 3)
    outs = {}

    def parquet_out(key, *extra):
        out = tmp_path / f"out{key}"
        result = check(folder, "--format", "parquet", "--out", out, "--chunk-size", 3, *extra)
        assert result.exit_code == stream.exit_code == 1, result.output
        outs[key] = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}
        assert not list(out.glob(".*.part")), "a worker's part file was left"
        return json.loads((out / "_scaleup_run.json").read_text(encoding="utf-8"))

    run_file = parquet_out("1")
    assert list(outs["1"]) == ["a/part-0.parquet", "b/part-0.parquet", "town=五桥街道/part-0.parquet"]
    parquet_out("2", "--workers", 2)
    assert outs["2"] == outs["1"], "two workers wrote other bytes than one"
    # Read in order, the partitions hold the rows of the single stream: duplicates taken out everywhere.
    ids = [i for rel in outs["1"] for i in pq.read_table(tmp_path / "out1" / rel).column("enterprise_id").to_pylist()]
    text = (tmp_path / "all.csv").read_text(encoding="utf-8").lstrip("\ufeff")
    assert ids == [r[0] for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert [p["input"] for p in run_file["partitions"]] == list(outs["1"])
    assert run_file["policy"] and run_file["as_of"] == AS_OF and run_file["rejected"] > 0
    assert sum(p["accepted"] for p in run_file["partitions"]) == len(ids)
    pytest.importorskip("distributed")
    parquet_out("dask", "--executor", "dask", "--workers", 2)
    assert outs["dask"] == outs["1"], "Dask wrote other bytes than one worker"


def test_a_partition_cannot_be_written_outside_the_output_folder(tmp_path):
    from engine.columnar.partitions import output_path
    out = tmp_path / "out"
    out.mkdir()
    for hostile in ("../escape.parquet", "/etc/x.parquet", "a/../../x.parquet"):
        with pytest.raises(OutputFileError):
            output_path(out, PurePosixPath(hostile))
    folder, _offsets, _rows = dataset(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "town=五桥街道").symlink_to(elsewhere, target_is_directory=True)
    result = check(folder, "--format", "parquet", "--out", out)
    assert result.exit_code != 0 and "symbolic link" in result.output
    assert not list(elsewhere.iterdir()) and not (out / "a" / "part-0.parquet").exists()
    inside = check(folder, "--format", "parquet", "--out", folder / "results")
    assert inside.exit_code != 0 and "inside the dataset" in inside.output


def test_folders_the_dataset_reader_refuses_get_one_message(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x", encoding="utf-8")
    result = check(empty, "--format", "csv")
    assert result.exit_code != 0 and "no Parquet files" in result.output
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_parquet(mixed / "p.parquet", sample())
    (mixed / "r.csv").write_text("x", encoding="utf-8")
    result = check(mixed, "--format", "csv")
    assert result.exit_code != 0 and "--engine durable" in result.output and "r.csv" in result.output
    (mixed / "r.csv").unlink()
    import pyarrow as pa
    pq.write_table(pa.table({"统一社会信用代码": ["x"], "上年营业收入": [[1.5]]}), mixed / "typed.parquet")
    result = check(mixed, "--format", "csv")
    assert result.exit_code != 0 and "typed.parquet: typed Parquet columns" in result.output
    (mixed / "typed.parquet").unlink()
    write_parquet(mixed / "z.parquet", [r[:1] + r[2:] for r in sample()])          # no 企业名称 column
    result = check(mixed, "--format", "parquet", "--out", tmp_path / "out")
    assert result.exit_code != 0 and "z.parquet: missing required column" in result.output
    assert not list((tmp_path / "out").rglob("*.parquet")), "a partition was written before the run stopped"
    result = check(sample_file := write_parquet(tmp_path / "s.parquet", sample()), "--format", "parquet",
                   "--out", tmp_path)
    assert result.exit_code == 2 and "is a folder" in result.output and sample_file.exists()


def test_a_partition_of_one_large_row_group_is_read_a_batch_at_a_time(tmp_path):
    """pyarrow writes up to a million rows in one row group: such a partition (or file) is decoded a
    batch at a time, never whole. pyarrow's memory pool is measured while the batches are read."""
    import pyarrow as pa
    from bench.columnar import uscc_ids
    from engine.columnar.partitions import open_dataset
    from tests.conftest import policy_and_rules
    rows = sample()
    header, body = rows[0], rows[1:]
    col, n = header.index("统一社会信用代码"), 30_000
    many = [r[:col] + [eid] + r[col + 1:] for eid, r in zip(uscc_ids(n), (body * (n // len(body) + 1))[:n])]
    (tmp_path / "ds" / "p").mkdir(parents=True)
    path = tmp_path / "ds" / "p" / "one-group.parquet"
    pq.write_table(pa.table({h: [r[i] for r in many] for i, h in enumerate(header)}), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    whole = pq.read_table(path).nbytes
    stream = open_dataset(tmp_path / "ds", as_of=date(2024, 12, 31), policy=policy_and_rules()[0])
    base, peak, seen = pa.total_allocated_bytes(), 0, 0
    for _rows, frame in stream.batches(500):
        seen += frame.n
        peak = max(peak, pa.total_allocated_bytes() - base)
    assert seen == n and not stream.rejected
    assert peak < whole / 3, (peak, whole)

"""Hostile inputs against the `scaleup` command: wall time, peak memory, exit code and the first line of
what it says, for each input of issue #21. A measurement, not a test (tests/test_limits.py,
tests/test_hostile_inputs.py and friends keep the behaviour true).

    .venv/bin/python bench/hostile.py                       # this tree
    .venv/bin/python bench/hostile.py --root /tmp/old-tree  # another checkout, e.g. before the fixes
    .venv/bin/python bench/hostile.py --only bomb --timeout 60 --memory-mb 3000

Each case runs in its own process under /usr/bin/time -v, with a time-out and an address-space cap
(a run that exceeds them is reported as such: the machine is shared). Cases that would damage the
machine on a tree without the fixes (--out /dev/full as root) are skipped for --root.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
REGISTER = HERE / "examples" / "register.csv"
AS_OF = ["--as-of", "2024-12-31"]


def sample_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(REGISTER.read_text(encoding="utf-8-sig"))))


def write_rows(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def xlsx_bomb(path: Path, one_cell: bool, expanded: int) -> Path:
    """A workbook of a few MB whose sheet expands to `expanded` bytes: one giant cell, or small rows."""
    header = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxml'
              'formats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>统一社会'
              '信用代码</t></is></c><c r="B1" t="inlineStr"><is><t>企业名称</t></is></c><c r="C1" t="inlineStr"><is>'
              '<t>所属乡镇（街道）</t></is></c></row>')
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
        '.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org'
        '/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument'
        '/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for name, text in parts.items():
            out.writestr(name, text)
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(header.encode())
            block = 1 << 20
            if one_cell:
                sheet.write(b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
                for _ in range(expanded // block):
                    sheet.write(b"A" * block)
                sheet.write(b"</t></is></c></row>")
            else:
                n, written = 2, 0
                while written < expanded:
                    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="B{r}"><v>2</v></c></row>'
                                   for r in range(n, n + 10000)).encode()
                    sheet.write(rows)
                    written += len(rows)
                    n += 10000
            sheet.write(b"</sheetData></worksheet>")
    return path


def alias_bomb(path: Path) -> Path:
    lines = ["name: bomb", 'effective: "2024-12-31"', 'a0: &a0 "xxxxxxxxxx"']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("parameters: {scale_threshold: *a9}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def damaged_ledger(work: Path, run) -> Path:
    ledger = work / "damaged.db"
    run(["awards", str(REGISTER), "--year", "2024", "--ledger", str(ledger), "--commit"], quiet=True)
    data = bytearray(ledger.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8192] = random.Random(1).randbytes(8192)
    ledger.write_bytes(bytes(data))
    return ledger


def cases(work: Path, run, root: Path) -> list[tuple[str, list[str]]]:
    """(label, scaleup arguments), files made on the way."""
    rows = sample_rows()
    out: list[tuple[str, list[str]]] = []
    own = write_rows(work / "r.csv", rows)
    out.append(("check r.csv --format csv --out r.csv", ["check", str(own), *AS_OF, "--format", "csv", "--out", str(own)]))
    bad = shutil.copy(HERE / "examples" / "register_with_errors.csv", work / "bad.csv")
    out.append(("check bad.csv --errors bad.csv", ["check", str(bad), *AS_OF, "--errors", str(bad)]))
    link = work / "link.csv"
    link.symlink_to(work / "target.txt")
    (work / "target.txt").write_text("keep")
    out.append(("check --out <symlink>", ["check", str(REGISTER), *AS_OF, "--format", "csv", "--out", str(link)]))
    fifo = work / "fifo"
    os.mkfifo(fifo)
    out.append(("check --out <FIFO>", ["check", str(REGISTER), *AS_OF, "--format", "csv", "--out", str(fifo)]))
    if root == HERE and os.path.exists("/dev/full"):
        out.append(("check --out /dev/full", ["check", str(REGISTER), *AS_OF, "--format", "csv", "--out", "/dev/full"]))
    out.append(("check --out <missing folder>/o.csv", ["check", str(REGISTER), *AS_OF, "--out", str(work / "no" / "o.csv")]))
    out.append(("check --set scale_threshold=1e400", ["check", str(REGISTER), *AS_OF, "--set", "scale_threshold=1e400"]))
    out.append(("check --set x=1 --set x=2", ["check", str(REGISTER), *AS_OF, "--set", "scale_threshold=1",
                                             "--set", "scale_threshold=2"]))
    out.append(("overrides: alias bomb 9x9", ["check", str(REGISTER), *AS_OF, "--overrides",
                                             str(alias_bomb(work / "bomb.yaml"))]))
    big = work / "big.yaml"
    big.write_text("name: big\neffective: '2024-12-31'\nparameters: {}\nlist:\n" + "- 1234567890\n" * 1_200_000)
    out.append(("overrides: 14 MB YAML list", ["check", str(REGISTER), *AS_OF, "--overrides", str(big)]))
    out.append(("xlsx 1 cell -> 1.1 GB", ["check", str(xlsx_bomb(work / "cell.xlsx", True, 1100 << 20)), *AS_OF,
                                         "--errors", str(work / "cell-errors.csv")]))
    out.append(("xlsx small rows -> 1.1 GB", ["check", str(xlsx_bomb(work / "rows.xlsx", False, 1100 << 20)),
                                             *AS_OF]))
    wide = [r + [f"x{i}" for i in range(100_000)] for r in rows[:51]]
    out.append(("CSV 50 rows x 100k columns", ["check", str(write_rows(work / "wide.csv", wide)), *AS_OF]))
    future = [list(r) for r in rows]
    future[2][future[0].index("成立日期")] = "2030-01-01"
    out.append(("成立日期 2030 (as of 2024)", ["check", str(write_rows(work / "future.csv", future)), *AS_OF]))
    lines = REGISTER.read_bytes().split(b"\n")
    cells = lines[4].split(b",")
    cells[1] = "Café Müller".encode("latin-1")
    lines[4] = b",".join(cells)
    (work / "latin.csv").write_bytes(b"\n".join(lines))
    out.append(("one Latin-1 row in UTF-8 CSV", ["check", str(work / "latin.csv"), *AS_OF]))
    repeated = [r + [r[1]] for r in rows]
    out.append(("repeated header 企业名称", ["check", str(write_rows(work / "rep.csv", repeated)), *AS_OF]))
    nul = [list(r) for r in rows]
    nul[2][1] = "甲\x00公司"
    # Written by hand: Python 3.10's csv module cannot write a NUL (no cell here needs quoting).
    (work / "nul.csv").write_text("\n".join(",".join(r) for r in nul) + "\n", encoding="utf-8")
    out.append(("NUL in a name, --format json", ["check", str(work / "nul.csv"), *AS_OF, "--format", "json"]))
    qian = [list(r) for r in rows]
    col = qian[0].index("上年营业收入")
    qian[0][col] = "上年营业收入（千元）"
    out.append(("header 上年营业收入（千元）", ["check", str(write_rows(work / "qian.csv", qian)), *AS_OF,
                                              "--format", "csv", "--out", str(work / "qian-out.csv")]))
    yuan = [list(r) for r in rows]
    for r in yuan[1:]:
        if r[col].strip():
            r[col] = str(int(float(r[col]) * 10000))
    out.append(("元 figures under 上年营业收入", ["check", str(write_rows(work / "yuan.csv", yuan)), *AS_OF]))
    ledger = damaged_ledger(work, run)
    out.append(("ledger show (damaged)", ["ledger", "show", "--ledger", str(ledger)]))
    out.append(("ledger pay --commit (damaged)", ["ledger", "pay", "--ledger", str(ledger), "--paid-on", "2025-03-01",
                                                  "--reference", "X", "--commit"]))
    out.append(("ledger export (damaged)", ["ledger", "export", "--ledger", str(ledger), "--out", str(work / "exp")]))
    good = work / "good.db"
    run(["awards", str(REGISTER), "--year", "2024", "--ledger", str(good), "--commit"], quiet=True)
    out.append(("ledger pay --paid-on 2001-01-01", ["ledger", "pay", "--ledger", str(good), "--paid-on", "2001-01-01",
                                                    "--reference", "X", "--commit"]))
    copy = work / "policies" / "wanzhou-2022-80"
    shutil.copytree(root / "policies" / "wanzhou-2022-80", copy)
    shutil.copytree(root / "policies" / "jurisdictions", work / "policies" / "jurisdictions")
    if (root / "rules").is_dir():
        shutil.copytree(root / "rules", work / "rules")          # policy.yaml names ../../rules
    params = copy / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    at = text.index('value: "100000"', text.index("enterprise_award_industrial:"))
    params.write_text(text[:at] + 'value: "150000"' + text[at + 15:], encoding="utf-8")
    records = work / "records"
    run(["audit", str(REGISTER), *AS_OF, "--policy", str(copy), "--out", str(records)], quiet=True)
    out.append(("verify records of an edited copy", ["verify", str(records)]))
    hostile = work / "hostile-records"
    run(["audit", str(REGISTER), *AS_OF, "--out", str(hostile)], quiet=True)
    (hostile / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    first = sorted(hostile.glob("*enterprise_award*.json"))[0]
    record = json.loads(first.read_text(encoding="utf-8"))
    record["input"]["enterprise"]["revenue_prev_year"] = "1E+400"
    (hostile / "e400.json").write_text(json.dumps(record))
    record = json.loads(first.read_text(encoding="utf-8"))
    record["decision"]["outcome"] = "x" * (5 << 20)
    (hostile / "long.json").write_text(json.dumps(record))
    out.append(("verify: deep + 1E+400 + 5 MB value among 12", ["verify", str(hostile)]))
    out.append(("verify --policy <not a policy>", ["verify", str(hostile), "--policy", str(work)]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="source tree whose cli.py is run")
    parser.add_argument("--timeout", type=int, default=120)
    parser.add_argument("--memory-mb", type=int, default=4000)
    parser.add_argument("--only", default=None, help="run the cases whose label contains this text")
    args = parser.parse_args()
    root = args.root.resolve()

    def run(scaleup_args: list[str], quiet: bool = False) -> dict:
        command = ["/usr/bin/time", "-v", sys.executable, str(root / "cli.py"), *scaleup_args]
        limit = f"ulimit -v {args.memory_mb * 1024}; exec \"$@\""
        try:
            proc = subprocess.run(["bash", "-c", limit, "bash", *command], capture_output=True, timeout=args.timeout,
                                  cwd=work, env={**os.environ, "PYTHONPATH": str(root)})
        except subprocess.TimeoutExpired:
            return {"code": "timeout", "seconds": f">{args.timeout}", "peak_mb": "?", "message": "(killed)"}
        err = proc.stderr.decode("utf-8", "replace")
        seconds = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", err)
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("\t")
                 and "Command exited" not in line and "Command being timed" not in line]
        said = next((line for line in lines if line.startswith(("error", "Error", "Traceback", "warning"))),
                    lines[0] if lines else proc.stdout.decode("utf-8", "replace").splitlines()[0:1] or [""])
        if isinstance(said, list):
            said = said[0] if said else ""
        if "Traceback" in err:
            said = "Traceback: " + [line for line in lines if line][-1]
        return {"code": proc.returncode, "seconds": seconds.group(1) if seconds else "?",
                "peak_mb": int(peak.group(1)) // 1024 if peak else "?", "message": said[:150],
                "stdout": proc.stdout.decode("utf-8", "replace")}

    work = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        print(f"| input | time (m:ss) | peak MB | exit | says |\n|---|---|---|---|---|")
        for label, scaleup_args in cases(work, run, root):
            if args.only and args.only not in label:
                continue
            r = run(scaleup_args)
            if label.startswith("verify") and r.get("stdout"):
                tail = r["stdout"].strip().splitlines()[-1:]
                r["message"] = (r["message"] + " " + " ".join(tail))[:150]
            print(f"| {label} | {r['seconds']} | {r['peak_mb']} | {r['code']} | {r['message'].replace('|', '/')} |",
                  flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

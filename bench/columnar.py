"""Benchmark: the columnar path (issue #19) beside the durable_rules path, on a generated register.

    .venv/bin/python bench/columnar.py                      # evaluation at 10k/100k/1M, end to end on 1M
    .venv/bin/python bench/columnar.py --quick              # 10k / 100k, end to end on 100k
    .venv/bin/python bench/columnar.py --rows 1000000 --e2e-rows 1000000 --more-rows 10000000 --workers 1,2

Reports, for the same generated register (deterministic, fictional; every enterprise valid):
  * columnar evaluation of loaded rows (all six families), rows/s and rows per CPU second at each size;
  * durable_rules on the first --durable-rows of it, rows/s, and the columnar speed-up on those rows
    (the two engines' verdicts are compared on them as a check);
  * the columnar path's stages on --e2e-rows rows, in one child process, CPU seconds each: pyarrow's
    CSV parse alone, read + validate, evaluate, render + write; bytes per row; peak RSS;
  * end to end through the CLI, per --workers value: CSV -> decisions CSV, Parquet -> Parquet (the
    register with every column text, and typed as a database export writes it: decimals, dates,
    booleans, integers) and a Parquet dataset (the register split into one hive partition per town, town=<name>/part-0.parquet)
    -> one Parquet file per partition; wall time, CPU seconds and the peak memory of the whole process
    tree (PSS summed over the parent and its workers, sampled every 0.1 s); the same for --more-rows (the register repeated with new ids;
    REGISTER_ROWS is raised for those runs).
The machine is shared: rows per CPU second and the load average printed beside each figure say more
than wall-clock rates.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.uscc import CHARSET, WEIGHTS  # noqa: E402

HEADER = ["enterprise_id", "name", "town", "in_park", "industry_code", "is_legal_person", "independent_accounting",
          "established_on", "commissioned_on", "in_scope", "in_scope_since", "previously_in_scope", "origin",
          "revenue_last_year", "revenue_ytd", "ytd_through", "revenue_ytd_last_year", "employees",
          "production_status", "months_without_output", "profit_ytd", "loss_years", "mujun_class",
          "land_request_mu", "power_request_kva", "tags", "registration_status"]
TOWNS = ["分水镇", "高峰街道", "五桥街道", "天城街道", "龙沙镇", "武陵镇", "恒合土家族乡", "高梁镇", "李河镇", "长岭镇"]
CODES = ["C3484", "C2922", "C1371", "C3670", "C3872", "B0610", "D4411", "C2110", "I6513", "I6420", "I6311",
         "F5165", "E4790"]


def _pick(rng, n, choices, p=None):
    return np.asarray(choices, dtype=object)[rng.choice(len(choices), size=n, p=p)]


def _money(rng, n, lo, hi, blank=0.0, signed=False):
    fen = rng.integers(lo * 100, hi * 100, size=n)
    sign = np.where(rng.random(n) < 0.2, -1, 1) if signed else 1
    text = [("-" if s < 0 else "") + f"{v // 100}.{v % 100:02d}" for v, s in zip(fen.tolist(),
                                                                                 np.broadcast_to(sign, n).tolist())]
    return [("" if b else t) for t, b in zip(text, (rng.random(n) < blank).tolist())]


def _dates(rng, n, start: date, end: date):
    days = rng.integers(start.toordinal(), end.toordinal() + 1, size=n)
    return [date.fromordinal(d).isoformat() for d in days.tolist()]


def uscc_ids(n: int, offset: int = 0) -> list[str]:
    """Valid, distinct USCCs: 915001017 + 8 characters counting in base 31 + the check character."""
    idx = np.arange(offset, offset + n, dtype=np.int64)
    digits = np.stack([(idx // 31 ** k) % 31 for k in range(7, -1, -1)], axis=1)
    prefix = [CHARSET.index(c) for c in "915001017"]
    full = np.concatenate([np.tile(prefix, (n, 1)), digits], axis=1)
    check = (31 - (full * np.array(WEIGHTS)).sum(axis=1) % 31) % 31
    chars = np.array(list(CHARSET))
    body = chars[full]
    return ["".join(row) + chars[c] for row, c in zip(body.tolist(), check.tolist())]


def generate_csv(path: Path, n: int, as_of: date, seed: int = 20241231) -> None:
    rng = np.random.default_rng(seed)
    through = f"{as_of.year}-{as_of.month:02d}"
    in_scope = rng.random(n) < 0.4
    since_year = rng.integers(as_of.year - 6, as_of.year + 1, size=n)
    since_month = np.where(since_year == as_of.year, rng.integers(1, as_of.month + 1, size=n),
                           rng.integers(1, 13, size=n))
    cols = {
        "enterprise_id": uscc_ids(n),
        "name": [f"重庆万州测试{i}有限公司" for i in range(n)],
        "town": _pick(rng, n, TOWNS),
        "in_park": _pick(rng, n, ["是", "否"]),
        "industry_code": _pick(rng, n, CODES),
        "is_legal_person": _pick(rng, n, ["是", "否"], [0.95, 0.05]),
        "independent_accounting": _pick(rng, n, ["是", "否", ""], [0.8, 0.1, 0.1]),
        "established_on": _dates(rng, n, date(2000, 1, 1), as_of),
        "commissioned_on": [d if k else "" for d, k in zip(_dates(rng, n, date(as_of.year - 2, 1, 1), as_of),
                                                              (rng.random(n) < 0.2).tolist())],
        "in_scope": np.where(in_scope, "是", "否"),
        "in_scope_since": [f"{y}-{m:02d}" if s else "" for y, m, s in zip(since_year.tolist(), since_month.tolist(),
                                                                          in_scope.tolist())],
        "previously_in_scope": _pick(rng, n, ["否", "是", ""], [0.85, 0.05, 0.1]),
        "origin": _pick(rng, n, ["", "招商引资", "小升规"], [0.6, 0.2, 0.2]),
        "revenue_last_year": _money(rng, n, 0, 6000, blank=0.05),
        "revenue_ytd": _money(rng, n, 0, 6000),
        "ytd_through": [through] * n,
        "revenue_ytd_last_year": _money(rng, n, 1, 6000, blank=0.1),
        "employees": [str(v) for v in rng.integers(0, 400, size=n).tolist()],
        "production_status": _pick(rng, n, ["正常", "半停产", "停产", ""], [0.85, 0.05, 0.03, 0.07]),
        "months_without_output": [str(v) for v in rng.integers(0, 6, size=n).tolist()],
        "profit_ytd": _money(rng, n, 0, 500, blank=0.3, signed=True),
        "loss_years": [str(v) for v in rng.integers(0, 4, size=n).tolist()],
        "mujun_class": _pick(rng, n, ["", "A", "B", "C", "D"], [0.5, 0.1, 0.2, 0.15, 0.05]),
        "land_request_mu": _pick(rng, n, ["", "20", "35.5"], [0.9, 0.05, 0.05]),
        "power_request_kva": _pick(rng, n, ["", "1250", "800"], [0.9, 0.05, 0.05]),
        "tags": _pick(rng, n, ["", "高技术", "数字经济；战略性新兴"], [0.8, 0.1, 0.1]),
        "registration_status": _pick(rng, n, ["存续", "经营异常", "注销"], [0.95, 0.04, 0.01]),
    }
    series = [list(cols[h]) for h in HEADER]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(HEADER) + "\r\n")
        for a in range(0, n, 100_000):
            fh.write("".join(",".join(row) + "\r\n" for row in zip(*(s[a:a + 100_000] for s in series))))


CPU: list[float] = []     # process CPU seconds of the best run of the last `best` call


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    CPU[:] = [cpu]
    return wall, out


def tree_rss(pid: int) -> float:
    """Memory (MiB) of a process and all its descendants, now: the sum of their proportional set sizes
    (PSS: pages a forked worker shares with its parent are counted once, not in each), RSS where the
    system gives no PSS."""
    import psutil
    try:
        proc = psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += getattr(p.memory_full_info(), "pss", None) or p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def run_child(cmd: list[str]) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS of the process tree (MiB, PSS summed, sampled every 0.1 s), exit code and CPU seconds
    (user + system, the child and the children it waited for) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # stderr into a file, not a pipe read after the child ends: a register with many rejected rows writes
    # more than a pipe holds (64 KiB), and the child would wait forever to write the rest.
    with tempfile.TemporaryFile() as errors:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - t
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    if proc.returncode not in (0, 1):
        print(err[-2000:], file=sys.stderr)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    return wall, peak, proc.returncode, cpu


def stages(path: str, as_of: str, out: str) -> None:
    """In a child process: the columnar path's stages on one register, timed apart (CPU seconds):
    pyarrow's CSV parse alone; read + validate (the reader's batches); evaluation; rendering and
    writing the CSV. Prints one line of JSON."""
    import json
    from engine.columnar import pipeline
    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.reader import open_register_stream
    from engine.evaluate import load_engine_inputs
    from engine.output import csv_headers
    day = date.fromisoformat(as_of)
    policy, book = load_engine_inputs("wanzhou-2022-80")
    stream = open_register_stream(path, as_of=day, policy=policy)
    c = time.process_time()
    parsed = sum(len(b) for b in stream.reader.source.batches(stream.reader.ncols, stream.reader.header_row,
                                                               pipeline.CHUNK_ROWS))
    parse = time.process_time() - c
    evaluator = ColumnarEvaluator(policy, book, day)
    writer = pipeline.BatchWriter("csv", Path(out), headers=csv_headers("zh"))
    read = evaluate = write = 0.0
    c = time.process_time()
    rows = 0
    for _, frame in stream.batches(pipeline.CHUNK_ROWS):
        c1 = time.process_time()
        read += c1 - c
        batch = evaluator.evaluate_frame(frame)
        c2 = time.process_time()
        writer.write(pipeline.render(batch, "csv"))
        c = time.process_time()
        evaluate += c2 - c1
        write += c - c2
        rows += frame.n
    read += time.process_time() - c
    writer.close()
    print(json.dumps({"rows": rows, "parsed": parsed, "parse": parse, "read": read, "evaluate": evaluate,
                      "write": write, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def split_cpu(path: str, fmt: str, workers: str, out: str) -> None:
    """In a child process: `check --engine columnar` run in this process, then the CPU seconds of this
    process (the parent: start-up, cutting or parsing the register, taking in the workers' state,
    writing) and of its workers apart, with the load average. Prints one line."""
    import cli
    sys.argv = ["scaleup", "check", path, "--as-of", "2024-12-31", "--engine", "columnar", "--format", fmt,
                "--out", out, "--workers", workers]
    Path(out).unlink(missing_ok=True)            # as end_to_end: a new output, not one replaced
    t = time.perf_counter()
    try:
        cli.main()
    except SystemExit:
        pass
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"{fmt} --workers {workers}: wall {time.perf_counter() - t:.1f}s, parent CPU {me.ru_utime + me.ru_stime:.2f}s, "
          f"workers CPU {kids.ru_utime + kids.ru_stime:.2f}s, load {os.getloadavg()[0]:.2f}")


class RowGroups:
    """Tables regrouped into row groups of `size` rows, the last one the rest. The CSV reader's batches
    are ~5,700 rows (a 1 MiB block): written one by one, each became a row group of its own, and a
    10M-row file's footer (which a Parquet reader holds whole) had 1,740 groups and took 62 MiB."""

    def __init__(self, size: int):
        self.size, self.pending = size, []

    def add(self, table) -> list:
        import pyarrow as pa
        self.pending.append(table)
        if sum(t.num_rows for t in self.pending) < self.size:
            return []
        table = pa.concat_tables(self.pending)
        whole = table.num_rows - table.num_rows % self.size
        self.pending = [table.slice(whole)]
        return [table.slice(0, whole)]

    def rest(self) -> list:
        import pyarrow as pa
        rest, self.pending = [t for t in self.pending if t.num_rows], []
        return [pa.concat_tables(rest)] if rest else []


def to_parquet(csv_path: Path, out: Path, group: int = 1 << 15) -> None:
    """The register as Parquet, every column text (as an export from a statistics system would be), in
    row groups of `group` rows."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    reader = pcsv.open_csv(csv_path, convert_options=pcsv.ConvertOptions(
        column_types={h: pa.string() for h in HEADER}, strings_can_be_null=False))
    groups = RowGroups(group)
    with pq.ParquetWriter(out, reader.schema) as writer:
        for batch in reader:
            for table in groups.add(pa.Table.from_batches([batch])):
                writer.write_table(table, row_group_size=group)
        for table in groups.rest():
            writer.write_table(table, row_group_size=group)


MONEY = ("revenue_last_year", "revenue_ytd", "revenue_ytd_last_year", "profit_ytd")
FLAGS = ("in_park", "is_legal_person", "independent_accounting", "in_scope", "previously_in_scope")


def to_typed_parquet(csv_path: Path, out: Path, group: int = 1 << 15) -> None:
    """The register as a database export would write it: money and the two requests as decimal128(18, 2),
    dates and months (the first of the month) as date32, flags as booleans, counts as int64, the rest
    text; row groups of `group` rows, 32,768 (arrow_source.PARQUET_ROWS), the last one the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    types = {h: pa.string() for h in HEADER}
    types.update({h: pa.decimal128(18, 2) for h in MONEY + ("land_request_mu", "power_request_kva")})
    types.update({h: pa.date32() for h in ("established_on", "commissioned_on")})
    types.update({h: pa.bool_() for h in FLAGS})
    types.update({h: pa.int64() for h in ("employees", "months_without_output", "loss_years")})
    reader = pcsv.open_csv(csv_path, convert_options=pcsv.ConvertOptions(
        column_types=types, true_values=["是"], false_values=["否"], strings_can_be_null=False))
    writer, groups = None, RowGroups(group)
    try:
        for batch in reader:
            columns = dict(zip(batch.schema.names, batch.columns))
            for h in ("ytd_through", "in_scope_since"):         # "2024-12" -> 2024-12-01, "" -> null
                text = pc.if_else(pc.equal(columns[h], ""), None, columns[h])
                columns[h] = pc.cast(pc.binary_join_element_wise(text, "-01", ""), pa.date32())
            table = pa.table(columns)
            writer = writer or pq.ParquetWriter(out, table.schema)
            for whole in groups.add(table):
                writer.write_table(whole, row_group_size=group)
        for rest in groups.rest():
            writer.write_table(rest, row_group_size=group)
    finally:
        if writer is not None:
            writer.close()


def first_rows(src_path: Path, n: int, dst_path: Path) -> Path:
    if not dst_path.exists():
        with open(src_path, encoding="utf-8") as src, open(dst_path, "w", encoding="utf-8", newline="") as dst:
            for _, line in zip(range(n + 1), src):
                dst.write(line)
    return dst_path


def stage_report(e2e: Path, args, work: Path, n: int) -> None:
    import json
    cmd = [sys.executable, str(Path(__file__).resolve()), "--stages", str(e2e), args.as_of, str(work / "s.csv")]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        print(out.stderr[-2000:])
        return
    st = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"stages, one process, CPU seconds (load {os.getloadavg()[0]:.1f}):")
    for key, label in (("parse", "pyarrow CSV parse alone"), ("read", "read + validate"),
                       ("evaluate", "evaluate (six families)"), ("write", "render + write CSV")):
        print(f"  {label:<26} {st[key]:7.2f}s  {st['rows'] / max(st[key], 1e-9):>12,.0f} rows per CPU second")
    total = st["read"] + st["evaluate"] + st["write"]
    print(f"  {'all (read to write)':<26} {total:7.2f}s  {st['rows'] / total:>12,.0f} rows per CPU second; "
          f"peak RSS {st['rss']:,.0f} MiB (with the parse-only pass before)")


def end_to_end(e2e: Path, args, work: Path, full: bool = True) -> None:
    """The columnar path through the CLI, child processes, peak memory of the process tree. Not `full`
    (the --more-rows sizes): no stages, and only the last --workers value."""
    scaleup = str(ROOT / ".venv" / "bin" / "scaleup")
    n, size = args_rows(e2e), e2e.stat().st_size
    print(f"\n{n:,} rows, {size / n:,.0f} bytes a row of CSV")
    if full:
        stage_report(e2e, args, work, n)
    pq_in = e2e.with_suffix(".parquet")
    if not pq_in.exists():
        to_parquet(e2e, pq_in)
    typed_in = e2e.with_name(e2e.stem + "_typed.parquet")
    if not typed_in.exists():
        to_typed_parquet(e2e, typed_in)
    dataset = work / f"dataset_{n}"
    if not dataset.exists():
        to_dataset(pq_in, dataset)
    for label, path, fmt, out in (("CSV -> decisions CSV", e2e, "csv", work / "decisions.csv"),
                                  ("Parquet -> Parquet", pq_in, "parquet", work / "decisions.parquet"),
                                  ("typed Parquet -> Parquet", typed_in, "parquet", work / "decisions.parquet"),
                                  (f"Parquet {len(TOWNS)} town partitions -> partitions", dataset, "parquet",
                                   work / "decisions_parts")):
        for workers in (args.workers if full else args.workers[-1:]):
            # The previous run's output is removed first: replacing a 400 MB file makes the system write
            # the new one out and free the old one's pages at the rename (0.25-0.45 s of a 1M-row CSV
            # run on this machine), a cost of the file system, not of the run.
            if out.is_dir():
                shutil.rmtree(out)
            out.unlink(missing_ok=True)
            wall, rss, code, cpu = run_child([scaleup, "check", str(path), "--as-of", args.as_of, "--engine",
                                              "columnar", "--format", fmt, "--out", str(out),
                                              "--workers", str(workers)])
            size = sum(p.stat().st_size for p in out.rglob("*.parquet")) if out.is_dir() else out.stat().st_size
            print(f"end to end {label}, --workers {workers}: {wall:.1f}s wall, {n / wall:,.0f} rows/s, "
                  f"{cpu:.1f} CPU-s ({n / cpu:,.0f} rows per CPU second), peak memory of the process tree "
                  f"{rss:,.0f} MiB (PSS), output {size / n:,.0f} bytes a row, exit {code}, "
                  f"load {os.getloadavg()[0]:.1f}")


def to_dataset(pq_path: Path, folder: Path, group: int = 1 << 15) -> None:
    """The Parquet register split by town into a hive-style dataset, town=<name>/part-0.parquet, the town
    column left out of the files (the folder name gives it), each in row groups of `group` rows."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import pyarrow as pa
    source = pq.ParquetFile(pq_path)
    writers, groups = {}, {}
    try:
        for batch in source.iter_batches(batch_size=65_536):
            town = batch.column(HEADER.index("town"))
            rest = pa.Table.from_batches([batch]).drop_columns(["town"])
            for name in pc.unique(town).to_pylist():
                part = rest.filter(pc.equal(town, name))
                if name not in writers:
                    (folder / f"town={name}").mkdir(parents=True, exist_ok=True)
                    writers[name] = pq.ParquetWriter(folder / f"town={name}" / "part-0.parquet", part.schema)
                    groups[name] = RowGroups(group)
                for table in groups[name].add(part):
                    writers[name].write_table(table, row_group_size=group)
        for name, writer in writers.items():
            for table in groups[name].rest():
                writer.write_table(table, row_group_size=group)
    finally:
        for writer in writers.values():
            writer.close()


def repeated(src_path: Path, rows: int, dst_path: Path) -> None:
    """A larger register: the source's rows again and again, each copy with ids of its own."""
    with open(src_path, encoding="utf-8") as src:
        header, body = src.readline(), src.read().splitlines()
    done = 0
    with open(dst_path, "w", encoding="utf-8", newline="") as dst:
        dst.write(header)
        while done < rows:
            take = body[:rows - done]
            ids = uscc_ids(len(take), offset=done)
            dst.write("".join(f"{eid}{line[line.index(','):]}\n" for eid, line in zip(ids, take)))
            done += len(take)


def args_rows(path: Path) -> int:
    return int(path.stem.rsplit("_", 1)[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="10000,100000,1000000", help="loaded-row counts to evaluate")
    ap.add_argument("--durable-rows", type=int, default=2000)
    ap.add_argument("--e2e-rows", type=int, default=1_000_000, help="rows for the end-to-end CLI run (0: skip)")
    ap.add_argument("--as-of", default="2024-12-31")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None, help="keep the generated files here")
    ap.add_argument("--quick", action="store_true", help="10k/100k rows, end to end on 100k")
    ap.add_argument("--more-rows", dest="e2e_more", default="",
                    help="more end-to-end sizes (the e2e register repeated, new ids), e.g. 10000000")
    ap.add_argument("--workers", default="1,2", help="--workers values for the end-to-end runs")
    ap.add_argument("--stages", nargs=3, metavar=("FILE", "AS_OF", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--split-cpu", nargs=4, metavar=("FILE", "FORMAT", "WORKERS", "OUT"),
                    help="one end-to-end run in this process: the parent's and the workers' CPU seconds apart")
    args = ap.parse_args()
    if args.stages:
        stages(*args.stages)
        return
    if args.split_cpu:
        split_cpu(*args.split_cpu)
        return
    args.workers = [int(w) for w in args.workers.split(",") if w]
    if args.quick:
        args.rows, args.e2e_rows = "10000,100000", 100_000
    sizes = [int(x) for x in args.rows.split(",") if x]
    as_of = date.fromisoformat(args.as_of)

    from engine.columnar.evaluator import ColumnarEvaluator
    from engine.columnar.reader import read_register_frame
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.register import read_register

    work = Path(args.workdir or tempfile.mkdtemp(prefix="scaleup-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    biggest = max(sizes + [args.e2e_rows, args.durable_rows])
    csv_path = work / f"register_{biggest}.csv"
    if not csv_path.exists():
        t = time.perf_counter()
        generate_csv(csv_path, biggest, as_of)
        print(f"generated {biggest:,} rows in {time.perf_counter() - t:.1f}s: {csv_path} "
              f"({csv_path.stat().st_size / 2**20:.0f} MiB)")
    policy, book = load_engine_inputs("wanzhou-2022-80")
    t, c = time.perf_counter(), time.process_time()
    read = read_register_frame(csv_path, as_of=as_of, policy=policy)
    load = time.perf_counter() - t
    print(f"columnar CSV load: {read.frame.n:,} rows in {load:.2f}s, CPU {time.process_time() - c:.2f}s "
          f"({read.frame.n / load:,.0f} rows/s; "
          f"{read.fallback_rows} rows validated one by one, {len(read.rejected)} rejected)")
    t = time.perf_counter()
    columnar = ColumnarEvaluator(policy, book, as_of)
    print(f"columnar compile: {time.perf_counter() - t:.3f}s")

    print("\ncolumnar evaluation of loaded rows, all six families (best of %d):" % args.repeat)
    for n in sizes:
        frame = read.frame.take(np.arange(n))
        secs, _ = best(lambda: columnar.evaluate_frame(frame.take(np.arange(frame.n))), args.repeat)
        print(f"  {n:>9,} rows  {secs:7.3f}s  {n / secs:>12,.0f} rows/s   (CPU {CPU[0]:.3f}s, "
              f"{n / max(CPU[0], 1e-9):,.0f} rows per CPU second)")

    k = args.durable_rows
    small = work / f"register_first_{k}.csv"
    with open(csv_path, encoding="utf-8") as src, open(small, "w", encoding="utf-8", newline="") as dst:
        for _, line in zip(range(k + 1), src):
            dst.write(line)
    ents = [e for _, e in read_register(small, as_of=as_of, policy=policy).accepted]
    durable = Evaluator(policy, book, as_of)
    t = time.perf_counter()
    d_results = durable.evaluate_many(ents)
    d_secs = time.perf_counter() - t
    frame = read.frame.take(np.arange(len(ents)))
    c_secs, batch = best(lambda: columnar.evaluate_frame(frame.take(np.arange(frame.n))), args.repeat)
    c_results = batch.results()
    same = all((dd.outcome, dd.rule_id, dd.amount_yuan, dd.triggered, dd.missing_facts, dd.attributes)
               == (cd.outcome, cd.rule_id, cd.amount_yuan, cd.triggered, cd.missing_facts, cd.attributes)
               for d, c in zip(d_results, c_results) for dd, cd in zip(d.decisions, c.decisions))
    print(f"\ndurable_rules on the first {len(ents):,} rows: {d_secs:.2f}s, {len(ents) / d_secs:,.0f} rows/s")
    print(f"columnar on the same rows: {c_secs:.4f}s, {len(ents) / c_secs:,.0f} rows/s; "
          f"speed-up {d_secs / c_secs:,.0f}x; verdicts identical: {same}")
    big_rate = None
    if sizes:
        n = max(sizes)
        frame = read.frame.take(np.arange(n))
        secs, _ = best(lambda: columnar.evaluate_frame(frame.take(np.arange(frame.n))), 1)
        big_rate = n / secs
        print(f"speed-up at {n:,} rows against durable's rate: {big_rate / (len(ents) / d_secs):,.0f}x")

    for rows in [args.e2e_rows] + [int(x) for x in args.e2e_more.split(",") if x]:
        if rows:
            e2e = work / f"register_{rows}.csv"
            if rows <= biggest:
                first_rows(csv_path, rows, e2e)
            elif not e2e.exists():
                repeated(csv_path, rows, e2e)
            if rows > 5_000_000:       # engine/limits.py REGISTER_ROWS, raised for this run as docs/limits.md says
                os.environ["SCALEUP_LIMIT_REGISTER_ROWS"] = str(rows + 10)
            end_to_end(e2e, args, work, full=rows == args.e2e_rows)
    print(f"\nbench process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()

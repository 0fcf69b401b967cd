"""The benchmark: throughput, memory and start-up of `scaleup check`, against two baselines on the same
facts. A script, not a test (`make bench`; see bench/README.md).

    python bench/run.py                          # sizes 1k, 10k, 100k
    python bench/run.py --sizes 1k,10k,100k,1m   # the 1M run takes a while
    python bench/run.py --sizes 10k --profile    # and where the time goes

For each size it generates (once, bench/generate.py) a register and measures:
  * `scaleup check` end to end (read, validate, evaluate, cross-check every row, write) in each output
    that matters, on 1 worker and on --workers N: summary CSV, compact NDJSON (contract v2), NDJSON with
    --explain, NDJSON with --detail full, and the columnar engine's compact NDJSON: rows/s (wall), rows
    per CPU-second, bytes per enterprise of the output, peak RSS of the process tree;
  * in one process, on the first --sample accepted rows of the same register:
      - the bare engine: durable_rules with the project's own compiled rulesets and no-op actions, each
        record's facts (already encoded) asserted in its own session, then deleted, thread-free host;
      - the same with each ruleset sent only the fields it tests (what the project does);
      - Evaluator.evaluate with full explanation structures, and without condition findings (summary);
      - the JSON rendering of explanations;
  * once: cold start of `scaleup check` on a one-row register, and the bare import time of its
    dependencies (durable_rules, pydantic, click, jinja2, PyYAML) in a fresh interpreter.
Prints a table and writes bench/results/bench-<time>.json (and latest.json).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402  (bench/generate.py)

RESULTS = BENCH / "results"
AS_OF = "2024-12-31"
POLICY = "wanzhou-2022-80"
BIN = Path(sys.executable).parent
SCALEUP = str(BIN / "scaleup")
DEPENDENCIES = "import durable.engine, pydantic, click, jinja2, yaml"


# ---------------------------------------------------------------------------------------------- helpers
def _tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (RSS summed: shared pages of
    forked workers count once per process, so this is an upper bound)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
                parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in members:
                members.add(pid)
                frontier.append(pid)
    total = 0
    for pid in members:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
    return total


def run_measured(cmd: list[str]) -> dict:
    """Runs a command; wall time, CPU time of it and its children, peak RSS of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak, parent = [0], [0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            parent[0] = _own_cpu(proc.pid) or parent[0]
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):      # 1: some rows rejected (the generator puts a few typos in)
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    # The machine's load when the run ended, beside its figures: wall-clock rates mean little under load.
    # parent_cpu_s: the main process alone (reading, writing; its workers are the rest of cpu_s), as last
    # sampled before it ended (up to 0.1 s of CPU short).
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "parent_cpu_s": round(parent[0], 2),
            "peak_rss_mib": round(peak[0] / 2 ** 20, 1), "exit": proc.returncode, "load": round(os.getloadavg()[0], 1)}


def _own_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, without its children; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")     # utime, stime (fields 14, 15)


# name -> (format, extra options, engine); each run on 1 and on N workers (columnar: one process)
OUTPUTS = {
    "csv": ("csv", [], "durable"),
    "ndjson": ("ndjson", [], "durable"),
    "ndjson_explain": ("ndjson", ["--explain"], "durable"),
    "ndjson_full": ("ndjson", ["--detail", "full"], "durable"),
    "columnar_ndjson": ("ndjson", [], "columnar"),
}


def check_run(path: Path, fmt: str, workers: int, out: Path, extra: list[str] = (), engine: str = "durable") -> dict:
    cmd = [SCALEUP, "check", str(path), "--as-of", AS_OF, "--format", fmt, "--out", str(out), "--no-progress",
           *extra]
    cmd += ["--engine", "columnar"] if engine == "columnar" else ["--workers", str(workers)]
    result = run_measured(cmd)
    result["output_bytes"] = out.stat().st_size if out.exists() else 0
    out.unlink(missing_ok=True)
    return result


def median_wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------- in process
def in_process(path: Path, sample: int, profile: bool, repeat: int = 3) -> dict:
    """Per-core rates on the first `sample` accepted rows, CPU time (robust to other load)."""
    from engine.derive import fact_values
    from engine.durable_host import BareEngine
    from engine.evaluate import Evaluator, load_engine_inputs
    from engine.contract import Contract, enterprise_document, ndjson_line
    from engine.crosscheck import ColumnarCrossCheck
    from engine.output import result_json, summary_row
    from engine.register import iter_register
    from engine.render import render_explanations
    as_of = date.fromisoformat(AS_OF)
    policy, book = load_engine_inputs(POLICY)
    enterprises = []
    for chunk in iter_register(path, as_of=as_of, policy=policy, chunk_size=5000):
        enterprises += [e for _, e in chunk.accepted]
        if len(enterprises) >= sample:
            break
    enterprises = enterprises[:sample]
    full = Evaluator(policy, book, as_of)
    summary = Evaluator(policy, book, as_of, exact=False)      # summary runs: verdicts from durable_rules alone
    records = [full.compiled.encoder.record(fact_values(e, full._derived, as_of)) for e in enterprises]
    n = len(records)

    def rate(fn, items) -> float:
        """Items per CPU-second, the best of `repeat` passes (other load on the machine only slows)."""
        best = 0.0
        for _ in range(repeat):
            start = time.process_time()
            for item in items:
                fn(item)
            best = max(best, len(items) / max(time.process_time() - start, 1e-9))
        return best

    out = {"rows": n}
    out["bare_engine"] = rate(BareEngine(full.compiled.rulesets).assert_record, records)
    out["bare_engine_projected"] = rate(BareEngine(full.compiled.rulesets, project=True).assert_record, records)
    out["engine_as_used"] = rate(full.compiled.engine.fire_all, records)
    # The batched durable path asserts each record as JSON text written column-wise (fire_serialised):
    # cheaper per record than fire_all's dicts. The goals are measured against the faster of the two.
    out["engine_serialised"] = rate(full.compiled.engine.fire_serialised, serialised_records(policy, book, as_of, enterprises))
    engine = full.compiled.engine
    out["engine_library_dispatch"] = rate(
        lambda r: [engine.fire_with_library_dispatch(rs, r) for rs in engine.ruleset_names], records)
    out["evaluate_full"] = rate(full.evaluate, enterprises)
    out["evaluate_summary"] = rate(lambda e: summary_row(summary.evaluate(e)), enterprises)
    chunks = [enterprises[a:a + 1000] for a in range(0, n, 1000)]
    summaries = {id(c): [summary.evaluate(e) for e in c] for c in chunks}
    check = ColumnarCrossCheck(policy, book, as_of)
    out["columnar_cross_check"] = rate(lambda c: check.check(summaries[id(c)], c), chunks) * 1000
    contract = Contract(summary.compiled.plans, book)
    compact = [r for c in chunks for r in summaries[id(c)]]
    out["contract_line"] = rate(lambda r: ndjson_line(enterprise_document(contract, r, r.facts)), compact)
    results = [full.evaluate(e) for e in enterprises[:min(n, 2000)]]
    out["render_explanations"] = rate(lambda r: render_explanations(r, book, "zh"), results)
    out["render_json_v1"] = rate(lambda r: json.dumps(result_json(r, book, "zh"), ensure_ascii=False), results)
    out = {k: (round(v) if isinstance(v, float) else v) for k, v in out.items()}
    if profile:
        out["profile"] = {}
        for label, fn, items in (("evaluate_summary", summary.evaluate, enterprises[:5000]),
                                 ("evaluate_full", full.evaluate, enterprises[:5000]),
                                 ("render_explanations", lambda r: render_explanations(r, book, "zh"),
                                  results[:500])):
            prof = cProfile.Profile()
            prof.enable()
            for item in items:
                fn(item)
            prof.disable()
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(18)
            out["profile"][label] = text.getvalue()
    return out


def serialised_records(policy, book, as_of, enterprises: list) -> list:
    """The sample's records as DurableVerdicts writes them (per ruleset, JSON members)."""
    from engine.columnar.durable_verdicts import DurableVerdicts
    from engine.columnar.evaluator import ColumnarEvaluator
    columnar = ColumnarEvaluator(policy, book, as_of)
    verdicts = DurableVerdicts(policy, book, as_of, columnar)
    frame = columnar.frame(enterprises)
    rows: list = [None] * frame.n
    columnar.evaluate_frame(frame)
    for positions, part in columnar.derived_parts(frame):
        for j, members in enumerate(zip(*verdicts.members(part))):
            rows[j if positions is None else int(positions[j])] = members
    return rows


def cold_start(repeat: int) -> dict:
    one = generate.DATA / "register-1row.csv"
    if not one.exists():
        one.parent.mkdir(parents=True, exist_ok=True)
        lines = generate.ensure(1000).read_text(encoding="utf-8-sig").splitlines()
        one.write_text("\ufeff" + "\n".join(lines[:2]) + "\n", encoding="utf-8")
    out = str(generate.DATA / "one.out.csv")
    check = median_wall([SCALEUP, "check", str(one), "--as-of", AS_OF, "--format", "csv", "--out", out,
                         "--workers", "1", "--no-progress"], repeat)
    imports = median_wall([sys.executable, "-c", DEPENDENCIES], repeat)
    bare = median_wall([sys.executable, "-c", "pass"], repeat)
    # CPU of a one-row run (start-up: imports, policy, compiled rulesets, the columnar engine), least of
    # the runs: subtracted from a run's CPU, what is left is the cost of its rows (steady state).
    cpu = min(run_measured([SCALEUP, "check", str(one), "--as-of", AS_OF, "--format", "csv", "--out", out,
                            "--workers", "1", "--no-progress"])["cpu_s"] for _ in range(max(1, repeat)))
    return {"check_one_row_s": round(check, 3), "check_one_row_cpu_s": round(cpu, 3),
            "dependency_imports_s": round(imports, 3), "python_startup_s": round(bare, 3),
            "ratio": round(check / imports, 2)}


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1k,10k,100k", help="register sizes, e.g. 1k,10k,100k,1m")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="workers of the parallel runs")
    ap.add_argument("--single-max", default="100k", help="largest size also run on 1 worker")
    ap.add_argument("--explain-max", default="10k", help="largest size also run with --explain and --detail full")
    ap.add_argument("--columnar-max", default="100k", help="largest size also run on the columnar engine")
    ap.add_argument("--outputs", default=",".join(OUTPUTS), help=f"outputs measured, of {', '.join(OUTPUTS)}")
    ap.add_argument("--sample", type=int, default=10000, help="rows for the in-process measurements")
    ap.add_argument("--passes", type=int, default=3, help="passes of each in-process measurement (best kept)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of the cold-start measurements")
    ap.add_argument("--profile", action="store_true", help="cProfile of evaluation and JSON rendering")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    sizes = [generate.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    single_max, explain_max = generate.parse_size(args.single_max), generate.parse_size(args.explain_max)
    columnar_max = generate.parse_size(args.columnar_max)
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()]
    out_file = generate.DATA / "bench.out"

    report = {"when": datetime.now().isoformat(timespec="seconds"), "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workers": args.workers, "git": _git(), "sizes": {}}
    print(f"scaleup benchmark: {args.workers} workers, sizes {', '.join(map(generate.size_label, sizes))}",
          flush=True)
    report["cold_start"] = cold_start(args.repeat)
    print(f"cold start: check of one row {report['cold_start']['check_one_row_s']} s; dependency imports "
          f"{report['cold_start']['dependency_imports_s']} s (ratio {report['cold_start']['ratio']})", flush=True)
    for n in sizes:
        label = generate.size_label(n)
        path = generate.ensure(n, args.seed)
        entry: dict = {"rows": n, "file": str(path.relative_to(ROOT)), "runs": {}}
        for name, workers in run_plan(outputs, n, args.workers, single_max, explain_max, columnar_max):
            fmt, extra, engine = OUTPUTS[name]
            result = check_run(path, fmt, workers, out_file, extra, engine)
            result["rows_per_s"] = round(n / result["wall_s"])
            result["rows_per_cpu_s"] = round(n / result["cpu_s"])
            # Without the start-up (one per process: the parent and each worker), the rows' own cost.
            startup = report["cold_start"]["check_one_row_cpu_s"] * (1 if workers == 1 or engine == "columnar"
                                                                    else workers + 1)
            result["rows_per_cpu_s_steady"] = round(n / max(result["cpu_s"] - startup, 1e-3))
            result["bytes_per_enterprise"] = round(result.pop("output_bytes") / n)
            key = name if engine == "columnar" else f"{name}_w{workers}"
            entry["runs"][key] = result
            print(f"  {label:>5} {key:<20} {result['rows_per_s']:>7,} rows/s  {result['rows_per_cpu_s']:>6,} rows/CPU-s  "
                  f"{result['bytes_per_enterprise']:>6,} B/enterprise  peak RSS {result['peak_rss_mib']:>7,.1f} MiB  "
                  f"({result['wall_s']} s, {result['cpu_s']} CPU-s of which the parent {result['parent_cpu_s']}, "
                  f"load {result['load']})", flush=True)
        entry["in_process"] = in_process(path, min(n, args.sample), args.profile, args.passes)
        entry["in_process"]["load"] = round(os.getloadavg()[0], 1)
        report["sizes"][label] = entry
        rates = {k: v for k, v in entry["in_process"].items() if k != "profile"}
        print(f"  {label:>5} in process: {json.dumps(rates)}", flush=True)
    print()
    print(table(report))
    for entry in report["sizes"].values():
        for name, text in entry["in_process"].get("profile", {}).items():
            print(f"\nprofile: {name} ({entry['rows']} rows)\n{text}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in (f"bench-{stamp}.json", "latest.json"):
        (RESULTS / name).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten: {RESULTS / f'bench-{stamp}.json'}")


def run_plan(outputs: list[str], n: int, workers: int, single_max: int, explain_max: int, columnar_max: int):
    """(output, workers) pairs measured at size n: heavy outputs and 1 worker only up to their limits."""
    plan = []
    for name in outputs:
        if name == "columnar_ndjson":
            if n <= columnar_max:
                plan.append((name, 1))
            continue
        if name in ("ndjson_explain", "ndjson_full") and n > explain_max:
            continue
        if n <= single_max or workers == 1:
            plan.append((name, 1))
        if workers > 1:
            plan.append((name, workers))
    return plan


def table(report: dict) -> str:
    """One line per size and output: rates, bytes per enterprise, memory; then the issue's goals."""
    w = report["workers"]
    head = ["size", "output", "w1 rows/s", f"w{w} rows/s", "speed-up", "w1 rows/CPU-s", "w1 steady", "B/enterprise",
            f"peak RSS w{w} MiB", "wall s", "load"]
    lines = [head]
    for label, e in report["sizes"].items():
        runs = e["runs"]
        names = list(dict.fromkeys(k.rsplit("_w", 1)[0] if "_w" in k else k for k in runs))
        for name in names:
            one, many = runs.get(f"{name}_w1") or runs.get(name), runs.get(f"{name}_w{w}")
            last = many or one
            lines.append([label, name, one and one["rows_per_s"], many and many["rows_per_s"],
                          f"{many['rows_per_s'] / one['rows_per_s']:.2f}x" if one and many else None,
                          one and one["rows_per_cpu_s"], one and one.get("rows_per_cpu_s_steady"),
                          last["bytes_per_enterprise"], last["peak_rss_mib"],
                          last["wall_s"], "/".join(str(r["load"]) for r in (one, many) if r and "load" in r) or None])
        ip = e["in_process"]
        lines.append([label, "engine as used (in process)", None, None, None, ip["engine_as_used"], None, None, None,
                      None, ip.get("load")])
        if "engine_serialised" in ip:
            lines.append([label, "engine, serialised records", None, None, None, ip["engine_serialised"], None, None,
                          None, None, ip.get("load")])
    cells = [["—" if c is None else (f"{c:,}" if isinstance(c, (int, float)) else str(c)) for c in row]
             for row in lines]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    out = ["  ".join(c.rjust(widths[i]) if i > 1 else c.ljust(widths[i]) for i, c in enumerate(row)) for row in cells]
    out += ["", "goals (issue #18):"] + goals(report)
    cs = report["cold_start"]
    out.append(f"\ncold start (median of runs): check of one row {cs['check_one_row_s']} s; bare import of the "
               f"dependencies {cs['dependency_imports_s']} s (python alone {cs['python_startup_s']} s); "
               f"ratio {cs['ratio']}")
    return "\n".join(out)


def goals(report: dict) -> list[str]:
    """The issue's goals against this run's numbers (figures for the closing note, never a test)."""
    w = report["workers"]
    out = []
    for label, e in report["sizes"].items():
        runs = e["runs"]
        # The baseline is "engine as used" (fire_all: the records as the row path hands them over);
        # the summary path now pays the cheaper serialised records, so it is held to that one too.
        as_used, serialised = e["in_process"]["engine_as_used"], e["in_process"].get("engine_serialised", 0)

        def rate(key, field="rows_per_s"):
            return runs[key][field] if key in runs else None

        parts = []
        if rate("csv_w1", "rows_per_cpu_s"):
            csv, steady = rate("csv_w1", "rows_per_cpu_s"), rate("csv_w1", "rows_per_cpu_s_steady")
            parts.append(f"csv {csv / as_used:.0%} of engine as used per CPU-s (≥75%; {steady / as_used:.0%} "
                         f"without the start-up)" + (f", {csv / serialised:.0%} of serialised records "
                                                     f"({steady / serialised:.0%})" if serialised else ""))
        for name in ("csv", "ndjson", "ndjson_explain", "ndjson_full"):
            if rate(f"{name}_w1") and rate(f"{name}_w{w}"):
                parts.append(f"{name} 1→{w} workers {rate(f'{name}_w{w}') / rate(f'{name}_w1'):.2f}x (≥1.8x)")
        if rate("csv_w1", "rows_per_cpu_s") and rate("ndjson_w1", "rows_per_cpu_s"):
            parts.append(f"ndjson {rate('ndjson_w1', 'rows_per_cpu_s') / rate('csv_w1', 'rows_per_cpu_s'):.0%} of csv "
                         f"per CPU-s (≥80%)")
        for key, limit in (("ndjson", 3000), ("ndjson_explain", 15000)):
            found = next((runs[k] for k in (f"{key}_w{w}", f"{key}_w1") if k in runs), None)
            if found:
                parts.append(f"{key} {found['bytes_per_enterprise']:,} B/enterprise (≤{limit:,})")
        if rate("ndjson_explain_w1", "rows_per_cpu_s"):
            parts.append(f"--explain {rate('ndjson_explain_w1', 'rows_per_cpu_s'):,} rows per CPU-s (≥1,000; "
                         f"{rate('ndjson_explain_w1', 'rows_per_cpu_s_steady'):,} without the start-up)")
        for name in ("csv", "ndjson"):
            if rate(f"{name}_w{w}", "wall_s"):
                per_million = rate(f"{name}_w{w}", "wall_s") * 1_000_000 / e["rows"]
                parts.append(f"{name} w{w}: 1M rows in ~{per_million / 60:.1f} min at this rate (≤3), "
                             f"peak RSS {rate(f'{name}_w{w}', 'peak_rss_mib'):,.0f} MiB (≤1024)")
        out.append(f"  {label}: " + "; ".join(parts))
    return out


def _git() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return ""


if __name__ == "__main__":
    main()

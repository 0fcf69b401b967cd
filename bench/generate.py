"""Synthetic enterprise registers for the benchmark (bench/run.py): deterministic, any size.

    python bench/generate.py 100k            # -> bench/data/register-100k-seed7.csv
    python bench/generate.py 1m --seed 3 --out /tmp/r.csv

Rows look like a provincial industrial register as of 2024-12-31, with the column headers officers export
(rules/facts.yaml aliases): mostly manufacturing (门类 C) with some mining, utilities and software, a few
non-industrial firms; about a fifth already 规上; revenue log-normal around a few hundred 万元 below
scale and a few thousand above; every decision path occurs (new builds, first-time inclusions, the
pool's band, every warning indicator, missing figures). A few rows in ten thousand carry a typing
error (a misspelt town, a bad check character) as real registers do, and are rejected.

Same size and seed, same file, byte for byte: no clock, one seeded generator. Enterprise ids are
unique by construction (a bijection of the row number) and carry a valid GB 32100 check character.
"""
from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.uscc import CHARSET, make_uscc  # noqa: E402
from engine.yamlio import load_yaml  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
COLUMNS = load_yaml(ROOT / "rules" / "facts.yaml")["columns"]
IDS = [c["id"] for c in COLUMNS]
HEADERS = [c["aliases"][0] for c in COLUMNS]
TOWNS = [row["name"] for row in csv.DictReader(open(ROOT / "policies" / "jurisdictions" / "500101-wanzhou"
                                                    / "townships.csv", encoding="utf-8"))]

# (weight, section, division codes): GB/T 4754-2017
INDUSTRIES = [
    (70, "C", ["C1371", "C1391", "C1511", "C2110", "C2231", "C2641", "C2922", "C3021", "C3130", "C3311",
               "C3484", "C3511", "C3670", "C3841", "C3912", "C3990"]),
    (5, "B", ["B0610", "B1011", "B1019"]),
    (6, "D", ["D4411", "D4413", "D4420", "D4511", "D4610"]),
    (12, "I", ["I6311", "I6510", "I6513", "I6531", "I6550"]),
    (7, "X", ["F5165", "F5172", "E4790", "G5430"]),       # not industry, not software
]
SIZE_WORDS = {"k": 1_000, "m": 1_000_000}
NAME_WORDS = "澜岳岑峰翊禾沅泰棠溪蕖香琮晟砚川筑垣骐程椿岭苎溪黛湖磬石栎川芷岸岩湾泷源荞丰桤林沣澜钜衡昱辰瀼溪垣丰珩宇骁远琨睿鹤汀"
NAME_TAILS = ["机械制造", "塑胶制品", "软件技术", "信息技术", "新能源科技", "食品", "建材", "纸制品", "饲料", "电子科技",
              "化工", "制药", "汽车零部件", "智能装备", "水电开发", "燃气", "矿业", "再生资源", "服饰", "印务"]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    if text[-1:] in SIZE_WORDS:
        return int(float(text[:-1]) * SIZE_WORDS[text[-1]])
    return int(text)


def size_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def default_path(n: int, seed: int) -> Path:
    return DATA / f"register-{size_label(n)}-seed{seed}.csv"


def uscc(i: int) -> str:
    """A unique, valid USCC for row i: 9 + 1 + 500101 + 7 + 8 base-31 digits of a bijection of i."""
    n = (i * 2_654_435_761 + 97) % (31 ** 8)      # odd multiplier, coprime with 31^8: a bijection
    body = ""
    for _ in range(8):
        n, r = divmod(n, 31)
        body += CHARSET[r]
    return make_uscc("915001017" + body)


def wan(x: float) -> str:
    return f"{max(x, 0.0):.2f}"


def row(i: int, rnd: random.Random) -> list[str]:
    weights = [w for w, _, _ in INDUSTRIES]
    _, section, codes = rnd.choices(INDUSTRIES, weights)[0]
    code = rnd.choice(codes)
    in_scope = rnd.random() < 0.2
    est_year = rnd.randint(1995, 2024)
    established = f"{est_year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
    new_build = est_year >= 2023 and rnd.random() < 0.5
    commissioned = f"2024-{rnd.randint(1, 10):02d}-{rnd.randint(1, 28):02d}" if new_build else ""
    # revenue in 万元: log-normal; 规上 firms sit mostly above the 2000万 line, 规下 mostly below it
    median = 5200.0 if in_scope else 700.0
    last_year = median * math.exp(rnd.gauss(0, 0.75))
    if new_build:
        last_year = 0.0
    growth = rnd.gauss(0.06, 0.18)
    through = 11
    months = through if not commissioned else max(1, through - int(commissioned[5:7]) + 1)
    ytd = (last_year * (1 + growth) * through / 12) if not new_build else rnd.uniform(300, 4000) * months / 10
    ytd_ly = last_year * through / 12 * rnd.uniform(0.9, 1.1)
    since = ""
    if in_scope:
        since_year = rnd.choice([2011, 2015, 2018, 2020, 2021, 2022, 2023, 2024, 2024])
        since = f"{max(since_year, est_year)}-{rnd.randint(1, 12):02d}"
    status = rnd.choices(["正常", "半停产", "停产"], [94, 4, 2])[0]
    months_without = 0 if status == "正常" else rnd.randint(1, 6)
    missing = rnd.random() < 0.04              # a firm that reported no figures this year
    values = {
        "enterprise_id": uscc(i),
        "name": f"重庆{rnd.choice(NAME_WORDS)}{rnd.choice(NAME_WORDS)}{rnd.choice(NAME_TAILS)}有限公司{i}",
        "town": rnd.choice(TOWNS),
        "in_park": "是" if rnd.random() < 0.35 else "否",
        "industry_code": code,
        "is_legal_person": "否" if rnd.random() < 0.03 else "是",
        "independent_accounting": rnd.choice(["是", "是", "是", ""]),
        "established_on": established,
        "commissioned_on": commissioned,
        "in_scope": "是" if in_scope else "否",
        "in_scope_since": since,
        "previously_in_scope": "是" if rnd.random() < 0.02 else "否",
        "origin": rnd.choice(["", "", "招商引资", "小升规"]),
        "revenue_last_year": "" if missing else wan(last_year),
        "revenue_ytd": "" if missing else wan(ytd),
        "ytd_through": "" if missing else f"2024-{through:02d}",
        "revenue_ytd_last_year": "" if missing or new_build or rnd.random() < 0.05 else wan(ytd_ly),
        "employees": str(max(1, int(rnd.lognormvariate(4.0, 0.9)))),
        "production_status": status,
        "months_without_output": str(months_without),
        "profit_ytd": wan(ytd * rnd.gauss(0.05, 0.04)) if not missing and rnd.random() < 0.8 else "",
        "loss_years": str(rnd.choices([0, 1, 2, 3], [85, 8, 4, 3])[0]),
        "mujun_class": rnd.choice(["", "A", "B", "B", "C", "D"]),
        "land_request_mu": f"{rnd.uniform(5, 80):.1f}" if rnd.random() < 0.1 else "",
        "power_request_kva": str(rnd.randint(2, 40) * 100) if rnd.random() < 0.1 else "",
        "tags": "；".join(rnd.sample(["高技术", "战略性新兴", "数字经济"], rnd.choice([0, 0, 0, 1, 1, 2]))),
        "registration_status": rnd.choices(["存续", "经营异常", "迁出", "注销"], [97, 2, 0.7, 0.3])[0],
    }
    if section == "X" or code.startswith("I"):
        values["in_park"] = "否"
    if rnd.random() < 0.0003:                   # a typing error, as in real registers
        values["town"] = "高粱镇"
    elif rnd.random() < 0.0002:
        values["enterprise_id"] = values["enterprise_id"][:-1] + ("0" if values["enterprise_id"][-1] != "0" else "1")
    return [values[c] for c in IDS]


def generate(n: int, path: Path, seed: int = 7) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    rnd = random.Random(seed)
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(1, n + 1):
            writer.writerow(row(i, rnd))
    tmp.replace(path)
    return path


def ensure(n: int, seed: int = 7, path: Path | None = None) -> Path:
    """The register of n rows, generated once and reused (same size and seed, same file)."""
    path = path or default_path(n, seed)
    if not path.exists():
        generate(n, path, seed)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("size", help="rows: 1000, 10k, 1m ...")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    n = parse_size(args.size)
    print(generate(n, args.out or default_path(n, args.seed), args.seed))


if __name__ == "__main__":
    main()

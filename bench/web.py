"""How long the web app's 评价 page takes for an uploaded register (a measurement, not a test).

    .venv/bin/python bench/web.py                 # 1,000 rows (the page size), 5 renders
    .venv/bin/python bench/web.py --rows 5000 --repeat 3

Uploads a synthetic register (bench/generate.py, same rows every time) through the app in process
(FastAPI's TestClient: no network), then times: the upload with its evaluation (POST /evaluate), the
decisions page (GET /evaluate?u=...: one page of 1,000 rows, or the first of several), the page
filtered by a town, and the page sorted by award amount. Prints the median of --repeat renders."""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from fastapi.testclient import TestClient
    from web.app import create_app
    from web.settings import Settings
    with tempfile.TemporaryDirectory() as tmp:
        register = Path(tmp) / f"register-{args.rows}.csv"
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(args.rows), "--out", str(register)],
                       check=True, capture_output=True)
        with TestClient(create_app(Settings(data_dir=Path(tmp))), base_url="http://127.0.0.1:8000",
                        follow_redirects=False) as client:
            def upload():
                with open(register, "rb") as fh:
                    return client.post("/evaluate", files={"file": (register.name, fh)}, data={"as_of": "2024-12-31"})
            seconds, response = timed(upload, 1)
            assert response.status_code == 303, response.text[:500]
            upload_id = response.headers["location"].split("u=", 1)[1]
            evaluation = client.app.state.workspaces.get(upload_id).evaluation
            town = evaluation.rows[0]["town"]
            print(f"rows {args.rows}: {len(evaluation.results)} accepted, {len(evaluation.read.rejected)} rejected")
            print(f"upload + evaluation (POST /evaluate)        {seconds * 1000:8.0f} ms")
            for label, params in (("decisions page (GET /evaluate)", {}),
                                  ("filtered by a town", {"town": town}),
                                  ("sorted by award amount", {"sort": "enterprise_award.amount_yuan",
                                                              "order": "desc"})):
                seconds, page = timed(lambda: client.get("/evaluate", params={"u": upload_id, **params}),
                                      args.repeat)
                assert page.status_code == 200
                print(f"{label:43} {seconds * 1000:8.0f} ms  ({len(page.content) / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

"""Run the `scaleup` command with a fault planted in SQLite, from outside the program: a trace callback
on every connection the ledger opens (the money path has no test hook of its own).

    python tests/faults/sqlite_hook.py pause SECONDS  <scaleup arguments>   # pause before COMMIT
    python tests/faults/sqlite_hook.py kill N         <scaleup arguments>   # SIGKILL at the Nth statement
                                                                          # after BEGIN IMMEDIATE
    python tests/faults/sqlite_hook.py count -        <scaleup arguments>   # print how many there are

"pause" prints PAUSE_MARK on stderr when it starts waiting, inside the open write transaction that
records a run or a payment (just before its COMMIT).
"kill" counts statements from the first BEGIN IMMEDIATE and kills the process (no cleanup, no rollback)
as the Nth is about to run; a run with fewer statements commits normally.
"""
from __future__ import annotations

import atexit
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

PAUSE_MARK = "FAULT-HOOK: pausing inside the commit transaction"
COUNT_MARK = "FAULT-HOOK statements after BEGIN IMMEDIATE:"


def install(mode: str, value: str) -> None:
    real_connect = sqlite3.connect
    state = {"in_write": False, "count": 0, "wrote_run": False}

    def on_statement(sql: str) -> None:
        text = sql.strip().upper()
        if text.startswith("BEGIN IMMEDIATE"):
            state["in_write"] = True
        if not state["in_write"]:
            return
        state["count"] += 1
        state["wrote_run"] |= text.startswith(("INSERT INTO RUNS", "INSERT INTO PAYMENTS"))
        if mode == "kill" and state["count"] >= int(value):
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "pause" and text.startswith("COMMIT") and state["wrote_run"]:
            print(PAUSE_MARK, file=sys.stderr, flush=True)
            time.sleep(float(value))

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(on_statement)
        return conn

    sqlite3.connect = connect
    if mode == "count":
        atexit.register(lambda: print(COUNT_MARK, state["count"], file=sys.stderr, flush=True))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    install(sys.argv[1], sys.argv[2])
    from cli import main
    main(args=sys.argv[3:], prog_name="scaleup")

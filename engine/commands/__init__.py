"""One function per `scaleup` command: what the command does, from its options to a result object.

cli.py parses options, calls one of these, and renders the result through templates; it holds no
orchestration and no rule. Diagnostics that arrive while a command runs (a warning about the file, a
rejected row) go to the `Reporter` the caller passes in; errors are domain exceptions (engine/errors.py).

common.py (policy, reform, register read, one enterprise) <- check.py, explain.py (explain, review,
audit, verify), awards.py (award runs, the ledger), analysis.py (priority, targets, diff, sweep,
report), policies.py (policy list, show, check).
"""

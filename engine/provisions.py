"""A policy's provision table (policies/<id>/provisions.yaml): which provisions of the shared rule
records this instrument has, each bound to its own clause id and the words quoted verbatim from that
clause. The shared rules say *what* they decide (`provision: award.enterprise`); the table says *where
this instrument says so*. A provision the table does not bind is one this instrument does not have."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import validation_messages
from engine.yamlio import load_mapping

PROVISIONS_FILE = "provisions.yaml"


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    clause: str
    text: str


def load_provisions(folder: Path, clauses: dict, problems: list[str]) -> tuple[dict[str, Binding], dict[str, str]]:
    """The bindings of a policy folder and its clauses that decide nothing (the `not_modelled:` part),
    from one read of provisions.yaml (({}, {}) when the folder has none). Each clause must exist and
    each quote be a verbatim part of its clause."""
    path = Path(folder) / PROVISIONS_FILE
    raw = load_mapping(path, problems, required=False)
    if set(raw) - {"provisions", "not_modelled"} or not isinstance(raw.get("provisions") or {}, dict):
        problems.append(f"{path}: expected `provisions:` mapping each provision id to {{clause, text}} "
                        "(and optionally `not_modelled:` mapping clause ids to the reason)")
        return {}, {}
    return _bindings(path, raw.get("provisions") or {}, clauses, problems), \
        _not_modelled(path, raw.get("not_modelled"), clauses, problems)


def _bindings(path: Path, entries: dict, clauses: dict, problems: list[str]) -> dict[str, Binding]:
    bindings: dict[str, Binding] = {}
    for pid, body in entries.items():
        try:
            binding = Binding(**body) if isinstance(body, dict) else None
        except ValidationError as exc:
            problems += validation_messages(exc, str(path), str(pid))
            continue
        if binding is None:
            problems.append(f"{path}: {pid}: expected {{clause: <clause id>, text: <words quoted from it>}}")
            continue
        clause = clauses.get(binding.clause)
        if clause is None:
            problems.append(f"{path}: {pid}: unknown clause {binding.clause!r}")
        elif binding.text not in clause.text:
            problems.append(f"{path}: {pid}: text is not a verbatim part of clause {binding.clause}")
        bindings[str(pid)] = binding
    return bindings


def _not_modelled(path: Path, entries, clauses: dict, problems: list[str]) -> dict[str, str]:
    """Clauses of this instrument that decide nothing for a firm, each with the reason: they count as
    accounted for by `policy check`."""
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        problems.append(f"{path}: not_modelled: expected a mapping of clause id to the reason")
        return {}
    out = {}
    for cid, reason in entries.items():
        if str(cid) not in clauses:
            problems.append(f"{path}: not_modelled: unknown clause {cid!r}")
        elif not isinstance(reason, str) or not reason.strip():
            problems.append(f"{path}: not_modelled: {cid}: say why it is not modelled")
        else:
            out[str(cid)] = reason
    return out

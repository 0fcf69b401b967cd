"""A policy's provision table (policies/<id>/provisions.yaml): which provisions of the shared rule
records this instrument has, each bound to its own clause id and the words quoted verbatim from that
clause. The shared rules say *what* they decide (`provision: award.enterprise`); the table says *where
this instrument says so*. A provision the table does not bind is one this instrument does not have."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import validation_messages
from engine.yamlio import YamlFileError, load_yaml

PROVISIONS_FILE = "provisions.yaml"


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    clause: str
    text: str


def load_provisions(folder: Path, clauses: dict, problems: list[str]) -> dict[str, Binding]:
    """The bindings of a policy folder ({} when it has no provisions.yaml); each clause must exist and
    each quote be a verbatim part of its clause."""
    path = Path(folder) / PROVISIONS_FILE
    if not path.exists():
        return {}
    try:
        raw = load_yaml(path) or {}
    except YamlFileError as exc:
        problems.append(str(exc))
        return {}
    if not isinstance(raw, dict) or set(raw) - {"provisions", "not_modelled"} \
            or not isinstance(raw.get("provisions") or {}, dict):
        problems.append(f"{path}: expected `provisions:` mapping each provision id to {{clause, text}} "
                        "(and optionally `not_modelled:` mapping clause ids to the reason)")
        return {}
    bindings: dict[str, Binding] = {}
    for pid, body in (raw.get("provisions") or {}).items():
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


def load_not_modelled_clauses(folder: Path, clauses: dict, problems: list[str]) -> dict[str, str]:
    """Clauses of this instrument that decide nothing for a firm, each with the reason (the
    `not_modelled:` part of provisions.yaml): they count as accounted for by `policy check`."""
    path = Path(folder) / PROVISIONS_FILE
    if not path.exists():
        return {}
    try:
        raw = load_yaml(path) or {}
    except YamlFileError:
        return {}                                  # reported by load_provisions
    entries = raw.get("not_modelled") if isinstance(raw, dict) else None
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

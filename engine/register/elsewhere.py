"""Which bundled policies have a town in their jurisdiction: for the message about a town the
register names that is not in the chosen policy's district (another district's register read with the
default policy), so it can say which `--policy` to use."""
from __future__ import annotations

import csv
from pathlib import Path

from engine.policy import available_policies, policies_root
from engine.yamlio import YamlFileError, load_yaml


def policies_with_town(name: str, except_jurisdiction: str, root: Path | None = None) -> list[str]:
    """Ids of the policies under `root` whose jurisdiction (other than `except_jurisdiction`) lists a
    town or street named `name` (its name or former name, with or without the 镇/乡/街道 suffix)."""
    root = root or policies_root()
    found = []
    for pid in available_policies(root):
        try:
            meta = load_yaml(root / pid / "policy.yaml") or {}
        except YamlFileError:
            continue
        jid = meta.get("jurisdiction") if isinstance(meta, dict) else None
        if not jid or jid == except_jurisdiction:
            continue
        if name in _town_names(root / "jurisdictions" / str(jid)):
            found.append(pid)
    return found


def _town_names(folder: Path) -> set[str]:
    path = folder / "townships.csv"
    if not path.is_file():
        return set()
    names: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            for key in ("name", "former_name_before_2021"):
                value = (row.get(key) or "").strip()
                if value:
                    names.add(value)
                    names.update(value[: -len(s)] for s in ("街道", "镇", "乡") if value.endswith(s) and len(value) > len(s) + 1)
    return names

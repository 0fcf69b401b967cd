"""Reference data of a district: its towns/streets (乡级 units) with NBS codes and former names,
and its development zone. Loaded from policies/jurisdictions/<id>/."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import PolicyDataError, validation_messages
from engine.yamlio import load_yaml


class Town(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str = Field(pattern=r"^\d{9}$")
    name: str
    type: Literal["街道", "镇", "乡", "民族乡"]
    former_name: Optional[str] = None
    former_code: Optional[str] = None


class TownAlias(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    to: str
    provenance: Literal["source", "assumed"]
    note: str


class DevelopmentZone(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name_zh: str
    name_en: str
    authority_zh: str


class Jurisdiction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    code: str
    name_zh: str
    name_en: str
    townships_file: str
    townships_source: str
    development_zone: DevelopmentZone
    # IANA time zone of the times officers read (ledger runs, payments); times are stored in UTC. The
    # zone is the district's data (jurisdiction.yaml); a jurisdiction without one shows UTC (+00:00).
    time_zone: str = "UTC"
    aliases: dict[str, TownAlias] = {}
    towns: tuple[Town, ...] = ()

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; expected an IANA name such as Asia/Shanghai") from None
        return value

    def town_by_name(self, name: str) -> Optional[Town]:
        return next((t for t in self.towns if t.name == name), None)


def load_jurisdiction(folder: Path) -> Jurisdiction:
    folder = Path(folder)
    meta_path = folder / "jurisdiction.yaml"
    data = load_yaml(meta_path)
    if not isinstance(data, dict):
        raise PolicyDataError([f"{meta_path}: expected a mapping at the top level"])
    towns_path = folder / str(data.get("townships_file", "townships.csv"))
    problems: list[str] = []
    towns: list[Town] = []
    try:
        with open(towns_path, encoding="utf-8-sig", newline="") as fh:
            for lineno, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    towns.append(Town(code=row["nbs_code_9"], name=row["name"], type=row["type"],
                                      former_name=row.get("former_name_before_2021") or None,
                                      former_code=row.get("former_code") or None))
                except ValidationError as exc:
                    problems += validation_messages(exc, f"{towns_path} row {lineno}")
                except (KeyError, TypeError) as exc:     # a missing column
                    problems.append(f"{towns_path} row {lineno}: missing column {exc}")
    except FileNotFoundError:
        problems.append(f"{towns_path}: file not found")
    try:
        jur = Jurisdiction(**data, towns=tuple(towns))
    except ValidationError as exc:
        problems += validation_messages(exc, str(meta_path))
        jur = None
    except TypeError as exc:
        problems.append(f"{meta_path}: {exc}")
        jur = None
    if jur is not None:
        names = {t.name for t in jur.towns}
        for alias, target in jur.aliases.items():
            if target.to not in names:
                problems.append(f"{meta_path}: alias {alias!r} points to unknown town {target.to!r}")
    if problems:
        raise PolicyDataError(problems)
    return jur

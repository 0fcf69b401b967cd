"""Town/street resolution for the register's 所属乡镇（街道） column: the officer's spelling (name, NBS code,
former name, alias, name without its 镇/乡/街道 suffix) to one town of the jurisdiction, or an error
with a did-you-mean suggestion."""
from __future__ import annotations

import difflib
import re
import unicodedata

from engine.jurisdiction import Jurisdiction, Town
from engine.register.elsewhere import policies_with_town
from engine.register.normalise import CellError, show

_SUFFIXES = ("土家族乡", "民族乡", "街道", "镇", "乡")
_TRAILERS = ("办事处", "人民政府")  # "高峰街道办事处", "分水镇人民政府" name the same unit
# Characters mistyped for look-alikes (or typed in traditional form) in town names seen in registers;
# "高粱镇" for 高梁镇 is the known trap (docs/domain.md#town-aliases). A match through this table is only suggested.
_LOOKALIKES = str.maketrans({"粱": "梁", "壤": "瀼", "攘": "瀼", "筍": "笋", "栢": "柏", "锋": "峰",
                             "龍": "龙", "駒": "驹", "長": "长"})
_CODE = re.compile(r"(?<!\d)(\d{9})(000)?(?!\d)")
_NOISE = re.compile(r"[()\[\]【】〔〕<>《》\-_/,:;.、]")


class TownResolver:
    def __init__(self, jurisdiction: Jurisdiction):
        self.jurisdiction = jurisdiction
        self._by_code: dict[str, Town] = {}
        self._by_name: dict[str, Town] = {}
        for town in jurisdiction.towns:
            self._by_code[town.code] = town
            if town.former_code:
                # Also covers the known data error "500101245 九池街道": the old 九池乡 code with the new name.
                self._by_code.setdefault(town.former_code, town)
            self._by_name[town.name] = town
            if town.former_name:
                self._by_name.setdefault(town.former_name, town)
        for alias, target in jurisdiction.aliases.items():
            town = jurisdiction.town_by_name(target.to)
            if town is not None:
                self._by_name.setdefault(alias, town)
        stems: dict[str, set[str]] = {}
        for name, town in self._by_name.items():
            stems.setdefault(_stem(name), set()).add(town.name)
        self._by_stem = {stem: jurisdiction.town_by_name(next(iter(names)))
                         for stem, names in stems.items() if len(names) == 1 and stem}
        district = jurisdiction.name_zh
        self._prefixes = [p for p in (district, district.partition("市")[2]) if p]

    def resolve(self, text: str) -> Town:
        """The town a cell names; CellError when it names none (or two different ones)."""
        cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
        for prefix in self._prefixes:
            if cleaned.startswith(prefix) and len(cleaned) > len(prefix):
                cleaned = cleaned[len(prefix):]
                break
        codes = _CODE.findall(cleaned)
        name = _NOISE.sub("", _CODE.sub("", cleaned))
        if len(codes) > 1:
            raise CellError(f"{show(text)} holds more than one code")
        by_code = self._by_code_or_error(text, codes[0][0]) if codes else None
        by_name = self._by_name_or_error(name) if name else None
        if by_code and by_name and by_code != by_name:
            raise CellError(f'code {codes[0][0]} is {by_code.name} but the name says "{name}"')
        town = by_code or by_name
        if town is None:
            raise CellError(f"{show(text)} names no town or street")
        return town

    def _by_code_or_error(self, text: str, code: str) -> Town:
        town = self._by_code.get(code)
        if town is None:
            raise CellError(f'unknown town code "{code}": not a town or street of '
                            f"{self.jurisdiction.name_zh} (NBS 统计用区划代码)")
        return town

    def _by_name_or_error(self, name: str) -> Town:
        town = self._lookup(name)
        if town is not None:
            return town
        suggestions = self.suggest(name)
        if suggestions:
            hint = " or ".join(f'"{s}"' for s in suggestions)
            raise CellError(f'unknown town "{name}"; did you mean {hint}?')
        elsewhere = policies_with_town(name, self.jurisdiction.id)
        if elsewhere:
            raise CellError(f'unknown town "{name}": not a town or street of {self.jurisdiction.name_zh}, but of the '
                            f"jurisdiction of policy {', '.join(elsewhere)}; use --policy {elsewhere[0]}")
        raise CellError(f'unknown town "{name}"; expected a town or street of {self.jurisdiction.name_zh} '
                        "by name (e.g. 分水镇) or 9-digit NBS code")

    def _lookup(self, name: str) -> Town | None:
        for trailer in _TRAILERS:
            if name.endswith(trailer) and len(name) > len(trailer):
                name = name[: -len(trailer)]
        return self._by_name.get(name) or self._by_stem.get(name)

    def suggest(self, name: str) -> list[str]:
        if len(name) > 30:  # no town name is that long; comparing would only cost time
            return []
        # A look-alike character, or the right name with the wrong suffix (沙河镇 for 沙河街道), is
        # almost surely the one meant: suggest it alone.
        for guess in (name.translate(_LOOKALIKES), _stem(name)):
            fixed = self._lookup(guess)
            if fixed is not None:
                return [fixed.name]
        keys = list(self._by_name) + list(self._by_stem)
        found: list[str] = []
        for key in difflib.get_close_matches(name, keys, n=6, cutoff=0.6):
            canonical = (self._by_name.get(key) or self._by_stem[key]).name
            if canonical not in found:
                found.append(canonical)
        return found[:3]


def _stem(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def town_named(jurisdiction: Jurisdiction, text: str) -> str:
    """The canonical name of the town or street `text` names (a name, former name, alias or NBS code),
    for options such as --town. Raises CellError with a "did you mean" when it names none."""
    return TownResolver(jurisdiction).resolve(text).name

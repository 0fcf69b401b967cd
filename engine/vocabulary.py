"""A policy's vocabulary (policies/<id>/vocabulary.yaml): the words of its register's closed lists, each
with the other words officers or the clause itself use for it.

* `tags:` the enterprise tags its rules read (战略性新兴产业 for 战略性新兴). A tag written as an alias
  matches as the tag; a tag the vocabulary does not know is a row warning, never silently ignored.
  Without the file, the known tags are the values of the policy's text_list parameters (no aliases).
* every other key names a closed register column of the facts schema — an enum column (origin:
  招商引资 → [招商引资企业, 新建投产], production_status, mujun_class, registration_status) or a yes/no
  column (in_park: 是 → [园内], 否 → [园外]) — mapping each of its values to its other names. A cell
  holding an other name is read as the value; a cell holding neither is the row problem the reader
  gives for any value outside the list (never a guess)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.yamlio import load_mapping

VOCABULARY_FILE = "vocabulary.yaml"


Words = dict[str, tuple[str, ...]]          # a value -> its other names


def load_vocabulary(folder: Path, problems: list[str]) -> tuple[Words, dict[str, Words]]:
    """(tag -> its aliases, register column id -> {value -> its aliases}); ({}, {}) without the file.
    Whether each column key names a closed column of the facts schema is checked against the rules
    (vocabulary_problems), which this file does not know."""
    path = Path(folder) / VOCABULARY_FILE
    if not path.exists():
        return {}, {}
    reported = len(problems)
    raw = load_mapping(path, problems)
    if len(problems) > reported:          # unreadable, or not a mapping: said once
        return {}, {}
    if not all(isinstance(v, dict) for v in raw.values()) or ("tags" in raw and not raw["tags"]):
        problems.append(f"{path}: expected `tags:` mapping each tag to the list of its other names, and for "
                        "a closed register column (origin, production_status …) `<column id>:` mapping each "
                        "of its values to the list of its other names")
        return {}, {}
    words = {str(key): _words(path, str(key), body, problems) for key, body in raw.items()}
    return words.pop("tags", {}), words


def _words(path: Path, key: str, body: dict, problems: list[str]) -> Words:
    out: Words = {}
    owner: dict[str, str] = {}
    for value, aliases in body.items():
        value = _yes_no(value)
        aliases = aliases or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            problems.append(f"{path}: {key}.{value}: expected a list of other names")
            continue
        for word in (value, *aliases):
            if word in owner and owner[word] != value:
                problems.append(f"{path}: {key}: {word!r} names both {owner[word]!r} and {value!r}")
            owner[word] = value
        out[value] = tuple(aliases)
    return out


def _yes_no(value) -> str:
    # YAML reads a bare yes/true as a boolean: a yes/no column's values are written 是 and 否.
    return {True: "是", False: "否"}.get(value, str(value)) if isinstance(value, bool) else str(value)


YES_NO = ("是", "否")


def vocabulary_problems(path: Path, values: dict[str, Words], columns) -> list[str]:
    """Each key of vocabulary.yaml other than tags must be a closed register column (enum, or yes/no
    with the values 是 and 否) and each value one of that column's; no other name may be a value itself."""
    by_id = {c.id: c for c in columns}
    problems = []
    for key, words in values.items():
        column = by_id.get(key)
        if column is None or column.type not in ("enum", "bool"):
            closed = sorted(c.id for c in columns if c.type in ("enum", "bool"))
            problems.append(f"{path}: {key}: not a closed register column; expected tags or one of {', '.join(closed)}")
            continue
        allowed = tuple(column.values or ()) if column.type == "enum" else YES_NO
        for value, aliases in words.items():
            if value not in allowed:
                problems.append(f"{path}: {key}.{value}: not a value of {column.describe()} "
                                f"(expected one of {' / '.join(allowed)})")
            clash = [a for a in aliases if a in allowed and a != value]
            if clash:
                problems.append(f"{path}: {key}.{value}: {', '.join(clash)} is another value of the column, "
                                "not another name for this one")
    return problems


def value_aliases(words: Words) -> tuple[tuple[str, str], ...]:
    """(other name, value) pairs for a register column (engine/register/normalise reads cells through them)."""
    return tuple((alias, value) for value, aliases in words.items() for alias in aliases)


def with_aliases(values: tuple[str, ...], vocabulary: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A list of tags with every alias of each (the clause's own words match as the tag)."""
    extra = [a for v in values for a in vocabulary.get(v, ()) if a not in values]
    return values + tuple(dict.fromkeys(extra))


def known_tags(policy, as_of: date) -> set[str]:
    """Every word a register's 标签 may hold for this policy: the vocabulary's tags and aliases, or
    without a vocabulary the values of its text_list parameters in force."""
    if policy.vocabulary:
        return {w for tag, aliases in policy.vocabulary.items() for w in (tag, *aliases)}
    words: set[str] = set()
    for name, parameter in policy.parameters.items():
        if parameter.type == "text_list" and parameter.in_force(as_of):
            words.update(policy.param(name, as_of).value)
    return words


def unknown_tag_problem(path: str, row: int, enterprise, known: set[str], policy_id: str):
    """The row warning for tags the policy does not know (None when it knows them all)."""
    from engine.register.model import InputProblem
    unknown = [t for t in (enterprise.tags or ()) if t not in known]
    if not unknown:
        return None
    return InputProblem(str(path), row, "标签",
                        f"unknown tag(s) {', '.join(unknown)}: no rule of {policy_id} reads them "
                        f"(known: {', '.join(sorted(known))}); if one is another name for a known tag, "
                        f"add it to {VOCABULARY_FILE}")


def unknown_tag_warnings(read, policy, as_of: date) -> list:
    """One warning per accepted row whose 标签 holds a tag the policy does not know."""
    known = known_tags(policy, as_of)
    found = (unknown_tag_problem(read.path, row, ent, known, policy.id) for row, ent in read.accepted)
    return [p for p in found if p is not None]

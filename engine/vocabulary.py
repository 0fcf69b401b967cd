"""A policy's vocabulary (policies/<id>/vocabulary.yaml): the closed list of enterprise tags its rules
read, each with the other words officers or the clause itself use for it (战略性新兴产业 for
战略性新兴). A tag written as an alias matches as the tag; a tag the vocabulary does not know is a row
warning, never silently ignored. Without the file, the known tags are the values of the policy's
text_list parameters (no aliases)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from engine.yamlio import load_mapping

VOCABULARY_FILE = "vocabulary.yaml"


def load_vocabulary(folder: Path, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """tag -> its aliases ({} when the policy has no vocabulary.yaml)."""
    path = Path(folder) / VOCABULARY_FILE
    if not path.exists():
        return {}
    reported = len(problems)
    raw = load_mapping(path, problems)
    if len(problems) > reported:          # unreadable, or not a mapping: said once
        return {}
    tags = raw.get("tags")
    if set(raw) - {"tags"} or not isinstance(tags, dict):
        problems.append(f"{path}: expected `tags:` mapping each tag to the list of its other names")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for tag, aliases in tags.items():
        aliases = aliases or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            problems.append(f"{path}: tags.{tag}: expected a list of other names")
            continue
        for word in (str(tag), *aliases):
            if word in owner and owner[word] != str(tag):
                problems.append(f"{path}: {word!r} names both {owner[word]!r} and {tag!r}")
            owner[word] = str(tag)
        out[str(tag)] = tuple(aliases)
    return out


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

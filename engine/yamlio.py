"""The one module that reads YAML from disk. Safe loading only: policy files cannot construct
Python objects or run code. Duplicate keys are an error (a silently overwritten parameter value
would be a wrong payment)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlFileError(Exception):
    """A YAML file that cannot be read; the message names the file and the line."""


# libyaml's C parser when PyYAML was built with it (the same safe constructors, several times faster:
# policy loading dominates a one-row check's start-up); the pure-Python SafeLoader otherwise.
_BaseSafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeySafeLoader(_BaseSafeLoader):
    pass


def _construct_mapping(loader: _UniqueKeySafeLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeySafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
# Dates stay text: the models parse them, so a bad date is reported with its key, not as a YAML error,
# and "2024-01-01" in a parameter's value list is not silently turned into a datetime.date.
_UniqueKeySafeLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in _BaseSafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(path: Path) -> Any:
    return parse_yaml(load_text(path), str(path))


def load_mapping(path: Path, problems: list[str], required: bool = True) -> dict:
    """A policy-folder file whose top level is a mapping: {} when it is empty, or absent and optional;
    any other problem is appended to `problems` (every problem of a policy is reported at once)."""
    if not path.exists():
        if required:
            problems.append(f"{path}: file not found")
        return {}
    try:
        data = load_yaml(path)
    except YamlFileError as exc:
        problems.append(str(exc))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping at the top level")
        return {}
    return data


def parse_yaml(text: str, origin: str = "<text>") -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeySafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin} line {mark.line + 1}" if mark else origin
        raise YamlFileError(f"{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{origin}: {exc}") from None


def load_user_yaml(path: Path) -> Any:
    """A YAML file written by a user (--overrides): bounded before it is built. At most USER_YAML_BYTES
    and USER_YAML_NODES (engine/limits.py), and no aliases: `*name` lets a few hundred bytes stand for
    gigabytes once expanded (a "billion laughs"), and nothing a user writes needs it."""
    from engine.limits import exceeded, limit
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise YamlFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size > limit("USER_YAML_BYTES"):
        raise YamlFileError(str(exceeded("USER_YAML_BYTES", str(path), f"{size:,} bytes")))
    text = load_text(path)
    nodes, most = 0, limit("USER_YAML_NODES")
    try:
        for event in yaml.parse(text, Loader=_BaseSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise YamlFileError(f"{path} line {line}: a YAML alias (*{event.anchor}); write the value out "
                                    "instead (aliases are not accepted in files given to scaleup)")
            if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                nodes += 1
                if nodes > most:
                    raise YamlFileError(str(exceeded("USER_YAML_NODES", str(path), f"more than {most:,} nodes")))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path} line {mark.line + 1}" if mark else str(path)
        raise YamlFileError(f"{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{path}: {exc}") from None
    return parse_yaml(text, str(path))


def load_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlFileError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise YamlFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise YamlFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None

"""Policy changes as data: a reform is a set of parameter values with an effective date and a name.
Applying it gives a new Policy whose parameters carry the new dated values (the original is untouched),
validated exactly like policy files: unknown parameter -> "did you mean", wrong type, out of range."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.errors import PolicyDataError, validation_messages
from engine.money_text import parse_money_text
from engine.policy import Parameter, ParamValue, Policy, coerce_param_value, did_you_mean
from engine.yamlio import YamlFileError, load_user_yaml


class Reform(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    effective: date
    note: Optional[str] = None
    parameters: dict[str, Any]
    # Typed on the command line (--set): a bare money figure under 1万 is refused as ambiguous.
    from_command_line: bool = False


def load_reform(path: Path) -> Reform:
    try:
        raw = load_user_yaml(path)
    except YamlFileError as exc:
        raise PolicyDataError([str(exc)]) from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise PolicyDataError([f"{path}: expected a mapping (name, effective, parameters), got "
                               f"{type(raw).__name__}"])
    try:
        return Reform(**(raw or {}))
    except ValidationError as exc:
        raise PolicyDataError(validation_messages(exc, str(path))) from None
    except TypeError:
        raise PolicyDataError([f"{path}: expected a mapping with name, effective and parameters"]) from None


def parse_set_option(items: tuple[str, ...], effective: date) -> Optional[Reform]:
    """`--set name=value` options (repeatable) as a reform effective on the as-of date."""
    if not items:
        return None
    values: dict[str, Any] = {}
    problems = []
    for item in items:
        if "=" not in item:
            problems.append(f"--set {item!r}: expected name=value, e.g. --set enterprise_award_industrial=15万")
            continue
        name, value = item.split("=", 1)
        if name.strip() in values:
            problems.append(f"--set {name.strip()} is given twice ({values[name.strip()]!r} and {value.strip()!r}); "
                            "give each parameter once")
            continue
        values[name.strip()] = value.strip()
    if problems:
        raise PolicyDataError(problems)
    return Reform(name="--set " + " ".join(items), effective=effective, parameters=values, from_command_line=True)


def apply_reform(policy: Policy, reform: Reform, origin: str = "reform") -> Policy:
    problems: list[str] = []
    new_params = dict(policy.parameters)
    for name, raw in reform.parameters.items():
        param = policy.parameters.get(name)
        if param is None:
            problems.append(f"{origin}: unknown parameter {name!r}{did_you_mean(name, policy.parameters)}")
            continue
        try:
            value = _typed_text(param, raw, strict_money=reform.from_command_line)
            coerce_param_value(param, value)
        except ValueError as exc:
            problems.append(f"{origin}: {name}: {exc}")
            continue
        out_of_range = _range_problem(param, value)
        if out_of_range:
            problems.append(f"{origin}: {name}: {out_of_range}")
            continue
        values = {d: v for d, v in param.values.items() if d < reform.effective}
        values[reform.effective] = ParamValue(value=value, provenance="assumed",
                                              note=f"what-if: {reform.name}" + (f" — {reform.note}" if reform.note else ""))
        try:
            new_params[name] = Parameter(**{**param.model_dump(exclude={"values"}), "values": values})
        except ValidationError as exc:
            problems += validation_messages(exc, origin, name)
    if problems:
        raise PolicyDataError(problems)
    return dataclasses.replace(policy, parameters=new_params, what_if=reform.name)


def _typed_text(param: Parameter, raw: Any, strict_money: bool = False) -> Any:
    """Values from the command line arrive as text: give them the type the parameter expects."""
    if not isinstance(raw, str):
        return raw
    if param.type == "money":
        return parse_money_text(raw, bare_ok=not strict_money)
    if param.type == "count" and raw.strip().lstrip("-").isdigit():
        return int(raw)
    if param.type == "bool" and raw.lower() in ("true", "false", "是", "否"):
        return raw.lower() in ("true", "是")
    if param.type == "text_list":
        return [x.strip() for x in raw.replace("、", ",").split(",") if x.strip()]
    return raw


def _range_problem(param: Parameter, value: Any) -> Optional[str]:
    if param.range is None:
        return None
    lo, hi = Decimal(str(param.range.min)), Decimal(str(param.range.max))
    v = Decimal(str(value))
    if not lo <= v <= hi:
        return f"{value} is outside the range a policy office may set ({param.range.min}–{param.range.max})"
    return None

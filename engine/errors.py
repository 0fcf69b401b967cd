"""Domain exceptions. Only cli.py turns them into one-line messages for the user."""
from __future__ import annotations


class ScaleupError(Exception):
    """Base of every error a user can cause with their input or data."""


class PolicyDataError(ScaleupError):
    """Policy, rule or reference data that does not validate. Carries every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class UnknownPolicyError(ScaleupError):
    pass


class ParameterNotInForce(ScaleupError):
    """param(name, as_of) for a date on which the parameter has no value."""


class InputFileError(ScaleupError):
    """A register file that cannot be read at all (missing required column, unreadable)."""


class UsageConflict(ScaleupError):
    """A request the engine refuses whatever the data: options that cannot go together (cli.py shows
    it as a usage error, exit 2), e.g. committing a what-if award run."""


class EngineError(Exception):
    """An internal inconsistency (engine disagreement, action failure). A bug, never a user error."""


def validation_messages(exc, where: str = "", key: str = "", note=None) -> list[str]:
    """A pydantic ValidationError as the user's messages, one per problem: `<where>: <key.path>: <what
    is wrong>` (a misspelt key says so). `where` names the file (and row); `key` the entry inside it;
    `note(loc)` may add a word about the location, e.g. which rule it is in."""
    messages = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in (key, *err["loc"]) if p != "")
        text = (loc + (note(err["loc"]) or "") if note else loc) if loc else ""
        messages.append(": ".join(part for part in (where, text, problem_text(err)) if part))
    return messages


def problem_text(err: dict) -> str:
    """What is wrong, in one pydantic error (one entry of ValidationError.errors())."""
    if err["type"] == "extra_forbidden":
        return "unknown key (misspelt?)"
    return err["msg"].removeprefix("Value error, ")


class OutputFileError(ScaleupError):
    """An output that cannot or must not be written: it is an input of the command, a special file or a
    symlink, or its folder is missing or read-only."""


class LimitExceeded(InputFileError):
    """An input larger or deeper than a limit of engine/limits.py allows (docs/limits.md)."""

"""The only module that imports durable_rules (2.0.28, unmaintained). It hides the library's traps,
each pinned by tests/test_durable_host.py:

* a background dispatch thread races the caller  -> a host without threads (`_SyncHost`);
* at most 1024 live sessions (sids) per ruleset, then MemoryError and later a segfault
                                                  -> one sid per record, always deleted; one live at a time;
* sids matched by a 32-bit hash                   -> only one sid is ever live, so none can collide;
* `delete_state` after a record that matched nothing crashes the process
                                                  -> every ruleset gets a catch-all rule;
* exceptions inside actions are swallowed into the session state -> checked after every record;
* actions with two parameters are taken as asynchronous -> one-parameter closures;
* `set_rulesets` mutates the definitions          -> deep copies;
* ruleset names are global to a host              -> one host per compiled set, unique names;
* mixed types compare as text, floats are inexact -> only bool, int and str values are accepted
  (engine/encoding.py makes them); no `$in` operator -> callers compile `in` into `$or`.
"""
from __future__ import annotations

import copy
import itertools
from typing import Any, Iterable

from durable import engine as _durable_engine
from durable.engine import MessageNotHandledException

from engine.errors import EngineError

CATCH_ALL = "__catch_all__"
DISCRIMINATOR = {"record_kind": "enterprise"}
MAX_RULES_PER_RULESET = 60          # durable_rules errors (303) past 64 co-matching conditions per fact
_host_counter = itertools.count(1)


class _SyncHost(_durable_engine.Host):
    """durable_rules' Host without its two self-rescheduling timer threads: actions then run
    synchronously inside assert_fact, in the caller's thread."""

    def _run(self):  # noqa: D401 - replaces the thread start-up
        pass


class RuleEngine:
    """A set of compiled rulesets. `fire(ruleset, record)` returns the names of the rules that matched."""

    def __init__(self, rulesets: dict[str, dict[str, dict]]):
        self._fired: list[str] = []
        self._sids = itertools.count(1)
        self._prefix = f"h{next(_host_counter)}_"
        definitions = {}
        for name, rules in rulesets.items():
            if len(rules) > MAX_RULES_PER_RULESET:
                raise EngineError(f"ruleset {name} has {len(rules)} rules; at most {MAX_RULES_PER_RULESET}")
            compiled = {}
            for rule_name, rule in copy.deepcopy(rules).items():
                if rule_name == CATCH_ALL:
                    raise EngineError(f"rule name {CATCH_ALL} is reserved")
                rule = dict(rule)
                rule["run"] = self._action(rule_name)
                compiled[rule_name] = rule
            # Lowest priority (pri is an unsigned short; larger fires later): it only guarantees a match.
            compiled[CATCH_ALL] = {"all": [{"m": dict(DISCRIMINATOR)}], "pri": 65535, "run": self._ignore}
            definitions[self._prefix + name] = compiled
        self.ruleset_names = list(rulesets)
        self._host = _SyncHost()
        try:
            self._host.set_rulesets(definitions)
        except Exception as exc:  # durable reports bad definitions as bare error codes
            raise EngineError(f"durable_rules refused the compiled rules: {exc}") from None

    def _action(self, rule_name: str):
        fired = self._fired

        def action(c):  # exactly one parameter: two would make durable_rules treat it as asynchronous
            fired.append(rule_name)

        return action

    @staticmethod
    def _ignore(c):
        pass

    def fire(self, ruleset: str, record: dict[str, Any]) -> list[str]:
        """Assert one record as a fact in a fresh session and return the rules that fired, each once,
        in firing order. The session is always deleted."""
        check_record(record)
        name = self._prefix + ruleset
        sid = f"s{next(self._sids)}"
        fact = dict(record, **DISCRIMINATOR, sid=sid)
        self._fired.clear()
        try:
            try:
                self._host.assert_fact(name, fact)
            except MessageNotHandledException:
                # Cannot happen with the catch-all; if it does, the session exists but must not be deleted.
                raise EngineError(f"no rule matched the record in {ruleset}, not even the catch-all") from None
            state = self._host.get_state(name, sid)
            if "exception" in state:
                raise EngineError(f"an action failed inside durable_rules: {str(state['exception'])[:300]}")
            return list(dict.fromkeys(self._fired))   # `$or` branches may fire one rule more than once
        finally:
            try:
                self._host.delete_state(name, sid)
            except Exception as exc:  # pragma: no cover - would mean the session leaked
                raise EngineError(f"could not delete durable_rules session {sid}: {exc}") from None

    def fire_all(self, record: dict[str, Any]) -> list[str]:
        out: list[str] = []
        for ruleset in self.ruleset_names:
            out.extend(self.fire(ruleset, record))
        return out


def check_record(record: dict[str, Any]) -> None:
    """Only exact, typed values: durable_rules compares mixed types as text and numbers as doubles."""
    for key, value in record.items():
        if isinstance(value, bool) or isinstance(value, str):
            continue
        if isinstance(value, int):
            if abs(value) >= 2 ** 53:
                raise EngineError(f"{key}={value} is too large to compare exactly in durable_rules")
            continue
        raise EngineError(f"{key}={value!r}: only bool, int and str values go into durable_rules")


def rules_of(expressions: Iterable[dict]) -> list[dict]:
    """Wrap single-fact expressions as durable_rules patterns on the record."""
    return [{"all": [{"m": {"$and": [dict(DISCRIMINATOR), expr]}}]} for expr in expressions]

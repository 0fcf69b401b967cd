"""The only module that imports durable_rules (2.0.28, unmaintained). It hides the library's traps,
each pinned by tests/test_durable_host.py:

* a background dispatch thread races the caller  -> a host without threads (`_library`'s _SyncHost);
* at most 1024 live sessions (sids) per ruleset, then MemoryError and later a segfault
                                                  -> one sid per record, always deleted; one live at a time;
* sids matched by a 32-bit hash                   -> only one sid is ever live, so none can collide;
* `delete_state` after a record that matched nothing is undefined (crashes on 3.10-3.12)
                                                  -> every ruleset gets a catch-all rule;
* exceptions inside actions are swallowed into the session state -> RuleEngine runs each session's
  agenda itself (`_dispatch`: same C calls, no per-firing closure or JSON round trip of the state) and
  raises them;
* actions with two parameters are taken as asynchronous -> one-parameter closures;
* `set_rulesets` mutates the definitions          -> deep copies;
* ruleset names are global to a host              -> one host per compiled set, unique names;
* mixed types compare as text, floats are inexact -> only bool, int and str values are accepted
  (engine/encoding.py makes them); no `$in` operator -> callers compile `in` into `$or`.
"""
from __future__ import annotations

import copy
import itertools
import json
from functools import lru_cache
from typing import Any, Iterable, Optional

from engine.errors import EngineError

CATCH_ALL = "__catch_all__"
DISCRIMINATOR = {"record_kind": "enterprise"}
MAX_RULES_PER_RULESET = 60          # durable_rules errors (303) past 64 co-matching conditions per fact
_host_counter = itertools.count(1)
EXACT = 2 ** 53                     # integers beyond this are not exact as the doubles durable_rules compares


@lru_cache(maxsize=None)
def _library() -> tuple[Any, type]:
    """(durable_rules' C extension under its Python layer, a Host class without threads), imported when
    a RuleEngine is first built: the columnar engine and the commands that only read a policy compile
    rules with this module (rules_of, MAX_RULES_PER_RULESET) but never run durable_rules."""
    from durable import engine as durable_engine

    class _SyncHost(durable_engine.Host):
        """durable_rules' Host without its two self-rescheduling timer threads: actions then run
        synchronously inside assert_fact, in the caller's thread."""

        def _run(self):  # noqa: D401 - replaces the thread start-up
            pass

    return durable_engine.durable_rules_engine, _SyncHost


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
        # Each ruleset is sent only the fields its rules test: a field no rule names cannot change what
        # matches, and every action re-reads the whole fact as JSON (the library's main per-firing cost).
        self.ruleset_fields = {name: fields_tested(rules) for name, rules in rulesets.items()}
        self.sessions_opened = 0
        self._actions = {rule_name: rule["run"] for compiled in definitions.values()
                         for rule_name, rule in compiled.items()}
        self._c, host = _library()
        self._host = host()
        try:
            self._host.set_rulesets(definitions)
        except Exception as exc:  # durable reports bad definitions as bare error codes
            raise EngineError(f"durable_rules refused the compiled rules: {exc}") from None
        self._rulesets = {name: self._host.get_ruleset(self._prefix + name) for name in rulesets}
        self._handles = {name: rules._handle for name, rules in self._rulesets.items()}

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
        return self._fire(ruleset, record)

    def _fire(self, ruleset: str, record: dict[str, Any]) -> list[str]:
        sid = f"s{next(self._sids)}"
        fields = self.ruleset_fields[ruleset]
        fact = dict(record) if fields is None else {key: value for key, value in record.items() if key in fields}
        fact.update(DISCRIMINATOR, sid=sid)
        return self._run_session(ruleset, sid, json.dumps(fact, ensure_ascii=False))

    def _run_session(self, ruleset: str, sid: str, text: str) -> list[str]:
        """Assert one record (its JSON text, `sid` inside) in a fresh session, run its agenda, delete it."""
        handle = self._handles[ruleset]
        self.sessions_opened += 1
        # The C call under Ruleset.assert_fact, its result read as the library's _handle_result reads it.
        result = self._c.assert_fact(handle, text)
        if result[0] == 1:
            # Cannot happen with the catch-all; if it does, the session exists but must not be deleted.
            raise EngineError(f"no rule matched the record in {ruleset}, not even the catch-all")
        if result[0] == 2:
            raise EngineError(f"durable_rules had already seen the record asserted in {ruleset}")
        state_offset = 0 if result[0] == 3 else result[1]
        try:
            # each rule once, in firing order: `$or` branches may fire one rule more than once
            return list(dict.fromkeys(self._dispatch(handle, state_offset)))
        finally:
            try:
                self._c.delete_state(handle, sid)    # the C call under Ruleset.delete_state
            except Exception as exc:  # pragma: no cover - would mean the session leaked
                raise EngineError(f"could not delete durable_rules session {sid}: {exc}") from None

    def _dispatch(self, handle: int, state_offset: int) -> list[str]:
        """Runs the session's agenda, in the engine's firing order, and returns the rules that fired.

        The library's own dispatch (Ruleset.do_actions) builds a closure object per firing, parses the
        matched fact from JSON for it, then serialises the session state back into the engine, because
        its actions may change the state. Ours only record the rule's name and never touch the state,
        so each firing is: take the rule name, run our action, complete it and start the next
        (the same C calls, without the JSON round trip; pinned against the library's dispatch by
        tests/test_batch.py)."""
        fired = self._fired
        fired.clear()
        actions, c = self._actions, self._c
        result = c.start_action_for_state(handle, state_offset)
        messages = result[1] if result else None
        while messages:
            name = _action_name(messages)
            try:
                actions[name](None)
            except BaseException as exc:    # never swallowed, unlike in the library
                c.abandon_action(handle, state_offset)
                raise EngineError(f"an action failed inside durable_rules: {str(exc)[:300]}") from None
            messages = c.complete_and_start_action(handle, state_offset)
        return fired

    def fire_with_library_dispatch(self, ruleset: str, record: dict[str, Any]) -> list[str]:
        """The same as fire(), with the actions run by the library's own dispatch (Host.assert_fact):
        the reference that tests hold _dispatch to."""
        check_record(record)
        name, sid = self._prefix + ruleset, f"s{next(self._sids)}"
        fields = self.ruleset_fields[ruleset]
        fact = dict(record) if fields is None else {key: value for key, value in record.items() if key in fields}
        fact.update(DISCRIMINATOR, sid=sid)
        self._fired.clear()
        self.sessions_opened += 1
        try:
            state = self._host.assert_fact(name, fact) or self._host.get_state(name, sid)
            if "exception" in state:
                raise EngineError(f"an action failed inside durable_rules: {str(state['exception'])[:300]}")
            return list(dict.fromkeys(self._fired))
        finally:
            self._host.delete_state(name, sid)

    def record_fields(self, every_field: list[str]) -> list[list[str]]:
        """Per ruleset, in fire_all's order, the record fields it is sent (`every_field` where its rules'
        fields could not be read)."""
        return [every_field if fields is None else sorted(set(fields) - set(DISCRIMINATOR))
                for fields in (self.ruleset_fields[name] for name in self.ruleset_names)]

    def fire_serialised(self, bodies) -> list[str]:
        """fire_all with each ruleset's record (in ruleset order) already cut to record_fields and written
        as JSON members, `,"field":value` each (engine/columnar/durable_verdicts.member_texts, which checks
        every value as check_record does): the same C calls without a dict, a type check and json.dumps
        per record."""
        out: list[str] = []
        for ruleset, body in zip(self.ruleset_names, bodies):
            sid = f"s{next(self._sids)}"
            out.extend(self._run_session(ruleset, sid, '{"record_kind":"enterprise","sid":"%s"%s}' % (sid, body)))
        return out

    def fire_all(self, record: dict[str, Any]) -> list[str]:
        check_record(record)
        out: list[str] = []
        for ruleset in self.ruleset_names:
            out.extend(self._fire(ruleset, record))
        return out

    def session_exists(self, ruleset: str, sid: str) -> bool:
        """Whether durable_rules still holds the session (for tests: none may outlive its record)."""
        try:
            self._host.get_state(self._prefix + ruleset, sid)
        except Exception:   # the library reports an unknown sid as a bare error code (309)
            return False
        return True

    def sids_used(self, last: Optional[int] = None) -> list[str]:
        """The session ids given out so far (the last `last` of them)."""
        first = 1 if last is None else max(1, self.sessions_opened - last + 1)
        return [f"s{i}" for i in range(first, self.sessions_opened + 1)]


class BareEngine:
    """The benchmark's baseline (bench/run.py): the same compiled rulesets, catch-all included, with
    no-op actions; each record asserted as a fact in its own session, then deleted. No explanation and
    no bookkeeping. With `project`, each ruleset gets only the fields it tests, as RuleEngine sends them."""

    def __init__(self, rulesets: dict[str, dict[str, dict]], project: bool = False):
        self._prefix = f"h{next(_host_counter)}_"
        self._sids = itertools.count(1)
        noop = RuleEngine._ignore
        definitions = {}
        for name, rules in rulesets.items():
            compiled = {rule_name: dict(rule, run=noop) for rule_name, rule in copy.deepcopy(rules).items()}
            compiled[CATCH_ALL] = {"all": [{"m": dict(DISCRIMINATOR)}], "pri": 65535, "run": noop}
            definitions[self._prefix + name] = compiled
        self._fields = {self._prefix + name: (fields_tested(rules) if project else None)
                        for name, rules in rulesets.items()}
        self._host = _library()[1]()
        self._host.set_rulesets(definitions)

    def assert_record(self, record: dict[str, Any]) -> None:
        for name, fields in self._fields.items():
            sid = f"s{next(self._sids)}"
            fact = dict(record) if fields is None else {k: v for k, v in record.items() if k in fields}
            fact.update(DISCRIMINATOR, sid=sid)
            self._host.assert_fact(name, fact)
            self._host.delete_state(name, sid)


def _action_name(messages: str) -> str:
    """The rule of a firing: the one key of the engine's {"rule name": {...bound facts...}} text. Our rule
    names need no JSON escapes; anything else is parsed in full."""
    end = messages.find('":', 2)
    name = messages[2:end]
    if end > 2 and messages.startswith('{"') and '"' not in name and "\\" not in name:
        return name
    return next(iter(json.loads(messages)))


def check_record(record: dict[str, Any]) -> None:
    """Only exact, typed values: durable_rules compares mixed types as text and numbers as doubles."""
    for key, value in record.items():
        if isinstance(value, bool) or isinstance(value, str):
            continue
        if isinstance(value, int):
            if abs(value) >= EXACT:
                raise EngineError(f"{key}={value} is too large to compare exactly in durable_rules")
            continue
        raise EngineError(f"{key}={value!r}: only bool, int and str values go into durable_rules")


def fields_tested(rules: dict[str, dict]) -> Optional[set[str]]:
    """The fact fields that the patterns of these rules name (the discriminator included), or None
    when a pattern has a shape this reading does not know (then every field is sent)."""
    out = set(DISCRIMINATOR)

    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return all(walk(item) for item in node)
        if not isinstance(node, dict):
            return False
        for key, value in node.items():
            if key in ("$and", "$or"):
                if not walk(value):
                    return False
            elif key.startswith("$"):        # {"$lt": {field: value}}, {"$neq": {...}}, {"$ex": {field: 1}}
                if not isinstance(value, dict) or any(k.startswith("$") or isinstance(v, (dict, list))
                                                      for k, v in value.items()):
                    return False
                out.update(value)
            elif isinstance(value, (dict, list)):
                return False
            else:
                out.add(key)
        return True

    for rule in rules.values():
        for pattern in rule["all"]:
            if not all(walk(expression) for expression in pattern.values()):
                return None
    return out


def rules_of(expressions: Iterable[dict]) -> list[dict]:
    """Wrap single-fact expressions as durable_rules patterns on the record."""
    return [{"all": [{"m": {"$and": [dict(DISCRIMINATOR), expr]}}]} for expr in expressions]

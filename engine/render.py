"""Wording: formats values and renders decisions through jinja2 templates (engine/templates/).
The engine's findings are structured; every word a user reads comes from a template."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from engine.decisions import NO_AMOUNT_OFFERED, Decision, EnterpriseResult
from engine.facts import YearMonth
from engine.condition_lines import condition_frame, fill_condition, frame_key
from engine.deciding_rules import Listing, listing
from engine.findings import value_key
from engine.policy import ResolvedParam
from engine.rule_shapes import Slot, remembered_text, same_objects, shape_text, shaped_rule_text
from engine.rules_model import AnyOf, Ref, Rulebook, iter_nodes

if TYPE_CHECKING:
    import jinja2

LANGS = ("zh", "en")
TEMPLATES = Path(__file__).parent / "templates"


def _decimal(value: Any) -> tuple[Decimal, bool]:
    """(Decimal value, exact?) for Decimal/int/Fraction."""
    if isinstance(value, Fraction):
        n, m = value.numerator, value.denominator
        d = Decimal(n) / Decimal(m)
        return d, d.as_integer_ratio() == (n, m)       # both in lowest terms: Fraction(d) == value, cheaper
    return Decimal(value), True


def _grouped(d: Decimal, places: int) -> str:
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return f"{q:,.{places}f}"


def money(value: Any, lang: str = "zh", both: bool = False) -> str:
    """Yuan amounts shown in 万元 (zh) or yuan (en); approximate values say so."""
    d, exact = _decimal(value)
    exact = exact and d == d.quantize(_FEN)
    approx = "" if exact else ("约" if lang == "zh" else "≈")
    if lang == "zh":
        return f"{approx}{_wan(d, exact)}万元" + (f"（{_grouped(d, 2)}元）" if both else "")
    return f"{approx}{_grouped(d, 2)} yuan" + (f" ({_wan(d, exact)} 万元)" if both else "")


_FEN = Decimal("0.01")


def _wan(d: Decimal, exact: bool) -> str:
    """An amount in 万元: two decimals unless that would hide part of an exact amount (a 1-fen shortfall
    must never print as "0.00万元"), then as many decimals as the fen need (at most six)."""
    wan_value = d / 10000
    places = 2
    while exact and places < 6 and wan_value != wan_value.quantize(Decimal(1).scaleb(-places)):
        places += 1
    return _grouped(wan_value, places)


def money_margin(value: Any, lang: str = "zh") -> str:
    """A shortfall or excess, rounded to the unit shown: 万元 to two decimals, with the exact 元 in
    brackets when the rounding hides part of it; under 100 元 (0.01万元) in 元 alone (a 1-fen
    shortfall must never read as "0.00万元"). English: yuan to two decimals."""
    d, exact = _decimal(value)
    approx = "" if exact and d == d.quantize(Decimal("0.01")) else ("约" if lang == "zh" else "≈")
    if lang != "zh":
        return f"{approx}{_grouped(d, 2)} yuan"
    if abs(d) < 100:
        return f"{approx}{_grouped(d, 2)}元"
    wan = d / 10000
    shown = wan.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{approx}{_grouped(wan, 2)}万元" + ("" if shown == wan else f"（{_grouped(d, 2)}元）")


def ratio(value: Any, lang: str = "zh") -> str:
    d, exact = _decimal(value)
    pct = d * 100
    approx = "" if exact and pct == pct.quantize(Decimal("0.01")) else ("约" if lang == "zh" else "≈")
    return f"{approx}{_grouped(pct, 2)}%"


def plain(value: Any, lang: str = "zh") -> str:
    if value is None:
        return "未填写" if lang == "zh" else "not given"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, (date, YearMonth)):
        return str(value) if isinstance(value, YearMonth) else value.isoformat()
    if isinstance(value, tuple):
        return "、".join(plain(v, lang) for v in value) if lang == "zh" else ", ".join(plain(v, lang) for v in value)
    if isinstance(value, (Decimal, Fraction)):
        d, exact = _decimal(value)
        return ("" if exact else ("约" if lang == "zh" else "≈")) + (f"{d.normalize():f}" if exact else _grouped(d, 4))
    return str(value)


class Formatter:
    """Formats a fact or threshold by the fact's type (money, ratio, date...)."""

    def __init__(self, book: Rulebook, lang: str):
        self.book, self.lang = book, lang
        # Texts of the values and margins formatted so far, by fact and value_key (which tells apart
        # what prints differently: 1 and True, 1.0 and 1.00): an enterprise's explanation shows the
        # same figure in every rule that tests its fact, and a register repeats most codes and flags.
        self._shown: dict[tuple, str] = {}

    def fact_label(self, fact: Optional[str]) -> str:
        spec = self.book.facts.get(fact or "")
        return "" if spec is None else (spec.label_zh if self.lang == "zh" else spec.label_en)

    def value(self, fact: Optional[str], value: Any) -> str:
        if type(value) is Slot:             # a rule's text compiled with its values left open (rule_shapes)
            return value.marker
        return self._remembered("value", fact, value)

    def margin(self, fact: Optional[str], value: Any) -> str:
        if type(value) is Slot:
            return value.marker
        return self._remembered("margin", fact, value)

    def _remembered(self, kind: str, fact: Optional[str], value: Any) -> str:
        key = (kind, fact, value_key(value))
        shown = self._shown
        text = shown.get(key)
        if text is None:
            if len(shown) >= REMEMBERED_LINES:
                shown.clear()
            text = shown[key] = self._value_text(fact, value) if kind == "value" else self._margin_text(fact, value)
        return text

    def _value_text(self, fact: Optional[str], value: Any) -> str:
        if value is None:
            return plain(None, self.lang)
        kind = self.book.facts[fact].type if fact in self.book.facts else None
        if kind == "money" and not isinstance(value, bool):
            return money(value, self.lang)
        if kind == "ratio":
            return ratio(value, self.lang)
        if kind == "year" and not isinstance(value, bool):
            return f"{value}年" if self.lang == "zh" else str(value)
        return plain(value, self.lang)

    def _margin_text(self, fact: Optional[str], value: Any) -> str:
        kind = self.book.facts[fact].type if fact in self.book.facts else None
        if kind == "ratio":
            d, exact = _decimal(value)
            return ("约" if not exact and self.lang == "zh" else "") + f"{_grouped(d * 100, 2)}" + \
                ("个百分点" if self.lang == "zh" else " percentage points")
        if kind == "money" and not isinstance(value, bool):
            return money_margin(value, self.lang)
        return self.value(fact, value)

    def any_of(self, finding) -> Optional[dict]:
        """For a rule whose test has alternatives (any), what the reader needs: that one suffices
        (`top`: the rule is one any-group), the alternatives by label, and the first that held."""
        shape = self._any_of_shape(finding.rule.id)
        if shape is None:
            return None
        if shape is False:
            return {"top": False, "held": None}
        held = None
        for facts, label in shape:
            tested = [c for c in finding.conditions if c.fact in facts]
            if tested and all(c.met for c in tested):
                held = label
                break
        return {"top": True, "held": held}

    def _any_of_shape(self, rule_id: str):
        """What any_of needs of a rule, the same for every enterprise (worked out once per rule): None
        (no alternatives), False (alternatives inside), or each top alternative's facts and label."""
        memo = self.__dict__.setdefault("_any_of", {})
        if rule_id not in memo:
            cond = next((fam.conditions[rule_id] for fam in self.book.families.values()
                         if rule_id in fam.conditions), None)
            if cond is None or not any(isinstance(n, AnyOf) for n in self._nodes(cond)):
                memo[rule_id] = None
            elif not isinstance(cond, AnyOf):
                memo[rule_id] = False
            else:
                alts = []
                for alt in cond.any:
                    facts = {n.fact for n in self._nodes(alt) if getattr(n, "fact", None)}
                    alts.append((facts, self._alt_label(alt) or "、".join(self.fact_label(f) for f in sorted(facts))))
                memo[rule_id] = alts
        return memo[rule_id]

    def _alt_label(self, alt) -> Optional[str]:
        if isinstance(alt, Ref) and alt.ref in self.book.definitions:
            d = self.book.definitions[alt.ref]
            return d.label_zh if self.lang == "zh" else d.label_en
        return None

    def _nodes(self, cond):
        """Every node of a condition, definitions (refs) resolved."""
        for node in iter_nodes(cond):
            yield node
            if isinstance(node, Ref) and node.ref in self.book.definition_conditions:
                yield from self._nodes(self.book.definition_conditions[node.ref])

    def param(self, rp: ResolvedParam) -> str:
        """A parameter's value as shown, formatted once per parameter (an explanation shows the same few
        thresholds in many lines); entries hold their parameter, so an id is never reused."""
        memo = self.__dict__.setdefault("_params", {})
        hit = memo.get(id(rp))
        if hit is None or hit[0] is not rp:
            hit = memo[id(rp)] = (rp, self._param_text(rp))
        return hit[1]

    def _param_text(self, rp: ResolvedParam) -> str:
        t = rp.parameter.type
        if t == "money":
            return money(rp.value, self.lang)
        if t == "ratio":
            return ratio(rp.value, self.lang)
        if t == "annual_date":
            m, d = rp.value
            prefix = {"previous": ("上年", "previous year "), "current": ("当年", "same year ")}[rp.parameter.year]
            return f"{prefix[0]}{m}月{d}日" if self.lang == "zh" else f"{prefix[1]}{m:02d}-{d:02d}"
        if t == "enum":
            return str(rp.value)
        if t == "schedule":
            return schedule_text(rp.value, self.lang)
        return plain(rp.value, self.lang)


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    # jinja2 imported here, when a template is first rendered: the columnar check and the Parquet and CSV
    # outputs import this module for its wording helpers and never render one (jinja2's import was ~18 ms
    # of a check's start-up, before any worker could start).
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=False,
                             # Templates do not change while a command runs: no stat() of the template
                             # file for every {% include %} (thousands per enterprise in a batch).
                             auto_reload=False)
    env.filters["dwidth"] = display_width
    env.filters["yuan"] = lambda yuan: _grouped(Decimal(str(yuan)), 2) if yuan not in (None, "") else yuan
    env.filters["wan"] = lambda yuan: _grouped(Decimal(str(yuan)) / 10000, 2) if yuan not in (None, "") else yuan
    env.filters["pad"] = lambda text, width: str(text) + " " * max(0, width - display_width(str(text)))
    return env


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in str(text))


def render_decision(decision: Decision, result: EnterpriseResult, book: Rulebook, lang: str = "zh",
                    quoted: Optional["Quoted"] = None, every_rule: bool = False) -> str:
    """One decision's explanation: the rules that bear on its outcome (engine/deciding_rules.py; every rule
    with `every_rule`). `quoted`: what the enterprise's explanation has quoted above (a clause's text, a
    reading, a long basis of a parameter, a rule whose conditions a later decision shares); the decision
    then points to it instead of repeating it. Alone, a decision quotes everything it cites once."""
    words = _explain_words(book, lang)
    quoted = Quoted() if quoted is None else quoted
    d = decision
    shown = listing(d, every_rule)
    key, refs = _frame_key(d, shown, result, quoted)
    frames = words["frames"]
    hit = frames.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], refs)):
        # The template rendered with a marker where the rules' text goes: the words around it are the
        # same for every decision with this key (engine/templates/explain_*.txt.j2 reads nothing else).
        if len(frames) >= REMEMBERED_LINES:
            frames.clear()
        template = environment().get_template(f"explain_{lang}.txt.j2")
        above = Quoted()        # what the template asks of what was quoted above, as the key has it
        above.seen = {k for k in [("clause", d.clause_id), ("readings", ""),
                                  *(("reading", i.id) for i in shown.readings)] if k in quoted.seen}
        framed = template.render(d=d, readings=shown.readings, missing_facts=shown.missing_facts, r=result,
                                 family=book.families[d.type].spec, quoted=above,
                                 findings=lambda _: _FINDINGS_MARK, **words).strip()
        hit = frames[key] = (refs, *framed.split(_FINDINGS_MARK))
    _, before, after = hit
    text = (before + findings_text(d, shown, words, quoted) + after).strip()
    # What the template quotes (a clause, the readings' heading, each reading) is quoted from now on.
    if d.clause_id:
        quoted.first("clause", d.clause_id)
    if shown.readings:
        quoted.first("readings", "")
        quoted.readings(shown.readings)
    return text


_FINDINGS_MARK = "\x00findings\x00"


def _frame_key(d: Decision, shown: Listing, result: EnterpriseResult, quoted: "Quoted") -> tuple[tuple, tuple]:
    """Everything explain_*.txt.j2 shows of a decision but its rules' text, and the objects keyed by
    identity (kept with the frame so an id is never reused while remembered): the decision's type,
    outcome, amount and its lines, reason, triggered rules, classifications, the missing facts and
    readings it shows, its clause, and whether the clause and readings were quoted above."""
    lines = d.amount_lines
    refs = tuple(x for a in lines for x in (a.param, a.band)) + tuple(shown.readings)
    via = tuple(x.type for x in result.decisions if x.reason == NO_AMOUNT_OFFERED) \
        if d.reason == NO_AMOUNT_OFFERED else ()
    key = (d.type, d.outcome, value_key(d.amount_yuan), d.amount_basis, d.reason, result.as_of, via,
           tuple(d.triggered),
           tuple((a.rule_id, value_key(a.amount), a.chosen, a.role, a.band_index, a.band_fact, value_key(a.band_value))
                 for a in lines),
           value_key(d.beneficiary), tuple((k, value_key(v)) for k, v in d.attributes.items()),
           tuple(shown.missing_facts), d.clause_id, d.clause_text, tuple(map(id, refs)),
           quoted.has("clause", d.clause_id), quoted.has("readings", ""),
           tuple(quoted.has("reading", i.id) for i in shown.readings))
    return key, refs


def render_explanations(result: EnterpriseResult, book: Rulebook, lang: str, types=(),
                        every_rule: bool = False) -> list[str]:
    """The explanation of an enterprise's decisions (those of `types`, or all), one text per decision, each
    text a clause, reading or parameter basis quotes quoted in full only at its first citation
    (`explain` prints these; `check --explain` carries them)."""
    quoted = Quoted()
    return [render_decision(d, result, book, lang, quoted, every_rule) for d in result.decisions
            if not types or d.type in types]


class Quoted:
    """What an explanation has already shown in full: later citations point to it ("见上", "above")."""

    def __init__(self) -> None:
        self.seen: set[tuple] = set()

    def first(self, kind: str, key: Any) -> bool:
        """True the first time (kind, key) is cited, and remembers it."""
        if (kind, key) in self.seen:
            return False
        self.seen.add((kind, key))
        return True

    def has(self, kind: str, key: Any) -> bool:
        return (kind, key) in self.seen

    def readings(self, readings: list) -> tuple[list, list[str]]:
        """(the readings not quoted above, now quoted; the ids of those that were)."""
        fresh = [i for i in readings if self.first("reading", i.id)]
        shown = {i.id for i in fresh}
        return fresh, [i.id for i in readings if i.id not in shown]


_EXPLAIN_WORDS: dict[tuple[int, str], tuple[Rulebook, dict]] = {}
REMEMBERED_LINES = 20000     # distinct condition lines kept per rulebook and language (then started afresh)


def _explain_words(book: Rulebook, lang: str) -> dict:
    """What every explanation of one rulebook in one language shares, built once: the formatter, the
    provenance of each parameter (its template rendered once per parameter, not at every mention) and
    the condition lines already rendered (an explanation repeats the same lines: 是否法人单位 是, every
    parameter's source — rendered once, then remembered)."""
    hit = _EXPLAIN_WORDS.get((id(book), lang))
    if hit is not None and hit[0] is book:
        return hit[1]
    fmt = Formatter(book, lang)
    provenance_template = environment().get_template(f"provenance_{lang}.txt.j2")
    provenances: dict[int, tuple[ResolvedParam, str, bool]] = {}
    by_finding: dict[int, tuple] = {}
    frames: dict[tuple, tuple] = {}         # condition lines' frames (condition_frame), by frame_key
    w = environment().get_template(f"_words_{lang}.j2").module

    def basis(rp: ResolvedParam) -> tuple[str, bool]:
        """The parameter's basis, and whether it is quoted once per explanation (an assumed value's
        note, a basis longer than QUOTE_ONCE_OVER) and pointed to after."""
        found = provenances.get(id(rp))
        if found is None or found[0] is not rp:
            text = provenance_template.render(p=rp)
            found = provenances[id(rp)] = (rp, text, rp.assumed or len(text) > w.QUOTE_ONCE_OVER)
        return found[1], found[2]

    def remember(c, case: bool, quoted: Quoted) -> str:
        """A condition's line (case: without its margin), looked up by the finding itself: records share
        the findings of the values a register repeats (engine/findings.ExactRecord), so most lines are
        found without looking at the finding's contents. Entries hold their finding (an id is never
        reused while remembered); what a line shows also depends on whether each long basis of its
        parameters, or the note of an assumed one, was quoted above (then the line points to it)."""
        entry = by_finding.get(id(c))
        if entry is None or entry[0] is not c:
            if len(by_finding) >= REMEMBERED_LINES:
                by_finding.clear()
            bases = tuple(basis(p) for p in c.params)
            entry = by_finding[id(c)] = (c, bases, tuple(text for text, once in bases if once), {},
                                         (False,) * len(bases))
        _, bases, once_texts, texts, none_above = entry
        seen = quoted.seen
        above = tuple(once and ("basis", text) in seen for text, once in bases) if once_texts else none_above
        text = texts.get((case, above))
        if text is None:
            text = texts[case, above] = line(c, case, bases, above)
        if once_texts:
            seen.update(("basis", text) for text in once_texts)
        return text

    def line(c, case: bool, bases: tuple, above: tuple) -> str:
        """A condition's line. (Keyed by its contents too, lines were found again no more often than by
        their shared finding: each new line shows a figure the register had not shown before.) Its words
        around the value and margin are the same for every finding of the same condition: rendered once
        per frame_key, then filled with each finding's value and margin."""
        key = frame_key(c, case, above)
        hit = frames.get(key)
        if hit is None or not same_objects(hit[0], c.params):
            if len(frames) >= REMEMBERED_LINES:
                frames.clear()
            # Quoted above: an assumed value says so (without the note why), a long basis points up.
            shown = {id(p): (w.LINE["assumed" if p.assumed else "above"] if a else b[0])
                     for p, a, b in zip(c.params, above, bases)}
            hit = frames[key] = (c.params, condition_frame(c, case, fmt, w, lambda p: shown[id(p)]))
        return fill_condition(hit[1], c, fmt)

    words = {"fmt": fmt, "families": {k: f.spec for k, f in book.families.items()},
             "money": lambda v, both=False: money(v, lang, both), "provenance": lambda rp: basis(rp)[0],
             "remember": remember, "basis": basis, "blocks": {}, "frames": {}, "shapes": {}, "by_shape": {},
             "once_of": lambda f: _quoted_once(f, basis)}
    words["w"] = w          # the words of a rule's heading and lines (engine/templates/_words_{lang}.j2)
    if len(_EXPLAIN_WORDS) >= 8:         # a long-lived process (tests, the web app) loads many rulebooks
        _EXPLAIN_WORDS.clear()
    _EXPLAIN_WORDS[(id(book), lang)] = (book, words)
    return words


def findings_text(d: Decision, shown: Listing, words: dict, quoted: Quoted) -> str:
    """Each rule of the decision that bears on its outcome (`shown`): its heading (mark, clause, label,
    status, reading, alternatives), then its condition lines and the changes that would turn it; a rule
    shared with a decision shown above, its heading only (its conditions are there, the same), unless it
    decides this one; then how many rules are left out. Assembled here rather than looped in jinja: an
    explanation has dozens of rules; the words are the templates'.

    A rule's text depends on its finding, on whether it is shown above and on which long bases of its
    parameters were quoted above: remembered per finding (records share the findings of the values a
    register repeats, engine/evaluate.explain_family) and per such state."""
    blocks, seen = words["blocks"], quoted.seen
    out: list[str] = []
    for f in shown.findings:
        rule = f.rule
        if rule.kind == "classification" and not d.attributes:
            continue
        # A rule another decision shares (the town award's, the enterprise award's) points to its lines
        # where that decision listed them above.
        shown_above = bool(f.included_from) and ("rule", rule.id) in seen and rule.id != d.rule_id
        if not shown_above:
            seen.add(("rule", rule.id))
        if not f.shared:        # a finding of this record only: its text is never asked for again
            if f.shape is not None:         # filled from a shape: its text is compiled for the shape
                out.append(shape_text(f, shown_above, words["once_of"], words, quoted, rule_text))
            else:
                out.append(shaped_rule_text(f, shown_above, _quoted_once(f, words["basis"]), words, quoted,
                                            rule_text))
            continue
        out.append(remembered_text(blocks, REMEMBERED_LINES, f, lambda: _quoted_once(f, words["basis"]), shown_above,
                                   quoted, lambda once: shaped_rule_text(f, shown_above, once, words, quoted, rule_text)))
    if shown.left_out:
        out.append(words["w"].RULE["left_out"].format(shown.left_out) + "\n")
    return "".join(out)


def _quoted_once(f, basis) -> tuple:
    """The bases quoted once per explanation that a rule's condition lines show (none when it shows no
    condition lines)."""
    if f.status in ("not_modelled", "not_applicable") or f.rule.kind == "classification":
        return ()
    return tuple(dict.fromkeys(text for c in f.conditions for text, once in map(basis, c.params) if once))


def rule_text(f, shown_above: bool, words: dict, quoted: Quoted) -> str:
    """One rule's heading, condition lines and changes (findings_text renders it once per shape of the
    finding, engine/rule_shapes.py)."""
    w, fmt, remember = words["w"], words["fmt"], words["remember"]
    zh = fmt.lang == "zh"
    rule_words = w.RULE
    rule, status = f.rule, f.status
    kind = rule.kind
    head = [w.MARK[status], " ", rule.clause, " ", rule.label_zh if zh else rule.label_en, w.STATUS[status]]
    if rule.interpretation:
        head.append(rule_words["reading"].format(rule.interpretation))
    alt = fmt.any_of(f) if kind not in ("classification", "not_modelled") else None
    if alt and status in ("met", "not_met"):
        if alt["top"]:
            held = rule_words["held"].format(alt["held"]) if alt["held"] and status == "met" else ""
            head.append(rule_words["any_top"].format(held))
        elif kind not in ("indicator", "exclusion"):
            head.append(rule_words["any_inner"])
    if f.included_from:
        family = words["families"][f.included_from]
        head.append(rule_words["included_above" if shown_above else "included"].format(
            family.label_zh if zh else family.label_en))
    out = ["".join(head) + "\n"]
    if shown_above:
        return out[0]
    if status == "not_modelled":
        out.append("    " + (rule.reason_zh if zh else rule.reason) + "\n")
    elif kind != "classification" and status != "not_applicable":
        # A rule that does not apply to the enterprise (a condition whose guard does not hold, which then
        # counts as met; an amount line not paid) is named without its lines: its figures do not matter.
        out += _condition_lines(f, kind in ("indicator", "exclusion"), w, lambda c, case: remember(c, case, quoted))
    if f.changes:
        changes = changes_text(f, fmt, w.LINE)
        if changes:
            out.append(changes + "\n")
    return "".join(out)


def _condition_lines(f, case: bool, w, remember) -> list[str]:
    """A rule's conditions, one line each: for a case (an indicator, an exclusion) whether it holds (• · ?);
    otherwise met or not (✓ ✗ ?), and · for an unmet alternative of a rule that holds."""
    marks = w.CASE_MARK if case else w.CHECK_MARK
    quiet = not case and f.status == "met"
    out = []
    for c in f.conditions:
        mark = w.CASE_MARK[False] if quiet and c.met is False else marks[c.met]
        out.append("    " + mark + " " + remember(c, case) + "\n")
    return out


def changes_text(f, fmt: Formatter, words: dict) -> str:
    """What would turn an unmet rule: each alternative whose every change has a margin, its facts' moves."""
    alternatives = [alt for alt in f.changes if all(c.margin is not None for c in alt)]
    if not alternatives:
        return ""
    return words["qualify"] + words["or"].join(
        words["and"].join(words["up" if c.direction == "up" else "down"].format(
            fmt.fact_label(c.fact), fmt.margin(c.fact, c.margin)) for c in alt) for alt in alternatives)


# Outcomes that are not a plain "yes": a one-line reason says why.
_NOT_YES = {"not_eligible", "not_awarded", "insufficient_data", "red", "yellow", "not_applicable"}


def reason_line(d: Any, fmt: Formatter) -> Optional[str]:
    """Why a decision is not a "yes", in one line: the deciding rule's first unmet conditions with
    their margins, the data missing, or the indicators triggered. None for a "yes"."""
    if d.outcome not in _NOT_YES:
        return None
    findings = getattr(d, "findings", None) or []
    deciding = next((f for f in findings if f.rule.id == d.rule_id), None)
    if deciding is None:
        deciding = next((f for f in findings if f.status in ("not_met", "excluded")), None)
    unmet = [c for c in deciding.conditions if c.met is False][:2] if deciding is not None else []
    # Most reasons repeat (every firm below scale: 是否规上为「否」): render each distinct one once.
    key = (d.outcome, d.rule_id, d.reason, tuple(d.missing_facts), tuple(d.triggered),
           deciding.rule.id if deciding is not None else None,
           tuple((c.fact, repr(c.value), c.op, repr(c.threshold), repr(c.margin), c.context,
                  tuple((p.name, repr(p.value)) for p in c.params)) for c in unmet))
    cache = fmt.__dict__.setdefault("_reasons", {})
    if key not in cache:
        text = environment().get_template(f"reason_{fmt.lang}.txt.j2").render(d=d, deciding=deciding, unmet=unmet,
                                                                            fmt=fmt)
        cache[key] = " ".join(text.split()) or None
    return cache[key]


def render_brief(result: EnterpriseResult, book: Rulebook, lang: str, types: Optional[list[str]] = None) -> str:
    """Each decision in two lines at most: conclusion, amount and clause; then, for a "no", why."""
    fmt = Formatter(book, lang)
    decisions = [d for d in result.decisions if not types or d.type in types]
    return environment().get_template(f"explain_brief_{lang}.txt.j2").render(
        r=result, decisions=decisions, families={k: f.spec for k, f in book.families.items()},
        reason=lambda d: reason_line(d, fmt), money=lambda v: money(v, lang, True)).strip()


def provenance_text(rp: ResolvedParam, lang: str) -> str:
    template = environment().get_template(f"provenance_{lang}.txt.j2")
    return template.render(p=rp).strip()


def say(lang: str, key: str, **fields: Any) -> str:
    """A command's one-line message in the run's language (templates/_messages_{lang}.j2)."""
    return environment().get_template(f"_messages_{lang}.j2").module.M[key].format(**fields)


def schedule_text(bands, lang: str) -> str:
    """An amount schedule in one line: each band's interval (edges included or not) and its amount."""
    return ("；" if lang == "zh" else "; ").join(f"{b.interval()} → {money(b.amount, lang)}" for b in bands)

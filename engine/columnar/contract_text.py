"""Output contract v2 lines of an evaluated columnar batch, written as text pieces worked out once.

engine/contract.py builds each enterprise's object and encodes it; for a batch that is mostly repeated
work: a decision's members other than its conditions (outcome, rules, clauses, readings, amount,
parameters...) follow from the family's result columns for the row, which a register repeats a few
hundred times, and a condition's text follows from the values of the facts it reads. So the encoded
text of each is remembered — a decision per family and result, a rule's conditions per the values of
the facts they show — and each line is put together from them. Every piece is made by
engine/contract.py's own builder (`decision_object` with the conditions left out, `condition_object`),
so a line is byte for byte what `ndjson_line(enterprise_document(...))` gives (tests/test_output_contract.py
and tests/test_durable_verdicts.py compare them).

Facts are read from the batch's columns and derived (engine/derive.py) only where a deciding condition
shows them.
"""
from __future__ import annotations

from decimal import (ROUND_HALF_EVEN, Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow,
                     Rounded)
from fractions import Fraction
from typing import Iterable, Iterator, Optional

from engine import logic
from engine.columnar.durable_verdicts import column_values
from engine.contract import (SCHEMA_VERSION, Contract, condition_object, deciding_rules, decision_object,
                             ndjson_line, split_at_conditions)
from engine.crosscheck import row_keys
from engine.derive import FUNCTIONS
from engine.findings import ExactRecord, leaf_margin, leaf_static, logic_is_number
from engine.output import PLACES, json_value

FIGURES = ("money", "ratio", "int", "decimal")
FEN = "fen"         # a slot's figure written from the register's amounts in fen (ContractText._conditions)
CENT = Decimal("0.01")
# Exact or an exception: a result that would be rounded (more digits than 28, or below the cent in
# quantize) raises, and the Fraction path decides.
_EXACT = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[Inexact, Rounded, InvalidOperation, Overflow])
REMEMBERED = 1 << 15           # condition texts kept per process (about 100 bytes each); forgotten all at once
                               # when full: a revenue's condition is seldom seen twice, an industry's often


class ContractText:
    """One per contract and columnar evaluator (per process)."""

    def __init__(self, contract: Contract, ev):
        self.contract, self.ev = contract, ev
        self.derived = {s.id: s for s in ev.book.facts.values() if s.fn}
        self.order = list(self.derived)                  # declaration order: later facts use earlier ones
        self.decisions: dict = {}           # family index -> its result key -> DecisionPiece
        self.remembered: dict = {}          # (rule, deciding rule, leaf) -> value -> the condition's text
        self.remembered_count = 0

    def lines(self, batch, positions: Optional[Iterable[int]] = None) -> Iterator[str]:
        families = self.ev.families
        keys = [row_keys(batch.out[fam.name], batch.n) for fam in families]
        if any(k is None for k in keys):        # a value that cannot be a key: the object, built whole
            from engine.columnar.output import contract_lines
            yield from contract_lines(batch, self.contract, positions)
            return
        columns = Columns(batch.frame)
        frame, ev = batch.frame, self.ev
        encode = ndjson_line
        # A line's members before its decisions, encoded once around the two that differ per row.
        marker = "\x00"
        head = encode({"schema": SCHEMA_VERSION, "enterprise_id": marker, "name": marker,
                       "as_of": ev.as_of.isoformat(), "policy": ev.policy.id, "engine": self.contract.engine,
                       "cross_check": self.contract.cross_check, "decisions": []})
        start, middle, end = head[:-2].split(encode(marker))     # less the empty list's "]}"
        known = [(fam, self.decisions.setdefault(k, {}), keys[k]) for k, fam in enumerate(families)]
        conditions = self._conditions
        ids, names = frame.enterprise_id, frame.name
        for i in (range(batch.n) if positions is None else positions):
            parts = []
            values = None
            for fam, pieces, fam_keys in known:
                piece = pieces.get(fam_keys[i])
                if piece is None:
                    piece = pieces[fam_keys[i]] = self._decision_piece(batch, fam, i)
                if not piece.slots:
                    parts.append(piece.plain)
                    continue
                whole = piece.whole
                if whole is not None:
                    key = tuple([columns.value(f, i) for f in piece.base])
                    text = whole.get(key)
                    if text is not None:
                        parts.append(text)
                        continue
                if values is None:
                    values = {}
                shown = conditions(piece, fam.plan, columns, i, values)
                text = piece.before + ",".join(shown) + piece.after if shown else piece.plain
                if whole is not None:
                    self._remember(whole, key, text)
                parts.append(text)
            yield start + encode(ids[i]) + middle + encode(names[i]) + end + ",".join(parts) + "]}"

    def _decision_piece(self, batch, fam, i: int) -> "DecisionPiece":
        from engine.columnar.output import paid_rules
        d = batch.decision(fam, i)
        plan = fam.plan
        doc = decision_object(self.contract, plan, d, None, paid_rules(batch, fam, i))
        rules = [rid for rid in deciding_rules(plan, d) if plan.nodes.get(rid) is not None]
        leaves = {rid: list(logic.leaves(plan.nodes[rid])) for rid in rules}
        shown = {rid: tuple(dict.fromkeys(lf.fact for lf in leaves[rid] if isinstance(lf, (logic.Leaf, logic.Exists))))
                 for rid in rules}
        piece = DecisionPiece(doc, rules, leaves, d.rule_id, self._inputs(shown))
        kinds = self.contract.kinds
        # Each condition shown: (leaf, fact, its fixed text parts or None, a figure?, the texts remembered
        # per value of the fact — per rule, leaf and deciding rule, as the text depends on them).
        # A test on a parameter alone (no fact) is not in compact lines (decision_object).
        piece.slots = []
        for rid in rules:
            for lf in leaves[rid]:
                if getattr(lf, "fact", None) is None:
                    continue
                fast = LeafText(self.contract, rid, lf, d.rule_id) if type(lf) is logic.Leaf else None
                figure = kinds.get(lf.fact) in FIGURES
                # A register's own amount against a limit in whole fen: written from the fen column.
                in_fen = figure and fast is not None and fast.fen_limit is not None and lf.fact not in self.derived
                piece.slots.append((lf, lf.fact, fast, FEN if in_fen else figure,
                                    self.remembered.setdefault((rid, d.rule_id, id(lf)), {}), rid))
        piece.base = [f for f in piece.inputs if f not in self.derived]
        # No figure among the facts it reads (shown or derived from): the decision's whole text is
        # remembered per their values (an industry, a yes or no, a date), derivations and all.
        if not any(kinds.get(f) in FIGURES for f in piece.inputs):
            piece.whole = self.remembered.setdefault(("decision", id(piece)), {})
        piece.inputs = [(f, self.derived.get(f)) for f in piece.inputs]
        return piece

    def _remember(self, memo: dict, key, text: str) -> None:
        """A text kept for its key; all are forgotten at once when REMEMBERED are kept."""
        if self.remembered_count >= REMEMBERED:
            for kept in self.remembered.values():
                kept.clear()
            self.remembered_count = 0
        memo[key] = text
        self.remembered_count += 1

    def _inputs(self, shown: dict) -> list[str]:
        """The facts the shown facts are derived from, transitively, in the order they are derived."""
        needed: set[str] = set()
        todo = [f for facts in shown.values() for f in facts]
        while todo:
            f = todo.pop()
            if f not in needed:
                needed.add(f)
                spec = self.derived.get(f)
                todo += list(spec.args) if spec is not None else []
        return [f for f in needed if f not in self.derived] + [f for f in self.order if f in needed]

    def _conditions(self, piece: "DecisionPiece", plan, columns: "Columns", i: int, values: dict) -> list[str]:
        for f, spec in piece.inputs:
            if f not in values:
                values[f] = columns.value(f, i) if spec is None else FUNCTIONS[spec.fn](
                    *(values.get(a) for a in spec.args), self.ev.as_of)
        out = []
        exact = None
        # A condition's finding depends on its own fact's value alone (engine/findings.py _build): remembered
        # per value, except a figure's (seldom seen twice), which a register's money column gives in fen.
        for leaf, fact, fast, figure, memo, rid in piece.slots:
            value = values[fact]
            if figure and value is not None:
                fen = columns.fen(fact) if figure is FEN else None
                if fen is not None:
                    out.append(fast.fen_line(fen[i]))
                    continue
                if type(value) is Fraction and fast is not None and fast.for_fraction:
                    out.append(fast.fraction_line(value, plan.memo))
                    continue
            else:
                text = memo.get(value)
                if text is not None:
                    if text:
                        out.append(text)
                    continue
            if fast is not None:
                text = fast.line(leaf, value, logic.evaluate(leaf, values), plan.memo)
            else:
                exact = exact or ExactRecord(values, plan.memo)
                finding = exact.finding(rid, leaf)
                text = "" if finding is None else ndjson_line(condition_object(self.contract, finding,
                                                                              piece.decided_by))
            if not figure or value is None:
                self._remember(memo, value, text)
            if text:
                out.append(text)
        return out


class DecisionPiece:
    """A decision's encoded text around its conditions; `rules`: the deciding rules whose conditions show."""

    def __init__(self, doc: dict, rules: list[str], leaves: dict, decided_by: str, inputs: list[str]):
        self.rules, self.leaves, self.decided_by, self.inputs = rules, leaves, decided_by, inputs
        self.slots: list = []
        self.base: list[str] = []                # the register's facts among the inputs
        self.whole: Optional[dict] = None        # the decision's text per their values, or None
        self.plain = ndjson_line(doc)
        self.before, self.after = split_at_conditions(doc)


class LeafText:
    """One comparison's condition object as condition_object encodes it, its fixed parts written once:
    `{["rule_id":…,]"fact":…,"value":V,"op":…,"threshold":…,"met":M[,"margin":G]}`."""

    MET = {True: "true", False: "false", None: "null"}

    def __init__(self, contract: Contract, rule_id: str, leaf, decided_by: str):
        self.kind = contract.kinds.get(leaf.fact)
        # A money limit in Decimal (most figures a line shows, compared with a Decimal amount): its margin
        # can be worked out in Decimal (money_margin) instead of through Fractions.
        self.decimal_money = (self.kind == "money" and type(leaf.threshold) is Decimal
                              and leaf.op in ("<", "<=", ">", ">="))
        self.threshold, self.strict = leaf.threshold, leaf.op in ("<", ">")
        # The limit in whole fen, when it is one: a register's amount (in fen) is then compared and its
        # margin worked out in integers (fen_line).
        cents = self.threshold * 100 if self.decimal_money else None
        self.fen_limit = int(cents) if cents is not None and cents == cents.to_integral_value() else None
        self.compare = logic.COMPARE.get(leaf.op)
        # A derived figure compared with a number (fraction_line): the limit and unit as integer ratios,
        # worked out on first use (the plan's memo holds them), and json_value's places for the kind.
        self.leaf, self.exact = leaf, None
        self.for_fraction = (leaf.op in ("<", "<=", ">", ">=") and self.kind in FIGURES
                             and logic_is_number(leaf.threshold))
        self.places = PLACES.get(self.kind or "", PLACES["ratio"])
        head = {"rule_id": rule_id} if rule_id != decided_by else {}
        head["fact"] = leaf.fact
        self.before = ndjson_line(head)[:-1] + ',"value":'
        self.middle = (',"op":' + ndjson_line(leaf.op) + ',"threshold":'
                       + ndjson_line(json_value(leaf.threshold, self.kind)) + ',"met":')

    def line(self, leaf, value, met, plan_memo: dict) -> str:
        """The condition's text for this value of its fact and whether the leaf is met."""
        margin = None
        if met is False:
            margin = self.money_margin(value) if self.decimal_money and type(value) is Decimal else None
            if margin is None:
                margin = leaf_margin(leaf, value, met, plan_memo)
        return self.text(value, met, margin)

    def fraction_line(self, value: Fraction, plan_memo: dict) -> str:
        """The condition's text for a derived figure held as a Fraction (an annualised amount, a growth
        rate), as `line` writes it: compared with the limit and the margin |limit − value| (one unit of
        the fact's precision more beyond a strict limit) worked out on integer ratios, which Fraction's
        operators would each normalise again in Python. The texts are json_value's: the exact quotient
        rounded by Decimal division, which depends on the value alone, not on how it is reduced."""
        exact = self.exact
        if exact is None:
            unit, threshold = leaf_static(self.leaf, plan_memo)
            exact = self.exact = (threshold.as_integer_ratio(), unit.as_integer_ratio())
        (t_n, t_d), (u_n, u_d) = exact
        n, d = value.numerator, value.denominator
        out = self.before + '"' + self.rounded(n, d) + '"' + self.middle
        if self.compare(n * t_d, t_n * d):
            return out + "true}"
        gap_n, gap_d = abs(t_n * d - n * t_d), t_d * d
        if self.strict:
            gap_n, gap_d = gap_n * u_d + u_n * gap_d, gap_d * u_d
        return out + 'false,"margin":"' + self.rounded(gap_n, gap_d) + '"}'

    def rounded(self, n: int, d: int) -> str:
        return str((Decimal(n) / Decimal(d)).quantize(self.places, rounding=ROUND_HALF_EVEN))

    def fen_line(self, fen: int) -> str:
        """The condition's text for an amount of `fen` (present), as `line` writes it for that amount in
        yuan: compared with the limit in fen, the margin |limit − amount| (a fen more beyond a strict
        limit), both written to the cent."""
        limit = self.fen_limit
        out = self.before + '"' + fen_text(fen) + '"' + self.middle
        if self.compare(fen, limit):
            return out + "true}"
        return out + 'false,"margin":"' + fen_text(abs(limit - fen) + self.strict) + '"}'

    def money_margin(self, value: Decimal) -> Optional[str]:
        """The text json_value gives leaf_margin's Fraction for a Decimal amount that does not meet the
        limit: |limit − amount|, a cent more beyond a strict limit, in yuan to the cent. Decimal
        arithmetic that must be exact (any rounding raises): None when it is not, and the caller takes
        the Fraction path."""
        try:
            diff = _EXACT.abs(_EXACT.subtract(self.threshold, value))
            if self.strict:
                diff = _EXACT.add(diff, CENT)
            return str(_EXACT.quantize(diff, CENT))
        except DecimalException:
            return None

    def text(self, value, met, margin) -> str:
        """`margin`: a number, or the text money_margin already wrote (json_value leaves text as it is)."""
        out = self.before + self.encoded(value) + self.middle + self.MET[met]
        if margin is not None:
            out += ',"margin":' + self.encoded(margin)
        return out + "}"

    def encoded(self, value) -> str:
        shown = json_value(value, self.kind)
        if type(shown) is str and self.kind in FIGURES:     # digits, a sign and a point: nothing to escape
            return '"' + shown + '"'
        return ndjson_line(shown)


def fen_text(fen: int) -> str:
    """An amount in fen written in yuan to the cent, as json_value writes the Decimal (−0.05, 0.00, 12.30)."""
    units, cents = divmod(abs(fen), 100)
    return ("-" if fen < 0 else "") + str(units) + "." + ("0" + str(cents) if cents < 10 else str(cents))


class Columns:
    """A batch's register columns as Python values, each made once when first needed."""

    def __init__(self, frame):
        self.frame = frame
        self.cache: dict = {}
        self.fens: dict = {}

    def fen(self, fact: str) -> Optional[list]:
        """A money column held in fen (`num`) as Python integers, or None (the column is categorical:
        amounts too large for the integer columns)."""
        found = self.fens.get(fact, False)
        if found is False:
            col = self.frame.columns.get(fact)
            found = self.fens[fact] = (col.values.tolist() if col is not None and col.kind == "num"
                                       and col.ftype == "money" else None)
        return found

    def value(self, fact: str, i: int):
        values = self.cache.get(fact)
        if values is None:
            col = self.frame.columns.get(fact)
            if col is not None:
                values = column_values(col)
            elif fact in ("enterprise_id", "name", "town", "in_park"):
                values = getattr(self.frame, fact).tolist()
            else:
                values = [None] * self.frame.n
            if col is not None and col.ftype == "tags":
                values = [() if v is None else v for v in values]
            self.cache[fact] = values
        return values[i]

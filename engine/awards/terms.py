"""Payment terms of an award: the payment-pattern parameters in force on the as-of date, and the
schedule of instalments they give an award. Terms are fixed when
an award is recorded (the ledger keeps them with the award); later runs settle by those terms."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Optional

from engine.errors import PolicyDataError
from engine.policy import Policy, ResolvedParam

# The parameters that shape payment over time, and the type each must have.
TERM_PARAMETERS = {
    "award_first_instalment_share": "ratio",
    "award_instalment_condition": "enum",
    "growth_topup_amount": "money",
    "growth_topup_rate": "ratio",
    "growth_topup_years": "count",
    "clawback_years": "count",
}
# Registration statuses that end inclusion whatever 是否规上 says: the same list as the red
# registration warning (W8), as engine/analysis/targets.py reads it.
EXIT_STATUS_PARAMETER = "warning_registration_red"
CENT = Decimal("0.01")


@dataclass
class Terms:
    """The payment terms in force on the as-of date, each with its parameter (for the explanation)."""

    params: dict[str, ResolvedParam]
    exit_statuses: tuple[str, ...]

    @property
    def share(self) -> Decimal:
        return self.params["award_first_instalment_share"].value

    @property
    def condition(self) -> str:
        return self.params["award_instalment_condition"].value

    @property
    def topup_amount(self) -> Decimal:
        return self.params["growth_topup_amount"].value

    @property
    def topup_rate(self) -> Decimal:
        return self.params["growth_topup_rate"].value

    @property
    def topup_years(self) -> int:
        return self.params["growth_topup_years"].value

    @property
    def clawback_years(self) -> int:
        return self.params["clawback_years"].value

    def as_json(self) -> dict:
        from engine.output import json_value
        return {name: {"value": json_value(p.value, p.parameter.type), "provenance": p.provenance, "clause": p.clause,
                       "reference": p.reference, "note": p.note, "since": p.since.isoformat()}
                for name, p in self.params.items()}


def payment_terms(policy: Policy, as_of: date) -> Terms:
    """The payment-pattern parameters as of the date; a policy that lacks one, or types it wrongly,
    is a policy data error naming every such parameter."""
    problems, params = [], {}
    for name, kind in TERM_PARAMETERS.items():
        parameter = policy.parameters.get(name)
        if parameter is None:
            problems.append(f"{policy.folder / 'parameters.yaml'}: {name}: missing; award runs need every payment-"
                            f"pattern parameter ({', '.join(TERM_PARAMETERS)}) — see docs/policy-authoring.md")
            continue
        if parameter.type != kind:
            problems.append(f"{policy.folder / 'parameters.yaml'}: {name}: type must be {kind}, not {parameter.type}")
            continue
        params[name] = policy.param(name, as_of)
    if policy.parameters.get(EXIT_STATUS_PARAMETER) is None:
        # Not a payment pattern, but the runs need it to tell an exit from a missing 是否规上.
        problems.append(f"{policy.folder / 'parameters.yaml'}: {EXIT_STATUS_PARAMETER}: missing; award runs need "
                        "the registration statuses that end inclusion (a text_list, e.g. 注销, 吊销) — see "
                        "docs/policy-authoring.md")
    if problems:
        raise PolicyDataError(problems)
    share = params["award_first_instalment_share"].value
    if not Decimal(0) <= share <= Decimal(1):
        raise PolicyDataError([f"{policy.folder / 'parameters.yaml'}: award_first_instalment_share: {share} is not "
                               "between 0 and 1"])
    if set(params["award_instalment_condition"].parameter.choices or ()) != {"none", "in_scope_at_next_review"}:
        raise PolicyDataError([f"{policy.folder / 'parameters.yaml'}: award_instalment_condition: choices must be "
                               "[none, in_scope_at_next_review]"])
    exit_statuses = tuple(policy.param(EXIT_STATUS_PARAMETER, as_of).value)
    return Terms(params, exit_statuses)


@dataclass
class Instalment:
    seq: int
    kind: str                    # instalment | topup
    due_year: int
    amount: Decimal
    condition: str               # none | in_scope_at_next_review | growth_each_year
    status: str
    growth_rate: Optional[Decimal] = None
    growth_years: Optional[int] = None
    takes_remainder: bool = False    # the last instalment of a split holds the fen the share rounded off


def schedule(amount: Decimal, year: int, terms: Terms, kind: str) -> list[Instalment]:
    """The instalments of a new award. The first share is rounded down to the fen and the last
    instalment takes the rest, so the instalments always add up exactly to the award."""
    if kind != "enterprise":
        return [Instalment(1, "instalment", year, amount, "none", "payable")]
    first = (amount * terms.share).quantize(CENT, rounding=ROUND_DOWN)
    rest = amount - first
    out: list[Instalment] = []
    if first > 0:
        out.append(Instalment(len(out) + 1, "instalment", year, first, "none", "payable"))
    if rest > 0:
        out.append(Instalment(len(out) + 1, "instalment", year + 1, rest, terms.condition, "pending",
                              takes_remainder=bool(first) and amount * terms.share != first))
    if terms.topup_amount > 0 and terms.topup_years >= 1:
        out.append(Instalment(len(out) + 1, "topup", year + terms.topup_years, terms.topup_amount,
                              "growth_each_year", "pending", growth_rate=terms.topup_rate,
                              growth_years=terms.topup_years))
    return out


def ratio_text(value: Fraction) -> str:
    """A ratio as a decimal string to six places (the exact inputs are recorded beside it)."""
    d = Decimal(value.numerator) / Decimal(value.denominator)
    return str(d.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))

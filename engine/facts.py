"""The enterprise register row as typed facts (docs/decisions.md#input-contract).

Readers (engine/register/) turn files into these; the evaluator reads nothing else. Money is held in
yuan as Decimal; the register's 万元 columns are converted by the reader. Optional facts are None
when the row lacks them: a rule that needs one reports it missing, it is never filled in.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, field_validator

from engine.uscc import uscc_problem

Origin = Literal["招商引资", "小升规"]
ProductionStatus = Literal["正常", "半停产", "停产"]
MujunClass = Literal["A", "B", "C", "D", "未评价"]   # 未评价: recorded as not yet rated (a blank is missing data)
RegistrationStatus = Literal["存续", "经营异常", "迁出", "注销", "吊销"]


class YearMonth(BaseModel):
    """A calendar month (入统年月, 累计截至月份)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    year: int
    month: int

    @field_validator("month")
    @classmethod
    def _month_range(cls, v: int) -> int:
        if not 1 <= v <= 12:
            raise ValueError("month must be 1-12")
        return v

    @classmethod
    def parse(cls, text: str) -> "YearMonth":
        year, month = str(text).split("-")
        return cls(year=int(year), month=int(month))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def first_day(self) -> date:
        return date(self.year, self.month, 1)


class Enterprise(BaseModel):
    """One enterprise of the register, as of the evaluation date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enterprise_id: str
    name: str
    town: str                      # canonical name of the town/street (resolved by the reader)
    town_code: Optional[str] = None  # NBS 9-digit code of that town/street
    in_park: bool
    industry_code: str
    is_legal_person: bool
    independent_accounting: Optional[bool] = None
    established_on: date
    commissioned_on: Optional[date] = None
    in_scope: bool
    in_scope_since: Optional[YearMonth] = None
    previously_in_scope: Optional[bool] = None
    origin: Optional[Origin] = None
    revenue_last_year: Optional[Decimal] = None
    revenue_ytd: Optional[Decimal] = None
    ytd_through: Optional[YearMonth] = None
    revenue_ytd_last_year: Optional[Decimal] = None
    employees: Optional[int] = None
    production_status: Optional[ProductionStatus] = None
    months_without_output: Optional[int] = None
    profit_ytd: Optional[Decimal] = None
    loss_years: Optional[int] = None
    mujun_class: Optional[MujunClass] = None
    land_request_mu: Optional[Decimal] = None
    power_request_kva: Optional[Decimal] = None
    tags: tuple[str, ...] = ()
    registration_status: Optional[RegistrationStatus] = None

    @field_validator("enterprise_id")
    @classmethod
    def _valid_uscc(cls, v: str) -> str:
        problem = uscc_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("industry_code")
    @classmethod
    def _industry_code_shape(cls, v: str) -> str:
        # GB/T 4754-2017: a section letter followed by 2-4 digits (division, group, class).
        if not (2 <= len(v) <= 5 and v[0] in "ABCDEFGHIJKLMNOPQRST" and v[1:].isdigit() and len(v) >= 3):
            raise ValueError("expected a GB/T 4754-2017 code such as C3670 or I6513")
        return v

    @field_validator("revenue_last_year", "revenue_ytd", "revenue_ytd_last_year", "land_request_mu",
                     "power_request_kva", "employees", "months_without_output", "loss_years")
    @classmethod
    def _not_negative(cls, v):
        if v is not None and v < 0:
            raise ValueError("must not be negative")
        return v

    @field_validator("revenue_last_year", "revenue_ytd", "revenue_ytd_last_year", "profit_ytd")
    @classmethod
    def _whole_fen(cls, v: Optional[Decimal]) -> Optional[Decimal]:
        # Money is exact to the fen; a finer figure would be silently rounded somewhere downstream.
        if v is not None and v != v.quantize(Decimal("0.01")):
            raise ValueError("money must be exact to 0.01 元 (0.000001 万元)")
        return v

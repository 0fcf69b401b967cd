"""The policy instrument as data: metadata, clauses, dated parameters with provenance, targets and
interpretations (policies/<id>/). Loading validates everything and reports every problem at once,
each with its file and key. `Policy.param(name, as_of)` is the only way rules see a figure."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.errors import ParameterNotInForce, PolicyDataError, UnknownPolicyError, validation_messages
from engine.jurisdiction import Jurisdiction, load_jurisdiction
from engine.provisions import Binding, load_provisions
from engine.schedule import parse_schedule
from engine.vocabulary import load_vocabulary, with_aliases
from engine.yamlio import YamlFileError, load_mapping

Strict = ConfigDict(extra="forbid", frozen=True)
ParamType = Literal["money", "ratio", "count", "bool", "enum", "text_list", "annual_date", "date", "schedule"]


class Clause(BaseModel):
    model_config = Strict
    id: str
    kind: Literal["notice", "provision", "annex"]
    heading_zh: str
    heading_en: str
    text: str


class InForce(BaseModel):
    model_config = Strict
    from_: date = Field(alias="from")
    to: date
    provenance: Literal["source", "assumed"]
    note: str

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= self.to


class PolicyMeta(BaseModel):
    model_config = Strict
    id: str
    document_number: str
    title_zh: str
    title_en: str
    issuer_zh: str
    issuer_en: str
    approved_by_zh: Optional[str] = None
    signed_on: date
    issued_on: date
    disclosure_zh: Optional[str] = None
    addressees_zh: Optional[str] = None
    in_force: InForce
    jurisdiction: str
    source_file: str
    # SHA-256 of the source document as published: a copy that drifts from the official text (an edit,
    # a re-encoding) is refused at load time instead of quietly changing what "verbatim" means.
    source_sha256: Optional[str] = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    source_note: Optional[str] = None
    fictional: bool = False
    # Rule records this instrument uses: a folder relative to the policy folder. Every path to rules
    # comes from here; left out, the package's shared rules (bound to this instrument's clauses by its
    # provisions.yaml).
    rules: Optional[str] = None


Provenance = Literal["source", "decided", "assumed"]
PROVENANCE_KINDS: tuple[str, ...] = ("source", "decided", "assumed")


class ParamValue(BaseModel):
    """One dated value and where it comes from:
    `source`  the instrument (or a national rule it relies on) states it: a clause or a reference;
    `decided` a later official document of the district fixed it: its 文号 (reference), issuer and date;
    `assumed` our default where the text is silent: a note saying why."""

    model_config = Strict
    value: Any
    provenance: Provenance
    clause: Optional[str] = None
    reference: Optional[str] = None
    issuer: Optional[str] = None
    decided_on: Optional[date] = None
    note: Optional[str] = None
    note_en: Optional[str] = None      # the note for an English review sheet, where `note` cites project docs
    note_zh: Optional[str] = None      # the note for a Chinese review sheet
    until: Optional[date] = None

    @model_validator(mode="after")
    def _provenance_is_documented(self):
        if self.provenance == "source" and not (self.clause or self.reference):
            raise ValueError("provenance 'source' needs a clause or a reference")
        if self.provenance == "decided" and not (self.reference and self.issuer and self.decided_on):
            raise ValueError("provenance 'decided' needs the deciding document: reference (文号), issuer and decided_on")
        if self.provenance == "assumed" and not self.note:
            raise ValueError("provenance 'assumed' needs a note saying why")
        if self.provenance != "decided" and (self.issuer or self.decided_on):
            raise ValueError("issuer and decided_on belong to provenance 'decided'")
        return self


class ParamRange(BaseModel):
    model_config = Strict
    min: Union[str, int]
    max: Union[str, int]


class Parameter(BaseModel):
    model_config = Strict
    name: str
    label_zh: str
    label_en: str
    type: ParamType
    unit: Optional[str] = None
    range: Optional[ParamRange] = None
    choices: Optional[tuple[str, ...]] = None
    year: Optional[Literal["current", "previous"]] = None   # for annual_date
    values: dict[date, ParamValue]

    @model_validator(mode="after")
    def _typed_values(self):
        if not self.values:
            raise ValueError("needs at least one dated value")
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum parameter needs its choices")
        if self.type == "annual_date" and not self.year:
            raise ValueError("an annual_date parameter needs year: current|previous")
        for day, pv in self.values.items():
            try:
                coerce_param_value(self, pv.value)
            except ValueError as exc:
                raise ValueError(f"value of {day.isoformat()}: {exc}") from None
        days = sorted(self.values)
        for this, nxt in zip(days, days[1:]):
            until = self.values[this].until
            if until is not None and until >= nxt:
                raise ValueError(f"values overlap: {this.isoformat()} runs until {until.isoformat()}, "
                                 f"but {nxt.isoformat()} starts before that")
        for day in days:
            until = self.values[day].until
            if until is not None and until < day:
                raise ValueError(f"value of {day.isoformat()} ends ({until.isoformat()}) before it starts")
        return self

    def in_force(self, as_of: date) -> Optional[tuple[date, ParamValue]]:
        current = None
        for day in sorted(self.values):
            if day <= as_of:
                current = (day, self.values[day])
        if current is None:
            return None
        until = current[1].until
        if until is not None and as_of > until:
            return None
        return current


MAX_PARAMETER_DIGITS = 15   # 10^15 yuan is beyond any budget; larger values are typing errors


def coerce_param_value(param: Parameter, raw: Any) -> Any:
    """The typed value of a parameter (Decimal for money and ratios). Raises ValueError."""
    t = param.type
    if t in ("money", "ratio"):
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"expected a quoted decimal such as \"20000000\", got {raw!r}")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f"expected a decimal number, got {raw!r}") from None
        if not value.is_finite():
            raise ValueError(f"expected a finite number, got {raw!r}")
        if value and value.adjusted() > MAX_PARAMETER_DIGITS:     # 1e400 would overflow quantize below
            raise ValueError(f"{str(raw)[:40]!r} is too large (more than {MAX_PARAMETER_DIGITS} digits before "
                             "the decimal point)")
        if t == "money":
            if value < 0:
                raise ValueError("money must not be negative")
            if value != value.quantize(Decimal("0.01")):
                raise ValueError("money must be exact to 0.01 yuan")
        return value
    if t == "count":
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValueError(f"expected a whole number ≥ 0, got {raw!r}")
        return raw
    if t == "bool":
        if not isinstance(raw, bool):
            raise ValueError(f"expected true or false, got {raw!r}")
        return raw
    if t == "enum":
        if raw not in (param.choices or ()):
            raise ValueError(f"expected one of {', '.join(param.choices or ())}, got {raw!r}")
        return raw
    if t == "text_list":
        if not isinstance(raw, list) or not raw or not all(isinstance(x, str) and x for x in raw):
            raise ValueError(f"expected a non-empty list of text, got {raw!r}")
        return tuple(raw)
    if t == "annual_date":
        try:
            month, day = (int(x) for x in str(raw).split("-"))
            date(2000, month, day)  # a leap year, so 02-29 is accepted
        except ValueError:
            raise ValueError(f"expected a month-day such as \"10-01\", got {raw!r}") from None
        return (month, day)
    if t == "date":     # a calendar date (the entry window of an award)
        try:
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise ValueError(f"expected a date such as \"2024-03-01\", got {raw!r}") from None
    if t == "schedule":
        return parse_schedule(raw)
    raise ValueError(f"unknown parameter type {t}")


@dataclass(frozen=True)
class ResolvedParam:
    """A parameter's value in force on a date, with where it comes from."""

    name: str
    value: Any
    raw: Any
    since: date
    provenance: str
    clause: Optional[str]
    reference: Optional[str]
    note: Optional[str]
    parameter: Parameter
    issuer: Optional[str] = None
    decided_on: Optional[date] = None
    note_zh: Optional[str] = None
    note_en: Optional[str] = None

    def note_in(self, lang: str) -> Optional[str]:
        """The note a review sheet shows, in the sheet's language and citing only the policy and its
        sources (note_zh / note_en where the data gives them; `note` may cite the project's docs)."""
        return (self.note_zh if lang == "zh" else self.note_en) or self.note

    @property
    def assumed(self) -> bool:
        return self.provenance == "assumed"

    def decided_by(self) -> dict:
        """The deciding document of a `decided` value ({} otherwise), for records and JSON."""
        if self.provenance != "decided":
            return {}
        return {"issuer": self.issuer, "decided_on": self.decided_on.isoformat() if self.decided_on else None}


class Column(BaseModel):
    model_config = Strict
    label_zh: str
    label_en: str


class AnnexRow(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    year: int


class Partition(BaseModel):
    model_config = Strict
    total: str
    parts: tuple[str, ...]


class RunningTotal(BaseModel):
    model_config = Strict
    stock: str
    additions: str


class Annex(BaseModel):
    model_config = Strict
    clause: str
    title_zh: str
    unit: str
    columns: dict[str, Column]
    rows: tuple[AnnexRow, ...]
    partitions: tuple[Partition, ...] = ()
    running_totals: tuple[RunningTotal, ...] = ()

    @model_validator(mode="after")
    def _rows_use_columns(self):
        for row in self.rows:
            extra = set(row.model_extra or {})
            unknown = extra - set(self.columns)
            missing = set(self.columns) - extra
            if unknown or missing:
                raise ValueError(f"row {row.year}: unknown columns {sorted(unknown)}, missing {sorted(missing)}")
            for col in self.columns:
                if not isinstance(row.model_extra[col], int) or isinstance(row.model_extra[col], bool):
                    raise ValueError(f"row {row.year}, column {col}: expected a whole number as printed")
        for rel in self.partitions:
            for name in (rel.total, *rel.parts):
                if name not in self.columns:
                    raise ValueError(f"partition names unknown column {name!r}")
        for rel in self.running_totals:
            for name in (rel.stock, rel.additions):
                if name not in self.columns:
                    raise ValueError(f"running total names unknown column {name!r}")
        return self

    def figure(self, year: int, column: str) -> Optional[int]:
        row = next((r for r in self.rows if r.year == year), None)
        return None if row is None else row.model_extra[column]


class TextTarget(BaseModel):
    model_config = Strict
    id: str
    clause: str
    year: int
    measure: str
    op: Literal[">=", "=="]
    value: int
    text: str


class Targets(BaseModel):
    model_config = Strict
    annex: Optional[Annex] = None
    text_targets: tuple[TextTarget, ...] = ()


class Interpretation(BaseModel):
    model_config = Strict
    id: str
    clause: str
    text: str
    reading_zh: str
    reading_en: str
    alternatives: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    decided_by: str


@dataclass
class Policy:
    meta: PolicyMeta
    folder: Path
    source_text: str
    clauses: dict[str, Clause]
    parameters: dict[str, Parameter]
    targets: Targets
    interpretations: dict[str, Interpretation]
    jurisdiction: Jurisdiction
    # provision id -> this instrument's clause and quote (provisions.yaml); unbound = not provided
    provisions: dict[str, Binding] = field(default_factory=dict)
    # clause id -> why it decides nothing for a firm (provisions.yaml `not_modelled:`)
    not_modelled_clauses: dict[str, str] = field(default_factory=dict)
    # tag -> its other names (vocabulary.yaml): a list of tags in a parameter matches its aliases too
    vocabulary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # register column id -> {value -> its other names} (vocabulary.yaml): read as the value by the reader
    column_vocabulary: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # The name of the what-if reform applied to the published data, if any: such a policy may be
    # evaluated and compared, never used to record money (engine/awards/run.py commit_run).
    what_if: Optional[str] = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def rules_folder(self) -> Path:
        if self.meta.rules is None:
            return (bundle_root() / "rules").resolve()
        return (self.folder / self.meta.rules).resolve()

    def param(self, name: str, as_of: date) -> ResolvedParam:
        try:
            parameter = self.parameters[name]
        except KeyError:
            raise ParameterNotInForce(f"{self.id}: no parameter named {name!r}{did_you_mean(name, self.parameters)}") from None
        hit = parameter.in_force(as_of)
        if hit is None:
            dates = ", ".join(d.isoformat() for d in sorted(parameter.values))
            raise ParameterNotInForce(
                f"{self.id}: parameter {name!r} has no value in force on {as_of.isoformat()} (values from: {dates})")
        since, pv = hit
        value = coerce_param_value(parameter, pv.value)
        if parameter.type == "text_list" and self.vocabulary:
            value = with_aliases(value, self.vocabulary)
        return ResolvedParam(name=name, value=value, raw=pv.value, since=since,
                             provenance=pv.provenance, clause=pv.clause, reference=pv.reference, note=pv.note,
                             parameter=parameter, issuer=pv.issuer, decided_on=pv.decided_on, note_zh=pv.note_zh,
                             note_en=pv.note_en)

    def clause(self, clause_id: str) -> Clause:
        return self.clauses[clause_id]


def did_you_mean(name: str, candidates) -> str:
    import difflib
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def load_policy(folder: Path, jurisdictions_root: Optional[Path] = None) -> Policy:
    """Load and validate one policy folder; raise PolicyDataError listing every problem."""
    folder = Path(folder)
    problems: list[str] = []
    meta = _load_meta(folder, problems)
    clauses = _load_clauses(folder, problems)
    source_text = _load_source(folder, meta, clauses, problems)
    parameters = _load_parameters(folder, clauses, problems)
    targets = _load_targets(folder, clauses, source_text, problems)
    interpretations = _load_interpretations(folder, clauses, parameters, problems)
    provisions, not_modelled_clauses = load_provisions(folder, clauses, problems)
    vocabulary, column_vocabulary = load_vocabulary(folder, problems)
    jurisdiction = None
    if meta is not None:
        root = jurisdictions_root or folder.parent / "jurisdictions"
        if not (root / meta.jurisdiction).is_dir() and (policies_root() / "jurisdictions" / meta.jurisdiction).is_dir():
            root = policies_root() / "jurisdictions"     # a policy folder elsewhere, of a bundled district
        try:
            jurisdiction = load_jurisdiction(root / meta.jurisdiction)
        except PolicyDataError as exc:
            problems += exc.problems
        except YamlFileError as exc:
            problems.append(str(exc))
    if problems:
        raise PolicyDataError(problems)
    return Policy(meta=meta, folder=folder, source_text=source_text, clauses=clauses, parameters=parameters,
                  targets=targets, interpretations=interpretations, jurisdiction=jurisdiction,
                  provisions=provisions, vocabulary=vocabulary, column_vocabulary=column_vocabulary,
                  not_modelled_clauses=not_modelled_clauses)


def _load_meta(folder: Path, problems: list[str]) -> Optional[PolicyMeta]:
    meta_raw = load_mapping(folder / "policy.yaml", problems)
    if not meta_raw:
        return None
    try:
        return PolicyMeta(**meta_raw)
    except ValidationError as exc:
        problems += validation_messages(exc, str(folder / "policy.yaml"), "")
    except TypeError as exc:
        problems.append(f"{folder / 'policy.yaml'}: {exc}")
    return None


def _load_clauses(folder: Path, problems: list[str]) -> dict[str, Clause]:
    clauses: dict[str, Clause] = {}
    cl_path = folder / "clauses.yaml"
    cl_raw = load_mapping(cl_path, problems)
    for i, item in enumerate(cl_raw.get("clauses", []) or []):
        try:
            clause = Clause(**item) if isinstance(item, dict) else None
            if clause is None:
                problems.append(f"{cl_path}: clauses[{i}]: expected a mapping")
            elif clause.id in clauses:
                problems.append(f"{cl_path}: clauses[{i}]: duplicate clause id {clause.id!r}")
            else:
                clauses[clause.id] = clause
        except ValidationError as exc:
            problems += validation_messages(exc, str(cl_path), f"clauses[{i}]")
    unknown_top = set(cl_raw) - {"clauses"}
    if unknown_top:
        problems.append(f"{cl_path}: unknown key(s) {sorted(unknown_top)}")
    return clauses


def _load_source(folder: Path, meta: Optional[PolicyMeta], clauses: dict[str, Clause], problems: list[str]) -> str:
    """The instrument's text, checked against its recorded SHA-256; every clause must be a verbatim part of it."""
    if meta is None:
        return ""
    source_text = ""
    src = folder / meta.source_file
    try:
        source_bytes = src.read_bytes()
        source_text = source_bytes.decode("utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        problems.append(f"{src}: cannot read the source document ({exc.__class__.__name__})")
    else:
        actual = hashlib.sha256(source_bytes).hexdigest()
        if meta.source_sha256 and actual != meta.source_sha256:
            problems.append(f"{src}: SHA-256 is {actual} but policy.yaml records source_sha256 "
                            f"{meta.source_sha256}; the source must be the published text unchanged")
    for cid, clause in clauses.items():
        if source_text and clause.text not in source_text:
            problems.append(f"{folder / 'clauses.yaml'}: clause {cid!r}: text is not a verbatim part of "
                            f"{meta.source_file}")
    return source_text


def _load_parameters(folder: Path, clauses: dict[str, Clause], problems: list[str]) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    p_path = folder / "parameters.yaml"
    for name, body in load_mapping(p_path, problems).items():
        if not isinstance(body, dict):
            problems.append(f"{p_path}: {name}: expected a mapping")
            continue
        try:
            parameters[name] = Parameter(name=name, **body)
        except ValidationError as exc:
            problems += validation_messages(exc, str(p_path), name)
        except TypeError as exc:
            problems.append(f"{p_path}: {name}: {exc}")
    for name, parameter in parameters.items():
        for day, pv in parameter.values.items():
            if pv.clause and pv.clause not in clauses:
                problems.append(f"{p_path}: {name}.values.{day.isoformat()}.clause: unknown clause {pv.clause!r}"
                                f"{did_you_mean(pv.clause, clauses)}")
    return parameters


def _load_targets(folder: Path, clauses: dict[str, Clause], source_text: str, problems: list[str]) -> Targets:
    targets = Targets()
    t_path = folder / "targets.yaml"
    t_raw = load_mapping(t_path, problems, required=False)
    if t_raw:
        try:
            targets = Targets(**t_raw)
        except ValidationError as exc:
            problems += validation_messages(exc, str(t_path), "")
    for ref in ([targets.annex.clause] if targets.annex else []) + [t.clause for t in targets.text_targets]:
        if ref not in clauses:
            problems.append(f"{t_path}: unknown clause {ref!r}")
    for tt in targets.text_targets:
        if source_text and tt.text not in source_text:
            problems.append(f"{t_path}: text target {tt.id!r}: text is not a verbatim part of the source")
    return targets


def _load_interpretations(folder: Path, clauses: dict[str, Clause], parameters: dict[str, Parameter],
                          problems: list[str]) -> dict[str, Interpretation]:
    interpretations: dict[str, Interpretation] = {}
    i_path = folder / "interpretations.yaml"
    i_raw = load_mapping(i_path, problems, required=False)
    for i, item in enumerate(i_raw.get("interpretations", []) or []):
        try:
            it = Interpretation(**item)
            interpretations[it.id] = it
            if it.clause not in clauses:
                problems.append(f"{i_path}: interpretations[{i}].clause: unknown clause {it.clause!r}")
            for pname in it.parameters:
                if pname not in parameters:
                    problems.append(f"{i_path}: interpretations[{i}].parameters: unknown parameter {pname!r}"
                                    f"{did_you_mean(pname, parameters)}")
        except (ValidationError, TypeError) as exc:
            problems += (validation_messages(exc, str(i_path), f"interpretations[{i}]")
                         if isinstance(exc, ValidationError) else [f"{i_path}: {exc}"])
    return interpretations


def content_hash(paths: list[Path]) -> str:
    """sha256 over the named files' relative names and bytes: identifies the exact policy data and rules."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.name).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def bundle_root() -> Path:
    """The folder holding the bundled policies/ and rules/: scaleup_data/ beside engine/ when installed
    (pyproject.toml ships them there), else the top of the source checkout."""
    top = Path(__file__).resolve().parent.parent
    installed = top / "scaleup_data"
    return installed if (installed / "policies").is_dir() else top


def policies_root() -> Path:
    return bundle_root() / "policies"


def available_policies(root: Optional[Path] = None) -> list[str]:
    root = root or policies_root()
    return sorted(p.name for p in root.iterdir() if (p / "policy.yaml").is_file())


def resolve_policy_folder(policy: str, root: Optional[Path] = None) -> Path:
    """A policy id under policies/, or a path to a policy folder (a copy being edited, another district)."""
    candidate = Path(policy)
    if (candidate / "policy.yaml").is_file():
        return candidate
    root = root or policies_root()
    if (root / policy / "policy.yaml").is_file():
        return root / policy
    known = available_policies(root)
    raise UnknownPolicyError(f"unknown policy {policy!r}; known: {', '.join(known)}{did_you_mean(policy, known)}")

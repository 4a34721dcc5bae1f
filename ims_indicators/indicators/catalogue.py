"""The indicator catalogue: one YAML file (``catalogue/indicators.yaml``), validated into typed objects.

``load_catalogue(path)`` reads and validates the file's structure (pydantic); ``check_catalogue(cat, con)``
then runs every source and every numerator/denominator expression as a ``LIMIT 0`` query in DuckDB, so
an unknown column or a typo is refused with a message naming the indicator, the field and the column —
before anything is computed. Both raise :class:`CatalogueError`.

Numerator and denominator are *measures*: one aggregate call (``sum(participants)``, ``count(DISTINCT
partner_country)``, ``max(...)``) over a named *source* (a SQL relation over the curated tables, declared in
the catalogue's ``sources:``) with an optional row filter ``where``. The aggregate is computed per
school × academic year as ``<expr> FILTER (WHERE <where>)``, which lets every measure of one source share
one scan of it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ims_indicators import settings

DIMENSIONS = ("quality_assurance", "staff", "autonomy_accountability", "student_mobility", "teaching_learning")
AGGREGATES = ("sum", "count", "avg", "mean", "min", "max", "bool_or", "bool_and", "median")
ZERO_WHEN_EMPTY = ("sum", "count")  # a school with data but no matching rows has 0, not "missing"
SOURCE_KEYS = ("school_id", "academic_year", "source")
_ID = r"^[a-z][a-z0-9_]{1,62}$"
_MONTH_DAY = r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
_UNSAFE = re.compile(r";|--|/\*|\$")  # one expression, no statement break, comment or parameter


class IndicatorError(Exception):
    """An error the user can fix (catalogue, school, year or indicator id): a message, never a traceback."""


class CatalogueError(IndicatorError):
    """The catalogue is invalid; the message names the indicator (or source) and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A relation over the curated tables with columns school_id, academic_year and source (data source)."""

    description: str
    datasets: list[str] = Field(min_length=1, description="curated datasets (or meta tables) it reads")
    sql: str

    @field_validator("sql")
    @classmethod
    def _one_query(cls, v: str) -> str:
        if _UNSAFE.search(v):
            raise ValueError("must be one SELECT without ';', comments or $parameters")
        return v.strip()


class Measure(_Strict):
    """A numerator or denominator: one aggregate call over a source, per school × year."""

    name: str = Field(pattern=_ID)
    source: str = Field(alias="from")
    expr: str
    where: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("expr")
    @classmethod
    def _one_aggregate(cls, v: str) -> str:
        v = " ".join(v.split())
        if _UNSAFE.search(v):
            raise ValueError("must be one SQL expression without ';', comments or $parameters")
        if aggregate_name(v) is None:
            raise ValueError(f"must be one aggregate call such as sum(participants) or count(*); got {v!r} "
                             f"(allowed: {', '.join(AGGREGATES)})")
        if re.search(r"\bfilter\s*\(", v, re.IGNORECASE):
            raise ValueError("must not carry its own FILTER clause: put the condition into 'where'")
        return v

    @field_validator("where")
    @classmethod
    def _one_condition(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = " ".join(v.split())
        if _UNSAFE.search(v):
            raise ValueError("must be one SQL condition without ';', comments or $parameters")
        return v or None

    @property
    def aggregate(self) -> str:
        return aggregate_name(self.expr) or ""

    def filtered(self) -> str:
        """The aggregate as it runs: ``<expr> FILTER (WHERE <where>)``."""
        return f"{self.expr} FILTER (WHERE {self.where})" if self.where else self.expr


GROUP_RULES = ("quartile", "fixed", "interval", "none")


class Cutoffs(_Strict):
    """Fixed cut-offs in the indicator's own unit, read in its direction: for higher-is-better, top when the
    value is at least ``top`` and bottom when it is below ``bottom``; for lower-is-better, top at or below
    ``top`` and bottom above ``bottom``; middle otherwise. A value on a cut-off goes to the better group."""

    top: float
    bottom: float


class Coverage(_Strict):
    """The denominator must cover at least ``min`` of a base measure (e.g. 90 % of academic headcount)."""

    base: Measure
    min: float = Field(gt=0, le=1)


class Indicator(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=3)
    definition: str = Field(min_length=10)
    dimension: Literal[DIMENSIONS]  # type: ignore[valid-type]
    numerator: Measure
    denominator: Measure
    formula: str = Field("numerator / denominator",
                         description="SQL over `numerator` and `denominator`; multiplied by scale")
    scale: float = 1.0
    unit: Literal["share", "per 100", "count", "days", "ratio", "index", "yes/no", "score"]  # score: survey mean 1–6
    direction: Literal["higher", "lower"]
    min_denominator: float = Field(gt=0, description="below it the value is not computable (never 0)")
    datasets: list[str] = Field(min_length=1)
    data_source: str = Field("school", pattern=_ID, description="meta.submissions.source of the rows used")
    reference: str = Field(min_length=3)
    groups: Literal[GROUP_RULES] = Field(  # type: ignore[valid-type]
        "quartile", description="how it is benchmarked: quartile, fixed (cutoffs), interval (survey) or none")
    cutoffs: Cutoffs | None = None
    group_note: str | None = Field(None, description="why fixed cut-offs or no group (shown in the legend)")
    coverage: Coverage | None = None

    def measures(self) -> list[tuple[str, Measure]]:
        """(field, measure) of numerator, denominator and the coverage base if any."""
        out = [("numerator", self.numerator), ("denominator", self.denominator)]
        return out + [("coverage.base", self.coverage.base)] if self.coverage else out

    @model_validator(mode="after")
    def _grouping(self) -> Indicator:
        if self.unit == "yes/no" and self.groups in ("quartile", "interval"):
            raise ValueError(f"indicator {self.id}: groups: a yes/no indicator cannot have {self.groups} groups "
                             "(its values tie, so every school would share one group); declare groups: fixed with "
                             "cutoffs, or groups: none")
        if self.groups == "interval" and self.unit != "score":
            raise ValueError(f"indicator {self.id}: groups: interval (CHE's confidence-interval rule) is for survey "
                             f"means (unit score), not unit {self.unit!r}")
        if self.unit == "score" and self.groups not in ("interval", "none"):
            raise ValueError(f"indicator {self.id}: groups: a survey mean (unit score) takes groups: interval or "
                             f"none, not {self.groups}")
        if (self.groups == "fixed") != (self.cutoffs is not None):
            raise ValueError(f"indicator {self.id}: cutoffs: required with groups: fixed and only then")
        if self.cutoffs is not None:
            c = self.cutoffs
            ok = c.top >= c.bottom if self.direction == "higher" else c.top <= c.bottom
            if not ok:
                raise ValueError(f"indicator {self.id}: cutoffs: top must be at least as good as bottom "
                                 f"({self.direction} is better)")
        if self.groups in ("fixed", "none") and not self.group_note:
            raise ValueError(f"indicator {self.id}: group_note: say why it has {self.groups} groups "
                             "(shown in the report legend)")
        return self

    @field_validator("formula")
    @classmethod
    def _formula(cls, v: str) -> str:
        v = " ".join(v.split())
        if _UNSAFE.search(v):
            raise ValueError("must be one SQL expression without ';', comments or $parameters")
        return v


class UmeCutoffs(_Strict):
    """U-Multirank-style groups by direction-adjusted relative distance d = (value − median) / |median|.

    A value gets the first group whose cut-off it reaches (d ≥ A → A, d ≥ B → B, d ≥ C → C, d ≥ D → D,
    else E), so a value exactly on a boundary goes to the better group.
    """

    A: float = 0.25
    B: float = 0.10
    C: float = -0.10
    D: float = -0.25

    @model_validator(mode="after")
    def _ordered(self) -> UmeCutoffs:
        if not self.A > self.B > self.C > self.D:
            raise ValueError("ume_cutoffs: expected A > B > C > D")
        return self


class Benchmark(_Strict):
    min_peer_values: int = Field(5, ge=2, description="fewer computable peer values: no group, no peer statistics")
    che_top_share: float = Field(0.25, gt=0, lt=1)
    che_bottom_share: float = Field(0.25, gt=0, lt=1)
    boundary_tolerance: float = Field(0.01, ge=0, lt=1, description="near-equal: gap <= this share of the range")
    group_share_min: float = Field(0.10, gt=0, lt=0.5, description="a top or bottom group holds at least this")
    group_share_max: float = Field(0.45, gt=0, lt=0.5, description="... and at most this share of the peer values")
    min_distinct_values: int = Field(3, ge=3, description="fewer distinct (near-equal merged) values: no group")
    ume_min_peer_values: int = Field(10, ge=2, description="fewer computable peer values: no A–E letter")
    ume_cutoffs: UmeCutoffs = UmeCutoffs()

    @model_validator(mode="after")
    def _shares(self) -> Benchmark:
        if self.che_top_share + self.che_bottom_share >= 1:
            raise ValueError("che_top_share + che_bottom_share must leave a middle group (< 1)")
        if not self.group_share_min <= min(self.che_top_share, self.che_bottom_share) <= max(
                self.che_top_share, self.che_bottom_share) <= self.group_share_max:
            raise ValueError("group_share_min <= che_top_share, che_bottom_share <= group_share_max expected")
        return self


class Parameters(_Strict):
    year_end: str = Field("08-31", pattern=_MONTH_DAY, description="MM-DD the academic year ends (second year)")
    submission_deadline: str = Field("10-31", pattern=_MONTH_DAY,
                                     description="MM-DD: the first such day after the year ends")
    reporting_date: str | None = Field(None, description="ISO date; default the end of each academic year")
    expected_datasets: list[str] = ["enrolment", "mobility", "staffing", "accreditation"]


class Catalogue(_Strict):
    version: str
    parameters: Parameters = Parameters()
    benchmark: Benchmark = Benchmark()
    sources: dict[str, Source]
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        for name in self.sources:
            if not re.fullmatch(_ID, name):
                raise ValueError(f"source {name}: name: expected a lowercase id (letters, digits, _)")
        seen: set[str] = set()
        for ind in self.indicators:
            if ind.id in seen:
                raise ValueError(f"indicator {ind.id}: id: used twice")
            seen.add(ind.id)
            for field, m in ind.measures():
                if m.source not in self.sources:
                    raise ValueError(f"indicator {ind.id}: {field}.from: unknown source {m.source!r} "
                                     f"(expected one of {', '.join(self.sources)})")
            used = sorted({d for _, m in ind.measures() for d in self.sources[m.source].datasets})
            if sorted(set(ind.datasets)) != used:
                raise ValueError(f"indicator {ind.id}: datasets: {sorted(set(ind.datasets))} disagrees with its "
                                 f"sources, which read {used}")
        return self

    @property
    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self.by_id[indicator_id]
        except KeyError:
            raise CatalogueError(f"unknown indicator {indicator_id!r}: expected one of "
                                 f"{', '.join(sorted(self.by_id))}") from None

    def reporting_date(self) -> str | None:
        """``IMS_REPORTING_DATE`` overrides the catalogue's; None = the end of each academic year."""
        return settings.reporting_date() or self.parameters.reporting_date


def aggregate_name(expr: str) -> str | None:
    """'count(DISTINCT x)' -> 'count'; None unless the whole expression is one call of an allowed aggregate."""
    m = re.fullmatch(r"\s*([A-Za-z_]+)\s*\((.*)\)\s*", expr, re.DOTALL)
    if not m or m.group(1).lower() not in AGGREGATES:
        return None
    depth = 0
    for ch in m.group(2):  # the outer call's parentheses must enclose everything: "sum(a) / sum(b)" is refused
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return None
    return m.group(1).lower() if depth == 0 else None


def _describe(exc: ValidationError, data: dict) -> str:
    """Turn pydantic's errors into lines naming the indicator (by id) and the field."""
    lines = []
    indicators = data.get("indicators") if isinstance(data, dict) else None
    for e in exc.errors():
        loc = list(e["loc"])
        where = ".".join(str(p) for p in loc)
        if loc[:1] == ["indicators"] and len(loc) > 1 and isinstance(loc[1], int):
            entry = indicators[loc[1]] if isinstance(indicators, list) and loc[1] < len(indicators) else {}
            ident = entry.get("id") if isinstance(entry, dict) else None
            field = ".".join(str(p) for p in loc[2:]) or "(entry)"
            where = f"indicator {ident or '#' + str(loc[1] + 1)}: {field}"
        elif loc[:1] == ["sources"] and len(loc) > 1:
            where = f"source {loc[1]}: {'.'.join(str(p) for p in loc[2:]) or '(entry)'}"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "missing (required)"
        elif e["type"] == "literal_error":
            msg = f"{msg}; got {e.get('input')!r}"
        lines.append(f"{where}: {msg}" if not msg.startswith("indicator ") else msg)
    return "; ".join(lines)


def parse_catalogue(data: object, origin: str = "catalogue") -> Catalogue:
    if not isinstance(data, dict):
        raise CatalogueError(f"{origin}: expected a mapping with version, sources and indicators")
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(f"{origin}: {_describe(exc, data)}") from None


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read and validate the catalogue file (default ``settings.catalogue_path()``)."""
    path = Path(path or settings.catalogue_path())
    if not path.is_file():
        raise CatalogueError(f"{path}: catalogue file not found (set IMS_CATALOGUE or IMS_HOME)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML ({exc})") from None
    return parse_catalogue(data, str(path))


def _binder_message(exc: duckdb.Error) -> str:
    text = str(exc).split("\n")[0]
    m = re.search(r'Referenced column "([^"]+)" not found', text)
    if m:
        return f"unknown column {m.group(1)!r}"
    m = re.search(r'(?:Table|Values list) "([^"]+)" does not have a column named "([^"]+)"', text)  # a view: values
    if m:
        return f"unknown column {m.group(2)!r} (table {m.group(1)})"
    return re.sub(r"^[A-Za-z ]+Error: ", "", text)


def check_catalogue(cat: Catalogue, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Run every source and measure as a LIMIT 0 query; refuse unknown columns, naming indicator and field.

    Without ``con`` an in-memory DuckDB with the warehouse schema (from the contracts) is used, so the check
    does not need a warehouse file.
    """
    from ims_indicators.indicators.marts import ensure_marts

    own = con is None
    if own:
        from ims_indicators.warehouse import ensure_schema

        con = duckdb.connect()
        ensure_schema(con)
        ensure_marts(con)
    try:
        for name, src in cat.sources.items():
            try:
                cur = con.execute(f"SELECT * FROM ({src.sql}) AS src LIMIT 0")
                cols = [d[0] for d in cur.description]
                cur.fetchall()
            except duckdb.Error as exc:
                raise CatalogueError(f"source {name}: sql: {_binder_message(exc)}") from None
            missing = [k for k in SOURCE_KEYS if k not in cols]
            if missing:
                raise CatalogueError(f"source {name}: sql: must return column(s) {', '.join(missing)}")
        _check_measures(cat, con)
    finally:
        if own:
            con.close()


def _check_measures(cat: Catalogue, con: duckdb.DuckDBPyConnection) -> None:
    """All measures of a source in one LIMIT 0 query; only when it fails, one query per measure names the culprit."""
    by_source: dict[str, list[tuple[Indicator, str, Measure]]] = {}
    for ind in cat.indicators:
        for field, m in ind.measures():
            by_source.setdefault(m.source, []).append((ind, field, m))
    for source, measures in by_source.items():
        src = cat.sources[source].sql
        cols = ", ".join(f"{m.filtered()} AS v{i}" for i, (_, _, m) in enumerate(measures))
        try:
            con.execute(f"SELECT {cols} FROM ({src}) AS src LIMIT 0").fetchall()
            continue
        except duckdb.Error:
            pass
        for ind, field, m in measures:
            for part, probe in (("expr", f"SELECT {m.expr} AS v FROM ({src}) AS src LIMIT 0"),
                                ("where", f"SELECT count(*) AS v FROM ({src}) AS src WHERE {m.where} LIMIT 0"),
                                ("expr", f"SELECT {m.filtered()} AS v FROM ({src}) AS src LIMIT 0")):
                if part == "where" and m.where is None:
                    continue
                try:
                    con.execute(probe).fetchall()
                except duckdb.Error as exc:
                    text = m.expr if part == "expr" else m.where
                    raise CatalogueError(f"indicator {ind.id}: {field}.{part}: {_binder_message(exc)} "
                                         f"(in {text!r} over source {source})") from None
    formulas = ", ".join(f"{ind.formula} AS v{i}" for i, ind in enumerate(cat.indicators))
    try:
        con.execute(f"SELECT {formulas} FROM (SELECT 1.0 AS numerator, 1.0 AS denominator) AS t").fetchall()
    except duckdb.Error:
        for ind in cat.indicators:
            try:
                con.execute(f"SELECT {ind.formula} AS v FROM (SELECT 1.0 AS numerator, 1.0 AS denominator) AS t"
                            ).fetchall()
            except duckdb.Error as exc:
                raise CatalogueError(f"indicator {ind.id}: formula: {_binder_message(exc)}") from None

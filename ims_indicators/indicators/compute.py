"""Indicator values, computed inside DuckDB in SQL generated from the catalogue.

The plan: every (source, data source) pair the catalogue's measures read is scanned once, computing all
its measures per school × year (``sql/source_measures.sql``); each indicator then joins the school × year
frame (``marts.indicator_frame``) to its numerator and denominator (``sql/indicator_part.sql``), and one
query applies the formula, the minimum-base rule and the reasons (``sql/indicator_values.sql``).
``explain_indicator`` builds the same SQL for one indicator as one self-contained query, runs it for one
school and year, and counts the curated rows behind numerator and denominator.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import duckdb

from ims_indicators.contracts import canonical_year
from ims_indicators.indicators.catalogue import (
    ZERO_WHEN_EMPTY,
    Catalogue,
    Indicator,
    IndicatorError,
    Measure,
    check_catalogue,
    load_catalogue,
)
from ims_indicators.indicators.marts import PKG, ensure_marts
from ims_indicators.warehouse import rows, sql_text, transaction


@dataclass(frozen=True)
class Scan:
    """One pass over one source for one data source, computing several measures."""

    source: str
    data_source: str
    measures: tuple[tuple[str, str | None], ...]  # (expr, where), deduplicated

    def column(self, m: Measure) -> str:
        return f"m{self.measures.index((m.expr, m.where))}"


def plan(indicators: list[Indicator]) -> list[Scan]:
    """Group the indicators' measures by (source, data source): one scan each."""
    groups: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for ind in indicators:
        for _, m in ind.measures():
            key = groups.setdefault((m.source, ind.data_source), [])
            if (m.expr, m.where) not in key:
                key.append((m.expr, m.where))
    return [Scan(src, ds, tuple(ms)) for (src, ds), ms in groups.items()]


def scan_sql(cat: Catalogue, scan: Scan) -> str:
    """The aggregate query of one scan (binds ``$data_source``)."""
    cols = []
    for i, (expr, where) in enumerate(scan.measures):
        agg = f"{expr} FILTER (WHERE {where})" if where else expr
        cols.append(f"    CAST({agg} AS DOUBLE) AS m{i}")
    return sql_text(PKG, "source_measures.sql").rstrip().format(
        measures=",\n".join(cols), source_sql=textwrap.indent(cat.sources[scan.source].sql, "    "))


def _find(scans: list[Scan], m: Measure, data_source: str) -> int:
    return next(i for i, s in enumerate(scans) if (s.source, s.data_source) == (m.source, data_source))


def part_sql(cat: Catalogue, ind: Indicator, scans: list[Scan], rel: list[str]) -> str:
    """One indicator's numerator and denominator on the frame, and its formula (``raw_value``)."""

    def measure(m: Measure, alias: str) -> tuple[str, str]:
        i = _find(scans, m, ind.data_source)
        col = f"{alias}.{scans[i].column(m)}"
        if m.aggregate in ZERO_WHEN_EMPTY:  # data present, no matching row: 0 (no data at all stays NULL)
            col = f"CASE WHEN {alias}.source_rows IS NOT NULL THEN coalesce({col}, 0) END"
        return col, rel[i]

    num, num_rel = measure(ind.numerator, "n")
    den, den_rel = measure(ind.denominator, "d")
    cov, cov_name, min_cov, cov_join = "CAST(NULL AS DOUBLE)", "NULL", "CAST(NULL AS DOUBLE)", ""
    if ind.coverage is not None:
        cov, cov_rel = measure(ind.coverage.base, "c")
        cov_name, min_cov = f"'{ind.coverage.base.name}'", repr(float(ind.coverage.min))
        cov_join = (f"\n    LEFT JOIN {cov_rel} AS c ON c.school_id = f.school_id "
                    "AND c.academic_year = f.academic_year")
    return sql_text(PKG, "indicator_part.sql").rstrip().format(
        coverage=cov, coverage_name=cov_name, min_coverage=min_cov, coverage_join=cov_join,
        indicator_id=ind.id, data_source=ind.data_source, scale=repr(float(ind.scale)), formula=ind.formula,
        numerator_name=ind.numerator.name, denominator_name=ind.denominator.name,
        numerator_source="/".join(cat.sources[ind.numerator.source].datasets),
        denominator_source="/".join(cat.sources[ind.denominator.source].datasets),
        numerator=num, denominator=den, numerator_rel=num_rel, denominator_rel=den_rel,
        min_denominator=repr(float(ind.min_denominator)))


def values_sql(cat: Catalogue, indicators: list[Indicator], scans: list[Scan], rel: list[str], ctes: str = "") -> str:
    parts = "\nUNION ALL\n".join(textwrap.indent(part_sql(cat, i, scans, rel), "    ") for i in indicators)
    return sql_text(PKG, "indicator_values.sql").format(ctes=ctes, parts=parts)


def standalone_sql(cat: Catalogue, ind: Indicator) -> str:
    """The whole computation of one indicator as one query (binds ``$data_source``)."""
    scans = plan([ind])
    ctes = "".join(f"scan{i} AS (\n{textwrap.indent(scan_sql(cat, s), '    ')}\n),\n" for i, s in enumerate(scans))
    return values_sql(cat, [ind], scans, [f"scan{i}" for i in range(len(scans))], ctes)


def build_indicator_frame(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> int:
    """Rebuild ``marts.indicator_frame`` (registry × years present, with reporting date and deadline)."""
    p = cat.parameters
    end_m, end_d = (int(x) for x in p.year_end.split("-"))
    dl_m, dl_d = (int(x) for x in p.submission_deadline.split("-"))
    con.execute("DELETE FROM marts.indicator_frame")
    con.execute(sql_text(PKG, "frame.sql"), {
        "year_end_month": end_m, "year_end_day": end_d, "deadline_month": dl_m, "deadline_day": dl_d,
        "reporting_date": cat.reporting_date(), "expected_datasets": list(p.expected_datasets)})
    return con.execute("SELECT count(*) AS n FROM marts.indicator_frame").fetchall()[0][0]


def write_catalogue(con: duckdb.DuckDBPyConnection, cat: Catalogue) -> None:
    """Replace ``marts.indicator_catalogue`` with the catalogue's entries."""
    con.execute("DELETE FROM marts.indicator_catalogue")
    cols = ("indicator_id, name, definition, dimension, unit, direction, numerator_name, numerator_sql, "
            "denominator_name, denominator_sql, formula, scale, min_denominator, datasets, data_source, reference, "
            "catalogue_version, position, groups, cutoff_top, cutoff_bottom, group_note")
    con.executemany(
        f"INSERT INTO marts.indicator_catalogue ({cols}) VALUES ({', '.join('?' * (cols.count(',') + 1))})",
        [[i.id, i.name, " ".join(i.definition.split()), i.dimension, i.unit, i.direction,
          i.numerator.name, _measure_text(i.numerator), i.denominator.name, _measure_text(i.denominator),
          i.formula, i.scale, i.min_denominator, sorted(set(i.datasets)), i.data_source,
          " ".join(i.reference.split()), cat.version, pos, i.groups,
          i.cutoffs.top if i.cutoffs else None, i.cutoffs.bottom if i.cutoffs else None,
          " ".join(i.group_note.split()) if i.group_note else None]
         for pos, i in enumerate(cat.indicators, start=1)])


def _measure_text(m: Measure) -> str:
    return f"{m.expr} FROM {m.source}" + (f" WHERE {m.where}" if m.where else "")


def compute_indicators(con: duckdb.DuckDBPyConnection, catalogue: Catalogue | None = None,
                       scope: str | None = None) -> int:
    """Recompute ``marts.indicator_values`` (and frame and catalogue table) in one transaction; rows written.

    ``scope``: a SQL predicate on ``school_id``/``academic_year`` (the signed-off data, see
    ``collection.cycle.signed_off_scope``); school years outside it are left out of the frame and the values."""
    cat = catalogue or load_catalogue()
    ensure_marts(con)
    check_catalogue(cat, con)
    scans = plan(cat.indicators)
    temps = [f"ind_scan{i}" for i in range(len(scans))]
    with transaction(con):
        build_indicator_frame(con, cat)
        write_catalogue(con, cat)
        for name, scan in zip(temps, scans):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {scan_sql(cat, scan)}",
                        {"data_source": scan.data_source})
        con.execute("DELETE FROM marts.indicator_values")
        con.execute("INSERT INTO marts.indicator_values " + values_sql(cat, cat.indicators, scans, temps))
        for name in temps:
            con.execute(f"DROP TABLE temp.{name}")
        if scope:
            for table in ("marts.indicator_frame", "marts.indicator_values"):
                con.execute(f"DELETE FROM {table} WHERE NOT {scope}")
    return con.execute("SELECT count(*) AS n FROM marts.indicator_values").fetchall()[0][0]


def _rows_behind(con: duckdb.DuckDBPyConnection, cat: Catalogue, m: Measure, data_source: str,
                 school: str, year: str) -> list[dict]:
    """The source rows a measure aggregates for one school and year, by submission (and its curated rows)."""
    src = cat.sources[m.source].sql
    cur = con.execute(f"SELECT * FROM ({src}) AS src LIMIT 0")
    cols = [d[0] for d in cur.description]
    cur.fetchall()
    sub = "src.submission_id" if "submission_id" in cols else "CAST(NULL AS VARCHAR)"
    curated = "sum(src.curated_rows)" if "curated_rows" in cols else "count(*)"
    query = f"""
        WITH behind AS (
            SELECT {sub} AS submission_id, count(*) AS source_rows, CAST({curated} AS BIGINT) AS curated_rows
            FROM ({src}) AS src
            WHERE src.school_id = $school AND src.academic_year = $year AND src.source = $data_source
              AND ({m.where or 'true'})
            GROUP BY ALL
        )
        SELECT b.submission_id, s.dataset, s.academic_year AS submitted_for, s.file_name, b.source_rows,
               b.curated_rows
        FROM behind AS b
        LEFT JOIN meta.submissions AS s USING (submission_id)
        ORDER BY b.submission_id"""
    return rows(con, query, {"school": school, "year": year, "data_source": data_source})


def explain_indicator(con: duckdb.DuckDBPyConnection, school: str, year: str, indicator_id: str,
                      catalogue: Catalogue | None = None) -> dict:
    """Numerator, denominator, the rows behind each and the SQL of one value (for ``ims indicators --explain``)."""
    cat = catalogue or load_catalogue()
    ind = cat.indicator(indicator_id)
    if not rows(con, "SELECT 1 AS ok FROM curated.schools WHERE school_id = ?", [school]):
        raise IndicatorError(f"unknown school {school!r}: not in the registry (curated.schools)")
    canon = canonical_year(year)
    if canon is None:
        raise IndicatorError(f"year {year!r}: expected an academic year such as 2023/24")
    years = [r["academic_year"] for r in rows(
        con, "SELECT DISTINCT academic_year FROM marts.indicator_frame ORDER BY 1")]
    if canon not in years:
        raise IndicatorError(f"year {canon}: not in the indicator frame (years: {', '.join(years) or 'none'}); "
                             "run `ims indicators` after loading data")
    sql = standalone_sql(cat, ind)
    params = {"data_source": ind.data_source, "school": school, "year": canon}
    live = rows(con, f"SELECT * FROM ({sql}) AS v WHERE school_id = $school AND academic_year = $year", params)[0]
    stored = rows(con, "SELECT value, computable, reason FROM marts.indicator_values "
                       "WHERE school_id = ? AND academic_year = ? AND indicator_id = ?", [school, canon, ind.id])

    def side(m: Measure, value: float | None) -> dict:
        behind = _rows_behind(con, cat, m, ind.data_source, school, canon)
        return {"name": m.name, "value": value, "source": m.source, "datasets": cat.sources[m.source].datasets,
                "expr": m.expr, "where": m.where, "rows_behind": behind,
                "source_rows": sum(b["source_rows"] for b in behind),
                "curated_rows": sum(b["curated_rows"] for b in behind)}

    return {
        "school_id": school, "academic_year": canon, "indicator_id": ind.id, "name": ind.name,
        "unit": ind.unit, "direction": ind.direction, "formula": f"{ind.scale:g} * ({ind.formula})",
        "min_denominator": ind.min_denominator, "data_source": ind.data_source,
        "value": live["value"], "computable": live["computable"], "reason": live["reason"],
        "stored_value": stored[0]["value"] if stored else None, "stored": bool(stored),
        "numerator": side(ind.numerator, live["numerator"]),
        "denominator": side(ind.denominator, live["denominator"]),
        "sql": sql, "parameters": {"data_source": ind.data_source},
    }

"""``ims indicators`` and ``ims benchmark`` (registered in ``ims_indicators.cli``).

Progress and errors go to stderr, data to stdout; ``--json`` prints JSON. A user error (invalid catalogue or
peer sets, unknown school, year or indicator, no values yet) prints one message and exits 1.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ims_indicators import settings
from ims_indicators.errors import WarehouseBusy
from ims_indicators.indicators.catalogue import IndicatorError

FilterYear = Annotated[str | None, typer.Option("--year", help="Only this academic year (2023/24).")]
FilterSchool = Annotated[str | None, typer.Option("--school", help="Only this school id.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("" if v is None else str(v))


def _filters(year: str | None, school: str | None) -> tuple[str, list]:
    """A WHERE clause (always true without filters) and its parameters; the year in canonical form."""
    from ims_indicators.console import fail
    from ims_indicators.contracts import canonical_year

    clauses, params = ["true"], []
    if year is not None:
        canon = canonical_year(year)
        if canon is None:
            fail(f"--year {year}: expected an academic year such as 2023/24")
        clauses.append("academic_year = ?")
        params.append(canon)
    if school is not None:
        clauses.append("school_id = ?")
        params.append(school)
    return " AND ".join(clauses), params


def indicators_command(
    explain: Annotated[tuple[str, str, str] | None, typer.Option(
        "--explain", metavar="SCHOOL YEAR INDICATOR",
        help="Show numerator, denominator, the curated rows behind each and the SQL of one value.")] = None,
    year: FilterYear = None,
    school: FilterSchool = None,
    as_json: AsJson = False,
    include_unsigned: Annotated[bool, typer.Option(
        "--include-unsigned", help="Also use school years not signed off yet (a preview; see "
                                   "signoff_required_from in catalogue/collection.yaml).")] = False,
) -> None:
    """Compute indicator values from the catalogue into marts.indicator_values (or --explain one value)."""
    from ims_indicators.collection.cycle import signed_off_scope
    from ims_indicators.console import err, fail, print_json, print_table
    from ims_indicators.indicators.catalogue import load_catalogue
    from ims_indicators.indicators.compute import compute_indicators, explain_indicator
    from ims_indicators.lock import writer_lock
    from ims_indicators.pipeline import survey
    from ims_indicators.warehouse import open_warehouse, rows

    try:
        cat = load_catalogue()
        if explain is not None:
            if not settings.warehouse().is_file():
                raise IndicatorError(f"{settings.warehouse()}: no warehouse yet (set IMS_WAREHOUSE or IMS_HOME)")
            with open_warehouse(read_only=True) as con:
                if not rows(con, "SELECT 1 AS ok FROM duckdb_tables() WHERE schema_name = 'marts' "
                                 "AND table_name = 'indicator_frame'"):
                    raise IndicatorError("no indicator values yet: run `ims indicators` first")
                result = explain_indicator(con, *explain, catalogue=cat)
            if as_json:
                print_json(result)
            else:
                _print_explain(result)
            return
        where, params = _filters(year, school)
        with writer_lock("ims indicators", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                open_warehouse() as con:
            err.print(f"computing {len(cat.indicators)} indicators …", highlight=False)
            n = compute_indicators(con, cat, scope=signed_off_scope(include_unsigned))
            err.print(f"{survey(con, include_unsigned)['survey_items']} survey item rows written to marts.survey_items", highlight=False)
            data = rows(con, f"SELECT school_id, academic_year, indicator_id, value, numerator, denominator, "
                             f"computable, reason, source FROM marts.indicator_values WHERE {where} "
                             f"ORDER BY school_id, academic_year, indicator_id", params)
            summary = None if as_json or year or school else rows(con, """
                SELECT c.dimension, v.indicator_id, count(*) AS "values", count(*) FILTER (WHERE computable)
                       AS computable, min(value) AS min, median(value) AS median, max(value) AS max
                FROM marts.indicator_values AS v JOIN marts.indicator_catalogue AS c USING (indicator_id)
                GROUP BY c.dimension, v.indicator_id, c.position ORDER BY c.position""")
        ok = sum(r["computable"] for r in data)
        err.print(f"{n} values written to marts.indicator_values ({ok} computable)"
                  + ("; per indicator below (--school/--year/--json for the values)" if summary else
                     f"; shown: {len(data)}"), highlight=False)
    except (IndicatorError, WarehouseBusy) as exc:
        fail(str(exc))
    if as_json:
        print_json(data)
    elif summary:
        print_table([{k: _fmt(v) for k, v in r.items()} for r in summary], title="indicators (all schools and years)")
    else:
        print_table([{k: _fmt(v) for k, v in r.items()} for r in data], title="indicator values")


def _print_explain(r: dict) -> None:
    from ims_indicators.console import out

    def p(text: str) -> None:
        out.print(escape(text), highlight=False)

    p(f"{r['school_id']} {r['academic_year']} {r['indicator_id']}: {r['name']}")
    state = _fmt(r["value"]) if r["computable"] else f"not computable ({r['reason']})"
    p(f"value: {state}  [{r['unit']}, {r['direction']} is better; value = {r['formula']}; "
      f"minimum denominator {r['min_denominator']:g}; data source {r['data_source']}]")
    p(f"stored in marts.indicator_values: {_fmt(r['stored_value']) if r['stored'] else '(not computed yet)'}")
    for side in ("numerator", "denominator"):
        m = r[side]
        p(f"{side} {m['name']} = {_fmt(m['value'])}")
        p(f"  {m['expr']} FROM {m['source']} ({', '.join(m['datasets'])})" + (f" WHERE {m['where']}" if m["where"]
                                                                              else ""))
        p(f"  rows behind: {m['source_rows']} source rows, {m['curated_rows']} curated rows")
        for b in m["rows_behind"]:
            if b["submission_id"] is not None:
                p(f"    submission {b['submission_id']} ({b['dataset']} {b['submitted_for']}, {b['file_name']}): "
                  f"{b['source_rows']} source rows, {b['curated_rows']} curated rows")
    p(f"SQL (parameters: {r['parameters']}):")
    p(r["sql"])


def benchmark_command(
    peer_set: Annotated[str | None, typer.Option(
        "--peer-set", help="Only this peer set or group: network, country, country:DE, region, size:large, a list id.")
    ] = None,
    year: FilterYear = None,
    school: FilterSchool = None,
    as_json: AsJson = False,
) -> None:
    """Compute peer groups (CHE top/middle/bottom, U-Multirank A–E), peer statistics and trends."""
    from ims_indicators.benchmark import compute_benchmarks, load_peer_sets, unknown_list_members
    from ims_indicators.console import err, fail, print_json, print_table
    from ims_indicators.indicators.catalogue import load_catalogue
    from ims_indicators.lock import writer_lock
    from ims_indicators.pipeline import survey_groups
    from ims_indicators.warehouse import open_warehouse, rows

    try:
        cat, peers = load_catalogue(), load_peer_sets()
        where, params = _filters(year, school)
        with writer_lock("ims benchmark", on_wait=lambda m: err.print(f"[yellow]{escape(m)}[/]")), \
                open_warehouse() as con:
            have = rows(con, "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'marts' "
                             "AND table_name = 'indicator_values'")[0]["n"]
            if not have or not rows(con, "SELECT 1 AS ok FROM marts.indicator_values LIMIT 1"):
                raise IndicatorError("no indicator values yet: run `ims indicators` first")
            for set_id, ids in unknown_list_members(con, peers).items():
                err.print(f"[yellow]warning:[/] peer set {escape(set_id)}: not in the registry, ignored: "
                          f"{escape(', '.join(ids))}", highlight=False)
            n = compute_benchmarks(con, peers, cat)
            survey_groups(con)
            if peer_set is not None:
                groups = [r["peer_set"] for r in rows(
                    con, "SELECT DISTINCT peer_set FROM marts.peer_set_members ORDER BY 1")]
                if not any(g == peer_set or g.startswith(peer_set + ":") for g in groups):
                    raise IndicatorError(f"--peer-set {peer_set}: no such peer set or group with members "
                                         f"(expected one of {', '.join(groups) or 'none'})")
                where += " AND (peer_set = ? OR starts_with(peer_set, ? || ':'))"
                params += [peer_set, peer_set]
            data = rows(con, f"SELECT * FROM marts.benchmark_groups WHERE {where} "
                             f"ORDER BY peer_set, indicator_id, academic_year, school_id", params)
        err.print(f"{n} rows written to marts.benchmark_groups; shown: {len(data)}", highlight=False)
    except (IndicatorError, WarehouseBusy) as exc:
        fail(str(exc))
    if as_json:
        print_json(data)
    else:
        cols = ["peer_set", "academic_year", "indicator_id", "school_id", "value", "che_group", "ume_group",
                "peer_n", "peer_median", "peer_q1", "peer_q3", "percentile", "change_1y", "change_3y", "reason"]
        print_table([{k: _fmt(r[k]) for k in cols} for r in data], title="benchmark groups", columns=cols)

"""Turn text cells into the contract's types, in SQL inside DuckDB.

Categorical columns (enums, countries, booleans, years, slugs) are mapped on their *distinct* values
in Python (few values, however many rows) and joined back; numbers and dates are parsed in SQL.
A cell that has text but cannot be typed holds its row back (read-stage quarantine) with a sentence
saying what was expected.
"""

from __future__ import annotations

import json
import re
from functools import cache

import duckdb
import pandas as pd

from ims_indicators.contracts import Column, Contract, canonical_year, normalise_header
from ims_indicators.errors import InputRefused
from ims_indicators.read.raw import RawTable
from ims_indicators.warehouse import quote_ident

TRUE = {"yes", "y", "ja", "j", "oui", "o", "si", "sì", "tak", "true", "t", "1", "x", "wahr", "vrai"}
FALSE = {"no", "n", "nein", "non", "nie", "false", "f", "0", "falsch", "faux"}
COUNTRY_FIXES = {"UK": "GB", "EL": "GR"}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%y", "%Y/%m/%d")
EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "date": "a date such as 31.12.2023, 2023-12-31 or an Excel date number",
    "bool": "yes or no (ja/nein, oui/non, true/false, 1/0)",
    "year": "an academic year such as 2023/24 or 2023-2024",
    "slug": "a lowercase id of letters, digits, '-' or '_'",
}


@cache
def _countries() -> dict[str, str]:
    """Names, alpha-2 and alpha-3 codes (upper case) -> alpha-2."""
    import pycountry

    out: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (c.alpha_2, c.alpha_3, c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if name:
                out[name.upper()] = c.alpha_2
    out.update(COUNTRY_FIXES)
    out.update({"XK": "XK", "KOSOVO": "XK"})
    return out


def map_value(column: Column, text: str) -> str | None:
    """The stored value for one received categorical cell (None: cannot be typed)."""
    t = text.strip()
    if column.kind == "enum":
        key = normalise_header(t)
        if key in column.value_synonyms:
            return column.value_synonyms[key]
        low = t.lower()
        if low in column.value_synonyms:
            return column.value_synonyms[low]
        slug = re.sub(r"[\s\-]+", "_", key)
        return slug  # an unknown value is kept as it came, for validation to name it
    if column.kind == "country":
        return _countries().get(t.upper(), t.upper())
    if column.kind == "bool":
        low = t.lower()
        return "true" if low in TRUE else "false" if low in FALSE else None
    if column.kind == "year":
        return canonical_year(t)
    if column.kind == "slug":
        s = t.lower()
        return s if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", s) else None
    return t


def _number_sql(col: str, decimal_comma: bool) -> str:
    c = f"replace(replace(trim({quote_ident(col)}), ' ', ''), chr(160), '')"
    cleaned = f"replace(replace({c}, '.', ''), ',', '.')" if decimal_comma else f"replace({c}, ',', '')"
    return f"TRY_CAST({cleaned} AS DOUBLE)"


def _date_sql(con: duckdb.DuckDBPyConnection, raw_name: str, col: str) -> str:
    """Try the format most cells of this column use first (one parse per cell for a tidy file)."""
    c = f"trim({quote_ident(col)})"
    hits = con.execute(f"SELECT {', '.join(f'count(TRY_STRPTIME({c}, ?))' for _ in DATE_FORMATS)} FROM "
                       f"(SELECT {quote_ident(col)} FROM {raw_name} LIMIT 1000)", list(DATE_FORMATS)).fetchall()[0]
    formats = sorted(DATE_FORMATS, key=lambda f: -hits[DATE_FORMATS.index(f)])
    parts = [f"TRY_STRPTIME({c}, '{fmt}')::DATE" for fmt in formats]
    serial = (f"CASE WHEN regexp_full_match({c}, '[0-9]{{5}}(\\.0+)?') "
              f"THEN DATE '1899-12-30' + TRY_CAST(TRY_CAST({c} AS DOUBLE) AS INTEGER) END")
    return f"coalesce({', '.join(parts)}, {serial})"


def _detect_decimal_comma(con: duckdb.DuckDBPyConnection, raw: RawTable, numeric: list[str]) -> bool:
    if not numeric or raw.delimiter is None:
        return False
    comma = " + ".join(f"count(*) FILTER (WHERE regexp_full_match(trim({quote_ident(c)}), '-?[0-9.]*,[0-9]+'))"
                       for c in numeric)
    dot = " + ".join(f"count(*) FILTER (WHERE regexp_full_match(trim({quote_ident(c)}), '-?[0-9,]*\\.[0-9]+'))"
                     for c in numeric)
    n_comma, n_dot = con.execute(f"SELECT {comma}, {dot} FROM (SELECT * FROM {raw.name} LIMIT 20000)").fetchall()[0]
    if n_comma != n_dot:
        return n_comma > n_dot
    return raw.delimiter in (";", "\t")  # the European Excel convention: ';' because ',' is the decimal mark


def type_rows(con: duckdb.DuckDBPyConnection, raw: RawTable, contract: Contract, *, file: str,
              school_id: str | None, academic_year: str | None) -> tuple[str, list[dict]]:
    """Create a temp table of typed contract columns (+ source_row); return it and read-stage failures.

    ``school_id``/``academic_year`` fill empty cells; a row that names another school or year refuses
    the file (the folder and the file must agree).
    """
    present = set(raw.columns)
    numeric = [c for c in raw.columns if contract.column(c).kind in ("int", "float")]
    raw.decimal_comma = _detect_decimal_comma(con, raw, numeric)
    select, checks, joins = ["r.source_row"], [], []
    distinct = _distinct_values(con, raw, [c for c in contract.columns if c.name in present
                                           and c.kind in ("enum", "country", "bool", "year", "slug")])
    for i, col in enumerate(contract.columns):
        name = quote_ident(col.name)
        if col.name not in present:
            fill = {"school_id": school_id, "academic_year": academic_year}.get(col.name, col.default)
            literal = "NULL" if fill is None else f"CAST({_literal(fill)} AS {col.sql_type})"
            select.append(f"{literal} AS {name}")
            continue
        raw_cell = f"NULLIF(trim(r.{name}), '')"
        if col.kind in ("enum", "country", "bool", "year", "slug"):
            mapping = _value_map(col, distinct[col.name])
            alias = f"m{i}"
            con.register(f"{raw.name}_map{i}", mapping)
            joins.append(f"LEFT JOIN {raw.name}_map{i} {alias} ON {alias}.raw = {raw_cell}")
            typed = f"CAST({alias}.val AS {col.sql_type})"
        elif col.kind == "int":
            num = _number_sql(col.name, raw.decimal_comma)
            typed = f"CASE WHEN {num} = round({num}) THEN CAST({num} AS BIGINT) END"
        elif col.kind == "float":
            typed = _number_sql(col.name, raw.decimal_comma)
        elif col.kind == "date":
            typed = _date_sql(con, raw.name, col.name)
        else:
            typed = raw_cell
        if col.kind in EXPECTED:
            checks.append(f"CASE WHEN {raw_cell} IS NOT NULL AND ({typed}) IS NULL THEN '{col.name}' END")
        if col.default is not None:
            typed = f"CASE WHEN {raw_cell} IS NULL THEN CAST({_literal(col.default)} AS {col.sql_type}) ELSE {typed} END"
        elif col.name == "school_id" and school_id:
            typed = f"coalesce({typed}, '{_sql_str(school_id)}')"
        elif col.name == "academic_year" and academic_year:
            typed = f"coalesce({typed}, '{_sql_str(academic_year)}')"
        select.append(f"{typed} AS {name}")
    errors = f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)" if checks else "[]::VARCHAR[]"
    typed_name = f"{raw.name}_typed"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {typed_name} AS
        SELECT {', '.join(select)}, {errors} AS _errors
        FROM {raw.name} r {' '.join(joins)}""")
    for i, _ in enumerate(contract.columns):
        try:
            con.unregister(f"{raw.name}_map{i}")
        except Exception:  # noqa: BLE001 - not every column has a map
            pass
    _check_key_matches(con, typed_name, raw, file, "school_id", school_id)
    _check_key_matches(con, typed_name, raw, file, "academic_year", academic_year)
    failures = _type_failures(con, typed_name, raw, contract)
    con.execute(f"DELETE FROM {typed_name} WHERE len(_errors) > 0")
    con.execute(f"ALTER TABLE {typed_name} DROP COLUMN _errors")
    return typed_name, failures


def _distinct_values(con: duckdb.DuckDBPyConnection, raw: RawTable, columns: list[Column]) -> dict[str, list[str]]:
    """The distinct non-empty cells of each categorical column, in one scan of the table."""
    if not columns:
        return {}
    lists = ", ".join(f"list(DISTINCT NULLIF(trim({quote_ident(c.name)}), '')) AS {quote_ident(c.name)}"
                      for c in columns)
    values = con.execute(f"SELECT {lists} FROM {raw.name}").fetchall()[0]
    return {c.name: [v for v in vals if v is not None] for c, vals in zip(columns, values)}


def _value_map(col: Column, values: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"raw": pd.Series(values, dtype="object"),
                         "val": pd.Series([map_value(col, v) for v in values], dtype="object")})


def _check_key_matches(con, typed: str, raw: RawTable, file: str, column: str, expected: str | None) -> None:
    if expected is None or column not in raw.columns:
        return
    bad = con.execute(f"SELECT t.source_row, r.{column} FROM {typed} t JOIN {raw.name} r USING (source_row) "
                      f"WHERE t.{column} IS DISTINCT FROM ? AND NOT list_contains(t._errors, ?) "
                      "ORDER BY t.source_row LIMIT 1", [expected, column]).fetchall()
    if bad:
        row, value = bad[0]
        raise InputRefused(file, f"{column} {value!r} disagrees with the submission's {column} {expected!r} (from its "
                                 "folder or the command line); expected every row to match", row=int(row),
                           column=column)


def _type_failures(con: duckdb.DuckDBPyConnection, typed: str, raw: RawTable, contract: Contract) -> list[dict]:
    rows = con.execute(f"SELECT r.*, t._errors FROM {raw.name} r JOIN {typed} t USING (source_row) "
                       "WHERE len(t._errors) > 0 ORDER BY r.source_row").fetchall()
    names = ["source_row", *raw.columns, "_errors"]
    out = []
    for values in rows:
        rec = dict(zip(names, values))
        errors = rec.pop("_errors")
        if "person_ref" in rec:
            rec["person_ref"] = None  # never keep a raw person reference, not even in quarantine
        for col in errors:
            kind = contract.column(col).kind
            out.append({"source_row": int(rec["source_row"]), "rule": f"read.type_{kind}", "column": col,
                        "reason": f"{col} {rec[col]!r} is not {EXPECTED[kind]}",
                        "row_json": json.dumps({k: v for k, v in rec.items() if k != "source_row"}, default=str)})
    return out


def _sql_str(value: str) -> str:
    return str(value).replace("'", "''")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"'{_sql_str(str(value))}'"

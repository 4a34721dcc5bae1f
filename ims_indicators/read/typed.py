"""Turn text cells into the contract's types, in SQL inside DuckDB.

Categorical columns (enums, countries, booleans, years, slugs) are mapped on their *distinct* values
in Python (few values, however many rows); numbers and dates are parsed in SQL, also on distinct cells,
and the typed values are joined back.
A cell that has text but cannot be typed holds its row back (read-stage quarantine) with a sentence
saying what was expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache

import duckdb

from ims_indicators.contracts import Column, Contract, canonical_year, normalise_header
from ims_indicators.errors import InputRefused
from ims_indicators.read.raw import RawTable
from ims_indicators.warehouse import quote_ident

TRUE = {"yes", "y", "ja", "j", "oui", "o", "si", "sì", "tak", "true", "t", "1", "x", "wahr", "vrai"}
FALSE = {"no", "n", "nein", "non", "nie", "false", "f", "0", "falsch", "faux"}
COUNTRY_FIXES = {"UK": "GB", "EL": "GR"}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%y", "%Y/%m/%d")
CATEGORICAL = ("enum", "country", "bool", "year", "slug")
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


# A number as written with ',' (or '.') as the decimal mark, '.' (or ',') grouping thousands in threes
COMMA_FORM = r"[-+]?([1-9][0-9]{0,2}(\.[0-9]{3})+|[0-9]*)(,[0-9]+)?"
DOT_FORM = r"[-+]?([1-9][0-9]{0,2}(,[0-9]{3})+|[0-9]*)(\.[0-9]+)?"


def _clean_number(col: str) -> str:
    return f"replace(replace(replace(trim({quote_ident(col)}), ' ', ''), chr(160), ''), chr(8239), '')"


def _number_forms(col: str) -> tuple[str, str, str]:
    """SQL booleans: the cell reads only with a decimal comma, only with a decimal dot, or both ways differently."""
    c = _clean_number(col)
    comma, dot = f"regexp_full_match({c}, '{COMMA_FORM}')", f"regexp_full_match({c}, '{DOT_FORM}')"
    both = f"({comma} AND {dot} AND regexp_matches({c}, '[.,]'))"
    return f"({comma} AND NOT {dot})", f"({dot} AND NOT {comma})", both


def _number_sql(col: str, locale: str | None) -> str:
    """The cell as a DOUBLE read with the column's decimal mark (None: by the value's own unambiguous form)."""
    c = _clean_number(col)
    as_comma = f"TRY_CAST(replace(replace({c}, '.', ''), ',', '.') AS DOUBLE)"
    as_dot = f"TRY_CAST(replace({c}, ',', '') AS DOUBLE)"
    comma_only, dot_only, ambiguous = _number_forms(col)
    if locale == "comma":
        return f"CASE WHEN regexp_full_match({c}, '{COMMA_FORM}') THEN {as_comma} END"
    if locale == "dot":
        return f"CASE WHEN regexp_full_match({c}, '{DOT_FORM}') THEN {as_dot} ELSE TRY_CAST({c} AS DOUBLE) END"
    return (f"CASE WHEN {comma_only} THEN {as_comma} WHEN {dot_only} THEN {as_dot} WHEN {ambiguous} THEN NULL "
            f"ELSE TRY_CAST({c} AS DOUBLE) END")


def _number_form_counts(numeric: list[str], table: str) -> str:
    """One query: per number column, how many distinct cells read only with a decimal comma and how many only
    with a dot, as a list of two. Only their being zero or not matters, so distinct values are enough (an ECTS
    column of a million rows holds a few dozen), and a cell without ',' or '.' reads alike both ways."""
    comma_only, dot_only, _ = _number_forms("_v")
    subqueries = [f"(SELECT [count(*) FILTER (WHERE {comma_only}), count(*) FILTER (WHERE {dot_only})] FROM "
                  f"(SELECT DISTINCT {quote_ident(c)} AS _v FROM {table} "
                  f"WHERE contains({quote_ident(c)}, ',') OR contains({quote_ident(c)}, '.')))" for c in numeric]
    return "SELECT " + ", ".join(subqueries)


def _number_locales(raw: RawTable, numeric: list[str], counts: list[list[int]]) -> dict[str, str | None]:
    """Each number column's decimal mark, from the values that read only one way (``1.234,5``, ``0.25``, ``7,5``):
    the column's own, else the file's, else the separator's convention (';' or tab: comma; ',': dot; XLSX cells
    are numbers: dot). A column or file whose unambiguous values disagree gets None (value by value).
    ``counts``: per column, the pair :func:`_number_form_counts` gives."""
    if not numeric:
        return {}
    column: dict[str, str | None] = {}
    undecided: list[str] = []
    for c, (n_comma, n_dot) in zip(numeric, counts):
        if n_comma and n_dot:
            column[c] = None
        elif n_comma or n_dot:
            column[c] = "comma" if n_comma else "dot"
        else:
            undecided.append(c)
    seen = {v for v in column.values()}
    if raw.delimiter is None:  # XLSX: numbers arrive as numbers, written with '.'; text cells speak per column
        file_locale: str | None = "dot"
    elif seen in ({"comma"}, {"dot"}):
        file_locale = seen.pop()
    elif not seen:
        file_locale = {";": "comma", "\t": "comma", ",": "dot"}.get(raw.delimiter)
    else:
        file_locale = None
    column.update({c: file_locale for c in undecided})
    return column


def ambiguous_number_reason(col: str, text: str) -> str:
    """Why a cell such as ``4.209`` is held back: both readings, named."""
    sep = "." if "." in text else ","
    other = "," if sep == "." else "."
    t = text.strip()
    return (f"{col} {t!r} reads two ways: {t.replace(sep, '')} with {sep!r} grouping thousands, or "
            f"{t.replace(other, '').replace(sep, '.')} with {sep!r} as the decimal mark; no other number in the "
            f"column or file tells which (expected e.g. {t.replace(sep, '')} or a value with decimals)")


def _date_sql(col: str, formats: list[str]) -> str:
    c = f"trim({quote_ident(col)})"
    parts = [f"TRY_STRPTIME({c}, '{fmt}')::DATE" for fmt in formats]
    serial = (f"CASE WHEN regexp_full_match({c}, '[0-9]{{5}}(\\.0+)?') "
              f"THEN DATE '1899-12-30' + TRY_CAST(TRY_CAST({c} AS DOUBLE) AS INTEGER) END")
    return f"coalesce({', '.join(parts)}, {serial})"


@dataclass
class Profile:
    """What a scan of the text cells tells: each number column's decimal mark, each date column's usual format,
    the distinct categorical values."""

    number_locales: dict[str, str | None]  # column -> 'comma' | 'dot' | None (value by value)
    date_formats: dict[str, list[str]]
    distinct: dict[str, list[str]]


def _profile(con: duckdb.DuckDBPyConnection, raw: RawTable, contract: Contract) -> Profile:
    cols = [contract.column(c) for c in raw.columns]
    numeric = [c.name for c in cols if c.kind in ("int", "float")]
    dates = [c.name for c in cols if c.kind == "date"]
    categorical = [c.name for c in cols if c.kind in CATEGORICAL]
    exprs: list[str] = []
    for c in dates:
        exprs.extend(f"count(TRY_STRPTIME(trim({quote_ident(c)}), '{fmt}'))" for fmt in DATE_FORMATS)
    # date formats from the first rows
    values = list(con.execute(f"SELECT {', '.join(exprs)} FROM (SELECT * FROM {raw.name} LIMIT 2000)")
                  .fetchall()[0]) if exprs else []
    distinct: dict[str, list[str]] = {}
    if categorical:
        found = con.execute("SELECT " + ", ".join(  # distinct cells first, then trimmed: a subquery per column
            f"(SELECT list(DISTINCT NULLIF(trim(_v), '')) FROM (SELECT DISTINCT {quote_ident(c)} AS _v FROM {raw.name}))"
            for c in categorical)).fetchall()[0]
        distinct = {c: [v for v in values or () if v is not None] for c, values in zip(categorical, found)}
    forms = list(con.execute(_number_form_counts(numeric, raw.name)).fetchall()[0]) if numeric else []
    pos = 0
    date_formats = {}
    for c in dates:
        hits = values[pos:pos + len(DATE_FORMATS)]
        pos += len(DATE_FORMATS)
        date_formats[c] = [f for _, f in sorted(zip(hits, DATE_FORMATS), key=lambda hf: -hf[0])]
    return Profile(_number_locales(raw, numeric, forms), date_formats, distinct)


MAPPED = (*CATEGORICAL, "int", "float", "date")  # typed on distinct cells; text and person references row by row


def _cell_sql(col: Column, ref: str, profile: Profile, param) -> tuple[str, str]:
    """SQL for one cell of ``col`` held in column ``ref``: its typed value and whether its number reads two ways."""
    raw_cell = f"NULLIF(trim({quote_ident(ref)}), '')"
    ambiguous = "false"
    if col.kind in CATEGORICAL:
        received = profile.distinct[col.name]  # mapped once per distinct value in Python
        mapped = [map_value(col, v) for v in received]
        typed = (f"CAST(list_extract({param(mapped)}::VARCHAR[], list_position({param(received)}::VARCHAR[], "
                 f"{raw_cell})) AS {col.sql_type})")
    elif col.kind == "int":
        num = _number_sql(ref, profile.number_locales[col.name])
        typed = f"CASE WHEN {num} = round({num}) THEN TRY_CAST({num} AS BIGINT) END"  # 1e300: not a BIGINT
    elif col.kind == "float":
        typed = _number_sql(ref, profile.number_locales[col.name])
    elif col.kind == "date":
        typed = _date_sql(ref, profile.date_formats[col.name])
    else:
        typed = raw_cell
    if col.kind in ("int", "float") and profile.number_locales[col.name] is None:
        ambiguous = _number_forms(ref)[2]
    return typed, ambiguous


def type_rows(con: duckdb.DuckDBPyConnection, raw: RawTable, contract: Contract, *, file: str,
              school_id: str | None, academic_year: str | None) -> tuple[str, list[dict]]:
    """Create a temp table of typed contract columns (+ source_row); return it and read-stage failures.

    ``school_id``/``academic_year`` fill empty cells; a row that names another school or year refuses
    the file (the folder and the file must agree).
    """
    present = set(raw.columns)
    profile = _profile(con, raw, contract)
    raw.decimal_comma = "comma" in profile.number_locales.values()
    # inner query: each cell typed once (_t) beside its text (_r); outer query: defaults, fills and the errors list.
    # A typed column is typed on its DISTINCT cells (a map joined back: a date or ECTS column of a million rows
    # holds a few hundred values); free text and person references are taken row by row.
    inner, select, checks, maps, joins = ["r.source_row"], ["source_row"], [], [], []
    bound: dict[str, object] = {}  # values go into the SQL as parameters, never as text

    def param(value: object) -> str:
        name = f"v{len(bound)}"
        bound[name] = value
        return "$" + name

    for i, col in enumerate(contract.columns):
        name = quote_ident(col.name)
        if col.name not in present:
            fill = {"school_id": school_id, "academic_year": academic_year}.get(col.name, col.default)
            literal = "NULL" if fill is None else f"CAST({param(fill)} AS {col.sql_type})"
            select.append(f"{literal} AS {name}")
            continue
        typed, ambiguous = _cell_sql(col, "_v" if col.kind in MAPPED else col.name, profile, param)
        if col.kind in MAPPED:
            maps.append(f"m{i} AS (SELECT _v, NULLIF(trim(_v), '') AS _r, {typed} AS _t, "
                        f"coalesce({ambiguous}, false) AS _a FROM (SELECT DISTINCT {name} AS _v FROM {raw.name}))")
            joins.append(f"LEFT JOIN m{i} ON r.{name} IS NOT DISTINCT FROM m{i}._v")
            inner.append(f"m{i}._r AS _r{i}, m{i}._t AS _t{i}, m{i}._a AS _a{i}")
        else:
            inner.append(f"NULLIF(trim(r.{name}), '') AS _r{i}, {typed} AS _t{i}, coalesce({ambiguous}, false) AS _a{i}")
        if col.kind in EXPECTED:  # '?col': the number reads two ways (reason names both)
            checks.append(f"CASE WHEN _r{i} IS NOT NULL AND _a{i} THEN '?{col.name}' "
                          f"WHEN _r{i} IS NOT NULL AND _t{i} IS NULL THEN '{col.name}' END")
        final = f"_t{i}"
        if col.default is not None:
            final = f"CASE WHEN _r{i} IS NULL THEN CAST({param(col.default)} AS {col.sql_type}) ELSE _t{i} END"
        elif col.name == "school_id" and school_id:
            final = f"coalesce(_t{i}, {param(school_id)})"
        elif col.name == "academic_year" and academic_year:
            final = f"coalesce(_t{i}, {param(academic_year)})"
        select.append(f"{final} AS {name}")
    errors = f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL)" if checks else "[]::VARCHAR[]"
    typed_name = f"{raw.name}_typed"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {typed_name} AS
                    {'WITH ' + ', '.join(maps) if maps else ''}
                    SELECT {', '.join(select)}, {errors} AS _errors
                    FROM (SELECT {', '.join(inner)} FROM {raw.name} r {' '.join(joins)})""", bound)
    _check_key_matches(con, typed_name, raw, file, school_id, academic_year)
    failures = _type_failures(con, typed_name, raw, contract)
    if failures:
        con.execute(f"DELETE FROM {typed_name} WHERE len(_errors) > 0")
    con.execute(f"ALTER TABLE {typed_name} DROP COLUMN _errors")
    return typed_name, failures


def _check_key_matches(con, typed: str, raw: RawTable, file: str, school_id: str | None,
                       academic_year: str | None) -> None:
    """Every row must name the submission's school and year (where the file has those columns)."""
    checks = [(c, v) for c, v in (("school_id", school_id), ("academic_year", academic_year))
              if v is not None and c in raw.columns]
    if not checks:
        return
    where = " OR ".join(f"({c} IS DISTINCT FROM ? AND NOT list_contains(_errors, '{c}'))" for c, _ in checks)
    first = con.execute(f"SELECT min(source_row) FROM {typed} WHERE {where}", [v for _, v in checks]).fetchall()[0][0]
    if first is None:
        return
    cols = ", ".join(f"r.{c}, t.{c} IS DISTINCT FROM ? AS bad_{c}" for c, _ in checks)  # the one row, as received
    row = con.execute(f"SELECT {cols} FROM {typed} t JOIN {raw.name} r USING (source_row) WHERE source_row = ?",
                      [*(v for _, v in checks), first]).fetchall()[0]
    for k, (column, expected) in enumerate(checks):
        if row[2 * k + 1]:
            raise InputRefused(file, f"{column} {row[2 * k]!r} disagrees with the submission's {column} "
                                     f"{expected!r} (from its folder or the command line); expected every row "
                                     "to match", row=int(first), column=column)


def _type_failures(con: duckdb.DuckDBPyConnection, typed: str, raw: RawTable, contract: Contract) -> list[dict]:
    cells = ", ".join(f"r.{quote_ident(c)}" for c in raw.columns)
    rows = con.execute(f"SELECT r.source_row, {cells}, t._errors FROM {raw.name} r JOIN {typed} t USING (source_row) "
                       "WHERE len(t._errors) > 0 ORDER BY r.source_row").fetchall()
    names = ["source_row", *raw.columns, "_errors"]
    out = []
    for values in rows:
        rec = dict(zip(names, values))
        errors = rec.pop("_errors")
        for col in contract.columns:  # never keep a raw person (or respondent) reference, not even in quarantine
            if col.kind == "pseudonym" and rec.get(col.name):
                from ims_indicators.ingest.pseudonym import pseudonym  # lazy: ingest imports read

                rec[col.name] = pseudonym(rec[col.name])
        for col in errors:
            if col.startswith("?"):
                col = col[1:]
                rule, reason = "read.number_locale", ambiguous_number_reason(col, str(rec[col]))
            else:
                kind = contract.column(col).kind
                rule, reason = f"read.type_{kind}", f"{col} {_shown(rec[col])} is not {EXPECTED[kind]}"
            out.append({"source_row": int(rec["source_row"]), "rule": rule, "column": col, "reason": reason,
                        "row_json": json.dumps({k: v for k, v in rec.items() if k != "source_row"}, default=str)})
    return out


def _shown(value: object, limit: int = 80) -> str:
    """A received cell as quoted in a reason: a 5 MB cell is not repeated in full."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(str(value)):,} characters)"

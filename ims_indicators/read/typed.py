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


def _clean_number(cell: str) -> str:
    return f"replace(replace(replace(trim({cell}), ' ', ''), chr(160), ''), chr(8239), '')"


# A distinct cell's number forms, computed once per cell (DuckDB binds every function call of a query anew: a
# column's number SQL with these spelt out was 7 regexes and 24 replaces, and a small file's map took 30 ms to bind).
# _k: the cell without spaces; _cm: it reads with a decimal comma; _dm: with a decimal dot; _sep: it has ',' or '.'.
NUMBER_FORMS = (f"regexp_full_match(_k, '{COMMA_FORM}') AS _cm, regexp_full_match(_k, '{DOT_FORM}') AS _dm, "
                "regexp_matches(_k, '[.,]') AS _sep")
COMMA_ONLY, DOT_ONLY, BOTH_WAYS = "(_cm AND NOT _dm)", "(_dm AND NOT _cm)", "(_cm AND _dm AND _sep)"


def _cells_sql(cells: str, numbers: bool, where: str = "") -> str:
    """The distinct cells as ``_c, _v, _r`` (trimmed, NULL when empty) and, with ``numbers``, their number forms."""
    inner = f"SELECT _c, _v, NULLIF(trim(_v), '') AS _r, {_clean_number('_v')} AS _k FROM {cells} {where}"
    return f"SELECT *, {NUMBER_FORMS} FROM ({inner})" if numbers else inner


def _number_sql(locale: str | None) -> str:
    """The cell as a DOUBLE read with the column's decimal mark (None: by the value's own unambiguous form)."""
    as_comma = "TRY_CAST(replace(replace(_k, '.', ''), ',', '.') AS DOUBLE)"
    as_dot = "TRY_CAST(replace(_k, ',', '') AS DOUBLE)"
    if locale == "comma":
        return f"CASE WHEN _cm THEN {as_comma} END"
    if locale == "dot":
        return f"CASE WHEN _dm THEN {as_dot} ELSE TRY_CAST(_k AS DOUBLE) END"
    return (f"CASE WHEN {COMMA_ONLY} THEN {as_comma} WHEN {DOT_ONLY} THEN {as_dot} WHEN {BOTH_WAYS} THEN NULL "
            f"ELSE TRY_CAST(_k AS DOUBLE) END")


def _number_form_counts(con: duckdb.DuckDBPyConnection, numeric: dict[str, int],
                        cells: str) -> list[tuple[int, int]]:
    """Per number column (name -> index in the cells table), how many distinct cells read only with a decimal comma
    and how many only with a dot. Only their being zero or not matters, so distinct values are enough (an ECTS
    column of a million rows holds a few dozen), and a cell without ',' or '.' reads alike both ways."""
    if not numeric:
        return []
    where = "WHERE _c IN (SELECT unnest($c)) AND (contains(_v, ',') OR contains(_v, '.'))"
    found = {c: (a, b) for c, a, b in con.execute(
        f"SELECT _c, count(*) FILTER (WHERE {COMMA_ONLY}), count(*) FILTER (WHERE {DOT_ONLY}) "
        f"FROM ({_cells_sql(cells, True, where)}) GROUP BY _c", {"c": list(numeric.values())}).fetchall()}
    return [found.get(i, (0, 0)) for i in numeric.values()]


def _number_locales(raw: RawTable, numeric: list[str], counts: list[tuple[int, int]]) -> dict[str, str | None]:
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


def _date_sql(formats: list[str]) -> str:
    """The trimmed cell ``_r`` as a DATE in the first of ``formats`` that reads it, or as an Excel date number."""
    parts = [f"TRY_STRPTIME(_r, '{fmt}')::DATE" for fmt in formats]
    serial = ("CASE WHEN regexp_full_match(_r, '[0-9]{5}(\\.0+)?') "
              "THEN DATE '1899-12-30' + TRY_CAST(TRY_CAST(_r AS DOUBLE) AS INTEGER) END")
    return f"coalesce({', '.join(parts)}, {serial})"


@dataclass
class Profile:
    """What a scan of the text cells tells: each number column's decimal mark, each date column's usual format,
    the distinct categorical values."""

    number_locales: dict[str, str | None]  # column -> 'comma' | 'dot' | None (value by value)
    date_formats: dict[str, list[str]]
    distinct: dict[str, list[str]]


def _profile(con: duckdb.DuckDBPyConnection, raw: RawTable, contract: Contract, cells: str,
             mapped: dict[str, int]) -> Profile:
    """``cells``: the distinct cells of the ``mapped`` columns (name -> index), see :func:`type_rows`."""
    cols = [contract.column(c) for c in raw.columns]
    numeric = {c.name: mapped[c.name] for c in cols if c.kind in ("int", "float")}
    dates = [c.name for c in cols if c.kind == "date"]
    categorical = {mapped[c.name]: c.name for c in cols if c.kind in CATEGORICAL}
    exprs: list[str] = []
    for c in dates:
        exprs.extend(f"count(TRY_STRPTIME(trim({quote_ident(c)}), '{fmt}'))" for fmt in DATE_FORMATS)
    # date formats from the first rows
    values = list(con.execute(f"SELECT {', '.join(exprs)} FROM (SELECT * FROM {raw.name} LIMIT 2000)")
                  .fetchall()[0]) if exprs else []
    distinct: dict[str, list[str]] = {c: [] for c in categorical.values()}
    if categorical:  # the distinct cells, trimmed
        for i, value in con.execute(f"SELECT DISTINCT _c, NULLIF(trim(_v), '') FROM {cells} "
                                    "WHERE _c IN (SELECT unnest($c))", {"c": list(categorical)}).fetchall():
            if value is not None:
                distinct[categorical[i]].append(value)
    forms = _number_form_counts(con, numeric, cells)
    pos = 0
    date_formats = {}
    for c in dates:
        hits = values[pos:pos + len(DATE_FORMATS)]
        pos += len(DATE_FORMATS)
        date_formats[c] = [f for _, f in sorted(zip(hits, DATE_FORMATS), key=lambda hf: -hf[0])]
    return Profile(_number_locales(raw, list(numeric), forms), date_formats, distinct)


MAPPED = (*CATEGORICAL, "int", "float", "date")  # typed on distinct cells; text and person references row by row


def _cell_sql(col: Column, profile: Profile, param) -> tuple[str, str | None, str]:
    """SQL for one distinct cell of ``col`` (the columns of :func:`_cells_sql`, and ``_d``, the number it reads as):
    its typed value, its number (None: not a number column) and whether that number reads two ways."""
    number, ambiguous = None, "false"
    if col.kind in CATEGORICAL:
        received = profile.distinct[col.name]  # mapped once per distinct value in Python
        mapped = [map_value(col, v) for v in received]
        typed = (f"CAST(list_extract({param(mapped)}::VARCHAR[], list_position({param(received)}::VARCHAR[], _r)) "
                 f"AS {col.sql_type})")
    elif col.kind in ("int", "float"):
        number = _number_sql(profile.number_locales[col.name])
        typed = "CASE WHEN _d = round(_d) THEN TRY_CAST(_d AS BIGINT) END" if col.kind == "int" else "_d"  # 1e300
        ambiguous = BOTH_WAYS if profile.number_locales[col.name] is None else "false"
    else:
        typed = _date_sql(profile.date_formats[col.name])
    return typed, number, ambiguous


def _maps_sql(contract: Contract, mapped: dict[str, int], cells: str, profile: Profile, param) -> str:
    """The value map in one scan of the distinct cells: each cell ``_v`` of column ``_c``, its text ``_r``, its
    typed value (in the slot of its column's SQL type, ``t_<type>``) and the error it makes (``_err``: the column's
    name, '?column' for a number that reads two ways, or NULL). One CASE per slot over the cells and their number
    forms computed once, not a query per column."""
    slots: dict[str, list[str]] = {}
    numbers, ambiguous, named = [], [], []
    for c, i in mapped.items():
        col = contract.column(c)
        typed, number, amb = _cell_sql(col, profile, param)
        slots.setdefault(col.sql_type, []).append(f"WHEN {i} THEN {typed}")
        if number is not None:
            numbers.append(f"WHEN {i} THEN {number}")
        if amb != "false":
            ambiguous.append(f"WHEN {i} THEN {amb}")
        if col.kind in EXPECTED:
            named.append(f"WHEN {i} THEN '{col.name}'")

    def case(whens: list[str], otherwise: str) -> str:
        return f"CASE _c {' '.join(whens)} END" if whens else otherwise

    source = _cells_sql(cells, bool(numbers))
    if numbers:
        source = f"SELECT *, {case(numbers, '')} AS _d FROM ({source})"
    typed_cols = ", ".join(f"{case(whens, '')} AS t_{t}" for t, whens in slots.items())
    untyped = " AND ".join(f"t_{t} IS NULL" for t in slots)
    return (f"SELECT _c, _v, _r, {', '.join(f't_{t}' for t in slots)}, CASE WHEN _r IS NULL THEN NULL "
            f"WHEN _a THEN '?' || _n WHEN {untyped} THEN _n END AS _err "
            f"FROM (SELECT _c, _v, _r, {typed_cols}, coalesce({case(ambiguous, 'NULL')}, false) AS _a, "
            f"{case(named, 'NULL::VARCHAR')} AS _n FROM ({source}))")


def type_rows(con: duckdb.DuckDBPyConnection, raw: RawTable, contract: Contract, *, file: str,
              school_id: str | None, academic_year: str | None) -> tuple[str, list[dict]]:
    """A temp view of the typed contract columns (+ source_row) of the rows that type, and the read-stage failures
    of the others. The view reads ``raw`` and the value map, nothing is copied: :func:`discard` drops them all.

    ``school_id``/``academic_year`` fill empty cells; a row that names another school or year refuses
    the file (the folder and the file must agree).
    """
    present = set(raw.columns)
    # A typed column is typed on its DISTINCT cells (a date or ECTS column of a million rows holds a few hundred
    # values): they are collected once (_cells: column index, cell), profiled, and typed into one map table
    # (column, received -> typed, and the error that cell makes) joined back, so the checks read the map, not the
    # rows. Free text and person references are taken row by row.
    mapped = {c.name: i for i, c in enumerate(contract.columns) if c.name in present and c.kind in MAPPED}
    cells, maps = f"{raw.name}_cells", f"{raw.name}_maps"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {cells} AS " + (" UNION ALL ".join(
        f"SELECT {i} AS _c, _v FROM (SELECT DISTINCT {quote_ident(c)} AS _v FROM {raw.name})"
        for c, i in mapped.items()) or "SELECT NULL::INTEGER AS _c, NULL::VARCHAR AS _v WHERE false"))
    profile = _profile(con, raw, contract, cells, mapped)
    raw.decimal_comma = "comma" in profile.number_locales.values()
    bound: dict[str, object] = {}  # values go into the SQL as parameters, never as text

    def param(value: object) -> str:
        bound[f"v{len(bound)}"] = value
        return f"$v{len(bound) - 1}"

    con.execute(f"CREATE OR REPLACE TEMP TABLE {maps} AS "
                + (_maps_sql(contract, mapped, cells, profile, param) if mapped else
                   "SELECT NULL::INTEGER AS _c, NULL::VARCHAR AS _v, NULL::VARCHAR AS _r, NULL::VARCHAR AS _err "
                   "WHERE false"), bound)
    fills: list[tuple[object, str]] = []  # (value, SQL type): a one-row table, as a view cannot hold parameters
    inner, select, joins = ["r.source_row"], ["source_row"], []

    def fill(value: object, sql_type: str) -> str:
        fills.append((value, sql_type))
        return f"k.f{len(fills) - 1}"

    for i, col in enumerate(contract.columns):
        name = quote_ident(col.name)
        if col.name not in present:
            value = {"school_id": school_id, "academic_year": academic_year}.get(col.name, col.default)
            select.append(f"{'NULL' if value is None else fill(value, col.sql_type)}::{col.sql_type} AS {name}")
            continue
        if col.name in mapped:
            joins.append(f"LEFT JOIN {maps} m{i} ON m{i}._c = {i} AND r.{name} = m{i}._v")
            inner.append(f"m{i}._r AS _r{i}, m{i}.t_{col.sql_type} AS _t{i}")
        else:
            inner.append(f"NULLIF(trim(r.{name}), '') AS _r{i}, NULLIF(trim(r.{name}), '') AS _t{i}")
        final = f"_t{i}"
        if col.default is not None:
            final = f"CASE WHEN _r{i} IS NULL THEN {fill(col.default, col.sql_type)} ELSE _t{i} END"
        elif col.name == "school_id" and school_id:
            final = f"coalesce(_t{i}, {fill(school_id, col.sql_type)})"
        elif col.name == "academic_year" and academic_year:
            final = f"coalesce(_t{i}, {fill(academic_year, col.sql_type)})"
        select.append(f"{final} AS {name}")
    _check_key_matches(con, raw, maps, mapped, file, school_id, academic_year)
    failures = _type_failures(con, raw, maps, mapped, contract)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw.name}_fills AS SELECT "
                + (", ".join(f"CAST($f{j} AS {t}) AS f{j}" for j, (_, t) in enumerate(fills)) or "NULL AS f0"),
                {f"f{j}": v for j, (v, _) in enumerate(fills)})
    held = ""
    if failures:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw.name}_held AS SELECT unnest($rows::BIGINT[]) AS source_row",
                    {"rows": sorted({f["source_row"] for f in failures})})
        held = f"WHERE r.source_row NOT IN (SELECT source_row FROM {raw.name}_held)"
    typed_name = f"{raw.name}_typed"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {typed_name} AS
                    SELECT {', '.join(select)}
                    FROM (SELECT {', '.join(inner)} FROM {raw.name} r {' '.join(joins)} {held}) CROSS JOIN
                         {raw.name}_fills k""")
    return typed_name, failures


def discard(con: duckdb.DuckDBPyConnection, typed: str) -> None:
    """Drop what :func:`type_rows` made for ``typed`` (the view, its cells, map, fills and held rows, and the raw
    table)."""
    raw = typed.removesuffix("_typed")
    con.execute(f"DROP VIEW IF EXISTS {typed}")
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary AND (table_name = ? "
                               "OR starts_with(table_name, ?))", [raw, raw + "_"]).fetchall():
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")


def _check_key_matches(con, raw: RawTable, maps: str, mapped: dict[str, int], file: str, school_id: str | None,
                       academic_year: str | None) -> None:
    """Every row must name the submission's school and year (where the file has those columns): a distinct cell
    that types to another one refuses the file, naming the first row that holds it."""
    keys = [(column, expected) for column, expected in (("school_id", school_id), ("academic_year", academic_year))
            if expected is not None and column in mapped]
    other = " OR ".join(f"(_c = {mapped[column]} AND t_VARCHAR IS DISTINCT FROM ${column})" for column, _ in keys)
    if not keys or not con.execute(f"SELECT 1 FROM {maps} WHERE t_VARCHAR IS NOT NULL AND ({other}) LIMIT 1",
                                   dict(keys)).fetchall():
        return  # the map holds no other school or year: no row to look for
    for column, expected in keys:
        row, = con.execute(f"""SELECT min(source_row) FROM {raw.name} WHERE {column} IN
                               (SELECT _v FROM {maps} WHERE _c = {mapped[column]} AND t_VARCHAR IS NOT NULL
                                AND t_VARCHAR IS DISTINCT FROM ?)""", [expected]).fetchall()[0]
        if row is not None:
            cell, = con.execute(f"SELECT {column} FROM {raw.name} WHERE source_row = ?", [row]).fetchall()[0]
            raise InputRefused(file, f"{column} {cell!r} disagrees with the submission's {column} "
                                     f"{expected!r} (from its folder or the command line); expected every row "
                                     "to match", row=int(row), column=column)


def _type_failures(con: duckdb.DuckDBPyConnection, raw: RawTable, maps: str, mapped: dict[str, int],
                   contract: Contract) -> list[dict]:
    """The rows holding a cell that does not type, as received, each error with its rule and reason."""
    bad = {c for (c,) in con.execute(f"SELECT DISTINCT _c FROM {maps} WHERE _err IS NOT NULL").fetchall()}
    failing = {c: i for c, i in mapped.items() if i in bad}
    if not failing:
        return []
    cells = ", ".join(f"r.{quote_ident(c)}" for c in raw.columns)
    errors = ", ".join(f"(SELECT _err FROM {maps} WHERE _c = {i} AND _v = r.{quote_ident(c)})"
                       for c, i in failing.items())
    where = " OR ".join(f"r.{quote_ident(c)} IN (SELECT _v FROM {maps} WHERE _c = {i} AND _err IS NOT NULL)"
                        for c, i in failing.items())
    rows = con.execute(f"SELECT r.source_row, {cells}, list_filter([{errors}], lambda x: x IS NOT NULL) "
                       f"FROM {raw.name} r WHERE {where} ORDER BY r.source_row").fetchall()
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

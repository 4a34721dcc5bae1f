"""Compile a Great Expectations suite file into ONE DuckDB query: the same rules, no GX at run time.

The suite files in ``expectations/`` are the reviewed source of every row rule. Great Expectations runs them
on school submissions (small, with Data Docs); this compiler turns the same files into SQL for large
submissions and open data, so no rule is ever copied by hand. The query returns one row per failing
row × expectation::

    submission_id, source_row, rule, column_name, reason, severity, expectation

``rule`` is the expectation type, ``column_name`` the data columns it names (helper columns such as
``_year_start`` left out), ``reason`` the suite's ``meta.reason`` filled with the row's values exactly as
:func:`ims_indicators.validate.gxrun.reason_for` fills it, ``expectation`` the index in the suite.
Semantics follow GX 1.24's pandas engine: column-map expectations skip missing values, ``row_condition``
(pandas syntax, parsed with :mod:`ast`) narrows the rows checked, ``ignore_row_if`` is honoured, a compound
key is unexpected on every row of a clashing group. An expectation type or kwarg not listed here raises
:class:`UnsupportedExpectation`, and the parity test (tests/validate/test_compile.py) fails with it.
"""

from __future__ import annotations

import ast
import string

from ims_indicators.warehouse import quote_ident

SUPPORTED = {
    "expect_column_values_to_not_be_null": {"column", "row_condition", "condition_parser"},
    "expect_column_values_to_be_null": {"column", "row_condition", "condition_parser"},
    "expect_column_values_to_be_in_set": {"column", "value_set", "row_condition", "condition_parser"},
    "expect_column_values_to_be_between": {"column", "min_value", "max_value", "strict_min", "strict_max",
                                           "row_condition", "condition_parser"},
    "expect_column_pair_values_a_to_be_greater_than_b": {"column_A", "column_B", "or_equal", "ignore_row_if",
                                                         "row_condition", "condition_parser"},
    "expect_compound_columns_to_be_unique": {"column_list", "ignore_row_if", "row_condition", "condition_parser"},
}
# value sets longer than this (the 250 country codes) are looked up in a hash table: an IN list of literals is
# compared value by value, 0.2 s per million rows, and 0.8 s on rows staged by the same process
LONG_SET = 16
OUTPUT = ("submission_id", "source_row", "rule", "column_name", "reason", "severity", "expectation")


class UnsupportedExpectation(ValueError):
    """The suite uses an expectation type, kwarg or row condition the compiler does not know."""


def _lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# --- row_condition (pandas query syntax) -------------------------------------------------------------------

_CMP = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_NULL_CALLS = {"isnull": "IS NULL", "isna": "IS NULL", "notnull": "IS NOT NULL", "notna": "IS NOT NULL"}


def condition_sql(text: str) -> str:
    """A pandas ``row_condition`` such as ``_copy_no == 1 and score.isnull()`` as SQL (NULL counts as false)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise UnsupportedExpectation(f"row_condition {text!r} is not a pandas expression ({exc.msg})") from exc

    def walk(node) -> str:
        if isinstance(node, ast.BoolOp):
            op = " AND " if isinstance(node.op, ast.And) else " OR "
            return "(" + op.join(walk(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"(NOT {walk(node.operand)})"
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMP:
            return f"coalesce({walk(node.left)} {_CMP[type(node.ops[0])]} {walk(node.comparators[0])}, false)"
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args
                and node.func.attr in _NULL_CALLS and isinstance(node.func.value, ast.Name)):
            return f"({quote_ident(node.func.value.id)} {_NULL_CALLS[node.func.attr]})"
        if isinstance(node, ast.Name):
            return quote_ident(node.id)
        if isinstance(node, ast.Constant):
            return _lit(node.value)
        raise UnsupportedExpectation(f"row_condition {text!r}: {ast.dump(node)[:80]} is not supported")

    return walk(tree)


def _row_condition(kwargs: dict) -> str:
    cond = kwargs.get("row_condition")
    if not cond:
        return "true"
    if kwargs.get("condition_parser") not in (None, "pandas"):
        raise UnsupportedExpectation(f"condition_parser {kwargs['condition_parser']!r} is not supported")
    if isinstance(cond, dict):
        if cond.get("type") != "pass_through":
            raise UnsupportedExpectation(f"row_condition of type {cond.get('type')!r} is not supported")
        cond = cond["pass_through_filter"]
    return condition_sql(cond)


# --- reasons -----------------------------------------------------------------------------------------------

def show_sql(column: str, sql_type: str) -> str:
    """A value as text the way gxrun.show writes it: 'empty', dates ISO, 30.0 as 30, True/False."""
    c = quote_ident(column)
    t = sql_type.upper()
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        text = (f"CASE WHEN isfinite({c}) AND {c} = trunc({c}) THEN CAST(CAST({c} AS HUGEINT) AS VARCHAR) "
                f"ELSE CAST({c} AS VARCHAR) END")
    elif t == "BOOLEAN":
        text = f"CASE WHEN {c} THEN 'True' ELSE 'False' END"
    elif t == "DATE":
        text = f"strftime({c}, '%Y-%m-%d')"
    else:
        text = f"CAST({c} AS VARCHAR)"
    return f"coalesce({text}, 'empty')"


def reason_sql(template: str, types: dict[str, str]) -> str:
    """``meta.reason`` as a SQL string expression over the row (``{c}`` the value, ``{c!r}`` quoted)."""
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return _lit(template)
    for literal, name, _spec, conversion in parsed:
        if literal:
            parts.append(_lit(literal))
        if name is None:
            continue
        if name not in types:
            parts.append("'None'")  # gxrun fills an unknown name with None
            continue
        shown = show_sql(name, types[name])
        if conversion == "r":
            shown = f"CASE WHEN {quote_ident(name)} IS NULL THEN 'empty' ELSE '''' || {shown} || '''' END"
        parts.append(shown)
    return "(" + " || ".join(parts or ["''"]) + ")"


# --- expectations --------------------------------------------------------------------------------------------

def columns_of(kwargs: dict) -> list[str]:
    """The columns an expectation names (``submission_id`` of a compound key left out)."""
    if kwargs.get("column_list"):
        return [c for c in kwargs["column_list"] if c != "submission_id"]
    return [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]


def _failing(kind: str, kwargs: dict) -> str:
    """The WHERE clause of the rows an expectation marks unexpected (within its row_condition)."""
    if kind == "expect_column_values_to_not_be_null":
        return f"{quote_ident(kwargs['column'])} IS NULL"
    if kind == "expect_column_values_to_be_null":
        return f"{quote_ident(kwargs['column'])} IS NOT NULL"
    if kind == "expect_column_values_to_be_in_set":
        c = quote_ident(kwargs["column"])
        values = ", ".join(_lit(v) for v in kwargs["value_set"])
        if len(kwargs["value_set"]) > LONG_SET:  # a hash lookup: a long IN list is tested value by value
            return f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN (SELECT unnest([{values}]::VARCHAR[]))"
        return f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({values or 'NULL'})"
    if kind == "expect_column_values_to_be_between":
        c = quote_ident(kwargs["column"])
        tests = []
        if kwargs.get("min_value") is not None:
            tests.append(f"{c} {'<=' if kwargs.get('strict_min') else '<'} {_lit(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            tests.append(f"{c} {'>=' if kwargs.get('strict_max') else '>'} {_lit(kwargs['max_value'])}")
        if not tests:
            raise UnsupportedExpectation("expect_column_values_to_be_between needs min_value or max_value")
        return f"{c} IS NOT NULL AND ({' OR '.join(tests)})"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = quote_ident(kwargs["column_A"]), quote_ident(kwargs["column_B"])
        ignore = kwargs.get("ignore_row_if", "both_values_are_missing")
        skip = {"either_value_is_missing": f"({a} IS NULL OR {b} IS NULL)",
                "both_values_are_missing": f"({a} IS NULL AND {b} IS NULL)", "neither": "false"}
        if ignore not in skip:
            raise UnsupportedExpectation(f"ignore_row_if {ignore!r} is not supported")
        op = ">=" if kwargs.get("or_equal") else ">"
        return f"NOT {skip[ignore]} AND NOT coalesce({a} {op} {b}, false)"
    raise UnsupportedExpectation(f"expectation type {kind!r} has no SQL form")


def expectation_sql(index: int, exp: dict, table: str, types: dict[str, str]) -> str:
    kind = exp["type"]
    if kind not in SUPPORTED:
        raise UnsupportedExpectation(f"expectation type {kind!r} has no SQL form (supported: {', '.join(SUPPORTED)})")
    kwargs = {k: v for k, v in exp.get("kwargs", {}).items() if k != "batch_id"}
    unknown = set(kwargs) - SUPPORTED[kind]
    if unknown:
        raise UnsupportedExpectation(f"{kind}: kwargs {', '.join(sorted(unknown))} are not supported")
    cols = columns_of(kwargs)
    missing = [c for c in cols if c not in types]
    if missing:
        raise UnsupportedExpectation(f"{kind}: column(s) {', '.join(missing)} are not in {table}")
    meta = exp.get("meta") or {}
    template = meta.get("reason") or f"{kind} failed on {', '.join(cols)}"
    data_cols = ",".join(c for c in cols if not c.startswith("_")) or None
    severity = exp.get("severity") or "critical"
    where = _row_condition(kwargs)
    head = (f"SELECT submission_id, source_row, {_lit(kind)} AS rule, {_lit(data_cols)}::VARCHAR AS column_name, "
            "{reason} AS reason, " + f"{_lit(severity)} AS severity, {index} AS expectation")
    if kind != "expect_compound_columns_to_be_unique":
        return head.format(reason=reason_sql(template, types)) + \
            f" FROM {table} WHERE {where} AND ({_failing(kind, kwargs)})"
    if kwargs.get("ignore_row_if", "all_values_are_missing") not in ("any_value_is_missing", "all_values_are_missing",
                                                                      "never"):
        raise UnsupportedExpectation(f"ignore_row_if {kwargs['ignore_row_if']!r} is not supported")
    group = [quote_ident(c) for c in kwargs["column_list"]]
    ignore = {"any_value_is_missing": " OR ".join(f"{g} IS NULL" for g in group),
              "all_values_are_missing": " AND ".join(f"{g} IS NULL" for g in group),
              "never": "false"}[kwargs.get("ignore_row_if", "all_values_are_missing")]
    part = ", ".join(group)
    # the clashing keys first, grouped by the key's hash (a million distinct text keys group 3x slower), then the
    # window over their rows by the key itself: a hash collision adds candidates, never a finding (_n counts
    # the rows of the same key); k is read twice rather than materialised whole
    inner = (f"WITH k AS NOT MATERIALIZED (SELECT *, hash({part}) AS _h FROM {table} "
             f"WHERE {where} AND NOT ({ignore})), "
             f"d AS (SELECT _h FROM k GROUP BY _h HAVING count(*) > 1) "
             f"SELECT *, count(*) OVER (PARTITION BY {part}) AS _n, "
             f"string_agg(CAST(source_row AS VARCHAR), ', ' ORDER BY source_row) OVER (PARTITION BY {part}) "
             f"AS _group_rows FROM k SEMI JOIN d USING (_h)")
    types = {**types, "_group_rows": "VARCHAR"}
    return head.format(reason=reason_sql(template, types)) + f" FROM ({inner}) WHERE _n > 1"


def compile_suite(suite: dict, table: str, types: dict[str, str]) -> str:
    """The whole suite as one query over ``table`` (its columns and DuckDB types in ``types``)."""
    parts = [expectation_sql(i, e, table, types) for i, e in enumerate(suite.get("expectations", []))]
    if not parts:
        return ("SELECT NULL::VARCHAR AS submission_id, NULL::BIGINT AS source_row, NULL::VARCHAR AS rule, "
                "NULL::VARCHAR AS column_name, NULL::VARCHAR AS reason, NULL::VARCHAR AS severity, "
                "NULL::INTEGER AS expectation WHERE false")
    return "\nUNION ALL\n".join(f"({p})" for p in parts)


def table_types(con, table: str) -> dict[str, str]:
    """Column name → DuckDB type of a table or view."""
    return {r[0]: str(r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()}

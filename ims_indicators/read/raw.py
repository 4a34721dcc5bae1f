"""Load a received file into a DuckDB table of text cells, one column per contract column.

CSV goes through DuckDB's own reader (any common dialect, transcoded to UTF-8 first when needed);
XLSX through calamine. Either way the result is a table ``source_row BIGINT, <contract columns> VARCHAR``
where ``source_row`` is the line in the CSV / the row in the sheet as the sender sees it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import mmap
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from pathlib import Path

import duckdb

from ims_indicators import settings
from ims_indicators.contracts import Contract, header_map, normalise_header
from ims_indicators.errors import InputRefused
import ims_indicators.read.sniff as sniff
from ims_indicators.read.limits import check_column_count, check_row_count
from ims_indicators.read.received import check_received
from ims_indicators.read.repair import repair_cells, repair_header
from ims_indicators.read.workbook import check_workbook
from ims_indicators.warehouse import quote_ident

if TYPE_CHECKING:  # numpy and pandas are imported where used: every `ims` command imports this module
    import numpy as np

XLSX_MAGIC = b"PK\x03\x04"
HEADER_SEARCH_ROWS = 12
CSV_BUFFER_BYTES = 20_000_000  # DuckDB's CSV buffer: the longest line read as a row (a 5 MB cell is read)
TOTAL_WORDS = {"total", "totals", "sum", "summe", "gesamt", "insgesamt", "totale", "totaal", "totalt", "razem",
               "ensemble", "total general", "grand total", "overall", "all"}
_counter = itertools.count()


@dataclass
class RawTable:
    name: str  # temp table in the connection
    columns: list[str]  # contract columns present in the file
    delimiter: str | None = None
    encoding: str | None = None
    decimal_comma: bool = False
    unreadable: list[dict] = field(default_factory=list)  # lines the CSV parser could not split
    rows: int = 0  # data rows in the table
    repaired: int = 0  # cells whose double-encoded UTF-8 was repaired


def _find_header(rows: list[list[str]], contract: Contract, file: str) -> tuple[int, dict[int, str]]:
    """Index of the header row among the first rows and {field position: contract column}."""
    names = header_map(contract.name)
    best: tuple[int, dict[int, str]] | None = None
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping: dict[int, str] = {}
        for pos, cell in enumerate(row):
            col = names.get(normalise_header(cell))
            if col is None:
                continue
            if col in mapping.values():
                raise InputRefused(file, f"two columns map to {col!r} (header {cell!r}); expected each column once",
                                   row=i + 1, column=str(cell))
            mapping[pos] = col
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best[1])):
            best = (i, mapping)
    if best is None:
        raise InputRefused(file, f"no header row found in the first {HEADER_SEARCH_ROWS} rows; expected columns "
                                 f"{', '.join(contract.required)}", row=1)
    return best


def _check_required(mapping: dict[int, str], contract: Contract, file: str, header_row: int,
                    implied: set[str]) -> None:
    missing = [c for c in contract.required if c not in mapping.values() and c not in implied
               and contract.column(c).default is None]
    if contract.forms and not missing and not any(all(c in mapping.values() for c in form) for form in contract.forms):
        forms = " or ".join("(" + ", ".join(form) + ")" for form in contract.forms)
        raise InputRefused(file, f"expected the columns of one form of {contract.name}: {forms}", row=header_row,
                           column=", ".join(contract.forms[0]))
    if missing:
        raise InputRefused(file, f"required column(s) missing: {', '.join(missing)}; expected the "
                                 f"{contract.name} columns {', '.join(contract.required)}", row=header_row,
                           column=", ".join(missing))


def _consecutive_lines(profile: sniff.ByteProfile, first_line: int, n_good: int, rejected: set[int]) -> bool:
    """True when row k is line ``first_line + k``: nothing rejected, no quotes (a field spanning lines), no lone CR
    and exactly one row per line after the header (no blank line), from the byte counts of the file read."""
    if rejected or profile.quote:
        return False
    if profile.cr and not profile.cr == profile.lf == profile.crlf:
        return False
    lines = profile.lf + (0 if profile.last in (b"\n", b"") else 1)
    return lines - first_line + 1 == n_good


def _line_numbers(path: Path, first_line: int, n_good: int, rejected: set[int]) -> np.ndarray:
    """Physical line numbers of the rows DuckDB returned (it skips empty lines and the rejected ones)."""
    import numpy as np

    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, dtype=np.uint8)
        lf, cr = data == 10, data == 13
        # a line ends at '\n' or at a '\r' not followed by '\n' (old Mac exports: DuckDB counts those lines too)
        ends = np.flatnonzero(lf | (cr & ~np.append(lf[1:], False)))
        if len(data) and not (lf[-1] or cr[-1]):
            ends = np.append(ends, len(data))
        del lf, cr
        starts = np.concatenate(([0], ends[:-1] + 1))
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (data[np.minimum(starts, len(data) - 1)] == 13))
        del data
    lines = np.arange(1, len(ends) + 1)
    keep = (lines >= first_line) & ~blank & ~np.isin(lines, np.fromiter(rejected, dtype=np.int64))
    lines = lines[keep]
    if len(lines) != n_good:  # quoted fields spanning lines: number the records instead (documented), never
        # reusing a rejected line's number (rows held back are matched to their rows by source_row)
        free = np.arange(first_line, first_line + n_good + len(rejected))
        return free[~np.isin(free, np.fromiter(rejected, dtype=np.int64))][:n_good]
    return lines


def _copy_path(path: Path, kind: str) -> Path:
    return settings.tmp_dir() / f"{path.stem}.{next(_counter)}.{kind}.csv"


def load_csv(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract, implied: set[str]) -> RawTable:
    encoding = sniff.detect_encoding(path)
    lines = sniff.sample_lines(path, encoding)
    if not any(ln.strip() for ln in lines):
        raise InputRefused(path.name, "the file is empty; expected a header row and data rows", row=1)
    delimiter = sniff.detect_delimiter(lines)
    rows = [sniff.split_line(ln, delimiter) for ln in lines[:HEADER_SEARCH_ROWS]]
    header_idx, mapping = _find_header(repair_header(rows), contract, path.name)
    _check_required(mapping, contract, path.name, header_idx + 1, implied)
    n_fields = len(rows[header_idx])
    if not any(ln.strip() for ln in lines[header_idx + 1:]) and path.stat().st_size <= sniff.SAMPLE_BYTES:
        raise InputRefused(path.name, "the file has a header but no data rows; expected at least one row",
                           row=header_idx + 2)
    if header_idx == len(lines) - 1 and path.stat().st_size > sniff.SAMPLE_BYTES:  # the sample may end in the header
        n_fields = max(n_fields, sniff.count_fields(path, encoding, delimiter, header_idx))
    check_column_count(path.name, n_fields)
    direct = encoding in sniff.LATIN1_FAMILY or encoding in sniff.UTF8  # DuckDB reads the file itself
    with ThreadPoolExecutor(max_workers=1) as pool:  # the byte pass runs beside DuckDB's read of that file
        profile = pool.submit(sniff.profile_bytes, path) if direct else None
        return _read_csv(con, path, encoding, delimiter, header_idx, n_fields, mapping, profile)


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, delimiter: str, header_idx: int,
              n_fields: int, mapping: dict[int, str], profile: Future | None) -> RawTable:
    """DuckDB's read of the rows (dialect known) into a temp table of text cells, numbered by their lines;
    ``profile``: the byte pass of the file (:func:`sniff.profile_bytes`), running meanwhile; None when the file is
    read from a UTF-8 copy anyway."""
    readable, duck_encoding = path, "utf-8"
    copies: list[Path] = []  # transcoded copies: removed however the reading ends (rows read or file refused)
    if encoding in sniff.LATIN1_FAMILY:
        duck_encoding = "latin-1"  # DuckDB decodes it itself, unless the byte pass finds € „ … (checked below)
    elif encoding not in sniff.UTF8:
        readable = sniff.transcode_to_utf8(path, encoding, _copy_path(path, "utf8"))
        copies.append(readable)
    try:
        name = f"raw_{next(_counter)}"
        rej, scan = f"rej_{name}", f"scan_{name}"
        names = [mapping.get(i, f"_c{i}") for i in range(n_fields)]  # contract names straight from the reader
        columns = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
        one_line_end = False
        # a line may be as long as the buffer (20 MB); a longer one is a reject, held back with its reason. The dialect
        # is known: no sniffing (quadratic in the line length). A max_line_size beside the buffer made the read of a
        # million rows 25 % slower, and a line longer than the buffer was then dropped without a reject.
        for _ in range(3):  # as received; again from a copy in UTF-8, or in UTF-8 with one line end, if need be
            try:
                n_good = con.execute(f"""
                    CREATE OR REPLACE TEMP TABLE {name} AS
                    SELECT * FROM read_csv(?, delim=?, quote='"', escape='"', header=false, skip={header_idx + 1},
                                           columns={{{columns}}}, store_rejects=true, rejects_table='{rej}',
                                           rejects_scan='{scan}', strict_mode=true, buffer_size={CSV_BUFFER_BYTES},
                                           auto_detect=false, encoding=?)""",
                                     [str(readable), delimiter, duck_encoding]).fetchall()[0][0]
                error = None
            except duckdb.Error as exc:
                error = exc
            if duck_encoding == "latin-1" and not sniff.reads_as_latin1(encoding, profile.result()):
                # bytes 80-9F are € „ … in Windows-1252, not Latin-1 (DuckDB refuses them): read a UTF-8 copy
                con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {scan}")
                readable = sniff.transcode_to_utf8(path, encoding, _copy_path(path, "utf8"))
            elif error is None:
                break
            elif "state machine" in str(error) and not one_line_end:  # LF and CRLF mixed: read a copy with LF
                readable = sniff.transcode_to_utf8(path, encoding, _copy_path(path, "lf"), one_line_end=True)
                one_line_end = True
            else:
                raise InputRefused(path.name, f"the rows cannot be read as {delimiter!r}-separated text "
                                              f"({str(error).splitlines()[0][:200]})", row=header_idx + 2) from None
            copies.append(readable)
            duck_encoding = "utf-8"
        try:
            unreadable = [_unreadable(int(line), etype, text, n_fields, delimiter) for line, etype, text in con.execute(
                f"SELECT line, any_value(error_type), any_value(csv_line) FROM {rej} GROUP BY line ORDER BY line"
            ).fetchall()]
        finally:
            con.execute(f"DROP TABLE IF EXISTS {rej}; DROP TABLE IF EXISTS {scan}")
        miscounted = [u for u in unreadable if u["rule"] == "read.field_count"]
        if n_good == 0 and miscounted:  # no row reads as the header says: the file has no reading, refuse it whole
            first = miscounted[0]
            raise InputRefused(path.name, f"{first['reason']}; no data row has the header's {n_fields} fields"
                               + (" (decimal commas in a comma-separated file? expected them quoted, or ';' as the "
                                  "separator)" if delimiter == "," else ""), row=first["source_row"])
        first_line, rejected = header_idx + 2, {u["source_row"] for u in unreadable}
        # with a default: every row is numbered below, and updating a column added as NULL took 0.76 s per million
        # rows read in full row groups (0.02 s with the default)
        con.execute(f"ALTER TABLE {name} ADD COLUMN source_row BIGINT DEFAULT 0")
        read = profile.result() if readable == path else sniff.profile_bytes(readable)  # the bytes DuckDB read
        if _consecutive_lines(read, first_line, n_good, rejected):  # the common case: row k is line first + k
            con.execute(f"UPDATE {name} SET source_row = rowid + {first_line}")
        else:
            import pandas as pd

            lines = _line_numbers(readable, first_line, n_good, rejected)
            con.register(f"{name}_lines", pd.DataFrame({"k": range(len(lines)), "source_row": lines}))
            con.execute(f"UPDATE {name} SET source_row = l.source_row FROM {name}_lines l WHERE {name}.rowid = l.k")
            con.unregister(f"{name}_lines")
        for unmapped in (n for n in names if n not in mapping.values()):
            con.execute(f"ALTER TABLE {name} DROP COLUMN {quote_ident(unmapped)}")
        return RawTable(name, list(mapping.values()), delimiter, encoding, unreadable=unreadable)
    except BaseException:
        con.execute(f"DROP TABLE IF EXISTS {name}")
        raise
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)


def _unreadable(line: int, error_type: str, text: str | None, n_fields: int, delimiter: str) -> dict:
    """A line DuckDB could not take as a row: held back (read-stage quarantine) with what was wrong."""
    if error_type in ("TOO MANY COLUMNS", "MISSING COLUMNS") and text is not None:
        found = len(sniff.split_line(text, delimiter))
        return {"source_row": line, "rule": "read.field_count", "column": None, "row_json": None,
                "reason": f"line {line} has {found} fields, the header has {n_fields} (separated by {delimiter!r}); "
                          "expected one field per header column"}
    if error_type == "LINE SIZE OVER MAXIMUM":
        return {"source_row": line, "rule": "read.csv_line", "column": None, "row_json": None,
                "reason": f"line {line} could not be read: it is longer than the {CSV_BUFFER_BYTES:,} bytes a line "
                          "may have (expected shorter cells)"}
    return {"source_row": line, "rule": "read.csv_line", "column": None, "row_json": None,
            "reason": f"line {line} could not be read: {error_type.lower()} (expected {n_fields} fields "
                      f"separated by {delimiter!r})"}


def _cell_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def load_xlsx(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract, implied: set[str]) -> RawTable:
    import pandas as pd

    with open(path, "rb") as fh:
        zipped = fh.read(4) == XLSX_MAGIC
    if zipped:  # the used range is measured from the XML before calamine allocates it
        check_workbook(path, HEADER_SEARCH_ROWS)
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)  # an old binary .xls is bounded by its format (65,536 x 256)
        check_row_count(path.name, sheet.height, slack=HEADER_SEARCH_ROWS)
        check_column_count(path.name, sheet.width)
        cells = sheet.to_python(skip_empty_area=False)
    except InputRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises many kinds for broken workbooks
        raise InputRefused(path.name, f"the workbook cannot be read ({type(exc).__name__}: {exc}); "
                                      "expected an XLSX with the data on the first sheet") from None
    texts = [[_cell_text(v) for v in row] for row in cells]
    if not any(any(r) for r in texts):
        raise InputRefused(path.name, "the first sheet is empty; expected a header row and data rows", row=1)
    header_idx, mapping = _find_header(repair_header([[c or "" for c in r] for r in texts[:HEADER_SEARCH_ROWS]]),
                                       contract, path.name)
    _check_required(mapping, contract, path.name, header_idx + 1, implied)
    data = {"source_row": list(range(header_idx + 2, len(texts) + 1))}
    for pos, col in mapping.items():
        data[col] = [r[pos] if pos < len(r) else None for r in texts[header_idx + 1:]]
    frame = pd.DataFrame(data).astype({c: "object" for c in mapping.values()})
    name = f"raw_{next(_counter)}"
    con.register(f"{name}_df", frame)
    casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in mapping.values())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT source_row::BIGINT AS source_row, {casts} "
                f"FROM {name}_df")
    con.unregister(f"{name}_df")
    return RawTable(name, list(mapping.values()))


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract, implied: set[str]) -> RawTable:
    """Load a CSV or XLSX submission as text cells (refuses what cannot be read as a table)."""
    check_received(path)  # a link, pipe or device is never opened
    size = path.stat().st_size
    if size == 0:
        raise InputRefused(path.name, "the file is empty; expected a header row and data rows", row=1)
    if size > settings.max_file_bytes():
        raise InputRefused(path.name, f"the file has {size:,} bytes; at most {settings.max_file_bytes():,} are "
                                      "accepted (IMS_MAX_FILE_BYTES)")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(XLSX_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        if path.suffix.lower() == ".xls" or magic.startswith(XLSX_MAGIC):
            table = load_xlsx(con, path, contract, implied)
        else:
            raise InputRefused(path.name, "the file is named like a workbook but is not an XLSX zip")
    else:
        table = load_csv(con, path, contract, implied)
    table.rows = con.execute(f"SELECT count(*) FROM {table.name}").fetchall()[0][0]
    check_row_count(path.name, table.rows)
    _drop_blank_and_totals(con, table, contract)
    table.repaired = repair_cells(con, table.name, table.columns)
    return table


def _drop_blank_and_totals(con: duckdb.DuckDBPyConnection, table: RawTable, contract: Contract) -> None:
    """Remove rows with no value at all, and trailing totals rows (label 'Total' in a key or text column)."""
    cols = table.columns
    any_value = " OR ".join(f"NULLIF(trim({quote_ident(c)}), '') IS NOT NULL" for c in cols)
    con.execute(f"DELETE FROM {table.name} WHERE NOT ({any_value})")
    label_cols = [c for c in cols if contract.column(c).kind in ("enum", "slug", "text", "year")]
    while label_cols:
        last = con.execute(f"SELECT source_row, {', '.join(quote_ident(c) for c in label_cols)} FROM {table.name} "
                           "ORDER BY source_row DESC LIMIT 1").fetchall()
        if not last:
            return
        labels = {normalise_header(v).rstrip(":") for v in last[0][1:] if v}
        if not labels & TOTAL_WORDS:
            return
        con.execute(f"DELETE FROM {table.name} WHERE source_row = ?", [last[0][0]])

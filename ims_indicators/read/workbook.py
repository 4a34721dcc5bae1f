"""Check an XLSX workbook's size by streaming its XML, before any reader allocates the sheet.

calamine (like any dense reader) allocates the first sheet's whole used rectangle: one cell at ``ET4000000``
in a 4.8 KB file asks for 19 GB and aborts the process. So the first sheet's cells are walked here with
expat (constant memory, stopping at the first limit passed) and the file is refused with a message when
its used rectangle, its rows or its columns pass the limits. The ``<dimension>`` element is not trusted:
it may be absent or lie; cell positions are taken from each cell's ``r`` attribute, or counted where a
row or cell has none (as the spreadsheet applications do).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from ims_indicators import settings
from ims_indicators.errors import InputRefused
from ims_indicators.read.limits import check_column_count

CHUNK = 1 << 20
META_PART_BYTES = 16 << 20  # workbook.xml and its relationships: a few KB in any real workbook
SHARED_STRING_BYTES_PER_CELL = 100  # the shared strings are held whole by the reader: bounded like the cells
_REF = re.compile(r"([A-Za-z]+)([0-9]+)$")  # any length: 'A99999999' is a far row, not a cell without r
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')  # as Excel, LibreOffice and openpyxl write cells
_UNSURE = (b":c ", b":c>", b":c/", b"<c\t", b"<c\n", b"<c\r")  # prefixed tags, odd spacing: parse exactly


class _Unsure(Exception):
    """The fast scan cannot vouch for the range: parse the sheet exactly."""


@dataclass
class SheetSize:
    rows: int = 0  # last used row (1-based)
    columns: int = 0  # last used column (1-based)
    cells: int = 0  # cells present in the XML


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _limits(header_rows: int) -> tuple[int, int, int]:
    return settings.max_rows() + header_rows, settings.max_workbook_cells(), settings.max_columns()


def _check_size(name: str, size: SheetSize, header_rows: int) -> None:
    """Refuse as soon as the range seen so far passes the row or cell limit (each message says 'reaches': the
    sheet may go further, and is not read further)."""
    rows, limit, _ = _limits(header_rows)
    if size.rows > rows:
        raise InputRefused(name, f"the first sheet reaches row {size.rows:,}, the limit is {rows:,} rows "
                                 "(IMS_MAX_ROWS and a few title rows)")
    if size.rows * size.columns > limit:
        raise InputRefused(name, f"the first sheet's used range reaches {size.rows:,} rows x {size.columns:,} columns "
                                 f"({size.rows * size.columns:,} cells), the limit is {limit:,} "
                                 "(IMS_MAX_WORKBOOK_CELLS); expected the data in a compact range, or a CSV file")


def sheet_size(zf: zipfile.ZipFile, member: str, name: str, header_rows: int = 0) -> SheetSize:
    """The used range of one worksheet part, streamed; refuses (InputRefused) as soon as a limit is passed
    (a row wider than ``IMS_MAX_COLUMNS`` is counted to its end, so the refusal states its true width).

    Fast path: each cell's ``<c r="B7"`` found by a regular expression, chunk by chunk. Where any cell is written
    otherwise (no ``r`` or not first, a namespace prefix, odd spacing) or a tag is too long to hold, the sheet is
    parsed element by element instead.
    """
    size = SheetSize()
    carry = b""
    try:
        with zf.open(member) as fh:
            while chunk := fh.read(CHUNK):
                data = carry + chunk
                cut = data.rfind(b">") + 1
                data, carry = data[:cut], data[cut:]
                if len(carry) > CHUNK:
                    raise _Unsure
                refs = _CELL_REF.findall(data)
                if len(refs) != data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/") or any(
                        u in data for u in _UNSURE):
                    raise _Unsure
                if not refs:
                    continue
                size.cells += len(refs)
                letters, numbers = zip(*refs)
                last = max(set(letters), key=lambda c: (len(c), c))
                size.rows, size.columns = max(size.rows, max(map(int, numbers))), \
                    max(size.columns, _column_number(last.decode()))
                _check_size(name, size, header_rows)
                if size.columns > settings.max_columns():
                    raise _Unsure  # the exact parse counts the widest row to its end, for a true message
    except _Unsure:
        return _exact_size(zf, member, name, header_rows)
    check_column_count(name, size.columns)
    return size


def _exact_size(zf: zipfile.ZipFile, member: str, name: str, header_rows: int = 0) -> SheetSize:
    """The used range by an XML parse of every element (exact, slower): for sheets the fast scan is unsure of."""
    size = SheetSize()
    row, col = 0, 0
    wide = False
    max_rows, max_cells, max_columns = _limits(header_rows)
    parser = expat.ParserCreate()  # no namespace processing: tags as written, 'c' or 'x:c'

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row, col, wide
        if tag == "v" or tag == "f":
            return
        if tag == "row" or tag.endswith(":row"):
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() else row + 1
            col = 0
        elif tag == "c" or tag.endswith(":c"):
            m = _REF.match(attrs.get("r", ""))
            if m:
                col, row = _column_number(m.group(1).upper()), int(m.group(2))
            else:
                col += 1
            size.cells += 1
            if row > size.rows or col > size.columns:
                size.rows, size.columns = max(size.rows, row), max(size.columns, col)
                if size.rows > max_rows or size.rows * size.columns > max_cells:
                    _check_size(name, size, header_rows)
                wide = wide or size.columns > max_columns

    def end(tag: str) -> None:
        if wide and (tag == "row" or tag.endswith(":row")):
            check_column_count(name, size.columns)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        with zf.open(member) as fh:
            while chunk := fh.read(CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise InputRefused(name, f"the workbook's sheet XML is broken ({expat.ErrorString(exc.code)} at line "
                                 f"{exc.lineno}); expected an XLSX saved by a spreadsheet application") from None
    check_column_count(name, size.columns)
    return size


def _first_sheet(zf: zipfile.ZipFile, names: set[str]) -> list[str]:
    """The part of the workbook's first sheet (the one the reader opens); every worksheet part if unsure."""
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    try:
        if any(zf.getinfo(p).file_size > META_PART_BYTES for p in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return sheets
        first: list[str] = []
        targets: dict[str, str] = {}
        wb = expat.ParserCreate(namespace_separator="}")
        wb.StartElementHandler = lambda tag, a: first.append(
            next((v for k, v in a.items() if _local(k) == "id"), "")) if _local(tag) == "sheet" and not first else None
        wb.Parse(zf.read("xl/workbook.xml"), True)
        rels = expat.ParserCreate(namespace_separator="}")
        rels.StartElementHandler = lambda tag, a: targets.setdefault(a.get("Id", ""), a.get("Target", "")) \
            if _local(tag) == "Relationship" else None
        rels.Parse(zf.read("xl/_rels/workbook.xml.rels"), True)
        target = targets[first[0]]
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        return [part] if part in names else sheets
    except (KeyError, IndexError, expat.ExpatError):
        return sheets


def check_workbook(path: Path, header_rows: int = 0) -> None:
    """Refuse a workbook that is not an XLSX zip, inflates past ``IMS_MAX_FILE_BYTES`` (zip bombs), or whose first
    sheet's used range passes the row, column or cell limits; nothing is allocated by the sheet's size."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > settings.max_file_bytes():
                raise InputRefused(path.name, f"the workbook inflates to {total:,} bytes; at most "
                                              f"{settings.max_file_bytes():,} are accepted (IMS_MAX_FILE_BYTES)")
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise InputRefused(path.name, "the zip holds no Excel workbook (no xl/workbook.xml); expected an "
                                              "XLSX file")
            strings = next((i.file_size for i in infos if i.filename == "xl/sharedStrings.xml"), 0)
            cap = settings.max_workbook_cells() * SHARED_STRING_BYTES_PER_CELL
            if strings > cap:
                raise InputRefused(path.name, f"the workbook's shared strings inflate to {strings:,} bytes, the limit "
                                              f"is {cap:,} ({SHARED_STRING_BYTES_PER_CELL} per cell of "
                                              "IMS_MAX_WORKBOOK_CELLS)")
            for member in _first_sheet(zf, names):
                sheet_size(zf, member, path.name, header_rows)
    except zipfile.BadZipFile:
        raise InputRefused(path.name, "the workbook cannot be opened (not a valid XLSX zip)") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError, zlib.error) as exc:
        raise InputRefused(path.name, f"the workbook cannot be opened ({type(exc).__name__}: {exc}); expected a "
                                      "valid XLSX zip") from None

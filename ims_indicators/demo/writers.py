"""Write a school's rows the way that school writes its files (its "house style").

Four styles, as real submissions arrive:

1. ``cp1252_semicolon``: ``;``-separated, decimal commas, Windows-1252, dates ``31.12.2023``;
2. ``utf8_bom``: UTF-8 with a byte-order mark, comma-separated, ISO dates;
3. ``xlsx_title``: a workbook with a title row (and maybe an empty row) above the header, dates as
   Excel serial numbers, staffing/enrolment sheets perhaps ending in a totals row;
4. ``synonyms``: UTF-8 CSV whose headers are other spellings or synonyms from the contract, values
   written as the contract's value synonyms and years as ``2021-2022``.

Every writer returns the ``source_row`` of each data row: for CSV the physical 1-based line, for XLSX
the 1-based sheet row as Excel shows it. Output is byte-for-byte deterministic.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import cache

from ims_indicators.contracts import Column, contract, header_map, normalise_header
from ims_indicators.demo.network import School, Style

EXCEL_EPOCH = dt.date(1899, 12, 30)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

# German and Italian header spellings that the contract knows as synonyms.
GERMAN_HEADERS = {"school_id": "Hochschule", "academic_year": "Akademisches Jahr", "start_date": "Beginn",
                  "end_date": "Ende", "fte": "VZE", "graduates": "Absolventen"}
ITALIAN_HEADERS = {"academic_year": "Anno accademico"}
# Synonyms in another language: an English-writing school with a synonym habit does not use them.
FOREIGN_WORDS = {"hochschule", "akademisches jahr", "anno accademico", "annee academique", "absolventen", "beginn",
                 "ende", "vze", "etp", "ausgehend", "eingehend", "studierende", "personal"}
SPELLED = {"erasmus+": "Erasmus+", "erasmus": "Erasmus", "erasmus plus": "Erasmus Plus", "ta": "TA", "ma": "MA",
           "ba": "BA", "phd": "PhD", "ims network": "IMS network"}
GERMAN_VALUES = {"direction": {"outgoing": "ausgehend", "incoming": "eingehend"},
                 "participant_type": {"student": "Studierende", "staff": "Personal"}}


def excel_serial(d: dt.date) -> int:
    return (d - EXCEL_EPOCH).days


def encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def fold_to(text: str, encoding: str) -> str:
    """Text that ``encoding`` can hold: unchanged if it can, else with accents stripped."""
    if encodable(text, encoding):
        return text
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded.replace("„", '"').replace("”", '"')


def encoding_of(style: Style) -> str:
    return {"cp1252_semicolon": "cp1252", "utf8_bom": "utf-8-sig"}.get(style.key, "utf-8")


# --- per-school header and value choices (fixed: a house style does not change with the seed) ------

def _title(name: str) -> str:
    return " ".join(w.capitalize() for w in name.split("_"))


@cache
def headers_for(school_id: str, headers: str, dataset: str) -> tuple[str, ...]:
    """The header row a school writes for a dataset; each maps back to its column through the contract."""
    spec = contract(dataset)
    names = header_map(dataset)
    rng = random.Random(f"headers:{school_id}:{dataset}")
    out: list[str] = []
    for col in spec.columns:
        options = [col.name]
        if headers == "title":
            options = [_title(col.name)]
        elif headers == "german":
            options = [GERMAN_HEADERS.get(col.name, col.name)]
        elif headers == "italian":
            options = [ITALIAN_HEADERS.get(col.name, col.name)]
        elif headers == "synonyms":
            syn = [s for s in col.synonyms if names.get(normalise_header(s)) == col.name
                   and normalise_header(s) not in FOREIGN_WORDS]
            options = [_title(col.name), col.name.replace("_", " ").upper(), *(s.title() for s in syn), *syn]
            rng.shuffle(options)
        chosen = next((h for h in options if names.get(normalise_header(h)) == col.name
                       and normalise_header(h) not in {normalise_header(o) for o in out}), col.name)
        out.append(chosen)
    assert [names[normalise_header(h)] for h in out] == spec.names, (school_id, dataset, out)
    return tuple(out)


@cache
def value_labels(school_id: str, values: str, dataset: str) -> dict[str, dict[str, str]]:
    """column -> {allowed value: the label this school writes} (only where it differs)."""
    out: dict[str, dict[str, str]] = {}
    rng = random.Random(f"values:{school_id}:{dataset}")
    for col in contract(dataset).columns:
        if col.kind != "enum":
            continue
        labels: dict[str, str] = {}
        if values == "german":
            labels.update(GERMAN_VALUES.get(col.name, {}))
        elif values == "synonyms":
            for value in col.allowed:
                syn = sorted(k for k, v in col.value_synonyms.items()
                             if v == value and "_" not in k and k not in FOREIGN_WORDS)
                if syn and rng.random() < 0.75:
                    label = rng.choice(syn)
                    labels[value] = SPELLED.get(label, label.capitalize())
        for value, label in labels.items():
            assert _maps_back(col, label) == value, (col.name, label)
        if labels:
            out[col.name] = labels
    return out


def _maps_back(col: Column, label: str) -> str:
    key = normalise_header(label)
    return col.value_synonyms.get(key, col.value_synonyms.get(label.lower(), re.sub(r"[\s\-]+", "_", key)))


# --- rendering cells -----------------------------------------------------------------------------

def year_text(year: str, style: Style) -> str:
    first = int(year[:4])
    return {"slash": f"{first}/{str(first + 1)[-2:]}", "dash": f"{first}-{str(first + 1)[-2:]}",
            "dash4": f"{first}-{first + 1}", "slash4": f"{first}/{first + 1}"}[style.year_format]


def _number_text(value: float, decimal_comma: bool) -> str:
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if decimal_comma else text


@dataclass(frozen=True)
class Renderer:
    """Turns a contract value into what the school writes (text for CSV, a cell value for XLSX)."""

    school: School
    dataset: str

    @property
    def style(self) -> Style:
        return self.school.style

    def cell(self, col: Column, value: object) -> object:
        style = self.style
        xlsx = style.extension == "xlsx"
        if value is None or value == "":
            return None if xlsx else ""
        if col.kind == "year":
            return year_text(str(value), style)
        if col.kind == "date":
            d: dt.date = value  # type: ignore[assignment]
            if xlsx:
                return excel_serial(d)
            return d.strftime("%d.%m.%Y") if style.key == "cp1252_semicolon" else d.isoformat()
        if col.kind == "bool":
            return bool(value) if xlsx else ("true" if value else "false")
        if col.kind in ("int", "float"):
            if xlsx:
                return int(value) if float(value).is_integer() else float(value)
            return _number_text(float(value), style.key == "cp1252_semicolon")
        if col.kind == "enum":
            labels = value_labels(self.school.school_id, style.values, self.dataset).get(col.name, {})
            return labels.get(str(value), str(value))
        if col.kind == "country":
            code = str(value)
            if style.uk_el and col.name == "partner_country":
                code = {"GB": "UK", "GR": "EL"}.get(code, code)
            return code
        text = str(value)
        return fold_to(text, encoding_of(style)) if style.key == "cp1252_semicolon" else text


# --- files ---------------------------------------------------------------------------------------

def render_rows(school: School, dataset: str, rows: list[dict], drop: tuple[str, ...] = ()
                ) -> tuple[list[str], list[list[object]], list[str]]:
    """(header, cells per row, canonical column names) in the school's style."""
    spec = contract(dataset)
    r = Renderer(school, dataset)
    header = list(headers_for(school.school_id, school.style.headers, dataset))
    cols = [c for c in spec.columns if c.name not in drop]
    header = [h for h, c in zip(header, spec.columns) if c.name not in drop]
    body = [[r.cell(c, row.get(c.name)) for c in cols] for row in rows]
    return header, body, [c.name for c in cols]


def csv_bytes(style: Style, header: list[str], body: list[list[object]]) -> tuple[bytes, list[int]]:
    """The file's bytes and each data row's physical line number (header on line 1)."""
    delimiter = ";" if style.key == "cp1252_semicolon" else ","
    terminator = "\n" if style.key == "synonyms" else "\r\n"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in body:
        assert not any("\n" in str(v) or "\r" in str(v) for v in row), row  # one record = one line
        writer.writerow(row)
    text = buf.getvalue()
    data = text.encode(encoding_of(style))  # strict: a character the code page lacks is a bug here
    return data, list(range(2, len(body) + 2))


def xlsx_bytes(title: str, header: list[str], body: list[list[object]], *, blank_row: bool,
               totals: list[object] | None, sheet_name: str, stamp: dt.datetime) -> tuple[bytes, list[int]]:
    """A one-sheet workbook: title in A1, maybe an empty row, the header, the rows, maybe a totals row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook(write_only=True)
    wb.properties.creator = "IMS demo network"
    wb.properties.lastModifiedBy = "IMS demo network"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    ws = wb.create_sheet(sheet_name)
    bold = Font(bold=True)
    title_cell = WriteOnlyCell(ws, value=title)
    title_cell.font = Font(bold=True, size=13)
    ws.append([title_cell])
    if blank_row:
        ws.append([])
    header_cells = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        header_cells.append(c)
    ws.append(header_cells)
    header_row = 3 if blank_row else 2
    for row in body:
        ws.append(row)
    if totals is not None:
        cells = []
        for v in totals:
            c = WriteOnlyCell(ws, value=v)
            c.font = bold
            cells.append(c)
        ws.append(cells)
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # not save_workbook(): that stamps the current time as "modified"
    return _normalise_zip(raw.getvalue()), list(range(header_row + 1, header_row + 1 + len(body)))


def _normalise_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed entry timestamps and permissions, so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 0
            dst.writestr(entry, src.read(info.filename), compresslevel=6)
    return out.getvalue()

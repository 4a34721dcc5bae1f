"""Submission templates generated from the contracts (``ims template``): XLSX with validation, or CSV.

The XLSX's first sheet is the data sheet the reader reads: an optional title row, then the contract's
column names. Every categorical column gets a drop-down (allowed values, countries, yes/no, the school
and year when given), numbers and dates are validated as typed, and each header carries an input message
with the column's definition and unit. A ``README`` sheet lists the contract and the year's deadlines
(from ``catalogue/collection.yaml``); a hidden ``lists`` sheet holds the drop-down values.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ims_indicators.collection.calendar import year_entry
from ims_indicators.contracts import CONTRACTS, SLUG, Column, Contract, canonical_year, contract

FORMATS = ("xlsx", "csv")
MAX_ROWS = 10000  # rows covered by the validation ranges
UNITS = {"int": "count (whole number)", "float": "number (decimal point or comma)", "date": "date (YYYY-MM-DD)",
         "bool": "yes / no", "country": "ISO 3166-1 alpha-2 code", "year": "academic year (2023/24)",
         "slug": "lowercase id", "enum": "one of the listed values", "text": "free text",
         "pseudonym": "your own reference (pseudonymised on arrival, never stored as sent)"}


class TemplateError(ValueError):
    """A template cannot be written as asked (the message says why and what is expected)."""


def datasets() -> list[str]:
    """Every dataset with a contract (a new contract gets a template without any change here)."""
    return list(CONTRACTS)


def definition(col: Column) -> str:
    """One line a keyholder reads: required?, definition, unit, bounds, allowed values."""
    parts = ["required" if col.required else "optional"]
    if col.description:
        parts.append(col.description.rstrip("."))
    parts.append(UNITS[col.kind])
    if col.min_value is not None or col.max_value is not None:
        lo = "" if col.min_value is None else f">= {col.min_value:g}"
        hi = "" if col.max_value is None else f"<= {col.max_value:g}"
        parts.append(" and ".join(p for p in (lo, hi) if p))
    if col.allowed:
        parts.append("values: " + ", ".join(col.allowed))
    return "; ".join(parts) + "."


def _choices(col: Column, school_id: str | None, year: str | None) -> list[str] | None:
    """The drop-down values of a categorical column (None: not categorical)."""
    if col.kind == "enum":
        return list(col.allowed)
    if col.kind == "bool":
        return ["yes", "no"]
    if col.kind == "country":
        import pycountry

        return sorted(c.alpha_2 for c in pycountry.countries)
    if col.name == "school_id" and school_id:
        return [school_id]
    if col.name == "academic_year" and year:
        return [year]
    return None


def _check(dataset: str, school_id: str | None, year: str | None, fmt: str) -> tuple[Contract, str | None]:
    try:
        spec = contract(dataset)
    except KeyError as exc:
        raise TemplateError(str(exc.args[0])) from None
    if fmt not in FORMATS:
        raise TemplateError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if school_id is not None and not SLUG.fullmatch(school_id):
        raise TemplateError(f"--school {school_id!r}: expected a school id (lowercase letters, digits, '-' or '_')")
    canon = None
    if year is not None:
        canon = canonical_year(year)
        if canon is None:
            raise TemplateError(f"--year {year!r}: expected an academic year such as 2023/24")
    return spec, canon


def title(spec: Contract, school_id: str | None, year: str | None) -> str:
    text = f"IMS {spec.name} submission ({spec.grain})"
    if school_id:
        text += f" - school {school_id}"
    if year:
        text += f" - academic year {year}"
        entry = year_entry(year)
        if entry:
            text += f" - due {entry.submission_deadline.isoformat()}"
    return text


def readme_rows(spec: Contract, school_id: str | None, year: str | None) -> list[list[str]]:
    """The README sheet: what to fill in, the deadlines, then one row per column of the contract."""
    rows = [[title(spec, school_id, year)], [],
            ["Fill in the first sheet: one row per " + spec.grain + ". Keep the header row as it is."],
            [("Send the file back in the portal (or to your steward); school and year come from the upload if the "
              "school_id / academic_year cells are left empty (if filled they must match).")]]
    if spec.forms:
        rows.append(["Fill the columns of ONE form: " + " or ".join("(" + ", ".join(f) + ")" for f in spec.forms)])
    entry = year_entry(year) if year else None
    if entry:
        rows += [[], ["collection opens", entry.opens.isoformat()],
                 ["submission deadline", entry.submission_deadline.isoformat()],
                 ["sign-off deadline", entry.signoff_deadline.isoformat()],
                 ["required datasets", ", ".join(entry.required)]]
    rows += [[], ["column", "required", "type", "definition and unit", "allowed values", "other accepted headers"]]
    for col in spec.columns:
        rows.append([col.name, "yes" if col.required else "no", col.kind, definition(col), ", ".join(col.allowed),
                     ", ".join(col.synonyms)])
    rows += [[], ["key (unique per row)", ", ".join(spec.key)]]
    return rows


def xlsx_bytes(dataset: str, school_id: str | None = None, year: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    spec, year = _check(dataset, school_id, year, "xlsx")
    wb = Workbook()
    ws = wb.active
    ws.title = dataset[:31]
    ws.append([title(spec, school_id, year)])
    ws["A1"].font = Font(italic=True)
    ws.append(spec.names)
    header = 2
    for cell in ws[header]:
        cell.font = Font(bold=True)
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    list_col = 0
    for i, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(14, len(col.name) + 4)
        rng = f"{letter}{header + 1}:{letter}{header + MAX_ROWS}"
        kind = "required" if col.required else "optional"
        common = {"allow_blank": True, "showInputMessage": True, "showErrorMessage": True,
                  "promptTitle": col.name[:32], "prompt": definition(col)[:255],
                  "errorTitle": col.name[:32], "error": f"Expected {UNITS[col.kind]} ({kind})."[:255]}
        choices = _choices(col, school_id, year)
        if choices is not None:
            list_col += 1
            ll = get_column_letter(list_col)
            lists.cell(row=1, column=list_col, value=col.name)
            for r, value in enumerate(choices, start=2):
                lists.cell(row=r, column=list_col, value=value)
            dv = DataValidation(type="list", formula1=f"{quote_sheetname('lists')}!${ll}$2:${ll}${len(choices) + 1}",
                                **common)
        elif col.kind in ("int", "float"):
            op = {"operator": "between", "formula1": str(col.min_value if col.min_value is not None else -1e15),
                  "formula2": str(col.max_value if col.max_value is not None else 1e15)}
            dv = DataValidation(type="whole" if col.kind == "int" else "decimal", **op, **common)
        elif col.kind == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="1", **common)
            for r in range(header + 1, header + 201):
                ws.cell(row=r, column=i).number_format = "yyyy-mm-dd"
        else:
            dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="1000", **common)
        ws.add_data_validation(dv)
        dv.add(rng)
    readme = wb.create_sheet("README", 1)
    for row in readme_rows(spec, school_id, year):
        readme.append(row)
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["D"].width = 90
    wb.properties.creator = "ims template"
    wb.properties.title = f"{dataset} {school_id or ''} {year or ''}".strip()
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_text(dataset: str, school_id: str | None = None, year: str | None = None) -> str:
    """The header row of the contract (UTF-8, comma-separated); the definitions are in the XLSX's README."""
    _check(dataset, school_id, year, "csv")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(contract(dataset).names)
    return buf.getvalue()


def write_template(dataset: str, out: Path, school_id: str | None = None, year: str | None = None,
                   fmt: str = "xlsx") -> Path:
    """Write one blank template to ``out`` (a file, or a folder to put ``<dataset>_<school>_<year>.<fmt>`` in)."""
    _check(dataset, school_id, year, fmt)
    out = Path(out)
    if out.is_dir() or not out.suffix:
        canon = canonical_year(year) if year else None
        name = "_".join(p for p in (dataset, school_id, canon.replace("/", "-") if canon else None) if p)
        out = out / f"{name}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = xlsx_bytes(dataset, school_id, year) if fmt == "xlsx" else csv_text(dataset, school_id, year).encode()
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out

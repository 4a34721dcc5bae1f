"""Hostile and real-world files, written by the tests (issue 17): each function writes one and returns its path."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from openpyxl import Workbook

STAFFING = ["staff_category", "headcount", "fte", "foreign_nationality", "international_experience"]
ENROLMENT = ["school_id", "academic_year", "programme_level", "students_total", "students_international",
             "first_year_intake", "graduates", "ects_total", "ects_taught_in_english"]


def xlsx_bytes(rows: list[list], patch=None) -> bytes:
    """A workbook of ``rows``; ``patch(sheet_xml) -> sheet_xml`` edits the first sheet's XML as stored."""
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    if patch is None:
        return buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, patch(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def staffing_rows() -> list[list]:
    return [STAFFING, ["professor", 3, 1, 0, 0], ["lecturer", 4, 2, 1, 1]]


def sparse_xlsx(path: Path, far: str = "ET4000000") -> Path:
    """4.8 KB: one cell at a far address makes a dense reader allocate the whole rectangle (19 GB)."""
    row = "".join(ch for ch in far if ch.isdigit())
    path.write_bytes(xlsx_bytes(staffing_rows(), lambda x: x.replace(
        b"</sheetData>", f'<row r="{row}"><c r="{far}"><v>1</v></c></row></sheetData>'.encode())))
    return path


def lying_dimension_xlsx(path: Path) -> Path:
    """The <dimension> says A1:E3; a cell far away says otherwise."""
    def patch(x: bytes) -> bytes:
        import re

        x = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:E3"/>', x)
        return x.replace(b"</sheetData>", b'<row r="900000"><c r="CV900000"><v>1</v></c></row></sheetData>')

    path.write_bytes(xlsx_bytes(staffing_rows(), patch))
    return path


def refless_wide_xlsx(path: Path, n: int = 300) -> Path:
    """A row of ``n`` cells without ``r`` attributes (positions by count) and no <dimension>."""
    def patch(x: bytes) -> bytes:
        import re

        cells = b"".join(b"<c><v>1</v></c>" for _ in range(n))
        return re.sub(rb"<dimension[^>]*/>", b"", x).replace(b"</sheetData>", b"<row>" + cells + b"</row></sheetData>")

    path.write_bytes(xlsx_bytes(staffing_rows(), patch))
    return path


def inflating_xlsx(path: Path, xml_bytes: int = 500_000_000) -> Path:
    """About 1 MB of XLSX whose sheet XML inflates to ``xml_bytes``: the same row again and again (rows and cells
    without ``r`` attributes, as the format allows), written streaming so the test holds none of it."""
    template = xlsx_bytes(staffing_rows())
    row = b"<row>" + b'<c t="n"><v>1</v></c>' * 5 + b"</row>"
    block = row * 10_000
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED,
                                                                         compresslevel=9) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
                continue
            head, _, _ = src.read(info).partition(b"<sheetData>")
            with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                fh.write(head + b"<sheetData>")
                for _ in range(xml_bytes // len(block)):
                    fh.write(block)
                fh.write(b"</sheetData></worksheet>")
    return path


def wide_csv(path: Path, n: int = 200_000) -> Path:
    """A header of ``n`` columns (longer than the reader's sample), then one row."""
    header = STAFFING + [f"extra_{i}" for i in range(n - len(STAFFING))]
    path.write_text(",".join(header) + "\n" + ",".join(["professor", "3", "1", "0", "0"] + ["x"] * (n - 5)) + "\n")
    return path


def decimal_comma_in_comma_csv(path: Path, every_row: bool = False) -> Path:
    """The issue's enrolment file: comma-separated, written with decimal commas (…,228901,5,61557,5)."""
    second = "87628,5,35313,5" if every_row else "87628,35313"
    path.write_text(",".join(ENROLMENT) + "\n"
                    "charite-berlin,2023/24,bachelor,1401,62,458,369,228901,5,61557,5\n"
                    f"charite-berlin,2023/24,master,1618,169,813,668,{second}\n")
    return path


def thousands_csv(path: Path) -> Path:
    """Decimal commas with '.' grouping thousands: 4.209 = 4209, 21.253,5 = 21253.5."""
    path.write_text(";".join(ENROLMENT) + "\n"
                    "charite-berlin;2023/24;bachelor;4.209;62;1.458;369;21.253,5;1.557,5\n"
                    "charite-berlin;2023/24;master;1.618;169;813;668;87.628;35.313,5\n", encoding="utf-8")
    return path


def ambiguous_csv(path: Path) -> Path:
    """'|'-separated (no convention), every number with one separator and three digits: no reading is certain."""
    path.write_text("|".join(ENROLMENT) + "\n"
                    "charite-berlin|2023/24|bachelor|4.209|62|458|369|1.234|2.345\n", encoding="utf-8")
    return path


def double_encoded_csv(path: Path) -> Path:
    """A registry file in UTF-8 decoded as Windows-1252 and saved as UTF-8 again, its BOM included (so the first
    header cell reads 'ï»¿School ID')."""
    text = ("\ufeffSchool ID,Name,Country,City,Network role\n"
            "muni-wien,Medizinische Universität Wien,AT,Wien,member\n"
            "lmu-muenchen,Ludwig-Maximilians-Universität München,DE,München,member\n"
            "wallerer,Klinik Wallererstraße,DE,Kaufbeuren,member\n")
    path.write_bytes(text.encode("utf-8").decode("cp1252").encode("utf-8"))
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def symlink(path: Path, target: Path) -> Path:
    path.symlink_to(target)
    return path

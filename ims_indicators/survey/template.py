"""Blank survey templates a school fills in: XLSX (data sheet + guide sheet) or CSV (comment lines + header).

A template is laid out as a raw submission, ``<out>/student_survey/<school_id>/<yyyy-yy>/<file>``, so the
filled file can go straight to ``ims ingest`` (dataset, school and year come from its folder; the
``school_id`` and ``academic_year`` cells may then stay empty). The headers are the contract's column names;
the items, the scale and both forms are explained in the guide (second sheet, or ``#`` lines above the CSV
header, which the reader skips).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from ims_indicators.contracts import SURVEY_ITEMS, SURVEY_SCALE, canonical_year, contract, year_slug
from ims_indicators.survey import SCALE_LABELS

DATASET = "student_survey"
FORMS = {
    "respondents": ("school_id", "academic_year", "item", "respondent_ref", "score", "comment", "year_of_study",
                    "students_invited"),
    "aggregated": ("school_id", "academic_year", "item", "responses", "mean", "sd", "students_invited"),
}
FORMATS = ("xlsx", "csv")


class TemplateError(ValueError):
    """A template cannot be written as asked (the message says why and what is expected)."""


def current_year(today: dt.date | None = None) -> str:
    """The academic year running on ``today`` (from 1 September): 2024-03-01 -> '2023/24'."""
    today = today or dt.date.today()
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}/{str(first + 1)[-2:]}"


def guide_lines(school_id: str | None, year: str, form: str) -> list[str]:
    """The explanation every template carries (8 lines: a CSV's header must stay within the reader's first 12)."""
    lo, hi = SURVEY_SCALE
    other = "aggregated" if form == "respondents" else "respondents"
    return [
        f"IMS student experience survey - school {school_id or '<school_id>'} - academic year {year} - "
        f"form {form!r}: one row per " + ("respondent and item" if form == "respondents" else "item") + ".",
        "Columns: " + ", ".join(FORMS[form]) + ". school_id and academic_year may stay empty when the file is "
        "sent back in its folder student_survey/<school_id>/<yyyy-yy>/ (if filled they must match it).",
        f"Scale {lo}..{hi} (lower is better): " + ", ".join(f"{k} = {v}" for k, v in SCALE_LABELS.items())
        + ". Leave score empty for 'cannot judge'.",
        "Items (write the id; the label is accepted too): "
        + ", ".join(f"{key} ({label})" for key, label in SURVEY_ITEMS.items()) + ".",
        ("Form 'respondents': respondent_ref (the school's id of the respondent: pseudonymised on arrival and never "
        "stored as sent), score (a whole number), comment (optional free text, seen only by your school, names "
        "masked), year_of_study (1 = first year: not counted; an answer without it is not counted either); one answer per respondent and item."),
        ("Form 'aggregated': responses (answers of students in year 2 or later, at least 1), mean (1..6), sd "
        f"(sample standard deviation with n - 1); one row per item. The {other!r} form: ims survey-template --form "
        f"{other}. Both forms: students_invited = students invited to the survey, on every row."),
        ("No CHE group for an item with fewer than 15 answers, or fewer than 50 answers at a response rate below "
        "10 %, or a 95 % interval wider than +-0.5."),
        f"Dataset {DATASET}: {contract(DATASET).grain}.",
    ]


def template_path(out: Path, school_id: str | None, year: str, fmt: str, form: str) -> Path:
    school = school_id or "any-school"
    suffix = "" if form == "respondents" else "_aggregated"
    folder = Path(out) / DATASET / school / year_slug(year)
    return folder / f"{DATASET}_{school}_{year_slug(year)}{suffix}.{fmt}"


def _check(school_id: str | None, year: str | None, fmt: str, form: str) -> str:
    if fmt not in FORMATS:
        raise TemplateError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if form not in FORMS:
        raise TemplateError(f"--form {form!r}: expected one of {', '.join(FORMS)}")
    canon = canonical_year(year) if year else current_year()
    if canon is None:
        raise TemplateError(f"--year {year!r}: expected an academic year such as 2023/24")
    from ims_indicators.contracts import SLUG

    if school_id is not None and not SLUG.fullmatch(school_id):
        raise TemplateError(f"--school {school_id!r}: expected a school id (lowercase letters, digits, '-' or '_')")
    return canon


def csv_text(school_id: str | None, year: str, form: str) -> str:
    """``#`` guide lines, then the header (UTF-8, comma-separated). The reader finds the header below them."""
    buf = io.StringIO()
    for line in guide_lines(school_id, year, form):
        # no ',' or ';' in a guide line: it must never look like a header or sway the delimiter guess
        buf.write("# " + line.replace(", ", " · ").replace(",", " ").replace(";", " ·") + "\n")
    csv.writer(buf, lineterminator="\n").writerow(FORMS[form])
    return buf.getvalue()


def xlsx_bytes(school_id: str | None, year: str, form: str) -> bytes:
    """Sheet 1: the header (bold, frozen; score/item/mean checked as typed). Sheet 2 'guide': items and scale."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    lo, hi = SURVEY_SCALE
    wb = Workbook()
    ws = wb.active
    ws.title = "survey" if form == "respondents" else "aggregated"
    ws.append(list(FORMS[form]))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 26 if cell.value in ("item", "comment") else 16
    ws.freeze_panes = "A2"
    col = {name: ws.cell(row=1, column=i + 1).column_letter for i, name in enumerate(FORMS[form])}
    items = DataValidation(type="list", formula1=f"=guide!$A$2:$A${1 + len(SURVEY_ITEMS)}", allow_blank=True,
                           showErrorMessage=True, errorTitle="item", error="Choose an item id from the guide sheet.")
    ws.add_data_validation(items)
    items.add(f"{col['item']}2:{col['item']}100000")
    if form == "respondents":
        score = DataValidation(type="whole", operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True,
                               showErrorMessage=True, errorTitle="score", error=f"A whole number {lo} to {hi}.")
        ws.add_data_validation(score)
        score.add(f"{col['score']}2:{col['score']}100000")
        ws[f"{col['score']}1"].comment = Comment(
            f"{lo} = {SCALE_LABELS[lo]} … {hi} = {SCALE_LABELS[hi]} (lower is better); empty = cannot judge", "IMS")
    else:
        mean = DataValidation(type="decimal", operator="between", formula1=str(lo), formula2=str(hi),
                              allow_blank=True, showErrorMessage=True, errorTitle="mean",
                              error=f"A mean between {lo} and {hi}.")
        ws.add_data_validation(mean)
        mean.add(f"{col['mean']}2:{col['mean']}100000")
    guide = wb.create_sheet("guide")
    guide.append(["item", "label"])
    for key, label in SURVEY_ITEMS.items():
        guide.append([key, label])
    guide.append([])
    guide.append(["score", "meaning"])
    for k, v in SCALE_LABELS.items():
        guide.append([k, v])
    guide.append([])
    for line in guide_lines(school_id, year, form):
        guide.append([line])
    for row in (1, len(SURVEY_ITEMS) + 3):
        for cell in guide[row]:
            cell.font = Font(bold=True)
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["B"].width = 48
    wb.properties.creator = "ims survey-template"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(out: Path, school_id: str | None = None, year: str | None = None, fmt: str = "xlsx",
                   form: str = "respondents") -> Path:
    """Write one blank template; returns its path (``TemplateError`` for a bad format, form, year or id)."""
    canon = _check(school_id, year, fmt, form)
    path = template_path(out, school_id, canon, fmt, form)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = xlsx_bytes(school_id, canon, form) if fmt == "xlsx" else csv_text(school_id, canon, form).encode("utf-8")
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def write_templates(out: Path, schools: list[str | None], year: str | None = None, fmt: str = "xlsx",
                    form: str = "respondents") -> list[Path]:
    """One template per school (``None``: a generic one without a school)."""
    return [write_template(out, s, year, fmt, form) for s in schools]

"""Demo self-assessment (every school and year) and panel ratings (a few referred-looking schools, last year).

Written in each school's house style (as every demo file); the same ``random.Random`` seed gives byte-identical files.
Answers follow each school's "maturity" (a level that grows a little every year), so the Autonomy and
accountability dimension differs between schools and improves over time. All figures are synthetic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

from ims_indicators.contracts import PANEL_RATINGS, PANEL_STANDARDS, SELF_ASSESSMENT_ITEMS, year_slug

ANSWER_TYPES = {  # as in catalogue/self_assessment.yaml (tests/score/test_self_assessment.py checks it)
    "sa_org_international_structure": "yes_no", "sa_fin_internationalisation_budget": "share",
    "sa_staff_recruitment": "yes_no", "sa_staff_international_promotion": "scale_1_4",
    "sa_acad_international_intake": "yes_no", "sa_acad_recognition": "yes_no",
    "sa_acad_english_teaching": "scale_1_4", "sa_acc_strategy_targets": "scale_1_4",
    "sa_acc_public_report": "yes_no", "sa_acc_quality_cycle": "scale_1_4", "sa_comments": "text",
}
PANEL_SCHOOLS = 3  # schools rated by a panel in the last demo year


def _render(school, dataset: str, rows: list[dict], year: str) -> bytes:
    """The rows in the school's house style (encoding, delimiter, header synonyms, workbook or CSV)."""
    import ims_indicators.demo.network as net
    from ims_indicators.demo.writers import csv_bytes, render_rows, xlsx_bytes

    header, body, _ = render_rows(school, dataset, rows)
    style = school.style
    if style.extension == "csv":
        return csv_bytes(style, header, body)[0]
    title = dataset.replace("_", " ").capitalize()
    return xlsx_bytes(f"{title} {year} – {school.short}", header, body, blank_row=style.title_blank_row,
                      totals=None, sheet_name=title[:31], stamp=dt.datetime(net.year_start(year) + 1, 6, 30, 9, 30))[0]


def _answer(kind: str, maturity: float, rng: random.Random) -> str:
    level = min(max(maturity + rng.gauss(0, 0.15), 0.0), 1.0)
    if kind == "yes_no":
        return "yes" if rng.random() < 0.15 + 0.8 * level else "no"
    if kind == "share":
        return f"{0.06 * level:.3f}"
    if kind == "scale_1_4":
        return str(1 + min(3, int(level * 4)))
    return "See the evidence links; the faculty board reviews this self-assessment every year."


def _file(out: Path, school, dataset: str, year: str, rows: list[dict]) -> dict:
    """Write one file in the raw layout; its manifest entry."""
    data = _render(school, dataset, rows, year)
    name = school.style.file_name.format(dataset=dataset, Dataset=dataset.capitalize(), year=year_slug(year),
                                         school=school.school_id)
    rel = f"{dataset}/{school.school_id}/{year_slug(year)}/{name}.{school.style.extension}"
    _write(out / rel, data)
    return {"path": rel, "dataset": dataset, "school_id": school.school_id, "academic_year": year,
            "style": school.style.key, "rows": len(rows), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def write_demo_assessments(out: Path, schools, years, rng: random.Random) -> list[dict]:
    """Write ``self_assessment`` files for every school and year and ``panel_assessment`` files for
    ``PANEL_SCHOOLS`` schools in the last year; returns one manifest entry per file."""
    out = Path(out)
    files = []
    maturity = {s.school_id: rng.uniform(0.35, 0.85) for s in schools}
    for k, year in enumerate(years):
        for school in schools:
            m = min(1.0, maturity[school.school_id] + 0.03 * k)
            rows = [{"school_id": school.school_id, "academic_year": year, "item_id": item,
                     "answer": _answer(ANSWER_TYPES[item], m, rng),
                     "evidence": f"https://example.org/{school.school_id}/{year_slug(year)}/{item}"}
                    for item in SELF_ASSESSMENT_ITEMS]
            files.append(_file(out, school, "self_assessment", year, rows))
    last = years[-1]
    visit = dt.date(int(last[:4]) + 1, 3, 12)
    for school in rng.sample(list(schools), min(PANEL_SCHOOLS, len(schools))):
        m = maturity[school.school_id]
        rows = []
        for std in PANEL_STANDARDS:
            level = min(max(m + rng.gauss(0.1, 0.2), 0.0), 0.999)
            rating = PANEL_RATINGS[int(level * len(PANEL_RATINGS))]
            rows.append({"school_id": school.school_id, "academic_year": last, "standard": std, "rating": rating,
                         "panel_size": 4, "date": visit,
                         "rationale": f"Site visit {visit.isoformat()}: {std.replace('_', ' ')} judged {rating} "
                                      "on the self-evaluation report and interviews."})
        files.append(_file(out, school, "panel_assessment", last, rows))
    return files


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)

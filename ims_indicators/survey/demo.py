"""The demo network's student-survey submissions (synthetic), in each school's house style.

Most schools take part in the survey of the last ``SURVEY_YEARS`` academic years; about half of them send one
row per respondent and item (respondent_ref, score, sometimes a comment), the others one row per item with
their own aggregates (responses, mean, sd). The two items on stays abroad are answered only by students who
went abroad, so several schools stay below the 15 responses CHE needs for a group there, and one school of
each form is small enough to stay below 15 on every item. No errors are planted: every row is valid.
All demo figures are synthetic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import statistics
from pathlib import Path

from ims_indicators.contracts import SURVEY_ITEMS, SURVEY_SCALE, year_slug
from ims_indicators.survey.template import DATASET, FORMS

SURVEY_YEARS = 2  # the survey runs in the last two academic years of the demo
SHARES = {"respondents": 0.45, "aggregated": 0.35}  # of the schools; the rest do not take part
ITEM_BASE = {  # typical mean judgement per item (1 = very good … 6 = very poor)
    "overall_study_situation": 2.2, "teaching": 2.4, "clinical_training": 2.6, "support_going_abroad": 2.5,
    "credit_recognition": 2.9, "international_orientation": 2.7, "exam_organisation": 2.8,
}
ABROAD_ITEMS = ("support_going_abroad", "credit_recognition")  # answered only by students who went abroad
ABROAD_SHARE = 0.3
CANNOT_JUDGE = 0.04  # a respondent row with an empty score
COMMENT_SHARE = 0.15  # respondents who leave a comment (on the overall item)
FIRST_YEAR_SHARE = 0.15  # respondents in their first year of study: their answers do not count
RESPONSE_RATE = (0.12, 0.45)  # respondents / students invited
COMMENTS = (
    "Bedside teaching in the surgical rotation was excellent.",
    "Too many lectures read from slides; more small-group teaching please.",
    "Exam dates were announced very late.",
    "The international office helped me a lot with my Erasmus application.",
    "Credits from my semester abroad were only partly recognised.",
    "Great tutors, but the skills lab is overcrowded.",
    "More English-taught electives would help incoming students.",
    "Clinical placements are well organised.",
    "Feedback after exams is rare.",
    "I would choose this school again.",
)


def _school_list(schools) -> list:
    """School objects of the demo network (ids are looked up there)."""
    import ims_indicators.demo.network as net

    by_id = {s.school_id: s for s in net.SCHOOLS}
    return [by_id[s] if isinstance(s, str) else s for s in schools]


def _clamp_score(x: float) -> int:
    lo, hi = SURVEY_SCALE
    return int(min(hi, max(lo, math.floor(x + 0.5))))


def simulate(school, year: str, n_respondents: int, effects: dict[str, float], rng: random.Random) -> list[dict]:
    """Respondent-level rows (one per respondent and item answered) of one school and year."""
    rows, seen = [], set()
    prefix = "".join(w[0] for w in school.school_id.split("-")).upper()
    for _ in range(n_respondents):
        ref = f"{prefix}{year[2:4]}-{rng.randrange(10**6):06d}"
        while ref in seen:
            ref = f"{prefix}{year[2:4]}-{rng.randrange(10**6):06d}"
        seen.add(ref)
        person = rng.gauss(0, 0.45)  # a respondent's general leniency
        abroad = rng.random() < ABROAD_SHARE
        comment = rng.choice(COMMENTS) if rng.random() < COMMENT_SHARE else None
        year_of_study = 1 if rng.random() < FIRST_YEAR_SHARE else rng.randint(2, 6)
        for item in SURVEY_ITEMS:
            if item in ABROAD_ITEMS and not abroad:
                continue
            score = None if rng.random() < CANNOT_JUDGE else _clamp_score(
                ITEM_BASE[item] + effects[item] + person + rng.gauss(0, 0.75))
            rows.append({"school_id": school.school_id, "academic_year": year, "item": item, "respondent_ref": ref,
                         "score": score, "comment": comment if item == "overall_study_situation" else None,
                         "year_of_study": year_of_study})
    return rows


def aggregate(rows: list[dict]) -> list[dict]:
    """The school's own aggregates of the eligible respondent rows (year 2 or later): responses, mean and sd
    (n - 1) per item, rounded."""
    out = []
    for item in SURVEY_ITEMS:
        scores = [r["score"] for r in rows if r["item"] == item and r["score"] is not None
                  and (r.get("year_of_study") or 0) >= 2]
        if not scores:
            continue
        out.append({"school_id": rows[0]["school_id"], "academic_year": rows[0]["academic_year"], "item": item,
                    "responses": len(scores), "mean": round(statistics.fmean(scores), 2),
                    "sd": round(statistics.stdev(scores), 2) if len(scores) > 1 else None})
    return out


def _render(school, rows: list[dict], form: str, year: str) -> bytes:
    import ims_indicators.demo.network as net
    from ims_indicators.contracts import contract
    from ims_indicators.demo.writers import csv_bytes, render_rows, xlsx_bytes

    drop = tuple(c for c in contract(DATASET).names if c not in FORMS[form])
    header, body, _ = render_rows(school, DATASET, rows, drop)
    style = school.style
    if style.extension == "csv":
        return csv_bytes(style, header, body)[0]
    y = net.year_start(year)
    return xlsx_bytes(f"Student survey {year} – {school.short}", header, body, blank_row=style.title_blank_row,
                      totals=None, sheet_name="Student survey", stamp=dt.datetime(y + 1, 7, 15, 9, 30))[0]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def write_demo_survey(out: Path, schools, years, rng: random.Random) -> list[dict]:
    """Write the survey files under ``out/student_survey/<school>/<yyyy-yy>/``; one manifest entry per file.

    ``schools``: the demo network's School objects (or their ids); ``years``: academic years (the last
    ``SURVEY_YEARS`` are surveyed); ``rng``: a ``random.Random`` — the same seed gives byte-identical files.
    Entries: path, dataset, school_id, academic_year, style, rows, bytes, sha256, form.
    """
    out = Path(out)
    school_objs = _school_list(schools)
    surveyed = list(years)[-SURVEY_YEARS:]
    order = list(range(len(school_objs)))
    rng.shuffle(order)
    n_resp = round(SHARES["respondents"] * len(order))
    n_agg = round(SHARES["aggregated"] * len(order))
    forms = {i: "respondents" for i in order[:n_resp]} | {i: "aggregated" for i in order[n_resp:n_resp + n_agg]}
    small = {order[0], order[n_resp]} if n_resp and n_agg else {order[0]}  # below 15 responses on every item
    files: list[dict] = []
    for i, school in enumerate(school_objs):
        form = forms.get(i)
        if form is None:
            continue
        quality = rng.gauss(0, 0.3)
        effects = {item: quality + rng.gauss(0, 0.2) for item in SURVEY_ITEMS}
        base = rng.randint(10, 14) if i in small else int(min(150, max(25, school.students * rng.uniform(0.006, 0.02))))
        for year in surveyed:
            n = base if i in small else max(20, round(base * rng.uniform(0.85, 1.15)))
            rows = simulate(school, year, n, effects, rng)
            invited = max(n, round(n / rng.uniform(*RESPONSE_RATE)))
            if form == "aggregated":
                rows = aggregate(rows)
            rows = [{**r, "students_invited": invited} for r in rows]
            data = _render(school, rows, form, year)
            name = school.style.file_name.format(dataset=DATASET, Dataset="Student_survey", year=year_slug(year),
                                                 school=school.school_id)
            rel = f"{DATASET}/{school.school_id}/{year_slug(year)}/{name}.{school.style.extension}"
            _write(out / rel, data)
            files.append({"path": rel, "dataset": DATASET, "school_id": school.school_id, "academic_year": year,
                          "style": school.style.key, "rows": len(rows), "bytes": len(data),
                          "sha256": hashlib.sha256(data).hexdigest(), "form": form})
    return files

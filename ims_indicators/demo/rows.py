"""Clean, consistent rows of each dataset for one school and year (contract column names, Python values).

The figures follow the magnitudes in :mod:`ims_indicators.demo.network` with seeded noise, and keep the
cross-dataset rules: outgoing students ≤ enrolled students, staff mobilities ≤ staff headcount,
fte and every staff count ≤ headcount, international students ≤ students, ECTS in English ≤ ECTS,
valid_until ≥ decision_date, open conditions only with a conditional decision.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

import ims_indicators.demo.network as net
from ims_indicators.demo.network import School
from ims_indicators.demo.writers import encodable, fold_to


@dataclass(eq=False)
class Row:
    """One data row; ``error`` is set when a planted error lives in it (identity, not equality, matters)."""

    values: dict
    error: dict | None = None  # {"column", "kind", "description"}
    protected: bool = False  # the clean first copy of a planted duplicate: left alone

    @property
    def clean(self) -> bool:
        return self.error is None and not self.protected


@dataclass
class FileSpec:
    dataset: str
    school: School
    year: str
    rows: list[Row]
    path: str = ""  # relative to OUT, set by the generator
    refused_reason: str | None = None
    drop: tuple[str, ...] = ()  # columns the file lacks (the malformed file)
    meta: dict = field(default_factory=dict)


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _wchoice(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


# --- school-level parameters that stay fixed across years (seeded) ----------------------------------

@dataclass(frozen=True)
class Profile:
    growth: float
    category_jitter: dict[str, float]
    mobility_jitter: dict[str, float]


def profile(school: School, seed: int) -> Profile:
    rng = random.Random(f"{seed}:{school.school_id}:profile")
    growth = rng.uniform(-0.005, 0.022)
    cats = {c: rng.uniform(0.8, 1.25) for c in STAFF_CATEGORIES}
    mob = {y: rng.uniform(0.85, 1.15) if y != "2019/20" else 1.0 for y in net.YEARS}
    return Profile(growth, cats, mob)


# --- enrolment ----------------------------------------------------------------------------------

DURATION = {"long_cycle": 6, "bachelor": 3, "master": 2, "doctoral": 4}
INTL_FACTOR = {"long_cycle": 1.0, "bachelor": 0.7, "master": 1.6, "doctoral": 1.7}
COMPLETION = {"long_cycle": 0.9, "bachelor": 0.8, "master": 0.86, "doctoral": 0.7}
ECTS_PER_STUDENT = {"long_cycle": 58, "bachelor": 57, "master": 56, "doctoral": 12}
ENGLISH_FACTOR = {"long_cycle": 1.0, "bachelor": 0.6, "master": 2.5, "doctoral": 3.0}


def _half(x: float) -> float:
    return round(x * 2) / 2


def enrolment(school: School, year: str, seed: int, prof: Profile) -> list[dict]:
    rng = random.Random(f"{seed}:{school.school_id}:enrolment:{year}")
    k = net.YEARS.index(year)
    out = []
    for level, n0 in school.levels.items():
        total = round(n0 * (1 + prof.growth) ** k * rng.uniform(0.985, 1.02))
        intl = min(round(total * school.intl_students * INTL_FACTOR[level] * rng.uniform(0.9, 1.1)), int(total * 0.9))
        per_year = total / DURATION[level]
        intake = min(total, round(per_year * rng.uniform(0.98, 1.12)))
        graduates = min(total, round(per_year * COMPLETION[level] * rng.uniform(0.92, 1.05)))
        ects_total = _half(total * ECTS_PER_STUDENT[level] * rng.uniform(0.95, 1.02))
        share = min(1.0, school.ects_english * ENGLISH_FACTOR[level] * rng.uniform(0.9, 1.1))
        ects_en = min(ects_total, _half(ects_total * share))
        out.append({"school_id": school.school_id, "academic_year": year, "programme_level": level,
                    "students_total": total, "students_international": intl, "first_year_intake": intake,
                    "graduates": graduates, "ects_total": ects_total, "ects_taught_in_english": ects_en})
    return out


# --- staffing -----------------------------------------------------------------------------------

# category: (share of academic staff, fte per head, foreign factor, experience factor, English factor)
STAFF_CATEGORIES: dict[str, tuple[float, float, float, float, float]] = {
    "professor": (0.07, 0.95, 0.8, 1.6, 1.2),
    "associate_professor": (0.09, 0.92, 0.9, 1.3, 1.2),
    "lecturer": (0.14, 0.85, 0.9, 0.9, 1.1),
    "researcher": (0.30, 0.82, 1.5, 1.0, 0.6),
    "clinical_teacher": (0.30, 0.45, 0.6, 0.5, 0.9),
    "teaching_assistant": (0.10, 0.55, 1.1, 0.5, 1.0),
}


def staffing(school: School, year: str, seed: int, prof: Profile, students: int) -> list[dict]:
    rng = random.Random(f"{seed}:{school.school_id}:staffing:{year}")
    k = net.YEARS.index(year)
    total = students * school.staff_ratio
    out = []
    for cat, (share, fte_r, foreign_f, exp_f, en_f) in STAFF_CATEGORIES.items():
        hc = max(4, round(total * share * prof.category_jitter[cat] * rng.uniform(0.97, 1.03)))
        fte = min(float(hc), round(hc * fte_r * rng.uniform(0.95, 1.04), 1))
        foreign = min(hc, math.floor(hc * min(0.9, school.foreign_staff * foreign_f) * rng.uniform(0.85, 1.15)))
        exp = min(hc, math.floor(hc * min(0.95, school.intl_experience * exp_f) * rng.uniform(0.9, 1.1)))
        trained = min(hc, math.floor(hc * min(0.9, school.training * (1 + 0.3 * k)) * rng.uniform(0.85, 1.15)))
        english = min(hc, math.floor(hc * min(1.0, school.english_teaching * en_f) * rng.uniform(0.92, 1.03)))
        out.append({"school_id": school.school_id, "academic_year": year, "staff_category": cat,
                    "headcount": hc, "fte": fte, "foreign_nationality": foreign, "international_experience": exp,
                    "intl_training_completed": trained, "teaching_in_english": english})
    return out


# --- mobility -----------------------------------------------------------------------------------

PROGRAMMES = {
    ("outgoing", "student"): {"erasmus_plus": 68, "bilateral": 10, "network": 7, "free_mover": 12, "other": 3},
    ("incoming", "student"): {"erasmus_plus": 75, "bilateral": 10, "network": 6, "free_mover": 7, "other": 2},
    ("outgoing", "staff"): {"erasmus_plus": 70, "bilateral": 12, "network": 12, "other": 6},
    ("incoming", "staff"): {"erasmus_plus": 70, "bilateral": 12, "network": 12, "other": 6},
}
STUDENT_ACTIVITIES = {"study": 55, "clinical_placement": 30, "traineeship": 8, "research": 7}
FREE_MOVER_ACTIVITIES = {"clinical_placement": 70, "research": 20, "traineeship": 10}
STAFF_ACTIVITIES = {"teaching": 50, "training": 35, "research": 15}
REF_FORMATS = ("{p}-{y}-{i:04d}", "{p}{yy}{i:05d}", "MOB-{p}-{y}-{i:05d}", "{y}/{i:04d}")


def _institution(school: School, native: str, english: str, rng: random.Random) -> str:
    english = english or native
    if school.style.key == net.CP1252:
        return native if encodable(native, "cp1252") else english
    return english if english != native and rng.random() < 0.3 else native


def _partner(school: School, year: str, programme: str, rng: random.Random) -> tuple[str, str]:
    """(partner country, partner institution) for one mobility."""
    if programme == "network":
        others = [s for s in net.SCHOOLS if s.school_id != school.school_id]
        weights = {s.school_id: (3.0 if s.network_role == "partner" else 1.0) for s in others}
        other = net.SCHOOL_BY_ID[_wchoice(rng, weights)]
        name = other.name if school.style.key != net.CP1252 else fold_to(other.name, "cp1252")
        return other.country_code, name
    if school.school_id == "monash":
        weights = dict(net.MONASH_PARTNERS)
    elif programme == "erasmus_plus" or (programme == "other" and not school.erasmus):
        weights = dict(net.ERASMUS_COUNTRIES)
        if programme == "erasmus_plus" and year <= net.UK_ERASMUS_UNTIL:
            weights["GB"] = 6
    else:
        weights = dict(net.OVERSEAS)
    weights.pop(school.country_code, None)
    country = _wchoice(rng, weights)
    choices = list(net.INSTITUTIONS[country])
    network_there = [s for s in net.SCHOOLS if s.country_code == country and s.school_id != school.school_id]
    if network_there and rng.random() < 0.3:
        s = rng.choice(network_there)
        return country, s.name if school.style.key != net.CP1252 else fold_to(s.name, "cp1252")
    native, english = rng.choice(choices)
    return country, _institution(school, native, english, rng)


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _student_dates(activity: str, year: str, rng: random.Random) -> tuple[dt.date, dt.date, float | None]:
    """(start, end, ECTS a student of this activity typically earns)."""
    ys, ye = net.year_bounds(year)
    y = ys.year
    if activity == "study":
        kind = rng.choices(("winter", "summer", "full"), weights=(45, 40, 15))[0]
        if kind == "winter":
            start = (_day(rng, dt.date(y, 8, 16), dt.date(y, 8, 31)) if rng.random() < 0.05
                     else _day(rng, dt.date(y, 9, 1), dt.date(y, 10, 1)))  # a few start with a language course
            end = _day(rng, dt.date(y + 1, 1, 31), dt.date(y + 1, 2, 28))
            ects = rng.choice((30.0,) * 8 + (27.0, 28.5, 31.5, 24.0))
        elif kind == "summer":
            start = _day(rng, dt.date(y + 1, 2, 1), dt.date(y + 1, 3, 1))
            end = _day(rng, dt.date(y + 1, 6, 30), dt.date(y + 1, 7, 31))
            ects = rng.choice((30.0,) * 8 + (27.0, 28.5, 31.5, 24.0))
        else:
            start = _day(rng, dt.date(y, 9, 1), dt.date(y, 9, 30))
            end = _day(rng, dt.date(y + 1, 6, 30), dt.date(y + 1, 7, 31))
            ects = rng.choice((60.0,) * 6 + (57.0, 63.0))
        return start, end, ects
    weeks = {"clinical_placement": (4, 4, 6, 8, 8, 12), "traineeship": (8, 10, 12, 16),
             "research": (6, 8, 12, 16, 20)}[activity]
    w = rng.choice(weeks)
    start = _day(rng, ys, ye - dt.timedelta(days=7 * w))
    end = start + dt.timedelta(days=7 * w - 3)
    if activity == "clinical_placement":
        ects: float | None = 1.5 * w
    elif activity == "traineeship":
        ects = rng.choice((15.0, 20.0, None))
    else:
        ects = rng.choice((10.0, 15.0, 20.0, 30.0, None))
    return start, end, ects


def _staff_dates(activity: str, year: str, rng: random.Random) -> tuple[dt.date, dt.date]:
    ys, ye = net.year_bounds(year)
    days = {"teaching": (2, 6), "training": (3, 8), "research": (7, 30)}[activity]
    d = rng.randint(*days)
    start = _day(rng, ys, ye - dt.timedelta(days=d))
    return start, start + dt.timedelta(days=d - 1)


def _level(school: School, activity: str, rng: random.Random) -> str:
    levels = dict(school.levels)
    if activity == "research" and "doctoral" in levels and rng.random() < 0.6:
        return "doctoral"
    levels.pop("doctoral", None)
    return _wchoice(rng, {k: float(v) for k, v in levels.items()})


def mobility(school: School, year: str, seed: int, prof: Profile, students: int, headcount: int) -> list[dict]:
    rng = random.Random(f"{seed}:{school.school_id}:mobility:{year}")
    factor = net.MOBILITY_FACTOR[year] * prof.mobility_jitter[year] * net.MOBILITY_SCALE
    n_out = round(students * school.out_rate * factor * rng.uniform(0.95, 1.05))
    n_in = round(n_out * school.in_ratio * rng.uniform(0.85, 1.15))
    n_staff_out = round(headcount * school.staff_mobility * factor * rng.uniform(0.9, 1.1))
    n_staff_in = round(n_staff_out * rng.uniform(0.6, 1.0))
    rows: list[dict] = []
    for direction, ptype, n in (("outgoing", "student", n_out), ("incoming", "student", n_in),
                                ("outgoing", "staff", n_staff_out), ("incoming", "staff", n_staff_in)):
        remaining = n
        while remaining > 0:
            group_p, max_group = (0.04, 6) if ptype == "student" else (0.12, 5)
            size = rng.randint(2, min(max_group, remaining)) if remaining >= 2 and rng.random() < group_p else 1
            remaining -= size
            rows.append(_mobility_row(school, year, direction, ptype, size, rng))
    order = {("outgoing", "student"): 0, ("incoming", "student"): 1, ("outgoing", "staff"): 2,
             ("incoming", "staff"): 3}
    rows.sort(key=lambda r: (order[(r["direction"], r["participant_type"])], r["start_date"], r["end_date"],
                             r["partner_country"], r["partner_institution"]))
    _number(school, year, rows, rng)
    return rows


def _mobility_row(school: School, year: str, direction: str, ptype: str, size: int, rng: random.Random) -> dict:
    programme = _wchoice(rng, PROGRAMMES[(direction, ptype)])
    if not school.erasmus and programme == "erasmus_plus":
        programme = "bilateral" if school.country_code == "AU" else "other"  # Swiss mobility runs under SEMP
    country, institution = _partner(school, year, programme, rng)
    level = ects = recognised = None
    if ptype == "student":
        activity = _wchoice(rng, FREE_MOVER_ACTIVITIES if programme == "free_mover" else STUDENT_ACTIVITIES)
        start, end, typical = _student_dates(activity, year, rng)
        level = _level(school, activity, rng)
        if direction == "outgoing" and size == 1 and typical is not None:
            ects = typical
            u = rng.random()
            recognised = ects if u < 0.88 else (max(0.0, ects - rng.choice((1.5, 3.0, 4.5, 6.0))) if u < 0.97
                                                else None)
    else:
        activity = _wchoice(rng, STAFF_ACTIVITIES)
        start, end = _staff_dates(activity, year, rng)
    return {"school_id": school.school_id, "academic_year": year, "mobility_ref": None, "direction": direction,
            "participant_type": ptype, "activity": activity, "programme": programme, "programme_level": level,
            "partner_country": country, "partner_institution": institution, "start_date": start, "end_date": end,
            "participants": size, "ects_earned": ects, "ects_recognised": recognised,
            "person_ref": "" if size > 1 else ptype}


def _number(school: School, year: str, rows: list[dict], rng: random.Random) -> None:
    """The school's own mobility ids (unique in the file) and fake matriculation / staff numbers."""
    fmt = REF_FORMATS[sum(map(ord, school.school_id)) % len(REF_FORMATS)]
    y = net.year_start(year)
    students = iter(rng.sample(range(1_000_000, 10_000_000), sum(r["person_ref"] == "student" for r in rows)))
    staff = iter(rng.sample(range(10_000, 100_000), sum(r["person_ref"] == "staff" for r in rows)))
    for i, r in enumerate(rows, 1):
        r["mobility_ref"] = fmt.format(p=school.ref_prefix, y=y, yy=str(y)[-2:], i=i)
        if r["person_ref"] == "student":
            r["person_ref"] = f"M-{next(students)}"
        elif r["person_ref"] == "staff":
            r["person_ref"] = f"S-{next(staff)}"
        else:
            r["person_ref"] = None


# --- accreditation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    programme_name: str
    scope: str
    agency: net.Agency
    decision: str
    decision_date: dt.date
    valid_until: dt.date | None
    open_conditions: dict[str, int] | None = None  # per academic year, for a conditional decision


def _chain(name: str, scope: str, agency: net.Agency, first: dt.date, years: tuple[int, ...],
           rng: random.Random) -> list[Decision]:
    """Decisions of one accreditation line: each renewed some weeks before it expires."""
    out, d = [], first
    end = dt.date(2024, 8, 31)
    while d <= end:
        until = add_years(d, rng.choice(years)) - dt.timedelta(days=1)
        out.append(Decision(name, scope, agency, "accredited", d, until))
        d = until - dt.timedelta(days=rng.randint(40, 200))
    return out


def accreditation_lines(school: School, seed: int) -> list[list[Decision]]:
    rng = random.Random(f"{seed}:{school.school_id}:accreditation")
    agency = net.AGENCIES[school.country_code]
    lines: list[list[Decision]] = []

    def first(lo: int, hi: int) -> dt.date:
        return dt.date(lo, 1, 1) + dt.timedelta(days=rng.randint(0, (dt.date(hi, 12, 31) - dt.date(lo, 1, 1)).days))

    institution = f"{school.name} (institutional accreditation)"
    if school.school_id == net.EXPIRING_SCHOOL:
        return [[Decision(institution, "institutional", agency, "accredited", dt.date(2016, 3, 10),
                          dt.date(2022, 2, 28)),
                 Decision(institution, "institutional", agency, "pending", dt.date(2022, 10, 3), None)]]
    if school.institutional:
        lines.append(_chain(institution, "institutional", agency, first(2014, 2019), (7, 8), rng))
    if school.school_id == net.CONDITIONS_SCHOOL:
        lines.append([Decision(school.programme_name, "programme", agency, "accredited", dt.date(2014, 7, 21),
                               dt.date(2020, 7, 20)),
                      Decision(school.programme_name, "programme", agency, "accredited_with_conditions",
                               dt.date(2020, 7, 9), dt.date(2026, 7, 8),
                               {"2020/21": 3, "2021/22": 2, "2022/23": 1, "2023/24": 1})])
    else:
        lines.append(_chain(school.programme_name, "programme", agency, first(2015, 2019), (6,), rng))
    if school.english_programme:
        if school.school_id == net.NOT_ACCREDITED_SCHOOL:
            lines.append([Decision(school.english_programme, "programme", agency, "not_accredited",
                                   dt.date(2020, 5, 12), None),
                          Decision(school.english_programme, "programme", agency, "accredited",
                                   dt.date(2021, 6, 18), dt.date(2027, 6, 17))])
        else:
            lines.append(_chain(school.english_programme, "programme", agency, first(2016, 2019), (5, 6), rng))
    return lines


def accreditation(school: School, year: str, seed: int) -> list[dict]:
    """The decisions in force in a year: per line, the latest decided by the year's end."""
    _, ye = net.year_bounds(year)
    out = []
    for line in accreditation_lines(school, seed):
        decided = [d for d in line if d.decision_date <= ye]
        if not decided:
            continue
        d = decided[-1]
        conditions = (d.open_conditions or {}).get(year, 0)
        out.append({"school_id": school.school_id, "academic_year": year, "programme_name": d.programme_name,
                    "scope": d.scope, "agency_name": d.agency.name, "agency_country": d.agency.country,
                    "agency_wfme_recognised": d.agency.wfme, "decision": d.decision,
                    "decision_date": d.decision_date, "valid_until": d.valid_until, "open_conditions": conditions})
    return out

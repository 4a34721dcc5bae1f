"""Plant about 1.5 % of row-level errors into clean files, for validation to catch.

Each planted error breaks exactly one single-row or within-file rule and nothing else; clean rows are
never touched. A planted error lives in the :class:`Row` it spoils (``row.error``), so its source row
is known once the file is written.
"""

from __future__ import annotations

import datetime as dt
import random

import ims_indicators.demo.network as net
from ims_indicators.demo.rows import FileSpec, Row, add_years

TARGET_SHARE = 0.015
MOBILITY_KINDS = ("end_before_start", "participants_zero", "unknown_direction", "invalid_country",
                  "ects_recognised_gt_earned", "dates_outside_year", "duplicate_row", "duplicate_key")
# (dataset, kind, how many, smallest file that may carry one)
OTHER_KINDS = (("staffing", "fte_gt_headcount", 3, 6), ("staffing", "foreign_gt_headcount", 3, 6),
               ("enrolment", "international_gt_total", 3, 3), ("accreditation", "valid_until_before_decision", 2, 3))


def _err(row: Row, column: str | None, kind: str, description: str) -> bool:
    row.error = {"column": column, "kind": kind, "description": description}
    return True


def _inside(row: Row) -> bool:
    """Clean dates wholly inside the academic year (not one of the few that start before 1 September)."""
    ys, ye = net.year_bounds(row.values["academic_year"])
    v = row.values
    return ys <= v["start_date"] < v["end_date"] <= ye


def _plant_mobility(kind: str, spec: FileSpec, rng: random.Random) -> int:
    """Plant one error of ``kind`` in the file; the number of error rows it made (0: no room)."""
    rows = spec.rows
    clean = [r for r in rows if r.clean]
    if kind == "end_before_start":
        cands = [r for r in clean if _inside(r)]
        if not cands:
            return 0
        r = rng.choice(cands)
        v = r.values
        v["start_date"], v["end_date"] = v["end_date"], v["start_date"]
        return _err(r, "end_date", kind, f"end_date {v['end_date']} is before start_date {v['start_date']}")
    if kind == "participants_zero":
        cands = [r for r in clean if r.values["participants"] == 1]
        if not cands:
            return 0
        r = rng.choice(cands)
        r.values["participants"] = 0
        return _err(r, "participants", kind, "participants is 0; a mobility row counts at least 1 participant")
    if kind == "unknown_direction":
        cands = [r for r in clean if r.values["participant_type"] == "staff" or r.values["direction"] == "incoming"]
        if not cands:
            return 0
        r = rng.choice(cands)
        value = rng.choice(("sideways", "both"))
        r.values["direction"] = value
        return _err(r, "direction", kind, f"direction {value!r} is neither outgoing nor incoming")
    if kind == "invalid_country":
        r = rng.choice(clean)
        value = rng.choice(("XX", "ZZ"))
        r.values["partner_country"] = value
        return _err(r, "partner_country", kind, f"partner_country {value!r} is not an ISO 3166-1 country code")
    if kind == "ects_recognised_gt_earned":
        cands = [r for r in clean if r.values["ects_earned"] is not None and r.values["ects_recognised"] is not None]
        if not cands:
            return 0
        r = rng.choice(cands)
        v = r.values
        v["ects_recognised"] = v["ects_earned"] + rng.choice((1.5, 3.0, 5.0, 6.0))
        return _err(r, "ects_recognised", kind,
                    f"ects_recognised {v['ects_recognised']:g} exceeds ects_earned {v['ects_earned']:g}")
    if kind == "dates_outside_year":
        cands = [r for r in clean if _inside(r)]
        if not cands:
            return 0
        r = rng.choice(cands)
        v = r.values
        shift = rng.choice((-1, 1))
        v["start_date"], v["end_date"] = add_years(v["start_date"], shift), add_years(v["end_date"], shift)
        return _err(r, "start_date", kind, f"the mobility ({v['start_date']} to {v['end_date']}) lies entirely "
                                           f"outside the academic year {v['academic_year']}")
    if kind == "duplicate_row":
        if not clean:
            return 0
        original = rng.choice(clean)
        i = next(j for j, r in enumerate(rows) if r is original)
        copy = Row(dict(original.values))
        original.protected = True
        rows.insert(rng.randint(i + 1, len(rows)), copy)
        return _err(copy, None, kind, f"exact copy of the row with mobility_ref {original.values['mobility_ref']!r} "
                                      "(this second copy is the error; the first is clean)")
    if kind == "duplicate_key":
        if len(clean) < 2:
            return 0
        a, b = sorted(rng.sample(clean, 2), key=lambda r: next(j for j, x in enumerate(rows) if x is r))
        if {k: v for k, v in a.values.items() if k != "mobility_ref"} == \
                {k: v for k, v in b.values.items() if k != "mobility_ref"}:
            return 0  # would become an exact duplicate, another kind
        ref = a.values["mobility_ref"]
        b.values["mobility_ref"] = ref
        desc = f"mobility_ref {ref!r} is used by two different rows (both listed)"
        _err(a, "mobility_ref", kind, desc)
        _err(b, "mobility_ref", kind, desc)
        return 2
    raise ValueError(kind)


def _plant_other(kind: str, spec: FileSpec, rng: random.Random) -> bool:
    clean = [r for r in spec.rows if r.clean]
    if kind == "fte_gt_headcount":
        r = rng.choice(clean)
        v = r.values
        v["fte"] = round(v["headcount"] * rng.uniform(1.12, 1.6), 1)
        return _err(r, "fte", kind, f"fte {v['fte']:g} exceeds headcount {v['headcount']}")
    if kind == "foreign_gt_headcount":
        r = rng.choice(clean)
        v = r.values
        v["foreign_nationality"] = v["headcount"] + rng.randint(1, max(1, v["headcount"] // 4))
        return _err(r, "foreign_nationality", kind,
                    f"foreign_nationality {v['foreign_nationality']} exceeds headcount {v['headcount']}")
    if kind == "international_gt_total":
        r = rng.choice(clean)
        v = r.values
        v["students_international"] = v["students_total"] + rng.randint(1, max(1, v["students_total"] // 10))
        return _err(r, "students_international", kind,
                    f"students_international {v['students_international']} exceeds students_total "
                    f"{v['students_total']}")
    if kind == "valid_until_before_decision":
        cands = [r for r in clean if r.values["valid_until"] is not None]
        if not cands:
            return False
        r = rng.choice(cands)
        v = r.values
        v["valid_until"] = v["decision_date"] - dt.timedelta(days=rng.randint(30, 700))
        return _err(r, "valid_until", kind, f"valid_until {v['valid_until']} is before decision_date "
                                            f"{v['decision_date']}")
    raise ValueError(kind)


def plant_errors(specs: list[FileSpec], seed: int) -> int:
    """Plant errors into the readable files; returns the number of error rows (≈ 1.5 % of data rows)."""
    rng = random.Random(f"{seed}:plant")
    usable = [s for s in specs if s.refused_reason is None]
    n_rows = sum(len(s.rows) for s in usable)
    target = round(n_rows * TARGET_SHARE)
    planted = 0
    for dataset, kind, count, min_rows in OTHER_KINDS:
        files = [s for s in usable if s.dataset == dataset and len(s.rows) >= min_rows
                 and not any(r.error for r in s.rows)]
        for spec in rng.sample(files, count):
            planted += bool(_plant_other(kind, spec, rng))
    mobility = [s for s in usable if s.dataset == "mobility"]
    in_file = [0] * len(mobility)  # error rows per file: at most one in 30 rows (and at least one allowed)
    kinds = iter(MOBILITY_KINDS * 1000)
    while planted < target:
        kind = next(kinds)
        for _ in range(100):
            room = [i for i, s in enumerate(mobility) if in_file[i] < max(1, len(s.rows) // 30)]
            i = rng.choices(room, weights=[len(mobility[j].rows) for j in room])[0]
            made = _plant_mobility(kind, mobility[i], rng)
            if made:
                planted += made
                in_file[i] += made
                break
    return planted

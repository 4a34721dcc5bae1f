"""Secondary suppression across a page (privacy rule 4): an attacker who reads one school's rendered profile rows
and knows the public catalogue (which measure each indicator counts, its scale) tries to recompute every hidden
count. Hand-made page for one school × year, k = 5:

    indicator        unit     numerator (quantity, count)        denominator (quantity, count)   value
    long_share       share    long_outgoing     38               outgoing_students  40           38 of 40: rest 2
    long_per_100     per 100  long_outgoing     38               graduates          200          19.0
    out_per_100      per 100  outgoing_students 40               graduates          200          20.0
    incoming_ratio   ratio    incoming_students 3                outgoing_students  40           3 < 5
    in_per_100       per 100  incoming_students 3                students_total     1000         (withheld)
    intl_share       share    intl_students     300              students_total     1000         0.3

Within-row rules hide long_share's 38 ("withheld": 40 − 38 = 2 students) and incoming 3 ("<5"). Without rule 4
long_per_100 prints 38 (and 19.0 × 200 / 100 = 38), so 40 − 38 = 2 comes back; with it nothing comes back.
"""

from __future__ import annotations

import pandas as pd

from ims_indicators.report import privacy
from ims_indicators.report.html import _table_row

K = 5
SCHOOL, YEAR = "charite", "2023/24"
Q = {  # quantity -> the measure SQL the catalogue table stores (one quantity, one SQL text)
    "long_outgoing": "sum(participants) FROM mobility WHERE outgoing AND duration_days >= 90",
    "outgoing_students": "sum(participants) FROM mobility WHERE outgoing",
    "graduates": "sum(graduates) FROM enrolment",
    "incoming_students": "sum(participants) FROM mobility WHERE incoming",
    "students_total": "sum(students_total) FROM enrolment",
    "intl_students": "sum(students_international) FROM enrolment",
}
COUNTS = {"long_outgoing": 38, "outgoing_students": 40, "graduates": 200, "incoming_students": 3,
          "students_total": 1000, "intl_students": 300}
PAGE = [  # indicator, unit, scale, numerator quantity, denominator quantity
    ("long_share", "share", 1.0, "long_outgoing", "outgoing_students"),
    ("long_per_100", "per 100", 100.0, "long_outgoing", "graduates"),
    ("out_per_100", "per 100", 100.0, "outgoing_students", "graduates"),
    ("incoming_ratio", "ratio", 1.0, "incoming_students", "outgoing_students"),
    ("in_per_100", "per 100", 100.0, "incoming_students", "students_total"),
    ("intl_share", "share", 1.0, "intl_students", "students_total"),
]
SCALE = {i: scale for i, _, scale, _, _ in PAGE}
PARTS = {i: (n, d) for i, _, _, n, d in PAGE}


def _frames(other_school: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    cat = pd.DataFrame([{"indicator_id": i, "name": i, "unit": unit, "direction": "higher", "datasets": ["mobility"],
                         "numerator_name": n, "numerator_sql": Q[n], "denominator_name": d, "denominator_sql": Q[d],
                         "rule_text": "", "position": pos}
                        for pos, (i, unit, _, n, d) in enumerate(PAGE)])
    cat["people"] = [privacy.about_people(d, u) for d, u in zip(cat["datasets"], cat["unit"])]
    schools = [SCHOOL, "karolinska"] if other_school else [SCHOOL]
    vals = pd.DataFrame([{"school_id": s, "academic_year": YEAR, "indicator_id": i,
                          "numerator": float(COUNTS[n] if s == SCHOOL else 400),
                          "denominator": float(COUNTS[d] if s == SCHOOL else 1000),
                          "value": scale * (COUNTS[n] if s == SCHOOL else 400) / (COUNTS[d] if s == SCHOOL else 1000),
                          "computable": True, "reason": None}
                         for s in schools for i, _, scale, n, d in PAGE])
    return vals, cat


def _rendered(vals: pd.DataFrame, cat: pd.DataFrame, school: str = SCHOOL) -> dict[str, dict]:
    """The profile rows as the page prints them (html._table_row), by indicator."""
    rows = cat.merge(vals[vals["school_id"] == school], on="indicator_id")
    return {r["indicator_id"]: _table_row(r, K) for r in rows.to_dict("records")}


def _number(text: str, unit: str = "count") -> float | None:
    """A printed number (a share prints as a percentage); None for a hidden or empty cell."""
    try:
        x = float(text.replace(",", "").removesuffix(" %"))
    except (AttributeError, ValueError):
        return None
    return x / 100 if unit == "share" and text.endswith("%") else x


def recovered(page: dict[str, dict]) -> dict[str, float]:
    """Every hidden count (a cell printed as text, not a number) the attacker can recompute from the page."""
    known: dict[str, float] = {}
    changed = True
    while changed:  # a recovered quantity may unlock another row
        changed = False
        for iid, row in page.items():
            n_q, d_q = PARTS[iid]
            n, d, v = _number(row["numerator"]), _number(row["denominator"]), _number(row["value"], row["unit"])
            n = n if n is not None else known.get(n_q)
            d = d if d is not None else known.get(d_q)
            for q, x in ((n_q, n), (d_q, d)):
                if x is not None and q not in known:
                    known[q] = x
                    changed = True
            if v is not None and d is not None and n_q not in known:
                known[n_q] = round(v * d / SCALE[iid])  # counts are whole
                changed = True
            if v is not None and n is not None and v != 0 and d_q not in known:
                known[d_q] = round(n * SCALE[iid] / v)
                changed = True
    hidden = {q for iid, row in page.items() for q, text in zip(PARTS[iid], (row["numerator"], row["denominator"]))
              if _number(text) is None}
    out = {q: known[q] for q in hidden if q in known}
    # a share's hidden rest: denominator − numerator, both known
    for iid, row in page.items():
        n_q, d_q = PARTS[iid]
        if row["unit"] == "share" and n_q in hidden and n_q in known and d_q in known:
            out[f"{d_q} - {n_q}"] = known[d_q] - known[n_q]
    return out


def test_without_the_page_rule_the_rest_of_a_share_comes_back():
    vals, cat = _frames()
    vals = privacy.withhold_values(vals, cat, K)
    got = recovered(_rendered(vals, cat))
    assert got["long_outgoing"] == 38 and got["outgoing_students - long_outgoing"] == 2  # the attack works


def test_no_hidden_count_can_be_recomputed_from_the_page():
    vals, cat = _frames()
    vals = privacy.withhold_across_page(privacy.withhold_values(vals, cat, K), cat, K)
    page = _rendered(vals, cat)
    assert recovered(page) == {}
    # what is hidden: 38 everywhere it appears (and both values built on it), incoming 3 everywhere
    assert [page["long_share"]["numerator"], page["long_per_100"]["numerator"]] == ["withheld", "withheld"]
    assert page["long_share"]["value"] == page["long_per_100"]["value"] == f"<{K}"
    assert page["incoming_ratio"]["numerator"] == page["in_per_100"]["numerator"] == f"<{K}"
    assert page["incoming_ratio"]["value"] == page["in_per_100"]["value"] == f"<{K}"
    # what stays: counts not hidden anywhere, and the values built only on them
    assert (page["out_per_100"]["numerator"], page["out_per_100"]["denominator"], page["out_per_100"]["value"]) \
        == ("40", "200", "20.00")
    assert (page["intl_share"]["numerator"], page["intl_share"]["denominator"]) == ("300", "1,000")
    assert not page["intl_share"]["withheld"]


def test_the_page_rule_stays_on_its_own_school_and_year():
    vals, cat = _frames(other_school=True)
    vals = privacy.withhold_across_page(privacy.withhold_values(vals, cat, K), cat, K)
    other = _rendered(vals, cat, "karolinska")
    assert not any(r["withheld"] for r in other.values())
    assert {r["numerator"] for r in other.values()} == {"400"}


def test_institutional_counts_are_not_touched():
    vals, cat = _frames()
    cat["people"] = False  # e.g. programmes or submissions: rule 1 does not apply, so neither does rule 4
    vals = privacy.withhold_across_page(privacy.withhold_values(vals, cat, K), cat, K)
    assert not vals["withheld"].any()

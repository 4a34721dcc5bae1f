"""Disclosure control for everything a report shows: small counts of people and schools that did not consent.

**Small counts** (``k = settings.suppress_below()``, default 5) apply to *people* only: students, staff, mobile
persons and survey respondents — never to programmes, datasets, submissions or accreditation decisions.

1. For an indicator *about people* (computed from enrolment, mobility, staffing or the student survey, unless
   the catalogue's dataset list says otherwise, e.g. programme counts), a count ``c`` with ``0 < c < k`` is
   shown as ``<k``. Zero is shown: it identifies nobody. Counts of an indicator about the institution
   (yes/no facts, accreditation decisions, programmes, submissions) are shown as they are.
2. Secondary suppression, so that a suppressed count cannot be recomputed from what the same row shows: the
   value of an indicator about people is withheld — shown as ``<k`` and left out of charts, distributions and
   the workbook — when its numerator or denominator is a small count (value × denominator would give the
   numerator back; a mean over 3 people describes 3 people); for shares, when the rest ``denominator −
   numerator`` is small ("38 of 40" reveals the 2) both the value and the numerator are withheld. A withheld
   value also hides what is derived from it for that school and year: percentile, distance to the median and
   the 1- and 3-year changes (the group stays: a coarse band, not the value).
3. A survey item's numerator is a sum of scores, not a count: it is never shown (nor any sum of squares);
   its denominator (answers = respondents) follows rule 1.
4. Secondary suppression across the page (:func:`withhold_across_page`): one school × year's page shows many
   indicators, and several count the same people (the catalogue's measure SQL is the same: "outgoing students"
   is the numerator of one indicator and the denominator of five). A count hidden in one row (``<k`` or
   ``withheld``) is hidden in every row of that school and year that shows the same quantity, and every value
   computed from it is withheld (value and the other shown part would give it back). Pages show no totals of
   person counts over rows (a column of counts is never summed), so no total can give a hidden cell back.

Peer statistics (median, quartiles) come from the benchmark mart, which computes them only from a minimum
number of peer values; they are shown as computed. Free-text survey comments are personal data: they never
appear in the network pages, the PDFs or the workbook; each school gets its own comments in a separate file,
with names and e-mail addresses masked (:func:`mask_personal`).

**Names.** A school whose ``consent_to_be_named`` is not true appears to everyone else as "peer": on
another school's page, in hover text, and — where rows must stay apart (the overview's heatmap and tables,
the workbook) — as "peer 1", "peer 2" …, numbered in an order that follows neither id nor name. Its own
page names it. Its id, city, country and Erasmus code are not shown to others, and its page is not linked.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd

PEER = "peer"
SHARE_UNITS = ("share",)
INSTITUTIONAL_UNITS = ("yes/no",)
PEOPLE_DATASETS = ("enrolment", "mobility", "staffing", "student_survey")
INSTITUTION_DATASETS = ("accreditation", "submissions")  # programmes, decisions, submissions: never suppressed
SUM_UNITS = ("score",)  # the numerator is a sum of judgements, not a count: never shown
WITHHELD = "withheld"


def about_people(datasets: object, unit: object = "") -> bool:
    """Rule 3: is an indicator about people? Unknown sources count as people (the safe side)."""
    if str(unit) in INSTITUTIONAL_UNITS:
        return False
    if datasets is None or isinstance(datasets, float):
        return True
    try:
        names = [datasets] if isinstance(datasets, str) else [str(d) for d in datasets]  # type: ignore[union-attr]
    except TypeError:  # pd.NA and other scalars: unknown
        return True
    names = [n.split(".")[-1].strip().lower() for n in names if str(n).strip()]
    if names and any(n in INSTITUTION_DATASETS for n in names) and "mobility" not in names \
            and "staffing" not in names and "student_survey" not in names:
        return False  # accreditation decisions and programmes (enrolment only as the programme list)
    return not names or any(n in PEOPLE_DATASETS for n in names)


def _num(x: object) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def is_small(count: object, k: int) -> bool:
    """A count of people that must not be shown (``0 < count < k``)."""
    c = _num(count)
    return c is not None and 0 < c < k


def count_text(count: object, k: int) -> str:
    """A count as shown in a report: ``<k`` when small, blank when missing, else the number (a text that
    :func:`shown_counts` already decided, such as ``"<5"`` or ``"withheld"``, is kept)."""
    if isinstance(count, str):
        return count
    c = _num(count)
    if c is None:
        return ""
    if 0 < c < k:
        return f"<{k}"
    return f"{c:,.0f}" if float(c).is_integer() else f"{c:,.1f}"


def value_withheld(numerator: object, denominator: object, unit: object, k: int, people: bool = True) -> bool:
    """Rule 2: would showing the value reveal a small count of people?"""
    if not people or str(unit) in INSTITUTIONAL_UNITS:
        return False
    n, d = _num(numerator), _num(denominator)
    if is_small(n, k) or is_small(d, k):
        return True
    return str(unit) in SHARE_UNITS and n is not None and d is not None and n <= d and is_small(d - n, k)


def shown_counts(numerator: object, denominator: object, unit: object, k: int,
                 people: bool = True) -> tuple[object, object]:
    """Rules 1–3: the numerator and denominator as a page may show them: the number, ``"<k"``, ``"withheld"``
    (the rest of a share is small) or None (a survey's sum of scores)."""
    n, d = _num(numerator), _num(denominator)
    if str(unit) in SUM_UNITS:
        return None, (f"<{k}" if people and is_small(d, k) else d)
    if not people or str(unit) in INSTITUTIONAL_UNITS:
        return n, d
    num = f"<{k}" if is_small(n, k) else n
    if str(unit) in SHARE_UNITS and n is not None and d is not None and n <= d and is_small(d - n, k) \
            and not is_small(d, k):  # a shown denominator minus the numerator would give the small rest
        num = WITHHELD
    return num, (f"<{k}" if is_small(d, k) else d)


def mark_withheld(values: pd.DataFrame, units: dict[str, str], k: int,
                  people: dict[str, bool] | None = None) -> pd.Series:
    """A boolean Series: which rows of an indicator_values-like frame have their value withheld."""
    if values.empty:
        return pd.Series([], dtype=bool, index=values.index)
    num = values["numerator"] if "numerator" in values else pd.Series(None, index=values.index)
    den = values["denominator"] if "denominator" in values else pd.Series(None, index=values.index)
    ids = list(values["indicator_id"])
    people = people or {}
    return pd.Series([value_withheld(n, d, units.get(i, ""), k, people.get(i, True)) for n, d, i in zip(num, den, ids)],
                     index=values.index, dtype=bool)


def _hash(school_id: str) -> str:
    return hashlib.sha256(("ims-peer:" + school_id).encode("utf-8")).hexdigest()


def consented(value: object) -> bool:
    """``consent_to_be_named`` as a strict yes: only a true boolean counts (missing = no)."""
    if value is None or value is pd.NA:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return False


def network_labels(schools: pd.DataFrame) -> dict[str, str]:
    """Labels for pages everybody sees: the name if the school consented, else "peer N"."""
    out: dict[str, str] = {}
    hidden = []
    for sid, name, consent in zip(schools["school_id"], schools["name"], schools["consent_to_be_named"]):
        if consented(consent):
            out[str(sid)] = str(name) if isinstance(name, str) and name else str(sid)
        else:
            hidden.append(str(sid))
    for i, sid in enumerate(sorted(hidden, key=_hash), start=1):
        out[sid] = f"{PEER} {i}"
    return out


def viewer_labels(schools: pd.DataFrame, viewer: str) -> dict[str, str]:
    """Labels as one school's page shows them: itself and consenting schools by name, every other "peer"."""
    out = {}
    for sid, name, consent in zip(schools["school_id"], schools["name"], schools["consent_to_be_named"]):
        sid = str(sid)
        if sid == viewer or consented(consent):
            out[sid] = str(name) if isinstance(name, str) and name else sid
        else:
            out[sid] = PEER
    return out


def sort_key(label: str) -> tuple:
    """Order of schools in every list: alphabetical by what the reader sees, named schools first, then peers by
    number — never by score."""
    m = re.fullmatch(r"peer (\d+)", label)
    return (1, int(m.group(1)), "") if m else (0, 0, label.casefold())


def neutralise(text: str) -> str:
    """For CSV: prefix text a spreadsheet would run as a formula with a quote."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def shift_year(year: str, by: int) -> str:
    """'2023/24' shifted by -1 -> '2022/23' (the canonical academic-year form)."""
    try:
        start = int(str(year)[:4]) + by
    except ValueError:
        return ""
    return f"{start}/{(start + 1) % 100:02d}"


def withhold_values(values: pd.DataFrame, catalogue: pd.DataFrame, k: int) -> pd.DataFrame:
    """Mark (``withheld``) and blank the values rule 2 withholds; add the count texts a page may print."""
    units = dict(zip(catalogue["indicator_id"], catalogue["unit"]))
    people = dict(zip(catalogue["indicator_id"], catalogue["people"].astype(bool)))
    values["withheld"] = mark_withheld(values, units, k, people)
    values.loc[values["withheld"], "value"] = float("nan")
    shown = [shown_counts(n, d, units.get(i, ""), k, people.get(i, True))
             for n, d, i in zip(values["numerator"], values["denominator"], values["indicator_id"])]
    values["numerator_shown"] = pd.Series([a for a, _ in shown], index=values.index, dtype=object)
    values["denominator_shown"] = pd.Series([b for _, b in shown], index=values.index, dtype=object)
    return values


def _quantity_keys(catalogue: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """indicator_id -> (numerator, denominator) quantity keys: the measure's SQL text (``expr FROM source WHERE
    condition``, so one count under two names is one quantity) where the catalogue has it, else the measure's
    name, else a key of its own (then it is shared with nothing)."""
    out = {}
    for r in catalogue.to_dict("records"):
        iid = str(r["indicator_id"])
        keys = []
        for part in ("numerator", "denominator"):
            sql, name = r.get(f"{part}_sql"), r.get(f"{part}_name")
            keys.append(str(sql) if isinstance(sql, str) and sql else
                        f"name:{name}" if isinstance(name, str) and name else f"{iid}.{part}")
        out[iid] = (keys[0], keys[1])
    return out


def withhold_across_page(values: pd.DataFrame, catalogue: pd.DataFrame, k: int) -> pd.DataFrame:
    """Rule 4 (after :func:`withhold_values`): a count hidden in one row of a school × year is hidden in every
    row of that school and year showing the same quantity, and the values computed from it are withheld."""
    if values.empty:
        return values
    keys = _quantity_keys(catalogue)
    people = dict(zip(catalogue["indicator_id"].astype(str), catalogue["people"].astype(bool)))
    parts = (("numerator_shown", 0), ("denominator_shown", 1))
    hidden = {(s, y, keys[i][pos])
              for s, y, i, *shown in zip(values["school_id"], values["academic_year"], values["indicator_id"],
                                         values["numerator_shown"], values["denominator_shown"])
              if people.get(i, True) and i in keys
              for (_, pos), text in zip(parts, shown) if isinstance(text, str)}
    if not hidden:
        return values
    for col, pos in parts:
        hit = pd.Series([people.get(i, True) and i in keys and (s, y, keys[i][pos]) in hidden
                         and not isinstance(text, str)
                         for s, y, i, text in zip(values["school_id"], values["academic_year"],
                                                  values["indicator_id"], values[col])],
                        index=values.index, dtype=bool)
        values.loc[hit, col] = WITHHELD
        values.loc[hit, "withheld"] = True
        values.loc[hit, "value"] = float("nan")
    return values


def withhold_groups(groups: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """A withheld value takes along what would give it back: the value, its percentile, the distance to the
    median, and a change from or to it (the other year's value is shown)."""
    withheld = values.set_index(["school_id", "academic_year", "indicator_id"])["withheld"]

    def was_withheld(shift: int) -> pd.Series:
        years = groups["academic_year"].map(lambda y: shift_year(y, shift))
        key = pd.MultiIndex.from_arrays([groups["school_id"], years, groups["indicator_id"]])
        return pd.Series(withheld.reindex(key).fillna(False).astype(bool).to_numpy(), index=groups.index)

    groups["withheld"] = was_withheld(0)
    for c in ("value", "percentile", "median_distance"):
        if c in groups:
            groups.loc[groups["withheld"], c] = float("nan")
    groups.loc[groups["withheld"] | was_withheld(-1), "change_1y"] = float("nan")
    groups.loc[groups["withheld"] | was_withheld(-3), "change_3y"] = float("nan")
    return groups


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_TITLED = re.compile(r"\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Miss|Herr|Frau|Dott|Dottssa|Doc|Mme|M)\.?\s+"
                     r"(?:[A-ZÀ-Þ][\w'’-]+\.?\s*){1,3}")
_FULL_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÀ-Þ][a-zà-ÿ'’-]+\s+[A-ZÀ-Þ][a-zà-ÿ'’-]+\b")
NAME_MASK, EMAIL_MASK = "[name]", "[e-mail]"


def mask_personal(text: str, keep: frozenset[str] = frozenset()) -> str:
    """A free-text comment with e-mail addresses and names masked: a title and the capitalised words after it
    ("Dr. Müller", "Prof Anna Rossi"), and two capitalised words together inside a sentence ("Anna Rossi").
    ``keep``: capitalised phrases that are not names (item labels, the school's name). A heuristic on the safe
    side: it masks some place names too."""
    out = _EMAIL.sub(EMAIL_MASK, text)
    out = _TITLED.sub(lambda m: NAME_MASK + (" " if m.group(0).endswith(" ") else ""), out)
    return _FULL_NAME.sub(lambda m: m.group(0) if m.group(0) in keep else NAME_MASK, out)

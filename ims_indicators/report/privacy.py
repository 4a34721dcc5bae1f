"""Disclosure control for everything a report shows: small counts and schools that did not consent.

**Small counts** (``k = settings.suppress_below()``, default 5). The counts are an indicator's numerator and
denominator (people, mobilities, FTE, programmes).

1. A count ``c`` with ``0 < c < k`` is shown as ``<k``. Zero is shown: it identifies nobody.
2. An indicator value is withheld (shown as ``<k`` with a note, left out of charts, distributions and the
   workbook) when its numerator or its denominator is withheld by rule 1 — value × denominator would give the
   numerator back — and, for shares, when the complement ``denominator − numerator`` is a small count
   (``0 < d − n < k``: "38 of 40" reveals the 2). A withheld value also hides what is derived from it for that
   school and year: percentile and the 1- and 3-year changes (CHE group and A–E group stay: a group is a
   coarse band, not the value).
3. Exception: ``yes/no`` indicators (e.g. valid accreditation) describe the institution, not people; their
   value is shown, their counts still follow rule 1.

Peer statistics (median, quartiles) come from the benchmark mart, which only computes them from a minimum
number of peer values; they are shown as computed.

**Names.** A school whose ``consent_to_be_named`` is not true appears to everyone else as "peer": on
another school's page, in hover text, and — where rows must stay apart (the overview's heatmap, the
workbook) — as "peer 1", "peer 2" …, numbered in an order that does not follow the id or the name. Its own
page names it. Its id, city, country and Erasmus code are not shown to others.
"""

from __future__ import annotations

import hashlib
import math
import re

import pandas as pd

PEER = "peer"
SHARE_UNITS = ("share",)
INSTITUTIONAL_UNITS = ("yes/no",)


def _num(x: object) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def is_small(count: object, k: int) -> bool:
    """Rule 1: a count that must not be shown (``0 < count < k``)."""
    c = _num(count)
    return c is not None and 0 < c < k


def count_text(count: object, k: int) -> str:
    """A count as shown in a report: ``<k`` when small, blank when missing, else the number."""
    c = _num(count)
    if c is None:
        return ""
    if 0 < c < k:
        return f"<{k}"
    return f"{c:,.0f}" if float(c).is_integer() else f"{c:,.1f}"


def value_withheld(numerator: object, denominator: object, unit: object, k: int) -> bool:
    """Rule 2 (and its exception 3): would showing the value reveal a small count?"""
    if str(unit) in INSTITUTIONAL_UNITS:
        return False
    n, d = _num(numerator), _num(denominator)
    if is_small(n, k) or is_small(d, k):
        return True
    return str(unit) in SHARE_UNITS and n is not None and d is not None and n <= d and is_small(d - n, k)


def mark_withheld(values: pd.DataFrame, units: dict[str, str], k: int) -> pd.Series:
    """A boolean Series: which rows of an indicator_values-like frame have their value withheld."""
    if values.empty:
        return pd.Series([], dtype=bool, index=values.index)
    num = values["numerator"] if "numerator" in values else pd.Series(None, index=values.index)
    den = values["denominator"] if "denominator" in values else pd.Series(None, index=values.index)
    unit = values["indicator_id"].map(units).fillna("")
    return pd.Series([value_withheld(n, d, u, k) for n, d, u in zip(num, den, unit)], index=values.index, dtype=bool)


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

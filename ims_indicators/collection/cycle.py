"""Where the annual collection stands: per school, year and required dataset, and whether the year can be signed off.

States of one (school, year, dataset): ``missing`` (nothing usable received), ``refused`` (the latest file was
refused), ``checks open`` (accepted, a credibility check awaits an explanation), ``received``, ``signed off``.
An item is ``late`` when it is not received after the submission deadline, or not signed off after the
sign-off deadline.
"""

from __future__ import annotations

import datetime as dt

from ims_indicators import settings
from ims_indicators.collection import state
from ims_indicators.collection.calendar import CollectionYear, load_calendar, signoff_required_from
from ims_indicators.warehouse import open_warehouse, rows

ACCEPTED = ("accepted", "accepted_with_quarantine")
STATES = ("missing", "refused", "checks open", "received", "signed off")


def latest_submissions(school_id: str | None = None) -> dict[tuple[str, str, str], dict]:
    """(school, year, dataset) -> the latest school submission (the one nothing superseded)."""
    if not settings.warehouse().exists():
        return {}
    q, p = ("SELECT * FROM meta.submissions WHERE source = 'school' AND superseded_by IS NULL "
            "AND school_id IS NOT NULL"), []
    if school_id:
        q, p = q + " AND school_id = ?", [school_id]
    with open_warehouse(read_only=True) as con:
        found = rows(con, q + " ORDER BY received_at", p)
    return {(r["school_id"], r["academic_year"], r["dataset"]): r for r in found}


def registry_schools() -> list[str]:
    if not settings.warehouse().exists():
        return []
    with open_warehouse(read_only=True) as con:
        try:
            return [r["school_id"] for r in rows(con, "SELECT school_id FROM curated.schools ORDER BY 1")]
        except Exception:  # noqa: BLE001 - a warehouse without the registry yet
            return []


def item_state(sub: dict | None, signed: bool, checks_open: bool = False) -> str:
    if signed and sub is not None and sub["status"] in ACCEPTED:
        return "signed off"
    if sub is None:
        return "missing"
    if sub["status"] == "rejected":
        return "refused"
    return "checks open" if checks_open else "received"


def is_late(item: str, entry: CollectionYear, today: dt.date) -> bool:
    if item in ("missing", "refused") and today > entry.submission_deadline:
        return True
    return item != "signed off" and today > entry.signoff_deadline


def cycle_status(schools: list[str] | None = None, year: str | None = None,
                 today: dt.date | None = None) -> list[dict]:
    """One row per school × calendar year × required dataset."""
    from ims_indicators.collection.checks import open_checks

    today = today or dt.date.today()
    calendar = load_calendar()
    latest = latest_submissions()
    signed = state.signed_off_keys()
    schools = schools if schools is not None else (registry_schools() or sorted({k[0] for k in latest}))
    out = []
    for y, entry in sorted(calendar.items()):
        if year and y != year:
            continue
        for school in schools:
            checks = {c["dataset"] for c in open_checks(school, y)}
            for ds in entry.required:
                sub = latest.get((school, y, ds))
                item = item_state(sub, (school, y) in signed, ds in checks)
                out.append({"school_id": school, "academic_year": y, "dataset": ds, "state": item,
                            "late": is_late(item, entry, today),
                            "submission_id": sub["submission_id"] if sub else None,
                            "rows_quarantined": sub["rows_quarantined"] if sub else None,
                            "submission_deadline": entry.submission_deadline.isoformat(),
                            "signoff_deadline": entry.signoff_deadline.isoformat()})
    return out


def signoff_blockers(school_id: str, year: str) -> list[str]:
    """Why the year cannot be signed off yet (empty: it can)."""
    entry = load_calendar().get(year)
    if entry is None:
        return [f"{year} is not in the collection calendar"]
    if state.signed_off(school_id, year):
        return [f"{year} is already signed off"]
    latest = latest_submissions(school_id)
    blockers = []
    for ds in entry.required:
        item = item_state(latest.get((school_id, year, ds)), False)
        if item in ("missing", "refused"):
            blockers.append(f"{ds}: {item}")
    from ims_indicators.collection.checks import open_checks

    blockers += [f"{c['dataset']}: check {c['rule']} is open ({c['severity']})"
                 for c in open_checks(school_id, year)]
    return blockers


class SignOffRefused(Exception):
    """The year cannot be signed off yet (the message lists what is missing or open)."""


def sign_off(who: dict, school_id: str, year: str) -> None:
    """Sign off and lock a school's year when every required dataset is accepted and every check resolved."""
    blockers = signoff_blockers(school_id, year)
    if blockers:
        raise SignOffRefused(f"{school_id} {year} cannot be signed off: " + "; ".join(blockers))
    state.record_signoff(who, school_id, year, {"datasets": list(load_calendar()[year].required)})


def signed_off_scope(include_unsigned: bool = False) -> str | None:
    """The rows (by ``school_id``, ``academic_year``) reports and the label may use, as a SQL predicate: the years
    before the calendar's ``signoff_required_from`` (historic, back-filled) and the signed-off school years.
    None: everything (``include_unsigned`` for previews, or a calendar that requires no sign-off)."""
    start = None if include_unsigned else signoff_required_from()
    if start is None:
        return None
    signed = sorted(f"{school}|{year}" for school, year in state.signed_off_keys())
    listed = ", ".join("'" + key.replace("'", "''") + "'" for key in signed)
    return (f"(academic_year < '{start}' OR list_contains(CAST([{listed}] AS VARCHAR[]), "
            "school_id || '|' || academic_year))")

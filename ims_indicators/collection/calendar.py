"""The collection calendar (``catalogue/collection.yaml``): per academic year, opens / deadlines / required datasets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ims_indicators import settings
from ims_indicators.contracts import CONTRACTS, canonical_year


@dataclass(frozen=True)
class CollectionYear:
    academic_year: str
    opens: dt.date
    submission_deadline: dt.date
    signoff_deadline: dt.date
    required: tuple[str, ...]


class CalendarError(ValueError):
    """The calendar file is not as expected (the message names the year and the field)."""


def calendar_path() -> Path:
    """``IMS_COLLECTION_CALENDAR`` or ``catalogue/collection.yaml`` under IMS_HOME."""
    return settings.collection_calendar()


def load_calendar(path: Path | None = None) -> dict[str, CollectionYear]:
    """Every academic year of the calendar, checked (dates in order, datasets known)."""
    path = path or calendar_path()
    doc = _document(path)
    out: dict[str, CollectionYear] = {}
    for year, spec in (doc.get("years") or {}).items():
        canon = canonical_year(year)
        if canon is None:
            raise CalendarError(f"{path.name}: year {year!r}: expected an academic year such as 2023/24")
        try:
            entry = CollectionYear(canon, spec["opens"], spec["submission_deadline"], spec["signoff_deadline"],
                                   tuple(spec.get("required") or ()))
        except (KeyError, TypeError) as exc:
            raise CalendarError(f"{path.name}: year {year}: missing {exc}; expected opens, submission_deadline, "
                                "signoff_deadline and required") from None
        if not all(isinstance(d, dt.date) for d in (entry.opens, entry.submission_deadline, entry.signoff_deadline)) \
                or not entry.opens <= entry.submission_deadline <= entry.signoff_deadline:
            raise CalendarError(f"{path.name}: year {year}: expected dates opens <= submission_deadline <= "
                                "signoff_deadline (YYYY-MM-DD)")
        unknown = [d for d in entry.required if d not in CONTRACTS]
        if unknown:
            raise CalendarError(f"{path.name}: year {year}: unknown dataset(s) {', '.join(unknown)}; expected "
                                f"some of {', '.join(CONTRACTS)}")
        out[canon] = entry
    return out


def _document(path: Path) -> dict:
    import yaml

    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def signoff_required_from(path: Path | None = None) -> str | None:
    """The first academic year whose data reports and the label use only once signed off (``signoff_required_from``);
    earlier years are historic, back-filled data used as they are. None: no year needs a sign-off."""
    path = path or calendar_path()
    value = _document(path).get("signoff_required_from")
    if value is None:
        return None
    canon = canonical_year(str(value))
    if canon is None:
        raise CalendarError(f"{path.name}: signoff_required_from {value!r}: expected an academic year such as 2025/26")
    return canon


def year_entry(academic_year: str) -> CollectionYear | None:
    return load_calendar().get(canonical_year(academic_year) or academic_year)

"""What the steward console shows: the cycle with filters, the quarantine and failure counts per rule."""

from __future__ import annotations

from ims_indicators import settings
from ims_indicators.warehouse import open_warehouse, rows, sql_text


def quarantine_overview(dataset: str | None = None, year: str | None = None, rule: str | None = None) -> list[dict]:
    if not settings.warehouse().exists():
        return []
    with open_warehouse(read_only=True) as con:
        return rows(con, sql_text("ims_indicators.collection", "sql/quarantine_overview.sql"),
                    {"dataset": dataset, "year": year, "rule": rule})


def failures_per_rule(found: list[dict]) -> list[dict]:
    counts: dict[str, dict] = {}
    for q in found:
        c = counts.setdefault(q["rule"], {"rule": q["rule"], "n": 0, "schools": set()})
        c["n"] += 1
        c["schools"].add(q["school_id"])
    return sorted(({**c, "schools": len(c["schools"])} for c in counts.values()), key=lambda c: -c["n"])

"""Credibility edit checks against the school's previous year (severity explain/confirm), from ``checks.yaml``.

The measures are computed by ``sql/credibility.sql`` over curated data; a check is open until the keyholder
explains (or confirms) it. Fatal rules stay where they are (GX suites, read checks): their findings are the
quarantine.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ims_indicators import settings
from ims_indicators.collection import state
from ims_indicators.warehouse import open_warehouse, rows, sql_text

SEVERITIES = ("fatal", "confirm", "explain")


@cache
def _rules_cached(path: str) -> tuple[dict, ...]:
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for rule in doc.get("credibility") or ():
        if rule.get("severity") not in SEVERITIES[1:]:
            raise ValueError(f"{path}: rule {rule.get('rule')}: severity {rule.get('severity')!r}; expected "
                             "confirm or explain")
        out.append({**rule, "max_change_share": float(rule["max_change_share"])})
    return tuple(out)


def rules() -> tuple[dict, ...]:
    return _rules_cached(str(Path(__file__).with_name("checks.yaml")))


def previous_year(year: str) -> str:
    first = int(year[:4]) - 1
    return f"{first}/{str(first + 1)[-2:]}"


def measures(school_id: str, years: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """(measure, year) -> value for one school, from curated data ({} without a warehouse)."""
    if not settings.warehouse().exists():
        return {}
    query = sql_text("ims_indicators.collection", "sql/credibility.sql")
    with open_warehouse(read_only=True) as con:
        try:
            found = rows(con, f"SELECT * FROM ({query}) WHERE school_id = ? AND list_contains(?, academic_year)",
                         [school_id, list(years)])
        except Exception:  # noqa: BLE001 - curated tables not created yet: nothing to compare
            return {}
    return {(r["measure"], r["academic_year"]): int(r["value"]) for r in found}


def evaluate(school_id: str, year: str) -> list[dict]:
    """Every credibility check of a school's year that fires, with its resolution (if any)."""
    values = measures(school_id, (year, previous_year(year)))
    responses = {r["rule"]: r for r in state.check_responses(school_id, year)}
    out = []
    for rule in rules():
        now, last = values.get((rule["measure"], year)), values.get((rule["measure"], previous_year(year)))
        if now is None or not last:
            continue
        change = (now - last) / last
        if abs(change) <= rule["max_change_share"]:
            continue
        resp = responses.get(rule["rule"])
        out.append({"school_id": school_id, "academic_year": year, "dataset": rule["dataset"], "rule": rule["rule"],
                    "severity": rule["severity"], "message": rule["message"], "value": now, "previous": last,
                    "change_share": round(change, 3), "status": "resolved" if resp else "open",
                    "response": resp["response"] if resp else None})
    return out


def open_checks(school_id: str, year: str) -> list[dict]:
    return [c for c in evaluate(school_id, year) if c["status"] == "open"]

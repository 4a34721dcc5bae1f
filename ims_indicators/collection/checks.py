"""Edit checks a keyholder resolves, from ``checks.yaml``: credibility against the school's previous year
(``sql/credibility.sql``) and unusual-but-possible values row by row (``sql/unusual.sql``).

A check is open until the keyholder explains it (severity explain) or ticks that the values are right
(confirm); open checks block sign-off. Fatal rules stay where they are (GX suites, read checks): their
findings are the quarantine, and an override is the way past them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ims_indicators import settings
from ims_indicators.collection import state
from ims_indicators.warehouse import open_warehouse, rows, sql_text

SEVERITIES = ("fatal", "confirm", "explain")


KINDS = {"credibility": "max_change_share", "unusual": "max_value"}  # section of checks.yaml -> its threshold


@cache
def _rules_cached(path: str) -> tuple[dict, ...]:
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for kind, threshold in KINDS.items():
        for rule in doc.get(kind) or ():
            if rule.get("severity") not in SEVERITIES[1:]:
                raise ValueError(f"{path}: rule {rule.get('rule')}: severity {rule.get('severity')!r}; expected "
                                 "confirm or explain")
            missing = [k for k in ("rule", "dataset", "measure", threshold, "message") if k not in rule]
            if missing:
                raise ValueError(f"{path}: rule {rule.get('rule')}: missing {', '.join(missing)}")
            out.append({**rule, "kind": kind, threshold: float(rule[threshold])})
    return tuple(out)


def rules() -> tuple[dict, ...]:
    return _rules_cached(str(Path(__file__).with_name("checks.yaml")))


def previous_year(year: str) -> str:
    first = int(year[:4]) - 1
    return f"{first}/{str(first + 1)[-2:]}"


def measures(school_id: str, years: tuple[str, ...]) -> dict[tuple[str, str], int]:
    """(measure, year) -> value for one school, from curated data ({} without a warehouse)."""
    found = _query("sql/credibility.sql", school_id, list(years))
    return {(r["measure"], r["academic_year"]): int(r["value"]) for r in found}


def unusual_rows(school_id: str, year: str) -> list[dict]:
    """Every row's unusual-value measures for one school and year (measure, submission_id, source_row, value)."""
    return _query("sql/unusual.sql", school_id, [year])


def _query(name: str, school_id: str, years: list[str]) -> list[dict]:
    if not settings.warehouse().exists():
        return []
    query = sql_text("ims_indicators.collection", name)
    with open_warehouse(read_only=True) as con:
        try:
            return rows(con, f"SELECT * FROM ({query}) WHERE school_id = ? AND list_contains(?, academic_year) "
                             "ORDER BY ALL", [school_id, years])
        except Exception:  # noqa: BLE001 - curated views not created yet: nothing to check
            return []


def evaluate(school_id: str, year: str) -> list[dict]:
    """Every check of a school's year that fires, with its resolution (if any)."""
    values = measures(school_id, (year, previous_year(year)))
    unusual = unusual_rows(school_id, year) if any(r["kind"] == "unusual" for r in rules()) else []
    responses = {r["rule"]: r for r in state.check_responses(school_id, year)}
    out = []
    for rule in rules():
        if rule["kind"] == "credibility":
            now, last = values.get((rule["measure"], year)), values.get((rule["measure"], previous_year(year)))
            if now is None or not last:
                continue
            change = (now - last) / last
            if abs(change) <= rule["max_change_share"]:
                continue
            found = {"value": now, "previous": last, "change_share": round(change, 3), "rows": [],
                     "detail": f"{last} last year, {now} this year ({change:+.0%})"}
        else:
            hits = [r for r in unusual if r["measure"] == rule["measure"] and r["value"] > rule["max_value"]]
            if not hits:
                continue
            shown = ", ".join(str(h["source_row"]) for h in hits[:20]) + (" …" if len(hits) > 20 else "")
            found = {"value": max(h["value"] for h in hits), "previous": None, "change_share": None,
                     "rows": [h["source_row"] for h in hits],
                     "detail": f"{len(hits)} row(s) above {rule['max_value']:g}: row {shown}"}
        resp = responses.get(rule["rule"])
        out.append({"school_id": school_id, "academic_year": year, "dataset": rule["dataset"], "rule": rule["rule"],
                    "severity": rule["severity"], "message": rule["message"], **found,
                    "status": "resolved" if resp else "open", "response": resp["response"] if resp else None})
    return out


def open_checks(school_id: str, year: str) -> list[dict]:
    return [c for c in evaluate(school_id, year) if c["status"] == "open"]

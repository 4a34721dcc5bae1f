"""The workbook: every published table as a sheet with typed columns, a frozen header and filters.

The tables are the ones the pages show, with the same disclosure control (counts ``<k``, withheld values,
"peer N" for schools that did not consent; no point ranks). Every cell goes through :func:`write_cell`, so a
text that starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) is stored as text, never run.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ims_indicators.report.data import ReportData
from ims_indicators.report.privacy import sort_key
from ims_indicators.score.model import DECISIONS

RISKY = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"int": "#,##0", "count": "General", "float": "0.00", "pct": "0.0%", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
HEADER_FILL = PatternFill("solid", fgColor="DDE3E8")


def write_cell(ws: Worksheet, row: int, col: int, value):
    """Write one cell; text a spreadsheet would run as a formula is stored as plain text."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(RISKY):
        cell.data_type = "s"  # stored as an inline string, never evaluated
        cell.quotePrefix = True  # Excel keeps it text even after the user edits the cell
    return cell


def _clean(v: object) -> object:
    """pandas/numpy values as plain Python cell values (missing -> empty)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "tolist") and getattr(v, "ndim", 0) > 0:  # a numpy array (a DuckDB list column)
        v = v.tolist()
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return v


def write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, kinds: dict[str, str] | None = None,
                row_formats: dict[str, pd.Series] | None = None) -> Worksheet:
    """One table as a sheet: bold frozen header, autofilter, per-column number formats, rough widths.

    ``kinds``: column -> int | float | pct | date | datetime | text (default: from the dtype).
    ``row_formats``: column -> Series of number formats per row (a value column mixing shares and rates).
    """
    kinds = kinds or {}
    ws = wb.create_sheet(title[:31])
    cols = list(frame.columns)
    for j, c in enumerate(cols, start=1):
        cell = write_cell(ws, 1, j, str(c))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top")
    widths = [len(str(c)) + 2 for c in cols]
    for j, c in enumerate(cols, start=1):
        kind = kinds.get(c)
        if kind is None:
            dt = frame[c].dtype
            kind = ("int" if pd.api.types.is_integer_dtype(dt) else "float" if pd.api.types.is_float_dtype(dt)
                    else "datetime" if pd.api.types.is_datetime64_any_dtype(dt) else "text")
        fmt = FORMATS.get(kind)
        per_row = row_formats.get(c) if row_formats else None
        for i, v in enumerate(frame[c].tolist(), start=2):
            v = _clean(v)
            if kind in ("int", "float", "pct", "count") and isinstance(v, bool):
                v = int(v)
            cell = write_cell(ws, i, j, v)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                f = per_row.iloc[i - 2] if per_row is not None else fmt
                if f:
                    cell.number_format = f
            elif isinstance(v, (datetime, date)):
                cell.number_format = FORMATS["datetime" if isinstance(v, datetime) else "date"]
            elif isinstance(v, str) and v.startswith("<"):
                cell.alignment = Alignment(horizontal="right")
            if v is not None and i < 500:
                widths[j - 1] = max(widths[j - 1], min(len(str(v)) + 2, 60))
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(w, 60))
    ws.freeze_panes = "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(len(frame) + 1, 1)}"
    return ws


def _unit_formats(units: pd.Series) -> pd.Series:
    return units.map(lambda u: "0.0%" if u == "share" else "0" if u == "yes/no" else "#,##0" if u == "count" else "0.00")


def _sorted(frame: pd.DataFrame, label_col: str, *more: str) -> pd.DataFrame:
    if frame.empty:
        return frame
    key = frame[label_col].map(lambda s: sort_key(str(s)))
    return frame.assign(_k=key).sort_values(["_k", *more], kind="stable").drop(columns="_k").reset_index(drop=True)


def _withhold(col: pd.Series, mask: pd.Series, k: int) -> pd.Series:
    out = col.astype(object)
    out[mask.to_numpy()] = f"<{k}"
    return out


def _counts(col: pd.Series, k: int) -> pd.Series:
    return col.astype(object).map(lambda c: f"<{k}" if c is not None and not pd.isna(c) and 0 < c < k else c)


def build_tables(data: ReportData) -> list[tuple[str, pd.DataFrame, dict, dict]]:
    """The published tables: (sheet name, frame, column kinds, per-row number formats)."""
    k, net = data.k, data.network
    named = data.named
    cat = data.catalogue.set_index("indicator_id")
    tables = []

    about = pd.DataFrame({"item": ["generated", "data", "small counts", "withheld values", "names", "groups",
                                   "peer set"],
                          "value": [str(data.generated_at),
                                    "SYNTHETIC demo network: generated figures, not submitted by any school"
                                    if data.demo else "submissions of the network's schools",
                                    f"counts of 1 to {k - 1} are shown as <{k}",
                                    (f"a value about people whose numerator or denominator (or, for a share, the rest) "
                                     f"is such a count is shown as <{k}, its percentile and changes left empty; "
                                     "values about the institution (accreditation, submissions) are shown"),
                                    "schools that did not agree to be named appear as 'peer N'",
                                    ("CHE groups (top/middle/bottom) and A–E groups place values in context; "
                                     "schools are never ranked by score"),
                                    data.peer_set or "(benchmark not run)"]})
    tables.append(("about", about, {}, {}))

    s = data.schools
    schools = pd.DataFrame({
        "school": s["school_id"].map(net),
        "school_id": [sid if sid in named else None for sid in s["school_id"]],
        "country_code": [c if sid in named else None for sid, c in zip(s["school_id"], s["country_code"])],
        "city": [c if sid in named else None for sid, c in zip(s["school_id"], s["city"])],
        "erasmus_code": [c if sid in named else None for sid, c in zip(s["school_id"], s["erasmus_code"])],
        "network_role": s["network_role"], "named": s["consent_to_be_named"].astype(bool)})
    tables.append(("schools", _sorted(schools, "school"), {}, {}))

    sub = data.submissions
    if sub is not None and not sub.empty:
        sub = sub[sub["school_id"].notna()].copy()
        if "superseded_by" in sub:
            sub = sub[sub["superseded_by"].isna()]
        cov = pd.DataFrame({"school": sub["school_id"].astype(str).map(net).fillna("peer"),
                            "academic_year": sub.get("academic_year"), "dataset": sub["dataset"],
                            "source": sub.get("source"), "status": sub["status"],
                            "received_at": sub.get("received_at")})
        tables.append(("coverage", _sorted(cov, "school", "academic_year", "dataset"), {"received_at": "datetime"}, {}))

    tables.append(("indicators", data.catalogue.drop(columns=["position"]).rename(columns={"people": "about_people"}),
                   {}, {}))

    v = data.values
    vals = pd.DataFrame({
        "school": v["school_id"].map(net), "academic_year": v["academic_year"],
        "dimension": v["indicator_id"].map(cat["dimension"]), "indicator_id": v["indicator_id"],
        "indicator": v["indicator_id"].map(cat["name"]), "unit": v["indicator_id"].map(cat["unit"]),
        "value": _withhold(v["value"], v["withheld"], k), "numerator": _counts(v["numerator"], k),
        "denominator": _counts(v["denominator"], k), "computable": v["computable"], "reason": v["reason"],
        "source": v["source"]})
    vals = _sorted(vals.assign(_p=v["indicator_id"].map(cat["position"])), "school", "academic_year", "_p").drop(
        columns="_p")
    tables.append(("indicator_values", vals, {"numerator": "count", "denominator": "count"},
                   {"value": _unit_formats(vals["unit"])}))

    if data.groups is not None:
        g = data.groups
        w = g["withheld"]
        blank = lambda c: g[c].astype(object).where(~w, None)
        bg = pd.DataFrame({
            "school": g["school_id"].map(net), "academic_year": g["academic_year"], "peer_set": g["peer_set"],
            "indicator_id": g["indicator_id"], "indicator": g["indicator_id"].map(cat["name"]),
            "unit": g["indicator_id"].map(cat["unit"]), "value": _withhold(g["value"], w, k),
            "che_group": g["che_group"], "ume_group": g["ume_group"], "peer_n": g["peer_n"],
            "peer_median": g["peer_median"], "peer_q1": g["peer_q1"], "peer_q3": g["peer_q3"],
            "percentile": blank("percentile"), "change_1y": blank("change_1y"), "change_3y": blank("change_3y"),
            "reason": g["reason"]})
        bg = _sorted(bg.assign(_p=g["indicator_id"].map(cat["position"])), "school", "academic_year", "_p").drop(
            columns="_p")
        fmts = _unit_formats(bg["unit"])
        tables.append(("benchmark_groups", bg, {"peer_n": "int", "percentile": "float"},
                       {c: fmts for c in ("value", "peer_median", "peer_q1", "peer_q3", "change_1y", "change_3y")}))

    if data.labels is not None:
        lab = data.labels.drop(columns=[c for c in ("rank", "school_id") if c in data.labels.columns])
        lab.insert(0, "school", data.labels["school_id"].map(net).fillna("peer"))
        tables.append(("label_results", _sorted(lab, "school", "academic_year"), {"scored_at": "datetime"}, {}))
    if data.robustness is not None:
        rob = data.robustness.drop(columns=[c for c in ("nominal_rank", "school_id") if c in data.robustness.columns])
        rob.insert(0, "school", data.robustness["school_id"].map(net).fillna("peer"))
        kinds = {f"p_{d}": "pct" for d in DECISIONS}
        kinds.update({"scored_at": "datetime"})
        tables.append(("label_robustness", _sorted(rob, "school", *(["academic_year"] if "academic_year" in rob else [])),
                       kinds, {}))
    return tables


def write_workbook(data: ReportData, out: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for title, frame, kinds, row_formats in build_tables(data):
        write_sheet(wb, title, frame, kinds, row_formats)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".xlsx.tmp")
    wb.save(tmp)
    tmp.replace(out)
    return out

"""How values read in the reports: one formatting for pages, figures and the workbook."""

from __future__ import annotations

import math


def plot_value(value: object, unit: str) -> float | None:
    """A value on the scale a chart shows: shares as percent."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(v):
        return None
    return v * 100 if unit == "share" else v


def axis_suffix(unit: str) -> str:
    return {"share": " %", "per 100": "", "days": " d"}.get(unit, "")


def fmt_value(value: object, unit: str) -> str:
    """A value as a table shows it."""
    v = plot_value(value, unit)
    if v is None:
        return ""
    if unit == "share":
        return f"{v:.1f} %"
    if unit == "yes/no":
        return "yes" if v >= 0.5 else "no"
    if unit == "count":
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"
    if unit == "days":
        return f"{v:,.0f} d"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def fmt_change(value: object, unit: str) -> str:
    v = plot_value(value, unit)
    if v is None:
        return ""
    if unit == "share":
        return f"{v:+.1f} pp"
    if unit == "yes/no":
        return "" if v == 0 else ("now yes" if v > 0 else "now no")
    return f"{v:+,.2f}"

"""The survey charts: a school's item means with their 95 % intervals against the peer mean, and the network.

Figures are Plotly specs (``{"data", "layout"}``, as in ``report/figures.py``); :func:`survey_figure` returns
the validated ``go.Figure``. Disclosure control happens here too, since a figure can be drawn on its own:
an item's mean and interval are drawn only from ``max(MIN_RESPONSES, k)`` responses (``k`` the suppression
threshold); other items are marked "no group" at the left edge, without their value.
"""

from __future__ import annotations

import math

import pandas as pd

from ims_indicators.contracts import SURVEY_ITEMS, SURVEY_SCALE
from ims_indicators.report.figures import CHE_COLORS, GRID, MEDIAN, PEER, SCHOOL, Spec, figure_spec, plain_text
from ims_indicators.report.privacy import count_text
from ims_indicators.survey.che import MIN_RESPONSES

NO_GROUP = "#b8c2cc"


def _f(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def threshold(k: int | None) -> int:
    """The suppression threshold: ``k`` or ``settings.suppress_below()``."""
    from ims_indicators import settings

    return settings.suppress_below() if k is None else int(k)


def shown_from(k: int | None) -> int:
    """Fewest responses for an item's mean to be shown: the CHE minimum, or the suppression threshold if higher."""
    return max(MIN_RESPONSES, threshold(k))


def school_items(items: pd.DataFrame, school_id: str, year: str | None = None) -> pd.DataFrame:
    """One school's rows of ``marts.survey_items`` for ``year`` (default: its latest), in item order."""
    mine = items[items["school_id"].astype(str) == str(school_id)]
    if mine.empty:
        return mine
    year = year or max(mine["academic_year"].astype(str))
    mine = mine[mine["academic_year"].astype(str) == year]
    order = {item: i for i, item in enumerate(SURVEY_ITEMS)}
    return mine.assign(_o=mine["item"].map(order).fillna(99)).sort_values("_o").drop(columns="_o")


def survey_spec(items: pd.DataFrame, school_id: str, k: int | None = None, year: str | None = None,
                school_label: str | None = None) -> Spec:
    """Error bars: the school's mean and 95 % interval per item (coloured by CHE group) against the peer mean.

    ``items``: rows of ``marts.survey_items`` (several schools and years may be given; the school's latest
    year is drawn unless ``year``). Items under the display minimum are marked "no group", value withheld.
    """
    lo, hi = SURVEY_SCALE
    rows = school_items(items, school_id, year)
    floor, k = shown_from(k), threshold(k)
    label = plain_text(school_label or school_id)
    names = [plain_text(SURVEY_ITEMS.get(str(r.item), str(r.item))) for r in rows.itertuples()]
    shown = {g: {"x": [], "y": [], "plus": [], "minus": [], "text": []} for g in ("top", "middle", "bottom", None)}
    hidden = {"x": [], "y": [], "text": []}
    peer = {"x": [], "y": [], "text": []}
    for name, r in zip(names, rows.itertuples()):
        n = _f(r.n) or 0
        mean, low, high, pm = _f(r.mean), _f(r.ci_low), _f(r.ci_high), _f(r.peer_mean)
        if pm is not None:
            peer["x"].append(pm)
            peer["y"].append(name)
            peer["text"].append(f"{name}: peer mean {pm:.2f}")
        if n < floor or mean is None:
            hidden["x"].append(lo)
            hidden["y"].append(name)
            hidden["text"].append(f"{name}: no group — fewer than {floor} responses ({count_text(n, k)}); "
                                  "value not shown")
            continue
        group = r.che_group if isinstance(r.che_group, str) and r.che_group in CHE_COLORS else None
        t = shown[group]
        t["x"].append(mean)
        t["y"].append(name)
        t["plus"].append(None if high is None else high - mean)
        t["minus"].append(None if low is None else mean - low)
        interval = f"95 % interval {low:.2f}–{high:.2f}" if low is not None and high is not None else "no interval"
        reason = r.reason if isinstance(r.reason, str) and r.reason else "no group"
        t["text"].append(f"{name}: mean {mean:.2f}, {interval}, n = {n:,.0f}; "
                         + (f"{group} group" if group else plain_text(reason)))
    data: list[dict] = []
    for group, t in shown.items():
        if not t["x"]:
            continue
        color = CHE_COLORS.get(group or "", NO_GROUP)
        data.append({"type": "scatter", "mode": "markers", "x": t["x"], "y": t["y"],
                     "name": f"{label}: {group} group" if group else f"{label}: no group",
                     "marker": {"color": color, "size": 11, "line": {"color": SCHOOL, "width": 1}},
                     "error_x": {"type": "data", "symmetric": False, "array": t["plus"], "arrayminus": t["minus"],
                                 "color": SCHOOL, "thickness": 1.5, "width": 6},
                     "text": t["text"], "hovertemplate": "%{text}<extra></extra>"})
    if peer["x"]:
        data.append({"type": "scatter", "mode": "markers", "x": peer["x"], "y": peer["y"], "name": "peer mean",
                     "marker": {"symbol": "line-ns", "size": 26, "line": {"color": MEDIAN, "width": 3}},
                     "text": peer["text"], "hovertemplate": "%{text}<extra></extra>"})
    if hidden["x"]:
        data.append({"type": "scatter", "mode": "markers+text", "x": hidden["x"], "y": hidden["y"],
                     "name": f"no group (fewer than {floor} responses)", "text": ["no group"] * len(hidden["x"]),
                     "textposition": "middle right", "textfont": {"color": "#6b7785", "size": 11},
                     "marker": {"symbol": "x-thin-open", "size": 10, "line": {"color": PEER, "width": 2}},
                     "customdata": hidden["text"], "hovertemplate": "%{customdata}<extra></extra>"})
    layout = {
        "xaxis": {"range": [lo - 0.1, hi + 0.1], "dtick": 1, "showgrid": True, "gridcolor": GRID, "zeroline": False,
                  "title": {"text": "mean judgement: 1 = very good … 6 = very poor (lower is better)"}},
        "yaxis": {"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": names},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "margin": {"l": 10, "r": 10, "t": 60, "b": 50},
    }
    return figure_spec(data, layout, 44 * max(len(names), 1) + 150)


def survey_figure(items_df: pd.DataFrame, school_id: str, k: int | None = None, year: str | None = None,
                  school_label: str | None = None):
    """:func:`survey_spec` as a validated ``plotly.graph_objects.Figure``."""
    import plotly.graph_objects as go

    return go.Figure(survey_spec(items_df, school_id, k=k, year=year, school_label=school_label))


def network_spec(items: pd.DataFrame, labels: dict[str, str], year: str, k: int | None = None) -> Spec:
    """Every school's item mean (coloured by CHE group) per item, with the peer mean; one year.

    ``labels``: school_id -> the label everybody may see ("peer N" for schools that did not consent).
    Items under the display minimum are left out (their count is in the table beside the chart).
    """
    floor = shown_from(k)
    part = items[(items["academic_year"].astype(str) == year) & (pd.to_numeric(items["n"]) >= floor)
                 & items["mean"].notna()]
    names = [plain_text(v) for v in SURVEY_ITEMS.values()]
    data: list[dict] = []
    for group in ("top", "middle", "bottom", None):
        g = part[part["che_group"] == group] if group else part[~part["che_group"].isin(list(CHE_COLORS))]
        if g.empty:
            continue
        ys = [plain_text(SURVEY_ITEMS.get(i, i)) for i in g["item"]]
        text = [f"{plain_text(labels.get(str(s), 'peer'))}: {float(m):.2f}" for s, m in zip(g["school_id"], g["mean"])]
        data.append({"type": "scatter", "mode": "markers", "x": [float(m) for m in g["mean"]], "y": ys,
                     "name": f"{group} group" if group else "no group",
                     "marker": {"color": CHE_COLORS.get(group or "", NO_GROUP), "size": 9, "opacity": 0.85,
                                "line": {"color": "white", "width": 1}},
                     "text": text, "hovertemplate": "%{y}<br>%{text}<extra></extra>"})
    pm = part.groupby("item")["peer_mean"].first().dropna()
    if len(pm):
        data.append({"type": "scatter", "mode": "markers", "x": [float(v) for v in pm],
                     "y": [plain_text(SURVEY_ITEMS.get(i, i)) for i in pm.index], "name": "peer mean",
                     "marker": {"symbol": "line-ns", "size": 26, "line": {"color": MEDIAN, "width": 3}},
                     "hovertemplate": "%{y}: peer mean %{x:.2f}<extra></extra>"})
    lo, hi = SURVEY_SCALE
    layout = {
        "xaxis": {"range": [lo - 0.1, hi + 0.1], "dtick": 1, "showgrid": True, "gridcolor": GRID, "zeroline": False,
                  "title": {"text": "mean judgement: 1 = very good … 6 = very poor (lower is better)"}},
        "yaxis": {"autorange": "reversed", "automargin": True, "categoryorder": "array", "categoryarray": names},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "margin": {"l": 10, "r": 10, "t": 60, "b": 50},
    }
    return figure_spec(data, layout, 44 * len(names) + 150)

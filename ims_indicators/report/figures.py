"""Figures: functions that take tables (DataFrames, already disclosure-controlled) and return Plotly figures.

A figure is returned as a Plotly figure *spec* — ``{"data": [...], "layout": {...}}``, the JSON form of a
figure. ``go.Figure(spec)`` validates it strictly (the tests do, for every figure); the pages render the
spec without building graph objects, which is ~50× faster (≈ 0.3 ms instead of 15–90 ms a figure, and a
network report has hundreds). :func:`as_figure` gives the ``go.Figure`` when one is wanted.

No data access and no browser here. Values arrive on their stored scale; shares are drawn as percent.
Labels arrive as the audience may see them ("peer" for a school that did not consent). Plotly's JSON
writes ``<`` as ``\\u003c``, so no name can end the script it sits in; and since Plotly reads a few HTML-like
tags in any text it draws (``<b>``, ``<a href>``), every text from the data goes through :func:`plain_text`, which
escapes it: a name is drawn literally, never as markup.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from ims_indicators.report.format import axis_suffix, fmt_value, plot_value

Spec = dict[str, Any]

SCHOOL = "#1b3a6b"
PEER = "#9aa5b1"
MEDIAN = "#d9730d"
IQR = "rgba(217,115,13,0.18)"
GRID = "#eceff1"
CHE_COLORS = {"top": "#2e9b4f", "middle": "#f2c230", "bottom": "#3f7fc1"}  # CHE Ranking: green, yellow, blue
DECISION_COLORS = {"awarded": "#2e9b4f", "conditional": "#f2c230", "not_awarded": "#b8c2cc"}
DECISION_TEXT = {"awarded": "awarded", "conditional": "conditional", "not_awarded": "not awarded",
                 "refer_to_panel": "referred to the panel", "insufficient_data": "insufficient data"}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", "size": 12, "color": "#222"}
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]}


def as_figure(spec: Spec):
    """The spec as a validated ``plotly.graph_objects.Figure`` (raises on any invalid property)."""
    import plotly.graph_objects as go

    return go.Figure(spec)


def plain_text(text: object) -> str:
    """Data text as Plotly should draw it: literally (its entity decoding turns &lt; back into <)."""
    return html.escape(str(text), quote=False)


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def figure_spec(data: list[dict], layout: dict, height: int) -> Spec:
    base = {"height": height, "font": FONT, "plot_bgcolor": "white", "paper_bgcolor": "white",
            "margin": {"l": 10, "r": 10, "t": 40, "b": 30}, "hoverlabel": {"font": {"size": 12}}}
    base.update(layout)
    return {"data": data, "layout": base}


def _direction(direction: str) -> str:
    return "lower is better" if direction == "lower" else "higher is better"


def _jitter(n: int) -> list[float]:
    """Deterministic vertical spread so equal values stay visible (no randomness: pages are reproducible)."""
    return [((i * 7) % 11 - 5) / 25 for i in range(n)]


def grid(rows: int, cols: int, titles: list[str], vspace: float, hspace: float = 0.08,
         title_size: int = 12) -> tuple[dict, list[tuple[str, str]]]:
    """Subplot axes like ``make_subplots`` (which costs ~90 ms a call): layout entries and each cell's
    (xaxis ref, yaxis ref), row by row from the top."""
    layout: dict = {"annotations": []}
    refs = []
    w = (1 - hspace * (cols - 1)) / cols
    h = (1 - vspace * (rows - 1)) / rows
    for n in range(rows * cols):
        r, c = divmod(n, cols)
        suffix = "" if n == 0 else str(n + 1)
        x0 = c * (w + hspace)
        y1 = 1 - r * (h + vspace)
        layout[f"xaxis{suffix}"] = {"domain": [round(x0, 6), round(x0 + w, 6)], "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {"domain": [round(max(y1 - h, 0), 6), round(y1, 6)], "anchor": f"x{suffix}"}
        refs.append((f"x{suffix}", f"y{suffix}"))
        if n < len(titles):
            layout["annotations"].append({"text": titles[n], "x": x0, "y": y1, "xref": "paper", "yref": "paper",
                                          "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                                          "font": {"size": title_size}})
    return layout, refs


def _axis(layout: dict, ref: str, **props) -> None:
    key = ("xaxis" if ref.startswith("x") else "yaxis") + ref[1:]
    layout[key].update(props)


def _small_multiples(frame: pd.DataFrame, cols: int, box: tuple[int, int, int, int], hspace: float,
                     title_size: int = 12) -> tuple[dict[str, list[dict]], list[str], dict, list, int]:
    """One panel per indicator of ``frame`` in a grid of ``cols`` columns; ``box`` = (top, bottom, row, gap) px.

    Returns the records per indicator, the indicators in order, the grid layout, each panel's axis refs and the
    figure height. Plain Python: a groupby per figure costs more than the figure.
    """
    parts: dict[str, list[dict]] = {}
    for rec in frame.to_dict("records"):
        parts.setdefault(rec["indicator_id"], []).append(rec)
    inds = list(parts)
    n = max(len(inds), 1)
    cols = min(cols, n)
    nrows = math.ceil(n / cols)
    top, bottom, row_px, gap_px = box
    area = nrows * row_px + (nrows - 1) * gap_px
    titles = [plain_text(parts[i][0]["name"]) for i in inds]
    layout, refs = grid(nrows, cols, titles, vspace=gap_px / area if nrows > 1 else 0, hspace=hspace,
                        title_size=title_size)
    return parts, inds, layout, refs, area + top + bottom


def peer_dot_plot(rows: pd.DataFrame, peers: pd.DataFrame, school_label: str) -> Spec:
    """One line per indicator: the peers' values (grey), the peer median and quartiles, and the school.

    ``rows``: indicator_id, name, unit, direction, value (the school's; NaN if withheld), peer_median,
    peer_q1, peer_q3. ``peers``: indicator_id, label, value — the other schools' publishable values.
    """
    recs = rows.to_dict("records")
    n = max(len(recs), 1)
    titles = [f"{plain_text(r['name'])} <span style='color:#5f6b76'>({_direction(r['direction'])})</span>" for r in recs]
    top, bottom, row_px, gap_px = 40, 30, 44, 58  # gap: the row's tick labels and the next row's title
    area = n * row_px + (n - 1) * gap_px
    height = area + top + bottom
    layout, refs = grid(n, 1, titles, vspace=gap_px / area if n > 1 else 0)
    data: list[dict] = []
    by_ind: dict[str, list[tuple]] = {}
    for ind, v, lab in zip(peers["indicator_id"], peers["value"], peers["label"]):
        by_ind.setdefault(ind, []).append((v, lab))
    shown: set[str] = set()

    def legend(group: str) -> bool:  # each legend entry once, at its first appearance
        first = group not in shown
        shown.add(group)
        return first

    for i, r in enumerate(recs):
        xr, yr = refs[i]
        unit = r["unit"]
        q1, q3 = plot_value(r["peer_q1"], unit), plot_value(r["peer_q3"], unit)
        med = plot_value(r["peer_median"], unit)
        if q1 is not None and q3 is not None:
            data.append({"type": "scatter", "x": [q1, q3], "y": [0, 0], "xaxis": xr, "yaxis": yr, "mode": "lines",
                         "line": {"color": IQR, "width": 16}, "name": "peer quartiles (Q1–Q3)", "legendgroup": "iqr",
                         "showlegend": legend("iqr"), "hoverinfo": "skip"})
        p = by_ind.get(r["indicator_id"])
        if p:
            pts = [(plot_value(v, unit), lab, v) for v, lab in p]
            pts = [t for t in pts if t[0] is not None]
            data.append({"type": "scatter", "x": [t[0] for t in pts], "y": _jitter(len(pts)), "xaxis": xr, "yaxis": yr,
                         "mode": "markers", "name": "peers", "legendgroup": "peers", "showlegend": legend("peers"),
                         "marker": {"color": PEER, "size": 9, "opacity": 0.8, "line": {"color": "white", "width": 1}},
                         "text": [plain_text(t[1]) for t in pts], "customdata": [fmt_value(t[2], unit) for t in pts],
                         "hovertemplate": "%{text}: %{customdata}<extra></extra>"})
        if med is not None:
            data.append({"type": "scatter", "x": [med], "y": [0], "xaxis": xr, "yaxis": yr, "mode": "markers",
                         "marker": {"symbol": "line-ns", "size": 26, "line": {"color": MEDIAN, "width": 3}},
                         "name": "peer median", "legendgroup": "median", "showlegend": legend("median"),
                         "hovertemplate": f"peer median: {fmt_value(r['peer_median'], unit)}<extra></extra>"})
        own = plot_value(r["value"], unit)
        if own is not None:
            data.append({"type": "scatter", "x": [own], "y": [0], "xaxis": xr, "yaxis": yr, "mode": "markers",
                         "marker": {"symbol": "diamond", "size": 16, "color": SCHOOL,
                                    "line": {"color": "white", "width": 1.5}},
                         "name": plain_text(school_label), "legendgroup": "school", "showlegend": legend("school"),
                         "meta": plain_text(school_label),
                         "hovertemplate": f"%{{meta}}: {fmt_value(r['value'], unit)}<extra></extra>"})
        _axis(layout, xr, ticksuffix=axis_suffix(unit), showgrid=True, gridcolor=GRID, zeroline=False)
        _axis(layout, yr, visible=False, range=[-0.5, 0.5], fixedrange=True)
    layout.update({"legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "top",
                              "yref": "container", "font": {"size": 11}},
                   "hovermode": "closest", "margin": {"l": 10, "r": 10, "t": top, "b": bottom}})
    return figure_spec(data, layout, height)


def trend_plot(trend: pd.DataFrame, school_label: str, cols: int = 2) -> Spec:
    """Per indicator: the school's value over the years against the peer median and quartile band.

    ``trend``: indicator_id, name, unit, academic_year, value, peer_median, peer_q1, peer_q3.
    """
    top, bottom = 50, 30
    parts, inds, layout, refs, height = _small_multiples(trend, cols, (top, bottom, 170, 60), hspace=0.12)
    data: list[dict] = []
    for k, ind in enumerate(inds):
        xr, yr = refs[k]
        t = sorted(parts[ind], key=lambda r: str(r["academic_year"]))
        unit = str(t[0]["unit"])
        years = [str(r["academic_year"]) for r in t]
        first = k == 0
        q1 = [plot_value(r["peer_q1"], unit) for r in t]
        q3 = [plot_value(r["peer_q3"], unit) for r in t]
        med = [plot_value(r["peer_median"], unit) for r in t]
        if any(v is not None for v in q1):
            data.append({"type": "scatter", "x": years, "y": q3, "xaxis": xr, "yaxis": yr, "mode": "lines",
                         "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False, "legendgroup": "iqr"})
            data.append({"type": "scatter", "x": years, "y": q1, "xaxis": xr, "yaxis": yr, "mode": "lines",
                         "line": {"width": 0}, "fill": "tonexty", "fillcolor": IQR, "name": "peer quartiles (Q1–Q3)",
                         "legendgroup": "iqr", "showlegend": first, "hoverinfo": "skip"})
        if any(v is not None for v in med):
            data.append({"type": "scatter", "x": years, "y": med, "xaxis": xr, "yaxis": yr, "mode": "lines+markers",
                         "line": {"color": MEDIAN, "dash": "dash"}, "name": "peer median", "legendgroup": "median",
                         "showlegend": first, "customdata": [fmt_value(r["peer_median"], unit) for r in t],
                         "hovertemplate": "%{x} peer median: %{customdata}<extra></extra>"})
        data.append({"type": "scatter", "x": years, "y": [plot_value(r["value"], unit) for r in t], "xaxis": xr,
                     "yaxis": yr, "mode": "lines+markers", "line": {"color": SCHOOL, "width": 2.5},
                     "marker": {"size": 8}, "name": plain_text(school_label), "legendgroup": "school", "showlegend": first,
                     "connectgaps": False, "customdata": [fmt_value(r["value"], unit) for r in t],
                     "hovertemplate": "%{x}: %{customdata}<extra></extra>"})
        _axis(layout, xr, type="category", showgrid=False)
        _axis(layout, yr, ticksuffix=axis_suffix(unit), showgrid=True, gridcolor=GRID, zeroline=False,
              automargin=True)
    for ref in refs[len(inds):]:  # empty cells of the last row
        _axis(layout, ref[0], visible=False)
        _axis(layout, ref[1], visible=False)
    layout.update({"legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "top",
                              "yref": "container", "font": {"size": 11}},
                   "margin": {"l": 50, "r": 10, "t": top, "b": bottom}})
    return figure_spec(data, layout, height)


def group_heatmap(cells: pd.DataFrame, schools: list[str], indicators: list[str]) -> Spec:
    """Indicators × schools, each cell coloured by its CHE group, with the A–E group as its text.

    ``cells``: label, indicator (display name), che_group, ume_group and (optional) reason. ``schools`` and
    ``indicators`` fix the order of columns (alphabetical by label: not a ranking) and rows (catalogue order).
    A cell without a group stays blank; its hover text says why (the reason).
    """
    code = {"bottom": 1, "middle": 2, "top": 3}
    z: list[list[Any]] = [[None] * len(schools) for _ in indicators]
    text = [[""] * len(schools) for _ in indicators]
    hover = [["no group"] * len(schools) for _ in indicators]
    col = {s: j for j, s in enumerate(schools)}
    row = {s: i for i, s in enumerate(indicators)}
    for c in cells.itertuples():
        if c.label not in col or c.indicator not in row:
            continue
        i, j = row[c.indicator], col[c.label]
        che = c.che_group if isinstance(c.che_group, str) and c.che_group else None
        ume = c.ume_group if isinstance(c.ume_group, str) else ""
        z[i][j] = code.get(che) if che else None
        text[i][j] = ume
        why = getattr(c, "reason", "") if not che else ""
        hover[i][j] = (f"CHE group: {che}, A–E group: {ume or 'none'}" if che
                       else "no group: " + plain_text(why if isinstance(why, str) and why else "no value"))
    scale = [[0, CHE_COLORS["bottom"]], [1 / 3, CHE_COLORS["bottom"]], [1 / 3, CHE_COLORS["middle"]],
             [2 / 3, CHE_COLORS["middle"]], [2 / 3, CHE_COLORS["top"]], [1, CHE_COLORS["top"]]]
    trace = {"type": "heatmap", "z": z, "x": [plain_text(s) for s in schools], "y": [plain_text(i) for i in indicators],
             "text": text, "texttemplate": "%{text}", "customdata": hover, "zmin": 0.5, "zmax": 3.5,
             "colorscale": scale, "xgap": 2, "ygap": 2, "hoverongaps": True,
             "hovertemplate": "%{x}<br>%{y}<br>%{customdata}<extra></extra>",
             "colorbar": {"tickvals": [1, 2, 3], "ticktext": ["bottom", "middle", "top"], "title": {"text": "CHE group"},
                          "thickness": 14, "len": min(1.0, 180 / (28 * max(len(indicators), 1) + 1))}}
    layout = {"yaxis": {"autorange": "reversed", "type": "category", "automargin": True},
              "xaxis": {"type": "category", "tickangle": -35, "side": "top", "automargin": True},
              "margin": {"l": 10, "r": 10, "t": 20, "b": 10}}
    return figure_spec([trace], layout, 28 * max(len(indicators), 1) + 220)


def distribution_plot(values: pd.DataFrame, cols: int = 3) -> Spec:
    """Small multiples: per indicator the spread of the schools' publishable values (box and points).

    ``values``: indicator_id, name, unit, label, value.
    """
    top, bottom = 30, 20
    parts, inds, layout, refs, height = _small_multiples(values, cols, (top, bottom, 190, 50), hspace=0.1,
                                                         title_size=11)
    data = []
    for k, ind in enumerate(inds):
        xr, yr = refs[k]
        v = parts[ind]
        unit = str(v[0]["unit"])
        pts = [(plot_value(r["value"], unit), r["label"], r["value"]) for r in v]
        pts = [p for p in pts if p[0] is not None]
        data.append({"type": "box", "y": [p[0] for p in pts], "x": [""] * len(pts), "xaxis": xr, "yaxis": yr,
                     "boxpoints": "all", "jitter": 0.5, "pointpos": 0, "name": "", "showlegend": False,
                     "marker": {"color": SCHOOL, "size": 6, "opacity": 0.7}, "line": {"color": MEDIAN},
                     "fillcolor": IQR, "text": [plain_text(p[1]) for p in pts],
                     "customdata": [fmt_value(p[2], unit) for p in pts],
                     "hovertemplate": "%{text}: %{customdata}<extra></extra>"})
        _axis(layout, yr, ticksuffix=axis_suffix(unit), showgrid=True, gridcolor=GRID, zeroline=False,
              automargin=True)
        _axis(layout, xr, showticklabels=False)
    for ref in refs[len(inds):]:
        _axis(layout, ref[0], visible=False)
        _axis(layout, ref[1], visible=False)
    layout["margin"] = {"l": 50, "r": 10, "t": top, "b": bottom}
    return figure_spec(data, layout, height)


def dimension_profile(scores: pd.DataFrame, school_label: str, thresholds: dict[str, float] | None = None) -> Spec:
    """The school's dimension scores (bars) against the other scored schools' median and quartiles.

    ``scores``: name, score, peer_median, peer_q1, peer_q3 (one row per dimension, 0–100).
    ``thresholds``: decision -> minimum dimension score, drawn as vertical lines.
    """
    names = [plain_text(n) for n in scores["name"]]
    sc = [_num(s) for s in scores["score"]]
    med = [_num(m) for m in scores["peer_median"]]
    plus = [None if h is None or m is None else h - m for h, m in zip((_num(x) for x in scores["peer_q3"]), med)]
    minus = [None if q is None or m is None else m - q for q, m in zip((_num(x) for x in scores["peer_q1"]), med)]
    data = [
        {"type": "bar", "x": sc, "y": names, "orientation": "h", "name": plain_text(school_label), "marker": {"color": SCHOOL},
         "text": ["" if s is None else f"{s:.1f}" for s in sc], "textposition": "inside",
         "hovertemplate": "%{y}: %{x:.1f}<extra></extra>"},
        {"type": "scatter", "x": med, "y": names, "mode": "markers", "name": "network median (Q1–Q3)",
         "marker": {"symbol": "line-ns", "size": 22, "line": {"color": MEDIAN, "width": 3}},
         "error_x": {"type": "data", "array": plus, "arrayminus": minus, "color": MEDIAN, "thickness": 1.5, "width": 6},
         "hovertemplate": "%{y}: network median %{x:.1f}<extra></extra>"},
    ]
    shapes, notes = [], []
    for dec, thr in (thresholds or {}).items():
        if thr is None:
            continue
        color = DECISION_COLORS.get(dec, "#999")
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": thr, "x1": thr, "y0": 0, "y1": 1,
                       "line": {"color": color, "dash": "dot", "width": 2}})
        notes.append({"text": f"{DECISION_TEXT.get(dec, dec)} ≥ {thr:g}", "x": thr, "y": 1, "xref": "x",
                      "yref": "paper", "yanchor": "bottom", "showarrow": False, "font": {"size": 10}})
    layout = {"xaxis": {"range": [0, 100], "showgrid": True, "gridcolor": GRID, "title": {"text": "score (0–100)"}},
              "yaxis": {"autorange": "reversed", "automargin": True}, "shapes": shapes, "annotations": notes,
              "legend": {"orientation": "h", "x": 0, "y": 1.12, "yanchor": "bottom"},
              "margin": {"l": 10, "r": 10, "t": 70, "b": 40}, "bargap": 0.35}
    return figure_spec(data, layout, 60 * max(len(names), 1) + 170)


def decision_probabilities(probs: dict[str, float]) -> Spec:
    """How often each decision came out over the robustness analysis' Monte Carlo draws (one stacked bar)."""
    data = []
    for dec in ("awarded", "conditional", "not_awarded"):
        p = _num(probs.get(dec))
        if p is None:
            continue
        data.append({"type": "bar", "x": [p * 100], "y": ["decision"], "orientation": "h", "name": DECISION_TEXT[dec],
                     "marker": {"color": DECISION_COLORS[dec]}, "text": [f"{p:.0%}" if p >= 0.04 else ""],
                     "textposition": "inside", "hovertemplate": f"{DECISION_TEXT[dec]}: {p:.1%}<extra></extra>"})
    layout = {"barmode": "stack", "xaxis": {"range": [0, 100], "ticksuffix": " %"}, "yaxis": {"visible": False},
              "legend": {"orientation": "h", "x": 0, "y": 1.05, "yanchor": "bottom", "traceorder": "normal"},
              "margin": {"l": 10, "r": 10, "t": 30, "b": 30}}
    return figure_spec(data, layout, 160)


def decisions_by_year(labels: pd.DataFrame) -> Spec:
    """Number of schools per decision and academic year (``labels``: academic_year, decision)."""
    counts = labels.groupby(["academic_year", "decision"]).size().unstack(fill_value=0)
    years = [str(y) for y in counts.index]
    data = []
    for dec in ("awarded", "conditional", "not_awarded"):
        if dec in counts.columns:
            data.append({"type": "bar", "x": years, "y": [int(v) for v in counts[dec]], "name": DECISION_TEXT[dec],
                         "marker": {"color": DECISION_COLORS[dec]},
                         "hovertemplate": f"%{{x}}: %{{y}} {DECISION_TEXT[dec]}<extra></extra>"})
    layout = {"barmode": "stack", "xaxis": {"type": "category"},
              "yaxis": {"title": {"text": "schools"}, "rangemode": "tozero", "automargin": True},
              "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "traceorder": "normal"},
              "margin": {"l": 10, "r": 10, "t": 40, "b": 30}}
    return figure_spec(data, layout, 300)

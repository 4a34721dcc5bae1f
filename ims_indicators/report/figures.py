"""Figures: functions that take tables (DataFrames, already disclosure-controlled) and return Plotly figures.

No data access and no browser here, so each figure can be tested on its own. Values arrive on their
stored scale; shares are drawn as percent. Labels arrive as the audience may see them ("peer" for a
school that did not consent). Plotly's JSON writes ``<`` as ``\\u003c``, so a name in hover text stays text.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ims_indicators.report.data import axis_suffix, fmt_value, plot_value

SCHOOL = "#1b3a6b"
PEER = "#9aa5b1"
MEDIAN = "#d9730d"
IQR = "rgba(217,115,13,0.18)"
CHE_COLORS = {"top": "#2e9b4f", "middle": "#f2c230", "bottom": "#3f7fc1"}  # CHE Ranking: green, yellow, blue
DECISION_COLORS = {"awarded": "#2e9b4f", "conditional": "#f2c230", "not_awarded": "#b8c2cc"}
DECISION_TEXT = {"awarded": "awarded", "conditional": "conditional", "not_awarded": "not awarded"}
FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", size=12, color="#222")
CONFIG = {"displaylogo": False, "responsive": True,
          "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]}


def _t(text: object) -> str:
    """Data text as Plotly should draw it: literally (its entity decoding turns &lt; back into <)."""
    return html.escape(str(text), quote=False)


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, font=FONT, plot_bgcolor="white", paper_bgcolor="white",
                      margin=dict(l=10, r=10, t=40, b=30), hoverlabel=dict(font_size=12), **kw)
    return fig


def _direction(direction: str) -> str:
    return "lower is better" if direction == "lower" else "higher is better"


def _jitter(n: int) -> list[float]:
    """Deterministic vertical spread so equal values stay visible (no randomness: pages are reproducible)."""
    return [((i * 7) % 11 - 5) / 25 for i in range(n)]


def peer_dot_plot(rows: pd.DataFrame, peers: pd.DataFrame, school_label: str) -> go.Figure:
    """One line per indicator: the peers' values (grey), the peer median and quartiles, and the school.

    ``rows``: indicator_id, name, unit, direction, value (the school's; NaN if withheld), peer_median,
    peer_q1, peer_q3. ``peers``: indicator_id, label, value — the other schools' publishable values.
    """
    n = max(len(rows), 1)
    titles = [f"{_t(r.name)} ({_direction(r.direction)})" for r in rows.itertuples()]
    fig = make_subplots(rows=n, cols=1, subplot_titles=titles or [""], vertical_spacing=min(0.1, 0.5 / n))
    for i, r in enumerate(rows.itertuples(), start=1):
        unit = r.unit
        first = i == 1
        q1, q3, med = plot_value(r.peer_q1, unit), plot_value(r.peer_q3, unit), plot_value(r.peer_median, unit)
        if q1 is not None and q3 is not None:
            fig.add_trace(go.Scatter(x=[q1, q3], y=[0, 0], mode="lines", line=dict(color=IQR, width=16),
                                     name="peer quartiles (Q1–Q3)", legendgroup="iqr", showlegend=first,
                                     hoverinfo="skip"), row=i, col=1)
        p = peers[peers["indicator_id"] == r.indicator_id]
        xs = [plot_value(v, unit) for v in p["value"]]
        keep = [k for k, x in enumerate(xs) if x is not None]
        fig.add_trace(go.Scatter(
            x=[xs[k] for k in keep], y=_jitter(len(keep)), mode="markers",
            marker=dict(color=PEER, size=9, opacity=0.8, line=dict(color="white", width=1)),
            text=[_t(p["label"].iloc[k]) for k in keep],
            customdata=[fmt_value(p["value"].iloc[k], unit) for k in keep],
            hovertemplate="%{text}: %{customdata}<extra></extra>", name="peers", legendgroup="peers",
            showlegend=first), row=i, col=1)
        if med is not None:
            fig.add_trace(go.Scatter(x=[med], y=[0], mode="markers",
                                     marker=dict(symbol="line-ns", size=26, line=dict(color=MEDIAN, width=3)),
                                     name="peer median", legendgroup="median", showlegend=first,
                                     hovertemplate=f"peer median: {fmt_value(r.peer_median, unit)}<extra></extra>"),
                          row=i, col=1)
        own = plot_value(r.value, unit)
        if own is not None:
            fig.add_trace(go.Scatter(x=[own], y=[0], mode="markers",
                                     marker=dict(symbol="diamond", size=16, color=SCHOOL,
                                                 line=dict(color="white", width=1.5)),
                                     name=_t(school_label), legendgroup="school", showlegend=first,
                                     hovertemplate=f"%{{meta}}: {fmt_value(r.value, unit)}<extra></extra>",
                                     meta=_t(school_label)), row=i, col=1)
        fig.update_xaxes(ticksuffix=axis_suffix(unit), row=i, col=1)
    fig.update_yaxes(visible=False, range=[-0.5, 0.5], fixedrange=True)
    fig.update_xaxes(showgrid=True, gridcolor="#eceff1", zeroline=False)
    fig.update_annotations(font_size=12, xanchor="left", x=0)
    return _layout(fig, 95 * n + 80, legend=dict(orientation="h", y=-0.5 / n, x=0), hovermode="closest")


def trend_plot(trend: pd.DataFrame, school_label: str, cols: int = 2) -> go.Figure:
    """Per indicator: the school's value over the years against the peer median and quartile band.

    ``trend``: indicator_id, name, unit, academic_year, value, peer_median, peer_q1, peer_q3.
    """
    inds = list(dict.fromkeys(trend["indicator_id"]))
    n = max(len(inds), 1)
    rows = math.ceil(n / cols)
    names = [_t(trend.loc[trend["indicator_id"] == i, "name"].iloc[0]) for i in inds]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names or [""], vertical_spacing=min(0.12, 0.6 / rows),
                        horizontal_spacing=0.08)
    for k, ind in enumerate(inds):
        r, c = k // cols + 1, k % cols + 1
        t = trend[trend["indicator_id"] == ind].sort_values("academic_year")
        unit = str(t["unit"].iloc[0])
        years = list(t["academic_year"].astype(str))
        first = k == 0
        q1 = [plot_value(v, unit) for v in t["peer_q1"]]
        q3 = [plot_value(v, unit) for v in t["peer_q3"]]
        if any(v is not None for v in q1):
            fig.add_trace(go.Scatter(x=years, y=q3, mode="lines", line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup="iqr"), row=r, col=c)
            fig.add_trace(go.Scatter(x=years, y=q1, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=IQR,
                                     name="peer quartiles (Q1–Q3)", legendgroup="iqr", showlegend=first,
                                     hoverinfo="skip"), row=r, col=c)
        med = [plot_value(v, unit) for v in t["peer_median"]]
        if any(v is not None for v in med):
            fig.add_trace(go.Scatter(x=years, y=med, mode="lines+markers", line=dict(color=MEDIAN, dash="dash"),
                                     name="peer median", legendgroup="median", showlegend=first,
                                     customdata=[fmt_value(v, unit) for v in t["peer_median"]],
                                     hovertemplate="%{x} peer median: %{customdata}<extra></extra>"), row=r, col=c)
        fig.add_trace(go.Scatter(x=years, y=[plot_value(v, unit) for v in t["value"]], mode="lines+markers",
                                 line=dict(color=SCHOOL, width=2.5), marker=dict(size=8), name=_t(school_label),
                                 legendgroup="school", showlegend=first, connectgaps=False,
                                 customdata=[fmt_value(v, unit) for v in t["value"]],
                                 hovertemplate="%{x}: %{customdata}<extra></extra>"), row=r, col=c)
        fig.update_yaxes(ticksuffix=axis_suffix(unit), row=r, col=c)
        fig.update_xaxes(type="category", row=r, col=c)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(showgrid=True, gridcolor="#eceff1", zeroline=False)
    fig.update_annotations(font_size=12)
    return _layout(fig, 230 * rows + 90, legend=dict(orientation="h", y=-0.35 / rows, x=0))


def group_heatmap(cells: pd.DataFrame, schools: list[str], indicators: list[str]) -> go.Figure:
    """Schools × indicators, each cell coloured by its CHE group, with the A–E group as its text.

    ``cells``: label, indicator (display name), che_group, ume_group. ``schools`` and ``indicators`` fix the
    order of columns (alphabetical by label: not a ranking) and rows (catalogue order).
    """
    code = {"bottom": 1, "middle": 2, "top": 3}
    z = [[None] * len(schools) for _ in indicators]
    text = [[""] * len(schools) for _ in indicators]
    hover = [["no group"] * len(schools) for _ in indicators]
    col = {s: j for j, s in enumerate(schools)}
    row = {s: i for i, s in enumerate(indicators)}
    for c in cells.itertuples():
        if c.label not in col or c.indicator not in row:
            continue
        i, j = row[c.indicator], col[c.label]
        che = c.che_group if isinstance(c.che_group, str) else None
        ume = c.ume_group if isinstance(c.ume_group, str) else ""
        z[i][j] = code.get(che) if che else None
        text[i][j] = ume
        hover[i][j] = f"CHE group: {che or 'none'}, A–E group: {ume or 'none'}"
    scale = [[0, CHE_COLORS["bottom"]], [1 / 3, CHE_COLORS["bottom"]], [1 / 3, CHE_COLORS["middle"]],
             [2 / 3, CHE_COLORS["middle"]], [2 / 3, CHE_COLORS["top"]], [1, CHE_COLORS["top"]]]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_t(s) for s in schools], y=[_t(i) for i in indicators], text=text, texttemplate="%{text}", customdata=hover, zmin=0.5, zmax=3.5,
        colorscale=scale, xgap=2, ygap=2, hoverongaps=False,
        hovertemplate="%{x}<br>%{y}<br>%{customdata}<extra></extra>",
        colorbar=dict(tickvals=[1, 2, 3], ticktext=["bottom", "middle", "top"], title=dict(text="CHE group"),
                      thickness=14, len=min(1.0, 180 / (28 * len(indicators) + 1)))))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", tickangle=-35, side="top")
    return _layout(fig, 28 * max(len(indicators), 1) + 220, margin=dict(l=10, r=10, t=150, b=10))


def distribution_plot(values: pd.DataFrame, cols: int = 3) -> go.Figure:
    """Small multiples: per indicator the spread of the schools' publishable values (box and points).

    ``values``: indicator_id, name, unit, label, value.
    """
    inds = list(dict.fromkeys(values["indicator_id"]))
    n = max(len(inds), 1)
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    names = [_t(values.loc[values["indicator_id"] == i, "name"].iloc[0]) for i in inds]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names or [""], vertical_spacing=min(0.15, 0.6 / rows),
                        horizontal_spacing=0.07)
    for k, ind in enumerate(inds):
        r, c = k // cols + 1, k % cols + 1
        v = values[values["indicator_id"] == ind]
        unit = str(v["unit"].iloc[0])
        ys = [plot_value(x, unit) for x in v["value"]]
        keep = [i for i, y in enumerate(ys) if y is not None]
        fig.add_trace(go.Box(
            y=[ys[i] for i in keep], x=[""] * len(keep), boxpoints="all", jitter=0.5, pointpos=0, name="",
            marker=dict(color=SCHOOL, size=6, opacity=0.7), line=dict(color=MEDIAN), fillcolor=IQR,
            text=[_t(v["label"].iloc[i]) for i in keep], customdata=[fmt_value(v["value"].iloc[i], unit) for i in keep],
            hovertemplate="%{text}: %{customdata}<extra></extra>", showlegend=False), row=r, col=c)
        fig.update_yaxes(ticksuffix=axis_suffix(unit), row=r, col=c)
    fig.update_yaxes(showgrid=True, gridcolor="#eceff1", zeroline=False)
    fig.update_annotations(font_size=11)
    return _layout(fig, 240 * rows + 40)


def dimension_profile(scores: pd.DataFrame, school_label: str, thresholds: dict[str, float] | None = None) -> go.Figure:
    """The school's dimension scores (bars) against the other scored schools' median and quartiles.

    ``scores``: name, score, peer_median, peer_q1, peer_q3 (one row per dimension, 0–100).
    ``thresholds``: decision -> minimum dimension score, drawn as vertical lines.
    """
    names = [_t(n) for n in scores["name"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(scores["score"]), y=names, orientation="h", name=_t(school_label), marker_color=SCHOOL,
                         text=[("" if pd.isna(s) else f"{s:.1f}") for s in scores["score"]], textposition="inside",
                         hovertemplate="%{y}: %{x:.1f}<extra></extra>"))
    lo, hi = list(scores["peer_q1"]), list(scores["peer_q3"])
    med = list(scores["peer_median"])
    err_plus = [None if pd.isna(h) or pd.isna(m) else h - m for h, m in zip(hi, med)]
    err_minus = [None if pd.isna(q) or pd.isna(m) else m - q for q, m in zip(lo, med)]
    fig.add_trace(go.Scatter(x=med, y=names, mode="markers", name="network median (Q1–Q3)",
                             marker=dict(symbol="line-ns", size=22, line=dict(color=MEDIAN, width=3)),
                             error_x=dict(type="data", array=err_plus, arrayminus=err_minus, color=MEDIAN,
                                          thickness=1.5, width=6),
                             hovertemplate="%{y}: network median %{x:.1f}<extra></extra>"))
    for dec, thr in (thresholds or {}).items():
        if thr is None:
            continue
        fig.add_vline(x=thr, line=dict(color=DECISION_COLORS.get(dec, "#999"), dash="dot", width=2),
                      annotation_text=f"{DECISION_TEXT.get(dec, dec)} ≥ {thr:g}", annotation_position="top",
                      annotation_font_size=10)
    fig.update_xaxes(range=[0, 100], showgrid=True, gridcolor="#eceff1", title_text="score (0–100)")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, 60 * max(len(names), 1) + 150, legend=dict(orientation="h", y=-0.3, x=0),
                   margin=dict(l=10, r=10, t=50, b=40))


def decision_probabilities(probs: dict[str, float]) -> go.Figure:
    """How often each decision came out over the robustness analysis' Monte Carlo draws (one stacked bar)."""
    fig = go.Figure()
    for dec in ("awarded", "conditional", "not_awarded"):
        p = probs.get(dec)
        if p is None or (isinstance(p, float) and math.isnan(p)):
            continue
        fig.add_trace(go.Bar(x=[p * 100], y=["decision"], orientation="h", name=DECISION_TEXT[dec],
                             marker_color=DECISION_COLORS[dec], text=[f"{p:.0%}" if p >= 0.04 else ""],
                             textposition="inside", hovertemplate=f"{DECISION_TEXT[dec]}: {p:.1%}<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], ticksuffix=" %")
    fig.update_yaxes(visible=False)
    return _layout(fig, 150, legend=dict(orientation="h", y=-0.5, x=0), margin=dict(l=10, r=10, t=10, b=30))


def decisions_by_year(labels: pd.DataFrame) -> go.Figure:
    """Number of schools per decision and academic year (``labels``: academic_year, decision)."""
    fig = go.Figure()
    counts = labels.groupby(["academic_year", "decision"]).size().unstack(fill_value=0)
    years = [str(y) for y in counts.index]
    for dec in ("awarded", "conditional", "not_awarded"):
        if dec in counts.columns:
            fig.add_trace(go.Bar(x=years, y=list(counts[dec]), name=DECISION_TEXT[dec], marker_color=DECISION_COLORS[dec],
                                 hovertemplate=f"%{{x}}: %{{y}} {DECISION_TEXT[dec]}<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="schools", dtick=1 if len(labels) < 30 else None)
    return _layout(fig, 300, legend=dict(orientation="h", y=-0.2, x=0))

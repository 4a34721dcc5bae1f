"""Pages: turn :class:`ReportData` into the contexts the Jinja2 templates render, and render them.

Autoescape is on for every template; the only ``Markup`` values are our own Plotly fragments and the
plotly.js bundle, never data. Pages reference ``assets/plotly.min.js`` (one copy beside the pages) unless
``inline`` asks for plotly.js inside each page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ims_indicators.report import figures
from ims_indicators.report.data import ReportData, fmt_change, fmt_value
from ims_indicators.report.privacy import count_text, sort_key
from ims_indicators.score.model import DECISIONS
from ims_indicators.survey import report as survey_report

ASSET = "assets/plotly.min.js"
DATASET_ORDER = ("enrolment", "mobility", "staffing", "accreditation")
STATUS = {
    "accepted": ("ok", "✓", "accepted"),
    "accepted_with_quarantine": ("part", "◐", "accepted, some rows held back"),
    "rejected": ("bad", "✗", "rejected"),
    "staged": ("wait", "…", "received, not yet validated"),
}
_env: Environment | None = None


def env() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=PackageLoader("ims_indicators.report", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=True, lstrip_blocks=True)
        _env.filters["pct"] = lambda p: "" if p is None or pd.isna(p) else f"{p:.0%}"
        _env.filters["num"] = lambda v, d=1: "" if v is None or pd.isna(v) else f"{v:.{d}f}"
    return _env


def safe_name(school_id: str) -> str:
    """A school id as a file name (ids are slugs already; this only guards against anything else)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", school_id).lstrip(".") or "_"


class Figures:
    """Collects figure fragments for one page; numbers the chart containers."""

    def __init__(self, prefix: str):
        self.prefix, self.n = prefix, 0

    def __call__(self, spec: figures.Spec) -> Markup:
        import plotly.io as pio

        self.n += 1
        div = f"{self.prefix}-chart-{self.n}"
        return Markup(pio.to_html(spec, full_html=False, include_plotlyjs=False, div_id=div, config=figures.CONFIG,
                                  validate=False))


def _txt(x: object) -> str:
    return "" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


GROUP_COLS = ["che_group", "ume_group", "peer_n", "peer_median", "peer_q1", "peer_q3", "percentile", "change_1y",
              "change_3y", "group_reason"]


def school_records(data: ReportData, school_id: str) -> list[dict]:
    """All of one school's indicator rows, every year: value joined to its benchmark row and the catalogue,
    in catalogue order (one merge per school; the pages then work on plain dicts)."""
    v = data.values_by_school.get(school_id, data.values.iloc[:0])
    v = v[["academic_year", "indicator_id", "value", "numerator", "denominator", "computable", "reason", "withheld"]]
    if data.groups is not None:
        g = data.groups_by_school.get(school_id, data.groups.iloc[:0]).rename(columns={"reason": "group_reason"})
        v = v.merge(g[["academic_year", "indicator_id", *GROUP_COLS]], on=["academic_year", "indicator_id"],
                    how="outer")
    else:
        v = v.assign(**{c: None for c in GROUP_COLS})
    out = data.catalogue.merge(v, on="indicator_id", how="inner").sort_values(["position", "academic_year"],
                                                                               kind="stable")
    out["withheld"] = out["withheld"].fillna(False).astype(bool)
    return out.to_dict("records")


def _table_row(r: dict, k: int) -> dict:
    unit = str(r["unit"])
    withheld = bool(r["withheld"])
    reason = _txt(r.get("reason")) or _txt(r.get("group_reason"))
    if withheld:
        value = f"<{k}"
        note = f"withheld: based on a count below {k}"
    elif pd.isna(r["value"]):
        value, note = "n/a", reason or "not computable"
    else:
        value, note = fmt_value(r["value"], unit), ""
    che = _txt(r.get("che_group")) or None
    return {
        "indicator_id": r["indicator_id"], "name": r["name"], "unit": unit, "direction": r["direction"],
        "value": value, "note": note, "withheld": withheld,
        "numerator": count_text(r["numerator"], k), "denominator": count_text(r["denominator"], k),
        "median": fmt_value(r.get("peer_median"), unit), "q1": fmt_value(r.get("peer_q1"), unit),
        "q3": fmt_value(r.get("peer_q3"), unit), "peer_n": count_text(r.get("peer_n"), 0),
        "che": che, "ume": _txt(r.get("ume_group")) or None,
        "change_1y": "" if withheld else fmt_change(r.get("change_1y"), unit),
        "group_reason": _txt(r.get("group_reason")),
    }


def _f(x: object) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _label_section(data: ReportData, school_id: str, fig: Figures, school_label: str) -> dict | None:
    """The label breakdown of the school's latest scored year; None if scoring has not run."""
    if data.labels is None or data.labels.empty:
        return None
    row = data.label_records.get(school_id)
    if row is None:
        return {"missing": True}
    year = str(row["academic_year"])
    model = data.model
    dims = model.dimensions if model else {}
    stats = data.label_stats.get(year, {})
    nan = (float("nan"),) * 3 + (0,)
    profile = pd.DataFrame([{"name": name, "score": _f(row.get(d)), "peer_median": stats.get(d, nan)[0],
                             "peer_q1": stats.get(d, nan)[1], "peer_q3": stats.get(d, nan)[2]}
                            for d, name in dims.items()])
    reasons = [s.strip() for s in _txt(row.get("reasons")).split(";") if s.strip()]
    gates = []
    for gid, g in (model.gates if model else {}).items():
        failed = any(s.startswith(f"gate {gid} failed") for s in reasons)
        gates.append({"id": gid, "description": g["description"] or g["rule"], "rule": g["rule"], "passed": not failed,
                      "on_fail": g["on_fail"].replace("_", " ")})
    thresholds = {}
    for dec, rule in (model.thresholds if model else {}).items():
        dmin = rule.get("dimension_min")
        if isinstance(dmin, dict) and len(set(dmin.values())) == 1:  # the same minimum for the dimensions listed
            dmin = next(iter(dmin.values()))
        if isinstance(dmin, (int, float)):
            thresholds[dec] = float(dmin)
    overall_col = model.overall if model else "overall"
    decision = _txt(row.get("decision"))
    out = {
        "missing": False, "year": year, "decision": decision,
        "decision_text": figures.DECISION_TEXT.get(decision, decision), "overall": _f(row.get(overall_col)),
        "dimensions": [{"name": r["name"], "score": r["score"], "median": r["peer_median"]}
                       for r in profile.to_dict("records")],
        "gates": gates, "reasons": reasons, "model": f"{model.name} {model.version}".strip() if model else "",
        "profile_fig": fig(figures.dimension_profile(profile, school_label, thresholds)) if len(profile) else None,
        "robustness": None,
    }
    r = data.robustness_records.get((school_id, year)) or data.robustness_records.get((school_id, None))
    if r is not None:
        probs = {d: _f(r.get(f"p_{d}")) for d in DECISIONS[::-1] if not pd.isna(_f(r.get(f"p_{d}")))}
        out["robustness"] = {
            "probs": probs, "draws": r.get("draws"), "n": stats.get(overall_col, nan)[3] or len(data.label_records),
            "rank_median": _f(r.get("rank_median")), "rank_p05": _f(r.get("rank_p05")),
            "rank_p95": _f(r.get("rank_p95")), "main_driver": _txt(r.get("main_driver")).replace("_", " "),
            "fig": fig(figures.decision_probabilities(probs)) if probs else None,
        }
    return out


def school_context(data: ReportData, school_id: str) -> dict:
    labels = data.viewer(school_id)
    me = data.schools[data.schools["school_id"] == school_id].iloc[0]
    name = labels[school_id]
    fig = Figures(safe_name(school_id))
    recs = school_records(data, school_id)
    years = sorted({str(r["academic_year"]) for r in recs})
    year = years[-1] if years else None
    dimensions, trends = [], []
    if year is not None:
        others = data.published_by_year.get(year, data.values.iloc[:0])
        others = others[others["school_id"] != school_id]
        peers = pd.DataFrame({"indicator_id": others["indicator_id"], "value": others["value"],
                              "label": others["school_id"].map(labels).fillna("peer")})
        for r in recs:  # what charts may draw: nothing for a withheld value
            r["plot_value"] = float("nan") if r["withheld"] else r["value"]
        for dim in data.dimensions():
            drows = [r for r in recs if r["dimension"] == dim and r["academic_year"] == year]
            if not drows:
                continue
            plot_rows = pd.DataFrame([{**r, "value": r["plot_value"]} for r in drows if r["unit"] != "yes/no"])
            dimensions.append({
                "id": dim, "name": data.dimension_name(dim), "rows": [_table_row(r, data.k) for r in drows],
                "figure": fig(figures.peer_dot_plot(plot_rows, peers, name)) if len(plot_rows) else None,
            })
            t = [{**r, "value": r["plot_value"]} for r in recs if r["dimension"] == dim and r["unit"] != "yes/no"]
            if len(years) > 1 and t:
                trends.append({"name": data.dimension_name(dim),
                               "figure": fig(figures.trend_plot(pd.DataFrame(t), name))})
    return {
        "title": name, "school": {"id": school_id, "name": name, "country": _txt(me["country_code"]),
                                  "city": _txt(me["city"]), "role": _txt(me["network_role"])},
        "year": year, "years": years, "dimensions": dimensions, "trends": trends,
        "label": _label_section(data, school_id, fig, name), "label_ran": data.labels is not None,
        "survey": survey_report.school_html(data.survey, school_id, fig, name),  # before n_charts: it draws one
        "definitions": _definitions(data), "n_charts": fig.n,
    }


def _definitions(data: ReportData) -> list[dict]:
    if "definitions" in data.cache:
        return data.cache["definitions"]
    data.cache["definitions"] = [{"name": r.name, "dimension": data.dimension_name(r.dimension), "unit": r.unit,
             "direction": "lower is better" if r.direction == "lower" else "higher is better",
             "definition": r.definition} for r in data.catalogue.itertuples()]
    return data.cache["definitions"]


def coverage(data: ReportData) -> dict | None:
    """Which school sent which dataset for which academic year, and with what outcome (the latest file
    of each dataset × school × year counts): one row per school, a column per year × dataset."""
    s = data.submissions
    if s is None or s.empty or "academic_year" not in s:
        return None
    s = s[s["academic_year"].notna() & s["school_id"].notna()].copy()
    if s.empty:
        return None
    if "superseded_by" in s:
        s = s[s["superseded_by"].isna()]
    src = s["source"] if "source" in s else pd.Series("school", index=s.index)
    s["column"] = [d if not isinstance(x, str) or x in ("school", "") else f"{d} ({x.replace('_', ' ')})"
                   for d, x in zip(s["dataset"].astype(str), src)]
    if "received_at" in s:
        s = s.sort_values("received_at")
    key = ["school_id", "academic_year", "column"]
    latest = s.drop_duplicates(key, keep="last")
    ok = s[s["status"].astype(str).str.startswith("accepted")].drop_duplicates(key, keep="last")
    later_rejected = set()
    for r in latest.itertuples():  # the data in use is the latest accepted file; say if a newer one was refused
        if str(r.status) == "rejected":
            later_rejected.add((str(r.school_id), str(r.academic_year), r.column))
    s = pd.concat([ok, latest]).drop_duplicates(key, keep="first")
    cols = sorted(set(s["column"]), key=lambda c: (DATASET_ORDER.index(c.split(" ")[0])
                                                    if c.split(" ")[0] in DATASET_ORDER else 99, c))
    status = {(str(a), str(b), c): str(st) for a, b, c, st in
              zip(s["school_id"], s["academic_year"], s["column"], s["status"])}
    years = sorted({b for _, b, _ in status})
    rows = []
    for sid, label in sorted(data.network.items(), key=lambda kv: sort_key(kv[1])):
        if not any(a == sid for a, _, _ in status):
            continue
        cells = []
        for year in years:
            for c in cols:
                st = status.get((sid, year, c), "missing")
                cls, sym, title = STATUS.get(st, ("none", "—", "not received") if st == "missing" else ("wait", "?", st))
                if st != "rejected" and (sid, year, c) in later_rejected:
                    title += "; a later file was rejected"
                cells.append({"cls": cls, "symbol": sym, "title": f"{year} {c}: {title}"})
        rows.append({"label": label, "cells": cells})
    abbrev = [{"short": c[0].upper() + ("*" if " (" in c else ""), "name": c} for c in cols]
    return {"years": years, "columns": abbrev, "rows": rows}


def index_context(data: ReportData) -> dict:
    fig = Figures("network")
    year = data.latest_year
    net = data.network
    ordered = [lab for _, lab in sorted(net.items(), key=lambda kv: sort_key(kv[1]))]
    heatmap = None
    names = dict(zip(data.catalogue["indicator_id"], data.catalogue["name"]))
    if data.groups is not None and year is not None:
        g = data.groups[data.groups["academic_year"] == year]
        if not g.empty:
            cells = pd.DataFrame({"label": g["school_id"].map(net), "indicator": g["indicator_id"].map(names),
                                  "che_group": g["che_group"], "ume_group": g["ume_group"]})
            present = set(g["school_id"].map(net))
            inds = [names[i] for i in data.catalogue["indicator_id"] if i in set(g["indicator_id"])]
            heatmap = fig(figures.group_heatmap(cells, [s for s in ordered if s in present], inds))
    distributions = []
    if year is not None:
        v = data.values[(data.values["academic_year"] == year) & ~data.values["withheld"] & data.values["value"].notna()]
        v = data.catalogue.merge(v, on="indicator_id")
        v = v[v["unit"] != "yes/no"]
        v["label"] = v["school_id"].map(net)
        for dim in data.dimensions():
            part = v[v["dimension"] == dim]
            if not part.empty:
                distributions.append({"name": data.dimension_name(dim), "figure": fig(figures.distribution_plot(part))})
    labels = None
    if data.labels is not None and not data.labels.empty:
        lab = data.labels
        ly = max(set(lab["academic_year"]))
        cur = lab[lab["academic_year"] == ly]
        rob = data.robustness
        if rob is not None and "academic_year" in rob:
            rob = rob[rob["academic_year"] == ly]
        rows = []
        for sid, label in sorted(net.items(), key=lambda kv: sort_key(kv[1])):
            r = cur[cur["school_id"] == sid]
            if r.empty:
                continue
            dec = _txt(r["decision"].iloc[0])
            p = {}
            if rob is not None:
                rr = rob[rob["school_id"] == sid]
                if len(rr):
                    p = {d: rr[f"p_{d}"].iloc[0] for d in DECISIONS[::-1] if f"p_{d}" in rr}
            rows.append({"label": label, "decision": dec, "decision_text": figures.DECISION_TEXT.get(dec, dec),
                         "p": p, "link": _link(data, sid)})
        counts = {figures.DECISION_TEXT[d]: int((cur["decision"] == d).sum()) for d in DECISIONS[::-1]}
        labels = {"year": ly, "rows": rows, "counts": counts, "has_p": rob is not None,
                  "model": f"{data.model.name} {data.model.version}".strip() if data.model else "",
                  "figure": fig(figures.decisions_by_year(lab[lab["decision"].notna()][["academic_year", "decision"]]))
                  if lab["decision"].notna().any() else None}
    schools = [{"label": lab, "link": _link(data, sid)} for sid, lab in sorted(net.items(), key=lambda kv: sort_key(kv[1]))]
    return {
        "title": "IMS network overview", "year": year, "years": data.years, "coverage": coverage(data),
        "heatmap": heatmap, "distributions": distributions, "labels": labels, "label_ran": data.labels is not None,
        "schools": schools, "n_peers": sum(1 for s in schools if s["link"] is None), "definitions": _definitions(data),
        "survey": survey_report.network_html(data.survey, net, fig),  # before n_charts: it draws one
        "n_charts": fig.n,
    }


def _link(data: ReportData, school_id: str) -> str | None:
    """Named schools link to their page; a school that did not consent is not linked (its file name is its id)."""
    return f"schools/{safe_name(school_id)}.html" if school_id in data.named else None


def common(data: ReportData, depth: int, plotly_js: str | None) -> dict:
    prefix = "../" * depth
    return {"demo": data.demo, "k": data.k, "peer_set": data.peer_set, "generated_at": data.generated_at,
            "plotly_src": prefix + ASSET, "plotly_inline": Markup(plotly_js) if plotly_js else None,
            "home": prefix + "index.html", "benchmark_ran": data.groups is not None}


def render(template: str, context: dict, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(env().get_template(template).render(**context), encoding="utf-8")
    return out

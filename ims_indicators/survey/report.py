"""What the reports show of the survey: a section on each school page and one on the network overview.

``load_survey(con, k)`` reads ``marts.survey_items`` and the publishable comments once; the two ``*_html``
functions render a ``<section>`` (own templates, autoescaped, the report's macros and CSS) that the report
pages include. Disclosure control:

- an item's mean, interval and group are shown only from ``max(15, k)`` responses (``k`` =
  ``settings.suppress_below()``); counts from 1 to k − 1 read ``<k``;
- free-text comments are stored but shown only on the school's own page, and only for an item that at least
  ``k`` students answered and at least ``k`` students commented on; they are listed sorted, never with their
  respondent (``respondent_ref`` never reaches a report).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd
from markupsafe import Markup

from ims_indicators.contracts import SURVEY_ITEMS
from ims_indicators.report.privacy import count_text
from ims_indicators.survey.che import MIN_PEER_SCHOOLS, MIN_RESPONSES
from ims_indicators.survey.figures import network_spec, school_items, shown_from, survey_spec
from ims_indicators.warehouse import table_exists

MAX_COMMENTS = 20  # per item on a page
_COMMENTS_SQL = """
WITH c AS (
    SELECT school_id, academic_year, item, trim(comment) AS comment
    FROM curated.student_survey
    WHERE comment IS NOT NULL AND trim(comment) <> ''
),
counted AS (
    SELECT c.*, count(*) OVER (PARTITION BY c.school_id, c.academic_year, c.item) AS n_comments, s.n
    FROM c
    JOIN marts.survey_items AS s USING (school_id, academic_year, item)
)
SELECT school_id, academic_year, item, comment, n_comments, n
FROM counted
ORDER BY school_id, academic_year, item, comment
"""
_env = None


@dataclass
class SurveyData:
    items: pd.DataFrame  # marts.survey_items
    comments: pd.DataFrame  # school_id, academic_year, item, comment, n_comments, n (publishable ones only)
    withheld: pd.DataFrame  # school_id, academic_year, item, n_comments (comments not shown)
    k: int


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return table_exists(con, f"{schema}.{table}")


def load_survey(con: duckdb.DuckDBPyConnection, k: int | None = None) -> SurveyData | None:
    """The survey mart and the comments a report may show; None when the mart has not been built."""
    from ims_indicators import settings

    k = settings.suppress_below() if k is None else int(k)
    if not _exists(con, "marts", "survey_items"):
        return None
    items = con.execute("SELECT * FROM marts.survey_items ORDER BY school_id, academic_year, item").df()
    if items.empty:
        return None
    items["school_id"] = items["school_id"].astype(str)
    items["academic_year"] = items["academic_year"].astype(str)
    comments = con.execute(_COMMENTS_SQL).df() if _exists(con, "curated", "student_survey") else pd.DataFrame(
        columns=["school_id", "academic_year", "item", "comment", "n_comments", "n"])
    ok = (comments["n"] >= k) & (comments["n_comments"] >= k)
    withheld = (comments[~ok].groupby(["school_id", "academic_year", "item"], as_index=False)["comment"].count()
                .rename(columns={"comment": "n_comments"}))
    return SurveyData(items=items, comments=comments[ok].reset_index(drop=True), withheld=withheld, k=k)


def env():
    global _env
    if _env is None:
        from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

        _env = Environment(loader=ChoiceLoader([PackageLoader("ims_indicators.survey", "templates"),
                                                PackageLoader("ims_indicators.report", "templates")]),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=True, lstrip_blocks=True)
    return _env


def _fmt(v: object) -> str:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(f) else f"{f:.2f}"


def rule_text(k: int) -> str:
    floor = max(MIN_RESPONSES, k)
    return (f"Students judge each item from 1 (very good) to 6 (very poor): lower is better. Following the CHE "
            f"Ranking's rule for students' judgements, an item with at least {MIN_RESPONSES} responses is in the top "
            f"group when its whole 95 % confidence interval (mean ± 1.96 · sd / √n) lies below the peer mean (the "
            f"mean of the school means with {MIN_RESPONSES} or more responses, at least {MIN_PEER_SCHOOLS} schools), "
            f"in the bottom group when it lies wholly above it, and in the middle group otherwise. Items with fewer "
            f"than {floor} responses get no group and their value is not shown.")


def school_context(survey: SurveyData | None, school_id: str, fig, school_label: str | None = None) -> dict | None:
    """The school's survey section as data (latest surveyed year); None if the school has no survey data."""
    if survey is None:
        return None
    rows = school_items(survey.items, school_id)
    if rows.empty:
        return None
    k = survey.k
    floor = shown_from(k)
    year = str(rows["academic_year"].iloc[0])
    table = []
    for r in rows.itertuples():
        show = (r.n or 0) >= floor and r.mean == r.mean
        group = r.che_group if show and isinstance(r.che_group, str) else None
        table.append({
            "item": r.item, "label": SURVEY_ITEMS.get(r.item, r.item), "n": count_text(r.n, k),
            "mean": _fmt(r.mean) if show else "", "ci": f"{_fmt(r.ci_low)}–{_fmt(r.ci_high)}"
            if show and r.ci_low == r.ci_low and r.ci_low is not None else "",
            "peer_mean": _fmt(r.peer_mean), "che": group,
            "reason": (r.reason if isinstance(r.reason, str) else "") if show
            else f"fewer than {floor} responses: no group, value not shown",
        })
    c = survey.comments
    c = c[(c["school_id"] == school_id) & (c["academic_year"] == year)]
    comments = []
    for item in SURVEY_ITEMS:
        texts = list(c.loc[c["item"] == item, "comment"])
        if texts:
            comments.append({"label": SURVEY_ITEMS[item], "comments": texts[:MAX_COMMENTS],
                             "more": max(0, len(texts) - MAX_COMMENTS)})
    w = survey.withheld
    withheld = int(w.loc[(w["school_id"] == school_id) & (w["academic_year"] == year), "n_comments"].sum())
    return {"year": year, "rows": table, "comments": comments, "withheld_comments": withheld, "k": k,
            "rule": rule_text(k),
            "figure": fig(survey_spec(survey.items, school_id, k=k, year=year, school_label=school_label))}


def network_context(survey: SurveyData | None, labels: dict[str, str], fig) -> dict | None:
    """The overview's survey section as data (latest surveyed year)."""
    if survey is None:
        return None
    year = max(survey.items["academic_year"].astype(str))
    part = survey.items[survey.items["academic_year"] == year]
    floor = shown_from(survey.k)
    table = []
    for item, label in SURVEY_ITEMS.items():
        p = part[part["item"] == item]
        shown = p[(p["n"] >= floor) & p["mean"].notna()]
        table.append({"item": item, "label": label, "schools": len(p), "shown": len(shown),
                      "top": int((shown["che_group"] == "top").sum()),
                      "middle": int((shown["che_group"] == "middle").sum()),
                      "bottom": int((shown["che_group"] == "bottom").sum()),
                      "none": int(len(p) - (shown["che_group"].isin(["top", "middle", "bottom"])).sum()),
                      "peer_mean": _fmt(p["peer_mean"].dropna().iloc[0]) if p["peer_mean"].notna().any() else ""})
    return {"year": year, "rows": table, "rule": rule_text(survey.k), "k": survey.k,
            "figure": fig(network_spec(survey.items, labels, year, k=survey.k))}


def school_html(survey: SurveyData | None, school_id: str, fig, school_label: str | None = None) -> Markup | None:
    """The ``<section id="survey">`` of a school page (None: nothing to show)."""
    ctx = school_context(survey, school_id, fig, school_label)
    return Markup(env().get_template("survey_school.html").render(survey=ctx)) if ctx else None


def network_html(survey: SurveyData | None, labels: dict[str, str], fig) -> Markup | None:
    """The ``<section id="survey">`` of the network overview (None: no survey data)."""
    ctx = network_context(survey, labels, fig)
    return Markup(env().get_template("survey_network.html").render(survey=ctx)) if ctx else None

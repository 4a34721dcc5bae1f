"""CHE's rule for students' judgements: groups only where the difference is statistically clear.

The CHE University Ranking (CHE Hochschulranking) groups a department's mean student judgement into a top,
middle or bottom group ("Ranggruppen", not ranks) by its 95 % confidence interval against the mean of all
departments, and only when at least 15 students judged it. We apply it per school × academic year × item:

- n_i < 15 responses: no interval, no group (the reason says so);
- only students known to be enrolled for at least one year count: respondent rows with ``year_of_study`` 1,
  or without it (eligibility not known), are left out, counted in ``excluded_first_year`` /
  ``excluded_unknown_year`` and named in the reason;
- with fewer than 50 answers the response rate n_i / students invited (stated in the file) must be at least
  10 %, else no group (an unknown number invited counts as too low: it cannot be checked);
- an interval wider than ± ``MAX_HALF_WIDTH`` (0.5 on the 1–6 scale) gets no group: CHE draws borders around the
  mean and does not rank a judgement whose interval reaches beyond them;
- m_i ± 1.96 · s_i / √n_i is the school's 95 % interval (s_i the sample standard deviation);
- the scale runs 1 = very good … 6 = very poor, so **lower is better**: **top** when the whole interval lies
  below the peer mean (ci_high < peer mean), **bottom** when it lies wholly above (ci_low > peer mean),
  **middle** otherwise (the interval contains the peer mean);
- **peer mean** = the unweighted mean of the school means m_j of the schools with n_j ≥ 15 whose response
  rate passes (same year and item; the sd and width rules decide a school's own group, not the reference), here the whole network (``marts.survey_items``) and each peer set
  (``marts.benchmark_groups``, where it is also the item's reference in place of a peer median: one reference
  wherever the item appears).
  CHE compares with the mean over all respondents of the subject; we take the mean of school means so that
  every school counts once (a large school does not set the reference for the others) and so that schools
  sending aggregated means — which carry no respondents — give exactly the same reference. A peer mean
  needs at least ``MIN_PEER_SCHOOLS`` (3) such schools (our choice: with two, each school would be compared
  with a mean it makes up half of).

Sources: CHE Centrum für Hochschulentwicklung, CHE Hochschulranking methodology, "Datenauswertung —
Studierendenbefragung" (methodik.che-ranking.de) and CHE University Ranking, "New developments" (DAAD,
daad.de ranking pages): a minimum of 15 student opinions; assignment to the top, middle or bottom group by
the deviation from the nationwide mean and the confidence interval; CHE publishes error-bar charts of mean
and 95 % interval (computed from standard deviation and sample size) for each judgement. CHE itself moved to
fixed star-rating bands in May 2023; the interval rule is the one it used for the six-point grade scale
that this survey keeps.

The SQL lives beside this module: ``sql/survey_items.sql`` (the mart) and ``sql/benchmark_groups.sql``
(the same rule within each peer set, replacing the rank-based CHE group of the survey indicators).
"""

from __future__ import annotations

import duckdb

from ims_indicators.warehouse import sql_text, table_exists, transaction

PKG = "ims_indicators.survey.sql"
MIN_RESPONSES = 15  # CHE: at least 15 judgements for a group
Z = 1.96  # two-sided 95 % normal interval
MIN_PEER_SCHOOLS = 3  # eligible schools behind a peer mean
RATE_BELOW = 50  # CHE: with fewer answers than this ...
MIN_RESPONSE_RATE = 0.10  # ... the response rate n / students invited must be at least 10 %
MAX_HALF_WIDTH = 0.5  # an interval wider than mean ± 0.5 (on the 1–6 scale) cannot be placed: no group
INDICATOR_PREFIX = "survey_"  # catalogue id of an item's indicator: survey_<item>



def ensure_survey_mart(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``marts.survey_items`` (idempotent)."""
    con.execute(sql_text(PKG, "schema.sql"))


def compute_survey(con: duckdb.DuckDBPyConnection, *, min_responses: int = MIN_RESPONSES, z: float = Z,
                   min_schools: int = MIN_PEER_SCHOOLS, rate_below: int = RATE_BELOW,
                   min_rate: float = MIN_RESPONSE_RATE, max_half_width: float = MAX_HALF_WIDTH,
                   scope: str | None = None) -> int:
    """Recompute ``marts.survey_items`` from ``curated.student_survey`` in one transaction; rows written.

    ``scope``: a SQL predicate on ``school_id``/``academic_year`` (the signed-off data): only those answers are
    used, also for the peer means."""
    ensure_survey_mart(con)
    with transaction(con):
        con.execute("DELETE FROM marts.survey_items")
        if table_exists(con, "curated.student_survey"):
            query = sql_text(PKG, "survey_items.sql")
            if scope:
                con.execute(f"CREATE OR REPLACE TEMP VIEW survey_in_scope AS SELECT * FROM curated.student_survey "
                            f"WHERE {scope}")
                query = query.replace("curated.student_survey", "temp.survey_in_scope")
            con.execute(query,
                        {"min_n": int(min_responses), "z": float(z), "min_schools": int(min_schools),
                         "rate_below": int(rate_below), "min_rate": float(min_rate),
                         "max_half": float(max_half_width)})
    return con.execute("SELECT count(*) FROM marts.survey_items").fetchall()[0][0]


def apply_survey_groups(con: duckdb.DuckDBPyConnection, *, min_schools: int = MIN_PEER_SCHOOLS) -> int:
    """Give the survey indicators in ``marts.benchmark_groups`` their CHE interval group in every peer set.

    One UPDATE (atomic; no transaction of its own, so it can run inside the benchmark stage's). Needs
    ``marts.survey_items`` (written by :func:`compute_survey` in the indicator stage); without it nothing
    changes. Returns the benchmark rows updated.
    """
    if not (table_exists(con, "marts.survey_items") and table_exists(con, "marts.benchmark_groups")
            and table_exists(con, "marts.peer_set_members")):
        return 0
    cur = con.execute(sql_text(PKG, "benchmark_groups.sql"), {"min_schools": int(min_schools)})
    return int(cur.fetchall()[0][0])

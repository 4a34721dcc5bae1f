"""CHE's confidence-interval rule, hand-computed, through the real DuckDB SQL of ``marts.survey_items``.

The fixture network for item 'teaching' (scale 1 = very good … 6 = very poor, lower is better):

    school  answers                 n   mean      sd        95 % interval (mean ± 1.96·sd/√n)
    a       ten 1s, ten 2s          20  1.5       √(5/19)   1.2752 – 1.7248
    b       ten 3s, ten 4s          20  3.5       √(5/19)   3.2752 – 3.7248
    c       ten 2s, ten 3s          20  2.5       √(5/19)   2.2752 – 2.7248
    e       eight 2s, seven 3s      15  37/15     √(4/15)   2.2053 – 2.7280
    d       fourteen 1s             14  1.0       0         (none: fewer than 15)

peer mean = (1.5 + 3.5 + 2.5 + 37/15) / 4 = 2.49167 (d left out: had it counted, 2.19333, c and e would be
'bottom'). So a top (1.7248 < 2.4917: the best judgements, the lowest numbers), b bottom, c and e middle.
"""

from __future__ import annotations

import math

import duckdb
import pytest

from ims_indicators.survey.che import apply_survey_groups, compute_survey

from .conftest import YEAR, add_aggregated, add_as_aggregate, add_respondents, items

HW = 1.96 * math.sqrt(5 / 19) / math.sqrt(20)  # half-width of a, b and c: 0.224828
NETWORK = {
    "a": [1] * 10 + [2] * 10,
    "b": [3] * 10 + [4] * 10,
    "c": [2] * 10 + [3] * 10,
    "e": [2] * 8 + [3] * 7,
    "d": [1] * 14,
}
PEER_MEAN = (1.5 + 3.5 + 2.5 + 37 / 15) / 4
GROUPS = {"a": "top", "b": "bottom", "c": "middle", "e": "middle", "d": None}


def load(con, form: dict[str, str], item: str = "teaching", network: dict = NETWORK) -> None:
    for school, scores in network.items():
        (add_respondents if form.get(school, "respondents") == "respondents" else add_as_aggregate)(
            con, school, item, scores)


def test_hand_computed_intervals_and_groups(con):
    load(con, {})
    assert compute_survey(con) == 5
    got = items(con)
    a = got[("a", "teaching")]
    assert a["n"] == 20 and a["mean"] == pytest.approx(1.5) and a["sd"] == pytest.approx(math.sqrt(5 / 19))
    assert a["ci_low"] == pytest.approx(1.5 - HW) and a["ci_high"] == pytest.approx(1.5 + HW)
    e = got[("e", "teaching")]
    assert e["mean"] == pytest.approx(37 / 15) and e["sd"] == pytest.approx(math.sqrt(4 / 15))
    assert e["ci_low"] == pytest.approx(37 / 15 - 1.96 * math.sqrt(4 / 15) / math.sqrt(15))
    assert e["ci_high"] == pytest.approx(2.728)
    for school, group in GROUPS.items():
        row = got[(school, "teaching")]
        assert row["che_group"] == group, (school, row["reason"])
        assert row["peer_mean"] == pytest.approx(PEER_MEAN)
        assert row["peer_schools"] == 4 and row["form"] == "respondents"
    assert "entirely below (better than) the peer mean 2.49" in got[("a", "teaching")]["reason"]
    assert "entirely above (worse than)" in got[("b", "teaching")]["reason"]
    assert "contains the peer mean" in got[("c", "teaching")]["reason"]


def test_lower_is_better(con):
    """The best (lowest) judgements are 'top' — their interval's upper end is below the peer mean."""
    load(con, {})
    compute_survey(con)
    got = items(con)
    best = min((r for r in got.values() if r["che_group"]), key=lambda r: r["mean"])
    worst = max((r for r in got.values() if r["che_group"]), key=lambda r: r["mean"])
    assert best["school_id"] == "a" and best["che_group"] == "top" and best["ci_high"] < best["peer_mean"]
    assert worst["school_id"] == "b" and worst["che_group"] == "bottom" and worst["ci_low"] > worst["peer_mean"]


def test_exactly_15_responses_get_a_group_14_do_not(con):
    """Same answers (all 'very good'), 15 vs 14 of them: 15 → top; 14 → no group, and not in the peer mean."""
    network = {"a": NETWORK["a"], "b": NETWORK["b"], "c": NETWORK["c"], "f15": [1] * 15, "f14": [1] * 14}
    load(con, {}, "exam_organisation", network)
    compute_survey(con)
    got = items(con)
    f15, f14 = got[("f15", "exam_organisation")], got[("f14", "exam_organisation")]
    assert f15["n"] == 15 and f15["che_group"] == "top" and f15["ci_low"] == f15["ci_high"] == 1.0
    assert f14["n"] == 14 and f14["che_group"] is None and f14["ci_low"] is None and f14["ci_high"] is None
    assert f14["reason"] == "fewer than 15 responses: no interval, no group (CHE minimum)"
    assert f15["peer_mean"] == pytest.approx((1.5 + 3.5 + 2.5 + 1.0) / 4)  # 2.125: f14 not counted
    assert got[("c", "exam_organisation")]["che_group"] == "bottom"  # 2.2752 > 2.125


@pytest.mark.parametrize("form", [
    {s: "aggregated" for s in NETWORK},
    {"b": "aggregated", "d": "aggregated", "e": "aggregated"},
], ids=["all-aggregated", "mixed"])
def test_aggregated_and_respondent_level_give_the_same_groups(con, form):
    load(con, {})
    compute_survey(con)
    expected = items(con)
    other = duckdb.connect()
    from ims_indicators.warehouse import ensure_schema

    ensure_schema(other)
    load(other, form)
    assert compute_survey(other) == 5
    got = items(other)
    for key, row in expected.items():
        g = got[key]
        assert (g["n"], g["che_group"], g["peer_schools"]) == (row["n"], row["che_group"], row["peer_schools"]), key
        for col in ("mean", "sd", "ci_low", "ci_high", "peer_mean"):
            assert g[col] == pytest.approx(row[col], abs=1e-12) if row[col] is not None else g[col] is None, (key, col)
        assert g["form"] == form.get(key[0], "respondents")
    other.close()


def test_cannot_judge_is_not_an_answer_and_both_forms_pool(con):
    add_respondents(con, "a", "teaching", [1, None, 2, None, 3])
    add_respondents(con, "g", "teaching", [1, 2, 3, 4])
    add_aggregated(con, "g", "teaching", 3, 2.0, 1.0)  # answers 1, 2, 3 sent as an aggregate in the same file
    compute_survey(con)
    got = items(con)
    assert got[("a", "teaching")]["n"] == 3 and got[("a", "teaching")]["mean"] == pytest.approx(2.0)
    g = got[("g", "teaching")]
    pooled = [1, 2, 3, 4, 1, 2, 3]
    assert g["form"] == "mixed" and g["n"] == 7 and g["mean"] == pytest.approx(sum(pooled) / 7)
    import statistics

    assert g["sd"] == pytest.approx(statistics.stdev(pooled))


def test_no_group_without_sd_or_enough_peer_schools(con):
    add_aggregated(con, "a", "teaching", 30, 2.0, None)
    add_aggregated(con, "b", "teaching", 30, 3.0, 0.5)
    add_aggregated(con, "c", "teaching", 30, 2.5, 0.5)
    add_aggregated(con, "a", "clinical_training", 30, 2.0, 0.5)
    add_aggregated(con, "b", "clinical_training", 30, 3.0, 0.5)
    add_aggregated(con, "c", "clinical_training", 10, 2.5, 0.5)
    compute_survey(con)
    got = items(con)
    assert got[("a", "teaching")]["che_group"] is None
    assert got[("a", "teaching")]["reason"] == "no standard deviation: no interval, no group"
    assert got[("b", "teaching")]["che_group"] == "bottom"  # a's mean still counts: n ≥ 15
    assert got[("b", "teaching")]["peer_mean"] == pytest.approx(2.5)
    ct = got[("a", "clinical_training")]
    assert ct["che_group"] is None and ct["peer_mean"] is None and ct["peer_schools"] == 2
    assert ct["reason"] == "2 school(s) with 15 or more responses, fewer than 3: no peer mean, no group"


def test_recompute_replaces_and_empty_survey_writes_nothing(con):
    assert compute_survey(con) == 0
    load(con, {})
    assert compute_survey(con) == 5
    assert compute_survey(con) == 5
    con.execute("DELETE FROM staging.student_survey")
    assert compute_survey(con) == 0


def test_benchmark_groups_use_the_interval_rule_per_peer_set(con):
    """Rank groups of the survey indicators are replaced by interval groups against each peer set's mean."""
    from ims_indicators.benchmark.compute import ensure_benchmark_marts

    load(con, {})
    compute_survey(con)
    ensure_benchmark_marts(con)
    members = [("network", s) for s in NETWORK] + [("country:DE", s) for s in ("a", "c", "e")]
    con.executemany("INSERT INTO marts.peer_set_members VALUES (?, ?, 'x', ?, ?)",
                    [[p, p.split(":")[0], s, YEAR] for p, s in members])
    con.executemany("INSERT INTO marts.benchmark_groups (indicator_id, academic_year, peer_set, school_id, che_group, "
                    "peer_n, reason) VALUES ('survey_teaching', ?, ?, ?, 'rank-group', 4, 'trend note')",
                    [[YEAR, p, s] for p, s in members])
    con.execute("INSERT INTO marts.benchmark_groups (indicator_id, academic_year, peer_set, school_id, che_group, "
                "peer_n) VALUES ('staff_international_share', ?, 'network', 'a', 'top', 5)", [YEAR])
    assert apply_survey_groups(con) == len(members)
    got = {(p, s): (g, r) for p, s, g, r in con.execute(
        "SELECT peer_set, school_id, che_group, reason FROM marts.benchmark_groups "
        "WHERE indicator_id = 'survey_teaching'").fetchall()}
    assert {s: got[("network", s)][0] for s in NETWORK} == GROUPS
    # country:DE: a, c, e → peer mean (1.5 + 2.5 + 37/15) / 3 = 2.1556: a top; c (2.2752–) and e (2.2053–) lie
    # wholly above it: bottom here, middle in the network
    assert {s: got[("country:DE", s)][0] for s in ("a", "c", "e")} == {"a": "top", "c": "bottom", "e": "bottom"}
    assert got[("country:DE", "a")][1].startswith("CHE interval rule: 95 % interval 1.28–1.72 against the "
                                                  "peer mean of school means 2.16; trend note")
    assert got[("network", "d")][1].startswith("CHE interval rule: fewer than 15 responses")
    other = con.execute("SELECT che_group FROM marts.benchmark_groups WHERE indicator_id = 'staff_international_share'")
    assert other.fetchall() == [("top",)]


def test_one_reference_everywhere_and_no_letter_on_survey_means(con):
    """The benchmark row of a survey item carries the peer mean of school means (as the survey section does),
    no quartiles and never an A–E letter."""
    from ims_indicators.benchmark.compute import ensure_benchmark_marts

    load(con, {})
    compute_survey(con)
    ensure_benchmark_marts(con)
    con.executemany("INSERT INTO marts.peer_set_members VALUES ('network', 'network', 'network', ?, ?)",
                    [[s, YEAR] for s in NETWORK])
    con.executemany("INSERT INTO marts.benchmark_groups (indicator_id, academic_year, peer_set, school_id, ume_group, "
                    "peer_n, peer_median, peer_q1, peer_q3) VALUES ('survey_teaching', ?, 'network', ?, 'A', 5, 1.96, "
                    "1.5, 2.5)", [[YEAR, s] for s in NETWORK])
    apply_survey_groups(con)
    rows = con.execute("SELECT DISTINCT peer_median, peer_q1, peer_q3, ume_group FROM marts.benchmark_groups").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == pytest.approx(PEER_MEAN) and rows[0][1:] == (None, None, None)
    assert all(r["peer_mean"] == pytest.approx(rows[0][0], abs=1e-12) for r in items(con).values())


def test_first_year_students_do_not_count(con):
    # a: 20 answers, 5 of them from first-year students (scores 6) → 15 eligible answers of 1 and 2
    load(con, {}, network={k: v for k, v in NETWORK.items() if k != "a"})
    add_respondents(con, "a", "teaching", [1] * 8 + [2] * 7 + [6] * 5, year_of_study=[2] * 15 + [1] * 5)
    compute_survey(con)
    a = items(con)[("a", "teaching")]
    assert a["n"] == 15 and a["mean"] == pytest.approx(22 / 15)


def test_answers_without_year_of_study_are_not_counted_and_reported(con):
    # a: 15 eligible answers (eight 1s, seven 2s, year 2) + 3 answers of 6 without year_of_study + 2 answers of 6
    # from first-year students. Not known to be enrolled for a year = not eligible: n = 15, mean 22/15 (had the
    # three counted: n 18, mean 40/18). The peer mean is then (22/15 + 3.5 + 2.5 + 37/15) / 4 = 2.48333.
    # f: 16 answers, none with year_of_study → a row with n = 0, no group, the reason says why.
    load(con, {}, network={k: v for k, v in NETWORK.items() if k != "a"})
    add_respondents(con, "a", "teaching", [1] * 8 + [2] * 7 + [6] * 5, year_of_study=[2] * 15 + [None] * 3 + [1] * 2)
    add_respondents(con, "f", "teaching", [1] * 16, year_of_study=[None] * 16)
    compute_survey(con)
    got = items(con)
    a = got[("a", "teaching")]
    assert a["n"] == 15 and a["mean"] == pytest.approx(22 / 15)
    assert (a["excluded_unknown_year"], a["excluded_first_year"]) == (3, 2)
    assert a["reason"].endswith("; answers without year_of_study left out: enrolment of at least one year not "
                                "known; answers of first-year students left out")  # no small count printed
    assert a["peer_mean"] == pytest.approx((22 / 15 + 3.5 + 2.5 + 37 / 15) / 4) and a["peer_schools"] == 4
    f = got[("f", "teaching")]
    assert f["n"] == 0 and f["mean"] is None and f["che_group"] is None and f["in_reference"] is False
    assert f["excluded_unknown_year"] == 16 and f["excluded_first_year"] == 0
    assert f["reason"] == ("fewer than 15 responses: no interval, no group (CHE minimum); answers without "
                           "year_of_study left out: enrolment of at least one year not known")


def test_below_50_answers_the_response_rate_must_reach_10_percent(con):
    # c: 20 answers of 250 invited = 8 %: no group and not in the peer mean; with 200 invited (10 %) it counts
    load(con, {}, network={k: v for k, v in NETWORK.items() if k != "c"})
    add_respondents(con, "c", "teaching", NETWORK["c"], invited=250)
    compute_survey(con)
    got = items(con)
    c = got[("c", "teaching")]
    assert c["che_group"] is None and c["in_reference"] is False and c["response_rate"] == pytest.approx(0.08)
    assert c["reason"] == ("response rate 8.0 % (20 of 250 invited) is below 10 % with fewer than 50 answers: "
                           "no group")
    assert got[("a", "teaching")]["peer_mean"] == pytest.approx((1.5 + 3.5 + 37 / 15) / 3)


def test_the_response_rate_must_be_known_below_50_answers_but_not_from_50(con):
    add_respondents(con, "a", "teaching", NETWORK["a"], invited=None)
    add_aggregated(con, "b", "teaching", 60, 3.0, 0.8, invited=None)  # 60 answers: no rate needed
    add_aggregated(con, "c", "teaching", 60, 2.0, 0.8)
    add_aggregated(con, "e", "teaching", 60, 2.5, 0.8)
    compute_survey(con)
    got = items(con)
    assert got[("a", "teaching")]["che_group"] is None
    assert "no number of students invited: response rate unknown" in got[("a", "teaching")]["reason"]
    assert got[("b", "teaching")]["che_group"] == "bottom"  # peer mean (3 + 2 + 2.5) / 3 = 2.5


def test_an_interval_wider_than_the_limit_gets_no_group(con):
    # f: 16 answers, sd 1.1 → half-width 1.96 · 1.1 / 4 = 0.539 > 0.5: no group, but its mean is in the reference
    load(con, {})
    add_aggregated(con, "f", "teaching", 16, 4.5, 1.1)
    compute_survey(con)
    f = items(con)[("f", "teaching")]
    assert f["che_group"] is None and f["in_reference"] is True and f["eligible"] is False
    assert f["reason"] == "95 % interval ±0.54 is wider than the limit ±0.50: no group"

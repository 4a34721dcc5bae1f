"""Disclosure rules, figure functions and the workbook helper, without a warehouse or a browser."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from ims_indicators.report import figures, privacy
from ims_indicators.report.excel import write_cell


@pytest.mark.parametrize("count, shown", [(3, "<5"), (1, "<5"), (4.5, "<5"), (0, "0"), (5, "5"), (1234, "1,234"),
                                          (None, ""), (math.nan, ""), (12.5, "12.5")])
def test_count_text(count, shown):
    assert privacy.count_text(count, 5) == shown


@pytest.mark.parametrize("num, den, unit, people, withheld", [
    (3, 117, "share", True, True),       # small numerator
    (40, 3, "per 100", True, True),      # small denominator of a rate
    (38, 40, "share", True, True),       # the rest (2) is small
    (38, 40, "per 100", True, False),    # not a share: the rest means nothing
    (0, 40, "share", True, False),       # zero identifies nobody
    (20, 40, "share", True, False),
    (1, 1, "yes/no", True, False),       # institutional flag
    (3, 4, "share", False, False),       # institution (submissions): counts shown <5, value shown
    (9, 120, "count", True, False),
    (9, 3, "days", True, True),          # a mean over 3 people
    (3, 120, "count", True, True),
])
def test_value_withheld(num, den, unit, people, withheld):
    assert privacy.value_withheld(num, den, unit, 5, people) is withheld


def test_about_people():
    assert privacy.about_people(["enrolment", "mobility"])
    assert not privacy.about_people(["accreditation"])
    assert not privacy.about_people(["meta.submissions"])
    assert privacy.about_people(None)  # unknown: the safe side
    assert not privacy.about_people(["mobility"], "yes/no")


def test_labels_hide_non_consenting_schools():
    schools = pd.DataFrame({"school_id": ["a", "b", "c", "d"], "name": ["Alpha", "Beta", "Gamma", "Delta"],
                            "consent_to_be_named": [True, False, None, "true"]})
    net = privacy.network_labels(schools)
    assert net["a"] == "Alpha" and net["d"] == "Delta"
    assert {net["b"], net["c"]} == {"peer 1", "peer 2"}
    assert privacy.viewer_labels(schools, "b") == {"a": "Alpha", "b": "Beta", "c": "peer", "d": "Delta"}
    assert sorted(net.values(), key=privacy.sort_key) == ["Alpha", "Delta", "peer 1", "peer 2"]


def _rows():
    return pd.DataFrame({"indicator_id": ["i1", "i2"], "name": ["Share <b>x</b>", "Rate"], "unit": ["share", "per 100"],
                         "direction": ["higher", "lower"], "value": [0.25, math.nan], "peer_median": [0.2, 3.0],
                         "peer_q1": [0.1, 2.0], "peer_q3": [0.3, 4.0]})


def test_peer_dot_plot_is_a_valid_figure_with_school_and_peers():
    peers = pd.DataFrame({"indicator_id": ["i1", "i1", "i2"], "label": ["peer", "<script>alert(1)</script>", "peer"],
                          "value": [0.1, 0.4, 2.5]})
    spec = figures.peer_dot_plot(_rows(), peers, "My School")
    fig = figures.as_figure(spec)  # strict validation of every property
    names = [t.name for t in fig.data]
    assert names.count("My School") == 1  # the withheld value of i2 is not drawn
    hover = [x for t in fig.data if t.text is not None for x in t.text]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hover and "<script>alert(1)</script>" not in hover
    assert [x for t in fig.data if t.name == "My School" for x in t.x] == [25.0]  # shares drawn as percent
    assert sum(1 for t in fig.data if t.showlegend) == 4  # each legend entry once


def _ys(trace) -> list:
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else pytest.approx(v) for v in trace.y]


def test_trend_distribution_heatmap_and_label_figures_validate():
    """Each figure validates with plotly and carries exactly the mart values it was given (shares in %)."""
    trend = pd.DataFrame({"indicator_id": ["i1"] * 3 + ["i2"] * 3, "name": ["A"] * 3 + ["B"] * 3,
                          "unit": ["share"] * 3 + ["per 100"] * 3, "academic_year": ["2021/22", "2022/23", "2023/24"] * 2,
                          "value": [0.1, math.nan, 0.3, 1, 2, 3], "peer_median": [0.2] * 6, "peer_q1": [0.1] * 6,
                          "peer_q3": [0.3] * 6})
    tr = figures.as_figure(figures.trend_plot(trend, "S"))
    scale = {"share": 100, "per 100": 1}
    for axis, (ind, part) in zip(("x", "x2"), trend.groupby("indicator_id", sort=True)):
        k = scale[part["unit"].iloc[0]]
        traces = {t.name: t for t in tr.data if t.xaxis == axis}
        assert list(traces["S"].x) == list(part["academic_year"])
        assert _ys(traces["S"]) == [None if math.isnan(v) else pytest.approx(v * k) for v in part["value"]], ind
        assert _ys(traces["peer median"]) == [pytest.approx(v * k) for v in part["peer_median"]], ind
        band = sorted(list(t.y) for t in tr.data if t.xaxis == axis and t.name in (None, "peer quartiles (Q1–Q3)"))
        assert band == [[pytest.approx(v * k) for v in part[c]] for c in ("peer_q1", "peer_q3")], ind
    dist = pd.DataFrame({"indicator_id": ["i1", "i1", "i2"], "name": ["A", "A", "B"], "unit": ["share", "share", "count"],
                         "label": ["x", "peer 1", "y"], "value": [0.1, 0.2, 7]})
    boxes = figures.as_figure(figures.distribution_plot(dist)).data
    assert [_ys(b) for b in boxes] == [[pytest.approx(10.0), pytest.approx(20.0)], [pytest.approx(7.0)]]
    cells = pd.DataFrame({"label": ["x", "peer 1"], "indicator": ["A", "A"], "che_group": ["top", None],
                          "ume_group": ["A", None]})
    hm = figures.as_figure(figures.group_heatmap(cells, ["x", "peer 1"], ["A", "B"]))
    assert list(hm.data[0].z[0]) == [3, None] and list(hm.data[0].text[0]) == ["A", ""]
    prof = pd.DataFrame({"name": ["D1", "D2"], "score": [50.0, math.nan], "peer_median": [40.0, 60.0],
                         "peer_q1": [30.0, 50.0], "peer_q3": [55.0, 70.0]})
    bars, median = figures.as_figure(figures.dimension_profile(prof, "S", {"awarded": 40.0})).data
    assert list(bars.y) == list(median.y) == list(prof["name"])
    assert list(bars.x) == [50.0, None] and list(median.x) == list(prof["peer_median"])
    probs = {"awarded": 0.2, "conditional": 0.5, "not_awarded": 0.3}
    shown = figures.as_figure(figures.decision_probabilities(probs)).data
    assert {t.name: pytest.approx(t.x[0]) for t in shown} == {d.replace("_", " "): p * 100 for d, p in probs.items()}
    labels = pd.DataFrame({"academic_year": ["2022/23", "2023/24", "2023/24"], "decision": ["awarded"] * 2 + ["conditional"]})
    by_year = figures.as_figure(figures.decisions_by_year(labels)).data
    counts = labels.groupby(["decision", "academic_year"]).size()
    assert {t.name: dict(zip(t.x, t.y)) for t in by_year} == {
        d: {y: int(counts.get((d, y), 0)) for y in sorted(labels["academic_year"].unique())} for d in ("awarded", "conditional")}


def test_write_cell_keeps_formulas_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    risky = ['=HYPERLINK("http://example.com","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for i, text in enumerate(risky, start=1):
        write_cell(ws, i, 1, text)
    write_cell(ws, 10, 1, 3.5)
    wb.save(tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    for i, text in enumerate(risky, start=1):  # (XML reads a lone CR back as LF: still text)
        assert back.cell(i, 1).data_type == "s" and back.cell(i, 1).value == text.replace("\r", "\n")
    assert back.cell(10, 1).data_type == "n"
    assert privacy.neutralise("=1+1") == "'=1+1" and privacy.neutralise("ok") == "ok"


@pytest.mark.parametrize("num, den, unit, people, shown", [
    (3, 117, "share", True, ("<5", 117.0)),          # primary: a small count of people
    (38, 40, "share", True, ("withheld", 40.0)),     # secondary: the rest (2) would give the 38 back
    (2, 3, "per 100", True, ("<5", "<5")),
    (0, 3, "share", True, (0.0, "<5")),              # zero identifies nobody
    (3, 4, "share", False, (3.0, 4.0)),              # programmes, decisions, submissions: never suppressed
    (1, 1, "yes/no", True, (1.0, 1.0)),
    (50.5, 3, "score", True, (None, "<5")),          # a survey's score sum is never shown; 3 respondents are
    (50.5, 20, "score", True, (None, 20.0)),
])
def test_shown_counts_primary_and_secondary_suppression(num, den, unit, people, shown):
    assert privacy.shown_counts(num, den, unit, 5, people) == shown


def test_a_suppressed_count_cannot_be_recovered_from_the_row():
    # every row that privacy lets through: the visible parts never determine a hidden count of people
    for num in range(0, 45):
        for den in range(max(num, 1), 45):
            n, d = privacy.shown_counts(num, den, "share", 5, True)
            hidden_value = privacy.value_withheld(num, den, "share", 5, True)
            if isinstance(n, str):  # numerator hidden: neither value nor (den - num) may be visible
                assert hidden_value
            if isinstance(d, str):
                assert hidden_value and isinstance(n, str) or n == 0
            if not hidden_value:
                assert not isinstance(n, str) and not (0 < den - num < 5) and not (0 < num < 5)


def test_about_people_by_datasets():
    assert not privacy.about_people(["accreditation", "enrolment"])  # programmes enrolled vs accredited
    assert not privacy.about_people(["submissions"])
    assert privacy.about_people(["student_survey"])
    assert privacy.about_people(["mobility", "staffing"])


def test_heatmap_leaves_cells_without_a_group_blank_with_the_reason():
    cells = pd.DataFrame({"label": ["A", "B"], "indicator": ["Share", "Share"], "che_group": ["top", None],
                          "ume_group": ["B", None], "reason": [None, "fixed rule: crowded at the ceiling"]})
    spec = figures.group_heatmap(cells, ["A", "B"], ["Share"])
    trace = spec["data"][0]
    assert trace["z"] == [[3, None]] and trace["text"] == [["B", ""]]
    assert trace["customdata"][0][1] == "no group: fixed rule: crowded at the ceiling"
    assert trace["hoverongaps"] is True
    figures.as_figure(spec)  # validates


def test_mask_personal():
    assert privacy.mask_personal("Ask Dr. Hans Becker or mail h.becker@uni.de") == "Ask [name] or mail [e-mail]"
    assert privacy.mask_personal("The Clinical Training was fine.", frozenset({"Clinical Training"})) == \
        "The Clinical Training was fine."

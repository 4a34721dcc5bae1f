"""The survey chart and report sections: intervals against the peer mean, no-group items marked without their
value, small counts and comments suppressed, data text escaped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ims_indicators.report.html import Figures
from ims_indicators.survey.che import compute_survey
from ims_indicators.survey.figures import network_spec, survey_figure
from ims_indicators.survey.report import comments_html, load_survey, network_html, school_html

from .conftest import add_aggregated, add_respondents
from .test_che import NETWORK, load

SECRET_MEAN = 1.2345678  # an item mean under 15 responses: must appear nowhere


def items_frame() -> pd.DataFrame:
    cols = ["school_id", "academic_year", "item", "n", "mean", "sd", "ci_low", "ci_high", "peer_mean", "che_group",
            "reason", "peer_schools", "form"]
    return pd.DataFrame([
        ["a", "2023/24", "teaching", 20, 1.5, 0.51, 1.28, 1.72, 2.49, "top", "below", 4, "respondents"],
        ["a", "2023/24", "exam_organisation", 18, 3.5, 0.51, 3.28, 3.72, 2.49, "bottom", "above", 4, "respondents"],
        ["a", "2023/24", "clinical_training", 30, 2.5, 0.5, 2.32, 2.68, 2.49, "middle", "contains", 4, "respondents"],
        ["a", "2023/24", "credit_recognition", 9, SECRET_MEAN, 0.4, None, None, 2.49, None, "fewer", 4, "respondents"],
        ["a", "2022/23", "teaching", 20, 4.0, 0.5, 3.8, 4.2, 2.5, "bottom", "old year", 4, "respondents"],
        ["b", "2023/24", "teaching", 25, 2.9, 0.5, 2.7, 3.1, 2.49, "bottom", "above", 4, "aggregated"],
    ], columns=cols)


def test_survey_figure_error_bars_peer_mean_and_no_group(monkeypatch):
    monkeypatch.setenv("IMS_SUPPRESS_BELOW", "5")
    fig = survey_figure(items_frame(), "a")  # a validated go.Figure
    traces = {t.name: t for t in fig.data}
    top = traces["a: top group"]
    assert list(top.x) == [1.5] and top.error_x.array[0] == pytest.approx(0.22)
    assert top.error_x.arrayminus[0] == pytest.approx(0.22)
    assert list(traces["a: bottom group"].x) == [3.5] and list(traces["a: middle group"].x) == [2.5]
    assert set(traces["peer mean"].x) == {2.49}
    hidden = traces["no group (fewer than 15 responses)"]
    assert list(hidden.y) == ["Recognition of credits earned abroad"] and list(hidden.x) == [1]
    assert "value not shown" in hidden.customdata[0] and "(9)" in hidden.customdata[0]
    assert str(SECRET_MEAN) not in fig.to_json() and "4.0" not in str(list(top.x))  # latest year only
    assert "lower is better" in fig.layout.xaxis.title.text


def test_suppression_threshold_above_15_hides_more(monkeypatch):
    monkeypatch.setenv("IMS_SUPPRESS_BELOW", "20")
    fig = survey_figure(items_frame(), "a")
    names = {t.name: list(t.y) for t in fig.data}
    hidden = names["no group (fewer than 20 responses)"]
    assert "Exam organisation" in hidden and "Recognition of credits earned abroad" in hidden
    assert "3.5" not in json.dumps([list(t.x) for t in fig.data if t.name != "peer mean"])
    assert "(<20)" in fig.data[-1].customdata[1] and "(18)" not in json.dumps(list(fig.data[-1].customdata))
    spec = network_spec(items_frame(), {"a": "A", "b": "peer 1"}, "2023/24", k=20)
    shown = [x for t in spec["data"] if t["name"] != "peer mean" for x in t["x"]]
    assert sorted(shown) == [1.5, 2.5, 2.9]


def test_report_sections_with_comment_suppression(con, monkeypatch):
    monkeypatch.setenv("IMS_SUPPRESS_BELOW", "5")
    load(con, {})
    add_aggregated(con, "a", "clinical_training", 30, 2.4, 0.7)
    add_respondents(con, "c", "overall_study_situation", [2] * 16)
    add_respondents(con, "d", "overall_study_situation", [1, 2, 3])  # 3 answers: comments never shown
    comments = {"a": ["Great <script>alert(1)</script> tutors", "b", "c", "d", "e"],  # 5 ≥ k: shown
                "c": ["only", "four", "comments", "here"],  # 4 < k on 16 answers: withheld
                "d": ["x", "y", "z"]}
    for school, texts in comments.items():
        item = "teaching" if school == "a" else "overall_study_situation"
        for i, text in enumerate(texts):
            con.execute("UPDATE staging.student_survey SET comment = ? WHERE school_id = ? AND item = ? AND "
                        "respondent_ref = ?", [text, school, item, f"r{i + 1}"])
    compute_survey(con)
    survey = load_survey(con)
    assert set(survey.comments["school_id"]) == {"a"} and len(survey.comments) == 5
    page = school_html(survey, "a", Figures("a"), "School A")
    assert 'id="survey"' in page and 'data-chart="survey"' in page and "a-chart-1" in page
    assert 'data-item="teaching" data-che="top"' in page
    # comments are personal data: never on the profile (which the network opens), only on the school's own page
    assert "tutors" not in page and "survey-comments-private" in page
    own = comments_html(survey, "a", "School A")
    assert "Great &lt;script&gt;alert(1)&lt;/script&gt; tutors" in own and "<script>alert" not in own
    assert "survey-comments-withheld" not in own
    page_c = school_html(survey, "c", Figures("c"))
    assert "only" not in page_c and comments_html(survey, "c", "C") is None  # 4 comments < k: withheld
    net_text = network_html(survey, {s: s.upper() for s in NETWORK}, Figures("network"))
    assert "tutors" not in net_text
    page_d = school_html(survey, "d", Figures("d"))
    assert 'data-item="teaching" data-che=""' in page_d and "fewer than 15 responses" in page_d
    assert ">1.00<" not in page_d  # d's mean (14 × 1) is not shown
    assert school_html(survey, "nobody", Figures("x")) is None
    net = network_html(survey, {s: s.upper() for s in NETWORK}, Figures("network"))
    assert 'data-chart="survey-network"' in net and 'data-item="teaching"' in net
    assert "<td>Teaching (courses, lectures, seminars)</td><td class=\"n\">5</td><td class=\"n\">1</td>" in net


def test_comments_are_masked_for_the_school(con, monkeypatch):
    monkeypatch.setenv("IMS_SUPPRESS_BELOW", "5")
    add_respondents(con, "a", "overall_study_situation", [2] * 16)
    texts = ["Dr. Müller never answers; write to anna.rossi@uni-x.it", "Thanks to Anna Rossi for the support.",
             "Prof Weber is great.", "Clinical placements are well organised.", "Exam dates came late."]
    for i, text in enumerate(texts):
        con.execute("UPDATE staging.student_survey SET comment = ? WHERE respondent_ref = ?", [text, f"r{i + 1}"])
    compute_survey(con)
    own = comments_html(load_survey(con), "a", "School A")
    for leaked in ("Müller", "anna.rossi", "Anna Rossi", "Weber"):
        assert leaked not in own
    assert "[name] never answers; write to [e-mail]" in own and "Thanks to [name] for the support." in own
    assert "Clinical placements are well organised." in own

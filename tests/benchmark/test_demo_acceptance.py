"""Issue 15's acceptance on the demo network (ingested once per session: ``demo_home``), through the real stages:
indicators → benchmark → reports. Groups fit each indicator; no small-count mark on what is not about people."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ims_indicators import pipeline
from ims_indicators.indicators import load_catalogue
from ims_indicators.report.build import write_reports
from ims_indicators.warehouse import open_warehouse, rows

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(demo_home: Path, tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("acceptance")
    shutil.copytree(demo_home, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("gx", "reports", "*.lock*"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IMS_HOME", str(home))
        mp.setenv("IMS_SUPPRESS_BELOW", "5")
        for name, env in (("catalogue/indicators.yaml", "IMS_CATALOGUE"), ("catalogue/peer_sets.yaml", "IMS_PEER_SETS"),
                          ("models", "IMS_MODELS_DIR"), ("expectations", "IMS_EXPECTATIONS_DIR")):
            mp.setenv(env, str(REPO / name))
        with open_warehouse() as con:
            for stage in (pipeline.indicators, pipeline.survey, pipeline.benchmark, pipeline.survey_groups):
                stage(con)  # the marts in the order pipeline.py lists them (no score: these rules are about groups)
            written = write_reports(con, home / "reports")
            yield con, home, written


def test_no_yes_no_indicator_and_no_survey_item_has_a_quartile_group_or_a_letter(demo):
    con, _, _ = demo
    bad = rows(con, """
        SELECT b.indicator_id, b.peer_set, b.academic_year, b.school_id, b.group_rule, b.che_group, b.ume_group
        FROM marts.benchmark_groups AS b JOIN marts.indicator_catalogue AS c USING (indicator_id)
        WHERE (c.unit = 'yes/no' AND (b.che_group IS NOT NULL OR b.ume_group IS NOT NULL))
           OR (c.unit = 'score' AND b.ume_group IS NOT NULL)
           OR (b.ume_group IS NOT NULL AND b.group_rule <> 'quartile')""")
    assert bad == []
    assert rows(con, "SELECT count(*) AS n FROM marts.benchmark_groups WHERE indicator_id LIKE 'survey_%' "
                     "AND che_group IS NOT NULL")[0]["n"] > 0  # the interval rule still groups judgements


def test_quartile_groups_hold_between_10_and_45_percent(demo):
    con, _, _ = demo
    sets = rows(con, """
        SELECT indicator_id, academic_year, peer_set, count(value) AS n,
               count(*) FILTER (WHERE che_group = 'top') AS top, count(*) FILTER (WHERE che_group = 'bottom') AS bottom
        FROM marts.benchmark_groups WHERE group_rule = 'quartile'
        GROUP BY ALL HAVING count(value) >= 8""")
    grouped = [s for s in sets if s["top"] or s["bottom"]]
    assert len(grouped) > 50
    for s in grouped:
        assert 0.10 <= s["top"] / s["n"] <= 0.45 and 0.10 <= s["bottom"] / s["n"] <= 0.45, s


def test_a_letters_only_in_peer_sets_of_10_or_more(demo):
    con, _, _ = demo
    minimum = load_catalogue(REPO / "catalogue" / "indicators.yaml").benchmark.ume_min_peer_values
    small = rows(con, "SELECT count(*) AS n FROM marts.benchmark_groups WHERE ume_group IS NOT NULL AND peer_n < ?",
                 [minimum])
    assert minimum == 10 and small[0]["n"] == 0


def test_no_small_count_mark_on_programmes_datasets_submissions_or_decisions(demo):
    con, home, written = demo
    institutional = {r["indicator_id"] for r in rows(
        con, "SELECT indicator_id FROM marts.indicator_catalogue WHERE NOT list_has_any(datasets, "
             "['enrolment', 'mobility', 'staffing', 'student_survey']) OR indicator_id = 'qa_accredited_programme_share'")}
    assert {"qa_open_conditions", "qa_accredited_programme_share", "aa_submission_completeness"} <= institutional
    small = rows(con, "SELECT count(*) AS n FROM marts.indicator_values WHERE indicator_id IN (SELECT unnest(?)) "
                      "AND (numerator BETWEEN 1 AND 4 OR denominator BETWEEN 1 AND 4)", [sorted(institutional)])
    assert small[0]["n"] > 0  # there are such small counts to show ...
    row_re = re.compile(r'<tr data-indicator="([a-z0-9_]+)"[^>]*>(.*?)</tr>', re.S)
    seen = 0
    for page in written["schools"]:
        for ind, cells in row_re.findall(Path(page).read_text(encoding="utf-8")):
            if ind in institutional:
                seen += 1
                num = re.search(r'class="n numerator">([^<]*)<', cells).group(1)
                den = re.search(r'class="n denominator">([^<]*)<', cells).group(1)
                assert "&lt;" not in num + den, (page, ind, num, den)  # ... and none is masked
    assert seen > 100


def test_every_page_with_letters_states_the_cut_offs_and_the_minimum(demo):
    _, _, written = demo
    for page in [written["index"], *written["schools"]]:
        text = Path(page).read_text(encoding="utf-8")
        assert 'id="ume-rule"' in text and "at least 10 values" in text and "A if d ≥ +0.25" in text
        assert "Grouped by: fixed cut-offs (CHE rating procedure): top ≥ 95 %, bottom &lt; 80 %" in text


def test_comments_stay_off_the_network_pages_and_go_to_the_school_only(demo):
    _, home, written = demo
    from ims_indicators.survey.demo import COMMENTS

    public = [written["index"], *written["schools"]]
    for page in public:
        text = Path(page).read_text(encoding="utf-8")
        assert not any(c.replace("'", "&#39;") in text or c in text for c in COMMENTS), page
    assert written["private"], "no school received its comments"
    for page in written["private"]:
        assert Path(page).parent.parent == home / "reports" / "private"

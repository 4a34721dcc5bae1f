"""Real-world and hostile open-data files (issue 17 items 5, 7, 8, 9, 10), written by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ims_indicators.cli import app
from ims_indicators.erasmus import load_erasmus
from ims_indicators.erasmus.layouts import CURRENT
from ims_indicators.warehouse import rows

from .conftest import row, write_open_data


def _mojibake(text: str) -> str:
    """UTF-8 bytes read as Windows-1252 and written again as UTF-8: double-encoded."""
    return text.encode("utf-8").decode("cp1252")


def test_double_encoded_utf8_is_repaired_and_recorded_on_the_submission(registry, tmp_path: Path) -> None:
    header = (_mojibake("\ufeff") + CURRENT[0], *CURRENT[1:])
    assert header[0] == "ï»¿Project Reference"
    partner = _mojibake("Universität Wallererstraße")
    assert partner == "UniversitÃ¤t WallererstraÃŸe"
    f = write_open_data(tmp_path / "ka1.csv", [{**row(), "ï»¿Project Reference": "P-1",
                                                "Receiving Organization": partner}], header=header)
    summary = load_erasmus(registry, [f])
    assert summary["files"][0]["status"] == "loaded"
    (extra,) = rows(registry, "SELECT project_reference, receiving_organisation FROM curated.erasmus_mobility")
    assert extra == {"project_reference": "P-1", "receiving_organisation": "Universität Wallererstraße"}
    (m,) = rows(registry, "SELECT partner_institution FROM curated.mobility")
    assert m["partner_institution"] == "Universität Wallererstraße"
    subs = rows(registry, "SELECT school_id, repairs FROM meta.submissions WHERE dataset <> 'schools' "
                             "ORDER BY school_id NULLS FIRST")
    assert len(subs) == 2 and all("ftfy" in s["repairs"] for s in subs)
    assert "Wallerer" in subs[1]["repairs"] and "header" in subs[0]["repairs"]


def test_clean_text_is_left_alone_and_no_repair_recorded(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(Receiving_Organization="Universität Straße – ½ Campus")])
    load_erasmus(registry, [f])
    assert [r["repairs"] for r in rows(registry, "SELECT repairs FROM meta.submissions WHERE dataset <> 'schools'")] == [None, None]
    (extra,) = rows(registry, "SELECT receiving_organisation FROM curated.erasmus_mobility")
    assert extra["receiving_organisation"] == "Universität Straße – ½ Campus"


@pytest.mark.parametrize("start,end,ec_year,expected", [
    ("2014-07", "2014-08", "2014-2015", "2013/14"),  # the whole mobility before September: the year that ends then
    ("2019-08", "2020-01", "2019-2020", "2019/20"),  # starts in August, runs into the year beginning in September
    ("2019-07", "2019-12", "2018-2019", "2019/20"),  # the EC's (call) year says 2018-19: the dates decide
    ("2019-10", "2020-02", "2019-2020", "2019/20"),  # any other start: the EC year as published
])
def test_july_august_starts_map_to_the_school_year_by_their_dates(registry, tmp_path: Path, start: str, end: str,
                                                                 ec_year: str, expected: str) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(Mobility_Start_Month=start, Mobility_End_Month=end,
                                                   Academic_Year=ec_year)])
    load_erasmus(registry, [f])
    (sub,) = rows(registry, "SELECT academic_year, status FROM meta.submissions WHERE school_id IS NOT NULL")
    assert sub == {"academic_year": expected, "status": "accepted"}
    (extra,) = rows(registry, "SELECT academic_year, ec_academic_year FROM curated.erasmus_mobility")
    assert extra == {"academic_year": expected, "ec_academic_year": ec_year}


def test_quoted_field_with_the_delimiter_and_a_partly_quoted_header(registry, tmp_path: Path) -> None:
    header = ";".join(f'"{h}"' if i % 3 == 0 else h for i, h in enumerate(CURRENT))
    values = row(Receiving_Organization="Universidad; Campus Sur")
    line = ";".join(f'"{values[h]}"' if ";" in values[h] else values[h] for h in CURRENT)
    f = tmp_path / "ka1.csv"
    f.write_text(header + "\n" + line + "\n", encoding="utf-8")
    summary = load_erasmus(registry, [f])
    assert summary["totals"]["rows_corrupt"] == 0 and summary["totals"]["mobility_rows"] == 1
    (extra,) = rows(registry, "SELECT project_reference, receiving_organisation FROM curated.erasmus_mobility")
    assert extra == {"project_reference": "2019-1-DE01-KA103-005235", "receiving_organisation": "Universidad; Campus Sur"}


def test_exit_code_is_one_when_every_submission_is_rejected(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(Participants="0"), row(Participants="0"), row()])
    registry.close()
    result = CliRunner().invoke(app, ["erasmus", str(f)])
    assert result.exit_code == 1, result.output
    assert "every submission was rejected" in result.output and "2 of 3 rows failed validation" in result.output


def test_exit_code_is_zero_when_something_was_accepted(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(), row(), row(Participants="0")])
    registry.close()
    result = CliRunner().invoke(app, ["erasmus", str(f)])
    assert result.exit_code == 0, result.output
    assert "nothing accepted" not in result.output


def test_an_older_ec_layout_is_refused_by_name(registry, tmp_path: Path) -> None:
    f = tmp_path / "erasmus_2012.csv"
    f.write_text("HOMEINSTITUTION;COUNTRYOFHOMEINSTITUTION;AGE;GENDER;HOSTINSTITUTION;COUNTRYOFHOSTINSTITUTION;"
                 "MOBILITYTYPE;STUDYSTARTDATE;LENGTHSTUDYPERIOD\nD  BERLIN13;DE;23;F;E  MADRID03;ES;S;2012-10;5\n",
                 encoding="utf-8")
    registry.close()
    result = CliRunner().invoke(app, ["erasmus", str(f)])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "LLP Erasmus student mobility (2007-2014)" in text and "older EC layout" in text
    assert "missing Mobility Start Month" in text


def test_a_partial_ka1_header_names_the_closest_layout_and_what_is_missing(registry, tmp_path: Path) -> None:
    header = tuple(h for h in CURRENT if h not in ("Participants", "Receiving Country Code"))
    f = write_open_data(tmp_path / "ka1.csv", [row()], header=header)
    summary = load_erasmus(registry, [f])
    reason = summary["files"][0]["reason"]
    assert "closest is ka1-2016+ (22 of its 24 columns found)" in reason
    assert "missing column(s) Receiving Country Code, Participants" in reason


@pytest.mark.parametrize("n", [300, 200_000])
def test_the_column_limit_applies_with_one_true_message(registry, tmp_path: Path, n: int) -> None:
    header = (*CURRENT, *(f"extra {i}" for i in range(n - len(CURRENT))))
    f = write_open_data(tmp_path / "wide.csv", [row()], header=header)
    summary = load_erasmus(registry, [f])
    (result,) = summary["files"]
    assert result["status"] == "rejected"
    assert f"{n:,} columns, the limit is 200 (IMS_MAX_COLUMNS)" in result["reason"]
    assert rows(registry, "SELECT status FROM meta.submissions WHERE dataset <> 'schools'") == [{"status": "rejected"}]

"""ims erasmus on small files written here: each quirk of the published data, the mapping onto the mobility
contract against the registry, quarantine with line numbers, and the open data never replacing a school's rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from ims_indicators.cli import app
from ims_indicators.erasmus import RegistryNotReady, load_erasmus
from ims_indicators.erasmus.layouts import CURRENT, KA1_2014
from ims_indicators.ingest import ingest_paths
from ims_indicators.warehouse import connect, rows
from tests.curated import accept_staged

from .conftest import row, write_open_data

runner = CliRunner()


def mobility(con: duckdb.DuckDBPyConnection, where: str = "true", params: list | None = None) -> list[dict]:
    return rows(con, f"""SELECT m.*, e.* EXCLUDE (submission_id, source_row, school_id, academic_year, direction,
                                                participants)
                         FROM curated.mobility m
                         JOIN meta.submissions s USING (submission_id)
                         LEFT JOIN curated.erasmus_mobility e USING (submission_id, source_row, direction)
                         WHERE s.source = 'erasmus_open_data' AND {where} ORDER BY m.source_row, m.direction""",
                params)


# --- quirks of the published form ---------------------------------------------------------------------

def test_missing_value_markers_are_read_as_missing(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(Participant_Gender="Undefined", Participant_Age="-", Participant_Nationality="? Unknown ?",
            Education_Level="? Unknown ?", Fewer_Opportunities="-", Field_of_Education="? Unknown ?"),
    ])
    load_erasmus(registry, [f])
    (m,) = mobility(registry)
    assert (m["gender"], m["age"], m["nationality"], m["education_level"]) == (None, None, None, None)
    assert m["fewer_opportunities"] is None and m["field_of_education"] is None and m["isced_f_code"] is None
    assert m["programme_level"] is None  # an unknown level is no level, not a failure
    assert m["participant_type"] == "student" and m["activity"] == "study"


def test_country_codes_el_uk_xk(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(Receiving_Country_Code="EL", Receiving_Organisation_Erasmus_Code="G  ATHINE01"),
        row(Receiving_Country_Code="UK", Receiving_Organisation_Erasmus_Code="UK LONDON029"),
        row(Receiving_Country_Code="XK", Receiving_Organisation_Erasmus_Code="-"),
        row(Sending_Country_Code="EL", Sending_Organisation_Erasmus_Code="G  ATHINE01",
            Receiving_Country_Code="DE", Receiving_Organisation_Erasmus_Code="D  BERLIN13"),
    ])
    load_erasmus(registry, [f])
    got = [(m["direction"], m["partner_country"]) for m in mobility(registry)]
    assert got == [("outgoing", "GR"), ("outgoing", "GB"), ("outgoing", "XK"), ("incoming", "GR")]
    assert mobility(registry)[3]["sending_country"] == "GR"  # the open data's other columns too


@pytest.mark.parametrize("code", ["D  BERLIN13", "D BERLIN13", "DBERLIN13", " d  berlin13 ", "D\u00a0\u00a0BERLIN13",
                                  "D\u00a0BERLIN13", "D\u202fBERLIN13", "D\tBERLIN13"])
def test_erasmus_codes_match_the_registry_whatever_the_spacing(registry, tmp_path: Path, code: str) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(Sending_Organisation_Erasmus_Code=code)])
    summary = load_erasmus(registry, [f])
    assert summary["totals"]["rows_registry"] == 1
    (m,) = mobility(registry)
    assert m["school_id"] == "charite-berlin" and m["sending_erasmus_code"] == code.strip()


def test_months_become_first_and_last_day(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(Mobility_Start_Month="2019-09", Mobility_End_Month="2020-02"),
        row(Mobility_Start_Month="2019-11", Mobility_End_Month="2019-11"),
    ])
    load_erasmus(registry, [f])
    got = [(m["start_date"], m["end_date"]) for m in mobility(registry)]
    assert got == [(dt.date(2019, 9, 1), dt.date(2020, 2, 29)), (dt.date(2019, 11, 1), dt.date(2019, 11, 30))]


def test_crlf_and_latin1_files_are_read(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "crlf.csv", [row(), row(Receiving_City="Málaga")], newline="\r\n")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(f.read_text(encoding="utf-8").replace("’", "'").replace(
        "2019-1-DE01", "2018-1-DE01").encode("latin-1"))
    summary = load_erasmus(registry, [f, latin])
    assert [x["status"] for x in summary["files"]] == ["loaded", "loaded"]
    assert summary["totals"]["mobility_rows"] == 4 and summary["totals"]["rows_quarantined"] == 0
    names = {m["sending_organisation"] for m in mobility(registry)}
    assert names == {"Charité - Universitätsmedizin Berlin"}  # Latin-1 read as such, CR dropped


def test_a_quoted_file_is_read_with_quotes(registry, tmp_path: Path) -> None:
    f = tmp_path / "quoted.csv"
    r = row(Receiving_Organization="Universidad; Complutense")
    f.write_text(";".join(f'"{h}"' for h in CURRENT) + "\n" + ";".join(f'"{r[h]}"' for h in CURRENT) + "\n",
                 encoding="utf-8")
    load_erasmus(registry, [f])
    (m,) = mobility(registry)
    assert m["partner_institution"] == "Universidad; Complutense" and m["start_date"] == dt.date(2019, 10, 1)


# --- mapping against the registry ---------------------------------------------------------------------

def test_outgoing_and_incoming_against_the_registry(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(),  # line 2: Charité sends -> outgoing for Charité, partner ES
        row(Sending_Country_Code="ES", Sending_Organization="Universidad de Granada",
            Sending_Organisation_Erasmus_Code="E  GRANADA01", Receiving_Country_Code="BE",
            Receiving_Organization="Universiteit Antwerpen", Receiving_Organisation_Erasmus_Code="B ANTWERP01"),
        row(Receiving_Country_Code="PL", Receiving_Organization="WUM",  # line 4: between two registry schools
            Receiving_Organisation_Erasmus_Code="PL WARSZAW06"),
        row(Sending_Organisation_Erasmus_Code="F  LYON03", Sending_Country_Code="FR"),  # nobody of ours
        row(Sending_Organisation_Erasmus_Code="-", Receiving_Organisation_Erasmus_Code="-"),  # no codes
    ])
    summary = load_erasmus(registry, [f])
    got = [(m["source_row"], m["school_id"], m["direction"], m["partner_country"], m["partner_institution"])
           for m in mobility(registry)]
    assert got == [
        (2, "charite-berlin", "outgoing", "ES", "Universidad Complutense de Madrid"),
        (3, "antwerp", "incoming", "ES", "Universidad de Granada"),
        (4, "warsaw-mu", "incoming", "DE", "Charité - Universitätsmedizin Berlin"),
        (4, "charite-berlin", "outgoing", "PL", "WUM"),
    ]
    t = summary["totals"]
    assert (t["rows_read"], t["rows_registry"], t["mobility_rows"]) == (5, 3, 4)
    assert (t["rows_dropped_not_registry"], t["rows_dropped_no_code"]) == (1, 1)


def test_activity_level_and_field_mapping(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(),
        row(Activity_mob="Student mobility for traineeships between Programme Countries",
            Education_Level="ISCED-6 - First cycle / Bachelor’s or equivalent level (EQF-6)",
            Field_of_Education="0913 - Nursing and midwifery"),
        row(Activity_mob="Staff mobility for teaching between Programme and Partner Countries",
            Participant_Profile="Staff", Education_Level="? Unknown ?", Field_of_Education="Medicine"),
        row(Activity_mob="Staff mobility for training between Programme Countries", Participant_Profile="Staff",
            Education_Level="ISCED-8 - Third cycle / Doctoral or equivalent level (EQF-8)"),
        row(Activity_mob="Student mobility for studies between Programme Countries",
            Education_Level="ISCED-8 - Third cycle / Doctoral or equivalent level (EQF-8)", Participants="3"),
    ])
    load_erasmus(registry, [f])
    got = [(m["participant_type"], m["activity"], m["programme_level"], m["isced_f_code"], m["participants"],
            m["programme"]) for m in mobility(registry)]
    assert got == [
        ("student", "study", "master", "0912", 1, "erasmus_plus"),
        ("student", "traineeship", "bachelor", "0913", 1, "erasmus_plus"),
        ("staff", "teaching", None, "0912", 1, "erasmus_plus"),
        ("staff", "training", None, "0912", 1, "erasmus_plus"),  # staff have no programme level
        ("student", "study", "doctoral", "0912", 3, "erasmus_plus"),
    ]


def test_one_submission_per_file_school_and_year(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(), row(Academic_Year="2018-2019", Mobility_Start_Month="2018-10", Mobility_End_Month="2019-01"),
        row(Sending_Organisation_Erasmus_Code="B  ANTWERP01"), row(Academic_Year="2019-20"),
        row(Academic_Year="-", Mobility_Start_Month="2019-06", Mobility_End_Month="2019-08"),  # year from the start
    ])
    summary = load_erasmus(registry, [f])
    subs = rows(registry, """SELECT school_id, academic_year, status, rows_in, source, file_name FROM meta.submissions
                             WHERE school_id IS NOT NULL ORDER BY ALL""")
    assert [(s["school_id"], s["academic_year"], s["rows_in"]) for s in subs] == [
        ("antwerp", "2019/20", 1), ("charite-berlin", "2018/19", 2), ("charite-berlin", "2019/20", 2)]
    assert {(s["status"], s["source"], s["file_name"]) for s in subs} == {
        ("accepted", "erasmus_open_data", "ka1.csv")}
    (file_rec,) = rows(registry, "SELECT * FROM meta.submissions WHERE school_id IS NULL AND dataset <> 'schools'")
    assert file_rec["status"] == "loaded" and file_rec["rows_in"] == 5
    assert summary["submissions"] == 3
    # curated Parquet of the touched years, for both tables
    curated = Path(summary["published"][0]).parents[1]
    assert (curated / "mobility" / "academic_year=2019-20" / "data_0.parquet").exists()
    assert (curated / "erasmus_mobility" / "academic_year=2018-19" / "data_0.parquet").exists()


# --- quarantine ---------------------------------------------------------------------------------------

def test_corrupt_lines_are_quarantined_with_their_line_number(registry, tmp_path: Path) -> None:
    good = ";".join(row().values())
    f = write_open_data(tmp_path / "ka1.csv", [
        row(),                                    # line 2
        good + ";EXTRA",                          # line 3: 25 fields
        row(Project_Reference="P-4"),             # line 4
        good.rsplit(";", 2)[0],                   # line 5: 22 fields
        row(Project_Reference="P-6"),             # line 6
    ])
    summary = load_erasmus(registry, [f])
    assert summary["files"][0]["status"] == "loaded" and summary["totals"]["rows_corrupt"] == 2
    held = rows(registry, "SELECT * FROM meta.quarantine WHERE stage = 'read' ORDER BY source_row")
    assert [(q["source_row"], q["rule"]) for q in held] == [(3, "read.csv_line"), (5, "read.csv_line")]
    assert "too many columns" in held[0]["reason"] and "24 fields" in held[0]["reason"]
    assert json.loads(held[0]["row_json"])["line"].endswith(";EXTRA")
    assert held[0]["submission_id"] == summary["files"][0]["submission_id"]  # the file's own record
    # the rows after them keep their true line numbers
    assert [(m["source_row"], m["project_reference"]) for m in mobility(registry)] == [
        (2, "2019-1-DE01-KA103-005235"), (4, "P-4"), (6, "P-6")]


def test_mobility_checks_quarantine_rows_with_rule_and_reason(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [
        row(),                                                                  # 2 ok
        row(Participants="0"),                                                  # 3
        row(Receiving_Country_Code="ZZ"),                                       # 4
        row(Mobility_Start_Month="2020-03", Mobility_End_Month="2020-01"),       # 5
        row(Activity_mob="Accompanying persons", Participant_Profile="Staff"),  # 6
        row(Participants="two"),                                                # 7
        row(Mobility_Start_Month="2019-13"),                                    # 8
        row(Receiving_Country_Code="-"),                                        # 9
        row(Mobility_Start_Month="2021-10", Mobility_End_Month="2021-12"),      # 10 outside 2019/20
        row(Receiving_Organisation_Erasmus_Code="D BERLIN13"),                  # 11 to itself: 2 rows
    ])
    summary = load_erasmus(registry, [f])
    held = rows(registry, """SELECT source_row, rule, column_name, reason FROM meta.quarantine
                             WHERE stage <> 'read' OR rule <> 'read.csv_line' ORDER BY source_row, rule""")
    by_row = {}
    for q in held:
        by_row.setdefault(q["source_row"], []).append((q["rule"], q["column_name"]))
    assert by_row[3] == [("expect_column_values_to_be_between", "participants")]
    assert by_row[4] == [("expect_column_values_to_be_in_set", "partner_country")]
    # the same rules, columns and sentences as a school file's (the mobility suite, compiled to SQL)
    assert ("expect_column_pair_values_a_to_be_greater_than_b", "end_date,start_date") in by_row[5]
    assert by_row[6] == [("read.erasmus_mapping", "activity")]  # read stage: no counterpart, never staged
    assert by_row[7] == [("read.type_int", "participants")]
    assert ("read.type_month", "start_date") in by_row[8]
    assert by_row[9] == [("expect_column_values_to_not_be_null", "partner_country")]
    assert {r for r, _ in by_row[10]} == {"expect_column_pair_values_a_to_be_greater_than_b"}
    assert {r for r, _ in by_row[11]} == {"erasmus.same_organisation"}
    reasons = {q["source_row"]: q["reason"] for q in held}
    assert reasons[3] == "participants 0 is below the minimum 1"
    assert reasons[4] == "partner_country 'ZZ' is not an ISO 3166-1 alpha-2 country code"
    assert "'Accompanying persons' has no counterpart" in reasons[6]
    # read-stage rows are quarantined with the line as received (every field, under its internal name)
    received = {q["source_row"]: json.loads(q["row_json"]) for q in rows(
        registry, "SELECT source_row, row_json FROM meta.quarantine WHERE rule LIKE 'read.type_%'")}
    assert received[7]["participants"] == "two" and received[8]["start_month"] == "2019-13"
    assert received[8]["receiving_erasmus_code"] == received[7]["receiving_erasmus_code"] is not None
    (sub,) = rows(registry, "SELECT * FROM meta.submissions WHERE school_id = 'charite-berlin'")
    # 9 of 10 lines failed (line 11 is one line, two mobility rows): more than IMS_QUARANTINE_MAX_SHARE
    assert sub["status"] == "rejected"
    assert "9 of 10 rows failed validation" in sub["reason"] and mobility(registry) == []
    assert sub["rows_in"] == 10 and sub["rows_quarantined"] == 9
    assert summary["totals"]["rows_quarantined"] == 9


def test_a_few_failing_rows_leave_the_submission_accepted_with_quarantine(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(), row(), row(Participants="0"), row()])
    load_erasmus(registry, [f])
    (sub,) = rows(registry, "SELECT * FROM meta.submissions WHERE school_id = 'charite-berlin'")
    assert (sub["status"], sub["rows_in"], sub["rows_quarantined"]) == ("accepted_with_quarantine", 4, 1)
    assert [m["source_row"] for m in mobility(registry)] == [2, 3, 5]


# --- layouts ------------------------------------------------------------------------------------------

def test_older_layout_is_recognised_and_mapped(registry, tmp_path: Path) -> None:
    old = {("Sending Organization Erasmus Code" if k == "Sending Organisation Erasmus Code" else
            "Receiving Organization Erasmus Code" if k == "Receiving Organisation Erasmus Code" else k): v
           for k, v in row().items()}
    f = write_open_data(tmp_path / "ka1_2014.csv", [old], header=KA1_2014)
    summary = load_erasmus(registry, [f])
    assert summary["files"][0]["layout"] == "ka1-2014"
    (m,) = mobility(registry)
    assert m["school_id"] == "charite-berlin" and m["field_of_education"] is None and m["activity"] == "study"


def test_a_layout_without_the_needed_columns_is_refused_naming_them(registry, tmp_path: Path, home: Path) -> None:
    header = tuple(h for h in CURRENT if h not in ("Participants", "Receiving Organisation Erasmus Code"))
    f = write_open_data(tmp_path / "odd.csv", [row()], header=header)
    summary = load_erasmus(registry, [f])
    (res,) = summary["files"]
    assert res["status"] == "rejected"
    assert "Receiving Organisation Erasmus Code" in res["reason"] and "Participants" in res["reason"]
    (rec,) = rows(registry, "SELECT * FROM meta.submissions WHERE dataset <> 'schools'")  # not the registry's
    assert rec["status"] == "rejected" and rec["source"] == "erasmus_open_data"
    assert (home / rec["stored_path"]).exists()  # kept under data/rejected/


def test_an_empty_file_or_one_without_rows_is_refused(registry, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = write_open_data(tmp_path / "header.csv", [])
    summary = load_erasmus(registry, [empty, header_only])
    assert [f["status"] for f in summary["files"]] == ["rejected", "rejected"]
    assert "empty" in summary["files"][0]["reason"] and "no data rows" in summary["files"][1]["reason"]


# --- identity, supersede, and the school's own rows ---------------------------------------------------

def test_the_same_file_again_changes_nothing(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(), row(Participants="0")])
    load_erasmus(registry, [f])
    counts = [registry.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
              for t in ("meta.submissions", "meta.quarantine", "staging.mobility", "curated.mobility")]
    again = load_erasmus(registry, [f])
    assert again["files"][0]["status"] == "unchanged" and again["submissions"] == 0
    assert [registry.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("meta.submissions", "meta.quarantine", "staging.mobility", "curated.mobility")] == counts


def test_a_grown_registry_picks_up_its_rows_from_a_known_file(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(), row(Sending_Organisation_Erasmus_Code="I  ROMA01")])
    load_erasmus(registry, [f])
    registry.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, "
                     "erasmus_code, network_role) VALUES ('t', 9, 'sapienza-roma', 'Sapienza', 'IT', 'I ROMA01', "
                     "'member')")
    accept_staged(registry, "schools")
    again = load_erasmus(registry, [f])
    assert again["files"][0]["status"] == "loaded" and again["submissions"] == 1
    assert [m["school_id"] for m in mobility(registry)] == ["charite-berlin", "sapienza-roma"]


def test_a_corrected_release_supersedes_and_another_call_adds_up(registry, tmp_path: Path) -> None:
    first = write_open_data(tmp_path / "ka1.csv", [row()])
    load_erasmus(registry, [first])
    # the same projects again in a corrected release (other file name): replaces the earlier open-data rows
    fixed = write_open_data(tmp_path / "ka1_v2.csv", [row(Participants="2")])
    load_erasmus(registry, [fixed])
    assert [m["participants"] for m in mobility(registry)] == [2]
    # another call year's projects for the same school and year: added
    other = write_open_data(tmp_path / "ka1_2018_call.csv", [row(Project_Reference="2018-1-DE01-KA103-000001")])
    load_erasmus(registry, [other])
    assert sorted(m["project_reference"] for m in mobility(registry)) == [
        "2018-1-DE01-KA103-000001", "2019-1-DE01-KA103-005235"]
    superseded = rows(registry, "SELECT file_name, superseded_by FROM meta.submissions WHERE superseded_by IS NOT NULL")
    assert [s["file_name"] for s in superseded] == ["ka1.csv"]


SCHOOLS = ("school_id,name,country_code,city,erasmus_code,network_role,consent_to_be_named\n"
           "charite-berlin,Charité Berlin,DE,Berlin,D  BERLIN13,partner,true\n")
SCHOOL_MOBILITY = (
    "school_id;academic_year;mobility_ref;direction;participant_type;activity;programme;programme_level;"
    "partner_country;partner_institution;start_date;end_date;participants\n"
    "charite-berlin;2019/20;CH-1;outgoing;student;clinical_placement;erasmus_plus;long_cycle;ES;UCM;01.10.2019;"
    "28.02.2020;1\n"
    "charite-berlin;2019/20;CH-2;incoming;staff;teaching;bilateral;;FR;Paris;15.09.2019;20.09.2019;2\n")


def write_school_submissions(home: Path) -> Path:
    """The registry and one school mobility file (charite-berlin 2019/20) under home/data/raw."""
    raw = home / "data" / "raw"
    (raw / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
    folder = raw / "mobility" / "charite-berlin" / "2019-20"
    folder.mkdir(parents=True)
    (folder / "mobility.csv").write_text(SCHOOL_MOBILITY, encoding="utf-8")
    return raw


def test_open_data_never_overwrites_what_a_school_sent(home: Path, tmp_path: Path) -> None:
    raw = write_school_submissions(home)
    con = connect()
    try:
        report = ingest_paths(con, [raw])
        assert {r.status for r in report.results} == {"accepted"}, [r.as_dict() for r in report.results]
        school_rows = rows(con, "SELECT * FROM curated.mobility ORDER BY ALL")
        assert len(school_rows) == 2

        f = write_open_data(tmp_path / "ka1.csv", [row(), row(Participants="2"), row(Participants="0")])
        load_erasmus(con, [f])
        f2 = write_open_data(tmp_path / "ka1.csv", [row(Participants="3")])  # same name: supersedes open data only
        load_erasmus(con, [f2])

        by_source = rows(con, """SELECT s.source, count(*) AS n FROM curated.mobility m
                                 JOIN meta.submissions s USING (submission_id) GROUP BY ALL ORDER BY ALL""")
        assert by_source == [{"source": "erasmus_open_data", "n": 1}, {"source": "school", "n": 2}]
        assert rows(con, """SELECT m.* FROM curated.mobility m JOIN meta.submissions s USING (submission_id)
                            WHERE s.source = 'school' ORDER BY ALL""") == school_rows
        subs = rows(con, """SELECT source, status, superseded_by IS NOT NULL AS superseded FROM meta.submissions
                            WHERE dataset = 'mobility' AND school_id = 'charite-berlin' ORDER BY ALL""")
        assert subs == [
            {"source": "erasmus_open_data", "status": "accepted", "superseded": False},
            {"source": "erasmus_open_data", "status": "accepted_with_quarantine", "superseded": True},
            {"source": "school", "status": "accepted", "superseded": False},
        ]

        # revalidating everything (GX suites on staging) keeps both sources' curated rows as they are
        from ims_indicators.validate.revalidate import revalidate_all

        before = rows(con, "SELECT * FROM curated.mobility ORDER BY ALL")
        outcomes = revalidate_all(con)
        assert {o["status"] for o in outcomes} <= {"accepted", "accepted_with_quarantine"}, outcomes
        assert rows(con, "SELECT * FROM curated.mobility ORDER BY ALL") == before
    finally:
        con.close()


# --- the command --------------------------------------------------------------------------------------

def test_command_json_exit_codes_and_registry_check(home: Path, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row()])
    empty = runner.invoke(app, ["erasmus", str(f)])
    assert empty.exit_code == 1 and "erasmus_code" in empty.stderr  # no registry yet

    raw = home / "data" / "raw"
    (raw / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(raw / "schools.csv")]).exit_code == 0
    ok = runner.invoke(app, ["erasmus", str(f), "--json"])
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout)
    assert summary["files"][0]["status"] == "loaded" and summary["totals"]["mobility_rows"] == 1

    bad = write_open_data(tmp_path / "bad.csv", ["x"], header=("Project Reference", "Academic Year"))
    refused = runner.invoke(app, ["erasmus", str(bad)])
    assert refused.exit_code == 1 and "missing column(s)" in refused.stderr
    assert runner.invoke(app, ["erasmus", str(tmp_path / "nope.csv")]).exit_code == 1


def test_registry_with_no_codes_is_not_ready(home: Path, tmp_path: Path) -> None:
    con = connect()
    try:
        with pytest.raises(RegistryNotReady):
            load_erasmus(con, [write_open_data(tmp_path / "ka1.csv", [row()])])
    finally:
        con.close()

"""Each reader quirk on a small file written by the test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from ims_indicators.errors import InputRefused
from ims_indicators.read import read_submission

MOB_HEADER = "school_id;academic_year;mobility_ref;direction;participant_type;activity;programme;programme_level;" \
             "partner_country;start_date;end_date;participants;ects_earned;ects_recognised;person_ref"


def read(path: Path, dataset: str = "mobility", school: str | None = "charite-berlin", year: str | None = "2023/24"):
    con = duckdb.connect()
    table, rows_in, failures, _ = read_submission(con, path, dataset, school_id=school, academic_year=year)
    df = con.sql(f"SELECT * FROM {table} ORDER BY source_row").df()
    return df, rows_in, failures


def test_cp1252_semicolon_decimal_comma_german_dates(tmp_path: Path) -> None:
    p = tmp_path / "mob.csv"
    text = (MOB_HEADER + "\n"
            "charite-berlin;2023-2024;m1;outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;1;"
            "27,5;1.234,5;M-1\n"
            "charite-berlin;2023-2024;m2;incoming;staff;teaching;bilateral;;FR;15.09.2023;20.09.2023;2;;;S-ü\n")
    p.write_bytes(text.encode("cp1252"))
    df, rows_in, failures = read(p)
    assert rows_in == 2 and failures == []
    assert df["ects_earned"].tolist()[0] == 27.5
    assert df["ects_recognised"].tolist()[0] == 1234.5  # '.' is the thousands mark in a decimal-comma file
    assert df["start_date"].tolist()[0] == pd_ts("2023-10-01")
    assert df["academic_year"].unique().tolist() == ["2023/24"]
    assert df["source_row"].tolist() == [2, 3]
    # staff rows legitimately leave level and ECTS empty
    assert df["programme_level"].isna().tolist() == [False, True]
    assert df["ects_earned"].isna().tolist() == [False, True]


def pd_ts(s: str):
    import pandas as pd

    return pd.Timestamp(s)


def test_utf8_bom_comma_iso_dates_headers_in_other_case_and_synonyms(tmp_path: Path) -> None:
    p = tmp_path / "mob.csv"
    p.write_bytes(
        "\ufeffSchool ID,Academic Year,Mobility ID,DIRECTION,Participant Type,Activity,Programme,Level,"
        "Partner Country, Start Date ,End Date,Number Of Participants,ECTS,ECTS Recognized,Person ID\n"
        "charite-berlin,2023/2024,m1,Out,Students,Clerkship,Erasmus+,Long Cycle,UK,2023-10-01,2024-02-28,3,30,30,M-9\n"
        "charite-berlin,2023/24,m2,in,staff,teaching,other,,EL,2023-09-15,2023-09-20,1,,,S-1\n".encode("utf-8"))
    df, _, failures = read(p)
    assert failures == []
    row = df.iloc[0]
    assert (row["direction"], row["participant_type"], row["activity"], row["programme"], row["programme_level"]) == (
        "outgoing", "student", "clinical_placement", "erasmus_plus", "long_cycle")
    assert df["partner_country"].tolist() == ["GB", "GR"]  # UK -> GB, EL -> GR
    assert df["participants"].tolist() == [3, 1]


def test_xlsx_title_row_serial_dates_and_totals_row(tmp_path: Path) -> None:
    p = tmp_path / "staff.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Staffing report 2023/24 – Charité"])
    ws.append([])
    ws.append(["Staff Category", "Headcount", "FTE", "Foreign", "Intl Experience"])
    ws.append(["professor", 120, 110.5, 12, 40])
    ws.append(["lecturer", 300, 250, 30, 50])
    ws.append(["Total", 420, 360.5, 42, 90])  # the label sits in the key column
    wb.save(p)
    df, rows_in, failures = read(p, "staffing")
    assert failures == [] and rows_in == 2
    assert df["staff_category"].tolist() == ["professor", "lecturer"]
    assert df["source_row"].tolist() == [4, 5]  # spreadsheet rows as Excel shows them
    assert df["school_id"].unique().tolist() == ["charite-berlin"]  # filled from the folder/arguments

    p2 = tmp_path / "acc.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Accreditation"])
    ws.append(["programme_name", "scope", "agency_name", "agency_country", "WFME recognised", "decision",
               "decision_date", "valid_until", "open_conditions"])
    ws.append(["Medicine", "programme", "Akkreditierungsrat", "DE", "ja", "accredited", 45291, 47118, 0])
    ws.append(["Dentistry", "programme", "Akkreditierungsrat", "DE", "nein", "accredited",
               dt.datetime(2023, 12, 31), "31.12.2028", None])
    wb.save(p2)
    df, _, failures = read(p2, "accreditation")
    assert failures == []
    assert [d.date() for d in df["decision_date"]] == [dt.date(2023, 12, 31)] * 2  # serial 45291 = 2023-12-31
    assert df["agency_wfme_recognised"].tolist() == [True, False]
    assert df["open_conditions"].tolist() == [0, 0]  # default when empty


@pytest.mark.parametrize("text,expected", [("yes", True), ("Ja", True), ("oui", True), ("TRUE", True), ("1", True),
                                           ("no", False), ("nein", False), ("non", False), ("false", False),
                                           ("0", False)])
def test_booleans_in_several_languages(tmp_path: Path, text: str, expected: bool) -> None:
    p = tmp_path / "schools.csv"
    p.write_text(f"school_id,name,country_code,network_role,consent_to_be_named\nki,Karolinska,SE,partner,{text}\n")
    df, _, failures = read(p, "schools", None, None)
    assert failures == [] and df["consent_to_be_named"].tolist() == [expected]


def test_blank_lines_keep_physical_line_numbers_and_bad_cells_are_held_back(tmp_path: Path) -> None:
    p = tmp_path / "mob.csv"
    p.write_text("Title line\n\n" + MOB_HEADER + "\n"
                 "charite-berlin;2023/24;m1;outgoing;student;study;erasmus_plus;master;AT;01.10.2023;01.11.2023;1;;;\n"
                 "\n"
                 "charite-berlin;2023/24;m2;outgoing;student;study;erasmus_plus;master;AT;32.13.2023;01.11.2023;x;;;\n"
                 "charite-berlin;2023/24;m3;outgoing\n"
                 "charite-berlin;2023/24;m4;outgoing;student;study;erasmus_plus;master;AT;01.10.2023;01.11.2023;1;;;\n")
    df, rows_in, failures = read(p)
    assert df["source_row"].tolist() == [4, 8]
    assert rows_in == 4
    by_row = {(f["source_row"], f["column"]) for f in failures}
    assert by_row == {(6, "start_date"), (6, "participants"), (7, None)}
    reason = next(f["reason"] for f in failures if f["column"] == "start_date")
    assert "32.13.2023" in reason and "date" in reason


REFUSALS = {
    "empty": (b"", "empty"),
    "header only": ((MOB_HEADER + "\n").encode(), "no data rows"),
    "binary": (b"\x00\x01\x02PDF\x00\xff" * 50, "binary"),
    "missing column": (b"school_id;academic_year;direction;participant_type\ncharite-berlin;2023/24;outgoing;student\n",
                       "required column(s) missing"),
    "other school": ((MOB_HEADER + "\nkarolinska;2023/24;m1;outgoing;student;study;erasmus_plus;master;AT;"
                      "01.10.2023;01.11.2023;1;;;\n").encode(), "disagrees"),
    "other year": ((MOB_HEADER + "\ncharite-berlin;2022/23;m1;outgoing;student;study;erasmus_plus;master;AT;"
                    "01.10.2023;01.11.2023;1;;;\n").encode(), "disagrees"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_name_file_row_column_and_expectation(tmp_path: Path, case: str) -> None:
    content, words = REFUSALS[case]
    p = tmp_path / "bad_file.csv"
    p.write_bytes(content)
    with pytest.raises(InputRefused) as exc:
        read(p)
    msg = str(exc.value)
    assert msg.startswith("bad_file.csv") and words in msg
    if case in ("other school", "other year"):
        assert exc.value.row == 2 and exc.value.column in ("school_id", "academic_year")
    if case == "missing column":
        assert exc.value.row == 1 and "start_date" in exc.value.column


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_mixed_line_ends_are_read_not_refused(tmp_path: Path, encoding: str) -> None:
    """A header saved with LF and rows appended with CRLF (another editor, a template filled in): every row read."""
    p = tmp_path / "mob.csv"
    rows = ["charite-berlin;2023/24;m1;outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;1;;;Ä-1",
            "charite-berlin;2023/24;m2;outgoing;student;study;erasmus_plus;long_cycle;FR;01.10.2023;28.02.2024;1;;;B-2"]
    p.write_bytes((MOB_HEADER + "\n" + "\r\n".join(rows) + "\r\n").encode(encoding))
    df, rows_in, failures = read(p)
    assert rows_in == 2 and failures == []
    assert df["mobility_ref"].tolist() == ["m1", "m2"] and df["source_row"].tolist() == [2, 3]
    assert df["partner_country"].tolist() == ["AT", "FR"]


def test_german_windows_1252_file_is_read_as_cp1252_not_cp1250(tmp_path: Path) -> None:
    """charset-normalizer names one encoding for a group that decodes the sample alike (ä is E4 in cp1250 and
    cp1252); the Western European code page is chosen from the whole group, so such a file is read by DuckDB
    itself (Latin-1) and a later 'è' (E8, 'č' in cp1250) keeps its meaning."""
    from ims_indicators.read.sniff import detect_encoding

    p = tmp_path / "mob.csv"
    rows = "".join(f"charite-berlin;2023-2024;m{i};outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;"
                   f"28.02.2024;1;;;Universität {i}\n" for i in range(200))
    p.write_bytes((MOB_HEADER + "\n" + rows).encode("cp1252"))
    assert detect_encoding(p) == "cp1252"


@pytest.mark.parametrize("chunk", [8 * 1024 * 1024, 1, 2, 3])  # small chunks: a CRLF split between two reads
@pytest.mark.parametrize(("text", "consecutive"), [
    ("h\r\na\r\nb\r\n", True), ("h\na\nb", True), ("h\na\n\nb\n", False), ("h\ra\nb\n", False),
    ("h\r\na\rb\n\r\n", False), ('h\n"a\nx"\nb\n', False)])
def test_line_numbers_fast_path_only_when_rows_are_consecutive_lines(tmp_path: Path, text: str, consecutive: bool,
                                                                     chunk: int, monkeypatch) -> None:
    """Row k is line 2 + k only for one row per line; otherwise the lines are numbered from the bytes."""
    from ims_indicators.read import sniff
    from ims_indicators.read.raw import _consecutive_lines, _line_numbers

    monkeypatch.setattr(sniff, "PROFILE_CHUNK", chunk)
    p = tmp_path / "f.csv"
    p.write_bytes(text.encode())
    n_good = 2
    profile = sniff.profile_bytes(p)
    assert _consecutive_lines(profile, 2, n_good, set()) is consecutive
    assert not _consecutive_lines(profile, 2, n_good, {3})
    if consecutive:
        assert _line_numbers(p, 2, n_good, set()).tolist() == [2, 3]


@pytest.mark.parametrize(("text", "encoding", "latin1"), [
    ("Universität;5\n", "cp1252", True), ("Gebühr 5 €;5\n", "cp1252", False), ("„Zitat“;1\n", "cp1252", False),
    ("Universität;5\n", "iso8859_15", False), ("Universität;5\n", "latin_1", True)])
def test_duckdb_decodes_a_windows_1252_file_itself_only_without_bytes_80_to_9f(tmp_path: Path, text: str,
                                                                              encoding: str, latin1: bool) -> None:
    from ims_indicators.read.sniff import profile_bytes, reads_as_latin1

    p = tmp_path / "f.csv"
    p.write_bytes(("a;b\n" * 1000 + text).encode(encoding))
    assert reads_as_latin1(encoding, profile_bytes(p)) is latin1


@pytest.mark.parametrize("mixed", [False, True], ids=["one line end", "CRLF and LF mixed"])
def test_a_windows_1252_file_with_euro_or_quotes_late_is_read_again_from_a_utf8_copy(tmp_path: Path, monkeypatch,
                                                                                     mixed: bool) -> None:
    """DuckDB reads a cp1252 file as Latin-1 while the byte pass runs; when that pass finds a byte 80-9F (here „ “
    and € far beyond the sample), the rows are read again from a UTF-8 copy (with one line end if the file mixes
    them), which is then removed."""
    monkeypatch.setenv("IMS_HOME", str(tmp_path / "home"))
    from ims_indicators import settings

    p = tmp_path / "mob.csv"
    rows = "".join(f"charite-berlin;2023-2024;m{i};outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;"
                   f"28.02.2024;1;;;Universität {i}\n" for i in range(20000))
    late = ("charite-berlin;2023-2024;z1;outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;1;;;"
            "„Zitat“ 5 €\n")
    p.write_bytes((MOB_HEADER + "\n" + rows + late).encode("cp1252").replace(b"\n", b"\r\n", 5000 if mixed else 0))
    assert p.stat().st_size > 1 << 20  # beyond the sample the encoding is detected from
    df, rows_in, failures = read(p)
    assert rows_in == 20001 and not failures
    assert df["person_ref"].iloc[-1] == "„Zitat“ 5 €" and df["person_ref"].iloc[0] == "Universität 0"
    assert df["source_row"].iloc[-1] == 20002
    assert list(settings.tmp_dir().glob("*.csv")) == []


def test_a_byte_windows_1252_does_not_define_refuses_the_file_and_leaves_no_copy(tmp_path: Path, monkeypatch) -> None:
    """0x81 means nothing in Windows-1252: the file is refused naming the byte's offset in the file (not in the
    chunk being decoded) and its line, and the UTF-8 copy being written is removed (it was left half-written)."""
    monkeypatch.setenv("IMS_HOME", str(tmp_path / "home"))
    from ims_indicators import settings
    from ims_indicators.read import sniff

    p = tmp_path / "mob.csv"
    rows = "".join(f"charite-berlin;2023-2024;m{i};outgoing;student;study;erasmus_plus;long_cycle;AT;01.10.2023;"
                   f"28.02.2024;1;;;Universität {i}\n" for i in range(20000))
    data = (MOB_HEADER + "\n" + rows).encode("cp1252") + b"charite-berlin;2023-2024;z;outgoing;student;" \
        b"study;erasmus_plus;long_cycle;AT;01.10.2023;28.02.2024;1;;;bad \x81 byte\n"
    p.write_bytes(data)
    with monkeypatch.context() as m:
        m.setattr(sniff, "TRANSCODE_CHUNK", 1 << 20)  # the byte lies in the third chunk: its offset in the file
        with pytest.raises(InputRefused) as refused:
            read(p)
    at = data.index(b"\x81")
    assert str(refused.value) == (f"mob.csv, row 20002: byte {at} cannot be read as cp1252; "
                                  "expected UTF-8 or Windows-1252 text")
    assert list(settings.tmp_dir().glob("*.csv")) == []


def test_transcoded_copy_is_removed_when_the_file_is_refused(tmp_path: Path, monkeypatch) -> None:
    """A UTF-16 file is read from a UTF-8 copy in data/.tmp; a refusal after the copy must not leave it behind."""
    monkeypatch.setenv("IMS_HOME", str(tmp_path / "home"))
    from ims_indicators import settings

    p = tmp_path / "mob.csv"
    rows = "".join(f"charite-berlin;2023-2024;m{i};outgoing\n" for i in range(50))  # 4 fields, the header has 15
    p.write_bytes((MOB_HEADER + "\n" + rows).encode("utf-16"))
    with pytest.raises(InputRefused, match="no data row has the header's 15 fields"):
        read(p)
    assert settings.tmp_dir().is_dir()  # the copy was made there ...
    assert list(settings.tmp_dir().glob("*.csv")) == []  # ... and is gone

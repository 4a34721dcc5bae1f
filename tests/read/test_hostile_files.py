"""Issue 17: hostile and real-world files are refused or held back with a message, never crash or lose data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from ims_indicators.ingest import ingest_paths
from ims_indicators.ingest.stage import discover, stage_file
from ims_indicators.read import read_submission
from ims_indicators.warehouse import open_warehouse
from tests.hostile import fixtures as fx

SCHOOL, YEAR = "charite-berlin", "2023/24"
GB = 1 << 30


def stage(home: Path, path: Path, dataset: str = "staffing"):
    with open_warehouse() as con:
        result = stage_file(con, path, dataset=dataset, school_id=SCHOOL, academic_year=YEAR)
        recorded = con.execute("SELECT status, reason FROM meta.submissions WHERE submission_id = ?",
                               [result.submission_id]).fetchall()
    return result, recorded


def read(path: Path, dataset: str = "enrolment"):
    con = duckdb.connect()
    per_year = dataset != "schools"
    table, rows_in, failures, repairs = read_submission(con, path, dataset, school_id=SCHOOL if per_year else None,
                                                        academic_year=YEAR if per_year else None)
    return con.sql(f"SELECT * FROM {table} ORDER BY source_row").df(), rows_in, failures, repairs


# --- item 2: a workbook's size is known before anything is allocated ----------------------------------------------

@pytest.mark.parametrize("make, expected", [
    (fx.sparse_xlsx, "reaches 4,000,000 rows x 150 columns (600,000,000 cells), the limit is 2,000,000"),
    (fx.lying_dimension_xlsx, "900,000 rows x 100 columns"),
    (fx.refless_wide_xlsx, "300 columns, the limit is 200 (IMS_MAX_COLUMNS)"),
])
def test_a_workbook_whose_used_range_is_too_big_is_refused_before_it_is_read(home: Path, make, expected) -> None:
    path = make(home / "staff.xlsx")
    assert path.stat().st_size < 10_000
    result, recorded = stage(home, path)
    assert result.status == "rejected" and expected in result.reason and "staff.xlsx" in result.reason
    assert recorded == [("rejected", result.reason)]
    assert (home / "data" / "rejected").is_dir()  # the received file is kept


def test_a_far_cell_within_the_limits_is_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_MAX_WORKBOOK_CELLS", "10000")
    path = fx.sparse_xlsx(home / "staff.xlsx", far="E40")  # 40 x 5 cells: a compact enough range
    result, _ = stage(home, path)
    assert result.status == "staged", result.reason


def _refused_under_1_gb(path: Path) -> dict:
    """Read ``path`` in a child limited to 1 GB of address space; the child reports the refusal as JSON."""
    code = textwrap.dedent(f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({GB}, {GB}))
        from pathlib import Path
        from ims_indicators.contracts import contract
        from ims_indicators.errors import InputRefused
        from ims_indicators.read.raw import load_raw
        try:
            load_raw(None, Path({str(path)!r}), contract("staffing"), {{"school_id", "academic_year"}})
        except InputRefused as exc:
            print(json.dumps({{"refused": str(exc)}}))
            sys.exit(0)
        print(json.dumps({{"refused": None}}))
    """)  # the refusal comes before any table is made: no DuckDB connection (it reserves 600 MB of addresses)
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the reader crashed (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def test_sparse_workbook_is_refused_within_1_gb(tmp_path: Path) -> None:
    out = _refused_under_1_gb(fx.sparse_xlsx(tmp_path / "staff.xlsx"))
    assert "IMS_MAX_WORKBOOK_CELLS" in out["refused"]


@pytest.fixture(scope="module")
def inflating(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.inflating_xlsx(tmp_path_factory.mktemp("bomb") / "staff.xlsx")


def test_a_small_workbook_inflating_to_500_mb_is_refused_within_1_gb(inflating: Path) -> None:
    assert inflating.stat().st_size < 3_000_000
    out = _refused_under_1_gb(inflating)
    assert "the limit is 2,000,000 (IMS_MAX_WORKBOOK_CELLS)" in out["refused"]


def test_ims_ingest_of_the_inflating_workbook_peaks_under_1_gb(home: Path, inflating: Path) -> None:
    """The whole command (DuckDB, the warehouse) in a child; its peak resident memory measured by a parent."""
    target = home / "data" / "raw" / "staffing" / SCHOOL / "2023-24"
    target.mkdir(parents=True)
    (target / inflating.name).write_bytes(inflating.read_bytes())
    code = ("import resource, subprocess, sys; "
            "done = subprocess.run([sys.executable, '-m', 'ims_indicators.cli', 'ingest', sys.argv[1]], "
            "capture_output=True, text=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode); "
            "print(done.stderr, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, str(target / inflating.name)], check=False, capture_output=True,
                          text=True, timeout=600)
    peak_kb, rc = map(int, done.stdout.split())
    assert rc == 1 and "IMS_MAX_WORKBOOK_CELLS" in done.stderr and "Traceback" not in done.stderr
    assert peak_kb * 1024 < GB, f"peak {peak_kb / 1024:.0f} MB"


# --- item 10: one column limit, one true message -------------------------------------------------------------------

def test_a_200000_column_header_is_refused_with_its_true_width(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("IMS_MAX_COLUMNS", "200")
    result, _ = stage(home, fx.wide_csv(home / "staff.csv"))
    assert result.status == "rejected"
    assert "200,000 columns, the limit is 200 (IMS_MAX_COLUMNS)" in result.reason


# --- item 3: a row whose field count differs from the header ------------------------------------------------------

def test_decimal_commas_in_a_comma_separated_file_hold_the_row_back(tmp_path: Path) -> None:
    df, rows_in, failures, _ = read(fx.decimal_comma_in_comma_csv(tmp_path / "enr.csv"))
    assert rows_in == 2 and df["source_row"].tolist() == [3]  # never truncated to ects_total 228901
    assert [(f["source_row"], f["rule"], f["reason"]) for f in failures] == [
        (2, "read.field_count",
         "line 2 has 11 fields, the header has 9 (separated by ','); expected one field per header column")]
    assert df["ects_total"].tolist() == [87628.0]


def test_a_file_where_no_row_has_the_header_width_is_refused(tmp_path: Path) -> None:
    from ims_indicators.errors import InputRefused

    with pytest.raises(InputRefused, match="line 2 has 11 fields, the header has 9 .*decimal commas"):
        read(fx.decimal_comma_in_comma_csv(tmp_path / "enr.csv", every_row=True))


def test_a_row_with_fewer_fields_is_held_back(tmp_path: Path) -> None:
    p = tmp_path / "enr.csv"
    p.write_text(",".join(fx.ENROLMENT) + "\ncharite-berlin,2023/24,bachelor,1401,62\n"
                 "charite-berlin,2023/24,master,1618,169,813,668,87628,35313\n")
    df, _, failures, _ = read(p)
    assert df["source_row"].tolist() == [3]
    assert failures[0]["reason"].startswith("line 2 has 5 fields, the header has 9")


# --- item 4: number locales ----------------------------------------------------------------------------------------

def test_thousands_separators_in_a_decimal_comma_file(tmp_path: Path) -> None:
    df, _, failures, _ = read(fx.thousands_csv(tmp_path / "enr.csv"))
    assert failures == []
    assert df["students_total"].tolist() == [4209, 1618]
    assert df["first_year_intake"].tolist() == [1458, 813]
    assert df["ects_total"].tolist() == [21253.5, 87628.0]
    assert df["ects_taught_in_english"].tolist() == [1557.5, 35313.5]


def test_a_column_that_says_dot_is_read_with_a_dot(tmp_path: Path) -> None:
    p = tmp_path / "enr.csv"
    p.write_text(";".join(fx.ENROLMENT) + "\ncharite-berlin;2023/24;bachelor;1,401;62;458;369;2.25;1.125\n"
                 "charite-berlin;2023/24;master;1618;169;813;668;87628.5;35.313\n")
    df, _, failures, _ = read(p)  # ';' would suggest decimal commas, but the values say '.'
    assert failures == []
    assert df["students_total"].tolist() == [1401, 1618]
    assert df["ects_total"].tolist() == [2.25, 87628.5]
    assert df["ects_taught_in_english"].tolist() == [1.125, 35.313]


def test_a_truly_ambiguous_number_is_held_back_naming_both_readings(tmp_path: Path) -> None:
    df, _, failures, _ = read(fx.ambiguous_csv(tmp_path / "enr.csv"))
    assert len(df) == 0
    by_col = {f["column"]: f for f in failures}
    assert by_col["students_total"]["rule"] == "read.number_locale"
    reason = by_col["students_total"]["reason"]
    assert "4209 with '.' grouping thousands" in reason and "4.209 with '.' as the decimal mark" in reason


def test_a_column_mixing_decimal_marks_reads_each_unambiguous_value_by_its_own(tmp_path: Path) -> None:
    p = tmp_path / "enr.csv"
    p.write_text(";".join(fx.ENROLMENT) + "\ncharite-berlin;2023/24;bachelor;1401;62;458;369;21.253,5;4,2\n"
                 "charite-berlin;2023/24;master;1618;169;813;668;87.628,5;4.2\n")
    df, _, failures, _ = read(p)  # 4.2 in a decimal-comma file was read as 42
    assert failures == [] and df["ects_taught_in_english"].tolist() == [4.2, 4.2]


# --- item 5: double-encoded UTF-8 ----------------------------------------------------------------------------------

def test_double_encoded_text_is_repaired_and_the_repair_recorded(home: Path) -> None:
    folder = home / "data" / "raw" / "schools"
    folder.mkdir(parents=True)
    path = fx.double_encoded_csv(folder / "schools.csv")
    assert "UniversitÃ¤t" in path.read_text(encoding="utf-8")
    with open_warehouse() as con:
        report = ingest_paths(con, [path])
        assert report.results[0].status == "accepted", report.results[0].reason
        names = dict(con.execute("SELECT school_id, name FROM curated.schools").fetchall())
        repairs = con.execute("SELECT repairs FROM meta.submissions").fetchall()
    assert names == {"muni-wien": "Medizinische Universität Wien",
                     "lmu-muenchen": "Ludwig-Maximilians-Universität München", "wallerer": "Klinik Wallererstraße"}
    assert repairs == [("mojibake repaired in 4 cells",)]


def test_text_that_only_looks_odd_is_left_alone(tmp_path: Path) -> None:
    p = tmp_path / "schools.csv"
    p.write_text("school_id,name,country_code,city,network_role\nx,Ã… Academy,NO,Ålesund,member\n", encoding="utf-8")
    df, _, _, repairs = read(p, "schools")
    assert df["name"].tolist() == ["Ã… Academy"] and repairs is None


def test_ftfy_is_imported_only_for_text_that_looks_double_encoded(tmp_path: Path) -> None:
    """Non-ASCII text without a double-encoded pair (Universität, Ålesund) is left alone without importing ftfy
    (0.14 s); a header or cell with one (UniversitÃ¤t) is repaired by it."""
    plain, broken = tmp_path / "plain.csv", tmp_path / "broken.csv"
    plain.write_text("school_id,name,country_code,city,network_role\nx,Universität Ålesund,NO,Ålesund,member\n",
                     encoding="utf-8")
    broken.write_text("school_id,name,country_code,city,network_role\nx,UniversitÃ¤t,AT,Wien,member\n",
                      encoding="utf-8")
    code = ("import sys, duckdb\n"
            "from pathlib import Path\n"
            "from ims_indicators.read import read_submission\n"
            "con = duckdb.connect()\n"
            "table, *_ = read_submission(con, Path(sys.argv[1]), 'schools')\n"
            "print(con.execute(f'SELECT name FROM {table}').fetchall()[0][0], 'ftfy' in sys.modules)\n")
    out = [subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, check=True,
                          encoding="utf-8").stdout.split("\n")[0] for p in (plain, broken)]
    assert out == ["Universität Ålesund False", "Universität True"]


# --- item 6: links, pipes and devices are never read or copied -----------------------------------------------------

def _year_folder(home: Path) -> Path:
    folder = home / "data" / "raw" / "staffing" / SCHOOL / "2023-24"
    folder.mkdir(parents=True)
    return folder


def test_a_symlink_under_data_raw_is_refused_and_never_copied(home: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "staff.csv"
    outside.write_text(",".join(fx.STAFFING) + "\nprofessor,3,1,0,0\n")
    folder = _year_folder(home)
    fx.symlink(folder / "passwd.csv", Path("/etc/passwd"))
    fx.symlink(folder / "staff.csv", outside)
    fx.symlink(home / "data" / "raw" / "staffing" / SCHOOL / "2022-23", outside.parent)  # a linked folder
    with open_warehouse() as con:
        report = ingest_paths(con, discover([home / "data" / "raw"]))
        recorded = con.execute("SELECT count(*) FROM meta.submissions").fetchall()[0][0]
    reasons = sorted(r.reason for r in report.results)
    assert [r.status for r in report.results] == ["rejected"] * 3 and len(reasons) == 3
    assert all("is a symbolic link; expected a regular file" in r for r in reasons)
    assert recorded == 0 and not (home / "data" / "rejected").exists()  # nothing read, nothing copied


def test_a_symlink_or_fifo_on_the_command_line_is_refused(home: Path, tmp_path: Path) -> None:
    link = fx.symlink(tmp_path / "staff.csv", Path("/etc/passwd"))
    pipe = fx.fifo(tmp_path / "pipe.csv")  # opening it would block for ever
    for path, kind in ((link, "a symbolic link"), (pipe, "a named pipe (FIFO)")):
        result, recorded = stage(home, path)
        assert result.status == "rejected" and f"is {kind}; expected a regular file" in result.reason
        assert recorded == []
    assert not (home / "data" / "rejected").exists()


def test_a_fifo_under_data_raw_is_refused_not_skipped(home: Path) -> None:
    fx.fifo(_year_folder(home) / "staff.csv")
    done = subprocess.run([sys.executable, "-m", "ims_indicators.cli", "ingest", str(home / "data" / "raw")],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "is a named pipe (FIFO)" in done.stderr and "Traceback" not in done.stderr


def test_a_folder_link_inside_data_raw_cannot_lead_outside(home: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "staff.csv").write_text(",".join(fx.STAFFING) + "\nprofessor,3,1,0,0\n")
    fx.symlink(home / "data" / "raw" / "staffing", outside)
    linked = home / "data" / "raw" / "staffing" / "staff.csv"  # a regular file, reached through a linked folder
    result, recorded = stage(home, linked)
    assert result.status == "rejected" and "lies outside" in result.reason and recorded == []


def test_the_erasmus_reader_refuses_links_and_pipes_unopened(tmp_path: Path) -> None:
    from ims_indicators.erasmus.load import discover as erasmus_discover
    from ims_indicators.erasmus.load import load_file

    folder = tmp_path / "erasmus"
    folder.mkdir()
    link = fx.symlink(folder / "ka1.csv", Path("/etc/passwd"))
    pipe = fx.fifo(folder / "pipe.csv")
    assert erasmus_discover([folder]) == [link, pipe]  # listed, so that they are refused with a message
    for path in (link, pipe):
        result = load_file(duckdb.connect(), path, fingerprint="unused")
        assert result.status == "rejected" and "expected a regular file" in result.reason

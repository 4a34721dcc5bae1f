"""A file's checksum and its read: the same bytes again are never read again; a file no earlier file of its key
can equal (none of that size was kept) is read while it is hashed (ingest/stage.py, submissions.may_be_known)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators import submissions
from ims_indicators.ingest import stage
from ims_indicators.ingest.stage import stage_file
from ims_indicators.submissions import SubmissionKey
from ims_indicators.warehouse import connect

STAFFING = ("staff_category,headcount,fte,foreign_nationality,international_experience\n"
            "professor,10,9.5,2,4\nlecturer,20,18,3,5\n")
KEY = {"dataset": "staffing", "school_id": "charite-berlin", "academic_year": "2023/24"}


@pytest.fixture
def sent(home: Path) -> Path:
    """A staffing file as sent by mail (outside data/raw: it is copied there when staged)."""
    folder = home / "incoming"
    folder.mkdir()
    path = folder / "staffing.csv"
    path.write_text(STAFFING, encoding="utf-8")
    return path


def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read_submission is asked to read from now on (the real reader still reads them)."""
    asked: list[str] = []
    real = stage.read_submission

    def counted(con, path: Path, *args, **kwargs):
        asked.append(path.name)
        return real(con, path, *args, **kwargs)

    monkeypatch.setattr(stage, "read_submission", counted)
    return asked


def test_the_same_bytes_again_are_unchanged_and_not_read(sent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect() as con:
        first = stage_file(con, sent, **KEY)
        assert first.status == "staged" and first.rows_in == 2
        asked = reads(monkeypatch)
        again = stage_file(con, sent, **KEY)
        assert (again.status, again.submission_id, again.rows_in) == ("unchanged", first.submission_id, 2)
        assert asked == []  # a kept file of its key has its size: the checksum decided before any read


def test_other_bytes_of_the_same_size_are_read_and_staged(sent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect() as con:
        first = stage_file(con, sent, **KEY)
        sent.write_text(STAFFING.replace("professor,10", "professor,11"), encoding="utf-8")  # same size
        asked = reads(monkeypatch)
        second = stage_file(con, sent, **KEY)
        assert asked == ["staffing.csv"] and second.status == "staged"
        assert second.submission_id != first.submission_id


def test_a_file_of_a_new_size_is_known_only_after_the_read(sent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect() as con:
        first = stage_file(con, sent, **KEY)
        key = SubmissionKey("staffing", "charite-berlin", "2023/24")
        size = sent.stat().st_size
        assert submissions.may_be_known(con, key, "school", size)
        assert not submissions.may_be_known(con, key, "school", size + 1)
        assert not submissions.may_be_known(con, SubmissionKey("staffing", "charite-berlin", "2022/23"), "school",
                                            size)
        # the kept copy changed size since (someone edited data/raw): the size no longer says "maybe", so the
        # file is read while hashed, and the checksum still finds it known afterwards
        kept = next((sent.parent.parent / "data" / "raw" / "staffing").rglob("staffing.csv"))
        kept.write_text(STAFFING + "\n", encoding="utf-8")
        assert not submissions.may_be_known(con, key, "school", size)
        asked = reads(monkeypatch)
        again = stage_file(con, sent, **KEY)
        assert asked == ["staffing.csv"] and (again.status, again.submission_id) == ("unchanged", first.submission_id)
        assert con.execute("SELECT count(*) FROM staging.staffing").fetchall()[0][0] == 2  # nothing staged twice

"""Curated Parquet on S3-compatible object storage: published to a moto server on 127.0.0.1, read back equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators.curate import storage
from ims_indicators.erasmus import load_erasmus
from ims_indicators.erasmus.publish import publish_erasmus_partition
from ims_indicators.ingest import ingest_paths
from ims_indicators.warehouse import connect, rows

from .conftest import row, write_open_data
from .test_erasmus import write_school_submissions


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, home: Path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("IMS_S3_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("IMS_STORAGE", f"s3://ims-{home.name.lower().replace('_', '-')[-40:]}/curated")
    return storage.filesystem()


def _sorted(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: tuple(str(r[k]) for k in sorted(r)))


def test_published_partitions_read_back_equal_from_s3(s3, home: Path, tmp_path: Path) -> None:
    raw = write_school_submissions(home)
    con = connect()
    try:
        ingest_paths(con, [raw])
        load_erasmus(con, [write_open_data(tmp_path / "ka1.csv", [
            row(), row(Academic_Year="2018-2019", Mobility_Start_Month="2018-10", Mobility_End_Month="2019-02"),
            row(Receiving_Country_Code="EL", Participants="4")])])
        assert storage.is_remote()
        urls = [storage.publish_partition(con, "schools", None)]
        for (year,) in con.execute("SELECT DISTINCT academic_year FROM curated.mobility ORDER BY 1").fetchall():
            urls.append(storage.publish_partition(con, "mobility", year))
            urls.append(publish_erasmus_partition(con, year))  # uploads too when IMS_STORAGE is s3://
        assert urls[0].startswith("s3://") and s3.exists(urls[0][len("s3://"):] + "/data_0.parquet")

        for dataset in ("schools", "mobility", "erasmus_mobility"):
            rel = storage.read_partitions(con, dataset)
            back = [dict(zip(rel.columns, r)) for r in rel.fetchall()]
            local = rows(con, f"SELECT * FROM curated.{dataset}")
            assert len(local) > 0 and _sorted(back) == _sorted(local), dataset
    finally:
        con.close()


def test_upload_replaces_a_partition_whole(s3, tmp_path: Path) -> None:
    part = tmp_path / "academic_year=2019-20"
    part.mkdir()
    for name in ("data_0.parquet", "data_1.parquet"):
        (part / name).write_bytes(b"PAR1 old")
    url = storage.upload_partition(part, "mobility")
    (part / "data_1.parquet").unlink()
    (part / "data_0.parquet").write_bytes(b"PAR1 new")
    assert storage.upload_partition(part, "mobility") == url
    key = url[len("s3://"):]
    assert [p.rsplit("/", 1)[-1] for p in s3.ls(key, detail=False, refresh=True)] == ["data_0.parquet"]
    assert s3.cat(f"{key}/data_0.parquet") == b"PAR1 new"


def test_storage_url_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMS_STORAGE", "")
    assert not storage.is_remote()
    with pytest.raises(ValueError, match="expected s3://bucket"):
        storage.partition_url("mobility", "all", "s3://")
    assert storage.partition_url("mobility", "academic_year=2019-20", "s3://b/p/") == \
        "s3://b/p/mobility/academic_year=2019-20"

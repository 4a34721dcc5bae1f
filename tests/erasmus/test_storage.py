"""Curated Parquet on S3-compatible object storage: published to a moto server on 127.0.0.1, read back equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ims_indicators.curate import storage
from ims_indicators.erasmus import load_erasmus
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


def test_ingest_and_erasmus_publish_to_s3_and_read_back_equal(s3, home: Path, tmp_path: Path) -> None:
    """What production calls: `ingest_paths` and `load_erasmus` publish their partitions, uploaded when
    IMS_STORAGE is s3:// (curate.publish.write_partition); read back, they equal curated."""
    raw = write_school_submissions(home)
    con = connect()
    try:
        assert storage.is_remote()
        ingest_paths(con, [raw])
        summary = load_erasmus(con, [write_open_data(tmp_path / "ka1.csv", [
            row(), row(Academic_Year="2018-2019", Mobility_Start_Month="2018-10", Mobility_End_Month="2019-02"),
            row(Receiving_Country_Code="EL", Participants="4")])])
        assert summary["published"]
        on_store = storage.partition_sizes("erasmus_mobility")
        assert sorted(on_store) == ["academic_year=2018-19", "academic_year=2019-20"]
        assert storage.partition_sizes("schools")["all"]["data_0.parquet"] > 0

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

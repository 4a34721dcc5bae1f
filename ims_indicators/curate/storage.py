"""Curated Parquet on S3-compatible object storage (``IMS_STORAGE=s3://bucket/prefix``), through fsspec.

DuckDB 2.0's httpfs extension cannot be installed here, so DuckDB reads object storage through an fsspec
filesystem (``s3fs``) registered on the connection (``con.register_filesystem``). A ``PARTITION_BY`` copy to
such a path fails, so every partition is one file: written locally first (``curate/publish.py``, the same
atomic swap as for a folder) and uploaded under its final name. A PUT replaces an object whole, so a reader
sees the old partition file or the new one, never half of one; leftover objects of the partition are removed
after the upload.

Endpoint and credentials: ``IMS_S3_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL``) for a non-AWS store such as MinIO,
and the usual ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_DEFAULT_REGION`` (or any other way
botocore finds them).

Layout (the same as the local one): ``<url>/<dataset>/academic_year=<yyyy-yy>/data_0.parquet``; the registry
(``schools``) under ``<url>/schools/all/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ims_indicators import settings

SCHEME = "s3://"


def is_remote(url: str | None = None) -> bool:
    """True when curated Parquet goes to object storage (``IMS_STORAGE`` starts with ``s3://``)."""
    return (settings.storage() if url is None else url).startswith(SCHEME)


def _base(url: str | None) -> str:
    """'s3://bucket/prefix/' -> 'bucket/prefix' (no scheme, no trailing slash)."""
    url = settings.storage() if url is None else url
    if not is_remote(url):
        raise ValueError(f"IMS_STORAGE {url!r} is not an object-storage URL; expected s3://bucket[/prefix]")
    base = url[len(SCHEME):].strip("/")
    if not base:
        raise ValueError(f"IMS_STORAGE {url!r} names no bucket; expected s3://bucket[/prefix]")
    return base


def endpoint_url() -> str | None:
    return (os.environ.get("IMS_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or "").strip() or None


def filesystem():
    """An ``s3fs.S3FileSystem`` for IMS_STORAGE (endpoint from IMS_S3_ENDPOINT_URL / AWS_ENDPOINT_URL)."""
    import s3fs

    endpoint = endpoint_url()
    return s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint} if endpoint else {})


def register(con: duckdb.DuckDBPyConnection, fs=None):
    """Make ``s3://`` paths readable and writable by DuckDB on this connection; returns the filesystem."""
    fs = fs or filesystem()
    if "s3" in con.list_filesystems():  # one per protocol: replace it (the endpoint may have changed)
        con.unregister_filesystem("s3")
    con.register_filesystem(fs)
    return fs


def partition_url(dataset: str, partition: str, url: str | None = None) -> str:
    """``s3://bucket/prefix/<dataset>/<partition>`` (partition: ``academic_year=2023-24`` or ``all``)."""
    return f"{SCHEME}{_base(url)}/{dataset}/{partition}"


def upload_partition(local_dir: Path, dataset: str, url: str | None = None, fs=None) -> str:
    """Replace the partition ``<url>/<dataset>/<local_dir.name>/`` by the Parquet files of ``local_dir``.

    Called by the publish step after it wrote the partition locally. Returns the partition's URL.
    """
    fs = fs or filesystem()
    local_dir = Path(local_dir)
    remote = partition_url(dataset, local_dir.name, url)
    key = remote[len(SCHEME):]
    bucket = key.split("/", 1)[0]
    if not fs.exists(bucket):
        fs.mkdir(bucket)
    names = sorted(p.name for p in local_dir.glob("*.parquet"))
    for name in names:
        fs.put_file(str(local_dir / name), f"{key}/{name}")
    fs.invalidate_cache(key)
    stale = [p for p in (fs.ls(key, detail=False) if fs.exists(key) else []) if p.rsplit("/", 1)[-1] not in names]
    if stale:
        fs.rm(stale)
    return remote


def remove_partition(dataset: str, partition: str, url: str | None = None, fs=None) -> bool:
    """Delete the partition ``<url>/<dataset>/<partition>/`` (its curated rows are gone); True if it existed."""
    fs = fs or filesystem()
    key = partition_url(dataset, partition, url)[len(SCHEME):]
    fs.invalidate_cache(key)
    if not fs.exists(key):
        return False
    fs.rm(key, recursive=True)
    return True


def partition_sizes(dataset: str, url: str | None = None, fs=None) -> dict[str, dict[str, int]]:
    """What is on the store for a dataset: partition folder name → {file name: size in bytes}."""
    fs = fs or filesystem()
    key = f"{_base(url)}/{dataset}"
    fs.invalidate_cache(key)
    if not fs.exists(key):
        return {}
    out: dict[str, dict[str, int]] = {}
    for path, info in fs.find(key, detail=True).items():
        rel = path[len(key):].strip("/").split("/")
        if len(rel) == 2 and rel[1].endswith(".parquet"):
            out.setdefault(rel[0], {})[rel[1]] = int(info.get("size") or 0)
    return out


def read_partitions(con: duckdb.DuckDBPyConnection, dataset: str, url: str | None = None,
                    fs=None) -> duckdb.DuckDBPyRelation:
    """The published Parquet of a dataset on object storage, academic_year back in its canonical form."""
    register(con, fs)
    base = f"{SCHEME}{_base(url)}/{dataset}"
    if dataset == "schools":
        return con.sql("SELECT * FROM read_parquet(?)", params=[f"{base}/all/*.parquet"])
    return con.sql("SELECT * REPLACE (replace(academic_year, '-', '/') AS academic_year) FROM read_parquet(?, "
                   "hive_partitioning=true, hive_types={'academic_year': VARCHAR})",
                   params=[f"{base}/academic_year=*/*.parquet"])

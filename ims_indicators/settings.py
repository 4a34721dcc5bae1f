"""Every path and setting in one place.

Values are read from the environment on each call (never at import), so tests and flows can point
``IMS_HOME`` somewhere else before calling. Every path is relative to ``home()`` unless overridden.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DATASETS = ("schools", "enrolment", "mobility", "staffing", "accreditation", "student_survey", "self_assessment",
            "panel_assessment")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def home() -> Path:
    """The project folder that holds data/, reports/, expectations/ … (``IMS_HOME``, default: cwd)."""
    return Path(_env("IMS_HOME", os.getcwd())).resolve()


def _under_home(env: str, rel: str) -> Path:
    value = os.environ.get(env, "").strip()
    path = Path(value) if value else Path(rel)
    return path if path.is_absolute() else home() / path


def data_dir() -> Path:
    return home() / "data"


def raw_dir() -> Path:
    """Submissions as received: ``<dataset>/<school_id>/<yyyy-yy>/<file>`` (never edited)."""
    return _under_home("IMS_RAW_DIR", "data/raw")


def curated_dir() -> Path:
    """Curated Parquet: ``<dataset>/academic_year=<yyyy-yy>/*.parquet``."""
    return _under_home("IMS_CURATED_DIR", "data/curated")


def rejected_dir() -> Path:
    """Files refused whole, kept byte for byte as received."""
    return _under_home("IMS_REJECTED_DIR", "data/rejected")


def inbox_dir() -> Path:
    """Drop folder watched by the inbox deployment."""
    return _under_home("IMS_INBOX_DIR", "data/inbox")


def tmp_dir() -> Path:
    """Scratch space on the same file system as the data (for atomic renames)."""
    return data_dir() / ".tmp"


def warehouse() -> Path:
    """The DuckDB warehouse file (``IMS_WAREHOUSE``)."""
    return _under_home("IMS_WAREHOUSE", "data/warehouse.duckdb")


def reports_dir() -> Path:
    """Where reports are written (``IMS_REPORTS_DIR``)."""
    return _under_home("IMS_REPORTS_DIR", "reports")


def expectations_dir() -> Path:
    """Great Expectations suites, one JSON per dataset (reviewed in git)."""
    return _under_home("IMS_EXPECTATIONS_DIR", "expectations")


def catalogue_path() -> Path:
    return _under_home("IMS_CATALOGUE", "catalogue/indicators.yaml")


def peer_sets_path() -> Path:
    return _under_home("IMS_PEER_SETS", "catalogue/peer_sets.yaml")


def models_dir() -> Path:
    return _under_home("IMS_MODELS_DIR", "models")


def gx_dir() -> Path:
    """Great Expectations file context (suites, checkpoints, result history)."""
    return home() / "gx"


def pseudonym_key_file() -> Path:
    return _under_home("IMS_PSEUDONYM_KEY_FILE", "data/pseudonym.key")


def pseudonym_key() -> bytes:
    """The HMAC key for person references: ``IMS_PSEUDONYM_KEY`` or a key file created once (git-ignored)."""
    value = os.environ.get("IMS_PSEUDONYM_KEY", "").strip()
    if value:
        return value.encode("utf-8")
    path = pseudonym_key_file()
    if not path.exists():  # written whole under a temporary name, then linked in: never a half-written key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process made the key first: then use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path}: the pseudonym key file is empty; restore it (or set IMS_PSEUDONYM_KEY) — "
                           "a new key would change every pseudonym")
    return key.encode("utf-8")


def quarantine_max_share() -> float:
    """A submission with more than this share of rows quarantined is rejected whole."""
    return float(_env("IMS_QUARANTINE_MAX_SHARE", "0.5"))


def suppress_below() -> int:
    """Counts below this are shown as ``<N`` in every report and export."""
    return int(_env("IMS_SUPPRESS_BELOW", "5"))


def duckdb_memory_limit() -> str:
    """DuckDB's memory_limit for every warehouse connection (``IMS_DUCKDB_MEMORY_LIMIT``, default ``768MB``).

    DuckDB's own default is 80 % of RAM: its buffer pool then keeps every block it read or wrote, and the
    operators' hash tables and window buffers never spill, so one stage on a 500-school network held 1.0–1.4 GB.
    With 768MB it spills to ``<warehouse>.tmp`` instead; benchmarks/indicators.py measures both stages at about
    0.8 GB peak RSS and no slower. Raise it on a machine that runs one pipeline and has memory to spare."""
    value = _env("IMS_DUCKDB_MEMORY_LIMIT", "768MB")
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value, flags=re.IGNORECASE):
        raise ValueError(f"IMS_DUCKDB_MEMORY_LIMIT={value!r}: expected a size such as 768MB or 2GB")
    return value


def max_file_bytes() -> int:
    """Largest submission file accepted (bytes)."""
    return int(_env("IMS_MAX_FILE_BYTES", str(512 * 1024 * 1024)))


def max_rows() -> int:
    """Most data rows accepted in one submission."""
    return int(_env("IMS_MAX_ROWS", "5000000"))


def max_columns() -> int:
    """Most columns accepted in a received file's header (or a workbook's used range)."""
    return int(_env("IMS_MAX_COLUMNS", "200"))


def validate_sql_rows() -> int:
    """Submissions with more rows than this are validated by the suite compiled to SQL (validate/compile.py),
    smaller ones by Great Expectations (with Data Docs). ``IMS_VALIDATE_SQL_ROWS``; open data always uses SQL."""
    return int(_env("IMS_VALIDATE_SQL_ROWS", "50000"))


def max_workbook_cells() -> int:
    """Largest used range (rows x columns) of a received workbook's first sheet: the XLSX reader holds it whole."""
    return int(_env("IMS_MAX_WORKBOOK_CELLS", "2000000"))


def min_schools_per_year() -> int:
    """Fewest schools scored in one academic year for comparisons between schools to mean anything."""
    return int(_env("IMS_MIN_SCHOOLS_PER_YEAR", "2"))


def reporting_date() -> str | None:
    """ISO date for 'valid at the reporting date' indicators (``IMS_REPORTING_DATE``; default: end of each year)."""
    return os.environ.get("IMS_REPORTING_DATE") or None


def storage() -> str:
    """Where curated Parquet goes: a local folder (default) or an ``s3://bucket/prefix`` URL."""
    return _env("IMS_STORAGE", "")


def task_runner() -> str:
    """How the Prefect flows run their tasks: ``thread`` (default, in the flow's process) or ``dask``."""
    value = _env("IMS_TASK_RUNNER", "thread").lower()
    if value not in ("thread", "dask"):
        raise ValueError(f"IMS_TASK_RUNNER={value!r}: expected 'thread' or 'dask'")
    return value


def dask_address() -> str | None:
    """The Dask scheduler to run on with ``IMS_TASK_RUNNER=dask`` (e.g. ``tcp://scheduler:8786``); None: a
    local cluster of 2 workers is started for the flow run."""
    return os.environ.get("IMS_DASK_ADDRESS", "").strip() or None


def lock_timeout() -> float:
    """Seconds a writer waits for the warehouse lock before giving up."""
    return float(_env("IMS_LOCK_TIMEOUT", "600"))


# --- the collection portal ---------------------------------------------------------------------------------------

def collection_db() -> Path:
    """The portal's own state (tokens, upload queue, sign-offs, audit log): ``IMS_COLLECTION_DB``."""
    return _under_home("IMS_COLLECTION_DB", "data/collection.db")


def collection_calendar() -> Path:
    """The collection calendar: ``IMS_COLLECTION_CALENDAR`` (default ``catalogue/collection.yaml``)."""
    return _under_home("IMS_COLLECTION_CALENDAR", "catalogue/collection.yaml")


def max_upload_bytes() -> int:
    """Largest upload the portal accepts: ``IMS_MAX_UPLOAD_MB`` (default 50)."""
    return int(float(_env("IMS_MAX_UPLOAD_MB", "50")) * 1024 * 1024)


def upload_wait() -> float:
    """Seconds an upload request waits for its outcome before answering 202 with a status URL (``IMS_UPLOAD_WAIT``)."""
    return float(_env("IMS_UPLOAD_WAIT", "10"))

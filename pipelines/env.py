"""Prefect environment defaults, set before Prefect is imported (its settings are read from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # the first start on a fresh home runs migrations
}


# A temporary server stopped while a pooled SQLite connection rolls back makes SQLAlchemy log the cancelled
# rollback as an ERROR with a traceback, after the run has finished and been recorded: nothing is lost, but
# `ims run` would end on a traceback. Only that logger is quietened; every other message stays as Prefect has it.
QUIET_LOGGERS = {"sqlalchemy.pool": "CRITICAL"}


def prefect_env_defaults(home: Path | None = None) -> dict[str, str]:
    """Set ``PREFECT_HOME`` (``<IMS_HOME>/.prefect``), the logging settings and the other defaults where the
    environment has none.

    Returns what was set. Call it before the first ``import prefect`` of the process.
    """
    from ims_indicators import settings

    prefect_home = (home or settings.home()) / ".prefect"
    wanted = {"PREFECT_HOME": str(prefect_home), **DEFAULTS,
              "PREFECT_LOGGING_SETTINGS_PATH": str(prefect_home / "logging.yml")}
    changed = {k: v for k, v in wanted.items() if not os.environ.get(k, "").strip()}
    if "PREFECT_LOGGING_SETTINGS_PATH" in changed:
        write_logging_settings(Path(changed["PREFECT_LOGGING_SETTINGS_PATH"]))
    os.environ.update(changed)
    return changed


def write_logging_settings(path: Path) -> None:
    """Prefect's own logging.yml with :data:`QUIET_LOGGERS` added (read from the installed Prefect, not imported:
    the environment must be set before Prefect is)."""
    import importlib.util

    import yaml

    spec = importlib.util.find_spec("prefect")
    default = Path(spec.origin).parent / "logging" / "logging.yml"
    config = yaml.safe_load(default.read_text(encoding="utf-8"))
    config.setdefault("loggers", {}).update({name: {"level": level} for name, level in QUIET_LOGGERS.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(config, sort_keys=False)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:  # atomic: another run may be reading it
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_text(text, encoding="utf-8")
        part.replace(path)


def api_url() -> str | None:
    """The configured Prefect server, or None for a temporary one started by the process."""
    value = os.environ.get("PREFECT_API_URL", "").strip()
    if value:
        return value
    try:  # a profile (prefect config set PREFECT_API_URL=...) counts too
        from prefect.settings import PREFECT_API_URL

        return PREFECT_API_URL.value() or None
    except Exception:  # noqa: BLE001 - only informative
        return None

"""Prefect environment defaults, set before Prefect is imported (its settings are read from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # the first start on a fresh home runs migrations
}


def prefect_env_defaults(home: Path | None = None) -> dict[str, str]:
    """Set ``PREFECT_HOME`` (``<IMS_HOME>/.prefect``) and the other defaults where the environment has none.

    Returns what was set. Call it before the first ``import prefect`` of the process.
    """
    from ims_indicators import settings

    wanted = {"PREFECT_HOME": str((home or settings.home()) / ".prefect"), **DEFAULTS}
    changed = {k: v for k, v in wanted.items() if not os.environ.get(k, "").strip()}
    os.environ.update(changed)
    return changed


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

"""Collection tests: the calendar of the repo is visible in every IMS_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def collection_calendar(monkeypatch: pytest.MonkeyPatch) -> Path:
    path = Path(os.environ.get("IMS_COLLECTION_CALENDAR") or REPO / "catalogue" / "collection.yaml")
    monkeypatch.setenv("IMS_COLLECTION_CALENDAR", str(path))
    return path

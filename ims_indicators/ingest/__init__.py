"""Ingestion: keep and stage received files (``stage.py``), pseudonymise person references (``pseudonym.py``).

The submission path (stage → validate → promote → publish) is listed in ``ims_indicators/pipeline.py``.
"""

from __future__ import annotations

from ims_indicators.pipeline import IngestReport, ingest_paths, process_pending

__all__ = ["IngestReport", "ingest_paths", "process_pending"]

"""Erasmus+ KA1 mobility open data: a second source of mobility rows (``ims erasmus``), streamed through DuckDB."""

from __future__ import annotations

from ims_indicators.erasmus.load import SOURCE, RegistryNotReady, load_erasmus

__all__ = ["SOURCE", "RegistryNotReady", "load_erasmus"]

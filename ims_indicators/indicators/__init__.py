"""Indicator catalogue and values: ``compute_indicators(con)`` writes ``marts.indicator_values``."""

from ims_indicators.indicators.catalogue import (
    Catalogue,
    CatalogueError,
    IndicatorError,
    check_catalogue,
    load_catalogue,
)
from ims_indicators.indicators.compute import compute_indicators, explain_indicator

__all__ = ["Catalogue", "CatalogueError", "IndicatorError", "check_catalogue", "compute_indicators",
           "explain_indicator", "load_catalogue"]

"""ims-indicators: benchmark indicators, label scoring and comparative reports for the IMS network.

All behaviour lives here as plain, importable functions (one package per stage); Prefect flows in
``pipelines/`` only orchestrate them. Nothing heavy is imported at package import time.
"""

__version__ = "0.1.0"

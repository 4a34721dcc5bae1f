"""Prefect 3 orchestration of the annual cycle. Flows and tasks only: every step calls ``ims_indicators``.

Importing this package imports nothing heavy; ``pipelines.flows`` imports Prefect.
"""

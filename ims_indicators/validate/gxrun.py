"""Run a dataset's Great Expectations suite over staged frames and turn the results into row findings.

Great Expectations is imported here, inside functions only: ``import great_expectations`` takes ~3 s and
must never run at ``ims --help``.
"""

from __future__ import annotations

import math
import os
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ims_indicators import settings
from ims_indicators.validate.compile import columns_of
from ims_indicators.validate.frames import INDEX

if TYPE_CHECKING:
    import pandas as pd

SITE = "ims"


class SuiteError(Exception):
    """A suite that cannot run (an unknown column, a malformed expectation): fix the suite file."""


def quiet_gx() -> None:
    """No usage statistics, no progress bars on stderr (set before GX is imported)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def data_docs_dir() -> Path:
    return settings.reports_dir() / "data_docs"


def _get_or_add(get, add, name):
    try:
        return get(name)
    except LookupError:  # missing data source, asset and batch definition all raise a LookupError
        return add(name)


@dataclass
class Runner:
    """A checkpoint for one dataset, ready to run on DataFrames."""

    context: object
    checkpoint: object
    dataset: str


@dataclass
class DocsBatch:
    """Validation results waiting for one Data Docs build. GX renders the site index (and compiles its templates)
    anew on every build: a checkpoint action building after each dataset cost ~0.4 s eight times per ingest."""

    context: object | None = None
    identifiers: list = field(default_factory=list)  # each validation result and its suite, as GX's action passes

    def add(self, runner: Runner, result) -> None:
        self.context = runner.context
        for identifier in result.run_results:
            self.identifiers += [identifier, identifier.expectation_suite_identifier]

    def build(self) -> None:
        if self.context is not None and self.identifiers:
            self.context.build_data_docs(site_names=[SITE], resource_identifiers=self.identifiers, build_index=True)
        self.identifiers = []


@contextmanager
def data_docs() -> Iterator[DocsBatch]:
    """Collect the validation results of a block (several datasets) and render them into Data Docs once at its
    end, however the block ends (the results stored so far get their pages)."""
    batch = DocsBatch()
    try:
        yield batch
    finally:
        batch.build()


def make_runner(dataset: str, suite_json: dict, *, mode: str = "file", docs: bool = True) -> Runner:
    """A GX context (file mode under IMS_HOME/gx by default), the suite from its file, and a checkpoint.
    ``docs``: the Data Docs site is configured (:class:`DocsBatch` renders the results into it)."""
    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if mode == "file":
        root = settings.gx_dir().parent
        root.mkdir(parents=True, exist_ok=True)
        ctx = gx.get_context(mode="file", project_root_dir=str(root))
    else:
        ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs:
        base = str(data_docs_dir().resolve())
        config = {"class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                  "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": base}}
        sites = ctx.get_site_names()
        if SITE not in sites:
            ctx.add_data_docs_site(site_name=SITE, site_config=config)
        elif (ctx.variables.data_docs_sites or {}).get(SITE, {}).get("store_backend", {}).get("base_directory") != base:
            ctx.update_data_docs_site(site_name=SITE, site_config=config)
    try:
        suite = ctx.suites.add_or_update(gx.ExpectationSuite(**suite_json))
    except Exception as exc:
        raise SuiteError(f"expectations/{dataset}.json: cannot be read as a Great Expectations suite "
                         f"({type(exc).__name__}: {str(exc).splitlines()[0][:300]})") from exc
    source = _get_or_add(ctx.data_sources.get, ctx.data_sources.add_pandas, "staging")
    asset = _get_or_add(source.get_asset, source.add_dataframe_asset, dataset)
    batch = _get_or_add(asset.get_batch_definition, asset.add_batch_definition_whole_dataframe, "pending")
    vd = ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=dataset, data=batch, suite=suite))
    checkpoint = ctx.checkpoints.add_or_update(gx.Checkpoint(
        name=f"{dataset}-staging", validation_definitions=[vd], actions=[],
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": INDEX}))
    return Runner(ctx, checkpoint, dataset)


# --- reasons -----------------------------------------------------------------------------------------------


def _missing(v) -> bool:
    import pandas as pd  # here, not at import: a command that validates in SQL only never loads pandas

    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def show(v) -> str:
    """A value as a steward reads it: dates as 2023-09-15, 30.0 as 30, empty as 'empty'."""
    import pandas as pd

    if _missing(v):
        return "empty"
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat() if v == v.normalize() else v.isoformat(sep=" ")
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and math.isfinite(v) else f"{v:g}"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


class _Reason(string.Formatter):
    def get_value(self, key, args, kwargs):
        return kwargs.get(key) if isinstance(key, str) else super().get_value(key, args, kwargs)

    def convert_field(self, value, conversion):
        if conversion == "r":
            return "empty" if _missing(value) else f"'{show(value)}'"
        return value

    def format_field(self, value, format_spec):
        return value if isinstance(value, str) and not format_spec else show(value)


_REASON = _Reason()


def reason_for(template: str, row: dict) -> str:
    try:
        return _REASON.format(template, **row)
    except (ValueError, IndexError, AttributeError) as exc:  # a malformed template in a suite file
        return f"{template} (reason template error: {exc})"


# --- results -------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One expectation over one submission (summed over chunks)."""

    rule: str
    column: str | None
    severity: str
    family: str | None
    reason_template: str
    kwargs: dict
    description: str | None = None
    element_count: int = 0
    rows: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    @property
    def unexpected_count(self) -> int:
        return len(self.rows)


def _raised(res) -> str | None:
    info = res.exception_info or {}
    items = info.values() if info and all(isinstance(v, dict) for v in info.values()) else [info]
    for item in items:
        if item.get("raised_exception"):
            return str(item.get("exception_message") or "unknown error")
    return None


def run_chunks(runner: Runner, frames: Iterable[pd.DataFrame],
               docs: DocsBatch | None = None) -> tuple[list[dict], dict[tuple, Outcome]]:
    """Validate each frame; return row findings and per (submission, expectation) outcomes. ``docs`` collects
    the results for Data Docs."""
    import pandas as pd

    findings: list[dict] = []
    outcomes: dict[tuple, Outcome] = {}
    for df in frames:
        result = runner.checkpoint.run(batch_parameters={"dataframe": df})
        if docs is not None:
            docs.add(runner, result)
        per_sub = df["submission_id"].value_counts().to_dict()
        for run in result.run_results.values():
            for i, res in enumerate(run.results):
                cfg = res.expectation_config
                kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
                if (msg := _raised(res)) is not None:
                    raise SuiteError(f"expectations/{runner.dataset}.json: {cfg.type} on "
                                     f"{', '.join(columns_of(kwargs)) or '-'} cannot run: {msg.splitlines()[0][:300]}")
                meta = cfg.meta or {}
                severity = getattr(cfg.severity, "value", cfg.severity) or "critical"
                cols = columns_of(kwargs)
                data_cols = ",".join(c for c in cols if not c.startswith("_")) or None  # no helper names for stewards
                ident = (cfg.id or f"{i}:{cfg.type}:{','.join(cols)}")
                template = meta.get("reason") or f"{cfg.type} failed on {', '.join(cols)}"
                for sid, n in per_sub.items():
                    o = outcomes.get((sid, ident))
                    if o is None:
                        o = outcomes[(sid, ident)] = Outcome(cfg.type, ",".join(cols) or None, str(severity),
                                                             meta.get("family"), template, kwargs,
                                                             cfg.description)
                    o.element_count += int(n)
                hits = (res.result or {}).get("unexpected_index_list") or []
                if res.success or not hits:
                    continue
                keys = pd.DataFrame({
                    "submission_id": pd.Series([h["submission_id"] for h in hits], dtype=df["submission_id"].dtype),
                    "source_row": pd.Series([int(h["source_row"]) for h in hits], dtype="int64")})
                rows = keys.drop_duplicates().merge(df, on=INDEX, how="left").to_dict("records")
                if "{_group_rows}" in template:
                    _add_group_rows(rows, cols)
                for row in rows:
                    sid, source_row = row["submission_id"], int(row["source_row"])
                    o = outcomes[(sid, ident)]
                    o.rows.append(source_row)
                    reason = reason_for(template, row)
                    if len(o.values) < 20:
                        o.values.append(f"row {source_row}: {reason}")
                    findings.append({"submission_id": sid, "source_row": source_row, "rule": cfg.type,
                                     "column": data_cols, "severity": str(severity),
                                     "reason": reason})
    return findings, outcomes


def _add_group_rows(rows: list[dict], cols: list[str]) -> None:
    groups: dict[tuple, list[int]] = {}
    for r in rows:
        groups.setdefault((r["submission_id"], *(show(r.get(c)) for c in cols)), []).append(int(r["source_row"]))
    for r in rows:
        members = sorted(groups[(r["submission_id"], *(show(r.get(c)) for c in cols))])
        r["_group_rows"] = ", ".join(map(str, members))

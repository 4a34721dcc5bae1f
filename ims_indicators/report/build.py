"""``write_reports``: every page, the workbook and (on request) the PDFs, from one read of the warehouse.

Layout under ``reports/``::

    index.html                 network overview
    schools/<school_id>.html   one profile per school (+ <school_id>.pdf with --pdf)
    private/<school_id>/       what only that school may see: its students' comments, names masked
    assets/plotly.min.js       plotly.js, once, referenced relatively by every page
    ims_indicators.xlsx        every published table

Why one shared plotly.js and not inline: inlined, each page carries 4.8 MB (≈ 100 MB and seconds of writing
for 20 schools); shared, the pages are a few hundred KB and the folder still opens offline from disk or a
zip. The PDF is the single-file form for mailing. ``inline_plotly=True`` makes every page self-contained.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from ims_indicators import settings
import ims_indicators.report.html as html
from ims_indicators.report.load import ReportError, load

__all__ = ["ReportError", "write_reports"]


def _write_plotly(assets: Path) -> Path:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    target = assets / "plotly.min.js"
    if not (target.is_file() and target.stat().st_size == len(js.encode("utf-8"))):
        assets.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".js.tmp")
        tmp.write_text(js, encoding="utf-8")
        tmp.replace(target)
    return target


def _write_comments(data, targets: list[str], out: Path) -> list[Path]:
    """Each school's own survey comments, masked, under ``private/<school_id>/`` — a folder that is handed to that
    school alone: never linked from the network pages, never printed to PDF, never in the workbook."""
    from ims_indicators.survey.report import comments_html

    written = []
    for sid in targets:
        text = comments_html(data.survey, sid, data.names()[sid])
        target = out / "private" / html.safe_name(sid) / "survey_comments.html"
        if text is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def write_reports(con: duckdb.DuckDBPyConnection, out_dir: Path | None = None, school: str | None = None,
                  pdf: bool = False, *, inline_plotly: bool = False) -> dict:
    """Write the reports; returns the paths written, counts and seconds taken.

    ``school``: only that school's profile (and its PDF); the overview and workbook are left as they are.
    Raises :class:`ReportError` when there is nothing to report or the school is unknown.
    """
    t0 = time.perf_counter()
    out = Path(out_dir or settings.reports_dir())
    data = load(con)
    ids = data.school_ids
    if school is not None and school not in ids:
        raise ReportError(f"--school {school}: unknown school; expected one of {', '.join(ids) or '(none)'}")
    targets = [school] if school else ids
    plotly_js = None
    written: list[Path] = []
    if inline_plotly:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    else:
        written.append(_write_plotly(out / "assets"))
    pages, charts = [], 0
    for sid in targets:
        ctx = {**html.common(data, 1, plotly_js), **html.school_context(data, sid)}
        pages.append(html.render("school.html", ctx, out / "schools" / f"{html.safe_name(sid)}.html"))
        charts += ctx["n_charts"]
    written += pages
    private = _write_comments(data, targets, out)
    written += private
    index = workbook = None
    if school is None:
        ctx = {**html.common(data, 0, plotly_js), **html.index_context(data)}
        index = html.render("index.html", ctx, out / "index.html")
        charts += ctx["n_charts"]
        from ims_indicators.report.excel import write_workbook

        workbook = write_workbook(data, out / "ims_indicators.xlsx")
        written += [index, workbook]
    pdfs: list[Path] = []
    if pdf:
        from ims_indicators.report.pdf import print_pdfs

        pdfs = print_pdfs(pages)
        written += pdfs
    return {
        "out_dir": str(out), "index": str(index) if index else None, "workbook": str(workbook) if workbook else None,
        "schools": [str(p) for p in pages], "private": [str(p) for p in private], "pdfs": [str(p) for p in pdfs], "paths": [str(p) for p in written],
        "counts": {"schools": len(pages), "charts": charts, "pdfs": len(pdfs), "years": len(data.years),
                   "indicators": len(data.catalogue), "label_results": 0 if data.labels is None else len(data.labels)},
        "bytes": sum(p.stat().st_size for p in written),
        "seconds": round(time.perf_counter() - t0, 2),
    }

"""``ims report``: write the comparative reports (registered by the main app as ``report``)."""

from __future__ import annotations

from typing import Annotated

import typer

from ims_indicators.console import err, fail


def report_command(
    school: Annotated[str | None, typer.Option("--school", help="Only this school's profile (its id).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print each school profile to PDF (headless Chromium).")] = False,
) -> None:
    """Write the reports under reports/: a profile per school, the network overview, the Excel workbook.

    Pages open offline (plotly.js ships once in reports/assets/). Counts below the threshold
    (IMS_SUPPRESS_BELOW, default 5) are suppressed; schools that did not consent appear as "peer".
    Prints the path of reports/index.html (with --school: of that school's page).
    """
    from ims_indicators import settings
    from ims_indicators.errors import WarehouseBusy
    from ims_indicators.report.build import ReportError, write_reports
    from ims_indicators.report.pdf import PdfError
    from ims_indicators.warehouse import open_warehouse

    path = settings.warehouse()
    if not path.is_file():
        fail(f"{path}: no warehouse yet; ingest submissions and compute the indicators first (ims ingest, ims indicators)")
    try:
        with open_warehouse(path, read_only=True) as con:
            result = write_reports(con, school=school, pdf=pdf)
    except (ReportError, PdfError, WarehouseBusy) as exc:
        fail(str(exc))
    c = result["counts"]
    err.print(f"{c['schools']} school page(s), {c['charts']} charts"
              + (f", {c['pdfs']} PDF(s)" if pdf else "") + f" in {result['seconds']:.1f} s", highlight=False)
    typer.echo(result["index"] or result["schools"][0])

"""Write the demo network's submissions in the raw layout, plus ``demo_manifest.json``.

``OUT/schools.csv`` is the registry; every dataset file goes to
``OUT/<dataset>/<school_id>/<yyyy-yy>/<file>``. The same seed gives byte-identical files.
All demo figures are synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import ims_indicators.demo.network as net
import ims_indicators.demo.rows as rw
from ims_indicators.contracts import contract, year_slug
from ims_indicators.demo.planted import plant_errors
from ims_indicators.demo.rows import FileSpec, Row
from ims_indicators.demo.writers import csv_bytes, render_rows, xlsx_bytes

DATASETS = ("mobility", "staffing", "enrolment", "accreditation")
MANIFEST = "demo_manifest.json"
Progress = Callable[[int, int, str], None]  # (files done, files in all, path just written)


@dataclass
class DemoManifest:
    seed: int
    years: list[str]
    schools: list[dict]
    files: list[dict]
    file_count: int
    row_counts: dict[str, int]
    data_rows: int
    planted_errors: list[dict]
    planted_error_rows: int
    refused_files: list[dict]
    gaps: list[dict]
    synthetic: bool = True
    note: str = net.SYNTHETIC_NOTE
    out: Path | None = field(default=None, repr=False)  # where it was written (not part of the JSON)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("out")
        return {"synthetic": d.pop("synthetic"), "note": d.pop("note"), **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @property
    def total_bytes(self) -> int:
        return sum(f["bytes"] for f in self.files)


def build_files(seed: int) -> list[FileSpec]:
    """Every dataset file's clean rows (no errors yet), gaps left out, the malformed file marked."""
    gaps = {(d, s, y) for d, s, y, _ in net.GAPS}
    specs: list[FileSpec] = []
    for school in net.SCHOOLS:
        prof = rw.profile(school, seed)
        for year in net.YEARS:
            enrol = rw.enrolment(school, year, seed, prof)
            students = sum(r["students_total"] for r in enrol)
            staff = rw.staffing(school, year, seed, prof, students)
            headcount = sum(r["headcount"] for r in staff)
            by_dataset = {
                "mobility": rw.mobility(school, year, seed, prof, students, headcount),
                "staffing": staff,
                "enrolment": enrol,
                "accreditation": rw.accreditation(school, year, seed),
            }
            for dataset in DATASETS:
                if (dataset, school.school_id, year) in gaps:
                    continue
                spec = FileSpec(dataset, school, year, [Row(v) for v in by_dataset[dataset]])
                name = school.style.file_name.format(dataset=dataset, Dataset=dataset.capitalize(),
                                                     year=year_slug(year), school=school.school_id)
                spec.path = f"{dataset}/{school.school_id}/{year_slug(year)}/{name}.{school.style.extension}"
                if (dataset, school.school_id, year) == net.REFUSED:
                    spec.drop = ("direction", "start_date")
                    spec.refused_reason = ("required columns direction and start_date are missing (the export "
                                           "left them out); the file must be refused whole")
                specs.append(spec)
    return specs


def render_file(spec: FileSpec) -> tuple[bytes, list[int]]:
    """The file's bytes in the school's house style and each row's source_row."""
    school, style = spec.school, spec.school.style
    header, body, cols = render_rows(school, spec.dataset, [r.values for r in spec.rows], spec.drop)
    if style.extension == "csv":
        return csv_bytes(style, header, body)
    totals = None
    key = {"staffing": "staff_category", "enrolment": "programme_level"}.get(spec.dataset)
    if key and style.totals_label:
        spec_cols = {c.name: c for c in contract(spec.dataset).columns}
        totals = []
        for i, name in enumerate(cols):
            if name == key:
                totals.append(style.totals_label)
            elif spec_cols[name].kind in ("int", "float"):
                s = sum(row[i] for row in body if isinstance(row[i], (int, float)))
                totals.append(round(s, 1) if isinstance(s, float) else s)
            else:
                totals.append(None)
    y = net.year_start(spec.year)
    title = f"{spec.dataset.capitalize()} report {spec.year} – {school.short}"
    return xlsx_bytes(title, header, body, blank_row=style.title_blank_row, totals=totals,
                      sheet_name=spec.dataset.capitalize(), stamp=dt.datetime(y + 1, 10, 15, 9, 30))


def schools_csv() -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(contract("schools").names)
    for s in net.SCHOOLS:
        w.writerow([s.school_id, s.name, s.country_code, s.city, s.erasmus_code, s.network_role,
                    "true" if s.consent_to_be_named else "false"])
    return buf.getvalue().encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path.exists() and path.read_bytes() == data):
        path.write_bytes(data)


def generate_demo(out: Path, seed: int = 2024, progress: Progress | None = None) -> DemoManifest:
    """Write the whole demo network under ``out``; the same seed gives byte-identical files."""
    out = Path(out)
    specs = build_files(seed)
    plant_errors(specs, seed)
    total = len(specs) + 1
    files, errors, refused = [], [], []
    row_counts = {"schools": len(net.SCHOOLS), **{d: 0 for d in DATASETS}}
    registry = schools_csv()
    _write(out / "schools.csv", registry)
    files.append({"path": "schools.csv", "dataset": "schools", "school_id": None, "academic_year": None,
                  "style": "utf8", "rows": len(net.SCHOOLS), "bytes": len(registry),
                  "sha256": hashlib.sha256(registry).hexdigest()})
    if progress:
        progress(1, total, "schools.csv")
    for done, spec in enumerate(specs, 2):
        data, source_rows = render_file(spec)
        _write(out / spec.path, data)
        files.append({"path": spec.path, "dataset": spec.dataset, "school_id": spec.school.school_id,
                      "academic_year": spec.year, "style": spec.school.style.key, "rows": len(spec.rows),
                      "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        if spec.refused_reason:
            refused.append({"dataset": spec.dataset, "school_id": spec.school.school_id,
                            "academic_year": spec.year, "file": spec.path, "reason": spec.refused_reason,
                            "missing_columns": list(spec.drop), "rows": len(spec.rows)})
        else:
            row_counts[spec.dataset] += len(spec.rows)
            for row, source_row in zip(spec.rows, source_rows):
                if row.error:
                    errors.append({"dataset": spec.dataset, "school_id": spec.school.school_id,
                                   "academic_year": spec.year, "file": spec.path, "source_row": source_row,
                                   **row.error})
        if progress:
            progress(done, total, spec.path)
    import random  # the student survey (ims_indicators/survey/demo.py): clean files, no planted errors

    from ims_indicators.survey.demo import write_demo_survey

    survey = write_demo_survey(out, net.SCHOOLS, net.YEARS, random.Random(f"{seed}:survey"))
    files.extend(survey)
    row_counts["student_survey"] = sum(f["rows"] for f in survey)
    from ims_indicators.demo.assessment import write_demo_assessments  # self-assessment and panel (issue 14)

    assessments = write_demo_assessments(out, net.SCHOOLS, net.YEARS, random.Random(f"{seed}:assessment"))
    files.extend(assessments)
    for ds in ("self_assessment", "panel_assessment"):
        row_counts[ds] = sum(f["rows"] for f in assessments if f["dataset"] == ds)
    data_rows = sum(row_counts[d] for d in DATASETS)
    manifest = DemoManifest(
        seed=seed,
        years=list(net.YEARS),
        schools=[{"school_id": s.school_id, "name": s.name, "country_code": s.country_code,
                  "network_role": s.network_role, "consent_to_be_named": s.consent_to_be_named,
                  "erasmus_code": s.erasmus_code, "house_style": s.style.key,
                  "file_format": s.style.extension} for s in net.SCHOOLS],
        files=files,
        file_count=len(files),
        row_counts=row_counts,
        data_rows=data_rows,
        planted_errors=errors,
        planted_error_rows=len({(e["file"], e["source_row"]) for e in errors}),
        refused_files=refused,
        gaps=[{"dataset": d, "school_id": s, "academic_year": y, "reason": why} for d, s, y, why in net.GAPS],
        out=out,
    )
    _write(out / MANIFEST, manifest.to_json().encode("utf-8"))
    stamp_received(out, files, seed)
    return manifest


def stamp_received(out: Path, files: list[dict], seed: int) -> None:
    """Give each file the modification time of a plausible receipt date (ingest takes it as received_at).

    The network's deadline is 31 October after the academic year ends (31 August); most schools send in
    September or October, some weeks late. Deterministic for a seed.
    """
    import datetime as dt
    import os
    import random

    rng = random.Random(f"{seed}:received")
    for f in files:
        year = f.get("academic_year")
        if not year:
            when = dt.datetime(2019, 9, 1, 9, 0)
        else:
            end = dt.datetime(int(str(year)[:4]) + 1, 8, 31, 9, 0)
            when = end + dt.timedelta(days=rng.randint(10, 75), minutes=rng.randint(0, 480))
        stamp = when.timestamp()
        os.utime(out / f["path"], (stamp, stamp))

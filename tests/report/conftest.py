"""A small warehouse for the report tests: six schools, three years, eight indicators, every mart.

Planted on purpose:
- ``charite`` has a numerator of 3 (staff_international_share, 2023/24): shown as <5, value withheld;
  ``karolinska`` one of 4 the year before, so its 2023/24 change (which would give it back) goes too;
- ``evil-school`` is named ``<script>alert(1)</script>``; ``formula-school`` ``=HYPERLINK(...)``;
- ``hidden-school`` (and ``quiet-school``) did not consent to be named;
- a demo manifest exists, so the pages must say the figures are synthetic.
"""

from __future__ import annotations

import json
import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.curated import accept_staged

REPO = Path(__file__).resolve().parents[2]
YEARS = ("2021/22", "2022/23", "2023/24")
XSS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.com","click")'
HIDDEN_NAME = "Secret Medical University"
SCHOOLS = [  # school_id, name, country, city, role, consent
    ("charite", "Charité – Universitätsmedizin Berlin", "DE", "Berlin", "partner", True),
    ("evil-school", XSS, "FR", "Paris", "member", True),
    ("formula-school", FORMULA, "IT", "Roma", "member", True),
    ("hidden-school", HIDDEN_NAME, "PL", "Hiddenburg", "member", False),
    ("karolinska", "Karolinska Institutet", "SE", "Stockholm", "partner", True),
    ("quiet-school", "Quiet Faculty of Medicine", "BE", "Quietville", "advisory", None),
]
DATASETS = {"qa_valid_accreditation": ["accreditation"], "qa_ects_recognition_rate": ["mobility"],
            "staff_international_share": ["staffing"], "staff_outgoing_mobility_per_100_fte": ["mobility", "staffing"],
            "aa_submission_timeliness": ["submissions"], "mob_outgoing_per_100_graduates": ["enrolment", "mobility"],
            "mob_incoming_per_100_students": ["enrolment", "mobility"], "mob_partner_countries": ["mobility"]}
INDICATORS = [  # id, name, dimension, unit, direction, numerator range, denominator range
    ("qa_valid_accreditation", "Valid accreditation at the reporting date", "quality_assurance", "yes/no", "higher",
     (1, 1), (1, 1)),
    ("qa_ects_recognition_rate", "ECTS recognition rate of outgoing students", "quality_assurance", "share", "higher",
     (600, 900), (900, 1000)),
    ("staff_international_share", "International academic staff share", "staff", "share", "higher",
     (10, 60), (100, 300)),
    ("staff_outgoing_mobility_per_100_fte", "Outgoing staff mobilities per 100 academic FTE", "staff", "per 100",
     "higher", (5, 40), (150, 400)),
    ("aa_submission_timeliness", "Timeliness of submissions", "autonomy_accountability", "share", "higher",
     (2, 4), (4, 4)),
    ("mob_outgoing_per_100_graduates", "Outgoing credit-mobile students per 100 graduates", "student_mobility",
     "per 100", "higher", (20, 90), (200, 400)),
    ("mob_incoming_per_100_students", "Incoming exchange students per 100 students", "student_mobility", "per 100",
     "higher", (30, 150), (1500, 4000)),
    ("mob_partner_countries", "Partner countries", "student_mobility", "count", "higher", (6, 40), (50, 300)),
]
SMALL = ("charite", "2023/24", "staff_international_share", 3.0, 117.0)
SMALL_BEFORE = ("karolinska", "2022/23", "staff_international_share", 4.0, 150.0)  # next year's change must go
DIMS = ("quality_assurance", "staff", "autonomy_accountability", "student_mobility")


def _values() -> list[tuple]:
    rnd = random.Random(7)
    rows = []
    for sid, *_ in SCHOOLS:
        for year in YEARS:
            for iid, _n, _d, unit, _dir, (nlo, nhi), (dlo, dhi) in INDICATORS:
                num, den = float(rnd.randint(nlo, nhi)), float(rnd.randint(dlo, dhi))
                for small in (SMALL, SMALL_BEFORE):
                    if (sid, year, iid) == small[:3]:
                        num, den = small[3], small[4]
                if unit == "yes/no":
                    num = float(rnd.random() > 0.15)
                value = num if unit == "count" else num / den * (100 if unit == "per 100" else 1)
                rows.append((sid, year, iid, value, num, den, True, None, "school"))
    # one value not computable (too small a base)
    rows = [r if (r[0], r[1], r[2]) != ("karolinska", "2022/23", "mob_partner_countries")
            else (*r[:3], None, None, None, False, "no mobility rows", "school") for r in rows]
    return rows


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    pos = (len(xs) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _groups(values: list[tuple]) -> list[tuple]:
    out = []
    by = {}
    for r in values:
        by.setdefault((r[2], r[1]), []).append(r)
    prev = {(r[0], r[1], r[2]): r[3] for r in values}
    for (iid, year), rows in sorted(by.items()):
        xs = [r[3] for r in rows if r[3] is not None]
        med, q1, q3 = statistics.median(xs), _quantile(xs, 0.25), _quantile(xs, 0.75)
        for r in rows:
            v = r[3]
            if v is None:
                out.append((iid, year, "network", r[0], None, None, None, len(xs), med, q1, q3, None, None, None,
                            "not computable"))
                continue
            che = "top" if v > q3 else "bottom" if v < q1 else "middle"
            d = (v - med) / abs(med) if med else 0
            ume = "A" if d >= 0.25 else "B" if d >= 0.1 else "C" if d >= -0.1 else "D" if d >= -0.25 else "E"
            pct = sum(1 for x in xs if x <= v) / len(xs) * 100
            y0 = YEARS[YEARS.index(year) - 1] if YEARS.index(year) else None
            ch = v - prev[(r[0], y0, iid)] if y0 and prev.get((r[0], y0, iid)) is not None else None
            out.append((iid, year, "network", r[0], v, che, ume, len(xs), med, q1, q3, pct, ch, None, None))
    # a second peer set for one school: the pages must show the network set only
    out += [(iid, "2023/24", "country:DE", "charite", None, "middle", "C", 1, None, None, None, None, None, None,
             "too few peers") for iid, *_ in INDICATORS]
    return out


def build_warehouse(path: Path, *, labels: bool = True) -> Path:
    from ims_indicators.warehouse import ensure_schema

    con = duckdb.connect(str(path))
    try:
        ensure_schema(con)  # meta.*, staging.* and curated.* with the contracts' real columns
        for i, (sid, name, cc, city, role, consent) in enumerate(SCHOOLS):
            con.execute("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, city, "
                        "erasmus_code, network_role, consent_to_be_named) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        ["sub-schools", i + 2, sid, name, cc, city, f"X  {city.upper()}01", role, consent])
        accept_staged(con, "schools")
        t0 = datetime(2024, 10, 1, 9, 0)
        n = 0
        for sid, *_ in SCHOOLS:
            for year in YEARS:
                for dataset in ("enrolment", "mobility", "staffing", "accreditation"):
                    if (sid, dataset) == ("quiet-school", "accreditation") and year == "2021/22":
                        continue  # not received
                    status = "accepted"
                    if (sid, dataset, year) == ("karolinska", "mobility", "2023/24"):
                        status = "accepted_with_quarantine"
                    n += 1
                    con.execute("INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, "
                                "source, file_name, sha256, received_at, status, rows_in, rows_quarantined) "
                                "VALUES (?, ?, ?, ?, 'school', ?, ?, ?, ?, ?, ?)",
                                [f"s{n}", dataset, sid, year, f"{dataset}.csv", f"{n:064x}", t0 + timedelta(hours=n),
                                 status, 40, 3 if status != "accepted" else 0])
        # a rejected file, superseded by nothing, for the same key as an accepted one earlier
        con.execute("INSERT INTO meta.submissions (submission_id, dataset, school_id, academic_year, source, "
                    "file_name, sha256, received_at, status, reason, rows_in, rows_quarantined) VALUES "
                    "('s-rej', 'staffing', 'evil-school', '2023/24', 'school', 'x.csv', 'ff', ?, 'rejected', "
                    "'=cmd|calc', 0, 0)", [t0 + timedelta(days=30)])

        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("""CREATE TABLE marts.indicator_catalogue (indicator_id VARCHAR PRIMARY KEY, name VARCHAR,
            definition VARCHAR, dimension VARCHAR, unit VARCHAR, direction VARCHAR, numerator_name VARCHAR,
            denominator_name VARCHAR, min_denominator DOUBLE, datasets VARCHAR[], catalogue_version VARCHAR,
            position INTEGER)""")
        for pos, (iid, name, dim, unit, direction, *_r) in enumerate(INDICATORS):
            con.execute("INSERT INTO marts.indicator_catalogue VALUES (?, ?, ?, ?, ?, ?, 'num', 'den', 1, ?, 'test', ?)",
                        [iid, name, f"{name}: numerator over denominator.", dim, unit, direction, DATASETS[iid], pos])
        con.execute("""CREATE TABLE marts.indicator_values (school_id VARCHAR, academic_year VARCHAR,
            indicator_id VARCHAR, value DOUBLE, numerator DOUBLE, denominator DOUBLE, computable BOOLEAN,
            reason VARCHAR, source VARCHAR)""")
        values = _values()
        con.executemany("INSERT INTO marts.indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        con.execute("""CREATE TABLE marts.benchmark_groups (indicator_id VARCHAR, academic_year VARCHAR,
            peer_set VARCHAR, school_id VARCHAR, value DOUBLE, che_group VARCHAR, ume_group VARCHAR, peer_n INTEGER,
            peer_median DOUBLE, peer_q1 DOUBLE, peer_q3 DOUBLE, percentile DOUBLE, change_1y DOUBLE,
            change_3y DOUBLE, reason VARCHAR)""")
        con.executemany("INSERT INTO marts.benchmark_groups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _groups(values))
        if labels:
            rnd = random.Random(11)
            con.execute("""CREATE TABLE marts.label_results (school_id VARCHAR, academic_year VARCHAR, overall DOUBLE,
                quality_assurance DOUBLE, staff DOUBLE, autonomy_accountability DOUBLE, student_mobility DOUBLE,
                rank BIGINT, decision VARCHAR, reasons VARCHAR, availability DOUBLE, imputed VARCHAR,
                model_name VARCHAR, model_version VARCHAR, model_sha256 VARCHAR, data_snapshot VARCHAR,
                scored_at TIMESTAMP)""")
            con.execute("""CREATE TABLE marts.label_robustness (school_id VARCHAR, academic_year VARCHAR,
                p_not_awarded DOUBLE, p_conditional DOUBLE, p_awarded DOUBLE, nominal_decision VARCHAR,
                nominal_rank BIGINT, rank_median DOUBLE, rank_p05 DOUBLE, rank_p95 DOUBLE, overall_median DOUBLE,
                overall_p05 DOUBLE, overall_p95 DOUBLE, main_driver VARCHAR, main_driver_total_order DOUBLE,
                draws BIGINT, model_name VARCHAR, model_version VARCHAR, model_sha256 VARCHAR,
                data_snapshot VARCHAR, scored_at TIMESTAMP)""")
            for year in YEARS:
                for rank, (sid, *_s) in enumerate(SCHOOLS, start=1):
                    dims = [round(rnd.uniform(30, 90), 2) for _ in DIMS]
                    overall = round(sum(dims) / len(dims), 2)
                    decision = "awarded" if overall >= 60 and min(dims) >= 40 else \
                        "conditional" if overall >= 45 else "not_awarded"
                    reasons = [] if decision == "awarded" else [f"overall {overall:.2f} below 60 required for awarded"]
                    if sid == "formula-school":
                        decision = "not_awarded"
                        reasons = [("gate accreditation failed: qa_valid_accreditation >= 1 and qa_wfme_recognised >= 1 "
                                    "(qa_valid_accreditation=0, qa_wfme_recognised=1)")]
                    con.execute("INSERT INTO marts.label_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1.0, '', "
                                "'label_v1', '1.0.0', 'abc', 'snap', now())",
                                [sid, year, overall, *dims, rank, decision, "; ".join(reasons)])
                    pa = rnd.uniform(0, 1)
                    pc = rnd.uniform(0, 1 - pa)
                    con.execute("INSERT INTO marts.label_robustness VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                "'weights', 0.4, 1000, 'label_v1', '1.0.0', 'abc', 'snap', now())",
                                [sid, year, 1 - pa - pc, pc, pa, decision, rank, rank, max(1, rank - 1),
                                 min(6, rank + 2), overall, overall - 5, overall + 5])
    finally:
        con.close()
    return path


def make_home(root: Path, *, labels: bool = True) -> Path:
    """An IMS_HOME with the fixture warehouse and a demo manifest."""
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "data" / "raw" / "demo_manifest.json").write_text(json.dumps({"seed": 1}), encoding="utf-8")
    build_warehouse(root / "data" / "warehouse.duckdb", labels=labels)
    return root


def env_for(home: Path) -> dict[str, str]:
    return {"IMS_HOME": str(home), "IMS_MODELS_DIR": str(REPO / "models"), "IMS_SUPPRESS_BELOW": "5",
            "IMS_WAREHOUSE": str(home / "data" / "warehouse.duckdb"), "IMS_REPORTS_DIR": str(home / "reports")}


def write_fixture_reports(home: Path, **kwargs) -> dict:
    from ims_indicators.report import write_reports
    from ims_indicators.warehouse import open_warehouse

    with pytest.MonkeyPatch.context() as mp:
        for k, v in env_for(home).items():
            mp.setenv(k, v)
        with open_warehouse(home / "data" / "warehouse.duckdb", read_only=True) as con:
            return write_reports(con, **kwargs)


@pytest.fixture(scope="session")
def report_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_home(tmp_path_factory.mktemp("report-home"))


@pytest.fixture(scope="session")
def built(report_home: Path) -> dict:
    """The reports for the fixture warehouse, written once per session."""
    return write_fixture_reports(report_home)


def read_groups(home: Path, school_id: str, year: str, peer_set: str = "network") -> list[dict]:
    con = duckdb.connect(str(home / "data" / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute("SELECT indicator_id, che_group, ume_group FROM marts.benchmark_groups "
                          "WHERE school_id = ? AND academic_year = ? AND peer_set = ? ORDER BY indicator_id",
                          [school_id, year, peer_set])
        return [dict(zip(("indicator_id", "che_group", "ume_group"), r)) for r in cur.fetchall()]
    finally:
        con.close()

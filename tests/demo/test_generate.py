"""The demo network generator: deterministic, complete, in every house style, with honest planted errors.

The files are read back here with a small independent reader (not the project's), so these tests
check the bytes a school would send, not what our own reader happens to accept.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pycountry
import pytest
import typer
from typer.testing import CliRunner

from ims_indicators.contracts import SLUG, canonical_year, contract, header_map, normalise_header, year_slug
from ims_indicators.demo import network as net
from ims_indicators.demo.cli import demo_command
from ims_indicators.demo.generate import MANIFEST, build_files, generate_demo, render_file
from ims_indicators.demo.planted import plant_errors

SEED = 2024
DATASETS = ("mobility", "staffing", "enrolment", "accreditation")
KEY_COLUMN = {"staffing": "staff_category", "enrolment": "programme_level"}
ISO = {c.alpha_2 for c in pycountry.countries}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo")
    manifest = generate_demo(out, SEED)
    return out, manifest


@pytest.fixture(scope="module")
def tables(demo):
    """path -> (typed rows by source_row, totals rows' source_rows, raw cells by source_row) of every readable file."""
    out, manifest = demo
    refused = {r["file"] for r in manifest.refused_files}
    return {f["path"]: read_table(out / f["path"], f["dataset"]) for f in manifest.files
            if f["dataset"] in DATASETS and f["path"] not in refused}  # the survey is tested in tests/survey


# --- a small independent reader ------------------------------------------------------------------

def _csv_cells(path: Path) -> tuple[list[list[object]], str, str]:
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("cp1252"), "cp1252"
    lines = text.splitlines()
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    return [next(csv.reader([ln], delimiter=delimiter)) for ln in lines], encoding, delimiter


def _xlsx_cells(path: Path) -> list[list[object]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def _typed(col, value: object, decimal_comma: bool) -> object:
    if value is None or value == "":
        return None
    if col.kind in ("int", "float"):
        if isinstance(value, (int, float)):
            return value
        return float(str(value).replace(",", ".") if decimal_comma else value)
    if col.kind == "date":
        if isinstance(value, (int, float)):
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        fmt = "%d.%m.%Y" if "." in str(value) else "%Y-%m-%d"
        return dt.datetime.strptime(str(value), fmt).date()
    if col.kind == "bool":
        return value if isinstance(value, bool) else {"true": True, "false": False}[str(value).lower()]
    if col.kind == "year":
        return canonical_year(value)
    if col.kind == "country":
        return {"UK": "GB", "EL": "GR"}.get(str(value).upper(), str(value).upper())
    if col.kind == "enum":
        key = normalise_header(value)
        return col.value_synonyms.get(key, col.value_synonyms.get(str(value).lower(), key.replace(" ", "_")))
    return value


def read_table(path: Path, dataset: str):
    spec = contract(dataset)
    names = header_map(dataset)
    if path.suffix == ".xlsx":
        cells, decimal_comma = _xlsx_cells(path), False
        header_at = next(i for i, r in enumerate(cells) if sum(names.get(normalise_header(c)) is not None
                                                               for c in r if c is not None) >= 3)
    else:
        cells, _, delimiter = _csv_cells(path)
        decimal_comma, header_at = delimiter == ";", 0
    cols = [names.get(normalise_header(c)) if c is not None else None for c in cells[header_at]]
    rows, totals, raw = {}, [], {}
    for i, r in enumerate(cells[header_at + 1:], start=header_at + 2):
        record = {c: v for c, v in zip(cols, r) if c is not None}
        key = KEY_COLUMN.get(dataset)
        if key and str(record.get(key) or "").lower() in ("total", "gesamt"):
            totals.append(i)
            continue
        raw[i] = r
        rows[i] = {c.name: _typed(c, record.get(c.name), decimal_comma) for c in spec.columns}
    return rows, totals, raw


# --- rules (single row and within file) ----------------------------------------------------------

def broken_rules(dataset: str, r: dict) -> set[str]:
    out: set[str] = set()
    if dataset == "mobility":
        ys, ye = net.year_bounds(r["academic_year"])
        if r["end_date"] < r["start_date"]:
            out.add("end_before_start")
        if r["participants"] < 1:
            out.add("participants_zero")
        if r["direction"] not in ("outgoing", "incoming"):
            out.add("unknown_direction")
        if r["partner_country"] not in ISO:
            out.add("invalid_country")
        if None not in (r["ects_earned"], r["ects_recognised"]) and r["ects_recognised"] > r["ects_earned"]:
            out.add("ects_recognised_gt_earned")
        if max(r["start_date"], r["end_date"]) < ys or min(r["start_date"], r["end_date"]) > ye:
            out.add("dates_outside_year")
        for c in ("participant_type", "activity", "programme", "programme_level"):
            allowed = contract("mobility").column(c).allowed
            if r[c] is not None and r[c] not in allowed:
                out.add(f"bad_{c}")
        if r["participant_type"] == "staff" and (r["programme_level"] or r["ects_earned"] is not None):
            out.add("staff_with_student_fields")
        if r["participant_type"] == "student" and not r["programme_level"]:
            out.add("student_without_level")
        if r["direction"] == "incoming" and r["ects_earned"] is not None:
            out.add("ects_on_incoming")
    elif dataset == "staffing":
        if r["fte"] > r["headcount"]:
            out.add("fte_gt_headcount")
        if r["foreign_nationality"] > r["headcount"]:
            out.add("foreign_gt_headcount")
        for c in ("international_experience", "intl_training_completed", "teaching_in_english"):
            if r[c] > r["headcount"]:
                out.add(f"{c}_gt_headcount")
    elif dataset == "enrolment":
        if r["students_international"] > r["students_total"]:
            out.add("international_gt_total")
        if r["ects_taught_in_english"] is not None and r["ects_taught_in_english"] > r["ects_total"]:
            out.add("ects_english_gt_total")
        if r["first_year_intake"] > r["students_total"] or r["graduates"] > r["students_total"]:
            out.add("flow_gt_total")
    elif dataset == "accreditation":
        if r["valid_until"] is not None and r["valid_until"] < r["decision_date"]:
            out.add("valid_until_before_decision")
        conditions = r["open_conditions"] or 0
        if conditions < 0 or (conditions > 0 and r["decision"] != "accredited_with_conditions"):
            out.add("open_conditions")
    return out


def _errors_by_file(manifest) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for e in manifest.planted_errors:
        assert e["source_row"] not in out[e["file"]], e
        out[e["file"]][e["source_row"]] = e["kind"]
    return out


def _shas(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# --- determinism ---------------------------------------------------------------------------------

def test_same_seed_gives_identical_bytes_through_the_command(demo, tmp_path: Path) -> None:
    out, manifest = demo
    app = typer.Typer()
    app.command()(demo_command)
    result = CliRunner().invoke(app, ["--out", str(tmp_path / "again"), "--seed", str(SEED)])
    assert result.exit_code == 0, result.output
    assert f"{manifest.file_count} files" in result.output
    assert "synthetic" in result.output
    assert _shas(tmp_path / "again") == _shas(out)
    assert {f["path"]: f["sha256"] for f in manifest.files} == {k: v for k, v in _shas(out).items() if k != MANIFEST}


def test_another_seed_gives_other_files(demo) -> None:
    _, manifest = demo
    sha = {f["path"]: f["sha256"] for f in manifest.files}
    specs = build_files(7)
    plant_errors(specs, 7)
    picked = [s for s in specs if s.dataset in ("mobility", "staffing") and s.year == "2021/22"][:8]
    assert {s.school.style.key for s in picked} >= {"xlsx_title", "utf8_bom", "synonyms"}
    for spec in picked:
        data, _ = render_file(spec)
        assert hashlib.sha256(data).hexdigest() != sha[spec.path], spec.path


# --- registry and layout -------------------------------------------------------------------------

def test_registry_has_the_partners_and_members(demo) -> None:
    out, _ = demo
    with open(out / "schools.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == contract("schools").names
        schools = {r["school_id"]: r for r in reader}
    assert len(schools) >= 20
    expected = {"DE": "D  BERLIN13", "FR": "F  PARIS005", "BE": "B  ANTWERP01", "IT": "I  ROMA01",
                "SE": "S  STOCKHO03", "PL": "PL WARSZAW06", "AU": ""}
    partners = {r["country_code"]: r for r in schools.values() if r["network_role"] == "partner"}
    assert {c: r["erasmus_code"] for c, r in partners.items()} == expected
    assert schools["monash"]["erasmus_code"] == "" and schools["monash"]["network_role"] == "partner"
    assert schools["charite-berlin"]["name"] == "Charité – Universitätsmedizin Berlin"
    members = [r for r in schools.values() if r["network_role"] == "member"]
    assert len(members) >= 13 and len({r["country_code"] for r in members}) >= 13
    assert not {r["country_code"] for r in members} & set(expected)
    assert all(r["erasmus_code"] for r in members)
    assert sum(r["consent_to_be_named"] == "false" for r in schools.values()) >= 3
    assert {r["consent_to_be_named"] for r in schools.values()} == {"true", "false"}
    assert {r["network_role"] for r in schools.values()} <= {"partner", "member", "advisory"}
    assert all(SLUG.match(s) for s in schools)


def test_every_school_year_and_dataset_is_there_except_the_recorded_gaps(demo) -> None:
    out, manifest = demo
    gaps = {(g["dataset"], g["school_id"], g["academic_year"]) for g in manifest.gaps}
    assert 1 <= len(gaps) <= 4
    assert manifest.years == ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24"]
    for school in manifest.schools:
        for year in manifest.years:
            for dataset in DATASETS:
                folder = out / dataset / school["school_id"] / year_slug(year)
                files = list(folder.glob("*")) if folder.exists() else []
                assert len(files) == (0 if (dataset, school["school_id"], year) in gaps else 1), folder
    on_disk = {k for k in _shas(out) if k != MANIFEST}
    assert on_disk == {f["path"] for f in manifest.files} and len(on_disk) == manifest.file_count
    for f in manifest.files[1:]:
        assert f["path"].startswith(f"{f['dataset']}/{f['school_id']}/{year_slug(f['academic_year'])}/")


def test_manifest_says_synthetic_and_counts(demo) -> None:
    out, manifest = demo
    data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert data["synthetic"] is True and data["note"] == "All demo figures are synthetic."
    assert data["seed"] == SEED and len(data["schools"]) == len(manifest.schools)
    assert data["row_counts"]["mobility"] > 10_000 and data["row_counts"]["staffing"] > 500
    assert data["data_rows"] == sum(data["row_counts"][d] for d in DATASETS)
    assert sum(f["bytes"] for f in data["files"]) < 8_000_000


def test_the_malformed_file_is_the_only_one_for_its_key(demo) -> None:
    out, manifest = demo
    (refused,) = manifest.refused_files
    path = out / refused["file"]
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    header = [header_map(refused["dataset"]).get(normalise_header(h)) for h in _csv_cells(path)[0][0]]
    assert "direction" not in header and "start_date" not in header and "end_date" in header
    assert "direction" in refused["reason"] and "start_date" in refused["reason"]
    assert not [e for e in manifest.planted_errors if e["file"] == refused["file"]]


# --- house styles --------------------------------------------------------------------------------

def test_each_house_style_is_present_in_the_bytes(demo) -> None:
    out, manifest = demo
    by_style = defaultdict(list)
    for f in manifest.files[1:]:
        by_style[f["style"]].append(out / f["path"])
    assert set(by_style) == {"cp1252_semicolon", "utf8_bom", "xlsx_title", "synonyms"}

    # 1. Windows-1252, ';', decimal commas, dd.mm.yyyy
    cp = next(p for p in by_style["cp1252_semicolon"] if "sapienza-roma" in str(p) and "mobility" in str(p))
    data = cp.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("cp1252")
    assert re.search(r"[äöüéèàìòùÄÖÜßøå]", text) and text.splitlines()[0].count(";") >= 10
    assert re.search(r";\d{2}\.\d{2}\.\d{4};", text)
    staffing = next(p for p in by_style["cp1252_semicolon"] if "/staffing/" in p.as_posix()).read_bytes()
    assert re.search(rb";\d+,\d;", staffing)  # fte with a decimal comma

    # 2. UTF-8 with BOM, ',' and ISO dates
    bom = next(p for p in by_style["utf8_bom"] if "/mobility/" in p.as_posix()).read_bytes()
    assert bom.startswith(codecs.BOM_UTF8)
    assert bom.decode("utf-8-sig").splitlines()[0].count(",") >= 10 and re.search(rb",\d{4}-\d{2}-\d{2},", bom)

    # 3. XLSX: title in A1 above the header, dates as serial numbers, some totals rows
    xlsx = next(p for p in by_style["xlsx_title"] if "/mobility/charite-berlin/" in p.as_posix())
    assert xlsx.read_bytes()[:4] == b"PK\x03\x04"
    cells = _xlsx_cells(xlsx)
    assert str(cells[0][0]).startswith("Mobility report") and "Charité" in cells[0][0]
    assert all(v is None for v in cells[1])  # an empty row between title and header
    header = [header_map("mobility").get(normalise_header(c)) for c in cells[2]]
    start = cells[3][header.index("start_date")]
    assert isinstance(start, int) and 40_000 < start < 46_000
    labels = Counter()
    for p in by_style["xlsx_title"]:
        if "/staffing/" in p.as_posix() or "/enrolment/" in p.as_posix():
            last = _xlsx_cells(p)[-1]
            for label in {v for v in last if v in ("Total", "Gesamt")}:
                labels[label] += 1
                assert last[0] is None and isinstance(last[3], (int, float))  # no school id, a sum
    assert set(labels) == {"Total", "Gesamt"}

    # 4. synonym headers, value synonyms, years as 2021-2022
    syn = [p for p in by_style["synonyms"] if "/mobility/" in p.as_posix()]
    texts = [p.read_text(encoding="utf-8") for p in syn]
    headers = [t.splitlines()[0].split(",") for t in texts]
    assert all(h != contract("mobility").names for h in headers)
    assert all(sorted(header_map("mobility")[normalise_header(c)] for c in h) == sorted(contract("mobility").names)
               for h in headers)
    assert all(re.search(r",20\d\d-20\d\d,", t) for t in texts)
    assert any("Erasmus+" in t for t in texts)
    joined = "\n".join(texts)
    assert re.search(r",(UK|EL),", joined)


# --- rows: clean ones obey every rule, planted ones break exactly theirs --------------------------

def test_planted_error_share_is_between_one_and_two_percent(demo, tables) -> None:
    _, manifest = demo
    rows = sum(len(t[0]) for t in tables.values())
    assert rows == manifest.data_rows
    assert manifest.planted_error_rows == len(manifest.planted_errors)
    assert 0.01 <= manifest.planted_error_rows / rows <= 0.02
    kinds = Counter(e["kind"] for e in manifest.planted_errors)
    assert set(kinds) >= {"end_before_start", "participants_zero", "unknown_direction", "invalid_country",
                          "ects_recognised_gt_earned", "dates_outside_year", "duplicate_row", "duplicate_key",
                          "fte_gt_headcount", "foreign_gt_headcount", "international_gt_total",
                          "valid_until_before_decision"}
    assert kinds["duplicate_key"] % 2 == 0


def test_manifest_rows_point_at_real_rows(demo, tables) -> None:
    _, manifest = demo
    for e in manifest.planted_errors:
        rows, _totals, raw = tables[e["file"]]
        assert e["source_row"] in rows, e
        row = rows[e["source_row"]]
        assert row["school_id"] == e["school_id"] and row["academic_year"] == e["academic_year"], e
        assert set(e) >= {"dataset", "school_id", "academic_year", "file", "source_row", "column", "kind",
                          "description"}
        if e["kind"] == "duplicate_row":
            assert any(raw[n] == raw[e["source_row"]] for n in raw if n < e["source_row"]), e
        elif e["kind"] in ("unknown_direction", "invalid_country"):
            assert str(row[e["column"]]).lower() in e["description"].lower(), e


def test_clean_rows_obey_every_rule_and_planted_rows_break_theirs(demo, tables) -> None:
    _, manifest = demo
    planted = _errors_by_file(manifest)
    wrong = []
    for path, (rows, _, raw) in tables.items():
        dataset = path.split("/")[0]
        seen: dict[tuple, int] = {}
        distinct_refs: Counter = Counter()
        for n, r in rows.items():
            whole = tuple(raw[n])
            if dataset == "mobility" and whole not in seen:
                seen[whole] = n
                distinct_refs[r["mobility_ref"]] += 1
        for n, r in rows.items():
            found = broken_rules(dataset, r)
            if dataset == "mobility":
                if seen[tuple(raw[n])] != n:
                    found.add("duplicate_row")
                elif distinct_refs[r["mobility_ref"]] > 1:
                    found.add("duplicate_key")
            expected = {planted[path][n]} if n in planted.get(path, {}) else set()
            if found != expected:
                wrong.append((path, n, sorted(found), sorted(expected)))
    assert not wrong, wrong[:10]


def test_cross_dataset_totals_hold(tables) -> None:
    per = defaultdict(Counter)
    for path, (rows, _, _) in tables.items():
        dataset = path.split("/")[0]
        for r in rows.values():
            key = (r["school_id"], r["academic_year"])
            if dataset == "enrolment":
                per[key]["students"] += r["students_total"]
            elif dataset == "staffing":
                per[key]["headcount"] += r["headcount"]
            elif dataset == "mobility" and r["participant_type"] == "student" and r["direction"] == "outgoing":
                per[key]["outgoing_students"] += r["participants"]
            elif dataset == "mobility" and r["participant_type"] == "staff":
                per[key]["staff_mobilities"] += r["participants"]
    for key, c in per.items():
        assert c["outgoing_students"] <= c["students"], key
        if c["headcount"]:
            assert c["staff_mobilities"] <= c["headcount"], key


def test_magnitudes_and_the_pandemic_drop(tables) -> None:
    out_by_year: Counter = Counter()
    out_by_school: Counter = Counter()
    long_cycle: dict[str, int] = {}
    foreign = defaultdict(Counter)
    for path, (rows, _, _) in tables.items():
        dataset = path.split("/")[0]
        for r in rows.values():
            if dataset == "mobility" and r["direction"] == "outgoing":
                out_by_year[r["academic_year"]] += r["participants"]
                if r["participant_type"] == "student" and r["academic_year"] == "2019/20":
                    out_by_school[r["school_id"]] += r["participants"]
            if dataset == "enrolment" and r["programme_level"] == "long_cycle" and r["academic_year"] == "2019/20":
                long_cycle[r["school_id"]] = r["students_total"]
            if dataset == "staffing" and r["foreign_nationality"] <= r["headcount"]:
                foreign[r["school_id"]]["foreign"] += r["foreign_nationality"]
                foreign[r["school_id"]]["all"] += r["headcount"]
    assert out_by_year["2020/21"] < 0.5 * out_by_year["2019/20"]
    assert out_by_year["2023/24"] > out_by_year["2021/22"] > out_by_year["2020/21"]
    assert 3000 <= long_cycle["charite-berlin"] <= 8000 and long_cycle["sapienza-roma"] >= 3000
    assert out_by_school["charite-berlin"] >= 100
    share = {s: c["foreign"] / c["all"] for s, c in foreign.items()}
    assert min(share["karolinska"], share["antwerp"]) > 2 * max(share["warsaw-mu"], share["sapienza-roma"])


def test_accreditation_shows_the_special_cases(tables) -> None:
    rows = [r for path, (t, _, _) in tables.items() if path.startswith("accreditation/") for r in t.values()]
    per_school_year = Counter((r["school_id"], r["academic_year"]) for r in rows)
    assert set(per_school_year.values()) <= {1, 2, 3}
    assert any(not r["agency_wfme_recognised"] for r in rows)
    assert sum(r["agency_wfme_recognised"] for r in rows) > 0.8 * len(rows)
    assert any(r["decision"] == "accredited_with_conditions" and r["open_conditions"] > 0 for r in rows)
    assert any(r["decision"] == "pending" for r in rows)
    expiring = [r for r in rows if r["school_id"] == net.EXPIRING_SCHOOL and r["valid_until"]
                and dt.date(2019, 9, 1) <= r["valid_until"] <= dt.date(2024, 8, 31)]
    assert expiring
    assert {r["agency_name"] for r in rows} >= {"Akkreditierungsrat", "HCERES", "NVAO", "ANVUR", "UKÄ", "PKA",
                                                "AMC"}


def test_mobility_rows_look_like_real_submissions(tables) -> None:
    for path, (rows, _, _) in tables.items():
        if not path.startswith("mobility/"):
            continue
        refs = Counter(r["person_ref"] for r in rows.values() if r["person_ref"])
        for r in rows.values():
            if r["participant_type"] == "student" and r["person_ref"]:
                assert re.fullmatch(r"M-\d{7}", r["person_ref"])
            elif r["person_ref"]:
                assert re.fullmatch(r"S-\d{5}", r["person_ref"])
            if r["person_ref"] is None:
                assert r["participants"] > 1
        # person_ref repeats only in a planted duplicate (the same row twice) or a reused key
        assert sum(v - 1 for v in refs.values()) <= sum(1 for r in rows.values()) // 20

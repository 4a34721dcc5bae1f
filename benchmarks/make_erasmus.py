"""Write a synthetic Erasmus+ KA1 mobility open-data file in its published form, fast.

    python benchmarks/make_erasmus.py --rows 10000000 --out data/erasmus_10m.csv --seed 1

The file has the 24 ``;``-separated columns of the published files, one row per group of identical
participants, and their quirks: missing values written ``-``, ``Undefined`` or ``? Unknown ?``;
country codes ``EL``, ``UK`` and ``XK``; months as ``2019-09``; Erasmus codes with irregular spacing
(``D  BERLIN13``, ``D BERLIN13``, non-breaking spaces, lower case) for the registry schools of
:data:`REGISTRY`; and about 0.01 % corrupt lines (a field too many or too few).

Everything is generated inside DuckDB (``COPY (SELECT … FROM range(N)) TO …``): random choices are
hashes of the row number and the seed, so the same seed gives the same bytes and no Python loop runs
per row (10 M rows, about 3 GB, take well under a minute on two cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

HEADER = ("Project Reference;Academic Year;Mobility Start Month;Mobility End Month;Mobility Duration;Activity (mob);"
          "Field of Education;Participant Nationality;Education Level;Participant Gender;Participant Profile;"
          "Special Needs;Fewer Opportunities;GroupLeader;Participant Age;Sending Country Code;Sending City;"
          "Sending Organization;Sending Organisation Erasmus Code;Receiving Country Code;Receiving City;"
          "Receiving Organization;Receiving Organisation Erasmus Code;Participants")

# Registry schools (school_id, name, ISO country, city, Erasmus code as the registry spells it).
REGISTRY = (
    ("charite-berlin", "Charité – Universitätsmedizin Berlin", "DE", "Berlin", "D  BERLIN13"),
    ("paris-cite", "Université Paris Cité (Paris Descartes)", "FR", "Paris", "F  PARIS005"),
    ("antwerp", "University of Antwerp", "BE", "Antwerp", "B  ANTWERP01"),
    ("sapienza-roma", "Sapienza Università di Roma", "IT", "Rome", "I  ROMA01"),
    ("karolinska", "Karolinska Institutet", "SE", "Stockholm", "S  STOCKHO03"),
    ("warsaw-mu", "Medical University of Warsaw", "PL", "Warsaw", "PL WARSZAW06"),
)

# (country code as published, Erasmus code prefix, cities) — EL and UK as the open data writes them.
COUNTRIES = (
    ("DE", "D", ("BERLIN", "MUNCHEN", "HAMBURG", "KOLN", "HEIDELB", "FRANKFU")),
    ("FR", "F", ("PARIS", "LYON", "MARSEIL", "LILLE", "TOULOUS")),
    ("ES", "E", ("MADRID", "BARCELO", "VALENCI", "SEVILLA", "GRANADA")),
    ("IT", "I", ("ROMA", "MILANO", "BOLOGNA", "NAPOLI", "PADOVA")),
    ("PL", "PL", ("WARSZAW", "KRAKOW", "GDANSK", "WROCLAW", "POZNAN")),
    ("BE", "B", ("ANTWERP", "GENT", "LEUVEN", "BRUXEL", "LIEGE")),
    ("NL", "NL", ("AMSTERD", "UTRECHT", "LEIDEN", "GRONING")),
    ("SE", "S", ("STOCKHO", "UPPSALA", "LUND", "GOTEBOR")),
    ("AT", "A", ("WIEN", "GRAZ", "INNSBRU")),
    ("CZ", "CZ", ("PRAHA", "BRNO", "OLOMOUC")),
    ("HU", "HU", ("BUDAPES", "DEBRECE", "SZEGED")),
    ("PT", "P", ("LISBOA", "PORTO", "COIMBRA")),
    ("EL", "G", ("ATHINE", "THESSAL", "PATRA")),
    ("UK", "UK", ("LONDON", "EDINBUR", "MANCHES", "OXFORD")),
    ("IE", "IRL", ("DUBLIN", "CORK", "GALWAY")),
    ("FI", "SF", ("HELSINK", "TURKU", "TAMPERE")),
    ("DK", "DK", ("KOBENHA", "AARHUS", "ODENSE")),
    ("RO", "RO", ("BUCURES", "CLUJNAP", "IASI")),
    ("TR", "TR", ("ISTANBU", "ANKARA", "IZMIR")),
    ("XK", "", ("PRISHTINA",)),  # Kosovo: a partner country, no Erasmus codes
    ("RS", "", ("BEOGRAD", "NOVISAD")),
    ("US", "", ("BOSTON", "CHICAGO")),
)

# Activity (mob) as published, with a weight (per 100 rows) and the participant profile it implies.
ACTIVITIES = (
    ("Student mobility for studies between Programme Countries", 45, "Learner"),
    ("Student mobility for traineeships between Programme Countries", 22, "Learner"),
    ("Staff mobility for teaching between Programme Countries", 10, "Staff"),
    ("Staff mobility for training between Programme Countries", 9, "Staff"),
    ("Student mobility for studies between Programme and Partner Countries", 6, "Learner"),
    ("Staff mobility for teaching between Programme and Partner Countries", 3, "Staff"),
    ("Staff mobility for training between Programme and Partner Countries", 2, "Staff"),
    ("Accompanying persons", 1, "Staff"),
    ("Student mobility for studies - Short-term doctoral", 2, "Learner"),
)
LEVELS = (
    ("ISCED-6 - First cycle / Bachelor’s or equivalent level (EQF-6)", 40),
    ("ISCED-7 - Second cycle / Master’s or equivalent level (EQF-7)", 45),
    ("ISCED-8 - Third cycle / Doctoral or equivalent level (EQF-8)", 7),
    ("ISCED-5 - Short-cycle within the first cycle / Short-cycle tertiary education (EQF-5)", 3),
    ("? Unknown ?", 5),
)
FIELDS = (
    ("0912 - Medicine", 12), ("0913 - Nursing and midwifery", 4), ("0911 - Dental studies", 2),
    ("0915 - Therapy and rehabilitation", 2), ("0916 - Pharmacy", 2), ("0910 - Health, not further defined", 1),
    ("0413 - Management and administration", 15), ("0288 - Arts and humanities, inter-disciplinary", 4),
    ("0231 - Language acquisition", 10), ("0511 - Biology", 6), ("0613 - Software and applications development", 8),
    ("0715 - Mechanics and metal trades", 8), ("0311 - Economics", 10), ("0421 - Law", 8), ("? Unknown ?", 8),
)
YEARS = tuple(range(2014, 2020))


def _weighted(values: tuple, slots: int = 100) -> list[tuple[int, ...]]:
    """Spread weighted choices over ``slots`` rows of a lookup table, picked by ``hash % slots``."""
    total = sum(v[1] for v in values)
    out: list = []
    for v in values:
        out.extend([v] * max(1, round(v[1] * slots / total)))
    return [(k, *v) for k, v in enumerate(out)]


def _spellings(code: str) -> list[str]:
    """The ways the open data writes one Erasmus code (the registry's own spelling among them)."""
    prefix, rest = code.split()[0], code.split()[-1]
    return [code, f"{prefix} {rest}", f"{prefix}\u00a0\u00a0{rest}", f"{prefix}{rest}", f" {prefix}  {rest.lower()} ",
            f"{prefix}\u00a0{rest}"]


def build_tables(con: duckdb.DuckDBPyConnection, organisations: int) -> None:
    """Small lookup tables the row generator joins to (organisations, activities, levels, fields)."""
    orgs, k = [], 0
    while len(orgs) < organisations:
        for country, prefix, cities in COUNTRIES:
            city = cities[k % len(cities)]
            n = k // len(cities) + 1
            code = f"{prefix:<3}{city}{n:02d}" if prefix else "-"
            name = f"{city.title()} University {n}" if prefix else f"Institution {n} of {city.title()}"
            orgs.append((len(orgs), country, city.title(), name, code))
        k += 1
    registry_codes = {r[4].replace(" ", "") for r in REGISTRY}  # keep clear of the registry's codes
    orgs = [o for o in orgs if o[4].replace(" ", "") not in registry_codes][:organisations]
    orgs = [(i, *o[1:]) for i, o in enumerate(orgs)]
    reg = []
    for _sid, name, iso, city, code in REGISTRY:
        published = {"GR": "EL", "GB": "UK"}.get(iso, iso)
        for spelling in _spellings(code):
            reg.append((len(reg), published, city, name, spelling))
    con.execute("CREATE TABLE org (id INTEGER, country VARCHAR, city VARCHAR, name VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO org VALUES (?, ?, ?, ?, ?)", orgs)
    con.execute("CREATE TABLE reg (id INTEGER, country VARCHAR, city VARCHAR, name VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO reg VALUES (?, ?, ?, ?, ?)", reg)
    con.execute("CREATE TABLE act (k INTEGER, activity VARCHAR, w INTEGER, profile VARCHAR)")
    con.executemany("INSERT INTO act VALUES (?, ?, ?, ?)", _weighted(ACTIVITIES))
    con.execute("CREATE TABLE lvl (k INTEGER, level VARCHAR, w INTEGER)")
    con.executemany("INSERT INTO lvl VALUES (?, ?, ?)", _weighted(LEVELS))
    con.execute("CREATE TABLE fld (k INTEGER, field VARCHAR, w INTEGER)")
    con.executemany("INSERT INTO fld VALUES (?, ?, ?)", _weighted(FIELDS))


ROWS_SQL = """
WITH r0 AS (
    SELECT i, hash(i, $seed) AS h0 FROM range($rows) t(i)
), r AS (  -- independent draws: DuckDB's hash(i, seed, k) has correlated low bits across k, a re-hash has not
    SELECT i, h0, hash(xor(h0, 1::UBIGINT)) AS h1, hash(xor(h0, 2::UBIGINT)) AS h2, hash(xor(h0, 3::UBIGINT)) AS h3,
           hash(xor(h0, 4::UBIGINT)) AS h4, hash(xor(h0, 5::UBIGINT)) AS h5, hash(xor(h0, 6::UBIGINT)) AS h6
    FROM r0
), picked AS (
    SELECT r.*,
           (h1 % $n_org)::INTEGER AS s_org, (h2 % $n_org)::INTEGER AS r_org,
           -- with probability registry_share one side is a registry school (spelt one of several ways)
           CASE WHEN (h3 % 1000000) < $reg_ppm THEN (h4 % $n_reg)::INTEGER END AS reg_id,
           (h3 >> 40) % 2 = 0 AS reg_sends,
           (h5 % 100)::INTEGER AS k_act, ((h5 >> 8) % 100)::INTEGER AS k_lvl, ((h5 >> 16) % 100)::INTEGER AS k_fld,
           2014 + ((h6 % 6)::INTEGER) AS y, ((h6 >> 8) % 10)::INTEGER AS m_off, 1 + ((h6 >> 16) % 10)::INTEGER AS months,
           (h6 >> 24) % 1000 AS p_mix, (h6 >> 34) % 1000000 AS p_bad
    FROM r
), rows AS (
    SELECT p.i, p.h0, p.p_bad, p.p_mix, p.h4,
           printf('%d-1-%s01-KA1%02d-%06d', p.y, coalesce(nullif(so.country, 'XK'), 'DE'), 3 + (p.k_act % 5),
                  (p.h1 >> 20) % 999999) AS project,
           printf('%d-%d', p.y, p.y + 1) AS ayear,
           -- start Sep..Jun of the academic year; end some months later
           make_date(p.y + ((8 + p.m_off) // 12)::INTEGER, ((8 + p.m_off) % 12) + 1, 1) AS start_d,
           a.activity, a.profile, l.level, f.field,
           CASE WHEN p.reg_id IS NOT NULL AND p.reg_sends THEN rg.country ELSE so.country END AS s_country,
           CASE WHEN p.reg_id IS NOT NULL AND p.reg_sends THEN rg.city ELSE so.city END AS s_city,
           CASE WHEN p.reg_id IS NOT NULL AND p.reg_sends THEN rg.name ELSE so.name END AS s_name,
           CASE WHEN p.reg_id IS NOT NULL AND p.reg_sends THEN rg.code ELSE so.code END AS s_code,
           CASE WHEN p.reg_id IS NOT NULL AND NOT p.reg_sends THEN rg.country ELSE ro.country END AS r_country,
           CASE WHEN p.reg_id IS NOT NULL AND NOT p.reg_sends THEN rg.city ELSE ro.city END AS r_city,
           CASE WHEN p.reg_id IS NOT NULL AND NOT p.reg_sends THEN rg.name ELSE ro.name END AS r_name,
           CASE WHEN p.reg_id IS NOT NULL AND NOT p.reg_sends THEN rg.code ELSE ro.code END AS r_code,
           p.months
    FROM picked p
    JOIN org so ON so.id = p.s_org
    JOIN org ro ON ro.id = p.r_org
    JOIN act a ON a.k = p.k_act
    JOIN lvl l ON l.k = p.k_lvl
    JOIN fld f ON f.k = p.k_fld
    LEFT JOIN reg rg ON rg.id = p.reg_id
), lines AS (
    SELECT i, h0, p_bad, concat_ws(';',
        project, ayear, strftime(start_d, '%Y-%m'), strftime(start_d + to_months(months - 1), '%Y-%m'),
        (months * 30 - (p_mix % 7))::VARCHAR,
        activity, field,
        CASE WHEN p_mix < 30 THEN '? Unknown ?' WHEN p_mix < 40 THEN 'UK' WHEN p_mix < 45 THEN 'EL'
             WHEN p_mix < 48 THEN 'XK' ELSE s_country END,
        CASE WHEN profile = 'Staff' THEN '? Unknown ?' ELSE level END,
        CASE WHEN p_mix < 20 THEN 'Undefined' WHEN p_mix % 2 = 0 THEN 'Female' ELSE 'Male' END,
        profile,
        CASE WHEN p_mix % 97 = 0 THEN 'Yes' ELSE 'No' END,
        CASE WHEN p_mix % 5 = 0 THEN '-' WHEN p_mix % 13 = 0 THEN 'Yes' ELSE 'No' END,
        'No',
        CASE WHEN p_mix < 60 THEN '-' WHEN profile = 'Staff' THEN (30 + p_mix % 35)::VARCHAR
             ELSE (19 + p_mix % 9)::VARCHAR END,
        s_country, CASE WHEN p_mix % 50 = 1 THEN '-' ELSE s_city END, s_name, s_code,
        r_country, CASE WHEN p_mix % 50 = 2 THEN '-' ELSE r_city END, r_name, r_code,
        CASE WHEN p_bad < $bad_ppm THEN '0'
             WHEN p_mix < 900 THEN '1' ELSE (2 + p_mix % 4)::VARCHAR END
    ) AS line
    FROM rows
)
SELECT CASE
         -- about corrupt_share of the lines have a field too many or too few
         WHEN hash(xor(h0, 7::UBIGINT)) % 1000000 < $corrupt_ppm THEN
              CASE WHEN i % 2 = 0 THEN line || ';EXTRA' ELSE regexp_replace(line, ';[^;]*$', '') END
         ELSE line END AS "{header}"
FROM lines
"""


def make_erasmus(rows: int, out: Path, seed: int = 1, *, registry_share: float = 0.01,
                 corrupt_share: float = 0.0001, invalid_share: float = 0.00001, organisations: int = 3000) -> Path:
    """Write ``rows`` synthetic data rows (plus the header) to ``out``; returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        build_tables(con, organisations)
        n_org = con.execute("SELECT count(*) FROM org").fetchall()[0][0]
        n_reg = con.execute("SELECT count(*) FROM reg").fetchall()[0][0]
        sql = ROWS_SQL.replace("{header}", HEADER.replace('"', '""'))
        con.execute(f"COPY ({sql}) TO $out (FORMAT csv, HEADER true, DELIMITER '\t', QUOTE '', ESCAPE '')",
                    {"seed": seed, "rows": rows, "n_org": n_org, "n_reg": n_reg, "out": str(out),
                     "reg_ppm": round(registry_share * 1_000_000), "corrupt_ppm": round(corrupt_share * 1_000_000),
                     "bad_ppm": round(invalid_share * 1_000_000)})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True, help="data rows to write")
    ap.add_argument("--out", type=Path, default=None, help="output file (default: erasmus_<rows>.csv)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--registry-share", type=float, default=0.01,
                    help="share of rows with a registry school on one side (default 0.01)")
    ap.add_argument("--corrupt-share", type=float, default=0.0001, help="share of corrupt lines (default 0.0001)")
    args = ap.parse_args(argv)
    out = args.out or Path(f"erasmus_{args.rows}.csv")
    t0 = time.perf_counter()
    make_erasmus(args.rows, out, args.seed, registry_share=args.registry_share, corrupt_share=args.corrupt_share)
    size = out.stat().st_size
    print(f"{out}: {args.rows:,} rows, {size / 1e6:,.0f} MB in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

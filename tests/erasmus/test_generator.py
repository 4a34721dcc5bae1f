"""benchmarks/make_erasmus.py writes the published format with its quirks, and ims erasmus reads it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ims_indicators.erasmus import load_erasmus
from ims_indicators.erasmus.layouts import CURRENT
from ims_indicators.warehouse import connect, rows
from tests.curated import accept_staged

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("make_erasmus", ROOT / "benchmarks" / "make_erasmus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_file_has_the_quirks_and_loads(home: Path, tmp_path: Path) -> None:
    gen = _generator()
    out = gen.make_erasmus(50_000, tmp_path / "ka1.csv", seed=3, registry_share=0.02, corrupt_share=0.001)
    again = gen.make_erasmus(50_000, tmp_path / "ka1_again.csv", seed=3, registry_share=0.02, corrupt_share=0.001)
    assert out.read_bytes() == again.read_bytes()  # deterministic for a seed
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ";".join(CURRENT) and len(lines) == 50_001
    fields = [line.split(";") for line in lines[1:]]
    corrupt = [f for f in fields if len(f) != 24]
    assert 10 <= len(corrupt) <= 120  # about 0.1 % asked for here
    good = [f for f in fields if len(f) == 24]
    text = "\n".join(lines)
    for quirk in ("? Unknown ?", ";-;", "Undefined", ";EL;", ";UK;", ";XK;", "\u00a0"):
        assert quirk in text, quirk
    assert all(len(f[2]) == 7 and f[2][4] == "-" for f in good)  # months as 2019-09

    con = connect()
    try:
        con.executemany("INSERT INTO staging.schools (submission_id, source_row, school_id, name, country_code, city, "
                        "erasmus_code, network_role) VALUES ('t', ?, ?, ?, ?, ?, ?, 'partner')",
                        [[i, *r] for i, r in enumerate(gen.REGISTRY)])
        accept_staged(con, "schools")
        summary = load_erasmus(con, [out])
        t = summary["totals"]
        assert t["rows_corrupt"] == len(corrupt) and t["rows_read"] == len(good)
        assert 0.015 * len(good) < t["rows_registry"] < 0.025 * len(good)
        spellings = rows(con, """SELECT school_id, count(DISTINCT code) AS n FROM (
                                     SELECT school_id, CASE direction WHEN 'outgoing' THEN sending_erasmus_code
                                                       ELSE receiving_erasmus_code END AS code
                                     FROM curated.erasmus_mobility) GROUP BY ALL""")
        assert len(spellings) == len(gen.REGISTRY) and all(s["n"] >= 4 for s in spellings)
    finally:
        con.close()

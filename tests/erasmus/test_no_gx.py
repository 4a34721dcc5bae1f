"""Commands that do not run Great Expectations never import it (~3 s, ~300 MB): `ims submissions`, `ims quarantine`
and `ims erasmus` on a small file (open data is validated by the suite compiled to SQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ims_indicators.warehouse import rows

from .conftest import row, write_open_data

PROBE = """
import sys
from ims_indicators.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    print("GX_IMPORTED=" + str(any(m.split('.')[0] == 'great_expectations' for m in sys.modules)))
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=300)


def test_erasmus_and_listings_do_not_import_great_expectations(registry, tmp_path: Path) -> None:
    f = write_open_data(tmp_path / "ka1.csv", [row(), row(Participants="0"), row(), row()])
    registry.close()  # the subprocess needs the warehouse
    done = _run("erasmus", str(f))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "GX_IMPORTED=False" in done.stdout, done.stdout[-2000:]
    for command in (["submissions"], ["quarantine"]):
        listed = _run(*command)
        assert listed.returncode == 0 and "GX_IMPORTED=False" in listed.stdout, listed.stdout[-2000:]
    from ims_indicators.warehouse import connect

    with connect() as con:  # it did validate: the failing row is held back by the compiled suite
        held = rows(con, "SELECT rule FROM meta.quarantine WHERE stage = 'validate'")
    assert [h["rule"] for h in held] == ["expect_column_values_to_be_between"]

"""Issue 17 acceptance: no traceback reaches the user from any `ims` command, on any input.

Every command listed by `ims --help` runs on a warehouse-free tree and on a corrupt warehouse file; the commands
that take files (`ims ingest`, `ims erasmus`, `ims score --input`) run on each hostile fixture. Each must exit 0
or 1 with a message. `ims run` and `ims serve` need Prefect: only their refusal paths run here (a Prefect server
that does not answer, a schedule that is not a cron expression), which refuse before any server starts.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipelines.cli import app  # the installed `ims`: the library's commands plus run and serve
from tests.hostile import fixtures as fx

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def commands(home: Path) -> dict[str, list[str]]:
    """Arguments for each command: the plain call, or the refusal path for those that start Prefect."""
    return {
        "ingest": ["ingest", str(home / "data" / "raw")],
        "submissions": ["submissions"],
        "quarantine": ["quarantine"],
        "rebuild": ["rebuild"],
        "demo-data": ["demo-data", "--out", str(home / "demo")],
        "indicators": ["indicators"],
        "benchmark": ["benchmark"],
        "score": ["score", "--draws", "0"],
        "run": ["run"],  # PREFECT_API_URL points at a port nobody listens on: refused before a server starts
        "serve": ["serve", "--cron", "every day"],
        "report": ["report"],
        "validate": ["validate"],
        "erasmus": ["erasmus", str(home / "data" / "raw")],
        "survey-template": ["survey-template", "--out", str(home / "templates")],
        "template": ["template", "mobility", "--out", str(home / "templates" / "mobility.xlsx")],
        "token": ["token", "list"],
        "cycle": ["cycle", "status"],
        "portal": ["portal", "--port", "70000"],  # refused before a server starts
    }


def test_every_command_is_covered() -> None:
    listed = set(typer.main.get_command(app).commands)
    assert listed == set(commands(Path("/x")))


def run_cli(args: list[str]):
    result = runner.invoke(app, args)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "Traceback" not in text, text[-3000:]
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 1), (args, result.exit_code, text[-2000:])
    if result.exit_code == 1:
        assert text.strip(), f"{args}: exit 1 without a message"
    return result, text


@pytest.fixture
def prefect_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{_free_port()}/api")


@pytest.mark.parametrize("name", sorted(commands(Path("/x"))))
def test_each_command_on_a_warehouse_free_tree(home: Path, prefect_down, name: str) -> None:
    run_cli(commands(home)[name])


@pytest.mark.parametrize("name", sorted(commands(Path("/x"))))
def test_each_command_on_a_corrupt_warehouse(home: Path, prefect_down, name: str) -> None:
    warehouse = home / "data" / "warehouse.duckdb"
    warehouse.write_bytes(b"this is not a DuckDB file\n" * 4096)
    result, text = run_cli(commands(home)[name])
    if name not in ("demo-data", "survey-template", "serve", "run", "erasmus", "ingest", "rebuild",
                    "template", "token", "portal"):  # these never open the warehouse
        assert result.exit_code == 1 and "warehouse" in text.lower(), text[-2000:]


HOSTILE = {
    "sparse.xlsx": lambda d: fx.sparse_xlsx(d / "sparse.xlsx"),
    "lying.xlsx": lambda d: fx.lying_dimension_xlsx(d / "lying.xlsx"),
    "refless.xlsx": lambda d: fx.refless_wide_xlsx(d / "refless.xlsx"),
    "wide.csv": lambda d: fx.wide_csv(d / "wide.csv"),
    "decimal-comma.csv": lambda d: fx.decimal_comma_in_comma_csv(d / "decimal-comma.csv", every_row=True),
    "thousands.csv": lambda d: fx.thousands_csv(d / "thousands.csv"),
    "ambiguous.csv": lambda d: fx.ambiguous_csv(d / "ambiguous.csv"),
    "double-encoded.csv": lambda d: fx.double_encoded_csv(d / "double-encoded.csv"),
    "fifo.csv": lambda d: fx.fifo(d / "fifo.csv"),
    "symlink.csv": lambda d: fx.symlink(d / "symlink.csv", Path("/etc/passwd")),
}


@pytest.mark.parametrize("fixture", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["ingest", "erasmus", "score"])
def test_file_commands_on_each_hostile_fixture(home: Path, fixture: str, command: str) -> None:
    folder = home / "incoming"
    folder.mkdir()
    path = HOSTILE[fixture](folder)
    args = {"ingest": ["ingest", str(path), "--dataset", "enrolment", "--school", "charite-berlin",
                       "--year", "2023/24"],
            "erasmus": ["erasmus", str(path)],
            "score": ["score", "--input", str(path), "--draws", "0"]}[command]
    run_cli(args)
    assert not (home / "data" / "rejected" / "passwd").exists()
    rejected = home / "data" / "rejected"
    if fixture in ("fifo.csv", "symlink.csv") and rejected.exists():
        assert not any(fixture in p.name for p in rejected.iterdir())  # never copied


def test_ims_ingest_of_every_hostile_fixture_in_one_folder(home: Path) -> None:
    """The real console entry point in its own process: a native abort (calamine) would show as exit 134."""
    folder = home / "data" / "raw" / "enrolment" / "charite-berlin" / "2023-24"
    folder.mkdir(parents=True)
    for make in HOSTILE.values():
        make(folder)
    done = subprocess.run([sys.executable, "-m", "ims_indicators.cli", "ingest", str(home / "data" / "raw")],
                          check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert done.stderr.count("refused:") >= 7

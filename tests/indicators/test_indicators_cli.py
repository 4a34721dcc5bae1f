"""`ims indicators` / `ims benchmark`: data on stdout (JSON with --json), messages on stderr, exit 1 on errors."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from ims_indicators import settings
from ims_indicators.indicators.cli import benchmark_command, indicators_command

app = typer.Typer(pretty_exceptions_enable=False)
app.command("indicators")(indicators_command)
app.command("benchmark")(benchmark_command)
runner = CliRunner()


@pytest.fixture
def wh(home, network_file):
    """A fresh IMS_HOME (catalogue and peer sets from the repo) and the fixture network's warehouse."""
    return home


def test_indicators_json(wh):
    r = runner.invoke(app, ["indicators", "--json", "--school", "alpha", "--year", "2023-24"])
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    by_id = {x["indicator_id"]: x for x in rows}
    assert by_id["mob_outgoing_per_100_graduates"]["value"] == 7.5  # 15 credit-mobile students per 200 graduates
    assert {x["school_id"] for x in rows} == {"alpha"}
    assert "values written to marts.indicator_values" in r.stderr


def test_indicators_table(wh):
    r = runner.invoke(app, ["indicators", "--school", "beta"])
    assert r.exit_code == 0, r.stderr
    assert "mob_incoming_per_100_students" in r.stdout and "base too small" in r.stdout


def test_summary_without_filters(wh):
    r = runner.invoke(app, ["indicators"])
    assert r.exit_code == 0, r.stderr
    assert "indicators (all schools and years)" in r.stdout and "staff_trained_share" in r.stdout
    assert "per indicator below" in r.stderr


def test_explain(wh):
    assert runner.invoke(app, ["indicators"]).exit_code == 0
    r = runner.invoke(app, ["indicators", "--explain", "alpha", "2023/24", "staff_international_share"])
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "value: 0.14" in out
    assert "numerator foreign_staff = 14" in out and "denominator staff_headcount = 100" in out
    assert "rows behind: 2 source rows, 2 curated rows" in out
    assert "SELECT" in out and "curated.staffing" in out
    j = json.loads(runner.invoke(app, ["indicators", "--explain", "alpha", "2023/24", "mob_balance",
                                       "--json"]).stdout)
    assert (j["value"], j["numerator"]["value"], j["denominator"]["value"]) == (0.75, 15.0, 20.0)


@pytest.mark.parametrize("args, message", [
    (["alpha", "2023/24", "nope"], "unknown indicator 'nope'"),
    (["nobody", "2023/24", "mob_balance"], "unknown school 'nobody'"),
])
def test_explain_errors_exit_1_without_traceback(wh, args, message):
    assert runner.invoke(app, ["indicators"]).exit_code == 0
    r = runner.invoke(app, ["indicators", "--explain", *args])
    assert r.exit_code == 1
    assert message in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert r.stdout == ""


def test_explain_before_any_computation(wh):
    r = runner.invoke(app, ["indicators", "--explain", "alpha", "2023/24", "mob_balance"])
    assert r.exit_code == 1 and "run `ims indicators` first" in r.stderr


def test_invalid_catalogue_exits_1(wh, tmp_path, monkeypatch):
    bad = tmp_path / "bad.yaml"
    text = settings.catalogue_path().read_text(encoding="utf-8").replace("    direction: lower\n", "", 1)
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setenv("IMS_CATALOGUE", str(bad))
    r = runner.invoke(app, ["indicators"])
    assert r.exit_code == 1
    assert "indicator qa_open_conditions: direction: missing (required)" in r.stderr
    assert "Traceback" not in r.stderr


def test_benchmark(wh):
    r = runner.invoke(app, ["benchmark"])
    assert r.exit_code == 1 and "run `ims indicators` first" in r.stderr
    assert runner.invoke(app, ["indicators"]).exit_code == 0
    r = runner.invoke(app, ["benchmark", "--json", "--peer-set", "country", "--school", "alpha"])
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {x["peer_set"] for x in rows} == {"country:DE"}
    assert "peer set ims2020: not in the registry, ignored" in r.stderr
    r = runner.invoke(app, ["benchmark", "--peer-set", "planet"])
    assert r.exit_code == 1 and "--peer-set planet: no such peer set" in r.stderr

"""Golden test: COINr's ASEM example chain (models/coinr_asem.yaml) reproduces COINr's published index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ims_indicators.score.cli import score_command
from ims_indicators.score.engine import score_table
from ims_indicators.score.model import load_model
from ims_indicators.score.steps import kurt, skew

from .conftest import ASEM, MODELS

AGGREGATES = ["Index", "Conn", "Sust", "Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social",
              "SusEcFin"]


@pytest.fixture(scope="module")
def result():
    model = load_model(MODELS / "coinr_asem.yaml")
    return score_table(model, pd.read_csv(ASEM / "raw_indicators.csv"))


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(ASEM / "expected_index.csv").set_index("uCode")


def test_every_aggregate_within_0_005(result, expected):
    got = result.table.set_index("uCode").loc[expected.index]
    assert len(got) == 51
    for col in AGGREGATES:
        diff = np.abs(got[col].to_numpy() - expected[col].to_numpy())
        assert diff.max() < 0.005, f"{col}: max difference {diff.max()}"


def test_ranks_exact(result, expected):
    got = result.table.set_index("uCode").loc[expected.index, "rank"].astype(int)
    assert (got.to_numpy() == expected["Rank"].to_numpy()).all()


def test_nothing_screened_out_and_imputation_after_denomination(result):
    assert result.prepared.kept.all()
    imputed = result.table.set_index("uCode")["imputed"]
    assert "Elec" in imputed["LAO"] and "Gas" in imputed["LAO"]  # LAO has no Energy denominator
    assert not np.isnan(result.prepared.x).any()


def test_treatment_matches_coinr(result):
    exp = pd.read_csv(ASEM / "expected_treatment.csv").set_index("iCode")
    got = result.treatment.set_index("indicator").loc[exp.index]
    assert (got["treatment"].to_numpy() == exp["treatment"].to_numpy()).all()
    assert (got["nwin"].to_numpy() == exp["nwin"].fillna(0).to_numpy()).all()
    assert (got["treated_points"].to_numpy() == exp["treated_points"].fillna("").to_numpy()).all()
    np.testing.assert_allclose(got["skew0"], exp["skew0"], rtol=1e-9)
    np.testing.assert_allclose(got["kurt0"], exp["kurt0"], rtol=1e-9)
    treated = exp["treatment"] == "winsorise"
    np.testing.assert_allclose(got.loc[treated, "skew1"], exp.loc[treated, "skew1"], rtol=1e-9)
    np.testing.assert_allclose(got.loc[treated, "kurt1"], exp.loc[treated, "kurt1"], rtol=1e-9)


def test_e1071_type2_moments_match_scipy_unbiased():
    from scipy import stats

    x = np.array([1.0, 2.0, 2.5, 4.0, 9.0, 30.0, np.nan])
    assert skew(x) == pytest.approx(stats.skew(x[:-1], bias=False))
    assert kurt(x) == pytest.approx(stats.kurtosis(x[:-1], bias=False))


def test_cli_writes_the_same_index(tmp_path, expected):
    app = typer.Typer()
    app.command("score")(score_command)
    app.command("other")(lambda: None)
    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["score", "--model", str(MODELS / "coinr_asem.yaml"),
                                   "--input", str(ASEM / "raw_indicators.csv"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index("uCode").loc[expected.index]
    assert np.abs(got["Index"] - expected["Index"]).max() < 0.005
    assert (got["rank"].to_numpy() == expected["Rank"].to_numpy()).all()
    assert (got["model_name"] == "coinr_asem").all() and got["data_snapshot"].str.startswith("file:").all()


TOLERANCE = {"dp2": 0.005, "dp5": 5e-6, "dp7": 5e-8}


def test_every_published_figure(result):
    """All 367 figures COINr's documentation prints: scores, normalised values, ranks and group ranks."""
    figs = pd.read_csv(ASEM / "published_figures.csv", keep_default_na=False)
    scores = result.scores
    groups = result.table.set_index("uCode")["GDPpc_group"]
    assert len(figs) == 367
    for f in figs.itertuples():
        value = float(f.value)
        if f.quantity == "score":
            got = scores.loc[f.uCode, f.iCode]
            tol = TOLERANCE.get(f.rounding) or 0.5 * 10 ** (np.floor(np.log10(abs(value))) - 2)  # sig3
            assert abs(got - value) <= tol + 1e-9, f"{f.table}: {f.uCode} {f.iCode} {got} vs {value}"
        else:
            col = scores[f.iCode]
            if f.quantity == "group_rank":
                col = col[groups.loc[col.index] == f.group]
            got = col.rank(method="min", ascending=False)[f.uCode]
            assert got == value, f"{f.table}: {f.uCode} {f.iCode} rank {got} vs {value}"

"""Robustness of the label: a Monte Carlo over the model's assumptions, and variance-based sensitivity.

Every uncertain assumption is a *factor* driven by uniform numbers in [0, 1):

- ``weights``: one column per non-root node; ``uniform`` multiplies each weight by U(1-s, 1+s),
  ``dirichlet`` redraws each sibling group's shares from Dirichlet(concentration x nominal share)
  (inverse-CDF of gamma variates, so it is driven by the same uniforms);
- ``targets``: one column per indicator with a target; the target moves within +-s of (target - worst);
- ``normalise`` / ``aggregate`` / ``impute``: one column each, choosing among the listed methods.

Draws are evaluated vectorised: draws are grouped by their discrete choices (imputation, normalisation,
aggregation), and within a group the weights and targets of all draws go through one
``draws x units x indicators`` computation (in chunks, to bound memory).

Sensitivity: Saltelli's design (``SALib.sample.sobol``, one group per factor) and the Saltelli 2010
first-order / Jansen total-order estimators of ``SALib.analyze.sobol``, applied to every unit at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaincinv
from scipy.stats import rankdata

from ims_indicators.score import engine
from ims_indicators.score.model import DECISIONS, ScoringModel

CHUNK = 2048  # draws per vectorised block


@dataclass(frozen=True)
class Factor:
    name: str
    columns: int
    options: tuple[str, ...] = ()  # discrete factors only


def factors(model: ScoringModel) -> list[Factor]:
    """The uncertain assumptions the model's ``robustness`` section switches on (discrete ones need 2+ options)."""
    rob = model.robustness
    tree = model.tree
    out = []
    if rob.weights is not None:
        out.append(Factor("weights", len(tree.nodes) - 1))
    if rob.targets is not None:
        n_t = sum(model.indicators[i].target is not None for i in tree.indicators)
        if n_t:
            out.append(Factor("targets", n_t))
    for name in ("impute", "normalise", "aggregate"):
        opts = tuple(dict.fromkeys(getattr(rob, name)))
        if len(opts) > 1:
            out.append(Factor(name, 1, opts))
    return out


class Evaluator:
    """Maps a matrix of uniforms (one row per draw) to overall scores and decision codes of every unit."""

    def __init__(self, model: ScoringModel, table: engine.InputTable):
        self.model, self.table = model, table
        self.tree = model.tree
        self.factors = factors(model)
        self.params = engine.normalise_params(model)
        imputes = next((f.options for f in self.factors if f.name == "impute"), (model.impute.method,))
        self.prepared = {m: engine.prepare(model, table, m) for m in imputes}
        self.root = self.tree.nodes.index(self.tree.root)
        self.perturbed = [k for k, n in enumerate(self.tree.nodes) if n != self.tree.root]
        self.with_target = np.flatnonzero(~np.isnan(self.params.target))
        self.gates_static = not any(n in model.aggregates for e in model.gate_exprs.values() for n in e.names())
        self._static_gates = engine.gate_results(model, dict(table.gate_raw)) if self.gates_static else None

    @property
    def n_columns(self) -> int:
        return sum(f.columns for f in self.factors)

    def column_groups(self) -> list[str]:
        return [f.name for f in self.factors for _ in range(f.columns)]

    def _split(self, u: np.ndarray) -> dict[str, np.ndarray]:
        out, c = {}, 0
        for f in self.factors:
            out[f.name] = u[:, c:c + f.columns]
            c += f.columns
        return out

    def _weights(self, u: np.ndarray) -> np.ndarray:
        spec = self.model.robustness.weights
        w0 = self.tree.weights
        w = np.broadcast_to(w0, (len(u), len(w0))).copy()
        if spec.method == "uniform":
            w[:, self.perturbed] = w0[self.perturbed] * (1 + spec.spread * (2 * u - 1))
            return w
        parent = {n: (self.model.indicators[n].parent if n in self.model.indicators else self.model.aggregates[n].parent)
                  for n in self.tree.nodes}
        uu = np.clip(u, 1e-12, 1 - 1e-12)
        col = {k: j for j, k in enumerate(self.perturbed)}
        for par in {parent[self.tree.nodes[k]] for k in self.perturbed}:
            sib = [k for k in self.perturbed if parent[self.tree.nodes[k]] == par and w0[k] > 0]
            if len(sib) < 2:
                continue
            total = w0[sib].sum()
            alpha = spec.concentration * w0[sib] / total
            g = gammaincinv(alpha[None, :], uu[:, [col[k] for k in sib]])
            s = g.sum(axis=1, keepdims=True)
            w[:, sib] = np.where(s > 0, g / np.where(s > 0, s, 1) * total, w0[sib])
        return w

    def _targets(self, u: np.ndarray) -> np.ndarray:
        spec = self.model.robustness.targets
        p = self.params
        t = np.broadcast_to(p.target, (len(u), len(p.target))).copy()
        j = self.with_target
        t[:, j] = p.worst[j] + (p.target[j] - p.worst[j]) * (1 + spec.spread * (2 * u - 1))
        return t

    def evaluate(self, u: np.ndarray, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray | None]:
        """Overall score ``(draws, units)`` and decision codes ``(draws, units)`` (None without decision rules)."""
        model, tree = self.model, self.tree
        n, n_units = len(u), len(self.table.ids)
        parts = self._split(u)
        weights = self._weights(parts["weights"]) if "weights" in parts else None
        targets = self._targets(parts["targets"]) if "targets" in parts else None
        choice = {}
        for f in self.factors:
            if f.options:
                choice[f.name] = np.minimum((parts[f.name][:, 0] * len(f.options)).astype(int), len(f.options) - 1)
        nominal = {"impute": model.impute.method, "normalise": model.normalise.method, "aggregate": None}
        opts = {name: next((f.options for f in self.factors if f.name == name), (nominal[name],))
                for name in nominal}
        keys = np.stack([choice.get(name, np.zeros(n, dtype=int)) for name in nominal], axis=1)
        overall = np.full((n, n_units), np.nan)
        codes = np.zeros((n, n_units), dtype=np.int8) if model.decision is not None else None
        combos, inverse = np.unique(keys, axis=0, return_inverse=True)
        for ci, combo in enumerate(combos):
            imp, norm, agg = (opts[name][k] for name, k in zip(nominal, combo))
            prep = self.prepared[imp]
            methods = engine.level_methods(model, agg)
            rows_all = np.flatnonzero(inverse.ravel() == ci)
            for start in range(0, len(rows_all), chunk):
                rows = rows_all[start:start + chunk]
                w = weights[rows] if weights is not None else np.broadcast_to(tree.weights, (len(rows), len(tree.weights)))
                t = targets[rows][:, None, :] if targets is not None and norm == "distance_to_target" else None
                s = engine.node_scores(model, prep.x, norm, methods, w, t, self.params)
                overall[np.ix_(rows, np.flatnonzero(prep.kept))] = s[..., self.root]
                if codes is not None:
                    full = np.full((len(rows), n_units, len(tree.nodes)), np.nan)
                    full[:, prep.kept] = s
                    gates = self._static_gates if self.gates_static else engine.gate_results(
                        model, engine.gate_env(model, self.table, full))
                    codes[rows] = engine.decision_codes(model, full, gates)
        return overall, codes


def ranks(overall: np.ndarray) -> np.ndarray:
    """Rank per draw (1 = best, ties share the best rank as R's ``ties.method = "min"``); NaN if unscored."""
    r = rankdata(np.where(np.isnan(overall), np.inf, -overall), method="min", axis=-1).astype(float)
    r[np.isnan(overall)] = np.nan
    return r


@dataclass
class MonteCarlo:
    draws: int
    overall: np.ndarray  # (draws, units)
    codes: np.ndarray | None  # (draws, units)
    ranks: np.ndarray  # (draws, units)


def monte_carlo(model: ScoringModel, table: engine.InputTable, draws: int | None = None,
                seed: int | None = None, evaluator: Evaluator | None = None) -> MonteCarlo:
    """Draw every factor uniformly at random ``draws`` times and score each draw."""
    ev = evaluator or Evaluator(model, table)
    n = model.robustness.draws if draws is None else draws
    rng = np.random.default_rng(model.robustness.seed if seed is None else seed)
    u = rng.random((n, ev.n_columns))
    overall, codes = ev.evaluate(u)
    return MonteCarlo(draws=n, overall=overall, codes=codes, ranks=ranks(overall))


def sensitivity(model: ScoringModel, table: engine.InputTable, n: int | None = None, seed: int | None = None,
                evaluator: Evaluator | None = None) -> pd.DataFrame:
    """First-order and total Sobol' indices per unit, factor and output (``decision`` code and ``overall``)."""
    from SALib.analyze.sobol import first_order, total_order
    from SALib.sample import sobol as sobol_sample

    ev = evaluator or Evaluator(model, table)
    names = [f.name for f in ev.factors]
    if not names:
        return pd.DataFrame(columns=["unit", "output", "factor", "first_order", "total_order"])
    base = int(2 ** np.ceil(np.log2(n or model.robustness.sensitivity.n)))
    groups = ev.column_groups()
    problem = {"num_vars": len(groups), "names": [f"{g}_{k}" for k, g in enumerate(groups)],
               "bounds": [[0.0, 1.0]] * len(groups), "groups": groups}
    u = sobol_sample.sample(problem, base, calc_second_order=False,
                            seed=model.robustness.seed if seed is None else seed)
    overall, codes = ev.evaluate(np.clip(u, 0.0, 1.0 - 1e-12))
    outputs = {"overall": overall}
    if codes is not None:
        outputs["decision"] = codes.astype(float)
    g = len(names)  # SALib orders groups by first appearance, as ev.factors
    rows = []
    ids = table.ids
    for out_name, y in outputs.items():
        y = y.reshape(base, g + 2, -1)
        a, b = y[:, 0], y[:, -1]
        ok = ~np.isnan(a).any(axis=0) & (np.ptp(np.r_[a, b], axis=0) > 1e-12)
        for k, factor in enumerate(names):
            s1 = np.full(len(ids), np.nan)
            st = np.full(len(ids), np.nan)
            if ok.any():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    s1[ok] = first_order(a[:, ok], y[:, 1 + k][:, ok], b[:, ok])
                    st[ok] = total_order(a[:, ok], y[:, 1 + k][:, ok], b[:, ok])
            const = ~ok & ~np.isnan(a).any(axis=0)
            s1[const], st[const] = 0.0, 0.0  # the output never moves: no factor drives it
            rows.append(pd.DataFrame({"unit": ids, "output": out_name, "factor": factor,
                                      "first_order": s1, "total_order": st}))
    return pd.concat(rows, ignore_index=True)


def robustness_table(model: ScoringModel, nominal: pd.DataFrame, mc: MonteCarlo,
                     sens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit: probability of each decision, median rank and its 5-95 % interval, score interval, main driver."""
    id_col = model.columns.id
    out = pd.DataFrame({id_col: nominal[id_col].to_numpy()})
    if mc.codes is not None:
        for k, name in enumerate(DECISIONS[::-1]):
            out[f"p_{name}"] = (mc.codes == (2 - k)).mean(axis=0)
        out["nominal_decision"] = nominal["decision"].to_numpy()
    out["nominal_rank"] = nominal["rank"].to_numpy()
    scored = ~np.isnan(mc.ranks).all(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for col, data, q, method in (("rank_median", mc.ranks, 50, "inverted_cdf"), ("rank_p05", mc.ranks, 5, "inverted_cdf"),
                                     ("rank_p95", mc.ranks, 95, "inverted_cdf"), ("overall_median", mc.overall, 50, "linear"),
                                     ("overall_p05", mc.overall, 5, "linear"), ("overall_p95", mc.overall, 95, "linear")):
            vals = np.full(data.shape[1], np.nan)
            if scored.any():
                vals[scored] = np.nanpercentile(data[:, scored], q, axis=0, method=method)
            out[col] = vals
    out["main_driver"] = None
    out["main_driver_total_order"] = np.nan
    if sens is not None and len(sens):
        output = "decision" if mc.codes is not None else "overall"
        s = sens[sens.output == output].dropna(subset=["total_order"])
        s = s[s.total_order > 0]
        if len(s):
            top = s.loc[s.groupby("unit")["total_order"].idxmax()].set_index("unit")
            ids = out[id_col].astype(str)
            out["main_driver"] = ids.map(top["factor"]).astype(object).where(ids.isin(top.index), None).to_numpy()
            out["main_driver_total_order"] = ids.map(top["total_order"]).to_numpy(dtype=float)
    out["draws"] = mc.draws
    for col in ("model_name", "model_version", "model_sha256", "data_snapshot"):
        out[col] = nominal[col].to_numpy()
    return out

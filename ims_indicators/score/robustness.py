"""Robustness of the label: a Monte Carlo over the model's assumptions, and variance-based sensitivity.

Every uncertain assumption is a *factor* driven by uniform numbers in [0, 1):

- ``weights``: one column per non-root node; ``uniform`` multiplies each weight by U(1-s, 1+s),
  ``dirichlet`` redraws each sibling group's shares from Dirichlet(concentration x nominal share)
  (inverse-CDF of gamma variates, so it is driven by the same uniforms);
- ``targets``: one column per indicator with a target; the target moves within +-s of (target - worst)
  (and, with ``worst: true``, one more column per indicator moving the worst value likewise);
- ``thresholds``: one column; every decision threshold moves by the same +-spread points;
- ``leave_one_out``: one column choosing "none" or one indicator of a dimension that has two or more;
- ``data_error``: one column per unit and indicator with an ``error`` kind (unit-major, a fixed layout);
  the uniform goes through the normal quantile ``z`` (the Monte Carlo draws ``z`` directly as a standard
  normal, the same distribution) and a value with a base becomes (:func:`perturb`)
  share ``clip(v + z sqrt(a b / ((a + b)^2 (a + b + 1))), 0, 1)`` with the Jeffreys Beta(a = k + 1/2,
  b = n - k + 1/2) of k = v n successes in n, count ``v (k + z sqrt(k + 1/2)) / k`` (Poisson, k the
  count behind the rate, never below 0), mean ``v + z sd / sqrt(n)``; imputed or base-less values are exact;
- ``normalise`` / ``aggregate`` / ``impute``: one column each, choosing among the listed methods.

Draws are evaluated vectorised, ``chunk`` draws at a time (memory is bounded by the chunk): a chunk's
uniforms and data-error normals are drawn at once (from two fixed streams of the seed, so the result does
not depend on the chunk); every data-error value of the chunk is moved as one ``draws x units x
indicators`` array (``clip(x + z spread, lo, hi)``, :func:`error_scale`); draws are grouped by their
discrete choices (imputation, normalisation, aggregation), and each group is normalised with its draws'
targets and worst values and aggregated as one batched matrix product (weights folded into the membership
matrix, the geometric mean as a weighted sum of logs; the left-out indicator has weight 0).

Sensitivity: Saltelli's design (``SALib.sample.sobol``, one group per factor) and the Saltelli 2010
first-order / Jansen total-order estimators of ``SALib.analyze.sobol``, applied to every unit at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaincinv, ndtri

from ims_indicators.score import engine
from ims_indicators.score.model import ProbabilityRule, ScoringModel

CHUNK = 1024  # draws per vectorised block (memory ~ chunk x units x indicators x 8 bytes x a few)


@dataclass(frozen=True)
class Factor:
    name: str
    columns: int
    options: tuple[str, ...] = ()  # discrete factors only


def loo_candidates(model: ScoringModel) -> np.ndarray:
    """Indices of indicators that may be left out: those with at least one scored sibling."""
    inds = model.tree.indicators
    par = [model.indicators[i].parent for i in inds]
    return np.array([k for k, p in enumerate(par) if par.count(p) > 1], dtype=int)


def error_cells(model: ScoringModel, table: engine.InputTable) -> np.ndarray:
    """Mask ``(u, i)`` of values with a sampling distribution: an error kind, a base and a value."""
    kinds = np.array([model.indicators[i].error != "none" for i in model.tree.indicators], dtype=bool)
    if table.bases is None or not kinds.any():
        return np.zeros(table.raw.shape, dtype=bool)
    return kinds[None, :] & ~np.isnan(table.bases) & ~np.isnan(table.raw) & (table.bases > 0)


def error_scale(kind: str, value: np.ndarray, base: np.ndarray,
                sd: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread per unit of ``z`` and the bounds of a value's sampling distribution: a draw at standard-normal
    quantile ``z`` is ``clip(value + z spread, lo, hi)`` (:func:`perturb`; see the module doc)."""
    value, base = np.broadcast_arrays(np.asarray(value, dtype=float), np.asarray(base, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "share":
            a = value * base + 0.5
            b = base - value * base + 0.5
            return np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))), np.zeros(value.shape), np.ones(value.shape)
        if kind == "count":  # v (k + z sqrt(k + 1/2)) / k, the count never below 0
            k = np.maximum(base, 0.0)
            spread = np.where(k > 0, value * np.sqrt(k + 0.5) / np.where(k > 0, k, 1), 0.0)
            up = value >= 0
            return spread, np.where(up, 0.0, -np.inf), np.where(up, np.inf, 0.0)
        if kind == "mean":
            return (sd or 0.0) / np.sqrt(base), np.full(value.shape, -np.inf), np.full(value.shape, np.inf)
    raise ValueError(f"unknown error kind {kind!r}")


def perturb(kind: str, value: np.ndarray, base: np.ndarray, z: np.ndarray, sd: float | None = None) -> np.ndarray:
    """A value drawn from its sampling distribution at standard-normal quantile ``z`` (see module doc)."""
    spread, lo, hi = error_scale(kind, value, base, sd)
    return np.clip(value + z * spread, lo, hi)


def factors(model: ScoringModel, n_error_cells: int = 0) -> list[Factor]:
    """The uncertain assumptions the model's ``robustness`` section switches on (discrete ones need 2+ options)."""
    rob = model.robustness
    tree = model.tree
    out = []
    if rob.weights is not None:
        out.append(Factor("weights", len(tree.nodes) - 1))
    if rob.targets is not None:
        n_t = sum(model.indicators[i].target is not None for i in tree.indicators)
        if n_t:
            out.append(Factor("targets", n_t * (2 if rob.targets.worst else 1)))
    if rob.thresholds is not None and model.decision is not None:
        out.append(Factor("thresholds", 1))
    if rob.leave_one_out and len(loo_candidates(model)):
        out.append(Factor("leave_one_out", 1))
    if rob.data_error and n_error_cells:
        out.append(Factor("data_error", n_error_cells))
    for name in ("impute", "normalise", "aggregate"):
        opts = tuple(dict.fromkeys(getattr(rob, name)))
        if len(opts) > 1:
            out.append(Factor(name, 1, opts))
    return out


@dataclass
class MonteCarlo:
    draws: int
    overall: np.ndarray  # (draws, units)
    codes: np.ndarray | None  # (draws, units)
    dimensions: np.ndarray | None = None  # (draws, units, dims)


class Evaluator:
    """Maps a matrix of uniforms (one row per draw) to overall scores and decision codes of every unit."""

    def __init__(self, model: ScoringModel, table: engine.InputTable):
        self.model, self.table = model, table
        self.tree = model.tree
        imputes = tuple(dict.fromkeys(model.robustness.impute)) if len(set(model.robustness.impute)) > 1 \
            else (model.impute.method,)
        self.prepared = {m: engine.prepare(model, table, m) for m in imputes}
        nominal = self.prepared[imputes[0]]
        # One data-error column per unit and indicator with an error kind (a fixed layout, so a draw's
        # numbers do not depend on which values were sent); only values as sent, of kept units, move.
        kinds = np.array([model.indicators[i].error != "none" for i in self.tree.indicators], dtype=bool)
        self.err_ind = np.flatnonzero(kinds)  # indicator columns with an error kind
        moving = error_cells(model, table) & nominal.kept[:, None] & ~nominal.imputed
        self.err_moving = moving[:, kinds]  # (units, error indicators): the cells that move
        self.factors = factors(model, self.err_moving.size)
        self.n_error = sum(f.columns for f in self.factors if f.name == "data_error")
        self.params = engine.normalise_params(model)
        self.loo = loo_candidates(model)
        self.root = self.tree.nodes.index(self.tree.root)
        self.dim_idx = [self.tree.nodes.index(d) for d in self.tree.dimensions]
        self.last_dimensions: np.ndarray | None = None
        self._work = np.empty(0)
        self.methods = {agg: engine.level_methods(model, agg) for agg in (None, *model.robustness.aggregate)}
        self.perturbed = [k for k, n in enumerate(self.tree.nodes) if n != self.tree.root]
        self.with_target = np.flatnonzero(~np.isnan(self.params.target))
        self.gates_static = not any(n in model.aggregates for e in model.gate_exprs.values() for n in e.names())
        self._static_gates = engine.gate_results(model, dict(table.gate_raw)) if self.gates_static else None

    @property
    def n_columns(self) -> int:
        return sum(f.columns for f in self.factors)

    def column_groups(self) -> list[str]:
        return [f.name for f in self.factors for _ in range(f.columns)]

    def _split(self, u: np.ndarray, with_error: bool = True) -> dict[str, np.ndarray]:
        """Each factor's columns of ``u`` (``with_error=False``: ``u`` has no data-error columns)."""
        out, c = {}, 0
        for f in self.factors:
            if f.name == "data_error" and not with_error:
                continue
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

    def _targets(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Targets (and worst values) per draw: each moves within +-spread of (target - worst)."""
        spec = self.model.robustness.targets
        p = self.params
        j = self.with_target
        span = p.target[j] - p.worst[j]
        t = np.broadcast_to(p.target, (len(u), len(p.target))).copy()
        t[:, j] = p.target[j] + span * spec.spread * (2 * u[:, :len(j)] - 1)
        if not spec.worst:
            return t, None
        w = np.broadcast_to(p.worst, (len(u), len(p.worst))).copy()
        w[:, j] = p.worst[j] + span * spec.spread * (2 * u[:, len(j):] - 1)
        return t, w

    def _error_scales(self, x: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Spread and bounds (:func:`error_scale`) of every error cell of the kept units ``(u_kept, k)``;
        cells that do not move get spread 0 and no bounds."""
        moving = self.err_moving[kept]
        bases = self.table.bases[kept]
        spread = np.zeros(moving.shape)
        lo, hi = np.full(moving.shape, -np.inf), np.full(moving.shape, np.inf)
        for j, col in enumerate(self.err_ind):
            ind = self.model.indicators[self.tree.indicators[col]]
            rows = moving[:, j]
            s, a, b = error_scale(ind.error, x[rows, col], bases[rows, col], ind.sd)
            spread[rows, j], lo[rows, j], hi[rows, j] = s, a, b
        return spread, lo, hi

    def _data(self, x: np.ndarray, kept: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``x`` of the kept units per draw ``(d, u_kept, i)`` with every error cell drawn from its distribution
        at the normal quantile of its uniform (``u``: the draws' data-error columns)."""
        return self._moved(x, kept, ndtri(np.clip(u, 1e-12, 1 - 1e-12)))

    def _moved(self, x: np.ndarray, kept: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``x`` of the kept units per draw ``(d, u_kept, i)``, every error cell moved to ``clip(x + z spread,
        lo, hi)`` (:func:`error_scale`). ``z`` holds the draws' standard-normal quantiles ``(d, units x error
        indicators)``, unit-major (the fixed layout), and is overwritten: all draws are moved at once, in place,
        as one ``(d, u_kept, k)`` array."""
        cols = self.err_ind
        spread, lo, hi = self._error_scales(x, kept)
        z = z.reshape(len(z), len(kept), len(cols))
        moved = z if kept.all() else z[:, kept]
        moved *= spread
        moved += x[:, cols]
        np.clip(moved, lo, hi, out=moved)
        if len(cols) == x.shape[1]:
            return moved
        out = np.broadcast_to(x, (len(z),) + x.shape).copy()
        out[..., cols] = moved
        return out

    def _scratch(self, rows: int, cols: int) -> np.ndarray:
        """A ``rows x cols`` work array, reused from chunk to chunk (fresh memory costs page faults)."""
        if self._work.size < rows * cols:
            self._work = np.empty(rows * cols)
        return self._work[:rows * cols].reshape(rows, cols)

    def allocate(self, n: int, keep_dimensions: bool = False) -> MonteCarlo:
        """Empty outputs for ``n`` draws (filled by :meth:`fill`)."""
        n_units = len(self.table.ids)
        return MonteCarlo(draws=n, overall=np.full((n, n_units), np.nan),
                          codes=np.zeros((n, n_units), dtype=np.int8) if self.model.decision is not None else None,
                          dimensions=np.full((n, n_units, len(self.dim_idx)), np.nan) if keep_dimensions else None)

    def evaluate(self, u: np.ndarray, chunk: int = CHUNK,
                 keep_dimensions: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Overall score ``(draws, units)`` and decision codes ``(draws, units)`` (None without decision rules).

        With ``keep_dimensions`` the dimension scores ``(draws, units, dims)`` are kept in ``last_dimensions``.
        """
        out = self.allocate(len(u), keep_dimensions)
        for start in range(0, len(u), chunk):
            self.fill(u[start:start + chunk], out, start)
        self.last_dimensions = out.dimensions
        return out.overall, out.codes

    def fill(self, u: np.ndarray, out: MonteCarlo, start: int = 0, z: np.ndarray | None = None) -> None:
        """Score the draws ``u`` (one block, evaluated at once) into rows ``start ...`` of ``out``.

        With ``z`` (``(draws, error columns)``), the data-error normal quantiles are given directly and
        ``u`` has no data-error columns."""
        model, tree = self.model, self.tree
        n, n_units = len(u), len(self.table.ids)
        parts = self._split(u, with_error=z is None)
        weights = self._weights(parts["weights"]) if "weights" in parts else \
            np.broadcast_to(tree.weights, (n, len(tree.weights))).copy()
        if "leave_one_out" in parts:  # option 0 = leave nothing out; otherwise the indicator's weight is 0
            pick = np.minimum((parts["leave_one_out"][:, 0] * (len(self.loo) + 1)).astype(int), len(self.loo))
            out_rows = np.flatnonzero(pick > 0)
            weights[out_rows, self.loo[pick[out_rows] - 1]] = 0.0
        targets, worst = self._targets(parts["targets"]) if "targets" in parts else (None, None)
        shift = None
        if "thresholds" in parts:
            shift = model.robustness.thresholds.spread * (2 * parts["thresholds"] - 1)  # (n, 1)
        choice = {}
        for f in self.factors:
            if f.options:
                choice[f.name] = np.minimum((parts[f.name][:, 0] * len(f.options)).astype(int), len(f.options) - 1)
        nominal = {"impute": model.impute.method, "normalise": model.normalise.method, "aggregate": None}
        opts = {name: next((f.options for f in self.factors if f.name == name), (nominal[name],))
                for name in nominal}
        keys = np.stack([choice.get(name, np.zeros(n, dtype=int)) for name in nominal], axis=1)
        combos, inverse = np.unique(keys, axis=0, return_inverse=True)
        for ci, combo in enumerate(combos):
            imp, norm, agg = (opts[name][k] for name, k in zip(nominal, combo))
            prep = self.prepared[imp]
            kept = np.flatnonzero(prep.kept)
            rows = np.flatnonzero(inverse.ravel() == ci)
            dtt = norm == "distance_to_target"
            t = targets[rows][:, None, :] if targets is not None and dtt else None
            wo = worst[rows][:, None, :] if worst is not None and dtt else None
            x = prep.x
            if z is not None and self.n_error:
                x = self._moved(prep.x, prep.kept, np.take(z, rows, axis=0, out=self._scratch(len(rows), z.shape[1])))
            elif "data_error" in parts:
                x = self._data(prep.x, prep.kept, parts["data_error"][rows])
            s = engine.node_scores(model, x, norm, self.methods[agg], weights[rows], t, self.params, wo,
                                   floor=prep.floor)
            at = start + rows
            out.overall[np.ix_(at, kept)] = s[..., self.root]
            if out.codes is not None:
                full = s
                if len(kept) < n_units:
                    full = np.full((len(rows), n_units, len(tree.nodes)), np.nan)
                    full[:, kept] = s
                gates = self._static_gates if self.gates_static else engine.gate_results(
                    model, engine.gate_env(model, self.table, full))
                out.codes[at] = engine.decision_codes(model, full, gates, 0.0 if shift is None else shift[rows])
            if out.dimensions is not None:
                out.dimensions[np.ix_(at, kept)] = s[..., self.dim_idx]


def monte_carlo(model: ScoringModel, table: engine.InputTable, draws: int | None = None,
                seed: int | None = None, evaluator: Evaluator | None = None, chunk: int = CHUNK) -> MonteCarlo:
    """Draw every factor at random ``draws`` times and score each draw, ``chunk`` draws at a time.

    The uniforms come from ``default_rng(seed)``; the data-error quantiles are drawn directly as standard
    normals (the distribution of the normal quantile of a uniform) from the seed's first spawned stream.
    Both are drawn chunk by chunk in a fixed layout, so the result depends on the seed only (not on
    ``chunk``), and memory is bounded by the chunk, not by the number of draws."""
    ev = evaluator or Evaluator(model, table)
    n = model.robustness.draws if draws is None else draws
    seed = model.robustness.seed if seed is None else seed
    rng = np.random.default_rng(seed)
    normal = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    out = ev.allocate(n, keep_dimensions=True)
    u = np.empty((min(chunk, n), ev.n_columns - ev.n_error))  # reused by every chunk
    z = np.empty((min(chunk, n), ev.n_error))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        ev.fill(rng.random(out=u[:m]), out, start, normal.standard_normal(out=z[:m]))
    return out


def saltelli_groups(base: int, groups: list[str], seed: int) -> np.ndarray:
    """Saltelli's design with grouped factors, laid out as ``SALib.sample.sobol.sample(...,
    calc_second_order=False)`` lays it out (per base row: A, AB_1 … AB_G, B; groups in order of first
    appearance), built with whole-array numpy instead of SALib's per-column loop (slow for the thousands
    of data-error columns). A and B are the two halves of a scrambled Sobol' sequence of dimension 2D."""
    from scipy.stats import qmc

    d = len(groups)
    names = list(dict.fromkeys(groups))
    seq = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(base)
    a, b = seq[:, :d], seq[:, d:]
    out = np.repeat(a[:, None, :], len(names) + 2, axis=1)
    out[:, -1] = b
    cols = np.array(groups)
    for k, name in enumerate(names):
        sel = cols == name
        out[:, 1 + k, sel] = b[:, sel]
    return out.reshape(-1, d)


def sensitivity(model: ScoringModel, table: engine.InputTable, n: int | None = None, seed: int | None = None,
                evaluator: Evaluator | None = None) -> pd.DataFrame:
    """First-order and total Sobol' indices per unit, factor and output (``decision`` code and ``overall``)."""
    from SALib.analyze.sobol import first_order, total_order

    ev = evaluator or Evaluator(model, table)
    names = [f.name for f in ev.factors]
    if not names:
        return pd.DataFrame(columns=["unit", "output", "factor", "first_order", "total_order"])
    base = int(2 ** np.ceil(np.log2(n or model.robustness.sensitivity.n)))
    u = saltelli_groups(base, ev.column_groups(), model.robustness.seed if seed is None else seed)
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


def probabilities(codes: np.ndarray) -> dict[str, np.ndarray]:
    """P(awarded), P(conditional), P(not awarded) per unit from decision codes ``(draws, units)``."""
    return {name: (codes == k).mean(axis=0) for k, name in ((2, "awarded"), (1, "conditional"), (0, "not_awarded"))}


def decide(rule: ProbabilityRule, p_awarded: float, p_conditional: float, p_not_awarded: float) -> tuple[str, str]:
    """The decision a Monte Carlo supports, with its reason: awarded only if P(awarded) >= rule.awarded,
    not_awarded only if P(not awarded) >= rule.not_awarded, conditional if P(conditional or better) >=
    rule.conditional, otherwise refer_to_panel."""
    if p_awarded >= rule.awarded - 1e-12:
        return "awarded", f"P(awarded) {p_awarded:.2f} >= {rule.awarded:g}"
    if p_not_awarded >= rule.not_awarded - 1e-12:
        return "not_awarded", f"P(not awarded) {p_not_awarded:.2f} >= {rule.not_awarded:g}"
    if p_awarded + p_conditional >= rule.conditional - 1e-12:
        return "conditional", (f"P(awarded) {p_awarded:.2f} below {rule.awarded:g}; P(conditional or awarded) "
                               f"{p_awarded + p_conditional:.2f} >= {rule.conditional:g}")
    return "refer_to_panel", (f"uncertain: P(awarded) {p_awarded:.2f}, P(conditional) {p_conditional:.2f}, "
                              f"P(not awarded) {p_not_awarded:.2f}; none reaches its threshold")


def robustness_table(model: ScoringModel, nominal: pd.DataFrame, mc: MonteCarlo,
                     sens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per unit: probability of each decision, the decision they support (with its reason), 90 % intervals
    of the overall and each dimension score, and the factor that moves the decision most."""
    id_col = model.columns.id
    out = pd.DataFrame({id_col: nominal[id_col].to_numpy()})
    rule = model.decision.probability if model.decision is not None else None
    if mc.codes is not None:
        probs = probabilities(mc.codes)
        for name, p in probs.items():
            out[f"p_{name}"] = p
        out["nominal_decision"] = nominal["decision"].to_numpy()
        decided = [decide(rule, a, c, n) if rule is not None else (d, "")
                   for a, c, n, d in zip(probs["awarded"], probs["conditional"], probs["not_awarded"],
                                         out["nominal_decision"])]
        unpublished = (out["nominal_decision"] == "insufficient_data").to_numpy()
        out["decision"] = ["insufficient_data" if no else d for (d, _), no in zip(decided, unpublished)]
        out["decision_reason"] = [f"no decision: {why}" if no else r
                                  for (_, r), no, why in zip(decided, unpublished, nominal["reasons"])]
    series = [("overall", mc.overall)]
    if mc.dimensions is not None:
        series += [(d, mc.dimensions[..., k]) for k, d in enumerate(model.tree.dimensions)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, data in series:
            gaps = np.isnan(data)
            scored = ~gaps.all(axis=0)
            vals = np.full((3, data.shape[1]), np.nan)
            if scored.any():  # nanpercentile loops over columns: only where a column has gaps
                pct = np.nanpercentile if gaps[:, scored].any() else np.percentile
                vals[:, scored] = pct(data[:, scored], [50, 5, 95], axis=0)
            for k, col in enumerate((f"{name}_median", f"{name}_p05", f"{name}_p95")):
                out[col] = vals[k]
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

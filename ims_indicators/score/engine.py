"""The scoring chain: input table -> denominate -> (screen) -> impute -> treat -> normalise -> aggregate
-> gates -> decision, for one model. ``score_table`` is the nominal run; :mod:`robustness` reuses
``prepare`` / ``node_scores`` / ``decision_codes`` with one parameter set per Monte Carlo draw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ims_indicators.score import steps
from ims_indicators.score.aggregate import AggregationError, aggregate_tree
from ims_indicators.score.model import DECISIONS, DataError, DecisionRule, ScoringModel, goalposts, target_worst

BASE = "__base"  # suffix of the input column holding an indicator's sampling base
EPS = 1e-9  # a score equal to a threshold meets it, whatever the last bits of the float arithmetic


@dataclass
class InputTable:
    """The input as arrays, checked against the model."""

    frame: pd.DataFrame  # the input rows as read (index reset)
    ids: np.ndarray  # (u,)
    raw: np.ndarray  # (u, n_scored) scored indicators as given
    gate_raw: dict[str, np.ndarray]  # every model indicator as given, for gates
    denominators: np.ndarray  # (u, n_scored) denominator per cell, 1 where not denominated
    groups: np.ndarray | None  # (u,) impute group labels
    bases: np.ndarray | None = None  # (u, n_scored) sampling base of each value (<id>__base), NaN = exact


@dataclass
class Prepared:
    """Data after denominate, screen, impute and treat: ready to normalise."""

    kept: np.ndarray  # (u,) bool: units that passed the screen
    x: np.ndarray  # (u_kept, n_scored)
    imputed: np.ndarray  # (u, n_scored) bool
    availability: np.ndarray  # (u,)
    treatment: list[steps.Treatment] | None  # one per scored indicator, or None if the step is off
    floor: np.ndarray | None = None  # (u_kept, n_scored) cells that score the bottom of the scale (impute worst)


@dataclass
class ScoreResult:
    """The nominal result: the published table plus every intermediate, for tests and reports."""

    model: ScoringModel
    table: pd.DataFrame
    prepared: Prepared
    scores: pd.DataFrame  # units x nodes (normalised indicators and aggregates); NaN for screened-out units
    treatment: pd.DataFrame
    gates: pd.DataFrame  # units x gates, True = passed


def read_table(model: ScoringModel, df: pd.DataFrame, source: str = "input") -> InputTable:
    """Check ``df`` against the model (columns, ids, numbers) and take out the arrays the chain needs."""
    cols = model.columns
    tree = model.tree
    needed = [cols.id, *cols.groups, *cols.keep]
    if model.denominate.enabled:
        needed += sorted({model.indicators[i].denominator for i in tree.indicators
                          if model.indicators[i].denominator})
    for name in needed:
        if name not in df.columns:
            raise DataError(f"{source}: column {name!r} (named in the model's columns) is missing; "
                            f"columns present: {', '.join(map(str, df.columns))}")
    missing = [i for i in model.indicators if i not in df.columns]
    if missing:
        raise DataError(f"{source}: indicator {missing[0]!r} of model {model.label} is missing from the data"
                        + (f" (and {len(missing) - 1} more: {', '.join(missing[1:6])})" if len(missing) > 1 else "")
                        + f"; columns present: {', '.join(map(str, df.columns))}")
    df = df.reset_index(drop=True)
    ids = df[cols.id]
    if ids.isna().any():
        raise DataError(f"{source}, row {int(np.flatnonzero(ids.isna())[0]) + 2}, column {cols.id}: empty unit id")
    dup = ids[ids.duplicated()]
    if len(dup):
        raise DataError(f"{source}, row {int(dup.index[0]) + 2}, column {cols.id}: duplicate unit id {dup.iloc[0]!r}")

    def numeric(name: str) -> np.ndarray:
        col = df[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            return col.to_numpy(dtype=float, na_value=np.nan)
        if pd.api.types.is_bool_dtype(col):
            return col.astype(float).to_numpy()
        conv = pd.to_numeric(col, errors="coerce")
        bad = conv.isna() & col.notna() & (col.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{source}, row {row + 2}, column {name}: expected a number, found {col.iloc[row]!r}")
        return conv.to_numpy(dtype=float, na_value=np.nan)

    raw = np.column_stack([numeric(i) for i in tree.indicators]) if tree.indicators else np.empty((len(df), 0))
    gate_raw = {i: numeric(i) for i in model.indicators}
    den = np.ones(raw.shape)
    if model.denominate.enabled:
        for j, i in enumerate(tree.indicators):
            ind = model.indicators[i]
            if ind.denominator:
                den[:, j] = numeric(ind.denominator)
    group_col = model.impute.group
    groups = df[group_col].astype(str).to_numpy() if group_col else None
    bases = np.full(raw.shape, np.nan)
    for j, i in enumerate(tree.indicators):
        if model.indicators[i].error != "none" and f"{i}{BASE}" in df.columns:
            bases[:, j] = numeric(f"{i}{BASE}")
    return InputTable(frame=df, ids=ids.astype(str).to_numpy(), raw=raw, gate_raw=gate_raw,
                      denominators=den, groups=groups, bases=bases)


def prepare(model: ScoringModel, table: InputTable, impute_method: str | None = None) -> Prepared:
    """Denominate, screen, impute and treat (the steps the Monte Carlo does not redo per draw)."""
    x = table.raw
    if model.denominate.enabled:
        scale = np.array([model.indicators[i].scale for i in model.tree.indicators])
        x = steps.denominate(x, table.denominators, scale[None, :])
    method = impute_method or model.impute.method
    scr = model.screen
    kept = np.ones(len(x), dtype=bool) if scr.after_impute else steps.screen(x, scr.threshold)
    avail = steps.availability(x)
    imputed = np.zeros(x.shape, dtype=bool)
    xk, flags = steps.impute(x[kept], method, table.groups[kept] if table.groups is not None else None,
                             normalise_params(model).worst)
    imputed[kept] = flags
    if scr.after_impute:
        keep2 = steps.screen(xk, scr.threshold)
        avail = np.where(kept, 0.0, avail)
        avail[kept] = steps.availability(xk)
        kept = keep2
        xk = xk[keep2]
        imputed[~kept] = False
    treatment = None
    if model.treat.method == "coinr":
        t = model.treat
        xk, treatment = steps.treat(xk, t.winmax, t.skew_thresh, t.kurt_thresh, t.log)
    floor = imputed[kept] if method == "worst" else None
    return Prepared(kept=kept, x=xk, imputed=imputed, availability=avail, treatment=treatment, floor=floor)


def normalise_params(model: ScoringModel, ids: np.ndarray | None = None) -> steps.NormaliseParams:
    """Per-indicator arrays of direction, target, worst and goalposts; ``ids`` (of the units normalised
    together) locate the reference unit of ``n_dist2ref``."""
    inds = [model.indicators[i] for i in model.tree.indicators]
    tw = [target_worst(i) for i in inds]

    def arr(vals: list) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in vals], dtype=float)

    posts = [goalposts(i) if i.goalposts is not None or None not in target_worst(i) else (np.nan, np.nan)
             for i in inds]
    n = model.normalise
    ref = None
    if n.ref_unit is not None and ids is not None:
        hits = np.flatnonzero(np.asarray(ids).astype(str) == n.ref_unit)
        if not len(hits):
            raise DataError(f"normalise.ref_unit: unit {n.ref_unit!r} is not among the units scored")
        ref = int(hits[0])
    coinr = steps.CoinrParams(m_sd=n.m_sd, npara=n.npara, scale_factor=n.scale_factor,
                              goalpost_scale=n.goalpost_scale, trunc2posts=n.trunc2posts, cap_max=n.cap_max,
                              ties=n.ties, ref_index=ref)
    return steps.NormaliseParams(direction=np.array([i.direction for i in inds], dtype=float),
                                 target=arr([t for t, _ in tw]), worst=arr([w for _, w in tw]),
                                 post_lo=arr([p[0] for p in posts]), post_hi=arr([p[1] for p in posts]),
                                 lo=n.range[0], hi=n.range[1], mean_sd=n.mean_sd, coinr=coinr)


def level_methods(model: ScoringModel, override: str | None = None) -> dict[int, str]:
    """Aggregation method per tree level (``override`` replaces all of them, as a Monte Carlo choice does)."""
    levels = [lev for lev, *_ in model.tree.levels]
    if override:
        return {lev: override for lev in levels}
    return {lev: model.aggregate.by_level.get(lev, model.aggregate.method) for lev in levels}


def node_scores(model: ScoringModel, x: np.ndarray, norm_method: str, methods: dict[int, str],
                weights: np.ndarray | None = None, targets: np.ndarray | None = None,
                params: steps.NormaliseParams | None = None, worst: np.ndarray | None = None,
                floor: np.ndarray | None = None) -> np.ndarray:
    """Normalise ``x[..., u, i]`` and aggregate: returns ``[..., u, n_nodes]``.

    ``weights`` ``(n_nodes,)`` or ``(d, n_nodes)``; ``targets`` / ``worst`` ``(d, 1, i)`` per draw
    (distance to target only). ``floor`` ``(u, i)`` marks cells imputed as worst: they score the bottom of
    the normalised scale in every draw (a moved worst value must not lift a missing value above a sent one).
    """
    p = params or normalise_params(model)
    tree = model.tree
    z = steps.normalise(x, norm_method, p, target=targets, worst=worst)
    if floor is not None and floor.any():
        bottom = steps.normalised_bounds(norm_method, p)[0]
        if z.ndim == 2:
            z = np.where(floor, bottom, z)
        else:  # normalise returned a fresh (draws, units, indicators) array: set the floor in place
            z[..., floor] = bottom
    if targets is not None and norm_method != "distance_to_target":
        z = np.broadcast_to(z, (targets.shape[0],) + z.shape[-2:])
    w = tree.weights if weights is None else weights
    if w.ndim > 1 and z.ndim == 2:
        z = np.broadcast_to(z, (w.shape[0],) + z.shape)
    try:
        return aggregate_tree(z, w, tree.levels, methods, steps.normalised_bounds(norm_method, p),
                              model.aggregate.zeros, model.aggregate.p)
    except AggregationError as exc:
        raise DataError(str(exc)) from None


def gate_env(model: ScoringModel, table: InputTable, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Values a gate may refer to: raw indicators (as given) and node scores (``[..., u]``)."""
    env = dict(table.gate_raw)
    for k, node in enumerate(model.tree.nodes):
        if node in model.aggregates:
            env[node] = scores[..., k]
    return env


def gate_results(model: ScoringModel, env: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Pass (True) / fail per gate and unit (broadcast over draws if a rule uses a score)."""
    return {gid: expr.evaluate(env) for gid, expr in model.gate_exprs.items()}


def _meets(rule: DecisionRule, model: ScoringModel, scores: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
    """Units meeting every threshold of ``rule``; ``shift`` (``(d, 1)`` per draw) moves all thresholds."""
    tree = model.tree
    idx = {n: k for k, n in enumerate(tree.nodes)}
    overall = scores[..., idx[tree.root]]
    ok = ~np.isnan(overall)
    with np.errstate(invalid="ignore"):
        if rule.overall_min is not None:
            ok &= overall >= rule.overall_min + shift - EPS
        for dim, thr in _dimension_thresholds(rule, model).items():
            ok &= scores[..., idx[dim]] >= thr + shift - EPS
    return ok


def _dimension_thresholds(rule: DecisionRule, model: ScoringModel) -> dict[str, float]:
    if rule.dimension_min is None:
        return {}
    if isinstance(rule.dimension_min, dict):
        return dict(rule.dimension_min)
    return {d: float(rule.dimension_min) for d in model.tree.dimensions}


def decision_codes(model: ScoringModel, scores: np.ndarray, gates: dict[str, np.ndarray],
                   shift: np.ndarray | float = 0.0) -> np.ndarray:
    """Decision per unit (and draw) as codes 0 not_awarded, 1 conditional, 2 awarded.

    ``scores`` is ``[..., u, n_nodes]`` with NaN for units screened out (never awarded); ``shift`` moves
    every threshold (Monte Carlo). Publication conditions (``on_fail: insufficient_data``) are not
    decisions on the score and are applied by :func:`final_decision`.
    """
    dec = model.decision
    assert dec is not None
    code = np.where(_meets(dec.awarded, model, scores, shift), 2, 0).astype(np.int8)
    if dec.conditional is not None:
        code = np.where((code == 0) & _meets(dec.conditional, model, scores, shift), 1, code).astype(np.int8)
    for gid, passed in gates.items():
        if model.gates[gid].on_fail == "insufficient_data":
            continue
        cap = 0 if model.gates[gid].on_fail == "not_awarded" else 1
        code = np.where(passed, code, np.minimum(code, cap)).astype(np.int8)
    return code


def _fmt(v: float) -> str:
    return "missing" if np.isnan(v) else f"{v:.2f}"


def reasons_for(model: ScoringModel, unit: int, scores: np.ndarray, gates: dict[str, np.ndarray],
                code: int, env: dict[str, np.ndarray], kept: bool, avail: float) -> list[str]:
    """Why a unit got its decision: failed gates, and each threshold of the next level up it missed."""
    out: list[str] = []
    if not kept:
        out.append(f"screened out: data availability {avail:.0%} below {model.screen.threshold:.0%}")
    for gid, passed in gates.items():
        if not passed[unit]:
            g = model.gates[gid]
            vals = ", ".join(f"{n}={_fmt(float(np.asarray(env[n])[unit]))}" for n in sorted(model.gate_exprs[gid].names()))
            cap = {"not_awarded": "", "conditional": " (decision capped at conditional)",
                   "insufficient_data": " (publication condition: insufficient data)"}[g.on_fail]
            out.append(f"gate {gid} failed: {g.rule} ({vals}){cap}")
    dec = model.decision
    assert dec is not None
    idx = {n: k for k, n in enumerate(model.tree.nodes)}
    row = scores[unit]
    score_code = int(decision_codes(model, scores[unit:unit + 1], {})[0])
    if score_code == 2 or not kept:
        return out
    target_name, rule = ("awarded", dec.awarded)
    if score_code == 0 and dec.conditional is not None:
        target_name, rule = ("conditional", dec.conditional)
    overall = row[idx[model.tree.root]]
    if np.isnan(overall):
        out.append(f"no {model.tree.root} score (no indicator value to score)")
    elif rule.overall_min is not None and overall < rule.overall_min - EPS:
        out.append(f"{model.tree.root} {overall:.2f} below {rule.overall_min:g} required for {target_name}")
    for dim, thr in _dimension_thresholds(rule, model).items():
        v = row[idx[dim]]
        if np.isnan(v):
            out.append(f"dimension {dim} has no score ({target_name} requires {thr:g})")
        elif v < thr - EPS:
            out.append(f"dimension {dim} {v:.2f} below {thr:g} required for {target_name}")
    return out


def few_units_reason(n_kept: int, least: int | None) -> str | None:
    """The reason every row of a cross-section (an academic year) gets when fewer schools are scored than
    comparisons need (``least``, ``IMS_MIN_SCHOOLS_PER_YEAR``): the year is still scored, and the reader is told."""
    if least is None or n_kept >= least:
        return None
    return (f"only {n_kept} school(s) scored in this academic year, fewer than the {least} that comparisons between "
            "schools need (IMS_MIN_SCHOOLS_PER_YEAR): min-max and rank scores and the robustness analysis compare "
            "it with no peers")


def snapshot_of_frame(df: pd.DataFrame, label: str) -> str:
    """A content hash naming the data a result was computed from."""
    text = df.to_csv(index=False, lineterminator="\n")
    return f"{label}:sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def score_table(model: ScoringModel, df: pd.DataFrame, snapshot: str | None = None,
                source: str = "input", min_units: int | None = None) -> ScoreResult:
    """Score every unit of ``df`` with the model's nominal settings (``min_units``: see :func:`few_units_reason`)."""
    table = read_table(model, df, source)
    prepared = prepare(model, table)
    tree = model.tree
    nodes = node_scores(model, prepared.x, model.normalise.method, level_methods(model),
                        params=normalise_params(model, table.ids[prepared.kept]), floor=prepared.floor)
    scores = np.full((len(table.ids), len(tree.nodes)), np.nan)
    scores[prepared.kept] = nodes
    env = gate_env(model, table, scores)
    gates = gate_results(model, env)
    root = tree.nodes.index(tree.root)
    overall = pd.Series(scores[:, root])
    rank = overall.rank(method="min", ascending=False).astype("Int64")
    cols = model.columns
    out = pd.DataFrame({cols.id: table.ids})
    for c in [*cols.keep, *cols.groups]:
        out[c] = table.frame[c].to_numpy()
    for node in tree.aggregates_top_down():
        out[node] = scores[:, tree.nodes.index(node)]
    out["rank"] = rank.to_numpy()
    few = few_units_reason(int(prepared.kept.sum()), min_units)
    if model.decision is not None:
        codes = decision_codes(model, scores, gates)
        unpublished = ~prepared.kept
        for gid, passed in gates.items():
            if model.gates[gid].on_fail == "insufficient_data":
                unpublished |= ~np.broadcast_to(passed, unpublished.shape)
        out["decision"] = ["insufficient_data" if unpublished[u] else DECISIONS[c] for u, c in enumerate(codes)]
        out["reasons"] = ["; ".join(reasons_for(model, u, scores, gates, int(codes[u]), env,
                                                bool(prepared.kept[u]), float(prepared.availability[u]))
                                    + ([few] if few else []))
                          for u in range(len(codes))]
    else:
        out["decision"] = None
        screened = "screened out: data availability {:.0%} below " + f"{model.screen.threshold:.0%}"
        out["reasons"] = ["; ".join(([] if k else [screened.format(a)]) + ([few] if few else []))
                          for k, a in zip(prepared.kept, prepared.availability)]
    out["availability"] = prepared.availability
    out["imputed"] = [";".join(np.array(tree.indicators)[m]) for m in prepared.imputed]
    out["model_name"] = model.name
    out["model_version"] = model.version
    out["model_sha256"] = model.sha256()
    out["data_snapshot"] = snapshot or snapshot_of_frame(table.frame, source)
    treat_rows = []
    if prepared.treatment is not None:
        kept_ids = table.ids[prepared.kept]
        for i, rec in zip(tree.indicators, prepared.treatment):
            pts = ";".join(f"{kept_ids[r]}:{how}" for r, how in sorted(rec.points.items(), key=lambda kv: kept_ids[kv[0]]))
            treat_rows.append({"indicator": i, "treatment": rec.treatment, "skew0": rec.skew0, "kurt0": rec.kurt0,
                               "nwin": rec.nwin, "skew1": rec.skew1, "kurt1": rec.kurt1, "passed": rec.passed,
                               "treated_points": pts})
    return ScoreResult(model=model, table=out, prepared=prepared,
                       scores=pd.DataFrame(scores, index=table.ids, columns=tree.nodes),
                       treatment=pd.DataFrame(treat_rows),
                       gates=pd.DataFrame({g: np.broadcast_to(v, (len(table.ids),)) for g, v in gates.items()},
                                          index=table.ids))

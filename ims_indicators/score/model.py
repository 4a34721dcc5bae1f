"""The scoring model: a versioned YAML file, validated into typed objects, with ``--set`` overrides.

The YAML schema is documented in ``docs/scoring.md``. ``load_model(path, overrides)`` is the one entry
point: it reads the file, applies ``KEY=VALUE`` overrides, validates everything (tree, weights, gates,
decision rules, parameters each method needs) and raises :class:`ModelError` with a readable message.
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ims_indicators.score.gates import GateExpr, parse_gate
from ims_indicators.score.steps import RELATIVE

NormaliseMethod = Literal["distance_to_target", "goalposts", "minmax", "zscore", "rank",
                          "n_minmax", "n_zscore", "n_scaled", "n_fracmax", "n_prank", "n_rank", "n_borda",
                          "n_goalposts", "n_dist2targ", "n_dist2ref", "n_dist2max"]
AggregateMethod = Literal["arithmetic", "geometric", "harmonic", "a_amean", "a_gmean", "a_hmean", "a_genmean"]
ImputeMethod = Literal["none", "mean", "median", "group_mean", "worst"]
# The first three are codes in arrays (0, 1, 2); the last two exist only as final decisions.
DECISIONS = ("not_awarded", "conditional", "awarded", "refer_to_panel", "insufficient_data")
# How good a final decision is for the school (a missing part must never move a school up this order).
DECISION_ORDER = {"not_awarded": 0, "insufficient_data": 0, "refer_to_panel": 1, "conditional": 2, "awarded": 3}


class ScoreError(Exception):
    """An error the user can fix (model file, input table, option): shown as a message, never a traceback."""


class ModelError(ScoreError):
    """The model file or an override is invalid."""


class DataError(ScoreError):
    """The input table does not fit the model (missing column, non-numeric cell, duplicate id)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelIndicator(_Strict):
    """One indicator: where it sits in the tree and how it is normalised."""

    name: str | None = None
    parent: str | None = Field(None, description="aggregate it feeds; none = read for gates only, not scored")
    weight: float = Field(1.0, ge=0)
    direction: Literal[1, -1] = 1
    denominator: str | None = Field(None, description="column the raw value is divided by (step denominate)")
    scale: float = Field(1.0, description="factor applied after dividing by the denominator")
    target: float | None = Field(None, description="value that scores the top of the range (distance_to_target)")
    worst: float | None = Field(None, description="value that scores the bottom (distance_to_target); default 0")
    goalposts: tuple[float, float] | None = Field(None, description="[low, high] for the goalposts method")
    error: Literal["none", "share", "count", "mean"] = Field(
        "none", description="sampling distribution of the value (Monte Carlo data error); its base is the "
        "input column <id>__base: the denominator of a share, the count behind a rate, the n of a mean")
    sd: float | None = Field(None, gt=0, description="mean: standard deviation of one answer")


class Aggregate(_Strict):
    """A node above the indicators (dimension, sub-index, overall)."""

    name: str | None = None
    parent: str | None = None
    weight: float = Field(1.0, ge=0)


class Columns(_Strict):
    id: str = "school_id"
    groups: list[str] = []
    denominators: list[str] = []
    keep: list[str] = Field([], description="extra input columns copied to the output (e.g. a name)")


class DenominateStep(_Strict):
    enabled: bool = True


class ImputeStep(_Strict):
    method: ImputeMethod = "none"
    group: str | None = None


class ScreenStep(_Strict):
    threshold: float = Field(0.0, ge=0, le=1, description="minimum share of non-missing scored indicators")
    after_impute: bool = Field(False, description="measure availability after imputation (COINr order)")


class TreatStep(_Strict):
    method: Literal["none", "coinr"] = "none"
    winmax: int = Field(5, ge=0)
    skew_thresh: float = 2.0
    kurt_thresh: float = 3.5
    log: bool = Field(True, description="log-transform the original column if winsorising does not pass")


class NormaliseStep(_Strict):
    method: NormaliseMethod = "distance_to_target"
    range: tuple[float, float] = Field((0.0, 100.0), description="target range; n_minmax: l_u")
    mean_sd: tuple[float, float] = Field((50.0, 10.0), description="zscore: target mean and sd")
    m_sd: tuple[float, float] = Field((0.0, 1.0), description="n_zscore: mean and sd (COINr default 0, 1)")
    npara: tuple[float, float] = Field((0.0, 100.0), description="n_scaled: the two values mapped to 0 and scale_factor")
    scale_factor: float = Field(100.0, description="n_scaled")
    goalpost_scale: float = Field(1.0, description="n_goalposts: gposts[3]")
    trunc2posts: bool = Field(True, description="n_goalposts: clip to the goalposts")
    cap_max: bool = Field(False, description="n_dist2targ, n_dist2ref: cap scores at 1")
    ties: Literal["min", "average", "max", "first"] = Field("min", description="n_rank, n_prank, n_borda: R ties.method")
    ref_unit: str | None = Field(None, description="n_dist2ref: id of the reference unit")


class AggregateStep(_Strict):
    method: AggregateMethod = "arithmetic"
    by_level: dict[int, AggregateMethod] = Field({}, description="method per tree level (2 = first aggregates)")
    zeros: Literal["rescale", "error"] = Field(
        "rescale", description="geometric/harmonic: map the range to 1..100 first (rescale) or refuse values <= 0"
    )
    p: float = Field(2.0, description="a_genmean: the exponent (not 0)")


class Gate(_Strict):
    rule: str
    on_fail: Literal["not_awarded", "conditional", "insufficient_data"] = Field(
        "not_awarded", description="insufficient_data: a publication condition, the school gets no decision")
    description: str | None = None


class DecisionRule(_Strict):
    overall_min: float | None = None
    dimension_min: float | dict[str, float] | None = None


class ProbabilityRule(_Strict):
    """Decision under uncertainty: a decision stands only when the Monte Carlo supports it."""

    awarded: float = Field(0.8, gt=0.5, le=1, description="awarded only if P(awarded) >= this")
    not_awarded: float = Field(0.8, gt=0.5, le=1, description="not awarded only if P(not awarded) >= this")
    conditional: float = Field(0.8, gt=0.5, le=1, description="conditional if P(conditional or awarded) >= this")


class Decision(_Strict):
    awarded: DecisionRule
    conditional: DecisionRule | None = None
    probability: ProbabilityRule | None = Field(None, description="otherwise refer_to_panel")


Rating = Literal["unsatisfactory", "partially", "satisfactory", "excellent"]
RATINGS = ("unsatisfactory", "partially", "satisfactory", "excellent")  # order matters: worst first


class Standard(_Strict):
    name: str
    dimension: str = Field(description="the label dimension (aggregate) the standard assesses")
    description: str | None = None


class PanelOutcome(_Strict):
    all_at_least: Rating
    excellent_at_least: int = Field(0, ge=0, description="this many standards rated excellent")


class Panel(_Strict):
    """How a peer panel's ratings settle a referred case (CeQuInt-style four-point scale)."""

    standards: dict[str, Standard]
    awarded: PanelOutcome
    conditional: PanelOutcome | None = None
    applies_to: list[Literal["refer_to_panel", "conditional", "awarded", "not_awarded"]] = ["refer_to_panel"]
    source: str | None = None


class WeightsUncertainty(_Strict):
    method: Literal["uniform", "dirichlet"] = "uniform"
    spread: float = Field(0.25, ge=0, lt=1, description="uniform: each weight x U(1-spread, 1+spread)")
    concentration: float = Field(50.0, gt=0, description="dirichlet: alpha = concentration x nominal share")


class TargetsUncertainty(_Strict):
    spread: float = Field(0.10, ge=0, lt=1, description="target moves within +-spread of (target - worst)")
    worst: bool = Field(False, description="move the worst value too (+-spread of (target - worst))")


class ThresholdsUncertainty(_Strict):
    spread: float = Field(5.0, ge=0, description="every decision threshold moves by the same +-spread points")


class Sensitivity(_Strict):
    enabled: bool = True
    n: int = Field(512, ge=8, description="Saltelli base sample (rounded up to a power of 2)")


class Robustness(_Strict):
    draws: int = Field(10_000, ge=0)
    seed: int = 20240601
    weights: WeightsUncertainty | None = None
    targets: TargetsUncertainty | None = None
    thresholds: ThresholdsUncertainty | None = None
    leave_one_out: bool = Field(False, description="each draw leaves out one indicator (or none) of a dimension with 2+")
    data_error: bool = Field(False, description="each value drawn from its sampling distribution (indicator error)")
    normalise: list[NormaliseMethod] = []
    aggregate: list[AggregateMethod] = []
    impute: list[ImputeMethod] = []
    sensitivity: Sensitivity = Sensitivity()


class ScoringModel(_Strict):
    """The whole model file."""

    name: str
    version: str
    description: str | None = None
    columns: Columns = Columns()
    indicators: dict[str, ModelIndicator]
    aggregates: dict[str, Aggregate]
    denominate: DenominateStep = DenominateStep()
    impute: ImputeStep = ImputeStep()
    screen: ScreenStep = ScreenStep()
    treat: TreatStep = TreatStep()
    normalise: NormaliseStep = NormaliseStep()
    aggregate: AggregateStep = AggregateStep()
    gates: dict[str, Gate] = {}
    decision: Decision | None = None
    panel: Panel | None = None
    robustness: Robustness = Robustness()

    @model_validator(mode="after")
    def _check(self) -> ScoringModel:
        _check_model(self)
        self.tree  # noqa: B018 - builds and checks the tree now, not in the middle of scoring
        return self

    @cached_property
    def tree(self) -> Tree:
        return build_tree(self)

    @cached_property
    def gate_exprs(self) -> dict[str, GateExpr]:
        return {gid: parse_gate(g.rule) for gid, g in self.gates.items()}

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def sha256(self) -> str:
        """Hash of the effective model (after overrides), so every result names exactly what produced it."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Tree:
    """The indicator tree as arrays: node order = scored indicators, then aggregates by level."""

    nodes: list[str]  # all scored nodes in evaluation order
    indicators: list[str]  # scored indicators (level 1)
    gate_only: list[str]  # indicators read but not scored
    level: dict[str, int]
    root: str
    dimensions: list[str]  # children of the root
    weights: np.ndarray  # (n_nodes,) nominal weights
    levels: list[tuple[int, list[int], list[int], np.ndarray]]  # (level, child idx, parent idx, membership)

    def aggregates_top_down(self) -> list[str]:
        aggs = self.nodes[len(self.indicators):]
        return sorted(aggs, key=lambda a: (-self.level[a], aggs.index(a)))


def build_tree(model: ScoringModel) -> Tree:
    """Order the nodes and build one membership matrix per aggregation level."""
    scored = [i for i, ind in model.indicators.items() if ind.parent is not None]
    gate_only = [i for i, ind in model.indicators.items() if ind.parent is None]
    parent = {i: model.indicators[i].parent for i in scored}
    parent.update({a: agg.parent for a, agg in model.aggregates.items()})
    children: dict[str, list[str]] = {a: [] for a in model.aggregates}
    for node, par in parent.items():
        if par is not None:
            children[par].append(node)
    level: dict[str, int] = {i: 1 for i in scored}

    def lvl(node: str, seen: tuple[str, ...] = ()) -> int:
        if node in level:
            return level[node]
        if node in seen:
            raise ModelError(f"aggregates: the tree has a cycle through {node!r}")
        kids = children[node]
        if not kids:
            raise ModelError(f"aggregates.{node}: no indicator or aggregate has it as parent")
        kid_levels = {k: lvl(k, seen + (node,)) for k in kids}
        if len(set(kid_levels.values())) > 1:
            raise ModelError(
                f"aggregates.{node}: its children sit at different levels {kid_levels}; "
                "every child of an aggregate must be at the same level"
            )
        level[node] = 1 + next(iter(kid_levels.values()))
        return level[node]

    for a in model.aggregates:
        lvl(a)
    roots = [a for a, agg in model.aggregates.items() if agg.parent is None]
    aggs = sorted(model.aggregates, key=lambda a: level[a])
    nodes = scored + aggs
    index = {n: k for k, n in enumerate(nodes)}
    weights = np.array([model.indicators[n].weight if n in model.indicators else model.aggregates[n].weight
                        for n in nodes], dtype=float)
    levels = []
    for lev in sorted({level[a] for a in aggs}):
        par_nodes = [a for a in aggs if level[a] == lev]
        kid_nodes = [n for n in nodes if parent.get(n) in par_nodes]
        member = np.zeros((len(kid_nodes), len(par_nodes)))
        for r, k in enumerate(kid_nodes):
            member[r, par_nodes.index(parent[k])] = 1.0
        levels.append((lev, [index[k] for k in kid_nodes], [index[p] for p in par_nodes], member))
    return Tree(nodes=nodes, indicators=scored, gate_only=gate_only, level=level, root=roots[0],
                dimensions=children[roots[0]], weights=weights, levels=levels)


def _check_model(m: ScoringModel) -> None:
    """Cross-field checks that pydantic field types cannot express."""
    clash = set(m.indicators) & set(m.aggregates)
    if clash:
        raise ValueError(f"ids used both as indicator and aggregate: {sorted(clash)}")
    roots = [a for a, agg in m.aggregates.items() if agg.parent is None]
    if len(roots) != 1:
        raise ValueError(f"aggregates: exactly one aggregate must have no parent (the overall score), found {roots}")
    for kind, items in (("indicators", m.indicators), ("aggregates", m.aggregates)):
        for node, item in items.items():
            if item.parent is not None and item.parent not in m.aggregates:
                raise ValueError(f"{kind}.{node}.parent: {item.parent!r} is not an aggregate of the model")
    if not any(ind.parent for ind in m.indicators.values()):
        raise ValueError("indicators: no indicator has a parent, nothing would be scored")
    scored = {i: ind for i, ind in m.indicators.items() if ind.parent is not None}
    if m.denominate.enabled:
        for i, ind in scored.items():
            if ind.denominator and ind.denominator not in m.columns.denominators:
                raise ValueError(f"indicators.{i}.denominator: {ind.denominator!r} is not in columns.denominators")
    imputes = {m.impute.method, *m.robustness.impute}
    if "group_mean" in imputes and not m.impute.group:
        raise ValueError("impute.group: the group_mean method needs a grouping column")
    if m.impute.group and m.impute.group not in m.columns.groups:
        raise ValueError(f"impute.group: {m.impute.group!r} is not in columns.groups")
    lo, hi = m.normalise.range
    if not hi > lo:
        raise ValueError(f"normalise.range: high must exceed low, got {[lo, hi]}")
    methods = {m.normalise.method, *m.robustness.normalise}
    if m.aggregate.p == 0 and "a_genmean" in {m.aggregate.method, *m.aggregate.by_level.values()}:
        raise ValueError("aggregate.p: a_genmean needs p != 0 (p = 0 is a_gmean)")
    if m.normalise.method == "n_dist2ref" and not m.normalise.ref_unit:
        raise ValueError("normalise.ref_unit: the n_dist2ref method needs the id of a reference unit")
    if m.impute.method == "worst" or "worst" in m.robustness.impute:
        for i, ind in scored.items():
            if target_worst(ind)[1] is None:
                raise ValueError(f"indicators.{i}.worst: needed by the worst imputation")
    for i, ind in scored.items():
        if ind.error == "mean" and ind.sd is None:
            raise ValueError(f"indicators.{i}.sd: the mean error needs the sd of one answer")
    if m.robustness.targets is not None and m.robustness.targets.worst and m.robustness.targets.spread >= 0.5:
        raise ValueError("robustness.targets.spread: below 0.5 when worst values move too (they must not cross)")
    if m.decision is not None and m.decision.probability is not None:
        relative = sorted(set(m.robustness.normalise) & set(RELATIVE))
        if relative:
            raise ValueError(f"robustness.normalise: {relative} depend on who else submitted; a criterion-"
                             "referenced decision (decision.probability) must not vary them")
    if m.panel is not None:
        for sid, std in m.panel.standards.items():
            if std.dimension not in m.aggregates:
                raise ValueError(f"panel.standards.{sid}.dimension: {std.dimension!r} is not an aggregate")
    for i, ind in scored.items():
        t, w = target_worst(ind)
        uses_target = "distance_to_target" in methods or ("goalposts" in methods and ind.goalposts is None)
        if uses_target and t is not None and w is None:
            raise ValueError(f"indicators.{i}.worst: needed with a target for a lower-is-better indicator")
        if t is not None and w is not None and np.sign(t - w) != ind.direction:
            raise ValueError(f"indicators.{i}: target {t} and worst {w} disagree with direction {ind.direction}")
        if methods & {"distance_to_target", "n_dist2targ"} and t is None:
            raise ValueError(f"indicators.{i}.target: needed by the distance_to_target method")
        if "goalposts" in methods and ind.goalposts is None and t is None:
            raise ValueError(f"indicators.{i}.goalposts: needed by the goalposts method (or a target)")
        if ind.goalposts is not None and not ind.goalposts[1] > ind.goalposts[0]:
            raise ValueError(f"indicators.{i}.goalposts: [low, high] with high > low expected")
    for lev in m.aggregate.by_level:
        if lev < 2:
            raise ValueError(f"aggregate.by_level: level {lev} is not an aggregation level (levels start at 2)")
    known = set(m.indicators) | set(m.aggregates)
    for gid, gate in m.gates.items():
        try:
            expr = parse_gate(gate.rule)
        except ValueError as exc:
            raise ValueError(f"gates.{gid}.rule: {exc}") from None
        unknown = sorted(expr.names() - known)
        if unknown:
            raise ValueError(f"gates.{gid}.rule: {', '.join(unknown)} is not an indicator or aggregate of the model")
    if m.decision is not None:
        root = roots[0]
        for level_name in ("awarded", "conditional"):
            rule = getattr(m.decision, level_name)
            if isinstance(rule, DecisionRule) and isinstance(rule.dimension_min, dict):
                bad = sorted(set(rule.dimension_min) - set(m.aggregates) - {root})
                if bad:
                    raise ValueError(f"decision.{level_name}.dimension_min: {bad} not aggregates of the model")


def target_worst(ind: ModelIndicator) -> tuple[float | None, float | None]:
    """The (target, worst) pair of distance_to_target; worst defaults to 0 for higher-is-better indicators."""
    worst = ind.worst if ind.worst is not None else (0.0 if ind.direction == 1 else None)
    return ind.target, worst


def goalposts(ind: ModelIndicator) -> tuple[float, float]:
    """[low, high] of the goalposts method: given, or else the (worst, target) pair ordered."""
    if ind.goalposts is not None:
        return ind.goalposts
    t, w = target_worst(ind)
    return (min(t, w), max(t, w))  # type: ignore[type-var]


# ---------------------------------------------------------------------------------------------------------
# loading and --set overrides


def _unwrap(tp: Any) -> Any:
    """Strip Optional[...] / X | None from a type annotation."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        dicts = [a for a in args if typing.get_origin(a) is dict]
        return models[0] if models else dicts[0] if dicts else args[0]
    return tp


def apply_override(raw: dict, assignment: str) -> None:
    """Apply one ``dotted.key=value`` to the raw model dict in place (value parsed as YAML)."""
    if "=" not in assignment:
        raise ModelError(f"--set {assignment!r}: expected KEY=VALUE, e.g. normalise.method=zscore")
    key, _, text = assignment.partition("=")
    parts = [p for p in key.strip().split(".")]
    if not all(parts):
        raise ModelError(f"--set {assignment!r}: empty part in key {key!r}")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        raise ModelError(f"--set {key}: value {text!r} is not valid YAML ({exc})") from None
    node: Any = raw
    tp: Any = ScoringModel
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                raise ModelError(f"--set {key}: unknown key {here!r} (valid: {', '.join(tp.model_fields)})")
            tp = _unwrap(tp.model_fields[part].annotation)
        elif typing.get_origin(tp) is dict:
            value_tp = _unwrap(typing.get_args(tp)[1])
            if isinstance(value_tp, type) and issubclass(value_tp, BaseModel) and part not in node:
                raise ModelError(f"--set {key}: no {part!r} in {'.'.join(parts[:depth])} "
                                 f"(known: {', '.join(map(str, node))})")
            tp = value_tp
        else:
            raise ModelError(f"--set {key}: {'.'.join(parts[:depth])} is a value, it has no key {part!r}")
        if last:
            node[part] = value
        else:
            if node.get(part) is None:
                node[part] = {}
            if not isinstance(node[part], dict):
                raise ModelError(f"--set {key}: {here} is a value, not a section")
            node = node[part]


def _format_validation(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(lines)


def model_from_dict(raw: dict, source: str = "model", overrides: list[str] | None = None) -> ScoringModel:
    """Validate a raw model dict (after overrides) into a :class:`ScoringModel`."""
    raw = json.loads(json.dumps(raw))  # deep copy, plain types
    for assignment in overrides or []:
        apply_override(raw, assignment)
    try:
        return ScoringModel.model_validate(raw)
    except ValidationError as exc:
        raise ModelError(f"{source}: {_format_validation(exc)}") from None
    except ModelError as exc:
        raise ModelError(f"{source}: {exc}") from None


def load_model(path: str | Path, overrides: list[str] | None = None) -> ScoringModel:
    """Read and validate a model YAML file, applying ``--set`` style overrides first."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ModelError(f"{path}: expected a mapping at the top level")
    return model_from_dict(raw, str(path), overrides)

"""What the pages need of the label's scoring model, rebuilt from the model file the results name."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ims_indicators import settings
from ims_indicators.score.model import DECISION_ORDER
from ims_indicators.score.model import DECISIONS as SCORE_DECISIONS

# the decisions as the pages list them, best first (one definition: score/model.py)
DECISIONS = tuple(sorted(DECISION_ORDER, key=lambda d: (-DECISION_ORDER[d], SCORE_DECISIONS.index(d))))
DIMENSION_NAMES = {
    "quality_assurance": "Quality assurance",
    "staff": "Staff training and management",
    "autonomy_accountability": "Autonomy and accountability",
    "student_mobility": "Student mobility",
    "teaching_learning": "Teaching and learning experience",
}


@dataclass
class LabelModel:
    """What the pages need from the scoring model: dimension names, gates and thresholds."""

    name: str
    version: str
    dimensions: dict[str, str] = field(default_factory=dict)  # id -> name, in model order
    overall: str = "overall"
    gates: dict[str, dict] = field(default_factory=dict)  # id -> {rule, description, on_fail}
    thresholds: dict[str, dict] = field(default_factory=dict)  # decision -> {overall_min, dimension_min}


def label_model(labels: pd.DataFrame | None) -> LabelModel | None:
    if labels is None or labels.empty:
        return None
    name = str(labels["model_name"].dropna().iloc[0]) if "model_name" in labels and labels["model_name"].notna().any() \
        else "label_v1"
    version = str(labels["model_version"].dropna().iloc[0]) if "model_version" in labels \
        and labels["model_version"].notna().any() else ""
    lm = LabelModel(name=name, version=version)
    try:
        from ims_indicators.score.model import load_model

        m = load_model(settings.models_dir() / f"{name}.yaml")
        root = m.tree.root
        lm.overall = root
        lm.dimensions = {a: (agg.name or DIMENSION_NAMES.get(a, a)) for a, agg in m.aggregates.items()
                         if agg.parent == root}
        lm.gates = {g: {"rule": gate.rule, "description": gate.description or "", "on_fail": gate.on_fail}
                    for g, gate in (m.gates or {}).items()}
        if m.decision is not None:
            for dec in ("awarded", "conditional"):
                rule = getattr(m.decision, dec, None)
                if rule is not None:
                    lm.thresholds[dec] = {"overall_min": rule.overall_min, "dimension_min": rule.dimension_min}
    except Exception:  # noqa: BLE001 - no model file: dimension columns are the known ones present
        lm.dimensions = {d: n for d, n in DIMENSION_NAMES.items() if d in labels.columns}
    lm.dimensions = {d: n for d, n in lm.dimensions.items() if d in labels.columns}
    return lm

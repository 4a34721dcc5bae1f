"""Weighted aggregation, level by level, vectorised over units and (optionally) Monte Carlo draws.

Every mean skips missing children and rescales the remaining weights (COINr ``a_amean``/``a_gmean``/
``a_hmean`` with NAs removed); a parent with no child value, or with zero total weight, is missing.

Zero rule for the geometric and harmonic means (``zeros: rescale``, the default): values on the
normalisation scale ``[lo, hi]`` are first mapped linearly to ``[1, 100]``, averaged there, and the mean is
mapped back, so a zero indicator pulls a score down without annihilating it. ``zeros: error`` refuses
any value <= 0 instead (COINr's behaviour).
"""

from __future__ import annotations

import numpy as np

METHODS = ("arithmetic", "geometric", "harmonic", "a_amean", "a_gmean", "a_hmean", "a_genmean")
COINR = {"a_amean": "arithmetic", "a_gmean": "geometric", "a_hmean": "harmonic"}  # same formulas, COINr names


class AggregationError(ValueError):
    """A geometric/harmonic mean met a value <= 0 under ``zeros: error``."""


def weighted_mean(x: np.ndarray, w: np.ndarray, member: np.ndarray, method: str = "arithmetic",
                  bounds: tuple[float, float] | None = None, zeros: str = "rescale", p: float = 2.0) -> np.ndarray:
    """Aggregate children ``x[..., u, c]`` into parents ``[..., u, p]``.

    ``w`` are the children's weights, shape ``(c,)`` or ``(..., 1, c)`` (one set per draw); ``member`` is
    the ``c x p`` 0/1 matrix saying which parent each child belongs to; ``bounds`` the normalisation scale.
    ``a_genmean`` is COINr's generalised mean ``(Σ w x^p / Σ w)^(1/p)`` (``p`` != 0; p = 1 arithmetic,
    p = -1 harmonic); missing children are skipped as in the other means (COINr's own ``a_genmean``
    returns NA when any child is missing).
    """
    method = COINR.get(method, method)
    if method == "a_genmean" and p == 0:
        raise ValueError("a_genmean: p = 0 is the geometric mean (use a_gmean)")
    shape = np.broadcast_shapes(x.shape, np.shape(w))
    if method in ("arithmetic", "geometric") and not np.isnan(x).any():
        return _full_mean(x, w, member, method, bounds, zeros)
    x = np.broadcast_to(x, shape)
    has = ~np.isnan(x)
    wm = np.broadcast_to(w, shape) * has  # weights of present children only
    den = wm @ member
    rescaled = method != "arithmetic" and not (method == "a_genmean" and p > 0)
    if rescaled:
        lo, hi = bounds if bounds is not None else (0.0, 100.0)
        if zeros == "rescale":
            x = 1.0 + 99.0 * (np.clip(x, lo, hi) - lo) / (hi - lo)
        elif np.any(x[has] <= 0):
            raise AggregationError(f"{method} mean: values <= 0 found (set aggregate.zeros: rescale to map to 1..100)")
    xs = np.where(has, x, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            out = (xs * wm) @ member / den
        elif method == "geometric":
            out = np.exp((np.log(xs) * wm) @ member / den)
        elif method == "harmonic":
            out = den / ((wm / xs) @ member)
        elif method == "a_genmean":
            out = ((xs ** p * wm) @ member / den) ** (1.0 / p)
        else:
            raise ValueError(f"unknown aggregation method {method!r}")
    out = np.where(den > 0, out, np.nan)
    if rescaled and zeros == "rescale":
        out = lo + (out - 1.0) * (hi - lo) / 99.0
    return out


def _full_mean(x: np.ndarray, w: np.ndarray, member: np.ndarray, method: str,
               bounds: tuple[float, float] | None, zeros: str) -> np.ndarray:
    """The arithmetic or geometric mean when every child has a value: one (batched) matrix product with the
    weights folded into the membership matrix, ``x @ (w * member)``, so no weighted copy of the
    ``draws x units x children`` array is made (a child left out has weight 0)."""
    w = np.asarray(w, dtype=float)
    wm = np.swapaxes(w, -1, -2) * member if w.ndim > 1 else w[:, None] * member  # (..., c, p)
    den = w @ member
    y, lo, hi = x, 0.0, 0.0
    if method == "geometric":
        lo, hi = bounds if bounds is not None else (0.0, 100.0)
        if zeros == "rescale":  # 1 + 99 (clip(x) - lo) / (hi - lo), in place on one copy
            y = np.clip(x, lo, hi)
            y -= lo
            y *= 99.0 / (hi - lo)
            y += 1.0
        elif np.any(x <= 0):
            raise AggregationError(f"{method} mean: values <= 0 found (set aggregate.zeros: rescale to map to 1..100)")
        y = np.log(y, out=y) if y is not x else np.log(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = y @ wm / den
        if method == "geometric":
            out = np.exp(out)
    out = np.where(den > 0, out, np.nan)
    if method == "geometric" and zeros == "rescale":
        out = lo + (out - 1.0) * (hi - lo) / 99.0
    return out


def aggregate_tree(x: np.ndarray, weights: np.ndarray, levels: list, methods: dict[int, str],
                   bounds: tuple[float, float], zeros: str = "rescale", p: float = 2.0) -> np.ndarray:
    """Aggregate normalised indicators ``x[..., u, i]`` up the tree.

    ``weights`` is ``(n_nodes,)`` or ``(..., n_nodes)`` (per draw), in :class:`~ims_indicators.score.model.Tree`
    node order; ``levels`` is ``Tree.levels``; ``methods`` maps each level to a method. Returns all node
    scores ``[..., u, n_nodes]`` (indicators first, then aggregates).
    """
    n_ind = x.shape[-1]
    n_nodes = weights.shape[-1]
    out = np.empty(x.shape[:-1] + (n_nodes,))
    out[..., :n_ind] = x
    out[..., n_ind:] = np.nan
    for lev, kids, parents, member in levels:
        w = weights[..., kids]
        if w.ndim > 1:
            w = w[..., None, :]  # (..., 1, c): one weight set per draw, the same for every unit
        if list(kids) == list(range(n_ind)):  # the indicators: read x itself
            children = x
        elif list(kids) == list(range(kids[0], kids[0] + len(kids))):
            children = out[..., kids[0]:kids[0] + len(kids)]  # a view, not a copy
        else:
            children = out[..., kids]
        out[..., parents] = weighted_mean(children, w, member, methods[lev], bounds, zeros, p)
    return out

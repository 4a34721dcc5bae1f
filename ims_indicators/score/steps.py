"""The steps of the composite-indicator chain as plain, vectorised functions.

Arrays are ``units x indicators`` (``x[..., u, i]``); normalisation also takes a leading draws axis
so the Monte Carlo in :mod:`robustness` runs the very same code. Missing values are ``NaN``.
Each step follows the OECD/JRC handbook and, where it names one, COINr's rule exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata


def denominate(x: np.ndarray, denominators: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """``x / denominator * scale`` per cell (COINr ``Denominate``); a missing or zero denominator makes the
    cell missing. ``denominators`` has the shape of ``x``, with 1 in the columns that are not denominated.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x / denominators * scale
    out[np.isinf(out)] = np.nan
    return out


def impute(x: np.ndarray, method: str, groups: np.ndarray | None = None,
           worst: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fill missing cells column-wise; returns ``(filled, imputed_mask)``.

    ``worst`` (the conservative rule of an absolute label) fills each missing cell with the indicator's
    worst value, so a missing part can never score above any value that was sent.
    ``mean`` / ``median`` use the column over all units; ``group_mean`` the column's mean within the
    unit's group (COINr ``i_mean_grp``). A cell stays missing when nothing is there to impute from.
    """
    missing = np.isnan(x)
    if method == "none" or not missing.any():
        return x.copy(), np.zeros_like(missing)
    out = x.copy()
    if method in ("mean", "median"):
        fill = _nanstat(x, method)
        out = np.where(missing, fill[None, :], x)
    elif method == "worst":
        if worst is None:
            raise ValueError("worst imputation needs each indicator's worst value")
        out = np.where(missing, np.asarray(worst, dtype=float)[None, :], x)
    elif method == "group_mean":
        if groups is None:
            raise ValueError("group_mean imputation needs a group for each unit")
        for g in np.unique(groups.astype(str)):
            rows = groups.astype(str) == g
            fill = _nanstat(x[rows], "mean")
            out[rows] = np.where(missing[rows], fill[None, :], x[rows])
    else:
        raise ValueError(f"unknown imputation method {method!r}")
    return out, missing & ~np.isnan(out)


def _nanstat(x: np.ndarray, stat: str) -> np.ndarray:
    """Column mean/median ignoring NaN, NaN for an all-missing column (without warnings)."""
    out = np.full(x.shape[1], np.nan)
    has = (~np.isnan(x)).any(axis=0)
    if has.any():
        f = np.nanmean if stat == "mean" else np.nanmedian
        out[has] = f(x[:, has], axis=0)
    return out


def availability(x: np.ndarray) -> np.ndarray:
    """Share of non-missing indicators per unit."""
    if x.shape[1] == 0:
        return np.ones(x.shape[0])
    return 1.0 - np.isnan(x).mean(axis=1)


def screen(x: np.ndarray, threshold: float) -> np.ndarray:
    """Mask of units kept: data availability ``>= threshold`` (COINr ``Screen(unit_screen="byNA")``)."""
    return availability(x) >= threshold - 1e-12


# --------------------------------------------------------------------------------------------- outliers


def skew(x: np.ndarray) -> float:
    """Sample skewness, e1071 type 2 (as Excel and COINr ``skew()``), NaN removed."""
    x = x[~np.isnan(x)]
    n = len(x)
    d = x - x.mean()
    m2 = np.sum(d**2)
    if n < 3 or m2 == 0:
        return float("nan")
    y = np.sqrt(n) * np.sum(d**3) / m2**1.5
    return float(y * np.sqrt(n * (n - 1)) / (n - 2))


def kurt(x: np.ndarray) -> float:
    """Sample excess kurtosis, e1071 type 2 (as Excel and COINr ``kurt()``), NaN removed."""
    x = x[~np.isnan(x)]
    n = len(x)
    d = x - x.mean()
    m2 = np.sum(d**2)
    if n < 4 or m2 == 0:
        return float("nan")
    r = n * np.sum(d**4) / m2**2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes(x: np.ndarray, skew_thresh: float = 2.0, kurt_thresh: float = 3.5) -> bool:
    """COINr ``check_SkewKurt``: pass if ``|skew| < skew_thresh`` or ``kurtosis < kurt_thresh``.

    A column whose moments are undefined (fewer than 4 values, or constant) passes: there is no outlier to treat.
    """
    s, k = skew(x), kurt(x)
    if np.isnan(s) or np.isnan(k):
        return True
    return bool(abs(s) < skew_thresh or k < kurt_thresh)


@dataclass
class Treatment:
    """What the outlier step did to one indicator."""

    treatment: str  # none | winsorise | log | skipped
    skew0: float
    kurt0: float
    nwin: int = 0
    skew1: float = float("nan")
    kurt1: float = float("nan")
    passed: bool = True
    points: dict[int, str] = field(default_factory=dict)  # row index -> "winhi" | "winlo" | "log"


def winsorise(x: np.ndarray, winmax: int = 5, skew_thresh: float = 2.0,
              kurt_thresh: float = 3.5) -> tuple[np.ndarray, int, dict[int, str]]:
    """COINr ``winsorise()``: while failing and ``nwin < winmax``, replace the extreme on the side of the skew
    (and every point tied with it) by the next value. ``nwin`` counts the points tied at the winsorised
    extreme(s) after the last step, so ties can take it past ``winmax``."""
    x = x.astype(float).copy()
    imax: np.ndarray = np.array([], dtype=int)
    imin: np.ndarray = np.array([], dtype=int)
    nwin = 0
    ok = passes(x, skew_thresh, kurt_thresh)
    while not ok and nwin < winmax:
        if skew(x) >= 0:
            imax = np.flatnonzero(x == np.nanmax(x))
            x[imax] = np.nanmax(np.delete(x, imax))
        else:
            imin = np.flatnonzero(x == np.nanmin(x))
            x[imin] = np.nanmin(np.delete(x, imin))
        nwin = len(imax) + len(imin)
        ok = passes(x, skew_thresh, kurt_thresh)
    points = {int(i): "winhi" for i in imax}
    points.update({int(i): "winlo" for i in imin})
    return x, nwin, points


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr ``log_CT``: ``log(x - min + 0.01 * (max - min))``."""
    mn, mx = np.nanmin(x), np.nanmax(x)
    return np.log(x - mn + 0.01 * (mx - mn))


def treat_column(x: np.ndarray, winmax: int = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                 log: bool = True) -> tuple[np.ndarray, Treatment]:
    """COINr ``Treat()`` defaults for one column: winsorise, and if that does not pass, log-transform the
    **original** column instead (``combine_treat = FALSE``)."""
    s0, k0 = skew(x), kurt(x)
    if (~np.isnan(x)).sum() < 4 or np.isnan(s0) or np.isnan(k0):
        return x, Treatment("skipped" if (~np.isnan(x)).sum() < 4 else "none", s0, k0)
    if passes(x, skew_thresh, kurt_thresh):
        return x, Treatment("none", s0, k0)
    xw, nwin, points = winsorise(x, winmax, skew_thresh, kurt_thresh)
    ok = passes(xw, skew_thresh, kurt_thresh)
    if ok or not log:
        return xw, Treatment("winsorise", s0, k0, nwin, skew(xw), kurt(xw), ok, points)
    xl = log_ct(x)
    logged = {int(i): "log" for i in np.flatnonzero(~np.isnan(x))}
    return xl, Treatment("log", s0, k0, 0, skew(xl), kurt(xl), passes(xl, skew_thresh, kurt_thresh), logged)


def treat(x: np.ndarray, winmax: int = 5, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
          log: bool = True) -> tuple[np.ndarray, list[Treatment]]:
    """Treat every column separately; returns the treated array and one :class:`Treatment` per column."""
    out = x.astype(float).copy()
    records = []
    for j in range(x.shape[1]):
        out[:, j], rec = treat_column(x[:, j], winmax, skew_thresh, kurt_thresh, log)
        records.append(rec)
    return out, records


# ------------------------------------------------------------------------------------------- normalise


@dataclass(frozen=True)
class CoinrParams:
    """Parameters of COINr's ``n_*`` functions, with COINr 1.1's defaults (``range`` is ``l_u`` of n_minmax)."""

    m_sd: tuple[float, float] = (0.0, 1.0)  # n_zscore
    npara: tuple[float, float] = (0.0, 100.0)  # n_scaled
    scale_factor: float = 100.0  # n_scaled
    goalpost_scale: float = 1.0  # n_goalposts gposts[3]
    trunc2posts: bool = True  # n_goalposts
    cap_max: bool = False  # n_dist2targ, n_dist2ref
    ties: str = "min"  # n_rank, n_prank, n_borda (R ``ties.method``)
    ref_index: int | None = None  # n_dist2ref: row of the reference unit


@dataclass(frozen=True)
class NormaliseParams:
    """Per-indicator parameters of every normalisation method (arrays over indicators)."""

    direction: np.ndarray  # (i,) +1 / -1
    target: np.ndarray  # (i,) NaN where not set
    worst: np.ndarray  # (i,)
    post_lo: np.ndarray  # (i,) goalposts low
    post_hi: np.ndarray  # (i,) goalposts high
    lo: float = 0.0
    hi: float = 100.0
    mean_sd: tuple[float, float] = (50.0, 10.0)
    coinr: CoinrParams = field(default_factory=CoinrParams)


COINR_NORMALISE = ("n_minmax", "n_zscore", "n_scaled", "n_fracmax", "n_prank", "n_rank", "n_borda", "n_goalposts",
                   "n_dist2targ", "n_dist2ref", "n_dist2max")
RELATIVE = ("minmax", "zscore", "rank", "n_minmax", "n_zscore", "n_fracmax", "n_prank", "n_rank", "n_borda",
            "n_dist2targ", "n_dist2ref", "n_dist2max")  # depend on the other units scored with it
_TIES = {"min": "min", "average": "average", "max": "max", "first": "ordinal"}


def _col_min(y: np.ndarray, has: np.ndarray) -> np.ndarray:
    return np.min(np.where(has, y, np.inf), axis=-2, keepdims=True)


def _col_max(y: np.ndarray, has: np.ndarray) -> np.ndarray:
    return np.max(np.where(has, y, -np.inf), axis=-2, keepdims=True)


def normalise_coinr(x: np.ndarray, method: str, p: NormaliseParams, target: np.ndarray | None = None) -> np.ndarray:
    """COINr 1.1's ``n_*`` functions, column-wise, as ``Normalise()`` calls them.

    As in COINr, the values are multiplied by the direction first (``x * direction``), and parameters in
    the indicator's own units are flipped with it (target x direction; goalposts ``(-high, -low)`` when
    lower is better). Missing values stay missing and are ignored by min, max, mean, sd and ranks. A
    zero range gives NaN (COINr warns and returns NaN). Formulas, with ``y = direction * x``:

    ``n_minmax`` ``(y - min)/(max - min) (u - l) + l`` with ``[l, u]`` = ``range``;
    ``n_zscore`` ``(y - mean)/sd * m_sd[1] + m_sd[0]`` (sd with n - 1; default m_sd ``(0, 1)``);
    ``n_scaled`` ``(y - npara[0])/(npara[1] - npara[0]) * scale_factor`` (defaults ``(0, 100)``, 100);
    ``n_fracmax`` ``y / max``; ``n_rank`` the rank (ties ``min``, 1 = lowest); ``n_borda`` rank - 1;
    ``n_prank`` ``(rank - 1)/(n - 1)``; ``n_goalposts`` ``clip((y - lo)/(hi - lo), 0, 1) * goalpost_scale``;
    ``n_dist2targ`` ``(y - min)/(target - min)``, capped at 1 if ``cap_max``; ``n_dist2ref``
    ``1 - (y_ref - y)/(y_ref - min)`` (capped if ``cap_max``); ``n_dist2max`` ``1 - (max - y)/(max - min)``.
    """
    c = p.coinr
    d = p.direction
    y = x * d
    has = ~np.isnan(y)
    if y.shape[-2] == 0:  # no unit to normalise (a year with nobody kept): nothing to reduce over
        return np.full(y.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method in ("n_minmax", "n_dist2max", "n_dist2targ", "n_dist2ref"):
            mn = _col_min(y, has)
        if method in ("n_minmax", "n_dist2max", "n_fracmax"):
            mx = _col_max(y, has)
        if method == "n_minmax":
            out = (y - mn) / np.where(mx > mn, mx - mn, np.nan) * (p.hi - p.lo) + p.lo
        elif method == "n_dist2max":
            out = 1 - (mx - y) / np.where(mx > mn, mx - mn, np.nan)
        elif method == "n_fracmax":
            out = y / mx
        elif method == "n_zscore":
            n = has.sum(axis=-2, keepdims=True)
            mean = np.where(has, y, 0).sum(axis=-2, keepdims=True) / n
            sd = np.sqrt((np.where(has, y - mean, 0) ** 2).sum(axis=-2, keepdims=True) / (n - 1))
            out = (y - mean) / np.where(sd > 0, sd, np.nan) * c.m_sd[1] + c.m_sd[0]
        elif method == "n_scaled":
            lo, hi = c.npara
            out = (y - lo) / (hi - lo) * c.scale_factor
        elif method in ("n_rank", "n_borda", "n_prank"):
            r = rankdata(np.where(has, y, np.nan), method=_TIES[c.ties], axis=-2, nan_policy="omit")
            if method == "n_borda":
                r = r - 1
            elif method == "n_prank":
                r = (r - 1) / (has.sum(axis=-2, keepdims=True) - 1)
            out = np.where(has, r, np.nan)
        elif method == "n_goalposts":
            lo = np.where(d > 0, p.post_lo, -p.post_hi)
            hi = np.where(d > 0, p.post_hi, -p.post_lo)
            s = (y - lo) / (hi - lo)
            if c.trunc2posts:
                s = np.clip(s, 0.0, 1.0)
            out = s * c.goalpost_scale
        elif method == "n_dist2targ":
            t = (p.target if target is None else target) * d
            out = (y - mn) / (t - mn)
            if c.cap_max:
                out = np.minimum(out, 1.0)
        elif method == "n_dist2ref":
            if c.ref_index is None:
                raise ValueError("n_dist2ref needs a reference unit (normalise.ref_unit)")
            ref = y[..., c.ref_index:c.ref_index + 1, :]
            out = 1 - (ref - y) / (ref - mn)
            if c.cap_max:
                out = np.minimum(out, 1.0)
        else:
            raise ValueError(f"unknown normalisation method {method!r}")
    return np.where(has, out, np.nan)


def normalise(x: np.ndarray, method: str, p: NormaliseParams, target: np.ndarray | None = None,
              worst: np.ndarray | None = None) -> np.ndarray:
    """Normalise ``x[..., units, indicators]`` column-wise onto ``[p.lo, p.hi]`` (zscore: mean/sd ``p.mean_sd``).

    - ``distance_to_target``: ``(x - worst) / (target - worst)`` clipped to [0, 1]; uses no other unit, so a
      unit's score does not depend on who else is scored. ``target`` and ``worst`` may carry a leading
      draws axis.
    - ``n_*``: COINr's own functions (:func:`normalise_coinr`).
    - ``goalposts``: ``(x - low) / (high - low)`` (``(high - x)/...`` if lower is better) clipped to [0, 1].
    - ``minmax``: ``(d*x - min) / (max - min)`` with ``d`` the direction (COINr ``n_minmax``); a constant
      column gets the middle of the range.
    - ``zscore``: ``(d*x - mean) / sd`` (sd with n-1) times the target sd plus the target mean.
    - ``rank``: average rank of ``d*x`` among units with a value, mapped to the range (worst = low, best = high).
    """
    if method.startswith("n_"):
        return normalise_coinr(x, method, p, target)
    lo, hi = p.lo, p.hi
    d = p.direction
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "distance_to_target":
            t = p.target if target is None else target
            w = p.worst if worst is None else worst
            s = np.subtract(x, w, out=np.empty(np.broadcast_shapes(np.shape(x), np.shape(w), np.shape(t))))
            s /= t - w  # (x - w) / (t - w), clipped to [0, 1] and mapped to [lo, hi] in place
            np.clip(s, 0.0, 1.0, out=s)
            s *= hi - lo
            s += lo
            return s
        if method == "goalposts":
            s = np.where(d > 0, x - p.post_lo, p.post_hi - x) / (p.post_hi - p.post_lo)
            return lo + np.clip(s, 0.0, 1.0) * (hi - lo)
        y = x * d
        if y.shape[-2] == 0:  # no unit left in this cross-section (e.g. a year with one screened-out school)
            return y.copy()
        has = ~np.isnan(y)
        if method == "minmax":
            mn = np.nanmin(np.where(has, y, np.inf), axis=-2, keepdims=True)
            mx = np.nanmax(np.where(has, y, -np.inf), axis=-2, keepdims=True)
            span = mx - mn
            s = np.where(span > 0, (y - mn) / np.where(span > 0, span, 1.0), 0.5)
            return np.where(has, lo + s * (hi - lo), np.nan)
        if method == "zscore":
            n = has.sum(axis=-2, keepdims=True)
            mean = np.where(has, y, 0).sum(axis=-2, keepdims=True) / np.maximum(n, 1)
            var = (np.where(has, y - mean, 0) ** 2).sum(axis=-2, keepdims=True) / np.maximum(n - 1, 1)
            sd = np.sqrt(var)
            z = np.where(sd > 0, (y - mean) / np.where(sd > 0, sd, 1.0), 0.0)
            return np.where(has, p.mean_sd[0] + z * p.mean_sd[1], np.nan)
        if method == "rank":
            r = rankdata(y, method="average", axis=-2, nan_policy="omit")
            n = has.sum(axis=-2, keepdims=True)
            s = np.where(n > 1, (r - 1) / np.maximum(n - 1, 1), 0.5)
            return np.where(has, lo + s * (hi - lo), np.nan)
    raise ValueError(f"unknown normalisation method {method!r}")


def normalised_bounds(method: str, p: NormaliseParams) -> tuple[float, float]:
    """The scale a method produces (zscore: mean +- 3 sd), used by the geometric/harmonic zero rule."""
    if method == "zscore":
        m, s = p.mean_sd
        return m - 3 * s, m + 3 * s
    if method == "n_zscore":
        m, s = p.coinr.m_sd
        return m - 3 * s, m + 3 * s
    if method in ("n_fracmax", "n_prank", "n_dist2max", "n_dist2targ", "n_dist2ref"):
        return 0.0, 1.0
    if method == "n_goalposts":
        return 0.0, p.coinr.goalpost_scale
    if method == "n_scaled":
        return 0.0, p.coinr.scale_factor
    return p.lo, p.hi

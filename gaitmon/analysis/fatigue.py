"""Fatigue drift within one session: pelvic drop per side against time and distance.

A side is **flagged** when the drop rose by at least ``threshold_deg`` over the session
(slope × duration) *and* the 95 % CI of the slope lies entirely above zero — so noise alone does
not raise a flag. Slopes: deg/min (time) and deg/km (distance, see :mod:`gaitmon.analysis.distance`
for how distance is estimated). Steps with quality below ``min_quality`` are left out (counted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gaitmon.analysis.distance import DEFAULT_LEG_M, cumulative_distance_m, step_length_m
from gaitmon.analysis.stats import SlopeFit, slope_ci

DEFAULT_THRESHOLD_DEG = 1.0  # rise over the session that counts as fatigue (configurable)
MIN_QUALITY = 0.5
MIN_STEPS = 30
MIN_DURATION_S = 120.0


def _get(s, k):
    return s[k] if isinstance(s, dict) else getattr(s, k)


def step_arrays(steps) -> dict[str, np.ndarray]:
    """Column arrays of steps (``gaitmon.core.Step`` objects or dicts with the §3 columns)."""
    cols = ("t_ic_s", "side", "cadence_spm", "pelvic_drop_deg", "vertical_oscillation_cm",
            "activity", "quality", "step_time_s", "contact_time_s")
    out = {}
    for c in cols:
        vals = [_get(s, c) if (not isinstance(s, dict) or c in s) else math.nan for s in steps]
        out[c] = np.asarray(vals, dtype=object if c in ("side", "activity") else float)
    for c in ("side", "activity"):
        out[c] = out[c].astype(str)
    return out


@dataclass
class SideDrift:
    """Drift of one side's drop (deg) over the session."""

    side: str
    n: int
    per_min: SlopeFit  # deg/min
    per_km: SlopeFit  # deg/km
    rise_deg: float  # slope × session duration
    first_mean_deg: float  # mean of the first quarter of the session
    last_mean_deg: float  # mean of the last quarter
    flagged: bool
    reason: str

    def as_dict(self) -> dict:
        f = lambda x: None if x is None or not math.isfinite(x) else round(float(x), 3)  # noqa: E731
        return {"side": self.side, "n": self.n, "slope_deg_per_min": f(self.per_min.slope),
                "ci95_deg_per_min": None if self.per_min.ci95 is None else [f(v) for v in self.per_min.ci95],
                "slope_deg_per_km": f(self.per_km.slope),
                "ci95_deg_per_km": None if self.per_km.ci95 is None else [f(v) for v in self.per_km.ci95],
                "rise_deg": f(self.rise_deg), "first_quarter_mean_deg": f(self.first_mean_deg),
                "last_quarter_mean_deg": f(self.last_mean_deg), "flagged": self.flagged, "reason": self.reason}


@dataclass
class FatigueResult:
    """Per-side drift of a session plus the inputs that shaped it."""

    sides: dict[str, SideDrift]
    duration_s: float
    distance_m: float
    threshold_deg: float
    steps_used: int
    steps_low_quality: int
    distance_model: str
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return any(d.flagged for d in self.sides.values())

    def as_dict(self) -> dict:
        return {"flagged": self.flagged, "threshold_deg": self.threshold_deg,
                "duration_s": round(self.duration_s, 1), "distance_m": round(self.distance_m, 1),
                "distance_model": self.distance_model, "steps_used": self.steps_used,
                "steps_low_quality": self.steps_low_quality, "notes": list(self.notes),
                "sides": {k: v.as_dict() for k, v in self.sides.items()}}

    def influx_fields(self, side: str) -> dict[str, float]:
        """Numeric fields of the ``fatigue`` measurement for one side (NaN/None left out)."""
        d = self.sides[side]
        vals = {"slope_deg_per_min": d.per_min.slope, "slope_deg_per_km": d.per_km.slope,
                "ci95_lo_deg_per_min": d.per_min.ci95[0] if d.per_min.ci95 else None,
                "ci95_hi_deg_per_min": d.per_min.ci95[1] if d.per_min.ci95 else None,
                "rise_deg": d.rise_deg, "first_quarter_mean_deg": d.first_mean_deg,
                "last_quarter_mean_deg": d.last_mean_deg, "threshold_deg": self.threshold_deg,
                "flagged": 1.0 if d.flagged else 0.0, "steps": float(d.n),
                "duration_s": self.duration_s, "distance_m": self.distance_m}
        return {k: float(v) for k, v in vals.items() if v is not None and math.isfinite(v)}


def fatigue_drift(steps, *, threshold_deg: float = DEFAULT_THRESHOLD_DEG, min_quality: float = MIN_QUALITY,
                  leg_length_m: float = DEFAULT_LEG_M, run_step_length_m: float | None = None) -> FatigueResult:
    """Drift of pelvic drop per side over a session (see module doc for the flag rule)."""
    if not threshold_deg > 0:
        raise ValueError("fatigue threshold must be > 0 degrees")
    a = step_arrays(steps)
    order = np.argsort(a["t_ic_s"], kind="stable")
    a = {k: v[order] for k, v in a.items()}
    # distance over every step (low-quality steps still cover ground)
    sl = step_length_m(a["vertical_oscillation_cm"], a["activity"], leg_length_m=leg_length_m,
                       run_step_length_m=run_step_length_m)
    dist = cumulative_distance_m(sl)
    good = (a["quality"] >= min_quality) & np.isfinite(a["pelvic_drop_deg"]) & np.isfinite(a["t_ic_s"])
    notes = []
    t = a["t_ic_s"]
    duration = float(t[good].max() - t[good].min()) if good.sum() > 1 else 0.0
    total_dist = float(dist[-1] + (sl[-1] if len(sl) and np.isfinite(sl[-1]) else 0.0)) if len(dist) else 0.0
    model = ("run: step length %s" % (f"{run_step_length_m:.2f} m (given)" if run_step_length_m
                                       else f"{1.3 * leg_length_m:.2f} m (1.3 × leg {leg_length_m:.2f} m)")
             + "; walk: Zijlstra inverted pendulum, leg %.2f m" % leg_length_m)
    if duration < MIN_DURATION_S:
        notes.append(f"session shorter than {MIN_DURATION_S:.0f} s of good steps: drift not assessed")
    sides = {}
    for side in ("L", "R"):
        m = good & (a["side"] == side)
        n = int(m.sum())
        tt, dd, xx = t[m], a["pelvic_drop_deg"][m], dist[m] / 1000.0
        if n < MIN_STEPS or duration < MIN_DURATION_S:
            empty = SlopeFit(math.nan, math.nan, None, n, math.nan)
            sides[side] = SideDrift(side, n, empty, empty, math.nan, math.nan, math.nan, False,
                                    "too few steps or too short to assess drift")
            continue
        fit_t = slope_ci(tt / 60.0, dd)
        fit_d = slope_ci(xx, dd) if np.ptp(xx) > 0 else SlopeFit(math.nan, math.nan, None, n, math.nan)
        rise = fit_t.slope * duration / 60.0
        q = max(n // 4, 1)
        first, last = float(dd[:q].mean()), float(dd[-q:].mean())
        ci_lo = fit_t.ci95[0] if fit_t.ci95 else math.nan
        if rise >= threshold_deg and ci_lo > 0:
            flagged, reason = True, (f"drop rose {rise:.1f}° over {duration / 60:.0f} min "
                                     f"(≥ {threshold_deg:g}°, CI of the slope above 0)")
        elif ci_lo > 0:
            flagged, reason = False, f"drop rose {rise:.1f}°, below the {threshold_deg:g}° threshold"
        else:
            flagged, reason = False, "no clear rise (CI of the slope includes 0 or is below)"
        sides[side] = SideDrift(side, n, fit_t, fit_d, rise, first, last, flagged, reason)
    return FatigueResult(sides, duration, total_dist, float(threshold_deg), int(good.sum()),
                         int((~good).sum()), model, notes)

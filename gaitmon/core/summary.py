"""Session summary (data-contracts §3): per side mean/SD/percentiles of pelvic drop, L−R asymmetry,
drift over the session, cadence, contact time and counts of rejected steps/samples."""

from __future__ import annotations

import math

import numpy as np

from gaitmon.core.types import Step

MIN_QUALITY = 0.5  # steps below this are reported as rejected, not summarised
CERTAIN_SIDE = 0.9  # a step's side counts as certain at this side_confidence
CERTAIN_SESSION_SHARE = 0.8  # a session's sides are certain when this share of its steps is


def side_evidence(steps: list[Step]) -> dict:
    """Where the sides came from and how sure they are (see gaitmon.core.sides); ``steps``: Steps
    or dicts with the step columns.

    ``source``: steps per ``side_source``; ``confidence_median``; ``uncertain_steps`` (side
    confidence < 0.9); ``certain``: whether at least 80 % of the steps have a certain side — when
    not, per-side figures and the asymmetry must not be read as a confident left/right finding;
    ``note``: what a reader must know (e.g. sides from the running drop pattern alone).
    """
    def field(s, name, default):
        v = s.get(name, default) if isinstance(s, dict) else getattr(s, name, default)
        return default if v is None else v

    conf = np.array([field(s, "side_confidence", np.nan) for s in steps], float)
    known = conf[np.isfinite(conf)]
    src: dict = {}
    for s in steps:
        k = field(s, "side_source", "") or "unknown"
        src[k] = src.get(k, 0) + 1
    n_unc = int((known < CERTAIN_SIDE).sum())
    # steps without a confidence (files written before data contracts 1.1) are not judged
    certain = (not len(known)) or bool((known >= CERTAIN_SIDE).mean() >= CERTAIN_SESSION_SHARE)
    notes = []
    if src.get("run") and src["run"] >= 0.5 * len(steps):
        notes.append("running sides come from the drop pattern alone (the swing side is lower in early stance); "
                     "a runner whose stance side drops would be shown mirrored — walk a few steps before the "
                     "run (same bout) to anchor them")
    if not certain and len(known):
        notes.append(f"sides uncertain: {n_unc} of {len(known)} steps below {CERTAIN_SIDE:.0%} confidence; "
                     "the left/right asymmetry is withheld")
    return {"source": src, "confidence_median": _f(np.median(known)) if len(known) else None,
            "uncertain_steps": n_unc, "certain": certain, "note": "; ".join(notes) or None}


def _f(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, 3)


def _trim_mean(x: np.ndarray, cut: float) -> float:
    """Mean after dropping ``cut`` of the values at each end (as scipy.stats.trim_mean; kept here
    because importing scipy.stats costs ~0.4 s of every `gaitmon analyze` start)."""
    x = np.sort(np.asarray(x, float))
    k = int(cut * len(x))
    return float(x[k:len(x) - k].mean())


def _drift(t: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares slope of y (deg) against time in deg/min with a 95 % CI."""
    if len(t) < 6 or np.ptp(t) < 30:
        return {"deg_per_min": None, "ci95": None}
    tm = (t - t.mean()) / 60.0
    slope = float((tm @ (y - y.mean())) / (tm @ tm))
    resid = y - y.mean() - slope * tm
    se = math.sqrt(float(resid @ resid) / (len(t) - 2) / float(tm @ tm))
    return {"deg_per_min": _f(slope), "ci95": [_f(slope - 1.96 * se), _f(slope + 1.96 * se)]}


def summarize(steps: list[Step], *, extra: dict | None = None) -> dict:
    """Summary dict of a session (degrees, seconds, steps/min)."""
    good = [s for s in steps if s.quality >= MIN_QUALITY]
    out: dict = {"steps_total": len(steps), "steps_used": len(good), "steps_rejected": len(steps) - len(good)}
    sides = {}
    for side in ("L", "R"):
        ss = [s for s in good if s.side == side]
        d = np.array([s.pelvic_drop_deg for s in ss])
        t = np.array([s.t_ic_s for s in ss])
        if len(d) == 0:
            sides[side] = {"n": 0}
            continue
        sides[side] = {
            "n": len(d),
            "drop_mean_deg": _f(d.mean()),
            "drop_sd_deg": _f(d.std(ddof=1)) if len(d) > 1 else None,
            "drop_p10_deg": _f(np.percentile(d, 10)),
            "drop_median_deg": _f(np.median(d)),
            "drop_p90_deg": _f(np.percentile(d, 90)),
            "drift": _drift(t, d),
        }
    out["sides"] = sides
    out["side_evidence"] = ev = side_evidence(good)
    if sides["L"].get("n") and sides["R"].get("n") and ev["certain"]:
        out["asymmetry_l_minus_r_deg"] = _f(sides["L"]["drop_mean_deg"] - sides["R"]["drop_mean_deg"])
    else:
        out["asymmetry_l_minus_r_deg"] = None
    if good:
        st = np.array([s.step_time_s for s in good])
        # trimmed mean step time: robust to a few odd steps, not quantised like a median
        out["cadence_spm"] = _f(60.0 / _trim_mean(st, 0.1))
        ct = np.array([s.contact_time_s for s in good])
        out["contact_time_s"] = _f(np.nanmedian(ct)) if np.isfinite(ct).any() else None
        out["vertical_oscillation_cm"] = _f(np.median([s.vertical_oscillation_cm for s in good]))
        acts = [s.activity for s in good]
        out["activity"] = {"run": acts.count("run"), "walk": acts.count("walk")}
        out["duration_s"] = _f(good[-1].t_ic_s - good[0].t_ic_s)
    if extra:
        out.update(extra)
    return out

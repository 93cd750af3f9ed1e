"""Session summary (data-contracts §3): per side mean/SD/percentiles of pelvic drop, L−R asymmetry,
drift over the session, cadence, contact time and counts of rejected steps/samples."""

from __future__ import annotations

import math

import numpy as np

from gaitmon.core.types import STEP_COLUMNS, Step

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

    return _side_evidence(np.array([field(s, "side_confidence", np.nan) for s in steps], float),
                          [field(s, "side_source", "") for s in steps])


def _side_evidence(conf: np.ndarray, sources) -> dict:
    known = conf[np.isfinite(conf)]
    src: dict = {}
    for s in sources:
        src[s or "unknown"] = src.get(s or "unknown", 0) + 1
    n_unc = int((known < CERTAIN_SIDE).sum())
    # steps without a confidence (files written before data contracts 1.1) are not judged
    certain = (not len(known)) or bool((known >= CERTAIN_SIDE).mean() >= CERTAIN_SESSION_SHARE)
    notes = []
    if src.get("run") and src["run"] >= 0.5 * len(conf):
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


def _columns(steps) -> dict[str, np.ndarray]:
    if hasattr(steps, "column"):  # a StepTable: no Step objects built
        return {c: steps.column(c) for c in STEP_COLUMNS}
    return {c: np.array([getattr(s, c) for s in steps]) for c in STEP_COLUMNS}


def summarize(steps: list[Step], *, extra: dict | None = None) -> dict:
    """Summary dict of a session (degrees, seconds, steps/min). ``steps``: a list of Step or a
    :class:`~gaitmon.core.steptable.StepTable`."""
    c = _columns(steps)
    n = len(steps)
    good = c["quality"] >= MIN_QUALITY if n else np.zeros(0, bool)
    n_good = int(good.sum())
    out: dict = {"steps_total": n, "steps_used": n_good, "steps_rejected": n - n_good}
    sides = {}
    for side in ("L", "R"):
        m = good & (c["side"] == side) if n else good
        d = c["pelvic_drop_deg"][m] if n else np.zeros(0)
        t = c["t_ic_s"][m] if n else np.zeros(0)
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
    if n:
        out["side_evidence"] = ev = _side_evidence(c["side_confidence"][good].astype(float),
                                                   c["side_source"][good].tolist())
    else:
        out["side_evidence"] = ev = _side_evidence(np.zeros(0), [])
    if sides["L"].get("n") and sides["R"].get("n") and ev["certain"]:
        out["asymmetry_l_minus_r_deg"] = _f(sides["L"]["drop_mean_deg"] - sides["R"]["drop_mean_deg"])
    else:
        out["asymmetry_l_minus_r_deg"] = None
    if n_good:
        st = c["step_time_s"][good].astype(float)
        # trimmed mean step time: robust to a few odd steps, not quantised like a median
        out["cadence_spm"] = _f(60.0 / _trim_mean(st, 0.1))
        ct = c["contact_time_s"][good].astype(float)
        out["contact_time_s"] = _f(np.nanmedian(ct)) if np.isfinite(ct).any() else None
        out["vertical_oscillation_cm"] = _f(np.median(c["vertical_oscillation_cm"][good]))
        acts = c["activity"][good]
        out["activity"] = {"run": int((acts == "run").sum()), "walk": int((acts == "walk").sum())}
        tg = c["t_ic_s"][good]
        out["duration_s"] = _f(tg[-1] - tg[0])
    if extra:
        out.update(extra)
    return out

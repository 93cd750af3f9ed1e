"""Compare collected steps with the simulator's truth, away from long gaps.

Short holes (a lost packet or two) are bridged by the core and stay in the comparison. Around a
long gap (> LONG_GAP_S, where the core restarts step detection) the comparison skips from 2 s
before the gap to LOCK_ON_S after it (contact detection locks on again). After that every step
counts; its side must be right — or, for the first steps after the gap (AFTER_LONG_GAP_S), be
flagged uncertain (side_confidence < 0.9): the sides are re-decided from new evidence there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LONG_GAP_S = 1.0
LOCK_ON_S = 2.0
AFTER_LONG_GAP_S = 6.0


@dataclass
class TruthMatch:
    n_truth: int  # truth steps compared
    recall: float  # fraction of them found within tol
    ic_median_abs_s: float
    side_accuracy: float
    drop_rmse_deg: float


def match_truth(records, ic, side, drop, steady, gaps, *, tol: float = 0.06) -> TruthMatch:
    """records: StepRecords of one sensor; ic/side/drop/steady: truth on the recording clock;
    gaps: the session's Gap list."""
    long_gaps = [g for g in gaps if g.duration_s > LONG_GAP_S]
    t = np.array([r.step.t_ic_s for r in records])
    hits, errs, sides, d = [], [], [], []
    for i in range(len(drop)):
        if not steady[i]:
            continue
        if any(g.t_before_s - 2.0 < ic[i] < g.t_after_s + LOCK_ON_S for g in long_gaps):
            continue
        fresh = any(g.t_after_s < ic[i] < g.t_after_s + AFTER_LONG_GAP_S for g in long_gaps)
        if any(g.t_before_s - 0.01 < ic[i] < g.t_after_s + 0.01 for g in gaps):
            continue  # the contact itself was never received
        j = int(np.argmin(np.abs(t - ic[i]))) if len(t) else -1
        hit = j >= 0 and abs(t[j] - ic[i]) <= tol
        hits.append(hit)
        if hit:
            errs.append(t[j] - ic[i])
            st = records[j].step
            sides.append(st.side == side[i] or (fresh and st.side_confidence < 0.9))
            d.append(records[j].step.pelvic_drop_deg - drop[i])
    return TruthMatch(n_truth=len(hits), recall=float(np.mean(hits)) if hits else 0.0,
                      ic_median_abs_s=float(np.median(np.abs(errs))) if errs else np.inf,
                      side_accuracy=float(np.mean(sides)) if sides else 0.0,
                      drop_rmse_deg=float(np.sqrt(np.mean(np.square(d)))) if d else np.inf)

"""Evaluation helpers shared by accuracy tests and benchmarks: one-to-one IC matching, F1, sides."""

from __future__ import annotations

import numpy as np


def match_ics(ref_t: np.ndarray, det_t: np.ndarray, tol: float) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of reference and detected ICs within ±tol s (closest first)."""
    pairs = []
    for i, t in enumerate(ref_t):
        d = np.abs(det_t - t)
        for j in np.argsort(d):
            if d[j] > tol:
                break
            pairs.append((float(d[j]), i, int(j)))
            break
    pairs.sort()
    used_r, used_d, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_r and j not in used_d:
            used_r.add(i)
            used_d.add(j)
            out.append((i, j))
    return sorted(out)


def f1(n_match: int, n_ref: int, n_det: int) -> float:
    if n_match == 0:
        return 0.0
    p, r = n_match / n_det, n_match / n_ref
    return 2 * p * r / (p + r)


def evaluate_sim(rec, steps, tol: float = 0.06) -> dict:
    """Compare steps with the simulator's truth on the steady part of the gait."""
    tr = rec.truth
    steady = np.nonzero(tr.steady)[0]
    ref_t = tr.ic_t[steady]
    det_t = np.array([s.t_ic_s for s in steps])
    lo, hi = ref_t.min() - tol, ref_t.max() + tol
    det_idx = np.nonzero((det_t >= lo) & (det_t <= hi))[0]
    pairs = match_ics(ref_t, det_t[det_idx], tol)
    k = steady[[i for i, _ in pairs]]
    st = [steps[det_idx[j]] for _, j in pairs]
    err = np.array([s.pelvic_drop_deg for s in st]) - tr.pelvic_drop_deg[k]
    side_t = tr.side[k]
    terr = np.array([s.t_ic_s for s in st]) - tr.ic_t[k]
    # session cadence: steps per minute over the matched steps (mean step time)
    cad_est = 60.0 / np.mean([s.step_time_s for s in st])
    cad_true = 60.0 / np.mean(tr.step_time_s[k])
    return {
        "f1": f1(len(pairs), len(ref_t), len(det_idx)),
        "n_ref": len(ref_t),
        "t_err_median_s": float(np.median(np.abs(terr))),
        "side_acc": float(np.mean([s.side == t for s, t in zip(st, side_t)])),
        "drop_rmse": float(np.sqrt(np.mean(err**2))),
        "bias_L": float(err[side_t == "L"].mean()),
        "bias_R": float(err[side_t == "R"].mean()),
        "cadence_err_spm": float(abs(cad_est - cad_true)),
        "steps": st,
        "truth_idx": k,
    }

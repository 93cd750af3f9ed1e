"""Truth gait events (initial contacts, toe-offs, sides) from forces or foot markers.

Forces: a contact starts (IC) where the vertical force rises through ``FORCE_THRESHOLD_N`` and ends
(toe-off) where it falls back through it, both linearly interpolated between samples; contacts
shorter than 50 ms (threshold blips) are ignored, a contact already under way at the first sample
has no IC and one still under way at the last sample has no toe-off. The side comes from the
channel when the source separates the feet (``R_fy_N``/``L_fy_N``), else from the foot nearest the
centre of pressure at mid-contact (plates, a single treadmill plate), else from the lower foot.

Foot markers (no forces, or contacts off the plates): a foot-height threshold method of the kind
compared by Fellin et al. (2010) for treadmill and overground running. For each foot, each marker's
height is taken relative to its own level when that foot is flat on the ground (the marker's
minimum over that contact, so a sloped runway does not matter), the foot's height is the lowest of
these, and the IC is where it first comes within ``FOOT_DELTA_M`` of the ground, the toe-off where it
leaves that band (linearly interpolated). Validated against the forces on every trial that has both
(see docs/mocap.md for the timing errors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, filtfilt

from gaitmon.sim.mocap_io import ForceData, MocapTrial

FORCE_THRESHOLD_N = 30.0
MIN_CONTACT_S = 0.05
# foot within 3 mm of its flat-on-the-ground level = contact has begun; more than 15 mm above it =
# toe-off. Chosen on the trials with forces (docs/mocap.md: IC error median −2 ms, mean |e| 5 ms).
FOOT_DELTA_IC_M = 0.003
FOOT_DELTA_TO_M = 0.015


@dataclass
class Contact:
    t_ic: float  # NaN when under way at the start
    t_to: float  # NaN when under way at the end
    side: str  # 'L' | 'R'
    source: str  # 'force' | 'foot_markers'
    channel: str = ""


def _crossings(t: np.ndarray, f: np.ndarray, thr: float) -> list[tuple[float, float]]:
    above = np.nan_to_num(f, nan=0.0) > thr
    out = []
    i = 0
    n = len(f)
    while i < n:
        if above[i]:
            j = i
            while j < n and above[j]:
                j += 1
            if i == 0:
                t0 = np.nan
            else:
                t0 = t[i - 1] + (thr - f[i - 1]) / (f[i] - f[i - 1]) * (t[i] - t[i - 1])
            if j >= n:
                t1 = np.nan
            else:
                t1 = t[j - 1] + (f[j - 1] - thr) / (f[j - 1] - f[j]) * (t[j] - t[j - 1])
            out.append((t0, t1))
            i = j
        else:
            i += 1
    return out


def _foot_points(tr: MocapTrial, R_wl: np.ndarray, side: str) -> np.ndarray:
    names = tr.foot_names(side)
    if not names:
        raise ValueError(f"{tr.name}: no {side} foot markers (heel/CAL, TOE, MT1/MT5...)")
    return np.stack([tr.markers[m] @ R_wl.T for m in names], axis=1)  # (n, k, 3) world


def force_contacts(tr: MocapTrial, R_wl: np.ndarray, fd: ForceData | None = None,
                   thr: float = FORCE_THRESHOLD_N) -> list[Contact]:
    """Contacts from the vertical force channels (see module docstring)."""
    fd = fd or tr.forces
    if fd is None:
        return []
    feet = {s: _foot_points(tr, R_wl, s) for s in ("L", "R") if tr.foot_names(s)}
    out = []
    for ch, f in fd.fy.items():
        for t0, t1 in _crossings(fd.time, f, thr):
            ta = fd.time[0] if np.isnan(t0) else t0
            tb = fd.time[-1] if np.isnan(t1) else t1
            if tb - ta < MIN_CONTACT_S:
                continue
            side = fd.side.get(ch)
            if side is None:
                side = _side_of_contact(tr, fd, ch, ta, tb, feet, R_wl)
            out.append(Contact(t_ic=t0, t_to=t1, side=side, source="force", channel=ch))
    out.sort(key=lambda c: (c.t_ic if np.isfinite(c.t_ic) else -np.inf))
    return out


def _side_of_contact(tr, fd, ch, ta, tb, feet, R_wl) -> str:
    if len(feet) < 2:
        raise ValueError(f"{tr.name}: force channel {ch} has no side and the foot markers of both sides "
                         "are needed to assign it")
    tm = 0.5 * (ta + tb)
    k = int(np.argmin(np.abs(fd.time - tm)))
    i = int(np.argmin(np.abs(tr.time - tm)))
    cop = fd.cop.get(ch)
    if cop is not None and np.isfinite(cop[k]).sum() >= 2:
        c = np.nan_to_num(cop[k]) @ R_wl.T
        d = {s: np.nanmin(np.linalg.norm(p[i, :, :2] - c[None, :2], axis=1)) for s, p in feet.items()}
        if all(np.isfinite(v) for v in d.values()):
            return min(d, key=d.get)
    # no usable COP: the lower foot at mid-contact
    h = {s: np.nanmin(p[i, :, 2]) for s, p in feet.items()}
    return min(h, key=h.get)


def _lowpass(x: np.ndarray, fs: float, fc: float = 15.0) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.sum() < 10:
        return x
    xi = np.interp(np.arange(len(x)), np.nonzero(ok)[0], x[ok])
    b, a = butter(2, min(fc / (fs / 2), 0.99))
    y = filtfilt(b, a, xi)
    y[~ok] = np.nan
    return y


def foot_marker_contacts(tr: MocapTrial, R_wl: np.ndarray, delta: float = FOOT_DELTA_IC_M,
                         delta_to: float = FOOT_DELTA_TO_M) -> list[Contact]:
    """Contacts from foot-marker heights (see module docstring)."""
    fs = tr.fs
    t = tr.time
    out = []
    for side in ("L", "R"):
        P = _foot_points(tr, R_wl, side)
        Z = np.stack([_lowpass(P[:, j, 2], fs) for j in range(P.shape[1])], axis=1)  # (n,k)
        # coarse contacts: each marker relative to its running minimum over ±0.6 s (about one
        # stride either side: the local ground level, robust to a sloped runway)
        w = max(1, int(0.6 * fs))
        from scipy.ndimage import minimum_filter1d

        floor_l = np.stack([minimum_filter1d(np.nan_to_num(Z[:, j], nan=np.inf), 2 * w + 1, mode="nearest")
                            for j in range(Z.shape[1])], axis=1)
        hg = np.nanmin(np.where(np.isfinite(Z), Z - floor_l, np.nan), axis=1)
        span = np.nanpercentile(hg, 95)
        coarse = np.nan_to_num(hg, nan=np.inf) < max(0.03, 0.15 * span)
        # merge runs separated by less than 80 ms
        idx = np.nonzero(np.diff(np.concatenate([[0], coarse.astype(int), [0]])))[0]
        runs = [[a, b] for a, b in zip(idx[::2], idx[1::2])]
        merged = []
        for r in runs:
            if merged and r[0] - merged[-1][1] < 0.08 * fs:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        idx = np.array([x for r in merged for x in r], dtype=int)
        for a, b in zip(idx[::2], idx[1::2]):
            lo, hi = max(0, a - int(0.15 * fs)), min(len(t), b + int(0.15 * fs))
            if np.nanmin(hg[a:b]) > 0.03:
                continue  # never near the local ground: a low swing, not a contact
            floor = np.nanmin(Z[a:b], axis=0)
            h = np.nanmin(Z[lo:hi] - floor[None, :], axis=1)
            inside = np.nonzero(np.nan_to_num(h, nan=np.inf) <= delta)[0]
            inside_to = np.nonzero(np.nan_to_num(h, nan=np.inf) <= delta_to)[0]
            if len(inside) == 0:
                continue
            # first entry into the band before the lowest point, last exit after it
            m = int(np.nanargmin(h))
            i0 = int(inside[0])
            i1 = int(inside_to[-1])
            if not i0 <= m <= i1:
                continue
            tt = t[lo:hi]
            if i0 == 0 and lo == 0:
                t_ic = np.nan
            elif i0 == 0:
                continue
            else:
                t_ic = tt[i0 - 1] + (h[i0 - 1] - delta) / (h[i0 - 1] - h[i0]) * (tt[i0] - tt[i0 - 1])
            if i1 == len(h) - 1:
                t_to = np.nan if hi == len(t) else tt[i1]
            else:
                t_to = tt[i1] + (delta_to - h[i1]) / (h[i1 + 1] - h[i1]) * (tt[i1 + 1] - tt[i1])
            if np.isfinite(t_ic) and np.isfinite(t_to) and t_to - t_ic < MIN_CONTACT_S:
                continue
            out.append(Contact(t_ic=t_ic, t_to=t_to, side=side, source="foot_markers"))
    # a contact touching the first/last sample with no IC is kept only for its toe-off
    out.sort(key=lambda c: (c.t_ic if np.isfinite(c.t_ic) else -np.inf))
    return out


def merge_contacts(force: list[Contact], foot: list[Contact], *, force_complete: bool,
                   t_force: tuple[float, float] | None, tol: float = 0.15) -> list[Contact]:
    """Force contacts first; foot-marker contacts added where the force did not see the foot.

    ``force_complete``: the force sees every contact inside its time range (treadmill, per-foot
    GRF); then foot-marker contacts are only used outside that range."""
    out = [c for c in force if np.isfinite(c.t_ic)]
    for c in foot:
        if not np.isfinite(c.t_ic):
            continue
        if any(abs(c.t_ic - f.t_ic) < tol for f in force if np.isfinite(f.t_ic)):
            continue
        if any(np.isfinite(f.t_to) and f.side == c.side and (np.isnan(f.t_ic) and c.t_ic < f.t_to)
               for f in force):
            continue  # the foot was already on a plate at the start of the force record
        if force_complete and t_force is not None and t_force[0] - tol <= c.t_ic <= t_force[1] + tol:
            continue
        out.append(c)
    out.sort(key=lambda c: c.t_ic)
    return out


def match_timing(ref: list[Contact], det: list[Contact], tol: float = 0.1) -> dict:
    """Timing errors (det − ref, s) of ICs and toe-offs matched within ±tol on the same side."""
    d_ic, d_to, used = [], [], set()
    for r in ref:
        if not np.isfinite(r.t_ic):
            continue
        best, bj = tol, None
        for j, d in enumerate(det):
            if j in used or d.side != r.side or not np.isfinite(d.t_ic):
                continue
            e = abs(d.t_ic - r.t_ic)
            if e <= best:
                best, bj = e, j
        if bj is None:
            continue
        used.add(bj)
        d_ic.append(det[bj].t_ic - r.t_ic)
        if np.isfinite(r.t_to) and np.isfinite(det[bj].t_to):
            d_to.append(det[bj].t_to - r.t_to)
    n_ref = sum(np.isfinite(r.t_ic) for r in ref)
    return {"n_ref": int(n_ref), "n_matched": len(d_ic), "ic_err_s": np.array(d_ic), "to_err_s": np.array(d_to)}

"""Honest merging of a phone's separate accelerometer and gyroscope streams onto one time base.

Phones deliver each sensor with its own timestamps: jittered, at 50-500 Hz, sometimes duplicated or
out of order (buffering), and with holes when the app is paused or the screen locks. gaitmon's
recording format wants one row per instant with both vectors, so the two streams are put on a
common uniform grid at the accelerometer's own median rate:

* each stream is linearly interpolated **only between two of its own samples that are close**
  (at most ``max(GAP_FACTOR x its median interval, MIN_GAP_S)`` apart); a grid instant that falls in
  a longer hole of either stream gets **no row** — a gap stays a gap (the core counts it, interpolates
  short holes with a low-quality flag and restarts step detection after long ones);
* nothing is extrapolated beyond either stream's first or last sample;
* duplicated timestamps keep their first sample; samples are sorted by time first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAP_FACTOR = 3.0
MIN_GAP_S = 0.05


@dataclass
class Merged:
    time: np.ndarray  # (n,) s
    acc: np.ndarray  # (n,3)
    gyr: np.ndarray  # (n,3)
    fs: float  # grid rate, Hz
    gaps: int  # holes longer than the tolerance in either stream (grid rows omitted there)
    gap_seconds: float
    duplicates: int  # samples dropped because their timestamp repeated an earlier one


def _clean(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    ok = np.isfinite(t) & np.all(np.isfinite(v), axis=1)
    t, v = t[ok], v[ok]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.ones(len(t), bool)
    keep[1:] = np.diff(t) > 0
    return t[keep], v[keep], int((~keep).sum())


def _valid_interp(grid: np.ndarray, t: np.ndarray, v: np.ndarray, max_gap: float):
    """Interpolate v(t) at grid; valid where the bracketing samples are <= max_gap apart."""
    out = np.empty((len(grid), v.shape[1]))
    for k in range(v.shape[1]):
        out[:, k] = np.interp(grid, t, v[:, k])
    j = np.searchsorted(t, grid, side="right")  # t[j-1] <= g < t[j]
    inside = (j > 0) & (j < len(t))
    jj = np.clip(j - 1, 0, len(t) - 1)
    exact = t[jj] == grid
    span = np.full(len(grid), np.inf)
    span[inside] = t[j[inside]] - t[j[inside] - 1]
    return out, (inside & (span <= max_gap)) | exact


def _holes(t: np.ndarray, max_gap: float) -> tuple[int, float]:
    d = np.diff(t)
    big = d > max_gap
    return int(big.sum()), float(d[big].sum())


def merge_streams(t_acc, acc, t_gyr, gyr, *, fs: float | None = None) -> Merged:
    """Put the accelerometer and gyroscope streams on one uniform grid (see module docstring)."""
    ta, va, da = _clean(np.asarray(t_acc, float), np.asarray(acc, float).reshape(-1, 3))
    tg, vg, dg = _clean(np.asarray(t_gyr, float), np.asarray(gyr, float).reshape(-1, 3))
    if len(ta) < 2 or len(tg) < 2:
        raise ValueError("fewer than two samples")
    dta = float(np.median(np.diff(ta)))
    dtg = float(np.median(np.diff(tg)))
    if fs is None:
        fs = 1.0 / dta
        # a phone's nominal rate: round to 0.1 Hz so that a jittered 100 Hz stream gives 100.0 Hz
        fs = round(fs, 1) if fs < 1000 else round(fs)
    gap_a = max(GAP_FACTOR * dta, MIN_GAP_S)
    gap_g = max(GAP_FACTOR * dtg, MIN_GAP_S)
    t0 = max(ta[0], tg[0])
    t1 = min(ta[-1], tg[-1])
    if t1 <= t0:
        raise ValueError("the accelerometer and gyroscope streams do not overlap in time")
    n = int(np.floor((t1 - t0) * fs + 1e-9)) + 1
    grid = t0 + np.arange(n) / fs
    a, oka = _valid_interp(grid, ta, va, gap_a)
    g, okg = _valid_interp(grid, tg, vg, gap_g)
    ok = oka & okg
    ha, sa = _holes(ta, gap_a)
    hg, sg = _holes(tg, gap_g)
    return Merged(time=grid[ok], acc=a[ok], gyr=g[ok], fs=float(fs), gaps=ha + hg,
                  gap_seconds=round(sa + sg, 3), duplicates=da + dg)

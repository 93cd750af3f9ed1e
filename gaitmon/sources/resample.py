"""Honest merging of a phone's separate accelerometer and gyroscope streams onto one time base.

Phones deliver each sensor with its own timestamps: jittered, at 50-500 Hz, sometimes duplicated or
out of order (buffering), and with holes when the app is paused or the screen locks. gaitmon's
recording format wants one row per instant with both vectors, so the two streams are put on a
common uniform grid at the accelerometer's own median rate:

* each stream is linearly interpolated **only between two of its own samples that are close**
  (at most :func:`gaitmon.sensors.grid.max_gap` of its median interval apart); a grid instant that falls in
  a longer hole of either stream gets **no row** — a gap stays a gap (the core counts it, interpolates
  short holes with a low-quality flag and restarts step detection after long ones);
* nothing is extrapolated beyond either stream's first or last sample;
* duplicated timestamps keep their first sample; samples are sorted by time first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitmon.sensors.grid import bracket_interp, clean, max_gap


@dataclass
class Merged:
    time: np.ndarray  # (n,) s
    acc: np.ndarray  # (n,3)
    gyr: np.ndarray  # (n,3)
    fs: float  # grid rate, Hz
    gaps: int  # holes longer than the tolerance in either stream (grid rows omitted there)
    gap_seconds: float
    duplicates: int  # samples dropped because their timestamp repeated an earlier one


def _holes(t: np.ndarray, gap_s: float) -> tuple[int, float]:
    d = np.diff(t)
    big = d > gap_s
    return int(big.sum()), float(d[big].sum())


def merge_streams(t_acc, acc, t_gyr, gyr, *, fs: float | None = None) -> Merged:
    """Put the accelerometer and gyroscope streams on one uniform grid (see module docstring)."""
    ta, va, da = clean(t_acc, acc)
    tg, vg, dg = clean(t_gyr, gyr)
    if len(ta) < 2 or len(tg) < 2:
        raise ValueError("fewer than two samples")
    dta = float(np.median(np.diff(ta)))
    dtg = float(np.median(np.diff(tg)))
    if fs is None:
        fs = 1.0 / dta
        # a phone's nominal rate: round to 0.1 Hz so that a jittered 100 Hz stream gives 100.0 Hz
        fs = round(fs, 1) if fs < 1000 else round(fs)
    gap_a = max_gap(dta)
    gap_g = max_gap(dtg)
    t0 = max(ta[0], tg[0])
    t1 = min(ta[-1], tg[-1])
    if t1 <= t0:
        raise ValueError("the accelerometer and gyroscope streams do not overlap in time")
    n = int(np.floor((t1 - t0) * fs + 1e-9)) + 1
    grid = t0 + np.arange(n) / fs
    a, oka = bracket_interp(grid, ta, va, gap_a)
    g, okg = bracket_interp(grid, tg, vg, gap_g)
    ok = oka & okg
    ha, sa = _holes(ta, gap_a)
    hg, sg = _holes(tg, gap_g)
    return Merged(time=grid[ok], acc=a[ok], gyr=g[ok], fs=float(fs), gaps=ha + hg,
                  gap_seconds=round(sa + sg, 3), duplicates=da + dg)

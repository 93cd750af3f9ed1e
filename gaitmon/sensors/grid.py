"""Two irregular sample streams (a phone's accelerometer and gyroscope) on one uniform grid (pure numpy).

Shared by the phone file readers (:mod:`gaitmon.sources.resample`) and the live phone decoders
(:mod:`gaitmon.sensors.sensorlogger_push`, :mod:`gaitmon.sensors.phyphox_remote`). A stream is
interpolated at a grid instant only **between two of its own samples that are close** (at most
``max_gap`` apart) or where a sample sits exactly on it; elsewhere the instant gets no row — gaps stay
gaps. Nothing is extrapolated. Repeated timestamps keep their first sample.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Packet

__all__ = ["GAP_FACTOR", "MIN_GAP_S", "max_gap", "clean", "bracket_interp", "emit_grid"]

GAP_FACTOR = 3.0  # a hole longer than this many sample intervals is a gap
MIN_GAP_S = 0.05  # ... and never shorter than this


def max_gap(dt_s: float) -> float:
    """The longest interval between two samples that is still interpolated."""
    return max(GAP_FACTOR * dt_s, MIN_GAP_S)


def clean(t, v) -> tuple[np.ndarray, np.ndarray, int]:
    """Finite rows, sorted by time, repeated timestamps dropped (the first kept): (t, v, dropped)."""
    t = np.asarray(t, float)
    v = np.asarray(v, float).reshape(-1, 3)
    ok = np.isfinite(t) & np.all(np.isfinite(v), axis=1)
    t, v = t[ok], v[ok]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.ones(len(t), bool)
    keep[1:] = np.diff(t) > 0
    return t[keep], v[keep], int((~keep).sum())


def bracket_interp(grid, t, v, gap_s: float) -> tuple[np.ndarray, np.ndarray]:
    """v(t) interpolated at ``grid``, and where that is valid (see module docstring)."""
    grid = np.asarray(grid, float)
    out = np.empty((len(grid), 3))
    if len(t) == 0:
        return out, np.zeros(len(grid), bool)
    for k in range(3):
        out[:, k] = np.interp(grid, t, v[:, k])
    j = np.searchsorted(t, grid, side="right")  # t[j-1] <= g < t[j]
    exact = t[np.clip(j - 1, 0, len(t) - 1)] == grid
    inside = (j > 0) & (j < len(t))
    span = np.full(len(grid), np.inf)
    span[inside] = t[j[inside]] - t[j[inside] - 1]
    return out, (inside & (span <= gap_s)) | exact


def emit_grid(buf: dict, fs: float, gap_s: float, k_next: int | None, kind: str):
    """Incremental merge: emit the grid instants ``k / fs`` (from ``k_next``) up to the end of the
    shorter of ``buf["acc"]`` and ``buf["gyr"]`` (each ``(t, v)``), then trim both buffers to their
    last sample at or before the emitted end (in place). Returns (next grid index, Packet or None)."""
    ta, va = buf["acc"]
    tg, vg = buf["gyr"]
    if len(ta) == 0 or len(tg) == 0:
        return k_next, None
    k0 = k_next if k_next is not None else math.ceil(max(ta[0], tg[0]) * fs - 1e-9)
    k1 = math.floor(min(ta[-1], tg[-1]) * fs + 1e-9)
    if k1 < k0:
        return k_next, None
    grid = np.arange(k0, k1 + 1) / fs
    a, oka = bracket_interp(grid, ta, va, gap_s)
    g, okg = bracket_interp(grid, tg, vg, gap_s)
    ok = oka & okg
    edge = k1 / fs
    for name in ("acc", "gyr"):
        t, v = buf[name]
        i = max(int(np.searchsorted(t, edge, side="right")) - 1, 0)
        buf[name] = (t[i:], v[i:])
    if not ok.any():
        return k1 + 1, None
    return k1 + 1, Packet(kind=kind, t_s=grid[ok], acc=a[ok], gyr=g[ok], seq=None)

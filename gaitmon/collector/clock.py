"""Sensor clock -> UTC mapping with drift estimation (pure, no I/O).

A BLE IMU stamps its samples with its own free-running clock (seconds on the *sensor* clock);
the host sees each notification arrive a little later, on its own clock. With

    arrival_utc = t_sensor + offset(t_sensor) + latency,   latency >= 0,

the least-delayed packets trace the *lower envelope* of ``arrival_utc - t_sensor``. The mapper
keeps the minimum of that difference in windows of ``window_s`` sensor seconds and fits a line
``offset(t) = a + b·t`` through the window minima (iteratively dropping minima that sit well
above the line: windows where every packet was delayed). ``b`` is the clock drift: host seconds
gained per sensor second, reported in ppm (positive = the sensor clock runs slow).

Drifts beyond ``max_drift_ppm`` are not physical for a crystal clock (typically <= 100 ppm); they
mean the stream is replayed faster or slower than real time, or the clock jumped. The mapper then
clamps the slope, flags ``suspect`` and keeps mapping with the clamped rate anchored at the
newest minimum, so UTC times stay monotonic and close to the arrival times.

Host times passed in must come from a monotonic source converted to UTC once per session
(``HostClock``), so NTP steps on the host during a session do not tear the mapping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["ClockMapper", "ClockFit", "HostClock"]


class HostClock:
    """UTC seconds derived from ``time.monotonic()`` anchored to ``time.time()`` once."""

    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._utc0 = time.time()

    def now_utc(self) -> float:
        """Current UTC time, POSIX seconds (float)."""
        return self._utc0 + (time.monotonic() - self._mono0)

    def mono_to_utc(self, mono: float) -> float:
        """Convert a ``time.monotonic()`` reading to UTC POSIX seconds."""
        return self._utc0 + (mono - self._mono0)


@dataclass(frozen=True)
class ClockFit:
    """Current sensor->UTC fit. ``utc = t_sensor + offset_s + drift * (t_sensor - t_ref_s)``."""

    offset_s: float
    drift: float  # host seconds per sensor second - 1 (dimensionless)
    t_ref_s: float
    n_windows: int
    suspect: bool

    @property
    def drift_ppm(self) -> float:
        return self.drift * 1e6


class ClockMapper:
    """Maps sensor time (s) to UTC (POSIX s) from (sensor time, arrival UTC) pairs.

    Args:
        window_s: width of the min-latency windows, sensor seconds.
        min_span_s: sensor time spanned by the windows before a drift is fitted (before that,
            drift = 0 and the offset is the smallest arrival - sensor difference seen).
        max_drift_ppm: beyond this |drift| the fit is clamped and flagged ``suspect``.
        outlier_s: window minima more than this above the fitted line are dropped and refitted.
        max_windows: the fit uses the newest ``max_windows`` windows (a sliding history).
    """

    def __init__(self, *, window_s: float = 2.0, min_span_s: float = 10.0,
                 max_drift_ppm: float = 1000.0, outlier_s: float = 0.005,
                 max_windows: int = 900) -> None:
        if window_s <= 0 or min_span_s <= 0 or max_drift_ppm <= 0:
            raise ValueError("window_s, min_span_s and max_drift_ppm must be > 0")
        self.window_s = float(window_s)
        self.min_span_s = float(min_span_s)
        self.max_drift = float(max_drift_ppm) * 1e-6
        self.outlier_s = float(outlier_s)
        self.max_windows = int(max_windows)
        self._win_t: list[float] = []  # sensor time of each window's minimum
        self._win_d: list[float] = []  # minimum (arrival - sensor) in that window
        self._cur_key: int | None = None
        self._fit = ClockFit(offset_s=0.0, drift=0.0, t_ref_s=0.0, n_windows=0, suspect=False)
        self._dirty = False
        self._n = 0

    def add(self, t_sensor: float, arrival_utc: float) -> None:
        """One observation: a sample stamped ``t_sensor`` (s, sensor clock) arrived at
        ``arrival_utc`` (POSIX s). Non-finite input is ignored."""
        if not (np.isfinite(t_sensor) and np.isfinite(arrival_utc)):
            return
        d = float(arrival_utc) - float(t_sensor)
        key = int(np.floor(t_sensor / self.window_s))
        if key != self._cur_key:
            self._cur_key = key
            self._win_t.append(float(t_sensor))
            self._win_d.append(d)
            if len(self._win_t) > self.max_windows:
                del self._win_t[0], self._win_d[0]
        elif d < self._win_d[-1]:
            self._win_t[-1] = float(t_sensor)
            self._win_d[-1] = d
        self._n += 1
        self._dirty = True

    @property
    def ready(self) -> bool:
        """True once at least one observation was added."""
        return self._n > 0

    def fit(self) -> ClockFit:
        """The current fit (recomputed lazily after new observations)."""
        if self._dirty:
            self._fit = self._refit()
            self._dirty = False
        return self._fit

    def to_utc(self, t_sensor):
        """Sensor time(s) (s) -> UTC POSIX seconds (float or float64 array)."""
        f = self.fit()
        t = np.asarray(t_sensor, dtype=np.float64)
        out = t + f.offset_s + f.drift * (t - f.t_ref_s)
        return float(out) if out.ndim == 0 else out

    def _refit(self) -> ClockFit:
        t = np.asarray(self._win_t)
        d = np.asarray(self._win_d)
        n = len(t)
        if n == 0:
            return ClockFit(0.0, 0.0, 0.0, 0, False)
        # a window still filling may not have seen its least-delayed packet yet: fit without it
        # unless it is all we have
        if n > 2:
            t, d = t[:-1], d[:-1]
        if t[-1] - t[0] < self.min_span_s or len(t) < 3:
            i = int(np.argmin(d))
            return ClockFit(offset_s=float(d[i]), drift=0.0, t_ref_s=float(t[i]),
                            n_windows=len(t), suspect=False)
        keep = np.ones(len(t), dtype=bool)
        slope = intercept = 0.0
        t_ref = float(t[-1])
        for _ in range(4):
            tt, dd = t[keep] - t_ref, d[keep]
            slope, intercept = np.polyfit(tt, dd, 1)
            resid = d - (intercept + slope * (t - t_ref))
            new_keep = resid <= self.outlier_s
            if new_keep.sum() < 3 or np.array_equal(new_keep, keep):
                break
            keep = new_keep
        suspect = abs(slope) > self.max_drift
        if suspect:
            slope = float(np.clip(slope, -self.max_drift, self.max_drift))
            # anchor the clamped line on the newest windows' lower envelope
            resid = d - slope * (t - t_ref)
            intercept = float(np.min(resid[-3:]))
        return ClockFit(offset_s=float(intercept), drift=float(slope), t_ref_s=t_ref,
                        n_windows=int(keep.sum()), suspect=bool(suspect))

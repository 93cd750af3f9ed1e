"""Physically impossible samples: screened before anything is resampled or integrated.

A body-worn IMU cannot report more than its range: the widest ranges on the market are ±200 g
(high-g impact accelerometers) and ±4000 °/s (≈70 rad/s). A value beyond :data:`MAX_ACC_MPS2`
or :data:`MAX_GYR_RADS` on any axis is a transmission or file error (a flipped exponent, a
garbage row), not a measurement: one such sample at 1e30 m/s² integrated into the vertical
position gives an oscillation of 1e28 cm, and it shifts the orientation for the rest of the step.

Such samples are excluded (counted as ``implausible`` in the input statistics) and the sample
after them carries a flag, so the resampler marks the interval across the hole and every step
that spans it loses quality — the hole is visible, never bridged silently. Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gaitmon.core.jit import kernel

#: ≈ 204 g: beyond the range of any body-worn accelerometer (m/s², per axis)
MAX_ACC_MPS2 = 2000.0
#: ≈ 5730 °/s: beyond the range of any body-worn gyroscope (rad/s, per axis)
MAX_GYR_RADS = 100.0


@kernel
def _mask(rows, max_acc, max_gyr):
    n = rows.shape[0]
    bad = np.zeros(n, np.bool_)
    for i in range(n):
        for c in range(1, 4):
            if abs(rows[i, c]) > max_acc:
                bad[i] = True
        for c in range(4, 7):
            if abs(rows[i, c]) > max_gyr:
                bad[i] = True
    return bad


def implausible_mask(rows: np.ndarray) -> np.ndarray:
    """Rows (t, ax, ay, az, gx, gy, gz, ...) with a physically impossible acc or gyr value."""
    return _mask(rows, MAX_ACC_MPS2, MAX_GYR_RADS)


def drop_implausible(rows: np.ndarray, sat: np.ndarray, hole_open: bool
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """Remove impossible rows; flag the first kept row after each run of removed ones.

    ``sat``: per-row saturation flags (filtered along). ``hole_open``: the previous chunk ended
    in removed rows (then the first kept row here is flagged). Returns (kept rows, their sat
    flags, their hole flags, number removed, whether this chunk ends in removed rows), so the
    result does not depend on how the stream was chunked.
    """
    bad = implausible_mask(rows)
    n = len(rows)
    if not bad.any():
        hole = np.zeros(n, np.bool_)
        if hole_open and n:
            hole[0] = True
        return rows, sat, hole, 0, hole_open and n == 0
    prev_bad = np.empty_like(bad)
    prev_bad[0] = hole_open
    prev_bad[1:] = bad[:-1]
    keep = ~bad
    hole = keep & prev_bad  # a kept row right after removed ones
    return rows[keep], sat[keep], hole[keep], int(bad.sum()), bool(bad[-1])


@dataclass
class InputStats:
    """Counts of rejected or flagged input (reported in the session summary)."""

    samples_in: int = 0
    nan_rows: int = 0
    non_monotonic: int = 0
    saturated: int = 0
    implausible: int = 0  # physically impossible acc/gyr values: excluded, the hole flagged
    gap_count: int = 0
    gap_seconds: float = 0.0
    long_gaps: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)

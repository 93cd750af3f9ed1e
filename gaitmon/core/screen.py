"""Input hygiene in one compiled pass: non-finite values, non-increasing time, saturated samples."""

from __future__ import annotations

import numpy as np

from gaitmon.core.jit import kernel


@kernel
def screen_rows(rows, last_t, prev, sat_acc, sat_gyr, auto_acc, auto_gyr):
    """Input hygiene in one pass over raw rows (t, ax, ay, az, gx, gy, gz; s, m/s², rad/s).

    Returns (code, sat): code 0 = keep, 1 = NaN/inf, 2 = time not increasing; sat = saturated
    (beyond the given limits, or — with no limits (<= 0) — the same value twice in a row on an axis
    beyond auto_acc / auto_gyr). ``prev`` is the last kept row (NaN if none).
    """
    n = rows.shape[0]
    code = np.zeros(n, np.int8)
    sat = np.zeros(n, np.bool_)
    p = prev.copy()
    lt = last_t
    for i in range(n):
        ok = True
        for c in range(7):
            if not np.isfinite(rows[i, c]):
                ok = False
        if not ok:
            code[i] = 1
            continue
        if not rows[i, 0] > lt:
            code[i] = 2
            continue
        lt = rows[i, 0]
        sflag = False
        if sat_acc > 0 or sat_gyr > 0:
            for c in range(1, 7):
                lim = sat_acc if c < 4 else sat_gyr
                if lim > 0 and abs(rows[i, c]) >= 0.999 * lim:
                    sflag = True
        else:
            for c in range(1, 7):
                lim = auto_acc if c < 4 else auto_gyr
                v = rows[i, c]
                if abs(v) > lim and v == p[c]:
                    sflag = True
        sat[i] = sflag
        for c in range(7):
            p[c] = rows[i, c]
    return code, sat

"""Linear resampling of raw rows onto the engine's uniform grid, flagging holes and saturation."""

from __future__ import annotations

import numpy as np

from gaitmon.core.jit import kernel
from gaitmon.core.params import FLAG_GAP, FLAG_SAT


@kernel
def resample_piece(piece, seg_t, start_k, fs, n_new, gap_thr):
    """Linear resampling of raw rows (t, acc3, gyr3, sat) onto grid times seg_t + (start_k+k)/fs.

    Returns (vals (n_new, 8): t, acc3 m/s², gyr3 rad/s, flag [0 ok, FLAG_GAP inside a raw hole
    longer than gap_thr s, FLAG_SAT next to a saturated sample], number of holes, hole seconds).
    Interpolation is np.interp's formula, so on-grid samples are returned exactly.
    """
    m = piece.shape[0]
    vals = np.empty((n_new, 8))
    j = 0
    for k in range(n_new):
        tg = seg_t + (start_k + k) / fs
        # interval [j, j+1] with piece[j,0] <= tg < piece[j+1,0] (clipped to the ends)
        while j < m - 2 and piece[j + 1, 0] <= tg:
            j += 1
        x0 = piece[j, 0]
        x1 = piece[j + 1, 0]
        vals[k, 0] = tg
        if tg <= x0:
            for c in range(1, 7):
                vals[k, c] = piece[j, c]
        elif tg >= x1:
            for c in range(1, 7):
                vals[k, c] = piece[j + 1, c]
        else:
            for c in range(1, 7):
                y0 = piece[j, c]
                vals[k, c] = (piece[j + 1, c] - y0) / (x1 - x0) * (tg - x0) + y0
        # a grid sample that takes a raw sample's value (on it, or beyond an end) carries that
        # sample's flag alone: it is not inside the interval after it. Grid and raw times may
        # coincide to rounding, and whether such a sample is produced at the end of one feed or
        # the start of the next must not decide its flag (a hole or saturation flag on the next
        # raw row used to mark it in one chunking and not in another)
        if tg <= x0:
            vals[k, 7] = FLAG_SAT if piece[j, 7] > 0 else 0.0
        elif tg >= x1:
            vals[k, 7] = FLAG_SAT if piece[j + 1, 7] > 0 else 0.0
        elif x1 - x0 > gap_thr:
            vals[k, 7] = FLAG_GAP
        elif piece[j, 7] > 0 or piece[j + 1, 7] > 0:
            vals[k, 7] = FLAG_SAT
        else:
            vals[k, 7] = 0.0
    nh = 0
    hs = 0.0
    for i in range(m - 1):
        d = piece[i + 1, 0] - piece[i, 0]
        if d > gap_thr:
            nh += 1
            hs += d
    return vals, nh, hs

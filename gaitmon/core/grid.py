"""The analysis grid: raw samples (irregular, with holes) -> uniform samples at the sensor's rate.

Short holes (<= ``LONG_GAP_S``) are interpolated and flagged ``FLAG_GAP`` (steps over them get low
quality); longer ones are not bridged: the grid restarts on the far side (a new *segment*, same
sample index sequence) and the block after it is marked so that step detection restarts.
Grid times come from the segment's origin, never accumulated, and the last raw sample of a feed is
held back (grid times strictly before it are produced; the rest waits for the next sample or
``flush_last``), so every grid value is interpolated between the same two raw samples however the
stream is chunked. Times in s; rows are (t, acc x/y/z m/s², gyr x/y/z rad/s, saturated flag).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitmon.core.params import FLAG_SAT
from gaitmon.core.resample import resample_piece
from gaitmon.core.types import GaitmonInputError

FS_PROBE = 32  # raw samples used to estimate the sample rate
LONG_GAP_S = 1.0  # holes longer than this restart step detection


@dataclass
class UniformGrid:
    fs: float  # Hz
    t_next: float  # time of the next grid sample, s
    n: int = 0  # grid samples produced
    segments: list = field(default_factory=list)  # (grid index, time s) where a segment starts
    last_raw: np.ndarray | None = None  # the held-back last raw row

    @classmethod
    def from_probe(cls, probe: np.ndarray) -> "UniformGrid":
        """The grid at the median rate of exactly the first ``FS_PROBE`` raw samples (whatever the
        chunking), starting at the first sample's time."""
        dt = np.diff(probe[:FS_PROBE, 0])
        med = float(np.median(dt))
        if not med > 0:
            raise GaitmonInputError("cannot estimate the sample rate: timestamps do not advance")
        fs = 1.0 / med
        if fs < 20 or fs > 2000:
            raise GaitmonInputError(f"sample rate {fs:.1f} Hz is outside 20..2000 Hz: is time_s in seconds?")
        g = cls(fs=fs, t_next=float(probe[0, 0]))
        g.segments.append((0, float(probe[0, 0])))
        return g

    def feed(self, rows: np.ndarray, stats) -> list[tuple[np.ndarray, int, bool]]:
        """Resample screened raw rows; returns (grid block (n, 8): t, acc3, gyr3, flag; grid index
        of its first row; whether a long hole precedes it). Holes are counted in ``stats``
        (``hygiene.InputStats``)."""
        if self.last_raw is not None:
            rows = np.vstack([self.last_raw[None, :], rows])
        self.last_raw = rows[-1].copy()
        if len(rows) < 2:
            return []
        t = rows[:, 0]
        blocks = []
        long_idx = np.nonzero(np.diff(t) > LONG_GAP_S)[0]
        # split at long holes: resample each piece separately
        starts = np.concatenate([[0], long_idx + 1])
        stops = np.concatenate([long_idx + 1, [len(rows)]])
        for pi, (a, b) in enumerate(zip(starts, stops)):
            restart = pi > 0
            if restart:
                # long hole: no samples are invented; detection restarts after it
                stats.long_gaps += 1
                stats.gap_count += 1
                stats.gap_seconds += t[a] - t[a - 1]
                k = np.ceil((t[a] - self.t_next) * self.fs - 1e-9)
                self.t_next = self.t_next + k / self.fs
                self.segments.append((self.n, self.t_next))
            piece = rows[a:b]
            tp = piece[:, 0]
            if b == len(rows):
                # the last piece of this feed: only grid times strictly before its last raw sample
                n_new = int(np.ceil((tp[-1] - self.t_next) * self.fs - 1e-9))
            else:
                n_new = int(np.floor((tp[-1] - self.t_next) * self.fs + 1e-9)) + 1
            if n_new <= 0:
                if restart:
                    blocks.append((np.empty((0, 8)), self.n, True))
                continue
            seg_i, seg_t = self.segments[-1]
            vals, nh, hs = resample_piece(np.ascontiguousarray(piece), seg_t, self.n - seg_i, self.fs, n_new,
                                          2.5 / self.fs)
            stats.gap_count += nh
            stats.gap_seconds += hs
            blocks.append((vals, self.n, restart))
            self.n += n_new
            self.t_next = seg_t + (self.n - seg_i) / self.fs
        return blocks

    def flush_last(self) -> np.ndarray | None:
        """End of the stream: the grid times up to the held-back last raw sample take its values."""
        last = self.last_raw
        if last is None:
            return None
        n = int(np.floor((last[0] - self.t_next) * self.fs + 1e-9)) + 1
        if n <= 0:
            return None
        seg_i, seg_t = self.segments[-1]
        vals = np.empty((n, 8))
        vals[:, 0] = seg_t + (self.n - seg_i + np.arange(n)) / self.fs
        vals[:, 1:7] = last[1:7]
        vals[:, 7] = FLAG_SAT if last[7] > 0 else 0.0
        self.n += n
        self.t_next = seg_t + (self.n - seg_i) / self.fs
        return vals

    def time_of(self, gi: np.ndarray) -> np.ndarray:
        """Grid index (may be fractional) -> recording time (s)."""
        seg_idx = np.array([sgi for sgi, _ in self.segments], float)
        seg_t = np.array([st for _, st in self.segments])
        k = np.clip(np.searchsorted(seg_idx, gi, side="right") - 1, 0, len(seg_idx) - 1)
        return seg_t[k] + (gi - seg_idx[k]) / self.fs

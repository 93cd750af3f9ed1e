"""The streaming face of the core (the batch face is the same engine over the whole recording).

``StreamingAnalyzer.push(time, acc, gyr)`` accepts chunks of any size (sensor frame: time in s on
the sensor clock, acc in m/s² specific force, gyr in rad/s) and returns the steps finished so far;
``finish()`` ends the stream. Internally:

1. input hygiene — NaN rows and non-increasing timestamps are rejected and counted;
2. a resampler onto a uniform grid at the sensor's own rate (estimated from the first samples);
   short holes (<= 1 s) are interpolated and flagged (steps over them get low quality), longer
   ones restart step detection — nothing is silently bridged;
3. a warm-up that waits for quiet standing followed by gait to calibrate (up axis, gyro bias, local
   g, forward direction from the gait), then replays the buffered samples;
4. the Numba engine (`gaitmon.core.kernels.run_engine`), one sample at a time.

Every decision depends only on sample content, never on chunk boundaries, so pushing a recording in
one piece or in many gives the same steps (tested).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from gaitmon.axes import axis_vector as _axis_vector
from gaitmon.core import calib, hygiene, kernels as K
from gaitmon.core.sides import BoutSides
from gaitmon.core.types import STEP_COLUMNS, GaitmonInputError, Step

log = logging.getLogger("gaitmon.core")

FS_PROBE = 32  # raw samples used to estimate the sample rate
LONG_GAP_S = 1.0  # holes longer than this restart step detection
WARMUP_GAIT_S = 8.0  # gait used to find the forward direction
MAX_WARMUP_S = 60.0


def axis_vector(name: str) -> np.ndarray:
    """Unit vector (sensor frame) of an axis name in ``+x -x +y -y +z -z``."""
    return _axis_vector(name, GaitmonInputError)


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


@dataclass
class _Grid:
    fs: float
    t_next: float  # time of the next grid sample
    n: int = 0  # grid samples produced
    segments: list = field(default_factory=list)  # (grid index, time) where a segment starts


class StreamingAnalyzer:
    """Push chunks of raw IMU samples, get finished steps (see module docstring).

    Parameters
    ----------
    forward, up:
        Nominal sensor axes (``+x -x +y -y +z -z``) pointing forward / up for this mount; they only
        resolve signs: the exact mount (up to ~30° off per axis) is found from the data.
    sat_acc, sat_gyr:
        Optional saturation limits (m/s², rad/s); samples at or beyond them are flagged. Without
        them, repeated identical extreme values (> 2.5 g, > 8 rad/s) are flagged.
    params:
        Overrides of the engine's data-chosen parameters (``gaitmon.core.kernels.PARAMS``); for
        evaluation (leave-one-person-out), not for users.
    """

    def __init__(self, forward: str = "-z", up: str = "+y", *, sat_acc: float | None = None, sat_gyr: float | None = None,
                 params: dict | None = None):
        self.forward = forward
        self.up = up
        self._fwd = axis_vector(forward)
        self._up = axis_vector(up)
        if abs(self._fwd @ self._up) > 0.5:
            raise GaitmonInputError(f"--forward {forward} and --up {up} must be perpendicular axes")
        self.sat_acc = sat_acc
        self.sat_gyr = sat_gyr
        self.stats = InputStats()
        self.calibration: calib.Calibration | None = None
        self._probe: list[np.ndarray] = []
        self._grid: _Grid | None = None
        self._last_raw: np.ndarray | None = None  # last accepted raw row (t, 6 values)
        self._wb: list[np.ndarray] = []  # warm-up buffer blocks (grid rows: t, acc3, gyr3, flag)
        self._wb_offset = 0  # grid index of the warm-up buffer's first row
        self._engine = None
        self._steps_emitted = 0
        self.latencies_s: list[float] = []
        self._finished = False
        self._out = np.zeros((64, K.NO))
        self._params = params
        self._sides = BoutSides()
        self._ro_prior = (params or {}).get("side_obliquity_reversed_prior", K.PARAMS["side_obliquity_reversed_prior"])

    # ------------------------------------------------------------------ public
    @property
    def fs(self) -> float | None:
        """Sample rate of the analysis grid (Hz), once known."""
        return self._grid.fs if self._grid else None

    def push(self, time, acc, gyr) -> list[Step]:
        """Add samples (time s, acc m/s² and gyr rad/s in the sensor frame); return finished steps."""
        if self._finished:
            raise RuntimeError("push() after finish()")
        t = np.asarray(time, float).reshape(-1)
        a = np.asarray(acc, float).reshape(-1, 3)
        g = np.asarray(gyr, float).reshape(-1, 3)
        if not (len(t) == len(a) == len(g)):
            raise GaitmonInputError("time, acc and gyr must have the same number of rows")
        if len(t) == 0:
            return []
        self.stats.samples_in += len(t)
        rows = np.empty((len(t), 8))
        rows[:, 0] = t
        rows[:, 1:4] = a
        rows[:, 4:7] = g
        last = self._last_raw if self._last_raw is not None else (self._probe[-1][-1] if self._probe else None)
        last_t = last[0] if last is not None else -np.inf
        prev = last[:7] if last is not None else np.full(7, np.nan)
        code, sat = K.screen_rows(rows, last_t, prev, self.sat_acc or 0.0, self.sat_gyr or 0.0,
                                  2.5 * calib.G0, 8.0)
        if code.any():
            self.stats.nan_rows += int((code == 1).sum())
            self.stats.non_monotonic += int((code == 2).sum())
            keep = code == 0
            rows, sat = rows[keep], sat[keep]
        rows, sat, hole, n_imp, self._hole_open = hygiene.drop_implausible(rows, sat, self._hole_open)
        self.stats.implausible += n_imp
        rows[:, 7] = sat | hole
        self.stats.saturated += int(sat.sum())
        if len(rows) == 0:
            return []
        if self._grid is None:
            self._probe.append(rows)
            probe = np.vstack(self._probe)
            if len(probe) < FS_PROBE:
                return []
            self._probe = []
            self._start_grid(probe)
            return self._feed_raw(probe)
        return self._feed_raw(rows)

    def finish(self) -> list[Step]:
        """End of stream: calibrate with what is there if still warming up; return last steps."""
        if self._finished:
            return []
        steps: list[Step] = []
        if self._grid is None and self._probe:
            probe = np.vstack(self._probe)
            self._probe = []
            if len(probe) >= 8:
                self._start_grid(probe)
                steps += self._feed_raw(probe)
        steps += self._flush_last_raw()
        if self._engine is None and self._wb:
            steps += self._try_calibrate(final=True)
        self._sides.close()
        self._finished = True
        return steps

    @property
    def side_revisions(self) -> list[Step]:
        """Steps already returned whose side (and drop) or side confidence changed once their bout
        was smoothed with its later evidence (see ``gaitmon.core.sides``); the last version of each
        ``stride_index`` counts. ``gaitmon.core.analyze`` returns the revised steps."""
        return self._sides.revisions

    @property
    def side_disagreements(self) -> int:
        """Bouts where a walking segment fixed the sides and the running drop pattern disagreed."""
        return self._sides.disagreements

    # ------------------------------------------------------------------ input hygiene
    def _start_grid(self, probe: np.ndarray) -> None:
        dt = np.diff(probe[:FS_PROBE, 0])  # exactly the first FS_PROBE samples, whatever the chunking
        med = float(np.median(dt))
        if not med > 0:
            raise GaitmonInputError("cannot estimate the sample rate: timestamps do not advance")
        fs = 1.0 / med
        if fs < 20 or fs > 2000:
            raise GaitmonInputError(f"sample rate {fs:.1f} Hz is outside 20..2000 Hz: is time_s in seconds?")
        self._grid = _Grid(fs=fs, t_next=float(probe[0, 0]))
        self._grid.segments.append((0, float(probe[0, 0])))

    # ------------------------------------------------------------------ resampling
    def _feed_raw(self, rows: np.ndarray) -> list[Step]:
        grid = self._grid
        if self._last_raw is not None:
            rows = np.vstack([self._last_raw[None, :], rows])
        self._last_raw = rows[-1].copy()
        if len(rows) < 2:
            return []
        t = rows[:, 0]
        out_blocks = []
        dt_raw = np.diff(t)
        long_idx = np.nonzero(dt_raw > LONG_GAP_S)[0]
        # split at long gaps: resample each piece separately
        starts = np.concatenate([[0], long_idx + 1])
        stops = np.concatenate([long_idx + 1, [len(rows)]])
        for pi, (a, b) in enumerate(zip(starts, stops)):
            if pi > 0:
                # long hole: no samples are invented; detection restarts after it
                gap_len = t[a] - t[a - 1]
                self.stats.long_gaps += 1
                self.stats.gap_count += 1
                self.stats.gap_seconds += gap_len
                k = np.ceil((t[a] - grid.t_next) * grid.fs - 1e-9)
                grid.t_next = grid.t_next + k / grid.fs
                grid.segments.append((grid.n, grid.t_next))
                self._pending_reset = True
            piece = rows[a:b]
            if len(piece) == 0:
                continue
            tp = piece[:, 0]
            if b == len(rows):
                # the last piece of this push: only grid times strictly before its last raw sample;
                # the rest waits for the next raw sample (or finish()), so that every grid value is
                # interpolated between the same two raw samples however the stream is chunked
                n_new = int(np.ceil((tp[-1] - grid.t_next) * grid.fs - 1e-9))
            else:
                n_new = int(np.floor((tp[-1] - grid.t_next) * grid.fs + 1e-9)) + 1
            if n_new <= 0:
                continue
            # grid times from the segment origin (not accumulated), so chunking cannot change them
            seg_i, seg_t = grid.segments[-1]
            vals, nh, hs = K.resample_piece(np.ascontiguousarray(piece), seg_t, grid.n - seg_i, grid.fs, n_new,
                                            2.5 / grid.fs)
            self.stats.gap_count += nh
            self.stats.gap_seconds += hs
            grid.n += n_new
            grid.t_next = seg_t + (grid.n - seg_i) / grid.fs
            out_blocks.append(vals)
        steps: list[Step] = []
        for blk in out_blocks:
            steps += self._feed_grid(blk)
        return steps

    _pending_reset = False

    def _flush_last_raw(self) -> list[Step]:
        """At the end of the stream: the grid times from the last one produced up to the last raw
        sample (held back by ``_feed_raw``) take that sample's values."""
        grid, last = self._grid, self._last_raw
        if grid is None or last is None:
            return []
        n = int(np.floor((last[0] - grid.t_next) * grid.fs + 1e-9)) + 1
        if n <= 0:
            return []
        seg_i, seg_t = grid.segments[-1]
        vals = np.empty((n, 8))
        vals[:, 0] = seg_t + (grid.n - seg_i + np.arange(n)) / grid.fs
        vals[:, 1:7] = last[1:7]
        vals[:, 7] = K.FLAG_SAT if last[7] > 0 else 0.0
        grid.n += n
        grid.t_next = seg_t + (grid.n - seg_i) / grid.fs
        return self._feed_grid(vals)
    _hole_open = False  # the last pushed samples were physically impossible (see hygiene)

    # ------------------------------------------------------------------ warm-up and engine
    def _feed_grid(self, blk: np.ndarray) -> list[Step]:
        if self._engine is None:
            self._wb.append(blk)
            return self._try_calibrate(final=False)
        return self._run(blk)

    def _try_calibrate(self, final: bool) -> list[Step]:
        buf = np.vstack(self._wb) if len(self._wb) > 1 else self._wb[0]
        fs = self._grid.fs
        need = int(round(WARMUP_GAIT_S * fs))
        scan_n = int((MAX_WARMUP_S + WARMUP_GAIT_S + 5.0) * fs)  # look at a bounded head only
        drop = int(10 * fs)
        while True:
            head = buf[:scan_n]
            calib.check_units(head[:, 1:4], head[:, 4:7])
            onset = calib.gait_onset(calib.moving_mask(head[:, 1:4], fs), fs)
            if onset >= 0 or len(buf) <= MAX_WARMUP_S * fs:
                break
            # keep the warm-up bounded: drop old standing in 10 s blocks
            buf = buf[drop:]
            self._wb_offset += drop
        self._wb = [buf]
        if onset < 0 or onset + need > len(buf):
            if not final or onset < 0:
                return []  # wait for more (or, at the end: standing only / no gait)
            end = len(buf)
        else:
            end = onset + need
        # calibrate on fresh copies of exactly the samples the decision rests on, so the result
        # cannot depend on how the warm-up buffer happened to be laid out in memory
        acc = buf[:end, 1:4].copy()
        gyr = buf[:end, 4:7].copy()
        quiet = calib.quiet_mask(acc[:onset], gyr[:onset], fs)
        run = calib.last_quiet_run(quiet, onset, fs)
        note = ""
        if run is not None:
            # quiet is not necessarily STANDING: sitting still is quiet too, with the pelvis tilted
            # far from its walking/running posture. Upright standing is within a few degrees of the
            # stride-averaged vertical of the gait that follows.
            u_q = acc[run[0]:run[1]].copy().mean(axis=0)
            u_g = acc[onset:end].copy().mean(axis=0)
            off = float(np.degrees(np.arccos(np.clip(u_q @ u_g / np.linalg.norm(u_q) / np.linalg.norm(u_g), -1, 1))))
            if off > calib.MAX_STANDING_OFFSET_DEG:
                note = (f"the quiet period before the gait was not upright standing (pelvis {off:.0f}° from its "
                        "gait posture: sitting?)")
                run = None
        if run is not None:
            a, b = run
            a = max(a, b - int(10 * fs))
            up = acc[a:b].copy().mean(axis=0)
            bias = gyr[a:b].copy().mean(axis=0)
            g_local = float(np.linalg.norm(up))
            mode = "standing"
            start = a
            qcal = 1.0
        else:
            up = acc[onset:end].copy().mean(axis=0)
            bias = gyr[onset:end].copy().mean(axis=0)
            g_local = float(np.linalg.norm(up))
            mode = "gait-average"
            start = max(0, onset - int(2.0 * fs))  # the onset lags the first step by up to 0.5 s
            qcal = 0.85
            note = note or "no quiet standing before the gait"
            log.warning("%s: neutral = stride-averaged vertical", note)
        up_n = up / np.linalg.norm(up)
        # fresh copies: SIMD/BLAS results can depend on memory alignment, and the warm-up buffer's
        # layout depends on how the stream was chunked
        gacc = acc[onset:end].copy()
        ggyr = gyr[onset:end].copy()
        fwd = calib.heading_axis(gacc, up_n, self._fwd)
        R_sp = calib.mount_matrix(up_n, fwd)
        # refine the forward axis with the direction of travel in the earth frame
        d = calib.travel_heading_correction(_rotate(gacc, R_sp), _rotate(ggyr - bias, R_sp), fs, g_local)
        fwd2 = np.cos(d) * R_sp[0] + np.sin(d) * R_sp[1]
        # forward, not backward: the gait gives an axis, the nominal mount its sign (the provisional
        # axis can be ~90° off when the plain principal axis is the sway, and then its sign says
        # nothing; a backward axis would mirror obliquity and so every side)
        if float(fwd2 @ self._fwd) < 0.0:
            fwd2 = -fwd2
        R_sp = calib.mount_matrix(up_n, fwd2)
        self.calibration = calib.Calibration(R_sp=R_sp, gyro_bias=bias, g_local=g_local, mode=mode, note=note,
                                             start_index=self._wb_offset + start,
                                             standing=(self._wb_offset + run[0], self._wb_offset + run[1]) if run else None,
                                             quality=qcal)
        f, s, rings = K.new_state(fs, g_local, qcal, params=self._params)
        self._engine = (f, s, rings)
        self._engine_start = self._wb_offset + start
        self._wb = []
        return self._run(buf[start:])

    def _run(self, blk: np.ndarray) -> list[Step]:
        f, s, rings = self._engine
        cal = self.calibration
        if self._pending_reset:
            s[K.I_RESET] = 1
            self._pending_reset = False
        cap = int(len(blk) / (0.2 * self._grid.fs)) + 8
        if self._out.shape[0] < cap:
            self._out = np.zeros((cap, K.NO))
        n = K.run_engine(f, s, rings, np.ascontiguousarray(blk), self._out, cal.R_sp, cal.gyro_bias)
        return self._to_steps(self._out[:n])

    def _grid_time(self, idx: np.ndarray) -> np.ndarray:
        """Engine sample index (may be fractional) -> recording time (s)."""
        g = self._grid
        gi = np.asarray(idx, float) + self._engine_start
        seg_idx = np.array([sgi for sgi, _ in g.segments], float)
        seg_t = np.array([st for _, st in g.segments])
        k = np.clip(np.searchsorted(seg_idx, gi, side="right") - 1, 0, len(seg_idx) - 1)
        return seg_t[k] + (gi - seg_idx[k]) / g.fs

    def _to_steps(self, rows: np.ndarray) -> list[Step]:
        if len(rows) == 0:
            return []
        fs = self._grid.fs
        t_ic = self._grid_time(rows[:, K.O_T]).tolist()
        self.latencies_s.extend(((rows[:, K.O_EMIT] - rows[:, K.O_END]) / fs).tolist())
        cols = rows.T.tolist()
        qual = np.round(rows[:, K.O_QUAL], 3).tolist()
        pl = rows[:, K.O_PL]
        conf = np.round(np.maximum(pl, 1.0 - pl), 2).tolist()
        steps = []
        for t, side, st, cad, ct, drop, oblr, tiltr, rotr, vo, act, q, stride, c, bout, lo, ly, eps, ry0, co, omax, omin in zip(
                t_ic, cols[K.O_SIDE], cols[K.O_STEPT], cols[K.O_CAD], cols[K.O_CONTACT], cols[K.O_DROP],
                cols[K.O_OBLR], cols[K.O_TILTR], cols[K.O_ROTR], cols[K.O_VO], cols[K.O_ACT], qual,
                cols[K.O_STRIDE], conf, cols[K.O_BOUT], cols[K.O_LLRO], cols[K.O_LLRY], cols[K.O_EPS], cols[K.O_RY0],
                cols[K.O_CO], cols[K.O_OMAX], cols[K.O_OMIN]):
            activity = "run" if act > 0.5 else "walk"
            step = Step(t, "L" if side > 0 else "R", st, cad, ct, drop, oblr, tiltr, rotr, vo, activity, q,
                        int(stride), c, activity)
            self._sides.add(step, bout, lo, ly, eps, ry0, self._ro_prior, co, omax, omin)
            steps.append(step)
        self._steps_emitted += len(steps)
        return steps


def _rotate(v: np.ndarray, R: np.ndarray) -> np.ndarray:
    """v @ R.T computed element-wise (BLAS may round differently for different array lengths,
    which would make streaming and batch results differ in the last bit)."""
    return v[:, 0:1] * R[:, 0] + v[:, 1:2] * R[:, 1] + v[:, 2:3] * R[:, 2]


def steps_to_array(steps: list[Step]) -> dict[str, np.ndarray]:
    """Column arrays (contract names) from a list of steps."""
    return {c: np.array([getattr(s, c) for s in steps]) for c in STEP_COLUMNS}

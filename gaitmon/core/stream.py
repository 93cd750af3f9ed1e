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
4. the Numba engine (`gaitmon.core.engine.run_engine`), one sample at a time.

Every decision depends only on sample content, never on chunk boundaries, so pushing a recording in
one piece or in many gives the same steps (tested).
"""

from __future__ import annotations

import logging

import numpy as np

from gaitmon.axes import axis_vector
from gaitmon.core import calib, hygiene
from gaitmon.core.grid import FS_PROBE, UniformGrid
from gaitmon.core.hygiene import InputStats
from gaitmon.core.engine import run_engine
from gaitmon.core.screen import screen_rows
from gaitmon.core.state import STEP_ROW, new_state
from gaitmon.core.sides import BoutSides
from gaitmon.core.types import GaitmonInputError, Step

log = logging.getLogger("gaitmon.core")

WARMUP_GAIT_S = 8.0  # gait used to find the forward direction
MAX_WARMUP_S = 60.0


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
        Overrides of the engine's data-chosen parameters (``gaitmon.core.params.PARAMS``); for
        evaluation (leave-one-person-out), not for users.
    run_pattern_reversed:
        P(this runner's pelvis drops toward the STANCE side running), from earlier runs anchored by
        walking (``sides.run_pattern_prior``); for bouts that start running. None: population prior.
    """

    def __init__(self, forward: str = "-z", up: str = "+y", *, sat_acc: float | None = None, sat_gyr: float | None = None,
                 params: dict | None = None, run_pattern_reversed: float | None = None):
        self.forward = forward
        self.up = up
        self._fwd = axis_vector(forward, GaitmonInputError)
        self._up = axis_vector(up, GaitmonInputError)
        if abs(self._fwd @ self._up) > 0.5:
            raise GaitmonInputError(f"--forward {forward} and --up {up} must be perpendicular axes")
        self.sat_acc = sat_acc
        self.sat_gyr = sat_gyr
        self.stats = InputStats()
        self.calibration: calib.Calibration | None = None
        self._probe: list[np.ndarray] = []
        self._grid: UniformGrid | None = None
        self._resets: list[int] = []  # grid indices after long holes, not yet given to the engine
        self._wb: list[np.ndarray] = []  # warm-up buffer blocks (grid rows: t, acc3, gyr3, flag)
        self._wb_offset = 0  # grid index of the warm-up buffer's first row
        self._engine = None
        self._steps_emitted = 0
        self.latencies_s: list[float] = []
        self._finished = False
        self._out = np.zeros(64, STEP_ROW)
        self._params = params
        self._run_ro = run_pattern_reversed
        if run_pattern_reversed is not None and not 0.0 < run_pattern_reversed < 1.0:
            raise GaitmonInputError(f"run_pattern_reversed must be a probability in (0, 1), not {run_pattern_reversed}")
        self._sides = BoutSides(learned_run_pattern=run_pattern_reversed is not None)

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
        last = self._grid.last_raw if self._grid is not None and self._grid.last_raw is not None else (self._probe[-1][-1] if self._probe else None)
        last_t = last[0] if last is not None else -np.inf
        prev = last[:7] if last is not None else np.full(7, np.nan)
        code, sat = screen_rows(rows, last_t, prev, self.sat_acc or 0.0, self.sat_gyr or 0.0,
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
    def run_pattern_verdicts(self) -> list[int]:
        """Per run anchored by a walk: +1 the swing side drops, -1 the stance side (``BoutSides``)."""
        return self._sides.anchor_verdicts

    @property
    def side_disagreements(self) -> int:
        """Bouts where a walking segment fixed the sides and the running drop pattern disagreed."""
        return self._sides.disagreements

    # ------------------------------------------------------------------ resampling
    def _start_grid(self, probe: np.ndarray) -> None:
        self._grid = UniformGrid.from_probe(probe)

    def _feed_raw(self, rows: np.ndarray) -> list[Step]:
        steps: list[Step] = []
        for blk, start, restart in self._grid.feed(rows, self.stats):
            if restart:
                # detection restarts at this grid index: the engine forgets the last contact there
                self._resets.append(start)
            if len(blk):
                steps += self._feed_grid(blk)
        return steps

    def _flush_last_raw(self) -> list[Step]:
        """At the end of the stream: the grid times up to the held-back last raw sample."""
        vals = self._grid.flush_last() if self._grid is not None else None
        return self._feed_grid(vals) if vals is not None else []

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
            onset = calib.gait_onset_any_pace(head[:, 1:4], fs, final and len(head) == len(buf))
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
        run, note = calib.standing_before(acc, gyr, onset, end, fs)
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
        d = calib.travel_heading_correction(calib.rotate_rows(gacc, R_sp), calib.rotate_rows(ggyr - bias, R_sp), fs, g_local)
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
        self._engine = new_state(fs, g_local, qcal, params=self._params, run_pattern_reversed=self._run_ro)
        self._engine_start = self._wb_offset + start
        self._wb = []
        return self._run(buf[start:])

    def _run(self, blk: np.ndarray) -> list[Step]:
        """Engine over grid rows; a long hole inside them (``_resets``, grid indices) splits the
        block there and the engine forgets its last contact, wherever the chunk boundaries fall."""
        settings, state, rings = self._engine
        first = int(state[0]["n"]) + self._engine_start  # grid index of blk[0]
        cuts = sorted({max(r - first, 0) for r in self._resets if r < first + len(blk)})
        self._resets = [r for r in self._resets if r >= first + len(blk)]
        steps: list[Step] = []
        bounds = [0, *[c for c in cuts if c > 0], len(blk)]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a in cuts:
                state[0]["reset"] = 1
                state[0]["reset_at"] = state[0]["n"]
            steps += self._run_piece(blk[a:b])
        return steps

    def _run_piece(self, blk: np.ndarray) -> list[Step]:
        settings, state, rings = self._engine
        cal = self.calibration
        cap = int(len(blk) / (0.2 * self._grid.fs)) + 8
        if self._out.shape[0] < cap:
            self._out = np.zeros(cap, STEP_ROW)
        n = run_engine(settings, state, rings, np.ascontiguousarray(blk), self._out, cal.R_sp, cal.gyro_bias)
        return self._to_steps(self._out[:n])

    def _grid_time(self, idx: np.ndarray) -> np.ndarray:
        """Engine sample index (may be fractional) -> recording time (s)."""
        return self._grid.time_of(np.asarray(idx, float) + self._engine_start)

    def _to_steps(self, rows: np.ndarray) -> list[Step]:
        """Engine rows (``state.STEP_ROW``) -> Steps on the recording's clock; the side evidence
        goes to the bout's side smoother."""
        if len(rows) == 0:
            return []
        fs = self._grid.fs
        t_ic = self._grid_time(rows["t"]).tolist()
        self.latencies_s.extend(((rows["emitted"] - rows["end"]) / fs).tolist())
        qual = np.round(rows["quality"], 3).tolist()
        col = {name: rows[name].tolist() for name in STEP_ROW.names}
        steps = []
        for k, t in enumerate(t_ic):
            activity = "run" if col["running"][k] > 0.5 else "walk"
            conf = self._sides.confidence(col["p_left"][k], col["llr_obliquity"][k], col["llr_yaw"][k],
                                          col["llr_ml"][k], col["bout"][k])
            step = Step(t, "L" if col["side"][k] > 0 else "R", col["step_time"][k], col["cadence"][k],
                        col["contact_time"][k], col["drop"][k], col["obliquity_range"][k], col["tilt_range"][k],
                        col["rotation_range"][k], col["vertical_oscillation"][k], activity, qual[k],
                        int(col["stride"][k]), conf, self._sides.source(activity))
            self._sides.add(step, col["bout"][k], col["llr_obliquity"][k], col["llr_yaw"][k], col["llr_ml"][k],
                            col["eps"][k],
                            col["yaw_reversed_prior"][k], col["obliquity_reversed_prior"][k], col["cue_reliability"][k],
                            col["obliquity_max"][k], col["obliquity_min"][k])
            steps.append(step)
        self._steps_emitted += len(steps)
        return steps

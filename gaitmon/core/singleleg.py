"""Single-leg stance test (Trendelenburg-style) from one sacral IMU — pure numpy, no I/O.

Input: time (s), acc (n,3) m/s² specific force and gyr (n,3) rad/s in the **sensor frame**, the
stance side ('L'/'R': the leg the runner stands on) and the nominal mount axes.

Method
1. Two-leg neutral: the first quiet second(s) before the lift give the up axis (mean specific
   force) and the gyro bias.
2. Foot-off / foot-down: the angular-velocity envelope (0.5 s RMS) rises above
   ``max(3 × two-leg level, 0.02 rad/s)`` when the foot comes off (single-leg stance sways several
   times more than two-leg stance); short dips (< 2 s) are bridged. Foot-down = the touchdown
   impact (largest jerk of |acc|) at the end of that segment, else the segment's end.
3. Heading: the pelvis shifts sideways onto the stance leg when the foot comes off and back when
   it goes down; the principal axis of the gravity-free horizontal acceleration in those
   transitions (orientation from the gyro over ≤ 2.5 s, started level from the accelerometer) is
   the medio-lateral axis; the nominal axes only resolve its sign. If it is not clear, the
   nominal forward axis is used (and said so).
4. Drop = obliquity of the mean specific force over the hold window (foot-off + 1 s to foot-down
   − 0.5 s) minus the two-leg neutral, signed so that positive = the UNSUPPORTED side is lower
   (standing on L: right side lower = obliquity positive).
5. Sway = RMS (deg) of the combined obliquity + tilt angle about its linear trend over the hold
   window (gyro integrated in the pelvis frame); sway velocity = mean angular speed in the
   frontal+sagittal plane (deg/s, 5 Hz low-pass).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from gaitmon.axes import axis_vector

from gaitmon.core.calib import check_units, mount_matrix
from gaitmon.core.types import GaitmonInputError

HOLD_START_S = 1.0
HOLD_END_S = 0.5
MAX_HOLD_S = 30.0


@dataclass
class SingleLegResult:
    """Result of one single-leg stance test (angles deg, times s on the recording's clock)."""

    side: str  # stance leg
    drop_deg: float  # unsupported side below its two-leg level (+ = drops, − = hip hike)
    hold_s: float  # foot-off to foot-down (capped at max_hold_s)
    completed: bool  # held for the full max_hold_s
    sway_rms_deg: float
    sway_velocity_dps: float
    foot_off_s: float
    foot_down_s: float
    window: tuple[float, float]
    heading: str  # "transition" | "nominal"
    quality: float  # 0..1
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = None if not math.isfinite(v) else round(v, 3)
        d["window"] = [round(x, 3) for x in self.window]
        return d


def _moving_mean(x: np.ndarray, w: int) -> np.ndarray:
    w = max(int(w), 1)
    k = np.ones(w) / w
    if x.ndim == 1:
        return np.convolve(np.pad(x, (w, w), mode="edge"), k, mode="same")[w:-w]
    return np.stack([_moving_mean(x[:, i], w) for i in range(x.shape[1])], axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]))


def _rot(q: np.ndarray, w: np.ndarray, dt: float) -> np.ndarray:
    """Integrate body rate w (rad/s) over dt into rotation matrix q (body->world)."""
    th = np.linalg.norm(w) * dt
    if th < 1e-12:
        return q
    k = w / np.linalg.norm(w)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return q @ (np.eye(3) + math.sin(th) * K + (1 - math.cos(th)) * K @ K)


def _level_frame(f: np.ndarray) -> np.ndarray:
    """Rotation body->world that makes specific force f point up (+z), yaw arbitrary."""
    z = f / np.linalg.norm(f)
    a = np.array([1.0, 0, 0]) if abs(z[0]) < 0.9 else np.array([0, 1.0, 0])
    x = a - (a @ z) * z
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.vstack([x, y, z])  # rows: world axes in body coords -> v_w = R v_b


def _horizontal_cov(acc, gyr, fs, i0, i1, g):
    """Covariance (2x2, in the level frame at i0) of gravity-free horizontal acceleration over
    [i0, i1) plus the level frame (rows) used."""
    R0 = _level_frame(acc[max(i0 - int(0.3 * fs), 0):i0 + 1].mean(axis=0))
    q = R0.T  # body->world as matrix acting on body vectors: v_w = R0 @ v_b ; keep as R
    R = R0.copy()
    hs = []
    dt = 1.0 / fs
    for i in range(i0, i1):
        a_w = R @ acc[i] - np.array([0, 0, g])
        hs.append(a_w[:2])
        R = (_rot(R.T, gyr[i], dt)).T
    del q
    h = np.array(hs)
    h -= h.mean(axis=0)
    return h.T @ h / max(len(h), 1), R0


def analyze_single_leg(time, acc, gyr, *, side: str, forward: str = "-z", up: str = "+y",
                       max_hold_s: float = MAX_HOLD_S) -> SingleLegResult:
    """Analyse a single-leg stance test recording (see module doc). Raises GaitmonInputError
    with a one-line reason when the recording does not hold a test."""
    side = str(side).upper()
    if side not in ("L", "R"):
        raise GaitmonInputError("side must be L or R (the leg you stand on)")
    t = np.asarray(time, float)
    a = np.asarray(acc, float)
    w = np.asarray(gyr, float)
    if t.ndim != 1 or a.shape != (len(t), 3) or w.shape != (len(t), 3):
        raise GaitmonInputError("time must be (n,), acc and gyr (n,3)")
    ok = np.isfinite(t) & np.isfinite(a).all(axis=1) & np.isfinite(w).all(axis=1)
    notes = []
    if (~ok).any():
        notes.append(f"{int((~ok).sum())} samples with NaN/inf left out")
    t, a, w = t[ok], a[ok], w[ok]
    if len(t) < 20:
        raise GaitmonInputError("too few samples for a single-leg test")
    # a sample is kept when its time is after every earlier sample's (a clock that jumps back
    # leaves out everything until it has passed its old maximum, as the gait analysis does)
    order_ok = t[1:] > np.maximum.accumulate(t)[:-1]
    if not order_ok.all():
        keep = np.concatenate([[True], order_ok])
        notes.append(f"{int((~keep).sum())} samples with non-increasing time left out")
        t, a, w = t[keep], a[keep], w[keep]
    check_units(a, w)
    fs = 1.0 / float(np.median(np.diff(t)))
    if not 20.0 <= fs <= 2000.0:
        raise GaitmonInputError(f"sample rate {fs:.1f} Hz is outside 20..2000 Hz")
    tg = np.arange(t[0], t[-1], 1.0 / fs)
    a = np.stack([np.interp(tg, t, a[:, i]) for i in range(3)], axis=1)
    w = np.stack([np.interp(tg, t, w[:, i]) for i in range(3)], axis=1)
    t = tg
    n = len(t)
    if t[-1] - t[0] < 5.0:
        raise GaitmonInputError("recording shorter than 5 s: stand 3 s on both legs, then lift the foot")

    # --- two-leg baseline: the first 2 s (the protocol starts standing still)
    nb = int(2.0 * fs)
    base_sd = a[:nb].std(axis=0).max()
    if base_sd > 0.5:
        raise GaitmonInputError("the first 2 s are not quiet two-leg standing: start the test standing still")
    bias = w[:nb].mean(axis=0)
    wb = w - bias
    env = np.sqrt(_moving_mean(np.sum(wb * wb, axis=1), int(0.5 * fs)))
    level = float(np.median(env[int(0.25 * fs):nb]))
    thr = max(3.0 * level, 0.02)
    on = env > thr
    on[:nb] = False
    # bridge short dips; drop short blips
    runs = _runs(on)
    merged: list[list[int]] = []
    for s, e in runs:
        if merged and s - merged[-1][1] < int(2.0 * fs):
            merged[-1][1] = e
        else:
            merged.append([s, e])
    merged = [r for r in merged if r[1] - r[0] >= int(1.0 * fs)]
    if not merged:
        raise GaitmonInputError("no single-leg stance found (the pelvis never moved off its two-leg posture)")
    s, e = max(merged, key=lambda r: r[1] - r[0])
    if s < int(1.0 * fs):
        raise GaitmonInputError("stand still on both legs for at least 2 s before lifting the foot")
    i_off = s
    # foot-down: the touchdown impact = largest jerk of |acc| near the end of the segment
    still_on = e >= n - 1
    if still_on:
        i_down = n - 1
        notes.append("the recording ends while still on one leg")
    else:
        jerk = np.abs(np.diff(_moving_mean(np.linalg.norm(a, axis=1), max(int(0.02 * fs), 1)))) * fs
        lo, hi = max(e - int(2.0 * fs), i_off + 1), min(e + int(0.25 * fs), n - 1)
        i_down = lo + int(np.argmax(jerk[lo:hi])) if hi > lo else e
    hold = float(t[i_down] - t[i_off])
    completed = hold >= max_hold_s - 0.5
    if hold > max_hold_s:
        i_down = min(i_off + int(round(max_hold_s * fs)), n - 1)
        hold = float(t[i_down] - t[i_off])

    # --- up axis, neutral and heading
    g_base = a[int(0.25 * fs):min(nb, i_off - int(0.2 * fs))].mean(axis=0)
    g_local = float(np.linalg.norm(g_base))
    upv = g_base / g_local
    nf = axis_vector(forward, GaitmonInputError)
    nu = axis_vector(up, GaitmonInputError)
    if abs(nf @ nu) > 0.5:
        raise GaitmonInputError("forward and up must be different, perpendicular axes")
    nominal_left = np.cross(nu, nf)
    heading = "nominal"
    fwd = nf - (nf @ upv) * upv
    if np.linalg.norm(fwd) < 0.3:
        raise GaitmonInputError("the nominal forward axis points (nearly) up: check --forward/--up")
    covs = []
    frames = []
    for j0 in (i_off - int(0.2 * fs), i_down - int(0.3 * fs)):
        j0 = max(j0, 1)
        j1 = min(j0 + int(1.5 * fs), n)
        if j1 - j0 > int(0.5 * fs) and not (still_on and j0 > i_off + fs):
            c, R0 = _horizontal_cov(a, wb, fs, j0, j1, g_local)
            covs.append(c)
            frames.append(R0)
    if covs:
        # express both covariances in sensor coordinates of the horizontal plane (R0 rows 0,1)
        C = np.zeros((3, 3))
        for c, R0 in zip(covs, frames):
            B = R0[:2]  # horizontal world axes in sensor coords (at window start)
            C += B.T @ c @ B
        C = C - np.outer(C @ upv, upv) - np.outer(upv, upv @ C) + (upv @ C @ upv) * np.outer(upv, upv)
        ev, V = np.linalg.eigh(C)
        if ev[-1] > 3.0 * max(ev[-2], 1e-12):
            ml = V[:, -1] - (V[:, -1] @ upv) * upv
            ml /= np.linalg.norm(ml)
            if ml @ nominal_left < 0:
                ml = -ml
            fwd = np.cross(ml, upv)
            heading = "transition"
        else:
            notes.append("sideways weight shift not clear: nominal forward axis used for the heading")
    R_sp = mount_matrix(upv, fwd)

    # --- drop over the hold window
    w0 = i_off + int(HOLD_START_S * fs)
    w1 = i_down - int(HOLD_END_S * fs)
    quality = 1.0
    if w1 - w0 < int(1.0 * fs):
        w0, w1 = i_off + int(0.3 * hold * fs), max(i_down - int(0.1 * hold * fs), i_off + int(0.3 * hold * fs) + 2)
        quality *= 0.4
        notes.append("hold shorter than 2.5 s: drop from a short window")
    fp = R_sp @ a[w0:w1].mean(axis=0)
    f0 = R_sp @ g_base
    phi = math.degrees(math.atan2(fp[1], fp[2])) - math.degrees(math.atan2(f0[1], f0[2]))
    drop = phi if side == "L" else -phi

    # --- sway: gyro in the pelvis frame, integrated over the window, detrended
    wp = (R_sp @ wb[w0:w1].T).T
    ang = np.cumsum(wp[:, :2], axis=0) / fs
    tt = t[w0:w1]
    res = 0.0
    for k in range(2):
        p = np.polyfit(tt, ang[:, k], 1)
        r = ang[:, k] - np.polyval(p, tt)
        res += float(np.mean(r * r))
    sway = math.degrees(math.sqrt(res))
    wl = _moving_mean(wp[:, :2], max(int(fs / 10.0), 1))  # ~5 Hz low-pass
    sway_v = math.degrees(float(np.mean(np.linalg.norm(wl, axis=1))))
    if heading == "nominal":
        quality *= 0.7
    if still_on:
        quality *= 0.8
    return SingleLegResult(side, float(drop), hold, bool(completed), sway, sway_v, float(t[i_off]),
                           float(t[i_down]), (float(t[w0]), float(t[w1 - 1])), heading, round(quality, 3), notes)

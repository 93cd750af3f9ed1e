"""Calibration: units check, quiet-standing detection, up axis, gyro bias, forward from the gait.

All inputs are in the **sensor frame** (acc m/s² specific force, gyr rad/s) on a uniform grid of
``fs`` Hz. The sensor-to-pelvis rotation ``R_sp`` (rows = pelvis x forward, y left, z up expressed
in sensor coordinates, so ``v_pelvis = R_sp @ v_sensor``) is found from the data: up from the
mean specific force while standing, forward as the principal axis of horizontal acceleration during
gait; the nominal mount axes only resolve the forward/backward sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitmon.core.types import UnitsError

G0 = 9.80665
#: a quiet period whose vertical is further than this from the gait's stride-averaged vertical is
#: not upright standing (sitting, lying, leaning) and is not used as the neutral posture (deg)
MAX_STANDING_OFFSET_DEG = 12.0


def check_units(acc: np.ndarray, gyr: np.ndarray) -> None:
    """Refuse acceleration in g or angular velocity in deg/s with a message naming the flags."""
    if len(acc) < 10:
        return
    norm = np.linalg.norm(acc, axis=1)
    med = float(np.median(norm))
    if 0.5 < med < 2.0:
        raise UnitsError(
            f"acceleration looks like it is in g (median |acc| = {med:.2f}); gaitmon needs m/s² "
            "specific force: pass --acc-unit g to convert"
        )
    if med < 3.0 or med > 40.0:
        raise UnitsError(
            f"median |acc| = {med:.2f} is not near 9.81 m/s²: check the acc columns and units "
            "(--acc-unit g|mps2)"
        )
    p99 = float(np.percentile(np.abs(gyr), 99.5))
    if p99 > 25.0:
        raise UnitsError(
            f"angular velocity looks like it is in deg/s (99.5th percentile |gyr| = {p99:.0f}); "
            "gaitmon needs rad/s: pass --gyro-unit dps to convert"
        )


def _rolling_std(x: np.ndarray, w: int) -> np.ndarray:
    """Trailing-window standard deviation (window w samples) of a 1-D or (n,k) array; NaN first."""
    x = np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    n = len(x)
    out = np.full(x.shape, np.nan)
    if n < w:
        return out
    c1 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    c2 = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x * x]), axis=0)
    s1 = c1[w:] - c1[:-w]
    s2 = c2[w:] - c2[:-w]
    var = np.maximum(s2 / w - (s1 / w) ** 2, 0.0)
    out[w - 1 :] = np.sqrt(var)
    return out


def quiet_mask(acc: np.ndarray, gyr: np.ndarray, fs: float) -> np.ndarray:
    """Per-sample flag: the trailing 1 s looks like quiet standing (low acc/gyro variability)."""
    w = max(int(round(1.0 * fs)), 5)
    sa = _rolling_std(acc, w).max(axis=1)
    sg = _rolling_std(gyr, w).max(axis=1)
    norm = np.linalg.norm(acc, axis=1)
    ok = (sa < 0.25) & (sg < 0.05) & (np.abs(norm - G0) < 1.2)
    ok &= ~np.isnan(sa)
    return ok


#: |acc| variability (SD over 0.5 s, m/s²) of gait; a slow walker's (~90 steps/min, a 2-3 cm
#: vertical excursion: Orendurff et al. 2004) stays between the two levels
MOVING_SD = 1.0
SLOW_MOVING_SD = 0.5
#: a movement above SLOW_MOVING_SD counts as the gait onset when no faster gait starts within this
SLOW_ONSET_WAIT_S = 10.0


def moving_sd(acc: np.ndarray, fs: float) -> np.ndarray:
    """Per sample: the SD of |acc| (m/s²) over the trailing 0.5 s (0 where undefined)."""
    w = max(int(round(0.5 * fs)), 5)
    return np.nan_to_num(_rolling_std(np.linalg.norm(acc, axis=1), w)[:, 0], nan=0.0)


def gait_onset_any_pace(acc: np.ndarray, fs: float, final: bool) -> int:
    """Gait onset (sample index) of normal or slow gait in ``acc`` (m/s², sensor frame); -1 if not
    (yet) decidable. Normal gait: ``gait_onset`` at MOVING_SD. Where only movement above
    SLOW_MOVING_SD has started, it is taken as the onset once SLOW_ONSET_WAIT_S (+2 s to judge) have
    passed without normal gait, or at the end of the data — decided on a prefix, so a stream gives
    the same onset however it is chunked."""
    sd = moving_sd(acc, fs)
    hi = gait_onset(sd > MOVING_SD, fs)
    lo = gait_onset(sd > SLOW_MOVING_SD, fs)
    wait = int(round(SLOW_ONSET_WAIT_S * fs))
    if hi >= 0 and (lo < 0 or hi <= lo + wait):
        return hi
    if lo >= 0 and (final or len(acc) >= lo + wait + int(round(2.0 * fs))):
        return lo
    return -1


def gait_onset(moving: np.ndarray, fs: float, start: int = 0) -> int:
    """First index >= start where >= 60 % of the next 2 s is moving; -1 if not decidable/none."""
    w = int(round(2.0 * fs))
    n = len(moving)
    if n - start < w:
        return -1
    c = np.concatenate([[0], np.cumsum(moving[start:].astype(np.int64))])
    frac = (c[w:] - c[:-w]) / w
    idx = np.nonzero(moving[start : start + len(frac)] & (frac >= 0.6))[0]
    return int(start + idx[0]) if len(idx) else -1


def last_quiet_run(quiet: np.ndarray, end: int, fs: float, min_s: float = 1.5, max_back_s: float = 30.0):
    """(start, stop) of the last run of quiet samples of >= min_s before ``end``; None if none.

    The flag at index i describes the trailing 1 s window, so the run is extended 1 s backwards.
    """
    lo = max(0, end - int(max_back_s * fs))
    q = quiet[lo:end]
    if not q.any():
        return None
    d = np.diff(np.concatenate([[0], q.astype(np.int8), [0]]))
    starts = np.nonzero(d == 1)[0]
    stops = np.nonzero(d == -1)[0]
    w = int(round(1.0 * fs))
    for a, b in zip(starts[::-1], stops[::-1]):
        a0 = max(a - w + 1, 0)
        if (b - a0) >= min_s * fs:
            return lo + a0, lo + b
    return None


def standing_before(acc: np.ndarray, gyr: np.ndarray, onset: int, end: int, fs: float):
    """The last quiet run (sample indices) before the gait onset that is upright STANDING, and a
    note when the quiet period was rejected: sitting still is quiet too, with the pelvis tilted far
    from its walking/running posture; upright standing is within a few degrees of the
    stride-averaged vertical of the gait that follows (samples onset..end; acc m/s², gyr rad/s)."""
    run = last_quiet_run(quiet_mask(acc[:onset], gyr[:onset], fs), onset, fs)
    if run is None:
        return None, ""
    u_q = acc[run[0]:run[1]].copy().mean(axis=0)
    u_g = acc[onset:end].copy().mean(axis=0)
    off = float(np.degrees(np.arccos(np.clip(u_q @ u_g / np.linalg.norm(u_q) / np.linalg.norm(u_g), -1, 1))))
    if off > MAX_STANDING_OFFSET_DEG:
        return None, (f"the quiet period before the gait was not upright standing (pelvis {off:.0f}° from its "
                      "gait posture: sitting?)")
    return run, ""


def heading_axis(acc: np.ndarray, up: np.ndarray, nominal_forward: np.ndarray) -> np.ndarray:
    """Forward axis (unit, sensor frame, perpendicular to ``up``) = principal horizontal acc axis.

    ``nominal_forward`` (sensor frame) only resolves the sign of the principal axis.
    """
    a = acc - np.outer(acc @ up, up)
    # in-plane basis
    e1 = nominal_forward - (nominal_forward @ up) * up
    if np.linalg.norm(e1) < 0.3:
        raise UnitsError("nominal forward axis is (nearly) vertical: check --forward/--up")
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(up, e1)
    xy = np.stack([a @ e1, a @ e2], axis=1)
    xy -= xy.mean(axis=0)
    cov = xy.T @ xy / max(len(xy), 1)
    w, v = np.linalg.eigh(cov)
    pc = v[:, np.argmax(w)]
    if pc[0] < 0:
        pc = -pc
    f = pc[0] * e1 + pc[1] * e2
    return f / np.linalg.norm(f)


def travel_heading_correction(acc_p: np.ndarray, gyr_p: np.ndarray, fs: float, g: float) -> float:
    """Angle (rad, about pelvis z) from the provisional forward axis to the direction of travel.

    acc_p/gyr_p: gait samples in a provisional pelvis frame (m/s², rad/s, gyro bias removed).
    The horizontal earth-frame acceleration is de-rotated by the stride-smoothed heading (not the
    instantaneous one, so the pelvis' own rotation does not smear it) and its principal axis is
    the direction of travel — free of the gravity leak that roll/tilt cause in the sensor frame.
    """
    from gaitmon.core.orientation import orient_pass

    fe, yaw = orient_pass(np.ascontiguousarray(acc_p), np.ascontiguousarray(gyr_p), fs, g, 1.0, 0.5)
    w = max(int(round(1.2 * fs)), 3)
    k = np.ones(w) / w
    ys = np.convolve(np.pad(yaw, (w, w), mode="edge"), k, mode="same")[w:-w]
    c, s = np.cos(ys), np.sin(ys)
    hx = c * fe[:, 0] + s * fe[:, 1]
    hy = -s * fe[:, 0] + c * fe[:, 1]
    skip = min(int(1.0 * fs), len(hx) // 4)  # let the filter settle
    xy = np.stack([hx[skip:], hy[skip:]], axis=1)
    xy -= xy.mean(axis=0)
    cov = _gait_harmonic_cov(xy, fe[skip:, 2], fs)
    if cov is None:
        cov = xy.T @ xy
    ev, V = np.linalg.eigh(cov)
    pc = V[:, np.argmax(ev)]
    if pc[0] < 0:
        pc = -pc
    return float(np.arctan2(pc[1], pc[0]))


def step_frequency(az: np.ndarray, fs: float, lo: float = 1.2, hi: float = 4.0) -> float | None:
    """Step frequency (Hz) = the strongest spectral peak of the vertical acceleration in
    [lo, hi] Hz (walking 1.5-2.2 Hz, running 2.4-3.5 Hz), refined by parabolic interpolation."""
    n = len(az)
    if n < 4 * fs:
        return None
    nfft = 1 << int(np.ceil(np.log2(n * 4)))
    spec = np.abs(np.fft.rfft((az - az.mean()) * np.hanning(n), nfft))
    f = np.fft.rfftfreq(nfft, 1.0 / fs)
    band = np.nonzero((f >= lo) & (f <= hi))[0]
    if len(band) < 3:
        return None
    k = band[np.argmax(spec[band])]
    if k <= 0 or k >= len(spec) - 1:
        return float(f[k])
    a, b, c = spec[k - 1], spec[k], spec[k + 1]
    d = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return float(f[k] + d * (f[1] - f[0]))


def _gait_harmonic_cov(xy: np.ndarray, az: np.ndarray, fs: float) -> np.ndarray | None:
    """2x2 'AP minus ML' covariance of horizontal acceleration (m/s², earth frame de-rotated).

    Over a stride, braking and propulsion repeat every STEP: the antero-posterior acceleration
    lives at whole multiples of the step frequency f1; the medio-lateral sway goes to the stance
    side and back once per STRIDE: it lives at the odd half-multiples (f1/2, 3f1/2, ...). So the
    covariance of the integer harmonics minus that of the half-integer ones has the AP axis as its
    principal axis — on a treadmill too, where there is no travel to follow (the plain principal
    axis mixes in the sway: 6-44° off on real treadmill running)."""
    f1 = step_frequency(az, fs)
    if f1 is None:
        return None
    t = np.arange(len(xy)) / fs
    w = np.hanning(len(xy))[:, None]
    cov = np.zeros((2, 2))
    for mult, sign in ((0.5, -1.0), (1.0, 1.0), (1.5, -1.0), (2.0, 1.0), (2.5, -1.0), (3.0, 1.0)):
        e = np.exp(-2j * np.pi * mult * f1 * t)[:, None]
        c = (xy * w * e).sum(axis=0)
        cov += sign * np.real(np.outer(c, np.conj(c)))
    return cov


def mount_matrix(up: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """R_sp with rows (forward, left, up) in sensor coordinates; v_pelvis = R_sp @ v_sensor."""
    u = up / np.linalg.norm(up)
    f = forward - (forward @ u) * u
    f /= np.linalg.norm(f)
    left = np.cross(u, f)
    return np.vstack([f, left, u])


@dataclass
class Calibration:
    """Result of calibration (sensor frame quantities; angles of the mount for reporting)."""

    R_sp: np.ndarray  # sensor -> pelvis rotation
    gyro_bias: np.ndarray  # rad/s, sensor frame
    g_local: float  # |specific force| while standing, m/s²
    mode: str  # "standing" | "gait-average"
    start_index: int  # grid index where the engine starts
    standing: tuple[int, int] | None
    quality: float  # factor applied to step quality
    note: str = ""  # why the fallback was used, for the user

    def mount_angles_deg(self) -> dict:
        """Where the pelvis axes point in the sensor frame, as a readable dict."""
        R = self.R_sp
        return {"forward_in_sensor": R[0].round(3).tolist(), "up_in_sensor": R[2].round(3).tolist()}


def rotate_rows(v: np.ndarray, R: np.ndarray) -> np.ndarray:
    """v @ R.T computed element-wise (BLAS may round differently for different array lengths,
    which would make streaming and batch results differ in the last bit)."""
    return v[:, 0:1] * R[:, 0] + v[:, 1:2] * R[:, 1] + v[:, 2:3] * R[:, 2]

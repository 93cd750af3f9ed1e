"""Simulated single-leg stance test with a sacral IMU and known truth.

Protocol simulated: quiet two-leg standing (``stand_before_s``), the foot of the unsupported leg
comes off the ground at ``foot_off_s``: in ``transition_s`` the pelvis shifts towards the stance leg
(``shift_m``), the unsupported side drops by ``drop_deg`` (negative = hip hike) and the tilt changes
by ``tilt_change_deg``; the runner holds for ``hold_s`` with postural sway (``sway_deg``, RMS of the
combined frontal+sagittal angle), puts the foot down (small impact) and stands again.

Pelvis frame: x forward, y left, z up; obliquity positive = left side up. Standing on the LEFT
leg, the unsupported RIGHT side dropping = positive obliquity. The sensor signals are specific
force (m/s²) and angular velocity (rad/s) in the sensor frame, derived from the kinematics the same
way as :mod:`gaitmon.sim.model` (lever arm, random mount up to ±30°, bias, noise, quantisation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from gaitmon.sim.model import G, _mexican_hat, nominal_mount

HOLD_WINDOW_START_S = 1.0  # hold window used for drop/sway: foot_off + 1.0 s ...
HOLD_WINDOW_END_S = 0.5  # ... to foot_down − 0.5 s


@dataclass
class SingleLegConfig:
    """Parameters of a simulated single-leg stance test (deg, s, m, m/s², rad/s)."""

    side: str = "L"  # stance leg (the foot that stays on the ground)
    fs: float = 104.0
    stand_before_s: float = 5.0
    hold_s: float = 30.0  # foot-off to foot-down
    stand_after_s: float = 3.0
    drop_deg: float = 4.0  # unsupported side below its two-leg level during the hold
    tilt_change_deg: float = 1.0
    sway_deg: float = 0.8  # RMS of the combined obliquity+tilt sway during the hold
    sway_two_leg_deg: float = 0.12
    shift_m: float = 0.07  # lateral shift of the pelvis towards the stance leg
    transition_s: float = 0.6
    seed: int = 0
    mount_error_deg: float = 30.0
    mount_euler_deg: tuple[float, float, float] | None = None
    forward: str = "-z"
    up: str = "+y"
    lever_arm_m: tuple[float, float, float] = (-0.12, 0.0, 0.02)
    acc_noise: float = 0.04
    gyr_noise: float = 0.004
    acc_bias: float = 0.08
    gyr_bias: float = 0.03
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0
    internal_hz: float = 1000.0


@dataclass
class SingleLegTruth:
    """Truth: stance side, foot-off/down times (s, recording clock), drop (deg, + = unsupported
    side lower), hold (s), sway (deg RMS over the hold window) and that window."""

    side: str
    foot_off_s: float
    foot_down_s: float
    hold_s: float
    drop_deg: float
    sway_rms_deg: float
    window: tuple[float, float]


@dataclass
class SingleLegRecording:
    time: np.ndarray  # s
    acc: np.ndarray  # (n,3) m/s² specific force, sensor frame
    gyr: np.ndarray  # (n,3) rad/s, sensor frame
    forward: str
    up: str
    fs: float
    truth: SingleLegTruth
    config: SingleLegConfig


def _smoothstep(t, t0, dur):
    x = np.clip((t - t0) / dur, 0.0, 1.0)
    return x * x * x * (10 - 15 * x + 6 * x * x)  # C2 quintic


def _sway(t, rng, rms, fmin=0.15, fmax=1.2, k=14):
    """Smooth random sway: sum of k sinusoids, unit RMS scaled to ``rms``."""
    f = rng.uniform(fmin, fmax, k)
    ph = rng.uniform(0, 2 * np.pi, k)
    a = 1.0 / np.sqrt(f)  # more power at low frequency, like real sway
    s = (a[:, None] * np.sin(2 * np.pi * f[:, None] * t[None, :] + ph[:, None])).sum(axis=0)
    return s / np.sqrt(np.mean(s * s)) * rms


def _detrended_rms(t, *ys):
    tot = 0.0
    for y in ys:
        p = np.polyfit(t, y, 1)
        r = y - np.polyval(p, t)
        tot += float(np.mean(r * r))
    return float(np.sqrt(tot))


def simulate_single_leg(cfg: SingleLegConfig | None = None) -> SingleLegRecording:
    """Simulate a single-leg stance test; returns sensor-frame signals and the truth."""
    cfg = dataclasses.replace(cfg or SingleLegConfig())
    side = cfg.side.upper()
    if side not in ("L", "R"):
        raise ValueError("side must be 'L' or 'R' (the stance leg)")
    rng = np.random.default_rng(cfg.seed)
    dt = 1.0 / cfg.internal_hz
    t_off = cfg.stand_before_s
    t_down = t_off + cfg.hold_s
    down_dur = 0.7 * cfg.transition_s
    total = t_down + down_dur + cfg.stand_after_s
    t = np.arange(0.0, total, dt)
    # the pelvis starts shifting back while the foot descends; the foot lands (impact) at t_down
    env = _smoothstep(t, t_off, cfg.transition_s) * (1.0 - _smoothstep(t, t_down - 0.6 * down_dur, down_dur))
    sgn = 1.0 if side == "L" else -1.0  # stance L: right side drops -> left side up -> obliquity +
    # sway: two-leg level everywhere, single-leg level while on one leg
    s_obl = _sway(t, rng, 1.0)
    s_tilt = _sway(t, rng, 1.0)
    level = cfg.sway_two_leg_deg + (cfg.sway_deg - cfg.sway_two_leg_deg) * env
    # split the combined RMS 60/40 between frontal and sagittal planes
    obl = sgn * cfg.drop_deg * env + level * np.sqrt(0.6) * s_obl
    tilt = cfg.tilt_change_deg * env + level * np.sqrt(0.4) * s_tilt
    yaw = 0.3 * _sway(t, rng, 1.0) * (0.3 + env)
    # lateral shift towards the stance leg (+y = left), sway of the centre of mass
    py = sgn * cfg.shift_m * env + 0.004 * _sway(t, rng, 1.0) * env
    px = 0.003 * _sway(t, rng, 1.0) * env
    pz = -0.005 * env
    i0 = int(t_down / dt)
    sl = slice(max(0, i0 - 200), min(len(t), i0 + 400))
    pz = pz.copy()
    pz[sl] += _mexican_hat(t[sl], t_down, 0.012, 4.0)  # touchdown impact
    p = np.stack([px, py, pz], axis=1)
    R_wp = Rotation.from_euler("ZYX", np.radians(np.stack([yaw, tilt, obl], axis=1)))
    R_sp_nom = nominal_mount(cfg.forward, cfg.up)
    eul = cfg.mount_euler_deg if cfg.mount_euler_deg is not None else rng.uniform(-1, 1, 3) * cfg.mount_error_deg
    R_sp = Rotation.from_euler("xyz", eul, degrees=True).as_matrix() @ R_sp_nom
    R_ws = R_wp * Rotation.from_matrix(R_sp)
    p_s = p + R_wp.apply(np.asarray(cfg.lever_arm_m))
    f_w = np.gradient(np.gradient(p_s, dt, axis=0), dt, axis=0) + np.array([0.0, 0.0, G])
    f_s = R_ws.inv().apply(f_w)
    dq = R_ws[:-1].inv() * R_ws[1:]
    om_mid = dq.as_rotvec() / dt
    om = np.empty((len(t), 3))
    om[1:-1] = 0.5 * (om_mid[:-1] + om_mid[1:])
    om[0], om[-1] = om_mid[0], om_mid[-1]

    w0, w1 = t_off + HOLD_WINDOW_START_S, t_down - HOLD_WINDOW_END_S
    m = (t >= w0) & (t <= w1)
    if m.sum() > 10:
        drop = float(sgn * obl[m].mean())
        sway = _detrended_rms(t[m], obl[m], tilt[m])
    else:
        drop = float(sgn * cfg.drop_deg)
        sway = float("nan")
    truth = SingleLegTruth(side, t_off, t_down, cfg.hold_s, drop, sway, (w0, w1))

    n_out = int(total * cfg.fs)
    ts = np.arange(n_out) / cfg.fs
    acc = np.stack([np.interp(ts, t, f_s[:, i]) for i in range(3)], axis=1)
    gyr = np.stack([np.interp(ts, t, om[:, i]) for i in range(3)], axis=1)
    acc = acc + rng.uniform(-1, 1, 3) * cfg.acc_bias + rng.normal(0, cfg.acc_noise, acc.shape)
    gyr = gyr + rng.uniform(-1, 1, 3) * cfg.gyr_bias + rng.normal(0, cfg.gyr_noise, gyr.shape)
    a_lsb = cfg.acc_range_g * G / 32768.0
    g_lsb = np.radians(cfg.gyr_range_dps) / 32768.0
    acc = np.clip(np.round(acc / a_lsb), -32768, 32767) * a_lsb
    gyr = np.clip(np.round(gyr / g_lsb), -32768, 32767) * g_lsb
    return SingleLegRecording(ts, acc, gyr, cfg.forward, cfg.up, cfg.fs, truth, cfg)

"""Physically honest simulated walker/runner with a sacral IMU, and its ground truth.

The pelvis moves in the world frame (x forward along the path, y left, z up). Its kinematics are
built from a smooth gait phase so that positions and orientations are continuous and twice
differentiable; the sensor's **specific force** and **angular velocity** are then obtained by
differentiating the sensor's world position and orientation numerically on a fine grid
(default 4 kHz) — so the lever arm (sensor behind the pelvis' rotation centre), impacts, flight,
bends and the mount all enter the signals the way physics says they do:

    f_sensor = R_ws^T (p_s'' + g z)            [m/s², sensor frame]
    w_sensor = vee(R_ws^T R_ws')               [rad/s, sensor frame]

Then sensor imperfections are added: bias, scale error, white noise, quantisation, a slightly
wrong clock, timestamp jitter and dropped samples.

Truth (per step, step = IC of one foot to the next IC of the other foot) follows gaitmon's
definitions exactly (data-contracts §3, algorithm note): pelvic drop = peak of the swing-side
hemipelvis below the neutral (standing) posture during the step, in degrees; obliquity excludes the
inward lean on a bend (measured against the stride-averaged support direction).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from gaitmon.axes import axis_vector

G = 9.80665

# Mean vertical acceleration (m/s², gravity removed) of real lower-back walking over one step,
# sampled at 21 points from IC (u=0) to the next IC (u=1): measured on the Mobilise-D example
# recordings shipped in tests/data/real-walking (INDIP reference ICs). The simulator's walking
# vertical acceleration is this shape (periodic spline), scaled per session.
WALK_AV_TEMPLATE = (0.16, 1.51, 1.95, 1.29, 0.18, -0.93, -1.47, -1.36, -0.87, -1.01, -1.43, -1.6,
                    -1.59, -1.51, -1.45, -1.43, -1.26, -0.98, -0.64, -0.39, 0.16)

# Medio-lateral (heading-frame lateral, toward the STANCE foot +) acceleration of real lower-back
# walking over one step, m/s², at 21 points from IC (u=0) to the next IC (u=1): median of the
# Mobilise-D example walks in tests/data/real-walking (40 steady steps, INDIP reference contacts,
# orientation from gaitmon's filter, stride mean removed). The contact's sharp push toward the swing
# side (u ~ 0.1), a short return (0.2-0.3), then the body falling toward the swing side over the
# stance foot (0.45-0.85). (The six L5 walkers of Voisard 2023 show the same features, the fall
# earlier: 0.35-0.5.) The simulator's walking sway follows this shape, scaled to the drawn sway
# amplitude; it replaced a sinusoid whose pelvis-frame lateral force before a contact pointed
# toward the landing foot for 55 % of steps, against 94 % in the real walks (docs/simulator.md).
WALK_ML_TEMPLATE = (0.32, -0.06, -1.08, -0.45, 0.36, 0.25, 0.25, -0.07, -0.12, -0.58, -1.08, -1.27, -1.3,
                    -1.09, -0.89, -0.81, -0.88, -0.79, -0.41, -0.3, -0.44)

# The warm-up walk of a run session (walk_before_s) uses the walking defaults of SimConfig.resolved
WALK_OBLIQUITY_PEAK_FRAC = 0.35
WALK_OBLIQUITY_H3 = 0.15  # the walking default third harmonic (SimConfig.obliquity_h3)
WALK_SWAY_M = 0.020
WALK_IMPACT = (0.010, 1.5)  # (sigma s, peak m/s²)


def nominal_mount(forward: str, up: str) -> np.ndarray:
    """Rotation matrix R_ps whose columns are the sensor axes expressed in the pelvis frame.

    ``forward``/``up`` name the sensor axes pointing forward/up for a perfect mount.
    Pelvis frame: x forward, y left, z up. ``v_pelvis = R_ps @ v_sensor``.
    """
    f = axis_vector(forward)
    u = axis_vector(up)
    if abs(f @ u) > 0.5:
        raise ValueError(f"forward {forward} and up {up} must be different, perpendicular axes")
    left = np.cross(u, f)
    # rows: pelvis axes in sensor coordinates -> R_sp ; R_ps = R_sp^T
    r_sp_rows = np.vstack([f, left, u])  # pelvis x,y,z expressed in sensor frame
    return r_sp_rows  # maps sensor -> pelvis: v_p = rows @ v_s


@dataclass
class SimConfig:
    """Parameters of a simulated session. Angles in degrees, times in s, lengths in m."""

    activity: str = "run"  # "run" | "walk"
    fs: float = 200.0  # nominal sensor sample rate, Hz
    duration_s: float = 60.0  # gait duration (standing added before/after)
    stand_before_s: float = 5.0
    stand_after_s: float = 2.0
    seed: int = 0
    cadence_spm: float | None = None  # default 170 run / 110 walk
    step_time_cv: float = 0.03  # step-to-step variability (coefficient of variation)
    speed_mps: float | None = None  # default 3.3 run / 1.3 walk
    drop_left_deg: float = 6.0  # mean pelvic drop in LEFT steps (right side sinks)
    drop_right_deg: float = 4.0
    drop_sd_deg: float = 0.8  # step-to-step variability of the drop
    drop_drift_deg_per_min: float = 0.0  # fatigue: drop rising during the session
    first_side: str = "L"
    contact_fraction: float = 0.62  # running: contact time / step time
    tilt_gait_deg: float = 3.0  # mean anterior tilt during gait relative to standing
    tilt_amp_deg: float = 2.5
    rotation_amp_deg: float = 6.0
    # ---- physiology (defaults = the original single shape; see docs/simulator.md) ----
    # Transverse rotation rot = -s * A * sin(pi*w + phase), s = +1 in a left step: phase 0 puts the
    # yaw RATE at its most negative at a left contact (McCamley walking sign), 180 reverses it
    # (positive at a left contact, as in the Fukuchi runners), +-90 puts the rotation's extreme at the
    # contact (rate ~0 there). Any value is allowed.
    rotation_phase_deg: float = 0.0
    rotation_h3: float = 0.0  # relative 3rd stride harmonic of the rotation (same phase origin)
    rotation_h3_phase_deg: float = 0.0
    # Obliquity shape per step: amp * (sin(x) + h3 * sin(3x + h3_phase)), x = pi*w + pi*(0.5 - peak_frac);
    # peak_frac = where in the step (0 = IC, 1 = next IC) the fundamental peaks (the drop's peak if
    # h3 is small); default 0.30 run / 0.35 walk. The level and rate at the contact follow from these.
    obliquity_peak_frac: float | None = None
    obliquity_h3: float = 0.15
    obliquity_h3_phase_deg: float = 0.0
    tilt_phase_deg: float | None = None  # phase of the step-frequency tilt; default 0.6 rad
    sway_m: float | None = None  # medio-lateral pelvis sway amplitude; default 0.010 run / 0.020 walk
    sway_phase_deg: float | None = None  # its phase (y = s*A*sin(pi*w + phase)); default -0.3 rad
    walk_acc_scale: float = 1.3  # scale of the walking vertical-acceleration template
    # when the walking pelvis falls toward the swing side: WALK_ML_TEMPLATE's fall (at 0.6 of the
    # step in the Mobilise-D walks) moved by this fraction of a step (-0.15: 0.45, as the L5 walkers)
    walk_ml_fall_shift: float = 0.0
    impact_peak: float | None = None  # m/s2 of the impact transient after IC; default 9.0 run / 1.5 walk
    impact_sigma_s: float | None = None  # its width; default 0.007 run / 0.010 walk
    mount_error_deg: float = 30.0  # max |error| per axis of the random mount
    forward: str = "-z"  # nominal sensor axis pointing forward
    up: str = "+y"  # nominal sensor axis pointing up
    mount_euler_deg: tuple[float, float, float] | None = None  # explicit mount error (xyz, deg)
    lever_arm_m: tuple[float, float, float] = (-0.12, 0.0, 0.02)  # sensor position in pelvis frame
    bends: bool = False  # add left/right bends where the runner leans in
    # ---- a run that starts with a warm-up walk (one continuous bout: walk, then run) ----
    walk_before_s: float = 0.0  # run sessions: walk this long (walking cadence/speed/shape) first
    walk_cadence_spm: float = 110.0  # the warm-up walk's cadence
    walk_speed_mps: float = 1.3  # and speed (the speed then rises to speed_mps over ~1 s)
    # a runner whose pelvis drops toward the STANCE side in running (the usual is the swing side):
    # the running obliquity is mirrored (same shape and size, opposite sign); a warm-up walk keeps
    # the usual walking pattern. The runner gaitmon's running side cue mirrors (issue 11).
    stance_side_drops: bool = False
    acc_noise: float = 0.04  # m/s² white noise sd
    gyr_noise: float = 0.004  # rad/s white noise sd
    acc_bias: float = 0.08  # m/s² max |bias| per axis
    gyr_bias: float = 0.03  # rad/s max |bias| per axis
    scale_error: float = 0.01  # max relative scale error per axis
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0
    clock_ppm: float = 50.0  # sensor clock error
    jitter_s: float = 0.0  # timestamp jitter sd (fraction of dt if < 1/fs)
    drop_rate: float = 0.0  # fraction of isolated samples dropped
    gaps: tuple[tuple[float, float], ...] = ()  # (start_s, length_s) gaps with no samples
    internal_hz: float | None = None  # fine grid for differentiation; default max(2000, 4*fs)

    def resolved(self) -> "SimConfig":
        c = dataclasses.replace(self)
        if c.activity not in ("run", "walk"):
            raise ValueError("activity must be 'run' or 'walk'")
        if c.cadence_spm is None:
            c.cadence_spm = 170.0 if c.activity == "run" else 110.0
        if c.internal_hz is None:
            c.internal_hz = max(2000.0, 4.0 * c.fs)
        if c.speed_mps is None:
            c.speed_mps = 3.3 if c.activity == "run" else 1.3
        if c.obliquity_peak_frac is None:
            c.obliquity_peak_frac = 0.30 if c.activity == "run" else WALK_OBLIQUITY_PEAK_FRAC
        if c.tilt_phase_deg is None:
            c.tilt_phase_deg = math.degrees(0.6)
        if c.sway_m is None:
            c.sway_m = 0.010 if c.activity == "run" else WALK_SWAY_M
        if c.sway_phase_deg is None:
            c.sway_phase_deg = math.degrees(-0.3)
        if c.impact_peak is None:
            c.impact_peak = 9.0 if c.activity == "run" else WALK_IMPACT[1]
        if c.impact_sigma_s is None:
            c.impact_sigma_s = 0.007 if c.activity == "run" else WALK_IMPACT[0]
        if c.activity == "run" and not (0.3 <= c.contact_fraction <= 1.4):
            raise ValueError("contact_fraction (contact time / step time) must be in [0.3, 1.4]")
        if c.walk_before_s and (c.activity != "run" or not 0.0 < c.walk_before_s < c.duration_s):
            raise ValueError("walk_before_s needs activity 'run' and must be shorter than duration_s")
        return c


@dataclass
class SimTruth:
    """Ground truth of a simulated session (times on the recording clock, angles in degrees)."""

    ic_t: np.ndarray  # initial contacts, s
    side: np.ndarray  # 'L'/'R' per IC
    steady: np.ndarray  # bool per step: full-amplitude gait (not the start/stop ramps)
    step_time_s: np.ndarray
    pelvic_drop_deg: np.ndarray
    obliquity_range_deg: np.ndarray
    tilt_range_deg: np.ndarray
    rotation_range_deg: np.ndarray
    vertical_oscillation_cm: np.ndarray
    contact_time_s: np.ndarray  # NaN for walking
    activity: str
    mount_R_sp: np.ndarray  # sensor->pelvis rotation actually used
    gait_start_s: float
    gait_end_s: float
    step_activity: np.ndarray | None = None  # 'walk'/'run' per step where a session mixes them

    def to_json(self) -> dict:
        d = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = [x if not (isinstance(x, float) and math.isnan(x)) else None for x in v.tolist()]
            d[f.name] = v
        return d

    def save(self, path) -> None:
        with open(path, "w") as fh:
            json.dump(self.to_json(), fh, indent=1)


@dataclass
class SimRecording:
    """A simulated recording in the recording-file format's units (sensor frame)."""

    time: np.ndarray  # s, sensor clock (as the sensor reports it)
    acc: np.ndarray  # (n,3) m/s² specific force, sensor frame
    gyr: np.ndarray  # (n,3) rad/s, sensor frame
    forward: str
    up: str
    fs: float
    truth: SimTruth
    config: SimConfig = field(repr=False)


def _smooth_env(t, t0, t1, ramp):
    """0 before t0, 1 between, 0 after t1 with smooth cosine ramps of length ramp."""
    e = np.clip((t - t0) / ramp, 0.0, 1.0)
    e = 0.5 - 0.5 * np.cos(np.pi * e)
    f = np.clip((t1 - t) / ramp, 0.0, 1.0)
    f = 0.5 - 0.5 * np.cos(np.pi * f)
    return e * f


def _mexican_hat(t, centre, sigma, peak):
    """Second derivative of a Gaussian bump in position -> zero-net transient (the single-leg
    test's foot touchdown). Returned as the POSITION contribution (m); its 2nd derivative peaks at
    ``peak`` m/s²."""
    b = peak * sigma * sigma
    return -b * np.exp(-0.5 * ((t - centre) / sigma) ** 2)


def _impact(t, tic, sigma, peak):
    """Impact transient after a contact at ``tic``, as its ACCELERATION (m/s², vertical).

    Its acceleration is causal — nothing before the foot touches down, a sharp positive peak of
    ``peak`` m/s² right after it (the impact transient: Lieberman et al. 2010 Nature 463:531), then a
    broader valley and a small late lobe — with zero net velocity and zero net displacement, so the
    stance's mean force is unchanged. (An earlier symmetric 'Mexican hat' put a valley of 0.45 *
    peak BEFORE the contact, which a real foot cannot do; with no flight phase it dipped the
    specific force to ~0 g just before each contact.)
    Lobes (width, centre): (σ, tic + 2.5σ), (5σ, +8σ), (8σ, +16σ); areas a1 : -3/2 a1 : 1/2 a1 (the
    valley 0.3 x peak, so the specific force stays above 0 g where the contact starts near 0.3 g).
    """
    c1 = tic + 2.5 * sigma
    c2 = c1 + 8.0 * sigma
    c3 = c2 + 16.0 * sigma
    g = lambda c, w: np.exp(-0.5 * ((t - c) / w) ** 2)  # noqa: E731
    return peak * (g(c1, sigma) - 1.5 / 5.0 * g(c2, 5.0 * sigma) + 0.5 / 8.0 * g(c3, 8.0 * sigma))


def simulate(cfg: SimConfig | None = None) -> SimRecording:
    """Simulate a session: quiet standing, gait, standing. Returns sensor-frame signals + truth."""
    cfg = (cfg or SimConfig()).resolved()
    rng = np.random.default_rng(cfg.seed)
    run = cfg.activity == "run"
    T_nom = 60.0 / cfg.cadence_spm
    walk_s = cfg.walk_before_s if run else 0.0  # a warm-up walk before the run
    T_first = 60.0 / cfg.walk_cadence_spm if walk_s else T_nom
    g0 = cfg.stand_before_s
    g1 = g0 + cfg.duration_s
    total = g1 + cfg.stand_after_s
    ramp = 1.2 * T_first * 2  # start/stop ramps over ~2 strides

    # ---- step (IC) times with variability; ICs run from gait start to end
    ics = [g0]
    while ics[-1] < g1:
        T_i = T_first if ics[-1] < g0 + walk_s else T_nom
        ics.append(ics[-1] + T_i * (1.0 + cfg.step_time_cv * rng.standard_normal()))
    ics = np.array(ics)
    n_steps = len(ics) - 1
    # continuous step index w(t): smooth (C2) through the ICs; extended linearly outside
    k = np.arange(len(ics), dtype=float)
    ext_t = np.concatenate([[ics[0] - 3 * T_first, ics[0] - 2 * T_first], ics, [ics[-1] + 2 * T_nom, ics[-1] + 3 * T_nom]])
    ext_k = np.concatenate([[-3, -2], k, [k[-1] + 2, k[-1] + 3]])
    wspline = CubicSpline(ext_t, ext_k)

    dt = 1.0 / cfg.internal_hz
    t = np.arange(0.0, total + 1e-9, dt)
    w = wspline(t)
    env = _smooth_env(t, g0, ics[-1], ramp)
    # running steps (a warm-up walk's are not); r_hard switches the vertical force and impacts at the
    # first running contact, r_soft (0 -> 1 over 1 s around it) the speed, sway and obliquity pattern
    step_run = np.array([run and ics[i] >= g0 + walk_s for i in range(n_steps)], bool)
    if walk_s:
        k_run = int(np.argmax(step_run)) if step_run.any() else n_steps
        t_run = ics[k_run]
        r_hard = (w >= k_run).astype(float)
        r_soft = 0.5 - 0.5 * np.cos(np.pi * np.clip(t - (t_run - 0.5), 0.0, 1.0))
    else:
        r_hard = r_soft = np.full(len(t), 1.0 if run else 0.0)
    first_left = cfg.first_side.upper() == "L"
    # side sign of the step at w: +1 left stance, -1 right stance (for step index floor(w))
    # obliquity phase: sin(pi*w - phi) positive during even steps -> even steps are left if first_left

    # ---- per-step amplitudes (drop) placed at step peak positions, smooth interpolation
    side_of_step = np.array(["L" if ((i % 2 == 0) == first_left) else "R" for i in range(n_steps)])
    minutes = (ics[:-1] - g0) / 60.0
    drop = np.where(side_of_step == "L", cfg.drop_left_deg, cfg.drop_right_deg)
    drop = drop + cfg.drop_drift_deg_per_min * minutes + cfg.drop_sd_deg * rng.standard_normal(n_steps)
    drop = np.maximum(drop, 0.3)
    u_peak = cfg.obliquity_peak_frac  # where in the step the fundamental of the drop peaks
    u_peak_w = WALK_OBLIQUITY_PEAK_FRAC if walk_s else u_peak  # (the warm-up walk's)
    # amplitude that makes the peak of the (2-harmonic) shape equal to the drop
    a3 = cfg.obliquity_h3
    p3 = math.radians(cfg.obliquity_h3_phase_deg)
    uu = np.linspace(0, 1, 2001)
    shape_pk = obliquity_shape(np.pi * uu + np.pi * (0.5 - u_peak), a3, p3).max()
    # the warm-up walk's obliquity shape: the walking default (h3 0.15, in phase), not the runner's
    a3w, p3w = (WALK_OBLIQUITY_H3, 0.0) if walk_s else (a3, p3)
    shape_pk_w = obliquity_shape(np.pi * uu + np.pi * (0.5 - u_peak_w), a3w, p3w).max()
    peaks = np.where(step_run | (not walk_s), u_peak, u_peak_w)
    amp_nodes_k = np.concatenate([[-3, -2, -1], np.arange(n_steps) + peaks, [n_steps + 1, n_steps + 2]])
    amp_steps = drop / np.where(step_run | (not walk_s), shape_pk, shape_pk_w)
    amp_nodes = np.concatenate([[amp_steps[0]] * 3, amp_steps, [amp_steps[-1]] * 2])
    amp = CubicSpline(amp_nodes_k, amp_nodes)(w)
    sgn = 1.0 if first_left else -1.0
    phi = np.pi * (0.5 - u_peak_w) + np.pi * (u_peak_w - u_peak) * r_soft
    ph = np.pi * w + phi
    pattern = 1.0 - 2.0 * r_soft if cfg.stance_side_drops else 1.0  # stance side drops: mirrored
    shape = obliquity_shape(ph, a3, p3)
    if walk_s:
        shape = r_soft * shape + (1.0 - r_soft) * obliquity_shape(ph, a3w, p3w)
    obl = sgn * pattern * amp * shape * env  # deg, + = left side up

    tilt = (cfg.tilt_gait_deg + cfg.tilt_amp_deg * np.sin(2 * np.pi * w + math.radians(cfg.tilt_phase_deg))) * env
    # transverse rotation: with the default phase 0 its RATE is extreme at IC (negative at a left IC,
    # McCamley 2012), the angle extreme at mid-step; rotation_phase_deg moves it to any phase.
    pr = np.pi * w + math.radians(cfg.rotation_phase_deg)
    rot_shape = np.sin(pr)
    if cfg.rotation_h3:
        rot_shape = rot_shape + cfg.rotation_h3 * np.sin(3 * pr + math.radians(cfg.rotation_h3_phase_deg))
    rot = -sgn * cfg.rotation_amp_deg * rot_shape * env

    # ---- path: heading and lean on bends
    speed = (cfg.walk_speed_mps + (cfg.speed_mps - cfg.walk_speed_mps) * r_soft if walk_s else cfg.speed_mps) * env
    if cfg.bends:
        # alternate left/right bends of radius ~ 25 m lasting ~8 s each, separated by straights
        yaw_rate = np.zeros_like(t)
        tb = g0 + 8.0
        sign = 1.0
        while tb + 8.0 < g1 - 4.0:
            yaw_rate += sign * (cfg.speed_mps / 25.0) * _smooth_env(t, tb, tb + 8.0, 2.0)
            tb += 16.0
            sign = -sign
        yaw_rate *= env
    else:
        yaw_rate = np.zeros_like(t)
    heading = np.cumsum(yaw_rate) * dt
    lean = np.degrees(np.arctan2(speed * yaw_rate, G))  # inward lean (left turn -> lean left)

    # ---- pelvis centre trajectory in world
    # along-path progression plus within-step fluctuation
    u = w - np.floor(w)
    s = np.cumsum(speed) * dt
    x_amp = 0.015 + (0.012 - 0.015) * r_soft if walk_s else (0.012 if run else 0.015)
    x_osc = x_amp * np.sin(2 * np.pi * w) * env
    if run:
        # running: a sinusoid of the drawn amplitude and phase (person-specific, issue 11)
        sway = WALK_SWAY_M + (cfg.sway_m - WALK_SWAY_M) * r_soft if walk_s else cfg.sway_m
        y_osc = sgn * sway * np.sin(np.pi * w + math.radians(cfg.sway_phase_deg)) * env
    else:
        y_osc = np.zeros(len(t))
    if not run or walk_s:
        # walking: the measured medio-lateral shape (WALK_ML_TEMPLATE), scaled to the sway amplitude
        y_walk = _walk_sway(w, sgn, cfg.sway_m if not run else WALK_SWAY_M, cfg.walk_ml_fall_shift) * env
        y_osc = y_osc + (1.0 - r_soft) * y_walk
    # vertical: acceleration model per step, integrated; IC at integer w
    a_z = np.zeros(len(t))
    if run:
        a_z += r_hard * (running_vertical_force(u, cfg.contact_fraction) - G)
    if not run or walk_s:
        tmpl = np.array(WALK_AV_TEMPLATE)
        tmpl = tmpl - tmpl[:-1].mean()
        walk_shape = CubicSpline(np.linspace(0, 1, len(tmpl)), tmpl, bc_type="periodic")
        a_walk = cfg.walk_acc_scale * walk_shape(u)
        if walk_s and k_run < n_steps:
            # the last walking step pushes off into the first flight: its force falls to zero over
            # its second half (the first running contact starts from zero force, as each one does)
            last = (w >= k_run - 1) & (w < k_run)
            x = np.clip((u - 0.55) / 0.3, 0.0, 1.0)
            f = np.where(last, 0.5 - 0.5 * np.cos(np.pi * x), 0.0)
            a_walk = (1.0 - f) * a_walk - f * G
        a_z += (1.0 - r_hard) * a_walk
    a_z = a_z * env

    def detrend(x):  # minus its moving mean over two steps (of the walk / of the run)
        if not walk_s:
            return x - _moving_mean(x, int(round(2 * T_nom / dt)))
        return x - ((1.0 - r_soft) * _moving_mean(x, int(round(2 * T_first / dt)))
                    + r_soft * _moving_mean(x, int(round(2 * T_nom / dt))))

    v_z = detrend(np.cumsum(a_z) * dt)
    z = detrend(np.cumsum(v_z) * dt)
    # impact transients just after each IC (sharp, zero net velocity change)
    # (added as acceleration over the whole session and integrated once: integrating each pulse
    # in its own window left tiny position steps at the window edges, i.e. huge spikes)
    a_imp = np.zeros_like(t)
    for i, tic in enumerate(ics[:-1]):
        imp_sigma, imp_peak = (cfg.impact_sigma_s, cfg.impact_peak) if step_run[i] or not walk_s else WALK_IMPACT
        sl = slice(max(0, int((tic - 0.02) / dt)), min(len(t), int((tic + 0.02 + 60 * imp_sigma) / dt)))
        a_imp[sl] += _impact(t[sl], tic, imp_sigma, imp_peak) * env[sl]
    z_imp = np.cumsum(np.cumsum(a_imp) * dt) * dt
    z += z_imp - np.polyval(np.polyfit(t, z_imp, 1), t)

    # rotate along-path fluctuation by heading
    px = np.cumsum(speed * np.cos(heading)) * dt + x_osc * np.cos(heading) - y_osc * np.sin(heading)
    py = np.cumsum(speed * np.sin(heading)) * dt + x_osc * np.sin(heading) + y_osc * np.cos(heading)
    p_pelvis = np.stack([px, py, z], axis=1)

    # ---- pelvis orientation: yaw (heading + rotation), pitch (tilt), roll (obliquity - lean)
    R_wp = Rotation.from_euler("ZYX", np.stack([heading + np.radians(rot), np.radians(tilt), np.radians(obl - lean)], axis=1))

    # ---- mount: nominal axes + random error up to mount_error_deg per axis
    R_sp_nom = nominal_mount(cfg.forward, cfg.up)  # sensor -> pelvis
    draw = rng.uniform(-1, 1, 3) * cfg.mount_error_deg
    err = Rotation.from_euler("xyz", cfg.mount_euler_deg if cfg.mount_euler_deg is not None else draw, degrees=True)
    # sensor->pelvis = error applied in pelvis frame after the nominal mount
    R_sp = err.as_matrix() @ R_sp_nom  # v_p = R_sp v_s
    R_ws = R_wp * Rotation.from_matrix(R_sp)  # v_w = R_wp R_sp v_s

    lever = np.asarray(cfg.lever_arm_m)
    p_s = p_pelvis + R_wp.apply(lever)
    acc_w = np.gradient(np.gradient(p_s, dt, axis=0), dt, axis=0)
    f_w = acc_w + np.array([0.0, 0.0, G])
    f_s = R_ws.inv().apply(f_w)
    # angular velocity in the sensor frame from consecutive orientations
    q = R_ws
    dq = q[:-1].inv() * q[1:]
    om_mid = dq.as_rotvec() / dt  # body rates at midpoints
    om = np.empty((len(t), 3))
    om[1:-1] = 0.5 * (om_mid[:-1] + om_mid[1:])
    om[0] = om_mid[0]
    om[-1] = om_mid[-1]

    # ---- truth per step (on the true, noise-free kinematics)
    truth = _truth(cfg, t, ics, side_of_step, obl, tilt, rot, R_wp, p_s, u, step_run, env, g0, ramp)
    if walk_s:
        truth.step_activity = np.where(step_run, "run", "walk")
    truth.mount_R_sp = R_sp

    # ---- sampling by the sensor: clock error, jitter, drops, gaps
    n_out = int(total * cfg.fs)
    t_true = np.arange(n_out) / cfg.fs
    if cfg.jitter_s > 0:
        t_true = t_true + rng.normal(0.0, cfg.jitter_s, n_out)
        t_true = np.sort(np.clip(t_true, 0, total - dt))
    keep = np.ones(n_out, bool)
    if cfg.drop_rate > 0:
        keep &= rng.random(n_out) >= cfg.drop_rate
    for gs, gl in cfg.gaps:
        keep &= ~((t_true >= gs) & (t_true < gs + gl))
    t_true = t_true[keep]
    acc = np.stack([np.interp(t_true, t, f_s[:, i]) for i in range(3)], axis=1)
    gyr = np.stack([np.interp(t_true, t, om[:, i]) for i in range(3)], axis=1)

    acc, gyr = sensor_errors(acc, gyr, cfg, rng)
    # the sensor reports time on its own (slightly wrong) clock
    t_rep = t_true * (1.0 + cfg.clock_ppm * 1e-6)

    return SimRecording(time=t_rep, acc=acc, gyr=gyr, forward=cfg.forward, up=cfg.up, fs=cfg.fs, truth=truth, config=cfg)


def _walk_sway(w, sgn, amp, fall_shift=0.0):
    """Lateral pelvis position (m, + left) of walking from the measured acceleration shape
    WALK_ML_TEMPLATE (toward the stance foot in each step, so mirrored every other step: one stride
    period), integrated twice over one periodic stride and scaled so that its half peak-to-peak is
    ``amp`` (the step time only scales it, so it drops out); evaluated at the continuous step index ``w`` (even steps left if
    ``sgn`` = +1). ``fall_shift`` (fraction of a step) moves the fall toward the swing side: the
    step's time is warped piecewise linearly (0.3 and 1.0 fixed, 0.6 -> 0.6 + fall_shift), so the
    contact's push (u < 0.3) stays where the contact is."""
    tm = np.asarray(WALK_ML_TEMPLATE)
    if fall_shift:
        u = np.linspace(0.0, 1.0, len(tm))
        src = np.interp(u, [0.0, 0.3, 0.6 + fall_shift, 1.0], [0.0, 0.3, 0.6, 1.0])  # warped u -> template u
        tm = np.interp(src, u, tm)
    knots = np.concatenate([tm[:-1], -tm[:-1], [tm[0]]])  # one stride: stance left, then right
    shape = CubicSpline(np.linspace(0.0, 2.0, len(knots)), knots - knots[:-1].mean(), bc_type="periodic")
    v = np.linspace(0.0, 2.0, 801)[:-1]
    spec = np.fft.rfft(shape(v))  # over the stride phase v, in steps
    k = np.arange(len(spec)) * (2 * np.pi / 2.0)  # rad per step
    pos_spec = np.zeros_like(spec)
    pos_spec[1:] = -spec[1:] / (k[1:] ** 2)
    pos = np.fft.irfft(pos_spec, len(v))
    scale = amp / (0.5 * (pos.max() - pos.min()))
    return sgn * scale * np.interp(np.mod(w, 2.0), np.concatenate([v, [2.0]]), np.concatenate([pos, [pos[0]]]))


def obliquity_shape(x, h3: float, h3_phase_rad: float = 0.0):
    """Obliquity per unit amplitude at stride phase x (odd harmonics only: a left step mirrors a right one)."""
    return np.sin(x) + h3 * np.sin(3 * x + h3_phase_rad)


def running_vertical_force(u, contact_fraction: float):
    """Vertical ground-reaction force per body mass (m/s²) at step phase u (0 = IC, 1 = next IC).

    Each foot's force is a half sine over its contact (contact_fraction x step time), one contact
    per step, so the mean over a stride is exactly g for any contact fraction. With contact_fraction
    < 1 there is a flight (force 0); with contact_fraction > 1 the trailing foot is still loaded
    when the leading foot lands (no flight: grounded running / slow jog), and the force between the
    contacts stays above (pi/(2c)) sin(pi/c) g (0.30 g at c = 1.07).
    """
    c = float(contact_fraction)
    fpk = np.pi * G / (2.0 * c)  # half-sine with impulse g x step time per contact
    uu = np.asarray(u, float)
    f = np.where(uu < c, fpk * np.sin(np.pi * np.minimum(uu, c) / c), 0.0)
    k = 1
    while c > k:  # earlier feet still on the ground (only the previous one for c < 2)
        up = uu + k
        f = f + np.where(up < c, fpk * np.sin(np.pi * np.minimum(up, c) / c), 0.0)
        k += 1
    return f


def sensor_errors(acc, gyr, cfg, rng):
    """A MEMS sensor's errors on true specific force (m/s²) and angular velocity (rad/s), sensor
    frame: per-axis scale error and bias, white noise, int16 quantisation over the full-scale
    ranges. ``cfg`` has scale_error, acc_bias, gyr_bias, acc_noise, gyr_noise, acc_range_g,
    gyr_range_dps (SimConfig, MocapConfig)."""
    acc = acc * (1 + rng.uniform(-1, 1, 3) * cfg.scale_error) + rng.uniform(-1, 1, 3) * cfg.acc_bias
    gyr = gyr * (1 + rng.uniform(-1, 1, 3) * cfg.scale_error) + rng.uniform(-1, 1, 3) * cfg.gyr_bias
    acc = acc + rng.normal(0, cfg.acc_noise, acc.shape)
    gyr = gyr + rng.normal(0, cfg.gyr_noise, gyr.shape)
    a_lsb = cfg.acc_range_g * G / 32768.0
    g_lsb = np.radians(cfg.gyr_range_dps) / 32768.0
    acc = np.clip(np.round(acc / a_lsb), -32768, 32767) * a_lsb
    gyr = np.clip(np.round(gyr / g_lsb), -32768, 32767) * g_lsb
    return acc, gyr


def _moving_mean(x, n):
    n = max(int(n), 1)
    k = np.ones(n) / n
    pad = np.concatenate([np.full(n, x[0]), x, np.full(n, x[-1])])
    return np.convolve(pad, k, mode="same")[n:-n]


def _truth(cfg, t, ics, side, obl, tilt, rot, R_wp, p_s, u, step_run, env, g0, ramp) -> SimTruth:
    n = len(ics) - 1
    idx = np.searchsorted(t, ics)
    drop = np.empty(n)
    orng = np.empty(n)
    trng = np.empty(n)
    rrng = np.empty(n)
    vo = np.empty(n)
    ct = np.full(n, np.nan)
    z = p_s[:, 2]
    for i in range(n):
        a, b = idx[i], idx[i + 1] + 1
        o = obl[a:b]
        # drop "during this stance" (data contracts): running stance ends at toe-off (contact
        # fraction x step time) when there is a flight; walking single support and a stance
        # without flight last the whole step
        bs = b
        if step_run[i] and cfg.contact_fraction < 1.0:
            bs = min(b, a + int(np.ceil(cfg.contact_fraction * (ics[i + 1] - ics[i]) * cfg.internal_hz)) + 1)
        os_ = obl[a:bs]
        drop[i] = os_.max() if side[i] == "L" else -os_.min()
        orng[i] = np.ptp(o)
        trng[i] = np.ptp(tilt[a:b])
        rrng[i] = np.ptp(rot[a:b])
        zz = z[a:b]
        zz = zz - np.linspace(zz[0], zz[-1], len(zz))
        vo[i] = np.ptp(zz) * 100.0
        if step_run[i]:
            ct[i] = cfg.contact_fraction * (ics[i + 1] - ics[i])
    mid = 0.5 * (ics[:-1] + ics[1:])
    steady = (mid > ics[0] + ramp + 0.5) & (mid < ics[-1] - ramp - 0.5)
    return SimTruth(
        ic_t=ics[:-1] * (1.0 + cfg.clock_ppm * 1e-6),
        side=np.array(side),
        steady=steady,
        step_time_s=np.diff(ics) * (1.0 + cfg.clock_ppm * 1e-6),
        pelvic_drop_deg=drop,
        obliquity_range_deg=orng,
        tilt_range_deg=trng,
        rotation_range_deg=rrng,
        vertical_oscillation_cm=vo,
        contact_time_s=ct,
        activity=cfg.activity,
        mount_R_sp=np.eye(3),
        gait_start_s=ics[0],
        gait_end_s=ics[-1],
    )

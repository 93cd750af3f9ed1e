"""Sacral-IMU recordings with ground truth from real optical motion capture.

``simulate_from_mocap(path, fs=..., seed=...)`` reads a trial (C3D, TRC or the shared gzip CSV of
``tests/data/real-running``), fits a rigid pelvis to its markers, places a sensor on the sacrum
with a realistic clip mount and returns a :class:`MocapRecording` — the same shape as
:class:`gaitmon.sim.SimRecording` (``time``, ``acc`` m/s² specific force, ``gyr`` rad/s, sensor
frame; ``forward``/``up`` nominal sensor axes; ``truth`` a :class:`gaitmon.sim.SimTruth`) — plus
the truth as JSON (``truth_json``) and what was decided on the way (``info``).

Pipeline (docs/mocap.md has the why of every step):

1. Lab axes from the data: up = the axis on which the pelvis sits ~1 m above the feet; heading =
   pelvis velocity overground, or opposite the stance-foot velocity on a treadmill; right = L→R
   ASIS. A labelled right side that is on the subject's left (bmclab walk1) = mirrored labels,
   swapped as a whole. World frame: x heading, y left, z up.
2. Weighted, outlier-robust rigid fit of a reference pelvis cluster (static trial, else the trial's
   most typical frame) to every frame (:mod:`gaitmon.sim.mocap_pelvis`).
3. Zero-phase Butterworth low-pass of the pose; cut-off per trial by Winter's residual analysis,
   limited to [``CUTOFF_MIN_HZ``, ``CUTOFF_MAX_HZ``] (see :func:`choose_cutoff`).
4. Sensor on the skin over S1/S2: 4 cm below and 1.5 cm behind mid-PSIS (1 cm / 0.5 cm from a
   SACR marker, which already sits on the sacrum), axes = nominal ``forward``/``up`` times a random
   mount error up to ``mount_error_deg`` per axis.
5. Quiet standing (static pose, else the trial's mean pose), a smooth transition, the gait — whole
   same-foot strides looped (in accelerations, not positions) up to ``min_gait_s`` — another
   transition and standing. Specific force f = R_wsᵀ(p̈ + g ẑ) and body rate from consecutive
   orientations (rotation vectors), on a fine grid, sampled at ``fs``, then bias, scale error,
   noise and int16 quantisation.
6. Truth per step from forces (else foot markers): see :mod:`gaitmon.sim.mocap_events` and
   :func:`MocapRecording.truth_json`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.interpolate import make_interp_spline
from scipy.spatial.transform import Rotation

from gaitmon.sim.mocap_events import (Contact, force_contacts, foot_marker_contacts, match_timing,
                                      merge_contacts)
from gaitmon.sim.mocap_io import MocapTrial, load_trial
from gaitmon.sim.mocap_pelvis import (BASE_WEIGHT, GAP_MARGIN, anatomical_frame, butter_zero_phase, fill_pose_gaps,
                                      lab_axes, mask_gap_edges, quats_continuous, reference_frame_index,
                                      residual_cutoff, robust_rigid_fit)
from gaitmon.sim.model import G, SimTruth, nominal_mount

CUTOFF_MIN_HZ = 6.0
CUTOFF_MAX_HZ = 15.0
# sensor position relative to the posterior origin, in the anatomical pelvis frame (x fwd, y left, z up)
SENSOR_OFFSET_PSIS = (-0.015, 0.0, -0.04)
SENSOR_OFFSET_SACR = (-0.005, 0.0, -0.01)


@dataclass
class MocapConfig:
    """Options of :func:`simulate_from_mocap`. Angles in degrees, times in s, lengths in m."""

    fs: float = 104.0
    seed: int = 1
    forward: str = "-z"  # nominal sensor axis pointing forward (written in the recording header)
    up: str = "+y"  # nominal sensor axis pointing up
    mount_error_deg: float = 25.0  # max |error| per axis of the random clip mount
    mount_euler_deg: tuple[float, float, float] | None = None  # explicit mount error (xyz, deg)
    stand_before_s: float = 5.0
    stand_after_s: float = 2.0
    transition_s: float = 1.0  # standing -> gait (longer overground: at most 4 m/s² mean acceleration)
    min_gait_s: float = 20.0  # loop strides up to this much gait; 0 = play the block once
    cutoff_hz: float | None = None  # None = residual analysis per trial (clipped)
    sensor_offset_m: tuple[float, float, float] | None = None  # None: from the posterior markers
    swap_lr: str = "auto"  # auto | yes | no: mirrored L/R labels
    noise: bool = True  # False: no bias, scale error, noise, quantisation, clock error
    acc_noise: float = 0.04  # m/s² white noise sd
    gyr_noise: float = 0.004  # rad/s
    acc_bias: float = 0.08  # m/s² max |bias| per axis
    gyr_bias: float = 0.03  # rad/s
    scale_error: float = 0.01
    acc_range_g: float = 16.0
    gyr_range_dps: float = 2000.0
    clock_ppm: float = 50.0
    blend_s: float = 0.03  # cross-fade at each loop join
    internal_hz: float | None = None  # fine grid; default max(1000, 2 fs)

    def resolved(self) -> "MocapConfig":
        c = dataclasses.replace(self)
        if not (1.0 <= c.fs <= 4000.0):
            raise ValueError(f"--fs must be between 1 and 4000 Hz, got {c.fs:g}")
        if c.min_gait_s < 0 or c.stand_before_s < 0 or c.stand_after_s < 0:
            raise ValueError("durations must not be negative")
        if c.swap_lr not in ("auto", "yes", "no"):
            raise ValueError("swap_lr must be auto, yes or no")
        if c.internal_hz is None:
            c.internal_hz = max(1000.0, 2.0 * c.fs)
        nominal_mount(c.forward, c.up)  # validates the axes
        return c


@dataclass
class MocapRecording:
    """A recording synthesised from motion capture (same fields as ``SimRecording``).

    time (s, sensor clock), acc (n,3) m/s² specific force, gyr (n,3) rad/s, both sensor frame;
    ``truth`` is a ``SimTruth`` (so ``tests/core/metrics.evaluate_sim`` works unchanged);
    ``steps`` the per-step truth records of the JSON; ``info`` the decisions and figures."""

    time: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    forward: str
    up: str
    fs: float
    truth: SimTruth
    config: MocapConfig = field(repr=False)
    steps: list[dict] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    # noise-free kinematics on the fine grid (for tests): time, world->sensor quaternions (xyzw)
    fine_t: np.ndarray | None = field(default=None, repr=False)
    fine_q_ws: np.ndarray | None = field(default=None, repr=False)
    fine_euler_deg: np.ndarray | None = field(default=None, repr=False)  # yaw, pitch, roll of B

    def truth_json(self) -> dict:
        return {**self.info, "fs": self.fs, "forward": self.forward, "up": self.up,
                "steps": [{k: _jsonable(v) for k, v in s.items()} for s in self.steps]}

    def save_truth(self, path) -> None:
        Path(path).write_text(json.dumps(self.truth_json(), indent=1))

    def meta(self) -> dict:
        """Recording-file header lines."""
        return {"sensor": "gaitmon-sim-mocap", "source": self.info.get("trial", ""), "forward": self.forward,
                "up": self.up, "fs": self.fs, "seed": self.config.seed,
                "mount": "nominal forward/up axes; actual mount = random error up to "
                         f"{self.config.mount_error_deg:g} deg per axis (truth JSON has the matrix)"}


def _jsonable(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) else round(v, 6)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.ndarray):
        return [_jsonable(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


# ----------------------------------------------------------------------------- pose
@dataclass
class PelvisPose:
    """Filtered pelvis pose of a trial in the world frame (x heading, y left, z up)."""

    t: np.ndarray
    P: np.ndarray  # (n,3,3) anatomical axes (columns) in world, filtered
    p_s: np.ndarray  # (n,3) sensor point, filtered, m
    P0: np.ndarray  # standing pose (anatomical axes in world, yaw-aligned to the gait)
    neutral: str  # 'static' | 'trial_mean'
    cutoff_hz: float
    cutoff_residual_hz: list[float]
    origin_kind: str
    markers_used: list[str]
    ref_source: str
    notes: list[str]


def choose_cutoff(p_s: np.ndarray, rv: np.ndarray, fs: float) -> tuple[float, list[float]]:
    """Cut-off for the pose: median of Winter's residual-analysis cut-offs of the 3 sensor-point
    coordinates and the 3 orientation (rotation-vector) components, clipped to
    [CUTOFF_MIN_HZ, CUTOFF_MAX_HZ]. The upper limit: above ~15 Hz skin-marker pelvis motion is
    soft-tissue wobble and marker noise rather than bone motion, and the acceleration (2nd
    derivative) amplifies whatever is left by f²; on trials whose markers were already smoothed by
    the source (Hamner 2013: flat residual, analysis lands at ~26 Hz) the residual method cannot
    find the noise floor at all."""
    fcs = [residual_cutoff(p_s[:, k], fs) for k in range(3)] + [residual_cutoff(rv[:, k], fs) for k in range(3)]
    return float(np.clip(np.median(fcs), CUTOFF_MIN_HZ, CUTOFF_MAX_HZ)), fcs


def _yaw_of(P: np.ndarray) -> float:
    f = P[:, 0]
    return math.atan2(f[1], f[0])


def _Rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def fit_pelvis(trial: MocapTrial, R_wl: np.ndarray, static: MocapTrial | None = None,
               cutoff_hz: float | None = None, sensor_offset=None) -> PelvisPose:
    """Rigid pelvis pose, anatomical frame, sensor point and standing pose of a trial (world frame)."""
    notes = []
    names = trial.pelvis_names()
    if len(names) < 3:
        raise ValueError(f"{trial.name}: need at least 3 pelvis markers, found {names or 'none'} "
                         "(expected LASI/RASI/LPSI/RPSI, L.ASIS/R.ASIS/L.PSIS/R.PSIS, SACR, iliac crests)")
    for need in (("LASI", "RASI"),):
        miss = [m for m in need if m not in names]
        if miss:
            raise ValueError(f"{trial.name}: missing pelvis marker(s) {', '.join(miss)} (both ASIS are "
                             "needed for the pelvis frame)")
    if not (("LPSI" in names and "RPSI" in names) or "SACR" in names):
        raise ValueError(f"{trial.name}: missing posterior pelvis marker: need LPSI+RPSI (L.PSIS/R.PSIS) or SACR")
    ref_source = "trial"
    st_P0 = None
    if static is not None:
        sax = lab_axes(static)
        if sax.swapped_lr:
            static.swap_sides()
        common = [m for m in names if m in static.pelvis_names()]
        if len(common) >= 3 and "LASI" in common and "RASI" in common and (
                ("LPSI" in common and "RPSI" in common) or "SACR" in common):
            Xs = np.stack([static.markers[m] @ sax.R_wl.T for m in common], axis=1)
            ref = Xs[reference_frame_index(Xs)]
            names_ref = common
            ref_source = "static"
            if len(common) < len(names):
                notes.append(f"markers not in the static trial not used: {sorted(set(names) - set(common))}")
            # standing pose: fit the static cluster to every static frame, mean anatomical frame
            bw = np.array([BASE_WEIGHT[m] for m in common])
            Rs, Ts, _, _ = robust_rigid_fit(ref, Xs, bw)
            Rs, Ts, _ = fill_pose_gaps(static.time, Rs, Ts)
            Pref_s, _, _ = anatomical_frame(common, ref)
            st_P0 = Rotation.from_matrix(Rs @ Pref_s).mean().as_matrix()
        else:
            notes.append("static trial lacks the trial's pelvis markers: reference and neutral from the trial")
    X = np.stack([trial.markers[m] @ R_wl.T for m in names], axis=1)
    # a marker lost for good at the start or end of the trial (rbds0041_runT45: R.ASIS for the last
    # 1.37 s): trim those frames rather than bridge seconds of them (up to 20 % of the trial)
    allp = np.isfinite(X).all(axis=(1, 2))
    if allp.any() and not allp.all():
        i0, i1 = int(np.argmax(allp)), len(allp) - int(np.argmax(allp[::-1]))
        lead, trail = i0, len(allp) - i1
        if 0 < lead + trail <= 0.2 * len(allp) and max(lead, trail) > 0.1 * trial.fs:
            keep = slice(i0 if lead > 0.1 * trial.fs else 0, i1 if trail > 0.1 * trial.fs else len(allp))
            notes.append(f"trimmed to {trial.time[keep][0]:.3f}–{trial.time[keep][-1]:.3f} s: a pelvis marker "
                         "is missing before/after that")
            X = X[keep]
            t_keep = trial.time[keep]
        else:
            t_keep = trial.time
    else:
        t_keep = trial.time
    if ref_source == "trial":
        names_ref = names
        Xm = mask_gap_edges(X)
        ref = Xm[reference_frame_index(Xm)]
    idx = [names.index(m) for m in names_ref]
    X = mask_gap_edges(X[:, idx])
    bw = np.array([BASE_WEIGHT[m] for m in names_ref])
    R, T, res, W = robust_rigid_fit(ref, X, bw, hold=max(1, int(round(0.1 * trial.fs))))
    n_spikes = int(((W <= 0) & np.isfinite(X).all(axis=2)).sum())
    if n_spikes:
        notes.append(f"{n_spikes} marker samples rejected as spikes/outliers (pose bridged across them)")
    for j, mname in enumerate(names_ref):
        miss = ~np.isfinite(X[:, j]).all(axis=1)
        if miss.any():
            notes.append(f"{mname}: {int(miss.sum())} samples missing (with {GAP_MARGIN} samples dropped at "
                         "each gap edge); pose bridged across the gaps")
    R, T, nfill = fill_pose_gaps(t_keep, R, T)
    if nfill:
        notes.append(f"{nfill} frames with fewer than 3 markers interpolated")
    Pref, origin, okind = anatomical_frame(names_ref, ref)
    off = np.asarray(sensor_offset if sensor_offset is not None else
                     (SENSOR_OFFSET_PSIS if okind == "PSIS" else SENSOR_OFFSET_SACR), float)
    s_ref = origin + Pref @ off
    P = R @ Pref
    p_s = T + np.einsum("nij,j->ni", R, s_ref)
    fs = trial.fs
    rot = Rotation.from_matrix(P)
    mean = rot.mean()
    rv = (mean.inv() * rot).as_rotvec()
    fc_auto, fcs = choose_cutoff(p_s, rv, fs)
    fc = float(cutoff_hz) if cutoff_hz else fc_auto
    p_f = butter_zero_phase(p_s, fc, fs)
    q = quats_continuous(rot.as_quat())
    q_f = butter_zero_phase(q, fc, fs)
    P_f = Rotation.from_quat(q_f / np.linalg.norm(q_f, axis=1, keepdims=True)).as_matrix()
    mean_f = Rotation.from_matrix(P_f).mean().as_matrix()
    if st_P0 is not None:
        # the static trial may face elsewhere: keep its tilt/obliquity, align its yaw to the gait
        P0 = _Rz(_yaw_of(mean_f) - _yaw_of(st_P0)) @ st_P0
        neutral = "static"
    else:
        P0 = mean_f
        neutral = "trial_mean"
    return PelvisPose(t=t_keep.copy(), P=P_f, p_s=p_f, P0=P0, neutral=neutral, cutoff_hz=fc,
                      cutoff_residual_hz=fcs, origin_kind=okind, markers_used=list(names_ref),
                      ref_source=ref_source, notes=notes)


# ----------------------------------------------------------------------------- events
def trial_contacts(trial: MocapTrial, R_wl: np.ndarray, kind: str, forces=None) -> tuple[list[Contact], dict]:
    """Truth contacts (force first, foot markers elsewhere) and the foot-marker validation figures."""
    fd = forces if forces is not None else trial.forces
    fc = force_contacts(trial, R_wl, fd) if fd is not None else []
    ft = foot_marker_contacts(trial, R_wl)
    info = {}
    if fc:
        m = match_timing(fc, ft)
        e, e2 = m["ic_err_s"], m["to_err_s"]
        info = {"n_force_ic": m["n_ref"], "n_foot_matched": m["n_matched"],
                "foot_ic_err_median_ms": float(np.median(e) * 1e3) if len(e) else None,
                "foot_ic_err_mae_ms": float(np.mean(np.abs(e)) * 1e3) if len(e) else None,
                "foot_to_err_median_ms": float(np.median(e2) * 1e3) if len(e2) else None}
    t_force = (float(fd.time[0]), float(fd.time[-1])) if fd is not None else None
    merged = merge_contacts(fc, ft, force_complete=(kind == "treadmill" and bool(fc)), t_force=t_force)
    return merged, info


# ----------------------------------------------------------------------------- synthesis
def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10 - 15 * x + 6 * x * x)  # C2 (quintic) smoothstep


def _smoothstep_d(x):
    inside = (x > 0) & (x < 1)
    return np.where(inside, 30 * x * x * (1 - x) ** 2, 0.0)


def synthesize(trial: MocapTrial, cfg: MocapConfig | None = None, static: MocapTrial | None = None,
               forces=None) -> MocapRecording:
    """Sacral-IMU recording + truth from a motion-capture trial (see the module docstring)."""
    cfg = (cfg or MocapConfig()).resolved()
    trial = copy.deepcopy(trial)  # labels may be swapped below; the caller's trial stays as read
    static = copy.deepcopy(static) if static is not None else None
    rng = np.random.default_rng(cfg.seed)
    ax = lab_axes(trial)
    notes = list(ax.notes)
    swapped = (ax.swapped_lr and cfg.swap_lr == "auto") or cfg.swap_lr == "yes"
    if swapped:
        trial.swap_sides()
    if ax.swapped_lr and cfg.swap_lr == "no":
        notes.append("mirrored L/R labels detected but kept as recorded (swap_lr=no)")
    R_wl = ax.R_wl
    pose = fit_pelvis(trial, R_wl, static=static, cutoff_hz=cfg.cutoff_hz, sensor_offset=cfg.sensor_offset_m)
    notes += pose.notes
    if isinstance(forces, (str, Path)):
        from gaitmon.sim.mocap_io import read_forces

        forces = read_forces(forces)
    contacts, ev_info = trial_contacts(trial, R_wl, ax.kind, forces)
    ics = [c for c in contacts if np.isfinite(c.t_ic)]
    t = pose.t
    dt_src = 1.0 / trial.fs
    ics = [c for c in ics if t[0] - dt_src <= c.t_ic <= t[-1]]
    if len(ics) < 3:
        raise ValueError(f"{trial.name}: fewer than 3 initial contacts found (forces/foot markers): cannot cut a stride")

    # ---- loop block: same-foot IC to the last same-foot IC (right foot preferred)
    block = None
    for side in ("R", "L"):
        s_ics = [c for c in ics if c.side == side]
        if len(s_ics) >= 2:
            # the last one needs data after it for the cross-fade
            cand = [c for c in s_ics[1:] if c.t_ic + cfg.blend_s <= t[-1]] or s_ics[1:]
            block = (s_ics[0], cand[-1])
            break
    if block is None:
        raise ValueError(f"{trial.name}: no two initial contacts of the same foot: cannot cut a whole stride")
    t0, t1 = block[0].t_ic, block[1].t_ic
    L = t1 - t0
    n_copies = max(1, int(math.ceil(cfg.min_gait_s / L))) if cfg.min_gait_s > 0 else 1

    # ---- source splines (quintic: continuous acceleration)
    B_src = np.einsum("nij,kj->nik", pose.P, pose.P0)  # P P0^T: identity in the standing pose
    q_src = quats_continuous(Rotation.from_matrix(B_src).as_quat())
    k = 5 if len(t) > 6 else 3
    sp_p = make_interp_spline(t, pose.p_s, k=k)
    sp_v = sp_p.derivative(1)
    sp_a = sp_p.derivative(2)
    sp_q = make_interp_spline(t, q_src, k=k)

    def B_at(ts):
        q = sp_q(ts)
        return Rotation.from_quat(q / np.linalg.norm(q, axis=1, keepdims=True))

    dv = sp_v(t1) - sp_v(t0)  # velocity not closed over the block: removed as a constant acceleration
    a_corr = dv / L
    delta = (B_at(np.array([t1])).inv() * B_at(np.array([t0]))).as_rotvec()[0]  # orientation closure
    if np.degrees(np.linalg.norm(delta)) > 3.0 or np.abs(a_corr).max() > 0.3:
        notes.append(f"loop block not a steady stride: closure {np.degrees(np.linalg.norm(delta)):.1f} deg, "
                     f"{np.abs(a_corr).max():.2f} m/s2 (spread over the block)")

    def seq(src, s):
        """Gait signals at source times src with closure fraction s (0 at t0, 1 at t1)."""
        a = sp_a(src) - a_corr[None, :]
        Bq = B_at(src) * Rotation.from_rotvec(s[:, None] * delta[None, :])
        return a, Bq

    # ---- timeline
    dt = 1.0 / cfg.internal_hz
    # getting to running speed overground takes time: ≥ speed / 4 m/s² (mean acceleration)
    v_h = float(np.linalg.norm(sp_v(t0)[:2]))
    Ttr = max(cfg.transition_s, v_h / 4.0) if cfg.transition_s > 0 else 0.0
    S = cfg.stand_before_s
    g0 = S + Ttr  # first copy starts here
    g1 = g0 + n_copies * L
    total = g1 + Ttr + cfg.stand_after_s
    tau = np.arange(0.0, total, dt)
    n = len(tau)
    u = tau - g0
    kcopy = np.floor(u / L)
    src = t0 + (u - kcopy * L)
    s = (src - t0) / L
    in_seq = (tau >= S) & (tau <= g1 + Ttr)
    env = _smoothstep((tau - S) / Ttr) * _smoothstep((g1 + Ttr - tau) / Ttr) if Ttr > 0 else in_seq.astype(float)
    env_d = (_smoothstep_d((tau - S) / Ttr) * _smoothstep((g1 + Ttr - tau) / Ttr)
             - _smoothstep((tau - S) / Ttr) * _smoothstep_d((g1 + Ttr - tau) / Ttr)) / Ttr if Ttr > 0 else 0 * tau
    a_g = np.zeros((n, 3))
    rv_g = np.zeros((n, 3))
    idx = np.nonzero(in_seq)[0]
    a_i, B_i = seq(src[idx], s[idx])
    # cross-fade each join with the continuation of the previous copy (source beyond t1)
    nb = int(round(cfg.blend_s / dt))
    if nb > 1:
        uu = u[idx]
        phase = uu - np.floor(uu / L) * L
        jn = np.nonzero(phase < cfg.blend_s)[0]
        src_prev = t1 + phase[jn]
        okp = src_prev <= t[-1]
        jn, src_prev = jn[okp], src_prev[okp]
        if len(jn):
            a_p, B_p = seq(src_prev, 1.0 + phase[jn] / L)
            w = _smoothstep(phase[jn] / cfg.blend_s)[:, None]
            a_i[jn] = (1 - w) * a_p + w * a_i[jn]
            rel = (B_p.inv() * B_i[jn]).as_rotvec()
            Bq = B_i.as_quat()
            Bq[jn] = (B_p * Rotation.from_rotvec(w * rel)).as_quat()
            B_i = Rotation.from_quat(Bq)
    a_g[idx] = a_i
    rv_g[idx] = B_i.as_rotvec()
    # velocity: start of the sequence at the source velocity there, then integrate the gait acc
    v_g = np.zeros((n, 3))
    if len(idx):
        v_g[idx] = sp_v(src[idx[0]])[None, :] + np.cumsum(a_g[idx], axis=0) * dt - a_g[idx[0]] * dt
    v = env[:, None] * v_g
    acc_w = env[:, None] * a_g + env_d[:, None] * v_g  # = d/dt (env v_g)
    B = Rotation.from_rotvec(env[:, None] * rv_g)  # standing = identity, blends into the gait pose
    pos_z = np.cumsum(v[:, 2]) * dt

    # ---- sensor mount and signals
    R_sp_nom = nominal_mount(cfg.forward, cfg.up)
    draw = rng.uniform(-1, 1, 3) * cfg.mount_error_deg
    err = Rotation.from_euler("xyz", cfg.mount_euler_deg if cfg.mount_euler_deg is not None else draw, degrees=True)
    R_sp = err.as_matrix() @ R_sp_nom
    R_ws = B * Rotation.from_matrix(R_sp)
    f_w = acc_w + np.array([0.0, 0.0, G])
    f_s = R_ws.inv().apply(f_w)
    dq = R_ws[:-1].inv() * R_ws[1:]
    om_mid = dq.as_rotvec() / dt
    om = np.empty((n, 3))
    om[1:-1] = 0.5 * (om_mid[:-1] + om_mid[1:])
    om[0], om[-1] = om_mid[0], om_mid[-1]
    eul = np.degrees(B.as_euler("ZYX"))  # yaw (rotation), pitch (tilt), roll (obliquity)

    # ---- truth steps
    src_ics = [c for c in ics if t0 - 1e-9 <= c.t_ic < t1 - 1e-9]
    steps_t = []
    for kc in range(-int(math.ceil(Ttr / L)) - 1, n_copies + int(math.ceil(Ttr / L)) + 1):
        for j, c in enumerate(src_ics):
            T = g0 + kc * L + (c.t_ic - t0)
            if S <= T <= g1 + Ttr:
                steps_t.append((T, c, kc, j))
    steps_t.sort(key=lambda x: x[0])
    rec_steps = []
    for i in range(len(steps_t) - 1):
        T, c, kc, j = steps_t[i]
        Tn, cn = steps_t[i + 1][0], steps_t[i + 1][1]
        a_ = int(round(T / dt))
        b_ = min(int(round(Tn / dt)) + 1, n)
        obl = eul[a_:b_, 2]
        tilt = eul[a_:b_, 1]
        rot = eul[a_:b_, 0]
        drop = obl.max() if c.side == "L" else -obl.min()
        zz = pos_z[a_:b_]
        zz = zz - np.linspace(zz[0], zz[-1], len(zz))
        steady = bool(env[a_:b_].min() > 0.999 and cn.side != c.side)
        ct = c.t_to - c.t_ic if np.isfinite(c.t_to) else np.nan
        rec_steps.append({
            "t_ic_s": T, "side": c.side, "pelvic_drop_deg": drop, "obliquity_range_deg": float(np.ptp(obl)),
            "tilt_range_deg": float(np.ptp(tilt)), "rotation_range_deg": float(np.ptp(rot)),
            "contact_time_s": ct, "step_time_s": Tn - T, "vertical_oscillation_cm": float(np.ptp(zz) * 100),
            "ic_source": c.source, "steady": steady, "source_t_ic_s": c.t_ic, "source_step": j, "copy": kc,
        })
    if not rec_steps:
        raise ValueError(f"{trial.name}: no complete step in the synthesised gait")

    # ---- sampling and sensor errors
    n_out = int(total * cfg.fs)
    t_true = np.arange(n_out) / cfg.fs
    acc = np.stack([np.interp(t_true, tau, f_s[:, i]) for i in range(3)], axis=1)
    gyr = np.stack([np.interp(t_true, tau, om[:, i]) for i in range(3)], axis=1)
    clock = 1.0
    if cfg.noise:
        acc = acc * (1 + rng.uniform(-1, 1, 3) * cfg.scale_error) + rng.uniform(-1, 1, 3) * cfg.acc_bias
        gyr = gyr * (1 + rng.uniform(-1, 1, 3) * cfg.scale_error) + rng.uniform(-1, 1, 3) * cfg.gyr_bias
        acc += rng.normal(0, cfg.acc_noise, acc.shape)
        gyr += rng.normal(0, cfg.gyr_noise, gyr.shape)
        a_lsb = cfg.acc_range_g * G / 32768.0
        g_lsb = np.radians(cfg.gyr_range_dps) / 32768.0
        acc = np.clip(np.round(acc / a_lsb), -32768, 32767) * a_lsb
        gyr = np.clip(np.round(gyr / g_lsb), -32768, 32767) * g_lsb
        clock = 1.0 + cfg.clock_ppm * 1e-6
    t_rep = t_true * clock
    for st in rec_steps:
        st["t_ic_s"] *= clock
        st["step_time_s"] *= clock

    # ---- activity: walking has double support (contact longer than the step)
    duty = [st["contact_time_s"] / st["step_time_s"] for st in rec_steps if np.isfinite(st["contact_time_s"])]
    activity = "walk" if duty and np.median(duty) > 1.0 else "run"

    arr = lambda key: np.array([st[key] for st in rec_steps], dtype=float)
    truth = SimTruth(
        ic_t=arr("t_ic_s"), side=np.array([st["side"] for st in rec_steps]),
        steady=np.array([st["steady"] for st in rec_steps]), step_time_s=arr("step_time_s"),
        pelvic_drop_deg=arr("pelvic_drop_deg"), obliquity_range_deg=arr("obliquity_range_deg"),
        tilt_range_deg=arr("tilt_range_deg"), rotation_range_deg=arr("rotation_range_deg"),
        vertical_oscillation_cm=arr("vertical_oscillation_cm"), contact_time_s=arr("contact_time_s"),
        activity=activity, mount_R_sp=R_sp, gait_start_s=g0 * clock, gait_end_s=g1 * clock)
    speed = ax.speed_mps
    info = {
        "trial": trial.name, "source_file": trial.path, "surface": ax.kind,
        "speed_mps_measured": None if speed is None else round(speed, 3),
        "activity": activity, "lab_up_axis": ax.up_lab,
        "lab_heading": [round(float(x), 4) for x in ax.forward_lab],
        "lr_labels_swapped": bool(swapped), "neutral_source": pose.neutral,
        "reference_cluster": pose.ref_source, "pelvis_markers": pose.markers_used,
        "sensor_origin": pose.origin_kind, "cutoff_hz": pose.cutoff_hz,
        "cutoff_residual_analysis_hz": [round(x, 2) for x in pose.cutoff_residual_hz],
        "mount": {"nominal_forward": cfg.forward, "nominal_up": cfg.up,
                  "error_euler_xyz_deg": [round(float(x), 3) for x in err.as_euler("xyz", degrees=True)],
                  "R_sensor_to_pelvis": R_sp.round(6).tolist()},
        "seed": cfg.seed, "noise": cfg.noise,
        "loop": {"block_source_s": [round(t0, 4), round(t1, 4)], "block_side": block[0].side,
                 "block_s": round(L, 4), "copies": n_copies,
                 "block_ic_sources": [block[0].source, block[1].source],
                 "velocity_closure_mps2": [round(float(x), 4) for x in a_corr],
                 "orientation_closure_deg": round(float(np.degrees(np.linalg.norm(delta))), 3)},
        "timeline_s": {"standing": [0.0, S], "transition_in": [S, g0], "gait": [g0, g1],
                       "transition_out": [g1, g1 + Ttr], "standing_after": [g1 + Ttr, total]},
        "ic_sources": sorted({st["ic_source"] for st in rec_steps}),
        "foot_marker_validation": ev_info,
        "clock_ppm": cfg.clock_ppm if cfg.noise else 0.0,
        "notes": notes,
        "definitions": "step = IC of the named foot to the next IC; obliquity/tilt/rotation = roll/pitch/yaw "
                       "(ZYX) of the pelvis relative to standing in the heading frame (x fwd, y left, z up); "
                       "obliquity + = left side up; pelvic_drop: L step max obliquity, R step -min",
    }
    return MocapRecording(time=t_rep, acc=acc, gyr=gyr, forward=cfg.forward, up=cfg.up, fs=cfg.fs, truth=truth,
                          config=cfg, steps=rec_steps, info=info, fine_t=tau * clock, fine_q_ws=R_ws.as_quat(),
                          fine_euler_deg=eul)


def simulate_from_mocap(path, fs: float = 104.0, seed: int = 1, static=None, forces=None,
                        **kwargs) -> MocapRecording:
    """Read a trial (C3D / TRC / shared CSV) and synthesise a sacral-IMU recording with truth.

    ``static``: path of a static (standing) trial of the same subject (reference cluster and
    neutral pose); ``forces``: a force file overriding the trial's own; other keyword arguments
    go to :class:`MocapConfig`."""
    cfg = MocapConfig(fs=fs, seed=seed, **kwargs)
    trial = load_trial(path, forces=forces)
    st = load_trial(static) if static else None
    return synthesize(trial, cfg, static=st)

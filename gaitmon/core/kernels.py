"""Numba kernels of the gait engine: one online pass per sample, arrays in / arrays out, no I/O.

The engine consumes uniformly resampled samples already expressed in the **pelvis frame**
(x forward, y left, z up; acc = specific force in m/s², gyr = bias-corrected angular velocity in
rad/s) and emits finished steps. Everything is causal with a fixed, bounded look-ahead, so the
same kernel serves the batch face (one call over the whole recording) and the streaming face
(calls per chunk): the state lives in three arrays (`fs_state`, `is_state`, `rings`) and the
output does not depend on how the input was chunked.

Stages per sample
1. orientation: quaternion integration of the gyro; roll/pitch drift corrected towards the
   **stride-averaged** specific force (box average over one stride in the earth frame), so 2-3 g
   impacts, flight phases and the inward lean on a bend do not bias the angles;
2. angles: obliquity (roll, + = left side up), tilt (pitch, + = anterior), rotation (yaw,
   + = right side forward), all in degrees, relative to the standing neutral;
3. initial contacts: running — end of the flight phase (rise of vertical specific force,
   extrapolated to its onset); walking — peak of the Gaussian-smoothed vertical acceleration,
   refined to the steepest rise before it;
4. steps: per-step left/right evidence (walking: obliquity rise after contact and yaw rate;
   running: the drop pattern) filtered by the bout's alternation model (gaitmon/core/sides.py),
   one missed contact repaired from step-time continuity, and per-step metrics (data-contracts §3).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

G0 = 9.80665
RAD2DEG = 180.0 / math.pi

# ---- float state indices
F_Q0, F_Q1, F_Q2, F_Q3 = 0, 1, 2, 3
F_FS = 4
F_DT = 5
F_G = 6  # local gravity from calibration, m/s²
F_KCORR = 7  # tilt-correction gain, 1/s
F_BSX, F_BSY, F_BSZ = 8, 9, 10  # box sum of earth-frame specific force
F_YAW = 11  # unwrapped yaw, rad
# 12: free
# 13: free
F_FB = 14  # flight baseline (mean vertical specific force during flight), m/s²
F_TC1 = 15  # time (sample units) of L1 up-crossing after flight
F_TD2 = 16  # time of L2 down-crossing in contact
F_TTO = 17  # last toe-off (sample units)
F_TMED = 18  # typical step time in bout (samples)
F_PEAKEMA = 20  # EMA of walking-peak heights
F_LASTIC = 21  # last accepted IC (sample units), -1 = none
F_LASTFLIGHT = 22  # sample index of the last flight end
F_QUALCAL = 23  # quality factor from calibration
F_FLIGHTSUM = 24
# 25, 26: free
F_PREVIC = 27  # IC before last (for turn detection)
F_B1S, F_B2S, F_B3S = 28, 29, 30  # walking smoother box sums
F_C1S, F_C2S, F_C3S = 31, 32, 33  # slope smoother box sums
F_PROMMIN = 36  # walking IC: minimum peak prominence, m/s²
F_PROMREL = 37  # walking IC: prominence relative to recent peaks
F_TERMDONE = 40  # 1 once the last IC of a bout has been closed as a terminal step
F_KPITCH = 41  # tilt-correction gain, 1/s
F_SIDEPHASE = 42  # phase of the left/right yaw-rate template, rad
F_BOUTID = 45  # bout counter (a bout = steps whose sides alternate)
F_ORATE_U0, F_ORATE_U1 = 47, 48  # walking side cue window (fractions of the step)
F_RUNPEAK = 49  # running side cue: template peak (fraction of the step)
F_SIGWALK, F_SIGRUN = 50, 51  # side evidence scales (deg): walking obliquity rate, running drop
F_SIGYAW = 57  # walking yaw cue scale (deg)
# how reliably the walking obliquity-rate cue alternates for this person: EMAs of the lag-1 product
# and of the square of the cue over consecutive regular walking steps, and the previous cue
F_OC, F_OS, F_OPREV, F_OHAVE = 58, 59, 60, 61
F_RYP = 62  # prior P(yaw reversed) at a bout start
F_ROP = 63  # prior P(obliquity pattern reversed) at a bout start
# forward probabilities of the side model's 8 states (side x yaw pattern x obliquity pattern)
F_SP0 = 64
NF = 72

# ---- int state indices
I_N = 0  # samples processed
I_BOXL = 1  # current box length (samples)
I_BOXN = 2  # samples in the box
I_FLIGHTN = 3  # consecutive flight samples
I_STATE = 4  # 0 unknown/contact, 1 flight, 2 rising (after L1), 3 contact
I_BOUTJ = 5  # step counter in bout
I_STRIDE = 6  # global step index
I_WB = 7  # walking box width
I_WS = 8  # slope box width
I_PW = 9  # peak half window (samples)
I_RB = 10  # ring size (power of two)
I_RESET = 11  # request: forget the last IC (after a long gap)
# 12: free
I_FLIGHTMIN = 13
I_CONTACTN = 15
I_PA = 16  # walking peak look-ahead (samples)
NI = 20

# ---- rings
R_AV, R_FZ, R_ROLL, R_PITCH, R_YAW, R_FLAG = 0, 1, 2, 3, 4, 5
R_FEX, R_FEY, R_FEZ = 6, 7, 8
R_B1, R_B2, R_YS = 9, 10, 11
R_C1, R_C2, R_CS = 12, 13, 14
NR = 15

REPAIRED = 0.5  # quality factor of the two halves of a step split at a missed contact
FLAG_GAP = 1.0
FLAG_SAT = 2.0

# ---- output columns
O_T, O_SIDE, O_STEPT, O_CAD, O_CONTACT, O_DROP, O_OBLR, O_TILTR, O_ROTR, O_VO, O_ACT, O_QUAL, O_STRIDE, O_EMIT, O_END = range(15)
# bout id, obliquity max/min over the step (deg), obliquity-cue evidence (log-likelihood ratio L:R),
# the alternation break probability before this step, filtered P(left) — see gaitmon/core/sides.py
O_BOUT, O_OMAX, O_OMIN, O_LLRO, O_EPS, O_PL = range(15, 21)
# yaw-cue log-likelihood ratio, P(yaw reversed) at the start of the bout
# and the reliability scale the (walking) obliquity evidence was given (see _obliquity_reliability)
O_LLRY, O_RY0, O_CO = range(21, 24)
NO = 24

L1 = 0.45 * G0  # running: rise level 1 (specific force, m/s²)
L2 = 0.90 * G0  # running: rise level 2
RUN_STEP_S = 0.42  # steps shorter than this (s) are running, with or without a flight phase
FLIGHT_LEVEL = 0.30 * G0
# a flight phase lasts at least this long (s); shorter dips below FLIGHT_LEVEL are impact ringing
FLIGHT_MIN_S = 0.03
# tilt-correction gain (1/s) towards the stride-averaged support direction
K_TILT = 2.0
# plausibility of a gait step (deg): beyond these ranges the step is a transfer or a turn on the spot
MAX_GAIT_OBLIQUITY_RANGE_DEG = 25.0
MAX_GAIT_TILT_RANGE_DEG = 30.0
K_PITCH = 0.25  # gentler on tilt: a ranges-only quantity, and forward accelerations are large
PROM_MIN = 0.3
# walking IC: smoothing of vertical acceleration (s), of its slope (s), peak test window (s)
WALK_SIGMA_S = 0.10
SLOPE_SIGMA_S = 0.03
PEAK_BACK_S = 0.20
PEAK_AHEAD_S = 0.15
PROM_REL = 0.15
# ---- left/right (see gaitmon/core/sides.py for the evidence on real data and the held-out figures)
# phase (rad) of the yaw-rate template -cos(pi*u + phase): the pelvis' yaw rate is negative at a
# LEFT contact in walking (McCamley 2012). Chosen on real walking (tests/core/real_data.py LOPO_GRID)
SIDE_PHASE = 0.0
# walking: obliquity rise from 5 % to 25 % of the step (the swing side starts to drop after contact:
# left side rising after a LEFT contact)
SIDE_ORATE_U0 = 0.05
SIDE_ORATE_U1 = 0.25
# running: the swing side is lower in early stance — obliquity (stride mean removed) projected on
# cos(pi*(u - SIDE_RUN_PEAK_U)) over the step
SIDE_RUN_PEAK_U = 0.25
SIDE_SIGMA_WALK_DEG = 1.0  # walking obliquity-rate cue: evidence scale (deg) -> log-likelihood ratio
SIDE_SIGMA_YAW_DEG = 3.0  # walking yaw cue: evidence scale (deg)
# prior probability that a person's yaw pattern is reversed (yaw rate positive at a LEFT contact):
# the yaw-sign rule is at chance for about half of 19 real walkers (issue 11), reversed in some
SIDE_YAW_REVERSED_PRIOR = 0.2
# prior probability that a person's obliquity pattern is reversed (the STANCE side drops): 0 of 19
# walkers for the obliquity rate (issue 11), one of the seven here (the Mobilise-D participant)
SIDE_OBLIQUITY_REVERSED_PRIOR = 0.05
SIDE_CUE_DECAY = 0.9  # memory of the obliquity cue's reliability: ~10 step pairs
SIDE_SIGMA_RUN_DEG = 1.0  # running: obliquity-level evidence scale (deg) -> log-likelihood ratio
SIDE_LLR_MAX = 2.0  # one cue of one step alone never makes a side certain (P <= 0.88)
SIDE_EPS_REGULAR = 0.01  # P(alternation broken) between two regular steps
SIDE_EPS_IRREGULAR = 0.3  # ... around an irregular/repaired/turning step (missed or extra contact?)
SIDE_STEP_DEV = 0.3  # a step deviating more than this from the typical step time is irregular
SIDE_TURN_DEG = 30.0  # heading change over one step beyond which its side evidence is ignored


#: Parameters chosen on data, with their defaults; ``new_state(params=...)`` overrides them (the
#: leave-one-person-out evaluation re-chooses them on the training people only).
PARAMS = {
    "walk_sigma_s": WALK_SIGMA_S,
    "slope_sigma_s": SLOPE_SIGMA_S,
    "prom_rel": PROM_REL,
    "prom_min": PROM_MIN,
    "side_phase": SIDE_PHASE,
    "side_orate_u0": SIDE_ORATE_U0,
    "side_orate_u1": SIDE_ORATE_U1,
    "side_run_peak_u": SIDE_RUN_PEAK_U,
    "side_sigma_walk_deg": SIDE_SIGMA_WALK_DEG,
    "side_sigma_run_deg": SIDE_SIGMA_RUN_DEG,
    "side_sigma_yaw_deg": SIDE_SIGMA_YAW_DEG,
    "side_yaw_reversed_prior": SIDE_YAW_REVERSED_PRIOR,
    "side_obliquity_reversed_prior": SIDE_OBLIQUITY_REVERSED_PRIOR,
}


def new_state(fs: float, g_local: float, quality_cal: float, ring_seconds: float = 6.0, params: dict | None = None):
    """Allocate the engine state for sample rate ``fs`` (Hz), local gravity (m/s²) and the
    calibration's quality factor (0..1, applied to every step); ``params`` overrides entries of
    ``PARAMS`` (unknown names are an error)."""
    p = dict(PARAMS)
    if params:
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise ValueError(f"unknown engine parameter(s): {sorted(unknown)}")
        p.update(params)
    f = np.zeros(NF)
    i = np.zeros(NI, np.int64)
    f[F_Q0] = 1.0
    f[F_FS] = fs
    f[F_DT] = 1.0 / fs
    f[F_G] = g_local
    f[F_KCORR] = K_TILT
    f[F_KPITCH] = K_PITCH
    f[F_SIDEPHASE] = p["side_phase"]
    f[F_ORATE_U0] = p["side_orate_u0"]
    f[F_ORATE_U1] = p["side_orate_u1"]
    f[F_RUNPEAK] = p["side_run_peak_u"]
    f[F_SIGWALK] = p["side_sigma_walk_deg"]
    f[F_SIGRUN] = p["side_sigma_run_deg"]
    f[F_SIGYAW] = p["side_sigma_yaw_deg"]
    f[F_RYP] = p["side_yaw_reversed_prior"]
    f[F_ROP] = p["side_obliquity_reversed_prior"]
    # prior of the obliquity cue's alternation: as if ~10 steps of 2° had been seen, lag-1
    # correlation -0.9 (a sign right for 97 % of steps, issue 11: -(2p-1)^2)
    f[F_OS] = 4.0
    f[F_OC] = -0.9 * 4.0
    f[F_TC1] = -1.0
    f[F_TD2] = -1.0
    f[F_TTO] = -1e18
    f[F_LASTIC] = -1.0
    f[F_PREVIC] = -1.0
    f[F_LASTFLIGHT] = -1e18
    f[F_QUALCAL] = quality_cal
    f[F_FB] = 0.0
    f[F_PEAKEMA] = 2.0
    f[F_PROMMIN] = p["prom_min"]
    f[F_PROMREL] = p["prom_rel"]
    rb = 1
    while rb < ring_seconds * fs:
        rb *= 2
    i[I_RB] = rb
    i[I_BOXL] = max(int(round(1.0 * fs)), 4)
    # walking smoother: sigma 0.08 s as 3 cascaded boxes; slope smoother: sigma 0.03 s
    i[I_WB] = _box_width(p["walk_sigma_s"] * fs)
    i[I_WS] = _box_width(p["slope_sigma_s"] * fs)
    i[I_PW] = max(int(round(PEAK_BACK_S * fs)), 2)
    i[I_PA] = max(int(round(PEAK_AHEAD_S * fs)), 2)
    i[I_FLIGHTMIN] = max(int(round(FLIGHT_MIN_S * fs)), 2)
    rings = np.zeros((NR, rb))
    return f, i, rings


def ring_angles_deg(rings, idx):
    """(obliquity, tilt) in degrees of ring positions ``idx`` (for diagnostics and benchmarks)."""
    return np.degrees(np.arctan(rings[R_ROLL, idx])), np.degrees(np.arcsin(rings[R_PITCH, idx]))


def _box_width(sigma_samples: float) -> int:
    w = int(round(math.sqrt(4.0 * sigma_samples * sigma_samples + 1.0)))
    if w % 2 == 0:
        w += 1
    return max(w, 1)


@njit(cache=True)
def _qmul(a0, a1, a2, a3, b0, b1, b2, b3):
    return (
        a0 * b0 - a1 * b1 - a2 * b2 - a3 * b3,
        a0 * b1 + a1 * b0 + a2 * b3 - a3 * b2,
        a0 * b2 - a1 * b3 + a2 * b0 + a3 * b1,
        a0 * b3 + a1 * b2 - a2 * b1 + a3 * b0,
    )


@njit(cache=True)
def _gyro_step(q0, q1, q2, q3, wx, wy, wz, dt):
    """q ⊗ exp(w dt / 2): one step of body-rate integration (w in rad/s, body frame)."""
    hx, hy, hz = 0.5 * wx * dt, 0.5 * wy * dt, 0.5 * wz * dt
    h2 = hx * hx + hy * hy + hz * hz
    if h2 < 2.5e-3:
        # Taylor series of cos/sin(h)/h: error < 1e-12 for |h| < 0.05 rad (the usual case)
        c = 1.0 - h2 * (0.5 - h2 / 24.0)
        sh = 1.0 - h2 * (1.0 / 6.0 - h2 / 120.0)
    else:
        hn = math.sqrt(h2)
        c = math.cos(hn)
        sh = math.sin(hn) / hn
    return _qmul(q0, q1, q2, q3, c, hx * sh, hy * sh, hz * sh)


@njit(cache=True)
def _to_earth(q0, q1, q2, q3, ax, ay, az):
    """Body vector (ax, ay, az) rotated to the earth frame by q, plus the rotation-matrix entries
    the filters need: (fx, fy, fz, r00, r10, r20, r21, r22)."""
    r00 = 1 - 2 * (q2 * q2 + q3 * q3)
    r01 = 2 * (q1 * q2 - q0 * q3)
    r02 = 2 * (q1 * q3 + q0 * q2)
    r10 = 2 * (q1 * q2 + q0 * q3)
    r11 = 1 - 2 * (q1 * q1 + q3 * q3)
    r12 = 2 * (q2 * q3 - q0 * q1)
    r20 = 2 * (q1 * q3 - q0 * q2)
    r21 = 2 * (q2 * q3 + q0 * q1)
    r22 = 1 - 2 * (q1 * q1 + q2 * q2)
    return (r00 * ax + r01 * ay + r02 * az, r10 * ax + r11 * ay + r12 * az, r20 * ax + r21 * ay + r22 * az,
            r00, r10, r20, r21, r22)


@njit(cache=True)
def _tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, k_obl, k_tilt, dt):
    """Rotate the estimate (earth frame) so the averaged support direction (mx, my, .)/mn goes to
    +z. The correction is split into its part about the heading (obliquity, gain k_obl 1/s) and
    about the left axis (tilt, gain k_tilt): forward accelerations are large and a box that is not
    exactly one stride leaks them, while tilt only needs its shape (ranges), so it is corrected
    more gently."""
    im = 1.0 / mn
    ex, ey = my * im, -mx * im
    # k_tilt * e + (k_obl - k_tilt) * (e . h) h / |h|², h = heading (r00, r10): no square root
    d = (k_obl - k_tilt) * (ex * r00 + ey * r10) / (r00 * r00 + r10 * r10)
    h = 0.5 * dt
    return _qmul(1.0, h * (k_tilt * ex + d * r00), h * (k_tilt * ey + d * r10), 0.0, q0, q1, q2, q3)


@njit(cache=True)
def _box3(f, fsum, rings, r1, rout, m, j, w, mask):
    """Three cascaded running boxes of width w over ring R_AV at sample m (ring slot j): the
    stages' running sums live in f[fsum], f[fsum+1], f[fsum+2]; the first two stages' outputs in
    rings r1, r1+1 (they are the next stage's input), the result in ring rout. Delay 3(w-1)/2."""
    x = rings[R_AV, j]
    src = R_AV
    for stage in range(3):
        f[fsum + stage] += x - (rings[src, (m - w) & mask] if m >= w else 0.0)
        x = f[fsum + stage] / w
        dst = r1 + stage if stage < 2 else rout
        rings[dst, j] = x
        src = r1 + stage
    return x


@njit(cache=True)
def run_engine(f, s, rings, blk, out, R, bias):
    """Process samples (uniform grid) and write finished steps into ``out``.

    blk: (n,8) rows of t (s), acc x/y/z (m/s² specific force, SENSOR frame), gyr x/y/z (rad/s,
    sensor frame), flag (0 ok, 1 inside a gap (interpolated), 2 saturated); R: (3,3)
    sensor->pelvis rotation (v_pelvis = R @ v_sensor); bias: (3,) gyro bias, rad/s, sensor frame.
    Angles go to the rings as tan(obliquity) (R_ROLL) and sin(tilt) (R_PITCH); see ring_angles_deg.
    Returns the number of rows written to ``out`` (rows of NO columns, see O_* indices).
    """
    n = blk.shape[0]
    rb = s[I_RB]
    mask = rb - 1
    dt = f[F_DT]
    fs = f[F_FS]
    g = f[F_G]
    nout = 0
    wb = s[I_WB]
    ws = s[I_WS]
    dw = 3 * (wb - 1) // 2  # delay of the walking smoother
    dsl = 3 * (ws - 1) // 2  # delay of the slope smoother
    pw = s[I_PW]  # look-back of the peak test (and of the contact refinement)
    pa = s[I_PA]  # look-ahead of the peak test
    for k in range(n):
        m = s[I_N]
        j = m & mask
        # ------------------------------------------------ orientation (pelvis -> earth)
        q0, q1, q2, q3 = f[F_Q0], f[F_Q1], f[F_Q2], f[F_Q3]
        gx, gy, gz = blk[k, 4] - bias[0], blk[k, 5] - bias[1], blk[k, 6] - bias[2]
        wpy = R[1, 0] * gx + R[1, 1] * gy + R[1, 2] * gz
        wpz = R[2, 0] * gx + R[2, 1] * gy + R[2, 2] * gz
        q0, q1, q2, q3 = _gyro_step(q0, q1, q2, q3, R[0, 0] * gx + R[0, 1] * gy + R[0, 2] * gz, wpy, wpz, dt)
        sx, sy, sz = blk[k, 1], blk[k, 2], blk[k, 3]
        fx, fy, fz, r00, r10, r20, r21, r22 = _to_earth(q0, q1, q2, q3,
                                                       R[0, 0] * sx + R[0, 1] * sy + R[0, 2] * sz,
                                                       R[1, 0] * sx + R[1, 1] * sy + R[1, 2] * sz,
                                                       R[2, 0] * sx + R[2, 1] * sy + R[2, 2] * sz)
        # stride box average of earth-frame specific force
        bl = s[I_BOXL]
        if s[I_BOXN] >= bl:
            jo = (m - bl) & mask
            f[F_BSX] -= rings[R_FEX, jo]
            f[F_BSY] -= rings[R_FEY, jo]
            f[F_BSZ] -= rings[R_FEZ, jo]
        else:
            s[I_BOXN] += 1
        rings[R_FEX, j] = fx
        rings[R_FEY, j] = fy
        rings[R_FEZ, j] = fz
        f[F_BSX] += fx
        f[F_BSY] += fy
        f[F_BSZ] += fz
        bn = s[I_BOXN]
        mx, my, mz = f[F_BSX] / bn, f[F_BSY] / bn, f[F_BSZ] / bn
        mn = math.sqrt(mx * mx + my * my + mz * mz)
        if mn > 0.5 * g and blk[k, 7] == 0.0:
            # rotate the estimate so that the averaged support direction goes to +z (earth frame)
            q0, q1, q2, q3 = _tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, f[F_KCORR], f[F_KPITCH], dt)
        # renormalise (first order: |q| stays within 1e-12 of 1 at these step sizes)
        qn = 1.5 - 0.5 * (q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
        q0, q1, q2, q3 = q0 * qn, q1 * qn, q2 * qn, q3 * qn
        f[F_Q0], f[F_Q1], f[F_Q2], f[F_Q3] = q0, q1, q2, q3
        # ------------------------------------------------ angles, stored cheaply
        # obliquity and tilt are monotonic in tan(roll) = r21/r22 and sin(pitch) = -r20, so the
        # rings keep those and the step converts only its extremes to degrees; yaw is integrated
        # from the Euler rate psi' = (wy sin(roll) + wz cos(roll)) / cos(pitch) — no per-sample
        # transcendental functions
        cc = r21 * r21 + r22 * r22
        sp = -r20
        if sp > 1.0:
            sp = 1.0
        elif sp < -1.0:
            sp = -1.0
        f[F_YAW] += dt * (wpy * r21 + wpz * r22) / cc
        av = fz - g
        rings[R_AV, j] = av
        rings[R_FZ, j] = fz
        rings[R_ROLL, j] = r21 / r22
        rings[R_PITCH, j] = sp
        rings[R_YAW, j] = f[F_YAW] * RAD2DEG
        rings[R_FLAG, j] = blk[k, 7]
        # ------------------------------------------------ smoothers (3 cascaded boxes each):
        # walking peak signal (R_YS) and the slope signal for the contact refinement (R_CS)
        _box3(f, F_B1S, rings, R_B1, R_YS, m, j, wb, mask)
        _box3(f, F_C1S, rings, R_C1, R_CS, m, j, ws, mask)
        # ------------------------------------------------ running: flight / contact state machine
        st = s[I_STATE]
        if fz < FLIGHT_LEVEL:
            s[I_FLIGHTN] += 1
            f[F_FLIGHTSUM] += fz
            if s[I_FLIGHTN] >= s[I_FLIGHTMIN]:
                if st != 1:
                    # entering flight: close the previous contact
                    s[I_STATE] = 1
                f[F_FB] = f[F_FLIGHTSUM] / s[I_FLIGHTN]
                f[F_LASTFLIGHT] = m
        else:
            if st == 1 and fz >= L1:
                # rising edge after a flight: L1 crossing (interpolated)
                prev = rings[R_FZ, (m - 1) & mask]
                frac = (L1 - prev) / (fz - prev) if fz != prev else 0.0
                f[F_TC1] = m - 1 + frac
                s[I_STATE] = 2
                st = 2
            if st == 2 and fz >= L2:
                prev = rings[R_FZ, (m - 1) & mask]
                frac = (L2 - prev) / (fz - prev) if fz != prev else 0.0
                tc2 = m - 1 + frac
                tc1 = f[F_TC1]
                base = f[F_FB]
                if base > L1 - 0.1 * G0:
                    base = L1 - 0.1 * G0
                tic = tc1 - (tc2 - tc1) * (L1 - base) / (L2 - L1)
                s[I_STATE] = 3
                s[I_CONTACTN] = 0
                f[F_TD2] = -1.0
                nout = _accept_ic(f, s, rings, tic, m, out, nout)
            s[I_FLIGHTN] = 0
            f[F_FLIGHTSUM] = 0.0
        if s[I_STATE] == 3:
            s[I_CONTACTN] += 1
            prev = rings[R_FZ, (m - 1) & mask]
            if s[I_CONTACTN] > int(0.06 * fs):
                if prev >= L2 and fz < L2:
                    f[F_TD2] = m - 1 + (prev - L2) / (prev - fz)
                if f[F_TD2] >= 0 and prev >= L1 and fz < L1:
                    td1 = m - 1 + (prev - L1) / (prev - fz)
                    base = f[F_FB]
                    if base > L1 - 0.1 * G0:
                        base = L1 - 0.1 * G0
                    f[F_TTO] = td1 + (td1 - f[F_TD2]) * (L1 - base) / (L2 - L1)
                    s[I_STATE] = 0
        # ------------------------------------------------ walking IC: peak of smoothed vertical acc
        mp = m - pa  # candidate in YS ring coordinates
        if mp - pw >= 0 and m >= dw + pw + pa:
            yc = rings[R_YS, mp & mask]
            # cheap pre-check: a local maximum of its neighbours, and above the mean level
            is_peak = yc > 0.0 and yc > rings[R_YS, (mp - 1) & mask] and yc >= rings[R_YS, (mp + 1) & mask]
            lo = 1e18
            for u in range(mp - pw, m + 1 if is_peak else mp - pw):
                v = rings[R_YS, u & mask]
                if v < lo:
                    lo = v
                if u < mp and v >= yc:
                    is_peak = False
                elif u > mp and v > yc:
                    is_peak = False
            # prominence against the trough of the last 0.3 s, relative to recent peaks
            thr = f[F_PROMREL] * f[F_PEAKEMA]
            if thr < f[F_PROMMIN]:
                thr = f[F_PROMMIN]
            if is_peak and yc > 0.0 and (yc - lo) > thr:
                tp = mp - dw  # peak time in sample units
                # refine: walking — steepest rise of the slope-smoothed signal before the peak (the
                # heel-strike loading); running without a flight phase (a running cadence: steps
                # shorter than RUN_STEP_S, > 143 steps/min, faster than people walk) — the valley
                # before the loading rise, where the old foot's unloading turns into the new one's
                # loading
                best = -1e18
                bi = tp
                tmed = f[F_TMED]
                grounded = s[I_BOUTJ] >= 2 and 0.0 < tmed < RUN_STEP_S * fs
                if grounded:
                    # ... and some unloading below 1 g between the steps (only looked at then)
                    vmin = 1e18
                    for u in range(tp - pw, tp + 1):
                        v = rings[R_CS, (u + dsl) & mask]
                        if v < vmin:
                            vmin = v
                    grounded = vmin < 0.0
                for u in range(tp - pw, tp + 1):
                    uc = u + dsl
                    if u - 1 < 0:
                        continue
                    if grounded:
                        # the unloading valley of the gait-smoothed signal (the slope-smoothed one
                        # has a second valley just after the impact transient)
                        d = -rings[R_YS, (u + dw) & mask]
                    else:
                        d = rings[R_CS, (uc + 1) & mask] - rings[R_CS, (uc - 1) & mask]
                    if d > best:
                        best = d
                        bi = u
                f[F_PEAKEMA] = 0.8 * f[F_PEAKEMA] + 0.2 * (yc - lo)
                # walking ICs are ignored while running (a flight within +-1 s)
                if f[F_LASTFLIGHT] < bi - fs:
                    nout = _accept_ic(f, s, rings, float(bi), m, out, nout)
        # ------------------------------------------------ end of a bout: close the last contact
        last = f[F_LASTIC]
        if last >= 0 and f[F_TERMDONE] == 0.0 and s[I_BOUTJ] >= 1:
            tm = f[F_TMED]
            lim = 2.4 * tm
            if lim < 1.0 * fs:
                lim = 1.0 * fs
            if m - last > lim:
                # no next contact came: the runner stopped. Emit the last step over one typical
                # step time, with reduced quality (its end is not a contact)
                nout = _emit_step(f, s, rings, last, last + tm, m, out, nout, 0.4)
                f[F_TERMDONE] = 1.0
                s[I_BOUTJ] = 0
        s[I_N] = m + 1
    return nout


@njit(cache=True)
def _accept_ic(f, s, rings, tic, m, out, nout):
    """Register an initial contact at fractional sample index ``tic``; emit finished step(s)."""
    fs = f[F_FS]
    last = f[F_LASTIC]
    if f[F_TERMDONE] == 1.0:
        last = -1.0  # the previous contact was already closed as a terminal step
    if s[I_RESET] == 1:
        last = -1.0
        s[I_RESET] = 0
        s[I_BOUTJ] = 0
    if last >= 0:
        dstep = tic - last
        if dstep < 0.2 * fs:
            return nout  # too close to the previous contact: duplicate
        tmed = f[F_TMED]
        too_long = dstep > 2.0 * fs or (s[I_BOUTJ] >= 3 and dstep > 2.4 * tmed)
        if too_long:
            s[I_BOUTJ] = 0
        elif s[I_BOUTJ] >= 3 and dstep > 1.6 * tmed:
            mid = 0.5 * (last + tic)
            nout = _emit_step(f, s, rings, last, mid, m, out, nout, REPAIRED)
            nout = _emit_step(f, s, rings, mid, tic, m, out, nout, REPAIRED)
        else:
            nout = _emit_step(f, s, rings, last, tic, m, out, nout, 1.0)
    f[F_PREVIC] = last
    f[F_LASTIC] = tic
    f[F_TERMDONE] = 0.0
    return nout


@njit(cache=True)
def _emit_step(f, s, rings, ta, tb, m, out, nout, qfac):
    fs = f[F_FS]
    mask = s[I_RB] - 1
    ia = int(math.floor(ta + 0.5))
    ib = int(math.floor(tb + 0.5))
    if ib <= ia + 1 or m - ia >= s[I_RB] or nout >= out.shape[0]:
        return nout
    dstep = tb - ta
    # typical step time (EMA within the bout)
    if s[I_BOUTJ] == 0:
        f[F_TMED] = dstep
    qual = qfac * f[F_QUALCAL]
    tm_before = f[F_TMED]
    if s[I_BOUTJ] >= 2 and abs(dstep - f[F_TMED]) > 0.25 * f[F_TMED]:
        qual *= 0.8
    f[F_TMED] = 0.8 * f[F_TMED] + 0.2 * dstep
    rmax = -1e18
    rmin = 1e18
    pmax = -1e18
    pmin = 1e18
    ymax = -1e18
    ymin = 1e18
    fzmin = 1e18
    gap = False
    sat = False
    npts = ib - ia + 1
    dt = 1.0 / fs
    # vertical position by double integration with drift removal
    vsum = 0.0
    v = 0.0
    for u in range(ia, ib + 1):
        jj = u & mask
        r = rings[R_ROLL, jj]
        if r > rmax:
            rmax = r
        if r < rmin:
            rmin = r
        p = rings[R_PITCH, jj]
        if p > pmax:
            pmax = p
        if p < pmin:
            pmin = p
        y = rings[R_YAW, jj]
        if y > ymax:
            ymax = y
        if y < ymin:
            ymin = y
        fz = rings[R_FZ, jj]
        if fz < fzmin:
            fzmin = fz
        fl = rings[R_FLAG, jj]
        if fl == FLAG_GAP:
            gap = True
        elif fl == FLAG_SAT:
            sat = True
        v += rings[R_AV, jj] * dt
        vsum += v
    vmean = vsum / npts
    z = 0.0
    v = 0.0
    zmax = -1e18
    zmin = 1e18
    z_end = 0.0
    # first pass gives z_end for the linear detrend
    for u in range(ia, ib + 1):
        v += rings[R_AV, u & mask] * dt
        z += (v - vmean) * dt
    z_end = z
    z = 0.0
    v = 0.0
    cnt = 0
    for u in range(ia, ib + 1):
        v += rings[R_AV, u & mask] * dt
        z += (v - vmean) * dt
        zz = z - z_end * cnt / (npts - 1)
        cnt += 1
        if zz > zmax:
            zmax = zz
        if zz < zmin:
            zmin = zz
    if gap:
        qual *= 0.3
    if sat:
        qual *= 0.5
    # turning: heading change over the last stride (same gait phase)
    pv = f[F_PREVIC]
    if pv >= 0 and m - pv < s[I_RB] and tb - pv < 2.5 * fs:
        turn = rings[R_YAW, ib & mask] - rings[R_YAW, int(math.floor(pv + 0.5)) & mask]
        if abs(turn) > 20.0:
            qual *= 0.7
    # ---- left/right: evidence of this step, then one forward step of the bout's eight-state
    # alternation model (see gaitmon/core/sides.py for the model and the smoothing over the bout)
    # running: a flight phase, or (running without one) a running cadence
    run = fzmin < FLIGHT_LEVEL or dstep < RUN_STEP_S * fs
    jb = s[I_BOUTJ]
    if jb == 0:
        f[F_BOUTID] += 1.0
    ia0 = ia - (ib - ia)  # start of the stride ending with this step (previous step + this one)
    have_prev = m - ia0 < s[I_RB] and ia0 >= 0
    xo, xy = _side_evidence(rings, mask, ia, ib, have_prev, run, f[F_SIDEPHASE], f[F_ORATE_U0], f[F_ORATE_U1],
                            f[F_RUNPEAK])
    turn = rings[R_YAW, ib & mask] - rings[R_YAW, ia & mask]
    # evidence as log-likelihood ratios L:R — the obliquity cue (walking: rise after contact;
    # running: the drop pattern) and the yaw cue (walking only; its sign is person-specific)
    lo = _clip(xo / (f[F_SIGRUN] if run else f[F_SIGWALK]), SIDE_LLR_MAX)
    ly = 0.0 if run else _clip(xy / f[F_SIGYAW], SIDE_LLR_MAX)
    if abs(turn) > SIDE_TURN_DEG:
        lo = 0.0  # turning steps carry no usable side evidence
        ly = 0.0
    co = 1.0 if run else _obliquity_reliability(f, xo, jb > 0 and lo != 0.0)
    eps = SIDE_EPS_REGULAR
    if jb > 0:
        r = dstep / tm_before
        if r > 1.5 or r < 0.6:
            eps = 0.5  # as long as two steps, or half a step: a missed or an extra contact is as likely as not
        elif abs(r - 1.0) > SIDE_STEP_DEV or abs(turn) > SIDE_TURN_DEG or qfac == REPAIRED:
            eps = SIDE_EPS_IRREGULAR  # an irregular, repaired or turning step may hide a missed/extra contact
    if jb == 0:
        # a new bout: sides undecided, the yaw pattern judged afresh (one odd bout — a course with
        # turns, a stumble — must not decide the next ones)
        side_step_prior_new_bout(f[F_SP0:F_SP0 + 8], f[F_RYP], f[F_ROP])
    else:
        side_step_transition(f[F_SP0:F_SP0 + 8], eps)
    pl = side_step_update(f[F_SP0:F_SP0 + 8], co * lo, ly)
    side = 1.0 if pl > 0.5 else -1.0
    s[I_BOUTJ] = jb + 1
    o = out[nout]
    o[O_T] = ta  # fractional engine sample index; the caller maps it to recording time
    o[O_SIDE] = side
    o[O_STEPT] = dstep / fs
    o[O_CAD] = 60.0 * fs / dstep
    tto = f[F_TTO]
    if run and tto > ta and tto < tb:
        o[O_CONTACT] = (tto - ta) / fs
    else:
        o[O_CONTACT] = np.nan
    rmax = math.atan(rmax) * RAD2DEG
    rmin = math.atan(rmin) * RAD2DEG
    o[O_DROP] = rmax if side > 0 else -rmin
    o[O_OBLR] = rmax - rmin
    o[O_TILTR] = (math.asin(pmax) - math.asin(pmin)) * RAD2DEG
    o[O_ROTR] = ymax - ymin
    o[O_VO] = (zmax - zmin) * 100.0
    o[O_ACT] = 1.0 if run else 0.0
    # a pelvis that rolls or tilts this much within one step is sitting down, standing up or
    # turning on the spot — not a gait step: keep it in the table, out of the statistics
    if o[O_OBLR] > MAX_GAIT_OBLIQUITY_RANGE_DEG or o[O_TILTR] > MAX_GAIT_TILT_RANGE_DEG:
        qual *= 0.1
    o[O_QUAL] = qual
    o[O_STRIDE] = s[I_STRIDE]
    o[O_EMIT] = m
    o[O_END] = tb
    o[O_BOUT] = f[F_BOUTID]
    o[O_OMAX] = rmax
    o[O_OMIN] = rmin
    o[O_LLRO] = lo
    o[O_EPS] = eps
    o[O_PL] = pl
    o[O_LLRY] = ly
    o[O_RY0] = f[F_RYP]
    o[O_CO] = co
    s[I_STRIDE] += 1
    _update_box(f, s, rings, m)
    return nout + 1


@njit(cache=True)
def _obliquity_reliability(f, xo, learn):
    """Scale (0.05..1) of the walking obliquity-rate evidence for this person: a cue that carries
    the side flips sign from step to step (lag-1 correlation near -1); for a person in whom it is
    near chance (as the Mobilise-D participant in tests/data) it does not (near 0), and its
    evidence is scaled down by (rho / 0.8)^2 so that it cannot outvote the yaw cue by noise.
    ``learn``: the step follows another walking step of the bout — the pair updates the
    statistics after the scale was taken (causal)."""
    rho = -f[F_OC] / f[F_OS]
    c = rho * rho / 0.64 if rho > 0 else 0.0
    c = 0.05 if c < 0.05 else (1.0 if c > 1.0 else c)
    if learn and f[F_OHAVE] == 1.0:
        f[F_OC] = SIDE_CUE_DECAY * f[F_OC] + (1.0 - SIDE_CUE_DECAY) * xo * f[F_OPREV]
        f[F_OS] = SIDE_CUE_DECAY * f[F_OS] + (1.0 - SIDE_CUE_DECAY) * 0.5 * (xo * xo + f[F_OPREV] * f[F_OPREV])
        if f[F_OS] < 1e-6:
            f[F_OS] = 1e-6
    f[F_OPREV] = xo
    f[F_OHAVE] = 1.0
    return c


@njit(cache=True)
def _clip(x, lim):
    return lim if x > lim else (-lim if x < -lim else x)


# The side model's 8 states: index = 4 * side (0 L, 1 R) + 2 * yaw pattern (0 usual, 1 reversed)
# + obliquity pattern (0 usual, 1 reversed). See gaitmon/core/sides.py.
@njit(cache=True)
def side_step_prior_new_bout(p, ry, ro):
    """At a bout's first step: side 50:50, the person's yaw / obliquity pattern reversed with
    probability ``ry`` / ``ro`` (in place on the (8,) state vector ``p``)."""
    for i in range(8):
        p[i] = 0.5 * (ry if (i >> 1) & 1 else 1.0 - ry) * (ro if i & 1 else 1.0 - ro)


@njit(cache=True)
def side_step_transition(p, eps):
    """To the next step: the side alternates with probability 1 - eps; the person's patterns stay."""
    for i in range(4):
        a = p[i]
        b = p[i + 4]
        p[i] = (1.0 - eps) * b + eps * a
        p[i + 4] = (1.0 - eps) * a + eps * b


@njit(cache=True)
def side_step_emission(i, lo, ly):
    """Likelihood factor of state i for a step's evidence: ``lo`` (obliquity cue, L:R
    log-likelihood ratio) counts for L when the obliquity pattern is usual and for R when it is
    reversed; ``ly`` (yaw cue) likewise with the yaw pattern."""
    sd = 1.0 if i < 4 else -1.0
    so = -sd if i & 1 else sd
    sy = -sd if (i >> 1) & 1 else sd
    return math.exp(0.5 * (so * lo + sy * ly))


@njit(cache=True)
def side_step_update(p, lo, ly):
    """Bayes update of ``p`` in place with the step's evidence; returns P(left)."""
    z = 0.0
    for i in range(8):
        p[i] *= side_step_emission(i, lo, ly)
        z += p[i]
    pl = 0.0
    for i in range(8):
        p[i] /= z
        if i < 4:
            pl += p[i]
    return pl


@njit(cache=True)
def _side_evidence(rings, mask, ia, ib, have_prev, run, yaw_phase, u0, u1, run_peak):
    """Evidence (deg) that the step [ia, ib] (ring sample indices) is a LEFT step; < 0: right.
    Returns (obliquity cue, yaw cue); running: (obliquity-level cue, 0).

    Pelvis frame angles from the rings: obliquity (+ = left side up), yaw (deg). Slow trends (a
    neutral offset, a curve, drift) are removed with the mean over the stride ending at ib.
    - walking: the swing side starts to drop just after contact — obliquity rises over
      [SIDE_ORATE_U0, SIDE_ORATE_U1] of a LEFT step — plus the pelvis' yaw rate, negative at a
      LEFT contact (McCamley 2012), projected on -cos(pi*u + yaw_phase) (u0, u1: the obliquity
      window, fractions of the step);
    - running: the swing side is lower in early stance — obliquity projected on
      cos(pi*(u - run_peak)). The yaw rate is not used: its sign at contact is
      person-specific in running.
    """
    span = ib - ia
    # stride means (previous step + this one) of the obliquity level, its slope and the yaw rate
    a0 = ia - span if have_prev else ia
    n0 = ib - a0
    om = 0.0
    for u in range(a0, ib):
        om += rings[R_ROLL, u & mask]
    om = om * RAD2DEG / n0
    oslope = (rings[R_ROLL, ib & mask] - rings[R_ROLL, a0 & mask]) * RAD2DEG / n0
    yslope = (rings[R_YAW, ib & mask] - rings[R_YAW, a0 & mask]) / n0
    if run:
        x = 0.0
        for u in range(ia, ib):
            uu = (u - ia + 0.5) / span
            x += (rings[R_ROLL, u & mask] * RAD2DEG - om - oslope * (u - 0.5 * (a0 + ib))) * math.cos(math.pi * (uu - run_peak))
        return 2.0 * x / span, 0.0
    k0 = ia + int(u0 * span + 0.5)
    k1 = ia + int(u1 * span + 0.5)
    xo = (rings[R_ROLL, k1 & mask] - rings[R_ROLL, k0 & mask]) * RAD2DEG - oslope * (k1 - k0)
    xy = 0.0
    for u in range(ia, ib):
        dyw = rings[R_YAW, (u + 1) & mask] - rings[R_YAW, u & mask] - yslope
        xy -= dyw * math.cos(math.pi * (u - ia + 0.5) / span + yaw_phase)
    return xo, xy


@njit(cache=True)
def _update_box(f, s, rings, m):
    """Match the tilt-correction box to one stride (two typical steps)."""
    fs = f[F_FS]
    mask = s[I_RB] - 1
    want = int(round(2.0 * f[F_TMED]))
    lo = int(0.4 * fs)
    hi = min(int(2.5 * fs), s[I_RB] // 2)
    if want < lo:
        want = lo
    if want > hi:
        want = hi
    cur = s[I_BOXL]
    if abs(want - cur) <= 0.05 * cur:
        return
    nb = want if m + 1 >= want else m + 1
    sx = 0.0
    sy = 0.0
    sz = 0.0
    for u in range(m - nb + 1, m + 1):
        jj = u & mask
        sx += rings[R_FEX, jj]
        sy += rings[R_FEY, jj]
        sz += rings[R_FEZ, jj]
    f[F_BSX], f[F_BSY], f[F_BSZ] = sx, sy, sz
    s[I_BOXL] = want
    s[I_BOXN] = nb


@njit(cache=True)
def orient_pass(acc, gyr, fs, g, box_s, kcorr, kpitch=-1.0):
    """Orientation only (same filter as the engine, fixed box): earth-frame specific force and yaw.

    acc (n,3) m/s², gyr (n,3) rad/s in a provisional pelvis frame. Returns (f_earth (n,3) m/s²,
    yaw (n,) rad unwrapped). Used by calibration to find the direction of travel; kpitch < 0 means
    the same gain as kcorr.
    """
    if kpitch < 0:
        kpitch = kcorr  # same gain for tilt as for obliquity unless told otherwise
    n = acc.shape[0]
    dt = 1.0 / fs
    fe = np.zeros((n, 3))
    yaw = np.zeros(n)
    bl = max(int(round(box_s * fs)), 4)
    q0, q1, q2, q3 = 1.0, 0.0, 0.0, 0.0
    sx = 0.0
    sy = 0.0
    sz = 0.0
    yacc = 0.0
    for k in range(n):
        q0, q1, q2, q3 = _gyro_step(q0, q1, q2, q3, gyr[k, 0], gyr[k, 1], gyr[k, 2], dt)
        fx, fy, fz, r00, r10, r20, r21, r22 = _to_earth(q0, q1, q2, q3, acc[k, 0], acc[k, 1], acc[k, 2])
        fe[k, 0], fe[k, 1], fe[k, 2] = fx, fy, fz
        sx += fx
        sy += fy
        sz += fz
        cnt = k + 1
        if k >= bl:
            sx -= fe[k - bl, 0]
            sy -= fe[k - bl, 1]
            sz -= fe[k - bl, 2]
            cnt = bl
        ic = 1.0 / cnt
        mx, my, mz = sx * ic, sy * ic, sz * ic
        mn = math.sqrt(mx * mx + my * my + mz * mz)
        if mn > 0.5 * g:
            q0, q1, q2, q3 = _tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, kcorr, kpitch, dt)
        # renormalise (first order: |q| stays within 1e-12 of 1 at these step sizes)
        qn = 1.5 - 0.5 * (q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
        q0, q1, q2, q3 = q0 * qn, q1 * qn, q2 * qn, q3 * qn
        yacc += dt * (gyr[k, 1] * r21 + gyr[k, 2] * r22) / (r21 * r21 + r22 * r22)  # Euler yaw rate
        yaw[k] = yacc
    return fe, yaw


@njit(cache=True)
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


@njit(cache=True)
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
        if x1 - x0 > gap_thr:
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

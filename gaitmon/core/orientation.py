"""Pelvis orientation: gyro integration with drift corrected towards the stride-averaged support.

Frames: body = pelvis frame (x forward, y left, z up), gyro in rad/s; earth frame z up, heading
free. The estimate's roll/pitch drift is pulled towards the direction of the earth-frame specific
force averaged over one stride (a box), so 2-3 g impacts, flight phases and the inward lean on a
bend do not bias the angles. Angles go to the rings cheaply: tan(obliquity), sin(tilt), and the
heading integrated from the Euler yaw rate — no per-sample transcendental functions.
"""

from __future__ import annotations

import math

import numpy as np

from gaitmon.core.state import RING
from gaitmon.core.jit import engine_kernel, inline_kernel, kernel
from gaitmon.core.params import RAD2DEG


@engine_kernel
def qmul(a0, a1, a2, a3, b0, b1, b2, b3):
    """Quaternion product a ⊗ b (scalar first)."""
    return (
        a0 * b0 - a1 * b1 - a2 * b2 - a3 * b3,
        a0 * b1 + a1 * b0 + a2 * b3 - a3 * b2,
        a0 * b2 - a1 * b3 + a2 * b0 + a3 * b1,
        a0 * b3 + a1 * b2 - a2 * b1 + a3 * b0,
    )


@engine_kernel
def gyro_step(q0, q1, q2, q3, wx, wy, wz, dt):
    """q ⊗ exp(w dt / 2): one step of body-rate integration (w in rad/s, body frame; dt in s)."""
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
    return qmul(q0, q1, q2, q3, c, hx * sh, hy * sh, hz * sh)


@engine_kernel
def to_earth(q0, q1, q2, q3, ax, ay, az):
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


@engine_kernel
def renormalise(q0, q1, q2, q3):
    """q / |q| to first order (|q| stays within 1e-12 of 1 at these step sizes)."""
    qn = 1.5 - 0.5 * (q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3)
    return q0 * qn, q1 * qn, q2 * qn, q3 * qn


@engine_kernel
def tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, k_obl, k_tilt, dt):
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
    return qmul(1.0, h * (k_tilt * ex + d * r00), h * (k_tilt * ey + d * r10), 0.0, q0, q1, q2, q3)


@inline_kernel
def orientation_sample(c, st, rings, blk, k, R, bias, m, j, mask):
    """One sample: integrate, correct, store the angles and earth-frame signals in ring slot j.

    blk[k]: (8,) t (s), acc x/y/z (m/s² specific force, SENSOR frame), gyr x/y/z (rad/s, sensor
    frame), flag; R: (3,3) sensor->pelvis rotation; bias: (3,) gyro bias, rad/s, sensor frame.
    Returns the earth-frame vertical specific force (m/s²)."""
    dt = c.dt
    q0, q1, q2, q3 = st.q0, st.q1, st.q2, st.q3
    gx, gy, gz = blk[k, 4] - bias[0], blk[k, 5] - bias[1], blk[k, 6] - bias[2]
    wpy = R[1, 0] * gx + R[1, 1] * gy + R[1, 2] * gz
    wpz = R[2, 0] * gx + R[2, 1] * gy + R[2, 2] * gz
    q0, q1, q2, q3 = gyro_step(q0, q1, q2, q3, R[0, 0] * gx + R[0, 1] * gy + R[0, 2] * gz, wpy, wpz, dt)
    sx, sy, sz = blk[k, 1], blk[k, 2], blk[k, 3]
    fx, fy, fz, r00, r10, r20, r21, r22 = to_earth(q0, q1, q2, q3,
                                                  R[0, 0] * sx + R[0, 1] * sy + R[0, 2] * sz,
                                                  R[1, 0] * sx + R[1, 1] * sy + R[1, 2] * sz,
                                                  R[2, 0] * sx + R[2, 1] * sy + R[2, 2] * sz)
    # stride box average of earth-frame specific force
    bl = st.box_len
    if st.box_n >= bl:
        jo = (m - bl) & mask
        st.box_x -= rings[RING.fe_x, jo]
        st.box_y -= rings[RING.fe_y, jo]
        st.box_z -= rings[RING.fe_z, jo]
    else:
        st.box_n += 1
    rings[RING.fe_x, j] = fx
    rings[RING.fe_y, j] = fy
    rings[RING.fe_z, j] = fz
    st.box_x += fx
    st.box_y += fy
    st.box_z += fz
    bn = st.box_n
    mx, my, mz = st.box_x / bn, st.box_y / bn, st.box_z / bn
    mn = math.sqrt(mx * mx + my * my + mz * mz)
    if mn > 0.5 * c.g and blk[k, 7] == 0.0:
        # rotate the estimate so that the averaged support direction goes to +z (earth frame)
        q0, q1, q2, q3 = tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, c.k_obliquity, c.k_tilt, dt)
    q0, q1, q2, q3 = renormalise(q0, q1, q2, q3)
    st.q0, st.q1, st.q2, st.q3 = q0, q1, q2, q3
    # obliquity and tilt are monotonic in tan(roll) = r21/r22 and sin(pitch) = -r20, so the rings
    # keep those and a step converts only its extremes to degrees; yaw is integrated from the
    # Euler rate psi' = (wy sin(roll) + wz cos(roll)) / cos(pitch)
    cc = r21 * r21 + r22 * r22
    sp = -r20
    if sp > 1.0:
        sp = 1.0
    elif sp < -1.0:
        sp = -1.0
    st.yaw += dt * (wpy * r21 + wpz * r22) / cc
    rings[RING.av, j] = fz - c.g
    rings[RING.fz, j] = fz
    rings[RING.roll, j] = r21 / r22
    rings[RING.pitch, j] = sp
    rings[RING.yaw, j] = st.yaw * RAD2DEG
    rings[RING.flag, j] = blk[k, 7]
    return fz


@engine_kernel
def match_box_to_stride(c, st, rings, m):
    """Match the tilt-correction box to one stride (two typical steps), re-summing it from the rings."""
    fs = c.fs
    mask = c.ring - 1
    want = int(round(2.0 * st.step_typ))
    lo = int(0.4 * fs)
    hi = min(int(2.5 * fs), c.ring // 2)
    if want < lo:
        want = lo
    if want > hi:
        want = hi
    cur = st.box_len
    if abs(want - cur) <= 0.05 * cur:
        return
    nb = want if m + 1 >= want else m + 1
    sx = 0.0
    sy = 0.0
    sz = 0.0
    for u in range(m - nb + 1, m + 1):
        jj = u & mask
        sx += rings[RING.fe_x, jj]
        sy += rings[RING.fe_y, jj]
        sz += rings[RING.fe_z, jj]
    st.box_x, st.box_y, st.box_z = sx, sy, sz
    st.box_len = want
    st.box_n = nb


@kernel
def orient_pass(acc, gyr, fs, g, box_s, kcorr, kpitch=-1.0):
    """Orientation only (same filter as the engine, fixed box): earth-frame specific force and yaw.

    acc (n,3) m/s², gyr (n,3) rad/s in a provisional pelvis frame; fs Hz; g m/s²; box_s s; gains
    1/s. Returns (f_earth (n,3) m/s², yaw (n,) rad unwrapped). Used by calibration to find the
    direction of travel; kpitch < 0 means the same gain as kcorr.
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
        q0, q1, q2, q3 = gyro_step(q0, q1, q2, q3, gyr[k, 0], gyr[k, 1], gyr[k, 2], dt)
        fx, fy, fz, r00, r10, r20, r21, r22 = to_earth(q0, q1, q2, q3, acc[k, 0], acc[k, 1], acc[k, 2])
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
            q0, q1, q2, q3 = tilt_correct(q0, q1, q2, q3, r00, r10, mx, my, mn, kcorr, kpitch, dt)
        q0, q1, q2, q3 = renormalise(q0, q1, q2, q3)
        yacc += dt * (gyr[k, 1] * r21 + gyr[k, 2] * r22) / (r21 * r21 + r22 * r22)  # Euler yaw rate
        yaw[k] = yacc
    return fe, yaw

"""Left/right per step, live: the step's evidence and one forward step of the bout's side model.

Evidence (log-likelihood ratios L:R, clipped to ±``llr_max``):
- walking — the obliquity *rise* over [``orate_u0``, ``orate_u1``] of the step (the swing side
  starts to drop after contact: left side rising after a LEFT contact), scaled by how reliably it
  alternates for this person (``obliquity_reliability``), and the pelvis yaw rate projected on
  -cos(pi*u + ``side_phase``) (negative at a LEFT contact in walking, McCamley 2012), and the
  sideways specific force over the 0.6 step before the contact (``lateral_cue``, m/s², heading
  frame: toward the landing foot), over ``sigma_ml``;
- running — the obliquity *level* projected on cos(pi*(u - ``run_peak_u``)) (the swing side is
  lower in early stance); the yaw rate is not used, its sign at contact is person-specific.

The model: 16 states = side (L, R) × the person's sideways-force pattern (usual, reversed) × yaw
pattern × obliquity pattern; sides alternate with probability 1 - eps, patterns persist within a
bout.
This module runs the causal forward filter; ``gaitmon.core.sides`` smooths each bout when it
closes (same emission and transition functions). Angles: pelvis frame, degrees.
"""

from __future__ import annotations

import math

from gaitmon.core.state import RING
from gaitmon.core.jit import engine_kernel
from gaitmon.core.params import RAD2DEG, REPAIRED, SENSOR_BEHIND_YAW_AXIS_M, SIDE_ML_REVERSED_PRIOR, STANDING


@engine_kernel
def clip(x, lim):
    return lim if x > lim else (-lim if x < -lim else x)


@engine_kernel
def obliquity_reliability(c, st, xo, learn):
    """Scale (0.05..1) of the walking obliquity-rate evidence for this person: a cue that carries
    the side flips sign from step to step (lag-1 correlation near -1); for a person in whom it is
    near chance (as the Mobilise-D participant in tests/data) it does not (near 0), and its
    evidence is scaled down by (rho / 0.8)^2 so that it cannot outvote the yaw cue by noise.
    ``learn``: the step follows another walking step of the bout — the pair updates the
    statistics after the scale was taken (causal)."""
    rho = -st.cue_c / st.cue_s
    w = rho * rho / 0.64 if rho > 0 else 0.0
    w = 0.05 if w < 0.05 else (1.0 if w > 1.0 else w)
    if learn and st.cue_have == 1:
        d = c.cue_decay
        st.cue_c = d * st.cue_c + (1.0 - d) * xo * st.cue_prev
        st.cue_s = d * st.cue_s + (1.0 - d) * 0.5 * (xo * xo + st.cue_prev * st.cue_prev)
        if st.cue_s < 1e-6:
            st.cue_s = 1e-6
    st.cue_prev = xo
    st.cue_have = 1
    return w


# The side model's 16 states: index = 8 * side (0 L, 1 R) + 4 * sideways-force pattern + 2 * yaw
# pattern + obliquity pattern (each 0 usual, 1 reversed). See gaitmon/core/sides.py.
N_SIDE_STATES = 16
HALF_STATES = 8


@engine_kernel
def side_step_prior_new_bout(p, ry, ro):
    """At a bout's first step: side 50:50, the person's yaw / obliquity / sideways-force pattern
    reversed with probability ``ry`` / ``ro`` / ``SIDE_ML_REVERSED_PRIOR`` (in place on the (16,)
    state vector ``p``)."""
    rm = SIDE_ML_REVERSED_PRIOR
    for i in range(N_SIDE_STATES):
        p[i] = (0.5 * (ry if (i >> 1) & 1 else 1.0 - ry) * (ro if i & 1 else 1.0 - ro)
                * (rm if (i >> 2) & 1 else 1.0 - rm))


@engine_kernel
def side_step_transition(p, eps):
    """To the next step: the side alternates with probability 1 - eps; the person's patterns stay."""
    for i in range(HALF_STATES):
        a = p[i]
        b = p[i + HALF_STATES]
        p[i] = (1.0 - eps) * b + eps * a
        p[i + HALF_STATES] = (1.0 - eps) * a + eps * b


@engine_kernel
def side_step_emission(i, lo, ly, lm):
    """Likelihood factor of state i for a step's evidence: ``lo`` (obliquity cue, L:R
    log-likelihood ratio) counts for L when the obliquity pattern is usual and for R when it is
    reversed; ``ly`` (yaw cue) likewise with the yaw pattern, ``lm`` (walking sideways-force cue)
    with the sideways-force pattern."""
    sd = 1.0 if i < HALF_STATES else -1.0
    so = -sd if i & 1 else sd
    sy = -sd if (i >> 1) & 1 else sd
    sm = -sd if (i >> 2) & 1 else sd
    return math.exp(0.5 * (so * lo + sy * ly + sm * lm))


@engine_kernel
def side_step_update(p, lo, ly, lm):
    """Bayes update of ``p`` in place with the step's evidence; returns P(left)."""
    z = 0.0
    for i in range(N_SIDE_STATES):
        p[i] *= side_step_emission(i, lo, ly, lm)
        z += p[i]
    pl = 0.0
    for i in range(N_SIDE_STATES):
        p[i] /= z
        if i < HALF_STATES:
            pl += p[i]
    return pl


@engine_kernel
def side_evidence(c, rings, mask, ia, ib, have_prev, run):
    """Evidence (deg) that the step [ia, ib] (ring sample indices) is a LEFT step; < 0: right.
    Returns (obliquity cue, yaw cue); running: (obliquity-level cue, 0). Slow trends (a neutral
    offset, a curve, drift) are removed with the mean over the stride ending at ib."""
    span = ib - ia
    # stride means (previous step + this one) of the obliquity level, its slope and the yaw rate
    a0 = ia - span if have_prev else ia
    n0 = ib - a0
    om = 0.0
    for u in range(a0, ib):
        om += rings[RING.roll, u & mask]
    om = om * RAD2DEG / n0
    oslope = (rings[RING.roll, ib & mask] - rings[RING.roll, a0 & mask]) * RAD2DEG / n0
    yslope = (rings[RING.yaw, ib & mask] - rings[RING.yaw, a0 & mask]) / n0
    if run:
        x = 0.0
        for u in range(ia, ib):
            uu = (u - ia + 0.5) / span
            x += (rings[RING.roll, u & mask] * RAD2DEG - om - oslope * (u - 0.5 * (a0 + ib))) * math.cos(math.pi * (uu - c.run_peak_u))
        return 2.0 * x / span, 0.0
    k0 = ia + int(c.orate_u0 * span + 0.5)
    k1 = ia + int(c.orate_u1 * span + 0.5)
    xo = (rings[RING.roll, k1 & mask] - rings[RING.roll, k0 & mask]) * RAD2DEG - oslope * (k1 - k0)
    xy = 0.0
    for u in range(ia, ib):
        dyw = rings[RING.yaw, (u + 1) & mask] - rings[RING.yaw, u & mask] - yslope
        xy -= dyw * math.cos(math.pi * (u - ia + 0.5) / span + c.side_phase)
    return xo, xy


@engine_kernel
def _yaw_rate(c, rings, mask, u):
    """Yaw rate (rad/s) at ring sample u: central difference of the yaw ring (degrees)."""
    return (rings[RING.yaw, (u + 1) & mask] - rings[RING.yaw, (u - 1) & mask]) * 0.5 * c.fs / RAD2DEG


@engine_kernel
def lateral_cue(c, rings, mask, ia, span):
    """Walking evidence (m/s²) that the contact at ring sample ``ia`` is LEFT (< 0: right): the mean
    sideways specific force (heading frame, + left) over the 0.6 of a step (``span`` samples) before
    the contact — the weight shifting onto the landing foot: in single stance the ground pushes the
    body toward the other foot — minus its mean over the stride before the contact (a slope, a
    curve, a neutral offset). The sideways acceleration that the pelvis' own yaw makes at a sensor
    ``SENSOR_BEHIND_YAW_AXIS_M`` behind the rotation axis is removed (its mean over a window is the
    change of the yaw rate over it)."""
    a = ia - int(0.6 * span + 0.5)
    s0 = ia - 2 * span
    if ia <= a or s0 < 1:
        return 0.0
    w = 0.0
    base = 0.0
    for u in range(s0, ia):
        yw = rings[RING.yaw, u & mask] / RAD2DEG
        lat = -math.sin(yw) * rings[RING.fe_x, u & mask] + math.cos(yw) * rings[RING.fe_y, u & mask]
        base += lat
        if u >= a:
            w += lat
    r_ia = _yaw_rate(c, rings, mask, ia)
    r_a = _yaw_rate(c, rings, mask, a)
    r_s0 = _yaw_rate(c, rings, mask, s0)
    d = SENSOR_BEHIND_YAW_AXIS_M
    window = w / (ia - a) + d * (r_ia - r_a) * c.fs / (ia - a)
    stride = base / (ia - s0) + d * (r_ia - r_s0) * c.fs / (ia - s0)
    return window - stride


@engine_kernel
def step_side(c, st, rings, m, ia, ib, run, dstep, tm_before, qfac):
    """Side of the step [ia, ib] (ring sample indices): its evidence, the alternation break
    probability before it, and the forward filter's update. Call before ``bout_step`` advances.
    Returns (side +1 L / -1 R, P(left), obliquity LLR, yaw LLR, sideways-force LLR, eps,
    reliability scale)."""
    mask = c.ring - 1
    jb = st.bout_step
    ia0 = ia - (ib - ia)  # start of the stride ending with this step (previous step + this one)
    have_prev = m - ia0 < c.ring and ia0 >= 0
    xo, xy = side_evidence(c, rings, mask, ia, ib, have_prev, run)
    turn = rings[RING.yaw, ib & mask] - rings[RING.yaw, ia & mask]
    lo = clip(xo / (c.sigma_run_deg if run else c.sigma_walk_deg), c.llr_max)
    ly = 0.0 if run else clip(xy / c.sigma_yaw_deg, c.llr_max)
    # (the stride before the contact, and the sample before it, must still be in the ring)
    lm = 0.0
    if not run and m - (ia - 2 * (ib - ia)) < c.ring - 1:
        lm = clip(lateral_cue(c, rings, mask, ia, ib - ia) / c.sigma_ml, c.llr_max)
    if abs(turn) > c.turn_deg or qfac == STANDING:
        lo = 0.0  # turning steps, and standing after a walk's closing contact, carry no side evidence
        ly = 0.0
        lm = 0.0
    co = 1.0 if run else obliquity_reliability(c, st, xo, jb > 0 and lo != 0.0)
    eps = c.eps_regular
    if jb > 0:
        r = dstep / tm_before
        if r > 1.5 or r < 0.6:
            eps = 0.5  # as long as two steps, or half a step: a missed or an extra contact is as likely as not
        elif abs(r - 1.0) > c.step_dev or abs(turn) > c.turn_deg or qfac == REPAIRED:
            eps = c.eps_irregular  # an irregular, repaired or turning step may hide a missed/extra contact
    if jb == 0:
        # a new bout: sides undecided, the patterns judged afresh (one odd bout — a course with
        # turns, a stumble — must not decide the next ones)
        # (a bout that starts running: this runner's running drop pattern as learned from earlier
        # runs anchored by walking, if any — else the same population prior)
        st.bout_ro = c.run_obliquity_reversed_prior if run else c.obliquity_reversed_prior
        side_step_prior_new_bout(st.side_p, c.yaw_reversed_prior, st.bout_ro)
    else:
        side_step_transition(st.side_p, eps)
    pl = side_step_update(st.side_p, co * lo, ly, lm)
    side = 1.0 if pl > 0.5 else -1.0
    return side, pl, lo, ly, lm, eps, co

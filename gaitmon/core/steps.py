"""From contacts to steps: accepting a contact, repairing a missed one, closing a bout, and the
step row (metrics from ``step_metrics``, side from ``side_model``).

Contacts are fractional engine sample indices. A step runs from one contact to the next; its
quality (0..1) multiplies the calibration's with penalties for an irregular step time, gaps,
saturation, turning and implausible ranges.
"""

from __future__ import annotations

import math

import numpy as np

from gaitmon.core.contacts_run import last_flight_sample
from gaitmon.core.contacts_walk import closing_contact
from gaitmon.core.state import RING
from gaitmon.core.jit import engine_kernel, inline_kernel
from gaitmon.core.orientation import match_box_to_stride
from gaitmon.core.params import CLOSING, NO_CONTACT, RAD2DEG, REPAIRED, STANDING, TERMINAL
from gaitmon.core.side_model import step_side
from gaitmon.core.smoothers import box3_delay
from gaitmon.core.step_metrics import step_extremes, vertical_excursion


@engine_kernel
def _kth_smallest(x, n, k):
    """k-th smallest (0-based) of x[:n], without allocating (n is small)."""
    for i in range(n):
        less = 0
        leq = 0
        for j in range(n):
            if x[j] < x[i]:
                less += 1
            if x[j] <= x[i]:
                leq += 1
        if less <= k < leq:
            return x[i]
    return x[0]


@engine_kernel
def median_small(x, n):
    """Median of x[:n] (n >= 1)."""
    if n % 2 == 1:
        return _kth_smallest(x, n, n // 2)
    return 0.5 * (_kth_smallest(x, n, n // 2 - 1) + _kth_smallest(x, n, n // 2))


@engine_kernel
def accept_contact(c, st, rings, tic, m, out, nout):
    """Register an initial contact at fractional sample index ``tic``; emit finished step(s) into
    ``out`` (STEP_ROW records) from row ``nout``. Returns the new row count."""
    fs = c.fs
    if st.terminal_done == 2:
        nout = finish_close(c, st, rings, m, out, nout, tic)  # a contact after a stop: close first
    last = st.last_ic
    if st.terminal_done == 1:
        last = -1.0  # the previous contact was already closed as a terminal step
    if st.reset == 1 and tic >= st.reset_at:
        # the first contact after a long gap (one found late but before the gap still ends a step
        # of the bout before it)
        last = -1.0
        st.reset = 0
        st.bout_step = 0
    if last >= 0:
        dstep = tic - last
        if dstep < 0.2 * fs:
            return nout  # too close to the previous contact: duplicate
        tmed = st.step_typ
        too_long = dstep > 2.0 * fs or (st.bout_step >= 3 and dstep > 2.4 * tmed)
        if too_long:
            # the runner had stopped: close the previous bout's last step as close_if_stopped
            # would have (it waits for the walking detector's latency, so it may not have yet)
            if st.bout_step >= 1:
                nout = emit_step(c, st, rings, last, last + tmed, m, out, nout, TERMINAL)
            st.bout_step = 0
        elif st.bout_step >= 3 and dstep > 1.6 * tmed:
            # one contact missed: split the step in two halves of reduced quality
            mid = 0.5 * (last + tic)
            nout = emit_step(c, st, rings, last, mid, m, out, nout, REPAIRED)
            nout = emit_step(c, st, rings, mid, tic, m, out, nout, REPAIRED)
        else:
            nout = emit_step(c, st, rings, last, tic, m, out, nout, 1.0)
    st.prev_ic = last
    st.last_ic = tic
    st.terminal_done = 0
    return nout


@inline_kernel
def close_if_stopped(c, st, rings, m, out, nout):
    """No next contact within max(2.4 typical steps, 1 s): the runner stopped; the bout is closed
    (``finish_close``) once a walker's closing contact can be looked for.

    At a running cadence "within" counts from when the next contact could have been reported:
    the walking detector (running without a flight) finds a contact up to its latency (look-back
    + look-ahead + the smoother's delay, ~0.6 s) after it happened — without that wait a late-found
    contact closed the bout early and split a steady jog into bouts of three steps. At a walking
    cadence a pause of 1 s ends the bout as before (a contact found later starts a new one rather
    than being taken for a step with a missed contact in it)."""
    last = st.last_ic
    if last < 0 or st.bout_step < 1:
        return nout
    tm = st.step_typ
    delay = c.peak_back + c.peak_ahead + box3_delay(c.walk_box)  # the walking detector's latency
    if st.terminal_done == 0:
        lim = 2.4 * tm
        if lim < 1.0 * c.fs:
            lim = 1.0 * c.fs
        if tm < c.run_step_s * c.fs:
            lim += delay
        if m - last > lim:
            st.terminal_done = 2  # stopped; the closing contact is looked for when its data are in
    if st.terminal_done == 2 and (tm < c.run_step_s * c.fs or m > last + 1.5 * tm + delay):
        nout = finish_close(c, st, rings, m, out, nout, -1.0)
    return nout


@engine_kernel
def finish_close(c, st, rings, m, out, nout, t_next):
    """Close the bout: a walker's closing contact (``contacts_walk.closing_contact``) ends the
    last step (reduced quality); then the step from the last contact is emitted over one typical
    step time, with reduced quality and, after a closing contact, no side evidence (its end is not
    a contact). ``t_next``: the contact that arrived while the close was pending (-1 if none) —
    found again as the closing contact, it is not counted twice."""
    last = st.last_ic
    tm = st.step_typ
    tc = NO_CONTACT
    if st.reset == 0:  # (not across a long gap: the samples after it are not this walk's)
        tc = closing_contact(c, st, rings, m, box3_delay(c.slope_box))
    if t_next >= 0 and abs(tc - t_next) < 0.2 * c.fs:
        tc = NO_CONTACT
    qf = TERMINAL
    if tc != NO_CONTACT:
        nout = emit_step(c, st, rings, last, tc, m, out, nout, CLOSING)
        st.prev_ic = last
        st.last_ic = tc
        last = tc
        qf = STANDING
    end = last + tm
    if st.reset == 1 and end > st.reset_at - 1:
        end = st.reset_at - 1  # the last step before a long gap ends with its last sample
    nout = emit_step(c, st, rings, last, end, m, out, nout, qf)
    st.terminal_done = 1
    st.bout_step = 0
    return nout


@engine_kernel
def emit_step(c, st, rings, ta, tb, m, out, nout, qfac):
    """Write the step [ta, tb] (fractional sample indices) as row ``nout`` of ``out``; ``qfac``:
    quality factor of how its ends were found (1, REPAIRED, CLOSING, TERMINAL, STANDING). Returns the row count."""
    fs = c.fs
    mask = c.ring - 1
    ia = int(math.floor(ta + 0.5))
    ib = int(math.floor(tb + 0.5))
    if ib <= ia + 1 or m - ia >= c.ring or nout >= out.shape[0]:
        return nout
    dstep = tb - ta
    # typical step time: the median of the bout's last five steps — one odd step (the first from
    # standing, an unrepaired missed contact) cannot shift it the way it shifted an average
    if st.bout_step == 0:
        st.step_typ = dstep
        st.step_hist_n = 0
    qual = qfac * c.quality_cal
    tm_before = st.step_typ
    if st.bout_step >= 2 and abs(dstep - st.step_typ) > 0.25 * st.step_typ:
        qual *= 0.8
    st.step_hist[st.step_hist_n % 5] = dstep
    st.step_hist_n += 1
    st.step_typ = median_small(st.step_hist, min(st.step_hist_n, 5))
    rmax, rmin, pmax, pmin, ymax, ymin, fzmin, gap, sat = step_extremes(rings, mask, ia, ib)
    excursion = vertical_excursion(rings, mask, ia, ib, c.dt)
    if gap:
        qual *= 0.3
    if sat:
        qual *= 0.5
    # turning: heading change over the last stride (same gait phase)
    pv = st.prev_ic
    if pv >= 0 and m - pv < c.ring and tb - pv < 2.5 * fs:
        turn = rings[RING.yaw, ib & mask] - rings[RING.yaw, int(math.floor(pv + 0.5)) & mask]
        if abs(turn) > 20.0:
            qual *= 0.7
    # running: a flight phase, or (running without one) a running cadence — this step's or the
    # bout's typical one (a jogger at 150-160 steps/min has single steps over the 0.42 s line)
    run = fzmin < c.flight_level or dstep < c.run_step_s * fs or st.step_typ < c.run_step_s * fs
    if (st.bout_step >= 1 and fzmin < c.flight_level and tm_before > c.run_step_hi
            and c.run_step_lo <= dstep <= c.run_step_hi):
        # walk -> run inside the bout: the cadence changes with the gait, so while the typical
        # step is still the walk's, a step with a flight is judged against running step times
        # (a first running step at 0.64 of the walking one looked like an extra contact and broke
        # the alternation that carries the walk's sides into the run). A plausible one is
        # regular; an implausible one (a contact missed or extra at the change) keeps the
        # comparison that flags it; the typical step follows the run by its median. Not without a
        # flight (a short step inside a walk is as likely an extra contact), and not run -> walk
        # (the first walking step looks like a running step with a missed contact).
        tm_before = dstep
    if st.bout_step == 0:
        st.bout_id += 1.0
    side, pl, lo, ly, lm, eps, co = step_side(c, st, rings, m, ia, ib, run, dstep, tm_before, qfac)
    st.bout_step += 1
    o = out[nout]
    o.t = ta
    o.side = side
    o.step_time = dstep / fs
    o.cadence = 60.0 * fs / dstep
    tto = st.t_toe_off
    # a contact time needs this foot's toe-off and a flight after it: running without a flight
    # (a jog with double support) has no instant where this foot alone leaves the ground, and the
    # falling edge found there belongs to the summed force of both feet, not to this foot
    if run and tto > ta and tto < tb and last_flight_sample(st) > tto:
        o.contact_time = (tto - ta) / fs
    else:
        o.contact_time = np.nan
    omax = math.atan(rmax) * RAD2DEG
    omin = math.atan(rmin) * RAD2DEG
    o.drop = omax if side > 0 else -omin
    o.obliquity_range = omax - omin
    o.tilt_range = (math.asin(pmax) - math.asin(pmin)) * RAD2DEG
    o.rotation_range = ymax - ymin
    o.vertical_oscillation = excursion * 100.0
    o.running = 1.0 if run else 0.0
    # a pelvis that rolls or tilts this much within one step is sitting down, standing up or
    # turning on the spot — not a gait step: keep it in the table, out of the statistics
    if o.obliquity_range > c.max_obliquity_range_deg or o.tilt_range > c.max_tilt_range_deg:
        qual *= 0.1
    o.quality = qual
    o.stride = st.stride
    o.emitted = m
    o.end = tb
    o.bout = st.bout_id
    o.obliquity_max = omax
    o.obliquity_min = omin
    o.llr_obliquity = lo
    o.eps = eps
    o.p_left = pl
    o.llr_yaw = ly
    o.llr_ml = lm
    o.yaw_reversed_prior = c.yaw_reversed_prior
    o.obliquity_reversed_prior = st.bout_ro
    o.cue_reliability = co
    st.stride += 1
    match_box_to_stride(c, st, rings, m)
    return nout + 1

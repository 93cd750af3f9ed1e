"""Walking contacts (and running without a flight): peaks of the smoothed vertical acceleration.

The candidate is a peak of the walking-smoothed earth-frame vertical acceleration (ring ``walk``,
m/s², gravity removed; at a running cadence ring ``run``, smoothed as much per step) that is the
maximum of [-PEAK_BACK_S, +PEAK_AHEAD_S] around it and prominent against the trough before it
(at least ``prom_min`` and ``prom_rel`` × recent peaks).
The contact is then refined backwards within the look-back:
- walking: to the steepest rise of the slope-smoothed signal (the heel-strike loading);
- running without a flight phase (a running cadence, steps shorter than ``run_step_s``, and some
  unloading below 1 g between the steps): to the onset of the landing foot's impact spike near the
  valley before the loading rise, else to that valley (where the old foot's unloading turns into
  the new one's loading) moved ``grounded_valley_u`` of a step earlier.
While running with flights (one within 1 s) the flight detector of contacts_run gives the contacts;
a candidate here counts only where it found none for 0.75 of a typical step (a flight too shallow
to pass the flight level, e.g. with a long lever arm, or the last contact when a run stops).
"""

from __future__ import annotations

from gaitmon.core.contacts_run import flight_within, impact_spike
from gaitmon.core.state import RING
from gaitmon.core.jit import inline_kernel
from gaitmon.core.params import NO_CONTACT


@inline_kernel
def prominence_threshold(c, st):
    """The prominence (m/s²) a walking peak needs: ``prom_rel`` x recent peaks, at least ``prom_min``."""
    thr = c.prom_rel * st.peak_ema
    if thr < c.prom_min:
        thr = c.prom_min
    return thr


@inline_kernel
def steepest_rise(rings, mask, a, b, dsl):
    """Sample in [a, b] (engine time) where the slope-smoothed signal rises most steeply (the first
    of equals; a if none): the heel-strike loading."""
    best = -1e18
    bi = a
    for u in range(a, b + 1):
        if u - 1 < 0:
            continue
        uc = u + dsl
        d = rings[RING.slope, (uc + 1) & mask] - rings[RING.slope, (uc - 1) & mask]
        if d > best:
            best = d
            bi = u
    return bi


@inline_kernel
def impact_onset(c, rings, mask, a, b, m):
    """Onset (sample) of the largest impact spike (``contacts_run.impact_spike``) peaking in
    [a, b] — those whose fall the data already hold (up to sample m); -1 if none."""
    if b > m - c.impact_fall_n:
        b = m - c.impact_fall_n
    best = 0.0
    onset = -1
    for k in range(a, b + 1):
        o, rise = impact_spike(c, rings, mask, k, m)
        if o >= 0 and rise > best:
            best = rise
            onset = o
    return onset


@inline_kernel
def walking_contact(c, st, rings, m, mask, dw, dsl, drn):
    """Test the sample ``peak_ahead`` samples back for a walking peak at sample m; dw, dsl, drn:
    delays of the walking, slope and running-cadence smoothers (samples). Returns the refined
    contact (sample index, in the engine's un-delayed time) or NO_CONTACT."""
    pw = c.peak_back
    pa = c.peak_ahead
    run_cadence = st.bout_step >= 2 and 0.0 < st.step_typ < c.run_step_s * c.fs
    # the candidate's ring and its delay: at a running cadence the running-cadence smoother (the
    # same smoothing per step), else the walking one
    rw = RING.run if run_cadence else RING.walk
    dc = drn if run_cadence else dw
    mp = m - pa  # candidate in smoothed-ring coordinates
    if not (mp - pw >= 0 and m >= dc + pw + pa):
        return NO_CONTACT
    yc = rings[rw, mp & mask]
    # cheap pre-check: a local maximum of its neighbours, and above the mean level
    is_peak = yc > 0.0 and yc > rings[rw, (mp - 1) & mask] and yc >= rings[rw, (mp + 1) & mask]
    lo = 1e18
    for u in range(mp - pw, m + 1 if is_peak else mp - pw):
        v = rings[rw, u & mask]
        if v < lo:
            lo = v
        if u < mp and v >= yc:
            is_peak = False
        elif u > mp and v > yc:
            is_peak = False
    # prominence against the trough of the look-back, relative to recent peaks
    if not (is_peak and yc > 0.0 and (yc - lo) > prominence_threshold(c, st)):
        return NO_CONTACT
    tp = mp - dc  # peak time in sample units
    tmed = st.step_typ
    grounded = run_cadence
    if grounded:
        # ... and some unloading below 1 g between the steps (only looked at then)
        vmin = 1e18
        for u in range(tp - pw, tp + 1):
            v = rings[RING.slope, (u + dsl) & mask]
            if v < vmin:
                vmin = v
        grounded = vmin < 0.0
    if grounded:
        # the unloading valley of the gait-smoothed signal (the slope-smoothed one has a second
        # valley just after the impact transient)
        best = -1e18
        bi = tp
        for u in range(tp - pw, min(tp, m - dw) + 1):  # (the gait smoother's output so far)
            if u - 1 < 0:
                continue
            d = -rings[RING.walk, (u + dw) & mask]
            if d > best:
                best = d
                bi = u
    else:
        bi = steepest_rise(rings, mask, tp - pw, tp, dsl)
    st.peak_ema = 0.8 * st.peak_ema + 0.2 * (yc - lo)
    tic = float(bi)
    if grounded:
        # the landing foot's impact spike, where there is one near the valley (up to 0.3 step
        # before it: the impact's rebound pulls the valley late), marks the contact itself
        ts = impact_onset(c, rings, mask, bi - int(0.3 * tmed), bi + int(0.1 * tmed), m)
        if ts >= 0:
            tic = float(ts)
        else:
            tic -= c.grounded_valley_u * tmed
    # while running with flights (one in the second before the candidate) the flight detector
    # gives the contacts; at a running cadence a candidate counts where it found none for most of
    # a typical step (a marginal flight that stayed above the flight level). A flight AFTER the
    # candidate — the first one of a run that follows a walk, seen while the walking detector's
    # latency had the candidate still pending — does not make a walking contact a running one.
    if not flight_within(st, tic - c.fs, tic) or (st.last_ic >= 0 and tmed < c.run_step_s * c.fs
                                                  and tic - st.last_ic > 0.75 * tmed):
        return tic
    return NO_CONTACT


@inline_kernel
def closing_contact(c, st, rings, m, dsl):
    """The contact that ends a walk, looked for where it was due (0.5-1.5 typical steps after the
    last contact) once the walker has stopped. A walker who stops plants the closing foot while
    decelerating, so the gait-smoothed signal hardly peaks there (real L5 walkers: prominence
    ~0.26 m/s² against the 0.3 threshold); with its time known, the loading peak of the
    slope-smoothed signal must pass the usual prominence. Walking cadence only. Returns the
    contact (sample index, engine time) or NO_CONTACT."""
    mask = c.ring - 1
    last = st.last_ic
    tm = st.step_typ
    if tm < c.run_step_s * c.fs or last < 0:
        return NO_CONTACT
    pw = c.peak_back
    u0 = int(last + 0.5 * tm)
    u1 = int(last + 1.5 * tm)
    if u1 > m - dsl - 1:
        u1 = m - dsl - 1
    if u1 - u0 < 3 or m - u0 + pw >= c.ring:
        return NO_CONTACT
    # highest point of the slope-smoothed signal in the window, not at its edges
    tp = u0
    yc = -1e18
    for u in range(u0, u1 + 1):
        v = rings[RING.slope, (u + dsl) & mask]
        if v > yc:
            yc = v
            tp = u
    if tp == u0 or tp == u1:
        return NO_CONTACT
    lo = 1e18
    for u in range(tp - pw, tp):
        v = rings[RING.slope, (u + dsl) & mask]
        if v < lo:
            lo = v
    if yc - lo < prominence_threshold(c, st):
        return NO_CONTACT
    bi = steepest_rise(rings, mask, tp - pw, tp, dsl)  # as for any walking contact
    if bi - last < 0.5 * tm:
        return NO_CONTACT
    return float(bi)

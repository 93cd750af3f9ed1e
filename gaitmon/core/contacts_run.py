"""Running contacts from the earth-frame vertical specific force fz (m/s²): the end of a flight.

A flight is fz below ``flight_level`` (0.3 g) for at least ``flight_min`` samples (shorter dips are
impact ringing), after a toe-off: a dip inside a contact — within 60 ms of its last loading through
0.9 g, e.g. the rebound after a large impact transient when running without a flight — is not one.
The contact is the onset of the loading rise after it: the rise's crossings of L1 (0.45 g) and L2
(0.9 g), interpolated, extrapolated back to the flight's baseline (an impact spike that falls back
below L1 first: its own edge; L1 crossed more than ``rise_max`` (60 ms) before L2, by a rise that
steepens ``rise_steepening`` (3) times at L2, or by a bump whose edge spans more than
``spike_edge_max`` (25 ms) — late in a sprinter's flight, not a loading: the edge at L2). A contact
counts once fz has held above L1 for ``rise_max`` after its L1 crossing (60 ms of latency): a bump
that reached L2 and fell back sooner is not one, and the next L2 crossing decides as above. The
toe-off (for contact time) is the same construction on the falling edge. Running without a flight
(none in the last second), a dip after a toe-off that follows an impact spike (``impact_spike``: a
brief peak of at least 0.1 g — the landing's impact rebounding below the flight level) is not a
flight. Times are fractional sample indices. States (``STATE.phase``): 0 unknown / after toe-off,
1 flight, 2 rising, 3 contact.
"""

from __future__ import annotations

from gaitmon.core.state import RING
from gaitmon.core.jit import engine_kernel, inline_kernel
from gaitmon.core.params import G0, NO_CONTACT


@engine_kernel
def _edge_base(base, l1):
    """The level an edge is extrapolated to: the flight's mean level, at most l1 - 0.1 g."""
    if base > l1 - 0.1 * G0:
        return l1 - 0.1 * G0
    return base


@engine_kernel
def _to_baseline(t1, t2, base, l1, l2):
    """Extrapolate an edge's crossings t1 (level l1) and t2 (level l2) linearly to where it meets
    ``_edge_base(base)``: the contact on a rising edge, the toe-off on a falling one."""
    return t1 - (t2 - t1) * (l1 - _edge_base(base, l1)) / (l2 - l1)


@engine_kernel
def _edge_at(t, level, slope, base, l1):
    """A crossing of ``level`` at ``t`` extrapolated along ``slope`` (m/s² per sample) down to
    ``_edge_base(base)``: the start of that edge."""
    return t - (level - _edge_base(base, l1)) / slope


@engine_kernel
def last_flight_sample(st):
    """The last sample of the latest flight (-1e18 before any)."""
    return st.fl_end[(st.fl_k - 1) % 4] if st.fl_k > 0 else -1e18


@engine_kernel
def flight_within(st, a, b):
    """Whether one of the last four flights overlaps the samples [a, b]."""
    n = st.fl_k if st.fl_k < 4 else 4
    for i in range(n):
        if st.fl_end[i] >= a and st.fl_start[i] <= b:
            return True
    return False


@engine_kernel
def impact_spike(c, rings, mask, k, m):
    """An impact spike of fz peaking at sample k: a local maximum that rose at least ``impact_rise``
    (0.1 g) within ``spike_edge_max`` (25 ms) and falls back as much within ``spike_max`` (35 ms;
    samples up to m, the latest, k < m). Returns (onset: the lowest sample of its edge, rise in
    m/s²), onset -1 when k is no such spike."""
    J = c.impact_edge_n
    K = c.impact_fall_n
    pk = rings[RING.fz, k & mask]
    if not (pk > rings[RING.fz, (k - 1) & mask] and pk >= rings[RING.fz, (k + 1) & mask]):
        return -1, 0.0
    lo = 1e18
    onset = k - 1
    for j in range(k - J, k):
        v = rings[RING.fz, j & mask]
        if v <= lo:
            lo = v
            onset = j
    lo2 = 1e18
    for j in range(k + 1, (k + K if k + K < m else m) + 1):
        v = rings[RING.fz, j & mask]
        if v < lo2:
            lo2 = v
    if pk - lo >= c.impact_rise and pk - lo2 >= c.impact_rise:
        return onset, pk - lo
    return -1, 0.0


@inline_kernel
def flight_and_rise(c, st, rings, fz, m, mask):
    """Flight bookkeeping and the rising edge after a flight at sample m.

    Returns the contact time (fractional sample index) when the rise completes, else NO_CONTACT."""
    tic = NO_CONTACT
    if st.pend_tic >= 0.0:
        # a contact counts once fz has stayed above L1 for rise_max after its L1 crossing: one that
        # falls back sooner was a bump late in the flight (or an impact spike), and the next L2
        # crossing decides (a steep, brief spike: its own edge; anything else: the new loading's
        # edge). At 7 m/s a bump reached 0.9 g 90 ms before the loading
        if fz < c.l1:
            st.t_break = m
            st.pend_tic = -1.0
            st.phase = 2
            st.rise_broken = 1
        elif m - st.t_rise1 > c.rise_max:
            tic = st.pend_tic
            st.pend_tic = -1.0
    ph = st.phase
    if fz < c.flight_level and ph != 3 and st.ringing == 0:
        st.flight_n += 1
        st.flight_sum += fz
        ringing = False
        if ph == 0 and st.flight_n == c.flight_min and not flight_within(st, m - c.fs, m):
            # running without a flight (none in the last second): after a "toe-off" (the middle of
            # the unloading), a dip that follows an impact spike is the spike's rebound, not a flight
            # (a jogger at 52 Hz: 0.50 -> 0.75 -> 0.26, 0.21 g -> loading, inside a double support).
            # Not while running with flights: there, smooth bumps of real runners' fz right after a
            # toe-off pass the spike test (Dorn 7 m/s at 200 Hz: IC F1 1.00 -> 0.68 with the rule)
            s0 = m - st.flight_n + 1  # the dip's first sample
            for k in range(s0 - c.impact_fall_n, s0):
                if impact_spike(c, rings, mask, k, m)[0] >= 0:
                    ringing = True
                    break
        if ringing:
            st.ringing = 1
            st.flight_n = 0
            st.flight_sum = 0.0
        elif st.flight_n >= c.flight_min:
            if ph != 1:
                st.phase = 1  # entering flight
                st.fl_start[st.fl_k % 4] = m - st.flight_n + 1
                st.fl_k += 1
            st.fl_end[(st.fl_k - 1) % 4] = m
            st.flight_base = st.flight_sum / st.flight_n
    elif fz >= c.flight_level:
        st.ringing = 0
        if ph == 0 and fz >= c.l2:
            # loaded again after a toe-off without a flight in between (running without a flight
            # phase): a contact, so a dip that follows within it is not a flight until its toe-off
            st.phase = 3
            st.contact_n = 0
            st.t_fall2 = -1.0
        if ph == 1 and fz >= c.l1:
            # rising edge after a flight: L1 crossing (interpolated)
            prev = rings[RING.fz, (m - 1) & mask]
            frac = (c.l1 - prev) / (fz - prev) if fz != prev else 0.0
            st.t_rise1 = m - 1 + frac
            st.rise1_slope = fz - prev
            st.rise_broken = 0
            st.phase = 2
            ph = 2
        if ph == 2 and fz < c.l1:
            if st.rise_broken == 0:
                st.t_break = m
            st.rise_broken = 1
        if ph == 2 and fz >= c.l2:
            prev = rings[RING.fz, (m - 1) & mask]
            frac = (c.l2 - prev) / (fz - prev) if fz != prev else 0.0
            t2 = m - 1 + frac
            # a spike's own edge: its L1 crossing extrapolated to the flight's level
            t_spike = -1e18
            if st.rise1_slope > 0.0:
                t_spike = _edge_at(st.t_rise1, c.l1, st.rise1_slope, st.flight_base, c.l1)
            # a rise that steepens sharply at L2 is a bump, then the loading: a loading from a
            # flight is straight or flattens as it rises (spring-mass: a half sine)
            convex = (fz - prev) * (t2 - st.t_rise1) > c.rise_steepening * (c.l2 - c.l1)
            slow = t2 - st.t_rise1 > c.rise_max or convex
            spike = (st.rise_broken == 1 and st.t_rise1 - t_spike <= c.spike_edge_max
                     and st.t_break - st.t_rise1 <= c.spike_max)
            if spike:
                # an impact spike (steep and brief) crossed L1, fell back, and the loading reached L2
                # only later (a long contact's loading may take more than rise_max): the line
                # through both crossings would start far before the contact; the spike's own edge
                # is the contact
                tic = t_spike
            elif (slow or st.rise_broken == 1) and fz > prev:
                # L1 was crossed too long before L2 for one loading edge, by a rise that steepens
                # at L2, or by a bump too shallow or too long for an impact spike (a sprinter's
                # late-flight bump, as the swing leg is driven down): the loading's own edge at L2,
                # extrapolated to the flight's level
                tic = _edge_at(t2, c.l2, fz - prev, st.flight_base, c.l1)
            else:
                tic = _to_baseline(st.t_rise1, t2, st.flight_base, c.l1, c.l2)
            if m - st.t_rise1 <= c.rise_max:
                st.pend_tic = tic  # confirmed (or not) once fz has held above L1 for rise_max
                tic = NO_CONTACT
            st.phase = 3
            st.contact_n = 0
            st.t_fall2 = -1.0
        st.flight_n = 0
        st.flight_sum = 0.0
    return tic


@inline_kernel
def contact_and_toe_off(c, st, rings, fz, m, mask):
    """During a contact: the falling edge's L2 and L1 crossings give the toe-off (``t_toe_off``)."""
    if st.phase != 3:
        return
    st.contact_n += 1
    prev = rings[RING.fz, (m - 1) & mask]
    if prev < c.l2 and fz >= c.l2:
        st.contact_n = 0  # (re)loading: a toe-off is a falling edge at least 60 ms after it
    if st.contact_n > int(0.06 * c.fs):
        if prev >= c.l2 and fz < c.l2:
            st.t_fall2 = m - 1 + (prev - c.l2) / (prev - fz)
        if st.t_fall2 >= 0 and prev >= c.l1 and fz < c.l1:
            td1 = m - 1 + (prev - c.l1) / (prev - fz)
            st.t_toe_off = _to_baseline(td1, st.t_fall2, st.flight_base, c.l1, c.l2)
            st.phase = 0

"""The gait engine: one causal pass per sample composing the core's kernels; arrays in, steps out.

Input: uniformly resampled samples in the SENSOR frame (acc = specific force in m/s², gyr in
rad/s, a flag per sample), the sensor->pelvis rotation and the gyro bias from calibration. The
engine works in the pelvis frame (x forward, y left, z up) and emits finished steps as
``state.STEP_ROW`` records. Everything is causal with a fixed, bounded look-ahead, so the same
function serves the batch face (one call over the recording) and the streaming face (one call
per chunk): all that carries over lives in the settings/state records and the rings, and the
output does not depend on how the input was chunked.

Per sample:
1. ``orientation`` — quaternion integration, tilt correction towards the stride-averaged support;
   angles and earth-frame signals into the rings;
2. ``smoothers`` — the walking and slope smoothers of vertical acceleration;
3. ``contacts_run`` — flight, rise, contact (and toe-off);
4. ``contacts_walk`` — peaks of smoothed vertical acceleration, refined to the contact;
5. ``steps`` — a contact closes a step: metrics (``step_metrics``), side (``side_model``), a
   missed contact repaired; a bout that stops is closed with a terminal step.
"""

from __future__ import annotations

from gaitmon.core.contacts_run import contact_and_toe_off, flight_and_rise
from gaitmon.core.contacts_walk import walking_contact
from gaitmon.core.jit import engine_kernel
from gaitmon.core.orientation import orientation_sample
from gaitmon.core.params import NO_CONTACT
from gaitmon.core.smoothers import box3, box3_delay
from gaitmon.core.state import RING
from gaitmon.core.steps import accept_contact, close_if_stopped


@engine_kernel
def run_engine(settings, state, rings, blk, out, R, bias):
    """Process samples and write finished steps into ``out``.

    settings, state: 1-element ``state.SETTINGS`` / ``state.STATE`` arrays; rings: (len(RING), ring);
    blk: (n,8) rows of t (s), acc x/y/z (m/s², SENSOR frame), gyr x/y/z (rad/s, sensor frame),
    flag (0 ok, 1 inside a gap (interpolated), 2 saturated); out: ``state.STEP_ROW`` array;
    R: (3,3) sensor->pelvis rotation (v_pelvis = R @ v_sensor); bias: (3,) gyro bias, rad/s,
    sensor frame. Returns the number of rows written to ``out``.
    """
    c = settings[0]
    st = state[0]
    mask = c.ring - 1
    nout = 0
    wb = c.walk_box
    ws = c.slope_box
    wr = c.run_box
    dw = box3_delay(wb)  # delay of the walking smoother
    dsl = box3_delay(ws)  # delay of the slope smoother
    drn = box3_delay(wr)  # delay of the running-cadence smoother
    for k in range(blk.shape[0]):
        m = st.n
        j = m & mask
        fz = orientation_sample(c, st, rings, blk, k, R, bias, m, j, mask)
        box3(st.walk_sums, rings, RING.av, RING.walk1, RING.walk2, RING.walk, m, j, wb, mask)
        box3(st.slope_sums, rings, RING.av, RING.slope1, RING.slope2, RING.slope, m, j, ws, mask)
        box3(st.run_sums, rings, RING.av, RING.run1, RING.run2, RING.run, m, j, wr, mask)
        # the toe-off first: the sample that ends a contact may already be below the flight level
        contact_and_toe_off(c, st, rings, fz, m, mask)
        tic = flight_and_rise(c, st, rings, fz, m, mask)
        if tic != NO_CONTACT:
            nout = accept_contact(c, st, rings, tic, m, out, nout)
        tic = walking_contact(c, st, rings, m, mask, dw, dsl, drn)
        if tic != NO_CONTACT:
            nout = accept_contact(c, st, rings, tic, m, out, nout)
        nout = close_if_stopped(c, st, rings, m, out, nout)
        st.n = m + 1
    return nout

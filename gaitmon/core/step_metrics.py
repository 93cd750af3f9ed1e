"""Per-step metrics over the rings of one step [ia, ib] (sample indices, both ends included).

Pelvis-frame angles: obliquity (+ = left side up) and tilt (+ = anterior) are kept in the rings as
tan(obliquity) and sin(tilt), so only their extremes are converted to degrees here; rotation (yaw,
deg) range; vertical oscillation (cm) of the sensor by double integration of the earth-frame
vertical acceleration over the step, with the mean velocity and the linear drift of position
removed; the lowest vertical specific force (m/s²: below the flight level = a flight phase); and
whether the step touches an interpolated gap or a saturated sample.
"""

from __future__ import annotations

from gaitmon.core.state import RING
from gaitmon.core.jit import engine_kernel
from gaitmon.core.params import FLAG_GAP, FLAG_SAT


@engine_kernel
def step_extremes(rings, mask, ia, ib):
    """(tan-obliquity max, min, sin-tilt max, min, yaw max, min (deg), min fz (m/s²), gap, sat)."""
    rmax = -1e18
    rmin = 1e18
    pmax = -1e18
    pmin = 1e18
    ymax = -1e18
    ymin = 1e18
    fzmin = 1e18
    gap = False
    sat = False
    for u in range(ia, ib + 1):
        jj = u & mask
        r = rings[RING.roll, jj]
        if r > rmax:
            rmax = r
        if r < rmin:
            rmin = r
        p = rings[RING.pitch, jj]
        if p > pmax:
            pmax = p
        if p < pmin:
            pmin = p
        y = rings[RING.yaw, jj]
        if y > ymax:
            ymax = y
        if y < ymin:
            ymin = y
        fz = rings[RING.fz, jj]
        if fz < fzmin:
            fzmin = fz
        fl = rings[RING.flag, jj]
        if fl == FLAG_GAP:
            gap = True
        elif fl == FLAG_SAT:
            sat = True
    return rmax, rmin, pmax, pmin, ymax, ymin, fzmin, gap, sat


@engine_kernel
def vertical_excursion(rings, mask, ia, ib, dt):
    """Peak-to-peak vertical position (m) over the step from the vertical acceleration ring
    (``RING.av``, m/s²): velocity by integration with its mean removed, position detrended between the ends."""
    npts = ib - ia + 1
    vsum = 0.0
    v = 0.0
    for u in range(ia, ib + 1):
        v += rings[RING.av, u & mask] * dt
        vsum += v
    vmean = vsum / npts
    z = 0.0
    v = 0.0
    # first pass gives the end position for the linear detrend
    for u in range(ia, ib + 1):
        v += rings[RING.av, u & mask] * dt
        z += (v - vmean) * dt
    z_end = z
    z = 0.0
    v = 0.0
    zmax = -1e18
    zmin = 1e18
    cnt = 0
    for u in range(ia, ib + 1):
        v += rings[RING.av, u & mask] * dt
        z += (v - vmean) * dt
        zz = z - z_end * cnt / (npts - 1)
        cnt += 1
        if zz > zmax:
            zmax = zz
        if zz < zmin:
            zmin = zz
    return zmax - zmin

"""Causal Gaussian-like smoothing of a ring signal: three cascaded running boxes.

Three boxes of odd width w (``state.box_width``) approximate a Gaussian of the wanted sigma with a
fixed delay of 3(w-1)/2 samples; each stage is one running sum, so a sample costs six additions.
"""

from __future__ import annotations

from gaitmon.core.jit import engine_kernel


@engine_kernel
def box3_delay(w):
    """Delay (samples) of ``box3`` with boxes of width ``w``."""
    return 3 * (w - 1) // 2


@engine_kernel
def box3(sums, rings, src, stage1, stage2, dst, m, j, w, mask):
    """Three cascaded running boxes of width ``w`` over ring row ``src`` at sample m (ring slot j).

    ``sums`` (3,) holds the stages' running sums; the first two stages' outputs go to ring rows
    ``stage1``, ``stage2`` (the next stage's input), the result to row ``dst``. Returns it."""
    x = rings[src, j]
    old = rings[src, (m - w) & mask] if m >= w else 0.0
    sums[0] += x - old
    x = sums[0] / w
    rings[stage1, j] = x
    old = rings[stage1, (m - w) & mask] if m >= w else 0.0
    sums[1] += x - old
    x = sums[1] / w
    rings[stage2, j] = x
    old = rings[stage2, (m - w) & mask] if m >= w else 0.0
    sums[2] += x - old
    x = sums[2] / w
    rings[dst, j] = x
    return x

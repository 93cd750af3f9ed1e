"""Step length, speed and distance from what one sacral IMU gives per step (documented models).

One sacral IMU does not measure speed. gaitmon estimates it as ``cadence × step length``:

- **walking** — the inverted-pendulum model of Zijlstra & Hof (2003, Gait Posture 18:1):
  ``step_length = K · 2·sqrt(2·l·h − h²)`` with ``h`` the vertical excursion of the pelvis over the
  step (the per-step ``vertical_oscillation_cm``), ``l`` the leg length (m, default 0.90,
  configurable) and ``K = 1.25`` (their correction factor). Typical error ±10 % per walk.
- **running** — the pendulum model does not hold (flight phase). Without a known step length gaitmon
  uses ``step_length = 1.3 · l`` (≈ 1.17 m for a 0.90 m leg: typical of easy running at
  ~3.3 m/s, 170 steps/min); the user can give their own (``--step-length``, e.g. from a GPS
  watch: distance / steps). Speed then only follows cadence, so the report does **not** show
  "drop vs speed" for running unless a step length was given; distance is a rough (±20 %) scale.
"""

from __future__ import annotations

import numpy as np

ZIJLSTRA_K = 1.25
RUN_STEP_PER_LEG = 1.3
DEFAULT_LEG_M = 0.90


def step_length_m(vertical_oscillation_cm, activity, *, leg_length_m: float = DEFAULT_LEG_M,
                  run_step_length_m: float | None = None) -> np.ndarray:
    """Per-step length estimate (m) from vertical oscillation (cm) and activity ('walk'/'run')."""
    h = np.asarray(vertical_oscillation_cm, float) / 100.0
    act = np.asarray(activity)
    l = float(leg_length_m)
    if not l > 0:
        raise ValueError("leg length must be > 0 m")
    h = np.clip(h, 0.0, l)
    walk = ZIJLSTRA_K * 2.0 * np.sqrt(np.maximum(2 * l * h - h * h, 0.0))
    run = np.full(h.shape, run_step_length_m if run_step_length_m else RUN_STEP_PER_LEG * l)
    out = np.where(act == "run", run, walk)
    out[~np.isfinite(np.asarray(vertical_oscillation_cm, float)) & (act != "run")] = np.nan
    return out


def speed_mps(cadence_spm, step_len_m) -> np.ndarray:
    """Speed (m/s) = cadence (steps/min) / 60 × step length (m)."""
    return np.asarray(cadence_spm, float) / 60.0 * np.asarray(step_len_m, float)


def cumulative_distance_m(step_len_m) -> np.ndarray:
    """Distance (m) covered at the START of each step (first step = 0); NaN lengths count 0."""
    sl = np.nan_to_num(np.asarray(step_len_m, float), nan=0.0)
    return np.concatenate([[0.0], np.cumsum(sl)[:-1]]) if len(sl) else sl

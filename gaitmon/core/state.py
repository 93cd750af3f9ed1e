"""Named state of the gait engine: NumPy structured records that the Numba kernels read by field.

Three records and one set of rings make a session's engine:

- ``SETTINGS`` — fixed for the session: sample rate, gravity, gains, window lengths in samples
  and every tunable of ``params`` (copied here so that the kernels do not compile them in);
- ``STATE`` — what the engine carries from one sample to the next, grouped by the module that
  owns it (orientation, smoothers, running contacts, walking contacts, steps, sides);
- ``STEP_ROW`` — one finished step as the engine emits it (converted to ``types.Step`` by the
  streaming analyzer);
- ``rings`` — per-sample signals of the last seconds (power-of-two ring buffers, index
  ``sample & (ring - 1)``) that the step metrics and detectors look back into.

Adding a state variable is one line in ``STATE``. The records are 1-element arrays; kernels take
element 0 (a view: writes persist) and Numba caches the field offsets.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from gaitmon.core import params as P

f8, i8 = np.float64, np.int64

SETTINGS = np.dtype([
    ("fs", f8), ("dt", f8),  # sample rate, Hz; its period, s
    ("g", f8),  # local gravity from calibration, m/s²
    ("quality_cal", f8),  # calibration quality factor (0..1) applied to every step
    ("ring", i8),  # ring length (samples, a power of two)
    # orientation
    ("k_obliquity", f8), ("k_tilt", f8),  # tilt-correction gains about heading / left axis, 1/s
    # running contacts
    ("l1", f8), ("l2", f8), ("flight_level", f8),  # vertical specific-force levels, m/s²
    ("flight_min", i8),  # minimum flight, samples
    ("rise_max", f8),  # a contact's loading takes fz from L1 to L2 within this, samples
    ("rise_steepening", f8),  # a rise this much steeper at L2 than on average from L1 is a bump, then the loading
    ("spike_edge_max", f8),  # an impact spike's edge spans at most this from the flight level to L1, samples
    ("spike_max", f8),  # and it stays above L1 at most this long, samples
    ("impact_rise", f8),  # grounded running: an impact spike rises (and falls) at least this, m/s²
    ("impact_edge_n", i8), ("impact_fall_n", i8),  # ... within these (samples: spike_edge_max, spike_max)
    ("run_step_s", f8),  # steps shorter than this are running, s
    ("run_step_lo", f8), ("run_step_hi", f8),  # plausible running step times, samples
    ("grounded_valley_u", f8),  # grounded running: the contact this many steps before the valley
    # walking contacts
    ("walk_box", i8), ("slope_box", i8), ("run_box", i8),  # box widths of the three smoothers, samples
    ("peak_back", i8), ("peak_ahead", i8),  # peak test look-back / look-ahead, samples
    ("prom_min", f8), ("prom_rel", f8),  # peak prominence: minimum (m/s²), relative to recent peaks
    # step plausibility, deg
    ("max_obliquity_range_deg", f8), ("max_tilt_range_deg", f8),
    # left/right (see params and sides.py)
    ("side_phase", f8),  # yaw-rate template phase, rad
    ("orate_u0", f8), ("orate_u1", f8),  # walking obliquity-rise window, fractions of the step
    ("run_peak_u", f8),  # running obliquity template peak, fraction of the step
    ("sigma_walk_deg", f8), ("sigma_run_deg", f8), ("sigma_yaw_deg", f8),  # evidence scales, deg
    ("sigma_ml", f8),  # walking sideways-force cue: evidence scale, m/s²
    ("yaw_reversed_prior", f8), ("obliquity_reversed_prior", f8),  # pattern priors at a bout start
    ("run_obliquity_reversed_prior", f8),  # ... of a bout that starts running (this runner's, if learned)
    ("cue_decay", f8),  # memory of the obliquity cue's reliability statistics
    ("llr_max", f8),  # clip of one cue's log-likelihood ratio
    ("eps_regular", f8), ("eps_irregular", f8),  # P(alternation broken) between steps
    ("step_dev", f8),  # relative step-time deviation that makes a step irregular
    ("turn_deg", f8),  # heading change over a step beyond which it carries no side evidence
], align=True)

STATE = np.dtype([
    ("n", i8),  # samples processed
    # orientation (pelvis -> earth quaternion; stride box of earth-frame specific force)
    ("q0", f8), ("q1", f8), ("q2", f8), ("q3", f8),
    ("yaw", f8),  # unwrapped heading, rad
    ("box_x", f8), ("box_y", f8), ("box_z", f8),  # box sums, m/s²
    ("box_len", i8), ("box_n", i8),  # box length wanted / samples in it
    # smoothers: running sums of the three cascaded boxes each
    ("walk_sums", f8, (3,)), ("slope_sums", f8, (3,)), ("run_sums", f8, (3,)),
    # running contacts
    ("phase", i8),  # 0 unknown/after toe-off, 1 flight, 2 rising (after L1), 3 contact
    ("flight_n", i8), ("flight_sum", f8),  # consecutive samples below the flight level, their sum
    ("flight_base", f8),  # mean vertical specific force during the last flight, m/s²
    ("t_rise1", f8),  # L1 up-crossing after the flight (sample units)
    ("rise1_slope", f8),  # fz slope at that crossing, m/s² per sample
    ("rise_broken", i8),  # 1 if fz fell back below L1 before reaching L2 (an impact spike first)
    ("t_break", f8),  # when fz first fell back below L1 after the L1 crossing (sample units)
    ("ringing", i8),  # 1 while fz is below the flight level right after an impact spike (not a flight)
    ("pend_tic", f8),  # a contact found at its L2 crossing, waiting rise_max after L1 (-1 = none)
    ("t_fall2", f8),  # L2 down-crossing in contact (sample units), -1 = none yet
    ("t_toe_off", f8),  # last toe-off (sample units)
    ("fl_start", f8, (4,)), ("fl_end", f8, (4,)), ("fl_k", i8),  # the last 4 flights (samples), how many
    ("contact_n", i8),  # samples since the contact began
    # walking contacts
    ("peak_ema", f8),  # EMA of recent peak prominences, m/s²
    # steps
    ("last_ic", f8), ("prev_ic", f8),  # last / previous accepted contact (sample units), -1 = none
    ("terminal_done", i8),  # 1 once the last contact of a bout was closed as a terminal step
    ("step_typ", f8),  # typical step time in the bout: median of its last steps, samples
    ("step_hist", f8, (5,)), ("step_hist_n", i8),  # the bout's last 5 step times (ring), how many
    ("bout_step", i8),  # steps in the current bout
    ("bout_ro", f8),  # P(obliquity pattern reversed) the current bout started with
    ("stride", i8),  # global step index
    ("bout_id", f8),  # bout counter (a bout = steps whose sides alternate)
    ("reset", i8),  # request: forget the last contact (after a long gap)
    ("reset_at", f8),  # ... from this engine sample on (the first after the gap)
    # sides: how reliably this person's walking obliquity cue alternates (EMAs of the lag-1 product
    # and of the square of the cue), the previous cue, and the 16 side-model state probabilities
    # (side_model.N_SIDE_STATES)
    ("cue_c", f8), ("cue_s", f8), ("cue_prev", f8), ("cue_have", i8),
    ("side_p", f8, (16,)),
], align=True)

STEP_ROW = np.dtype([
    ("t", f8),  # contact, fractional engine sample index (the analyzer maps it to recording time)
    ("side", f8),  # +1 left, -1 right (filtered)
    ("step_time", f8),  # s
    ("cadence", f8),  # steps/min
    ("contact_time", f8),  # s (running with a toe-off inside the step), else NaN
    ("drop", f8),  # contralateral pelvic drop, deg
    ("obliquity_range", f8), ("tilt_range", f8), ("rotation_range", f8),  # deg
    ("vertical_oscillation", f8),  # cm
    ("running", f8),  # 1 running, 0 walking
    ("quality", f8),  # 0..1
    ("stride", i8),  # global step index
    ("emitted", f8), ("end", f8),  # sample index at emission; end of the step (sample units)
    ("bout", f8),  # bout id
    ("obliquity_max", f8), ("obliquity_min", f8),  # over the step, deg
    ("llr_obliquity", f8), ("llr_yaw", f8), ("llr_ml", f8),  # side evidence, log-likelihood ratio L:R
    ("eps", f8),  # P(alternation broken) before this step
    ("p_left", f8),  # filtered P(left)
    ("yaw_reversed_prior", f8),  # P(yaw pattern reversed) at the bout start
    ("obliquity_reversed_prior", f8),  # P(obliquity pattern reversed) at the bout start
    ("cue_reliability", f8),  # scale given to the walking obliquity evidence
], align=True)

#: Ring buffers: rows of one (rows, SETTINGS.ring) array, named here (numbered automatically, a new
#: ring is one more name): earth-frame vertical acceleration ``av`` (m/s², gravity removed) and
#: specific force ``fz``; ``roll`` = tan(obliquity), ``pitch`` = sin(tilt), ``yaw`` deg; sample
#: ``flag``; earth-frame specific force ``fe_x/y/z`` (tilt-correction box); the walking smoother's
#: stages ``walk1, walk2`` and output ``walk``; the slope smoother's ``slope1, slope2, slope``; the
#: running-cadence smoother's ``run1, run2, run``.
#: Kernels index ``rings[RING.av, j]`` (one array: no per-row reference counting in the loop).
RingRows = namedtuple("RingRows", "av fz roll pitch yaw flag fe_x fe_y fe_z walk1 walk2 walk slope1 slope2 slope "
                                   "run1 run2 run")
RING = RingRows(*range(len(RingRows._fields)))


def box_width(sigma_samples: float) -> int:
    """Width (odd, samples) of each of three cascaded boxes approximating a Gaussian of ``sigma``."""
    w = int(round(math.sqrt(4.0 * sigma_samples * sigma_samples + 1.0)))
    if w % 2 == 0:
        w += 1
    return max(w, 1)


def new_state(fs: float, g_local: float, quality_cal: float, ring_seconds: float = 6.0, params: dict | None = None,
              run_pattern_reversed: float | None = None):
    """Settings, state and rings for sample rate ``fs`` (Hz), local gravity (m/s²) and the
    calibration's quality factor (0..1); ``params`` overrides entries of ``params.PARAMS``
    (unknown names are an error); ``run_pattern_reversed``: P(this runner's running drop pattern
    is reversed — the stance side drops) for bouts that start running, learned from earlier runs
    anchored by walking (``sides.run_pattern_prior``; None: the population prior). Returns
    (settings (1,) ``SETTINGS``, state (1,) ``STATE``, rings (len(RING), ring))."""
    p = dict(P.PARAMS)
    if params:
        unknown = set(params) - set(P.PARAMS)
        if unknown:
            raise ValueError(f"unknown engine parameter(s): {sorted(unknown)}")
        p.update(params)
    rb = 1
    while rb < ring_seconds * fs:
        rb *= 2
    cfg = np.zeros(1, SETTINGS)
    c = cfg[0]
    c["fs"], c["dt"], c["g"], c["quality_cal"], c["ring"] = fs, 1.0 / fs, g_local, quality_cal, rb
    c["k_obliquity"], c["k_tilt"] = P.K_TILT, P.K_PITCH
    c["l1"], c["l2"], c["flight_level"], c["run_step_s"] = P.L1, P.L2, P.FLIGHT_LEVEL, P.RUN_STEP_S
    c["grounded_valley_u"] = P.GROUNDED_VALLEY_U
    c["run_step_lo"], c["run_step_hi"] = P.RUN_STEP_RANGE_S[0] * fs, P.RUN_STEP_RANGE_S[1] * fs
    c["flight_min"] = max(int(round(P.FLIGHT_MIN_S * fs)), 2)
    c["rise_max"] = P.RISE_MAX_S * fs
    c["spike_edge_max"] = P.SPIKE_EDGE_MAX_S * fs
    c["spike_max"] = P.SPIKE_MAX_S * fs
    c["impact_rise"] = P.IMPACT_RISE
    c["impact_edge_n"] = max(int(P.SPIKE_EDGE_MAX_S * fs + 0.5), 1)
    c["impact_fall_n"] = max(int(P.SPIKE_MAX_S * fs + 0.5), 1)
    c["rise_steepening"] = P.RISE_STEEPENING
    c["walk_box"] = box_width(p["walk_sigma_s"] * fs)
    c["slope_box"] = box_width(p["slope_sigma_s"] * fs)
    c["run_box"] = box_width(p["walk_sigma_s"] * P.RUN_STEP_OVER_WALK * fs)
    c["peak_back"] = max(int(round(P.PEAK_BACK_S * fs)), 2)
    c["peak_ahead"] = max(int(round(P.PEAK_AHEAD_S * fs)), 2)
    c["prom_min"], c["prom_rel"] = p["prom_min"], p["prom_rel"]
    c["max_obliquity_range_deg"], c["max_tilt_range_deg"] = P.MAX_GAIT_OBLIQUITY_RANGE_DEG, P.MAX_GAIT_TILT_RANGE_DEG
    c["side_phase"], c["orate_u0"], c["orate_u1"] = p["side_phase"], p["side_orate_u0"], p["side_orate_u1"]
    c["run_peak_u"] = p["side_run_peak_u"]
    c["sigma_walk_deg"], c["sigma_run_deg"] = p["side_sigma_walk_deg"], p["side_sigma_run_deg"]
    c["sigma_yaw_deg"] = p["side_sigma_yaw_deg"]
    c["sigma_ml"] = p["side_sigma_ml"]
    c["yaw_reversed_prior"] = p["side_yaw_reversed_prior"]
    c["obliquity_reversed_prior"] = p["side_obliquity_reversed_prior"]
    c["run_obliquity_reversed_prior"] = (p["side_obliquity_reversed_prior"] if run_pattern_reversed is None
                                         else float(run_pattern_reversed))
    c["cue_decay"], c["llr_max"] = P.SIDE_CUE_DECAY, P.SIDE_LLR_MAX
    c["eps_regular"], c["eps_irregular"] = P.SIDE_EPS_REGULAR, P.SIDE_EPS_IRREGULAR
    c["step_dev"], c["turn_deg"] = P.SIDE_STEP_DEV, P.SIDE_TURN_DEG

    st = np.zeros(1, STATE)
    s = st[0]
    s["q0"] = 1.0
    s["box_len"] = max(int(round(P.BOX_S * fs)), 4)
    s["t_rise1"] = -1.0
    s["pend_tic"] = -1.0
    s["t_fall2"] = -1.0
    s["t_toe_off"] = -1e18
    s["peak_ema"] = 2.0
    s["last_ic"] = -1.0
    s["prev_ic"] = -1.0
    # prior of the obliquity cue's alternation: as if ~10 steps of 2° had been seen, lag-1
    # correlation -0.9 (a sign right for 97 % of steps, issue 11: -(2p-1)^2)
    s["cue_s"] = 4.0
    s["cue_c"] = -0.9 * 4.0
    rings = np.zeros((len(RING), rb))
    return cfg, st, rings


def ring_angles_deg(rings: np.ndarray, idx):
    """(obliquity, tilt) in degrees (pelvis frame) at ring positions ``idx`` (diagnostics, benchmarks)."""
    return np.degrees(np.arctan(rings[RING.roll, idx])), np.degrees(np.arcsin(rings[RING.pitch, idx]))

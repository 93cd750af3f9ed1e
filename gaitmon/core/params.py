"""The gait engine's constants and data-chosen parameters, with units and where they come from.

The kernels do not compile these in: ``state.new_state`` copies them into the session's settings
record, so a changed value here (or an override through ``PARAMS``) reaches every kernel without
stale JIT caches. Only the fixed codes and physical constants at the top are compiled in.
"""

from __future__ import annotations

import math

# ---- fixed codes and physical constants (compiled into the kernels)
G0 = 9.80665  # standard gravity, m/s²
RAD2DEG = 180.0 / math.pi
FLAG_GAP = 1.0  # sample flag: interpolated across a raw hole
FLAG_SAT = 2.0  # sample flag: next to a saturated raw sample
NO_CONTACT = -1e18  # "no contact at this sample" from a detector
REPAIRED = 0.5  # quality factor of the two halves of a step split at a missed contact
CLOSING = 0.6  # quality factor of the step that ends at a walk's closing contact (found late, weakly)
TERMINAL = 0.4  # quality factor of a bout's last step, closed over one typical step (its end is no contact)
STANDING = 0.3  # ... the same, from a closing contact (the walker is standing: no step to measure)

# ---- orientation
K_TILT = 2.0  # obliquity-correction gain towards the stride-averaged support direction, 1/s
K_PITCH = 0.25  # tilt-correction gain, 1/s: gentler — a ranges-only quantity, forward accelerations are large
BOX_S = 1.0  # initial tilt-correction box (s), matched to one stride once steps are found

# ---- running contacts (vertical specific force in the earth frame, m/s²)
L1 = 0.45 * G0  # rise level 1
L2 = 0.90 * G0  # rise level 2
FLIGHT_LEVEL = 0.30 * G0  # below: flight
FLIGHT_MIN_S = 0.03  # a flight lasts at least this long (s); shorter dips are impact ringing
# a contact's loading takes the vertical specific force from L1 to L2 within this (s): a half-sine
# force (spring-mass) with contact 0.95 of a 0.4 s step does it in ~36 ms, an impact faster; a slower
# "rise" is a bump in the flight (a sprinter's swing leg driven down before touchdown lifts the
# pelvis to ~0.5-0.9 g) followed by the loading; and a contact counts once fz has held above L1
# this long (a bump that reached L2 and fell back is not one: the step rows leave 60 ms later).
# Not fitted: running <= 5 m/s and the population are unchanged or better with it
# (benchmarks/README.md §7)
RISE_MAX_S = 0.06
# an impact spike (one that crosses L1 and falls back before the loading reaches L2) is steep: its
# edge, extrapolated from the L1 crossing down to the flight's level, spans at most this (s). In the
# population the spikes' edges span 0-20 ms (a few 20-70); the 7 m/s late-flight bumps 24-55 ms, and
# one such bump reaching L2 59 ms before the loading was taken for a spike. Chosen on those two;
# population seeds 2-5 and running <= 5 m/s (not looked at for it) unchanged or better
SPIKE_EDGE_MAX_S = 0.025
# ... and brief: above L1 for at most this (s) before it falls back. Population impact spikes
# (seeds 1 and 8): median 21-23 ms, p99 29-31 ms, max 34/43 ms; the 7 m/s bumps at 52 Hz: 37-70 ms.
# A spike that is steep and brief is the contact even when the loading then takes longer than
# RISE_MAX_S to reach L2 (a long contact: population runners with contact 0.92 of the step)
SPIKE_MAX_S = 0.035
# a rise from a flight whose slope at L2 is more than this many times its mean slope since L1 is a
# bump that merged into the loading (a loading from a flight is straight or flattens: a half sine):
# the contact is the loading's own edge at L2. At 52 Hz two 7 m/s bumps stayed above L1 into the
# loading, 55 ms from L1 to L2 (contacts 100 ms early). 2 and 3 gave the same figures; 3 kept.
# Population seeds 1-5 unchanged but seed 5's runners with flight (0.995 -> 0.998); running
# <= 5 m/s ICs within 3 ms
RISE_STEEPENING = 3.0
# an impact spike in running without a flight: a local maximum of the vertical specific force that
# rose at least this (m/s²) within SPIKE_EDGE_MAX_S and falls back as much within SPIKE_MAX_S — the
# landing foot's impact transient, the contact's own mark. Its onset is the contact (the unloading
# valley is pulled late by the impact's rebound: +60 ms for a jogger at 52 Hz), and, with no flight
# in the last second, a dip below the flight level right after one (the rebound) is not a flight.
# 0.1 g chosen on population seed 1 (mean per-jogger IC F1 0.977 -> 0.997; 0.15 g 0.995, 0.2 g
# 0.992, 0.3 g 0.980); held out: seeds 2-8, a band-limited sensor (benchmarks/README.md §6)
IMPACT_RISE = 0.1 * G0
RUN_STEP_S = 0.42  # steps shorter than this (s) are running, with or without a flight phase
# plausible running step times (s), for the first steps of a run after a walk (its cadence changes
# with it): 120-300 steps/min, a slow jog to a sprint (running cadence studies report 150-200 at
# endurance speeds, e.g. Heiderscheit et al. 2011; sprinters reach ~4.5-5 steps/s)
RUN_STEP_RANGE_S = (0.20, 0.50)
# running without a flight: each foot's force is one hump (spring-mass), so the summed force is
# lowest in the middle of the double support, which lasts (c - 1) steps for a contact of c steps;
# grounded running has c = 1.07-1.2 (duty factor 0.53-0.6: Bonnaerens et al. 2019 Med Sci Sports
# Exerc 51:708) -> the contact lies ~0.07 step before the unloading valley
GROUNDED_VALLEY_U = 0.07

# ---- walking contacts
WALK_SIGMA_S = 0.10  # Gaussian smoothing of vertical acceleration (s), as 3 cascaded boxes
# at a running cadence (steps < RUN_STEP_S) the same smoothing per step: the walking sigma scaled by
# a running step over a walking one (~0.33 s at 180 steps/min over ~0.55 s at 110; not fitted). With
# the walking smoothing at a running cadence a 0.1 s Gaussian keeps ~14 % of a 3.2 Hz step rhythm, so
# a runner's left/right asymmetry (stride frequency) outweighed it: steps were merged or missed
RUN_STEP_OVER_WALK = 0.6
SLOPE_SIGMA_S = 0.03  # smoothing of the signal whose slope refines the contact (s)
PEAK_BACK_S = 0.20  # peak test look-back (s) — also the contact-refinement window
PEAK_AHEAD_S = 0.15  # peak test look-ahead (s)
PROM_MIN = 0.3  # minimum peak prominence, m/s²
PROM_REL = 0.15  # prominence relative to the EMA of recent peak prominences

# ---- step plausibility (deg): beyond these ranges the step is a transfer or a turn on the spot
MAX_GAIT_OBLIQUITY_RANGE_DEG = 25.0
MAX_GAIT_TILT_RANGE_DEG = 30.0

# ---- left/right (see gaitmon/core/sides.py for the evidence on real data and the held-out figures)
# phase (rad) of the yaw-rate template -cos(pi*u + phase): the pelvis' yaw rate is negative at a
# LEFT contact in walking (McCamley 2012). Chosen on real walking (tests/core/real_data.py LOPO_GRID)
SIDE_PHASE = 0.0
# walking: obliquity rise from 5 % to 35 % of the step (the swing side starts to drop after contact:
# left side rising after a LEFT contact); the end chosen on the seven real walkers (LOPO_GRID)
SIDE_ORATE_U0 = 0.05
SIDE_ORATE_U1 = 0.35
# running: the swing side is lower in early stance — obliquity (stride mean removed) projected on
# cos(pi*(u - SIDE_RUN_PEAK_U)) over the step
SIDE_RUN_PEAK_U = 0.25
SIDE_SIGMA_WALK_DEG = 1.0  # walking obliquity-rate cue: evidence scale (deg) -> log-likelihood ratio
SIDE_SIGMA_YAW_DEG = 3.0  # walking yaw cue: evidence scale (deg)
SIDE_SIGMA_RUN_DEG = 1.0  # running: obliquity-level evidence scale (deg)
# walking: the pelvis' sideways specific force over the 0.6 of a step before a contact points to the
# landing foot (in single stance the ground pushes the body toward the other foot): 98.7 % of the
# core's walking steps on the seven real walkers, >= 93.0 % per person (window chosen among six on
# them, the best in every leave-one-out fold; `python -m benchmarks side_cues`). Evidence scale,
# m/s² (the cue's median 0.8): fixed a priori, not in the grid (0.3: HA001 held out 90.4 %)
SIDE_SIGMA_ML = 0.5
# prior probability that a person's sideways-force pattern is reversed: it held for all seven real
# walkers, but a medio-lateral acceleration cue was right for only 75 % of 19 walkers in issue 11
# (its window not stated), so it gets its own pattern state with the yaw's prior; not fitted
SIDE_ML_REVERSED_PRIOR = 0.1
# the sideways-force cue removes the part of the sideways acceleration that the pelvis' own rotation
# (yaw) makes at a sacral sensor behind the rotation axis: a_y = -d * yaw acceleration. d = 0.11 m:
# the hip joint centres lie ~30 % of the inter-ASIS width behind the ASIS (Bell et al. 1990), ~9 cm
# in front of the PSIS, plus ~2 cm to a sensor on the sacral skin; not fitted (0.08/0.12/0.16 m give
# 98.8/98.6/98.3 % of steps on the real walkers, 98.2 % without; simulated seed-1 walkers 100 % at
# all three, 98.5 % without — one walker, #187, at 0 %: its sideways force is dominated by the
# rotation, and with its yaw cue reversed too the bout was mirrored)
SENSOR_BEHIND_YAW_AXIS_M = 0.11
# prior probability that a person's yaw pattern is reversed (yaw rate positive at a LEFT contact):
# the yaw-sign rule is at chance for about half of 19 real walkers (issue 11), reversed in some;
# chosen on the seven real walkers (LOPO_GRID: 0.1 or 0.2)
SIDE_YAW_REVERSED_PRIOR = 0.1
# prior probability that a person's obliquity pattern is reversed (the STANCE side drops): 0 of 19
# walkers for the obliquity rate (issue 11), one of the seven here (the Mobilise-D participant)
SIDE_OBLIQUITY_REVERSED_PRIOR = 0.05
SIDE_CUE_DECAY = 0.9  # memory of the obliquity cue's reliability: ~10 step pairs
SIDE_LLR_MAX = 2.0  # one cue of one step alone never makes a side certain (P <= 0.88)
SIDE_EPS_REGULAR = 0.01  # P(alternation broken) between two regular steps
SIDE_EPS_IRREGULAR = 0.3  # ... around an irregular/repaired/turning step (missed or extra contact?)
SIDE_STEP_DEV = 0.3  # a step deviating more than this from the typical step time is irregular
SIDE_TURN_DEG = 30.0  # heading change over one step beyond which its side evidence is ignored

#: Parameters chosen on data, with their defaults; ``new_state(params=...)`` overrides them (the
#: leave-one-person-out evaluation re-chooses them on the training people only).
PARAMS = {
    "walk_sigma_s": WALK_SIGMA_S,
    "slope_sigma_s": SLOPE_SIGMA_S,
    "prom_rel": PROM_REL,
    "prom_min": PROM_MIN,
    "side_phase": SIDE_PHASE,
    "side_orate_u0": SIDE_ORATE_U0,
    "side_orate_u1": SIDE_ORATE_U1,
    "side_run_peak_u": SIDE_RUN_PEAK_U,
    "side_sigma_walk_deg": SIDE_SIGMA_WALK_DEG,
    "side_sigma_run_deg": SIDE_SIGMA_RUN_DEG,
    "side_sigma_yaw_deg": SIDE_SIGMA_YAW_DEG,
    "side_sigma_ml": SIDE_SIGMA_ML,
    "side_yaw_reversed_prior": SIDE_YAW_REVERSED_PRIOR,
    "side_obliquity_reversed_prior": SIDE_OBLIQUITY_REVERSED_PRIOR,
}

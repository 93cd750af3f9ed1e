"""A population of simulated walkers and runners whose physiology is drawn from published ranges.

``draw_person(rng, activity)`` returns a :class:`Person` (the drawn values, plus a few quantities
derived from them for grouping results) whose ``config`` is a :class:`~gaitmon.sim.SimConfig`
ready for :func:`~gaitmon.sim.simulate`. The truth of each session is computed by the simulator
from its own kinematics (``gaitmon.sim.model._truth``); nothing here uses the gait core.

The point of the population is the spread, not a typical person: every parameter is drawn
uniformly (or log-uniformly) over the range reported across people in the literature, so that
the core is tested on the edges of normal physiology as often as on its centre. The sources of
each range are given beside the draw; ``docs/simulator.md`` discusses them.

Conventions (as in ``gaitmon.sim.model``): pelvis frame x forward, y left, z up; obliquity
positive = left side up; a *left step* runs from a left initial contact (IC) to the next (right)
IC; step phase u = 0 at IC, 1 at the next IC.

Rotation phase (``rotation_phase_deg`` = psi): rotation = -s*A*sin(pi*w + psi) (s = +1 in a left
step), so the yaw RATE at a left IC is proportional to -cos(psi):

- family ``A`` (|psi| < 60°): rate negative at a left IC (the McCamley 2012 walking sign; Hamner's
  runners at 2-4 m/s);
- family ``B`` (|psi| > 120°): rate positive at a left IC (the Fukuchi RBDS runners);
- family ``Q`` (otherwise): rotation extreme near the contact, rate at the IC small or of either
  sign from step to step (the textbook walking pattern, e.g. Perry & Burnfield: the pelvis is
  maximally rotated forward on the leading side at IC).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from gaitmon.sim.model import G, SimConfig, obliquity_shape, running_vertical_force

#: sample rates of the sensors gaitmon supports (Polar Verity Sense 52, Movesense 52/104/208 -> 200,
#: generic 100/200 Hz)
SAMPLE_RATES = (52.0, 100.0, 104.0, 200.0)

#: peak-to-peak vertical excursion of the pelvis centre per unit scale of the walking acceleration
#: template and per (step time)² (m/s²·s² -> m), from its Fourier series (double integration)
WALK_TEMPLATE_EXCURSION = 0.06596

#: nominal mounts (forward, up) that clip-on sensors are worn with (sensor axis names)
MOUNTS = (("-z", "+y"), ("+z", "+x"), ("+x", "+z"), ("-y", "+x"))


@dataclass
class Person:
    """One simulated person: the drawn physiology, derived descriptors, and the SimConfig."""

    pid: int
    activity: str  # "run" | "walk"
    fs: float
    cadence_spm: float
    speed_mps: float
    contact_fraction: float  # contact time / step time (running; 0 for walking)
    flight: bool  # running with a flight phase (contact_fraction < 1)
    min_force_g: float  # minimum vertical force between contacts / (m g) (running)
    walk_vo_cm: float  # walking: drawn vertical excursion of the pelvis centre (cm per step)
    drop_left_deg: float
    drop_right_deg: float
    obliquity_peak_frac: float  # fundamental's peak within the step
    obliquity_h3: float
    obliquity_h3_phase_deg: float
    drop_peak_frac: float  # where the drop actually peaks within the step (combined shape)
    obliquity_level_ic: float  # obliquity at the IC / drop (stance side up = +)
    obliquity_rate_ic: float  # d(obliquity)/du at the IC / drop (stance side rising = +)
    rotation_amp_deg: float
    rotation_phase_deg: float
    rotation_family: str  # "A" | "B" | "Q" (see module docstring)
    rotation_h3: float
    tilt_amp_deg: float
    tilt_phase_deg: float
    tilt_gait_deg: float
    sway_m: float
    sway_phase_deg: float
    impact_peak: float
    lever_arm_m: tuple[float, float, float]
    mount_euler_deg: tuple[float, float, float]
    forward: str
    up: str
    seed: int
    config: SimConfig = dataclasses.field(repr=False)

    @property
    def rotation_small(self) -> bool:
        return self.rotation_amp_deg < 2.0

    def row(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("config")
        return d


def rotation_family(phase_deg: float) -> str:
    p = abs((phase_deg + 180.0) % 360.0 - 180.0)
    return "A" if p < 60.0 else ("B" if p > 120.0 else "Q")


def _obliquity_descriptors(peak_frac: float, h3: float, h3_phase_deg: float) -> tuple[float, float, float]:
    """(peak position of the drop in the step, level at IC / drop, rate at IC / drop per unit u)."""
    phi = math.pi * (0.5 - peak_frac)
    p3 = math.radians(h3_phase_deg)
    uu = np.linspace(0.0, 1.0, 2001)
    sh = obliquity_shape(math.pi * uu + phi, h3, p3)
    pk = sh.max()
    rate = math.pi * (math.cos(phi) + 3.0 * h3 * math.cos(3.0 * phi + p3))
    return float(uu[np.argmax(sh)]), float(sh[0] / pk), float(rate / pk)


def draw_person(rng: np.random.Generator, activity: str, *, pid: int = 0, fs: float | None = None,
                duration_s: float = 32.0) -> Person:
    """Draw one person (``activity`` "run" or "walk") from the published ranges.

    ``fs`` fixes the sample rate (else one of :data:`SAMPLE_RATES`); ``duration_s`` is the gait
    duration of the session (5 s of standing before, 2 s after).
    """
    if activity not in ("run", "walk"):
        raise ValueError("activity must be 'run' or 'walk'")
    run = activity == "run"
    U = rng.uniform

    if fs is None:
        fs = float(SAMPLE_RATES[rng.integers(len(SAMPLE_RATES))])

    # ---- cadence and speed
    # Running: 150-200 steps/min across recreational to elite runners and speeds 2.5-5.5 m/s
    # (van Oeveren et al. 2017 PLoS ONE 12:e0184273; Cavanagh & Kram 1989; Dorn et al. 2012
    # J Exp Biol 215:1944: 2.6-3.4 steps/s from 3.5 to 9 m/s). Walking: 90-130 steps/min
    # (Perry & Burnfield 2010: mean 113 steps/min, adults 90-130 at slow to fast speeds).
    if run:
        cadence = U(150.0, 200.0)
    else:
        cadence = U(90.0, 130.0)
    step_t = 60.0 / cadence

    # ---- contact fraction (contact time / step time), running only
    # Contact time 0.17-0.30 s at 3-6 m/s (Nummela et al. 2007 Int J Sports Med 28:655; Dorn 2012)
    # with step times 0.30-0.40 s -> 0.5-0.95 with a flight. Slow jogs (< ~2 m/s) can have no
    # aerial phase at all: 'grounded running' (Bonnaerens et al. 2019 Med Sci Sports Exerc 51:708;
    # Cavagna 2006 J Exp Biol 209:4051: the aerial phase may be nil at very low speeds); these are
    # drawn as contact fraction 1.07-1.20 (short double support; the vertical force between
    # contacts stays at 0.30-0.65 g). One runner in four is a no-flight jogger.
    if run:
        if rng.random() < 0.25:
            cf = U(1.07, 1.20)
            speed = U(1.6, 2.4)
        else:
            cf = U(0.50, 0.95)
            # faster runners have shorter contacts (Nummela 2007): speed from the contact fraction
            speed = float(np.clip(2.2 + (0.95 - cf) / 0.45 * 3.3 + rng.normal(0.0, 0.4), 2.0, 6.0))
        uu = np.linspace(0.0, 1.0, 4001)[:-1]
        min_force = float(running_vertical_force(uu, cf).min() / G)
    else:
        cf = 0.0
        speed = U(0.9, 1.7)  # Perry & Burnfield: 1.0-1.6 m/s slow to fast free walking
        min_force = float("nan")

    # ---- pelvic obliquity (drop per side drawn independently: asymmetry)
    # Running: peak contralateral pelvic drop 3-12° (Bramah et al. 2018 Am J Sports Med 46:3023:
    # healthy and injured runners, the range issue 11 asks for; Schache et al. 1999 Gait Posture
    # 10:30 (review of lumbo-pelvic-hip running kinematics); Perpiñá-Martínez et al. 2023 IJERPH
    # 20:3631: obliquity ROM 7.8-9.3° by IMU). Walking: 2-7° (Kadaba et al. 1990 J Orthop Res
    # 8:383; Perry & Burnfield: ~4-5° drop of the swing side).
    lo, hi = (3.0, 12.0) if run else (2.0, 7.0)
    drop_l, drop_r = U(lo, hi), U(lo, hi)
    # Timing and shape. Walking: the swing side drops right after contact and is lowest at the end
    # of loading response, ~12-20 % of the gait cycle = 0.2-0.4 of the step (Perry & Burnfield;
    # Kadaba 1990): the stance side rises at the IC in nearly everyone (the issue-11 walkers: 97 %
    # of steps). Running: peak drop in early-to-mid stance (Schache 1999; Novacheck 1998 Gait
    # Posture 7:77), while the stride-frequency extreme can sit close to the contact (data of
    # issue 11) -> fundamental peak anywhere 0.0-0.45 of the step, 3rd harmonic up to 35 % of any
    # phase, accepted if the drop's peak lies in the first 55 % of the step and within the first
    # 85 % of the contact, and the swing side is lower than level over the early stance (0.08-0.25
    # of the step).
    for _ in range(1000):
        if run:
            pf, h3, p3 = U(0.0, 0.45), U(0.0, 0.35), U(-180.0, 180.0)
        else:
            pf, h3, p3 = U(0.25, 0.55), U(0.0, 0.30), U(-180.0, 180.0)
        peak_at, level_ic, rate_ic = _obliquity_descriptors(pf, h3, p3)
        phi = math.pi * (0.5 - pf)
        early = obliquity_shape(math.pi * np.linspace(0.08, 0.25, 18) + phi, h3, math.radians(p3))
        if run:
            # the drop peaks during the stance (data contracts: 'during this stance')
            ok = 0.02 <= peak_at <= min(0.55, 0.85 * min(cf, 1.0)) and early.min() > 0
        else:
            # real L5 walking (six people, foot-sensor contacts; docs/simulator.md): at a contact the
            # new stance side is still LOW (0.8-3.4° below the stride mean) and rises steeply through
            # loading response to its peak at 0.3-0.45 of the step — not already up
            ok = 0.25 <= peak_at <= 0.50 and rate_ic > 0 and level_ic <= 0.1
        if ok:
            break
    else:  # pragma: no cover - the acceptance region is large
        raise RuntimeError("no admissible obliquity shape drawn")

    # ---- pelvic rotation (transverse plane): amplitude (half the ROM) log-uniform, so that about a
    # quarter of the people have < 2° and another quarter 2-4° (the hard cases).
    # Running 1-12° (ROM 2-24°: Schache et al. 2002 Hum Mov Sci 21:273; Novacheck 1998; Saunders
    # et al. 2005 Clin Biomech 20:784; Perpiñá-Martínez 2023: ROM 9.7-13.6° by IMU; issue 11:
    # simulated runners with only 2-4° next to 5-8° of drop). Walking 1-8° (ROM 2-16°: Kadaba et
    # al. 1990; Perry & Burnfield: ±4-5°).
    rot_amp = float(math.exp(U(math.log(1.0), math.log(12.0 if run else 8.0))))
    # Phase relative to the contacts: any (person-specific sign of the yaw rate at IC in running:
    # Fukuchi RBDS runners positive at a left IC, Hamner & Delp 2013 runners negative; in walking
    # the yaw-sign rule is at chance for about half of 19 people, issue 11).
    rot_phase = U(-180.0, 180.0)
    rot_h3 = U(0.0, 0.3)
    rot_h3_phase = U(-180.0, 180.0)

    # ---- tilt (sagittal): step-frequency oscillation, amplitude = half its ROM.
    # Running ROM 2-7° (Novacheck 1998: a few degrees, twice per stride; Perpiñá-Martínez 2023:
    # 5.9-6.5° by IMU; in Hamner & Delp s01 (data/real-running IK) the step-frequency component is
    # only 0.1-0.8° with its phase moving between 2 and 3 m/s) -> amplitude 1.0-3.5°, any phase.
    # Walking ROM 1.5-4° (Perry & Burnfield: 2-4°; Kadaba 1990) -> 0.75-2.0°.
    # Mean anterior tilt change from standing to gait 0-8° running, 0-4° walking (Schache et al.
    # 2000 Br J Sports Med 34:279: anterior tilt during running differs by ~20° between runners).
    if run:
        tilt_amp, tilt_gait = U(1.0, 3.5), U(0.0, 8.0)
    else:
        tilt_amp, tilt_gait = U(0.75, 2.0), U(0.0, 4.0)
    tilt_phase = U(-180.0, 180.0)

    # ---- medio-lateral sway of the pelvis: walking 1.5-3 cm amplitude (Perry & Burnfield: ~4 cm
    # side to side), running 0.5-1.5 cm; phase person-specific in running (issue 11: the sacrum
    # accelerates toward the stance side in some runners, away in others).
    if run:
        sway, sway_ph = U(0.005, 0.015), U(-80.0, 80.0)
    else:
        sway, sway_ph = U(0.015, 0.030), U(-45.0, 15.0)

    # ---- walking vertical excursion of the pelvis centre (peak to peak per step), rising with
    # speed: 2.7 cm at 0.7 m/s to 4.8 cm at 1.6 m/s (Orendurff et al. 2004 J Rehabil Res Dev
    # 41:829; cf. Zijlstra & Hof 2003 Gait Posture 18:1), person-to-person SD 0.5 cm, kept in
    # 2.0-5.5 cm (the real lower-back recording the template was measured on has 2.6 cm at its
    # scale 1.3 and 110 steps/min). The template's acceleration is scaled for the drawn excursion
    # at the drawn step time (x ~ a T²).
    if run:
        vo_cm, walk_scale = float("nan"), 1.3
    else:
        vo_cm = float(np.clip(2.7 + (speed - 0.7) * 2.1 / 0.9 + rng.normal(0.0, 0.5), 2.0, 5.5))
        walk_scale = vo_cm / 100.0 / (WALK_TEMPLATE_EXCURSION * step_t**2)

    # ---- impact transient at the sacrum after IC: rear-foot strikers 1-2 g above the active
    # force, forefoot strikers little (Lieberman et al. 2010 Nature 463:531); walking small.
    impact = U(2.0, 12.0) if run else U(0.5, 2.5)

    # ---- sensor placement: on the sacrum 8-18 cm behind the pelvis centre (pelvic depth
    # ASIS-PSIS ~ 15-17 cm, hip centres ~ 22 % of the inter-ASIS width behind the ASIS: Bell et al.
    # 1990 J Biomech 23:617; plus soft tissue and the clip), up to 3 cm off the midline and -5..+8 cm
    # vertically (S1-L5 clips).
    lever = (U(-0.18, -0.08), U(-0.03, 0.03), U(-0.05, 0.08))
    # Clip mount error up to ±40° per axis (the issue-11 target; belt clips on the waistband tilt
    # with the waistband and sit rotated on the sacral slope).
    mount = tuple(float(x) for x in U(-40.0, 40.0, 3))
    fwd, up = MOUNTS[rng.integers(len(MOUNTS))]

    seed = int(rng.integers(1, 2**31 - 1))
    # when the walking pelvis falls toward the swing side: 0.45-0.6 of the step (the L5 walkers ~0.4-0.45,
    # the Mobilise-D walks ~0.6; docs/simulator.md) — drawn from the person's own stream so that the
    # other draws (and every earlier population) stay as they were
    ml_shift = float(np.random.default_rng([seed, 7]).uniform(-0.15, 0.0)) if not run else 0.0
    cfg = SimConfig(
        activity=activity, fs=fs, duration_s=duration_s, stand_before_s=5.0, stand_after_s=2.0, seed=seed,
        cadence_spm=cadence, speed_mps=speed, drop_left_deg=drop_l, drop_right_deg=drop_r,
        drop_sd_deg=U(0.3, 0.8), first_side="L" if rng.random() < 0.5 else "R",
        contact_fraction=cf if run else 0.62, tilt_gait_deg=tilt_gait, tilt_amp_deg=tilt_amp,
        tilt_phase_deg=tilt_phase, rotation_amp_deg=rot_amp, rotation_phase_deg=rot_phase,
        rotation_h3=rot_h3, rotation_h3_phase_deg=rot_h3_phase, obliquity_peak_frac=pf, obliquity_h3=h3,
        obliquity_h3_phase_deg=p3, sway_m=sway, sway_phase_deg=sway_ph,
        walk_acc_scale=walk_scale, impact_peak=impact, forward=fwd, up=up,
        mount_euler_deg=mount, lever_arm_m=lever, walk_ml_fall_shift=ml_shift,
    )
    return Person(
        pid=pid, activity=activity, fs=fs, cadence_spm=cadence, speed_mps=speed, contact_fraction=cf,
        flight=bool(run and cf < 1.0), min_force_g=min_force, walk_vo_cm=vo_cm, drop_left_deg=drop_l, drop_right_deg=drop_r,
        obliquity_peak_frac=pf, obliquity_h3=h3, obliquity_h3_phase_deg=p3, drop_peak_frac=peak_at,
        obliquity_level_ic=level_ic, obliquity_rate_ic=rate_ic, rotation_amp_deg=rot_amp,
        rotation_phase_deg=rot_phase, rotation_family=rotation_family(rot_phase), rotation_h3=rot_h3,
        tilt_amp_deg=tilt_amp, tilt_phase_deg=tilt_phase, tilt_gait_deg=tilt_gait, sway_m=sway,
        sway_phase_deg=sway_ph, impact_peak=impact, lever_arm_m=lever, mount_euler_deg=mount,
        forward=fwd, up=up, seed=seed, config=cfg,
    )


def draw_population(n: int, seed: int = 1, *, duration_s: float = 32.0) -> list[Person]:
    """``n`` people, alternately running and walking, each sample rate equally often, seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        act = "run" if i % 2 == 0 else "walk"
        fs = SAMPLE_RATES[(i // 2) % len(SAMPLE_RATES)]
        out.append(draw_person(rng, act, pid=i, fs=fs, duration_s=duration_s))
    return out

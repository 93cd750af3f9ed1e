"""Population sweep (issue 11 item 5 and its 'Done when' bullet): the gait core on 200 simulated
people whose physiology is drawn from published ranges (``gaitmon.sim.population``, seed 1,
100 running + 100 walking, 50 each at 52/100/104/200 Hz, 32 s of gait each; see
docs/simulator.md). The truth is the simulator's own (``gaitmon.sim.model._truth``).

Targets asserted (not loosened; the issue's bounds):

- sides ≥ 99 % for EVERY person with pelvic rotation ≥ 2° (per person), checked separately for
  each activity and rotation phase family A (yaw rate negative at a left contact), B (positive) and
  Q (rotation extreme at the contact), so either phase relation is covered;
- drop RMSE ≤ 1.0°, both pooled over all matched steps (per activity) and per person (every person);
- IC F1 ≥ 0.98 (±60 ms), pooled per group: walking, running with flight, running without flight
  (slow jog, contact fraction 1.07-1.2), each sample rate; and no single person below 0.95.

Measured with the core at commit 6ea5362 (main, 2026-11-29; `python -m benchmarks.population
--n 200 --seed 1` prints the full tables):

    group                  n   IC F1  sides   people>=99%  drop RMSE
    all                  200   0.898  34.5 %     28 %       3.40°   (bias L/R -1.68/-2.17°)
    run, rotation >= 2°   73   0.829  36.6 %     29 %       3.97°
      phase A             20   0.871  82.2 %     75 %       3.47°
      phase B             22   0.879   0.8 %      5 %       4.18°
      phase Q             31   0.768  31.4 %     16 %       4.14°
    run, rotation < 2°    27   0.852  28.9 %     15 %       3.92°
    walk, rotation >= 2°  68   1.000  40.1 %     38 %       2.44°
      phase A             28   1.000  75.9 %     71 %       1.99°
      phase B             19   1.000   0.0 %      0 %       2.74°
      phase Q             21   1.000  28.0 %     29 %       2.68°
    run with flight       75   0.990  32.8 %     28 %       4.09°
    run no flight (jog)   25   0.347  50.0 %     16 %       2.36°   (ICs 50-110 ms late or none)
    52 Hz                 50   0.900  40.2 %     36 %       3.34°

People with rotation >= 2° at >= 99 % sides: 47 of 141; drop RMSE <= 1.0°: 62 of 200; IC F1 >= 0.95:
176 of 200. On the 55 people whose sides the core gets right the drop is fine (pooled RMSE 0.36°,
bias +0.04/+0.04°, worst person 1.2°): the drop errors come from mirrored sides. These tests are
expected to FAIL until the core's left/right decision and contact detection are rewritten.
The sweep takes ~35 s with 2 processes (~60 s with one), so it is not marked slow.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from benchmarks.population import aggregate, run_sweep
from gaitmon.sim.population import draw_population

N_PEOPLE = 200
SEED = 1
DURATION_S = 32.0


@pytest.fixture(scope="module")
def rows():
    people = draw_population(N_PEOPLE, seed=SEED, duration_s=DURATION_S)
    return run_sweep(people, workers=min(2, os.cpu_count() or 1))


def _fmt(rs, key):
    return ", ".join(f"#{r['pid']} {r['activity']} {r['fs']:g}Hz rot {r['rotation_amp_deg']:.1f}° "
                     f"{r['rotation_family']}{r['rotation_phase_deg']:+.0f}° {key}={r[key]:.3f}" for r in rs)


def test_population_covers_the_required_spread(rows):
    """The sweep really contains what issue 11 asks for (so a pass means something)."""
    run = [r for r in rows if r["activity"] == "run"]
    walk = [r for r in rows if r["activity"] == "walk"]
    assert len(rows) >= 200 and len(run) >= 90 and len(walk) >= 90
    assert {r["fs"] for r in rows} == {52.0, 100.0, 104.0, 200.0}
    rot = np.array([r["rotation_amp_deg"] for r in rows])
    assert rot.min() < 1.2 and rot.max() > 10.0 and (rot < 2.0).sum() >= 20
    for act in (run, walk):
        fam = [r["rotation_family"] for r in act if r["rotation_amp_deg"] >= 2.0]
        assert fam.count("A") >= 10 and fam.count("B") >= 10
    cad = np.array([r["cadence_spm"] for r in run])
    assert cad.min() < 155 and cad.max() > 195
    cf = np.array([r["contact_fraction"] for r in run])
    assert cf.min() < 0.55 and (cf > 0.9).any() and sum(not r["flight"] for r in run) >= 15
    assert all(r["min_force_g"] >= 0.29 for r in run if not r["flight"])
    mount = np.array([r["mount_euler_deg"] for r in rows])
    assert np.abs(mount).max() > 38.0
    lever = np.array([r["lever_arm_m"] for r in rows])
    assert lever[:, 0].min() < -0.16 and lever[:, 0].max() > -0.10
    asym = np.array([abs(r["drop_left_deg"] - r["drop_right_deg"]) for r in rows])
    assert (asym > 3.0).sum() >= 20


@pytest.mark.parametrize("activity", ["run", "walk"])
@pytest.mark.parametrize("family", ["A", "B", "Q"])
def test_sides_every_person_with_rotation_2deg(rows, activity, family):
    group = [r for r in rows if r["activity"] == activity and r["rotation_family"] == family
             and r["rotation_amp_deg"] >= 2.0]
    assert group
    bad = [r for r in group if not (r["side_acc"] >= 0.99)]  # NaN (no steps matched) counts as a failure
    assert not bad, f"{len(bad)}/{len(group)} people below 99 % sides: {_fmt(bad, 'side_acc')}"


@pytest.mark.parametrize("activity", ["run", "walk"])
def test_drop_rmse_pooled(rows, activity):
    a = aggregate([r for r in rows if r["activity"] == activity])
    assert a["rmse"] <= 1.0, a


def test_drop_rmse_every_person(rows):
    bad = [r for r in rows if not (r["drop_rmse"] <= 1.0)]
    assert not bad, f"{len(bad)}/{len(rows)} people with drop RMSE > 1.0°: {_fmt(bad, 'drop_rmse')}"


GROUPS = {
    "walk": lambda r: r["activity"] == "walk",
    "run with flight": lambda r: r["activity"] == "run" and r["flight"],
    "run no flight (jog)": lambda r: r["activity"] == "run" and not r["flight"],
    "52 Hz": lambda r: r["fs"] == 52.0,
    "100 Hz": lambda r: r["fs"] == 100.0,
    "104 Hz": lambda r: r["fs"] == 104.0,
    "200 Hz": lambda r: r["fs"] == 200.0,
}


@pytest.mark.parametrize("group", list(GROUPS))
def test_ic_f1_pooled(rows, group):
    a = aggregate([r for r in rows if GROUPS[group](r)])
    assert a["f1"] >= 0.98, a


def test_ic_f1_every_person_floor(rows):
    bad = [r for r in rows if not (r["f1"] >= 0.95) or math.isnan(r["f1"])]
    assert not bad, f"{len(bad)}/{len(rows)} people with IC F1 < 0.95: {_fmt(bad, 'f1')}"

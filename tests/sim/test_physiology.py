"""The simulator's physiology model on its own (no gait core): force consistency, rotation phase,
drop truth, the population's ranges, and the simulator's independence from the core."""

from __future__ import annotations

import dataclasses
import pathlib

import numpy as np
import pytest

from gaitmon.sim import SimConfig, simulate
from gaitmon.sim.model import G, running_vertical_force
from gaitmon.sim.population import draw_person, draw_population, rotation_family

SIM_DIR = pathlib.Path(__file__).resolve().parents[2] / "gaitmon" / "sim"


def test_sim_never_imports_the_core():
    for f in SIM_DIR.glob("*.py"):
        assert "gaitmon.core" not in f.read_text(), f


@pytest.mark.parametrize("c", [0.5, 0.62, 0.8, 0.95, 1.0, 1.07, 1.2])
def test_vertical_force_mean_is_g_for_any_contact_fraction(c):
    u = np.linspace(0.0, 1.0, 20001)[:-1]
    f = running_vertical_force(u, c)
    assert abs(f.mean() / G - 1.0) < 1e-4
    if c < 1.0:
        assert np.all(f[u > c + 1e-3] == 0.0)  # flight
    if c >= 1.07:
        assert f.min() >= 0.299 * G  # no flight: never below ~0.3 g


def _pelvis_frame(rec):
    R = rec.truth.mount_R_sp  # sensor -> pelvis
    return (R @ rec.acc.T).T, (R @ rec.gyr.T).T


@pytest.mark.parametrize("c", [0.6, 1.12])
def test_mean_vertical_specific_force_over_gait_is_g(c):
    cfg = SimConfig(activity="run", fs=200.0, duration_s=20.0, seed=4, contact_fraction=c,
                    mount_euler_deg=(10.0, -20.0, 15.0), tilt_gait_deg=0.0)
    rec = simulate(cfg)
    acc, _ = _pelvis_frame(rec)
    tr = rec.truth
    k = np.nonzero(tr.steady)[0]
    t0, t1 = tr.ic_t[k[0]], tr.ic_t[k[-1] - (len(k) % 2)]  # whole strides
    sel = (rec.time >= t0) & (rec.time < t1)
    assert abs(acc[sel, 2].mean() / G - 1.0) < 0.01


@pytest.mark.parametrize("phase,sign", [(0.0, -1), (180.0, +1), (-30.0, -1), (150.0, +1)])
def test_yaw_rate_sign_at_a_left_contact_follows_the_rotation_phase(phase, sign):
    cfg = SimConfig(activity="run", fs=200.0, duration_s=20.0, seed=5, rotation_amp_deg=4.0,
                    rotation_phase_deg=phase, mount_euler_deg=(0.0, 0.0, 0.0))
    rec = simulate(cfg)
    _, gyr = _pelvis_frame(rec)
    tr = rec.truth
    left = tr.ic_t[tr.steady & (tr.side == "L")]
    right = tr.ic_t[tr.steady & (tr.side == "R")]
    wz_l = np.interp(left, rec.time, gyr[:, 2])
    wz_r = np.interp(right, rec.time, gyr[:, 2])
    assert np.all(np.sign(wz_l) == sign) and np.all(np.sign(wz_r) == -sign)
    assert rotation_family(phase) == ("A" if sign < 0 else "B")


def test_drop_truth_follows_the_drawn_drops_and_peaks_in_stance():
    rng = np.random.default_rng(3)
    for act in ("run", "walk", "run", "walk"):
        p = draw_person(rng, act, fs=100.0, duration_s=30.0)
        tr = simulate(p.config).truth
        for side, d in (("L", p.drop_left_deg), ("R", p.drop_right_deg)):
            got = tr.pelvic_drop_deg[tr.steady & (tr.side == side)]
            assert abs(got.mean() - d) < 0.5, (act, side, got.mean(), d)
        if act == "run":
            assert p.drop_peak_frac <= 0.85 * min(p.contact_fraction, 1.0)
            assert np.allclose(tr.contact_time_s, p.contact_fraction * tr.step_time_s / (1 + 50e-6), rtol=1e-3)
        else:
            assert p.obliquity_rate_ic > 0  # stance side rises after contact (swing side drops)


def test_population_ranges():
    people = draw_population(400, seed=11)
    run = [p for p in people if p.activity == "run"]
    walk = [p for p in people if p.activity == "walk"]
    rot = np.array([p.rotation_amp_deg for p in people])
    assert rot.min() >= 1.0 and rot.max() <= 12.0 and (rot < 2.0).mean() > 0.2
    assert max(p.rotation_amp_deg for p in walk) <= 8.0
    for grp in (run, walk):
        fams = [p.rotation_family for p in grp]
        assert fams.count("A") > 30 and fams.count("B") > 30 and fams.count("Q") > 30
    assert all(150 <= p.cadence_spm <= 200 for p in run) and all(90 <= p.cadence_spm <= 130 for p in walk)
    cf = np.array([p.contact_fraction for p in run])
    flight = np.array([p.flight for p in run])
    assert cf[flight].min() >= 0.5 and cf[flight].max() <= 0.95 and 0.15 < (~flight).mean() < 0.35
    assert all(p.min_force_g >= 0.29 for p in run if not p.flight)
    assert all(3.0 <= p.drop_left_deg <= 12.0 and 3.0 <= p.drop_right_deg <= 12.0 for p in run)
    mount = np.array([p.mount_euler_deg for p in people])
    assert np.abs(mount).max() <= 40.0 and np.abs(mount).max() > 39.0
    assert {p.fs for p in people} == {52.0, 100.0, 104.0, 200.0}
    # the same seed gives the same people
    again = draw_population(400, seed=11)
    assert [dataclasses.asdict(p.config) for p in again] == [dataclasses.asdict(p.config) for p in people]



def test_a_warm_up_walk_then_a_run_in_one_bout():
    """walk_before_s: walking steps (walking cadence, no contact time), then running steps with a
    flight; the last walking step pushes off into the first flight (the specific force falls below
    0.3 g before the first running contact); the obliquity keeps its pattern per gait — a
    stance-side-drop runner's running obliquity is mirrored (the swing side no longer drops: the
    truth drop, the swing side's peak below neutral, is about nothing), its walk is not."""
    for ssd in (False, True):
        cfg = SimConfig(activity="run", fs=200.0, duration_s=40.0, seed=6, walk_before_s=12.0,
                        stance_side_drops=ssd, mount_euler_deg=(0.0, 0.0, 0.0), tilt_gait_deg=0.0,
                        drop_left_deg=6.0, drop_right_deg=6.0)
        rec = simulate(cfg)
        tr = rec.truth
        act = tr.step_activity
        k = int(np.argmax(act == "run"))
        assert 15 <= k <= 25 and np.all(act[:k] == "walk") and np.all(act[k:] == "run")
        assert np.all(np.isnan(tr.contact_time_s[:k])) and np.all(np.isfinite(tr.contact_time_s[k:]))
        walk_T, run_T = np.median(tr.step_time_s[3:k - 1]), np.median(tr.step_time_s[k + 2:])
        assert abs(60 / walk_T - 110) < 5 and abs(60 / run_T - 170) < 5
        acc, _ = _pelvis_frame(rec)
        before = (rec.time > tr.ic_t[k] - 0.06) & (rec.time < tr.ic_t[k] - 0.01)
        assert acc[before, 2].max() < 0.3 * G  # the first flight
        walk_drop = np.median(tr.pelvic_drop_deg[4:k - 1])
        run_drop = np.median(tr.pelvic_drop_deg[k + 3:-4])
        assert walk_drop > 4.0
        assert (run_drop < 1.0) if ssd else (run_drop > 4.0), (ssd, run_drop)


def test_walking_sway_follows_the_measured_medio_lateral_shape():
    """The walking sway is the measured lower-back medio-lateral acceleration (WALK_ML_TEMPLATE,
    toward the stance foot, mirrored every other step) integrated twice: its amplitude is the drawn
    one and its acceleration has the template's shape in both steps of a stride."""
    from gaitmon.sim.model import WALK_ML_TEMPLATE, _walk_sway

    T, amp = 0.55, 0.022
    w = np.linspace(0.0, 4.0, 8001)  # two strides, continuous step index
    y = _walk_sway(w, 1.0, amp)
    assert abs(0.5 * (y.max() - y.min()) - amp) < 1e-4
    acc = np.gradient(np.gradient(y, w), w) / T ** 2  # m/s² (w in steps, T s per step)
    u = np.linspace(0.0, 1.0, 21)
    tm = np.asarray(WALK_ML_TEMPLATE)
    for step, stance in ((0, 1.0), (1, -1.0), (2, 1.0)):  # even steps: left stance (+ left)
        a = stance * np.interp(step + u[1:-1], w, acc)
        r = np.corrcoef(a, tm[1:-1])[0, 1]
        assert r > 0.97, (step, r)


def test_walking_sway_fall_shift_moves_the_fall_and_keeps_the_contact_push():
    from gaitmon.sim.model import _walk_sway

    w = np.linspace(0.0, 2.0, 4001)
    acc = {s: np.gradient(np.gradient(_walk_sway(w, 1.0, 0.02, s), w), w) for s in (0.0, -0.15)}
    u = np.linspace(0.0, 1.0, 2001)
    fall = {s: u[np.argmin(np.interp(0.3 + 0.7 * u[u <= 1], w, acc[s])[: len(u)])] for s in acc}
    push = {s: u[np.argmin(np.interp(u * 0.3, w, acc[s]))] * 0.3 for s in acc}
    assert abs(push[0.0] - push[-0.15]) < 0.02  # the contact's push stays at the contact
    assert 0.08 < 0.7 * (fall[0.0] - fall[-0.15]) < 0.2  # the fall comes ~0.15 step earlier

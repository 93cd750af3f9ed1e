"""Fatigue drift per session: found when the drop rises, not claimed when it does not."""
import math

import numpy as np
import pytest

from gaitmon.analysis.distance import speed_mps, step_length_m
from gaitmon.analysis.fatigue import fatigue_drift
from gaitmon.core import Step


def _steps(minutes=10.0, drift=0.0, seed=0, cadence=170.0, ar=0.5, q=0.9, vo=8.0, activity="run"):
    rng = np.random.default_rng(seed)
    st = 60.0 / cadence
    n = int(minutes * 60 / st)
    e = {"L": 0.0, "R": 0.0}
    out = []
    for i in range(n):
        side = "L" if i % 2 == 0 else "R"
        e[side] = ar * e[side] + math.sqrt(1 - ar * ar) * rng.normal()
        t = i * st
        drop = (6.0 if side == "L" else 4.0) + drift * t / 60.0 + 0.9 * e[side]
        out.append(Step(t, side, st, cadence, 0.22, drop, 8.0, 5.0, 10.0, vo, activity, q, i // 2))
    return out


def test_rising_drop_is_flagged_per_side_with_slope_in_ci():
    f = fatigue_drift(_steps(drift=0.3, seed=1), threshold_deg=1.0)
    for s in ("L", "R"):
        d = f.sides[s]
        assert d.flagged, d.reason
        assert abs(d.per_min.slope - 0.3) < 0.05 and d.per_min.ci95[0] > 0.2  # coverage: test_stats
        assert 2.0 < d.rise_deg < 4.0
        assert d.last_mean_deg > d.first_mean_deg
        # distance: 1.17 m per step at 170 steps/min -> deg/km = deg/min / (km/min)
        km_per_min = 170 * 1.17 / 1000
        assert abs(d.per_km.slope - d.per_min.slope / km_per_min) < 0.05 * abs(d.per_km.slope)
    assert f.flagged
    assert abs(f.distance_m - len(_steps()) * 1.17) < 1.0
    assert f.influx_fields("L")["flagged"] == 1.0


def test_no_drift_is_not_flagged_and_threshold_is_respected():
    flags = sum(fatigue_drift(_steps(drift=0.0, seed=s)).flagged for s in range(20))
    assert flags == 0  # needs a rise >= 1° AND a CI above 0: noise does not do that
    small = fatigue_drift(_steps(drift=0.05, seed=3, minutes=10), threshold_deg=1.0)
    assert not small.flagged  # 0.5° over 10 min: real but below the threshold
    assert fatigue_drift(_steps(drift=0.05, seed=3, minutes=10), threshold_deg=0.3).flagged


def test_short_or_low_quality_sessions_are_not_assessed():
    f = fatigue_drift(_steps(minutes=1.5, drift=1.0))
    assert not f.flagged and f.notes and f.sides["L"].per_min.ci95 is None
    f = fatigue_drift(_steps(drift=0.5, q=0.3))
    assert f.steps_used == 0 and f.steps_low_quality > 0 and not f.flagged
    with pytest.raises(ValueError):
        fatigue_drift(_steps(), threshold_deg=0)


def test_step_length_models():
    # walking: Zijlstra pendulum, h = 4 cm, l = 0.9 m -> 1.25 * 2 * sqrt(2*0.9*0.04 - 0.0016)
    sl = step_length_m([4.0, 4.0, float("nan")], ["walk", "run", "walk"], leg_length_m=0.9)
    assert abs(sl[0] - 1.25 * 2 * math.sqrt(0.072 - 0.0016)) < 1e-9
    assert abs(sl[1] - 1.17) < 1e-9 and math.isnan(sl[2])
    assert step_length_m([8.0], ["run"], run_step_length_m=1.3)[0] == 1.3
    assert abs(speed_mps(120.0, 0.7) - 1.4) < 1e-12
    with pytest.raises(ValueError):
        step_length_m([4.0], ["walk"], leg_length_m=0)


@pytest.mark.parametrize("drift,flag", [(0.8, True), (0.0, False)])
def test_fatigue_through_the_core_on_simulated_runs(drift, flag):
    """Simulated IMU run (gaitmon.sim) -> core -> drift: the simulated fatigue is found."""
    from gaitmon.core import analyze
    from gaitmon.sim import SimConfig, simulate

    rec = simulate(SimConfig(activity="run", fs=104.0, duration_s=150.0, seed=11, drop_drift_deg_per_min=drift))
    steps = analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up).steps
    f = fatigue_drift(steps)
    assert f.flagged is flag
    for s in ("L", "R"):
        lo, hi = f.sides[s].per_min.ci95
        assert lo - 0.1 < drift < hi + 0.1  # the measured slope agrees with the simulated one

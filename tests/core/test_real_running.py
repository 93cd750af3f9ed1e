"""Real running kinematics: optical motion capture of five runners (Hamner s01/s04, Fukuchi
RBDS0041/RBDS032, Dorn JA1; 2-7 m/s, treadmill and overground) turned into sacral-IMU recordings
with a random clip mount at 52/104/200 Hz (gaitmon.sim.mocap), truth from side-split forces or
foot markers. Nothing in the running side decision was tuned on these data (held out by
construction). The README's running table is ``python -m benchmarks running``; the bounds asserted
here are the ones it states.

Known shortfalls, asserted at their measured level so a regression shows (issue-11 targets in
brackets): drop RMSE pooled 0.78° (0.7°), RBDS0041 at 4.5 m/s 1.9° with ±1.9° side biases — a
3-12° treadmill heading error turns the runner's extra anterior tilt into obliquity;
contact time bias per runner -60..+6 ms (10 ms); the 9 m/s sprint fails (every other contact: the
synthesised flights there hold ~0.8 g at any pose low-pass from 10 to 40 Hz, so it is not the filter;
benchmarks/README.md §7) and is left out here; 7 m/s meets the targets (see the sprint test) and is in.
"""

import numpy as np
import pytest

from tests.core.real_running import RATES, TRIALS, evaluate, is_sprint, pooled

RUNS = [t for t in TRIALS if not is_sprint(t)]
_CACHE: dict = {}


def _rows():
    if not _CACHE:
        _CACHE["rows"] = [(t, fs, evaluate(t, fs, seed=int(fs) + 1000 * i))
                          for i, t in enumerate(TRIALS) if not is_sprint(t) for fs in RATES]
    return _CACHE["rows"]


@pytest.mark.parametrize("trial", RUNS, ids=[t.trial for t in RUNS])
def test_contacts_and_sides_per_trial(trial):
    for t, fs, m in _rows():
        if t != trial:
            continue
        assert m["f1"] >= 0.98, (t.trial, fs, m["f1"])
        assert m["t_err_median_s"] <= 0.040, (t.trial, fs, m["t_err_median_s"])
        assert m["side_acc"] >= 0.99, (t.trial, fs, m["side_acc"])
        assert m["drop_rmse"] <= 2.0, (t.trial, fs, m["drop_rmse"])


def test_pooled_drop_and_contact_time():
    rows = _rows()
    a = pooled(rows)
    assert a["side_acc"] >= 0.99, a
    assert a["drop_rmse"] <= 0.85, a
    assert abs(a["bias_L"]) <= 0.3 and abs(a["bias_R"]) <= 0.3, a
    for person in {t.person for t, _, _ in rows}:
        p = pooled([r for r in rows if r[0].person == person])
        assert p["side_acc"] >= 0.99, (person, p)
        assert abs(p["contact_bias_s"]) <= 0.065, (person, p)
    obl = np.mean([m["obl_range_bias"] for _, _, m in rows])
    assert abs(obl) <= 0.2, obl


def test_sprint_late_flight_bump_is_not_the_contact():
    """At 7 m/s the pelvis rises to 0.5-0.9 g late in the flight (the swing leg driven down before
    touchdown), 80-90 ms before the loading: with a contact at the first L1 crossing of that bump,
    every other 7 m/s contact was 90 ms early (IC F1 0.03-0.20). A contact's loading takes fz from
    L1 to L2 within RISE_MAX_S, a slower 'rise' is not one (0.35-0.73); a contact counts once fz
    has held above L1 that long, a bump reaching 0.9 g and falling back is not one (0.77-0.82); and
    an impact spike is steep — its edge spans at most SPIKE_EDGE_MAX_S, a bump's 24-55 ms — so a bump
    that fell back is not taken for the impact (0.90 at 52 Hz, 1.00 at 104/200 Hz); and a rise that
    steepens RISE_STEEPENING times at L2 is a bump that merged into the loading (52 Hz: 1.00). The
    issue's targets asserted at every rate: IC F1 >= 0.98, sides >= 99 %, drop RMSE <= 0.7° (the 9 m/s
    trial still fails: its synthesised flights stay near 0.8 g — see the module docstring)."""
    i = next(k for k, t in enumerate(TRIALS) if t.trial.endswith("run0700"))
    m = {fs: evaluate(TRIALS[i], fs, seed=int(fs) + 1000 * i) for fs in RATES}
    got = {fs: (r["f1"], r["side_acc"], r["drop_rmse"]) for fs, r in m.items()}
    assert all(r["f1"] >= 0.98 for r in m.values()), got
    assert all(r["side_acc"] >= 0.99 for r in m.values()), got
    assert all(r["drop_rmse"] <= 0.7 for r in m.values()), got

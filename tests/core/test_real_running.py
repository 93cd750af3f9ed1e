"""Real running kinematics: optical motion capture of five runners (Hamner s01/s04, Fukuchi
RBDS0041/RBDS032, Dorn JA1; 2-5 m/s, treadmill and overground) turned into sacral-IMU recordings
with a random clip mount at 52/104/200 Hz (gaitmon.sim.mocap), truth from side-split forces or
foot markers. Nothing in the running side decision was tuned on these data (held out by
construction). The README's running table is ``python -m benchmarks running``; the bounds asserted
here are the ones it states.

Known shortfalls, asserted at their measured level so a regression shows (issue-11 targets in
brackets): drop RMSE pooled 0.80° (0.7°), RBDS0041 at 4.5 m/s 1.9° with ±1.9° side biases — a
3-12° treadmill heading error turns the runner's extra anterior tilt into obliquity;
contact time bias per runner -60..+7 ms (10 ms); sprints at 7 and 9 m/s fail (the marker low-pass
smears the flight phase these recordings are built from, and the detector loses contacts).
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

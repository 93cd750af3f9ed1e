"""Single-leg stance test against the simulator's truth; bad input; the CLI from a file."""
import json

import numpy as np
import pytest

from gaitmon.cli import main
from gaitmon.core import GaitmonInputError
from gaitmon.core.singleleg import analyze_single_leg
from gaitmon.sim.singleleg import SingleLegConfig, simulate_single_leg
from gaitmon.sources.recording import write_recording


@pytest.mark.parametrize("seed,side,drop,hold,sway", [
    (1, "L", 4.0, 30.0, 0.8), (2, "R", 6.0, 30.0, 1.2), (3, "L", -2.0, 12.0, 0.6),
    (4, "R", 1.0, 20.0, 1.0), (5, "L", 3.0, 8.0, 0.7), (6, "R", 8.0, 30.0, 1.5)])
def test_matches_truth(seed, side, drop, hold, sway):
    rec = simulate_single_leg(SingleLegConfig(seed=seed, side=side, drop_deg=drop, hold_s=hold, sway_deg=sway))
    r = analyze_single_leg(rec.time, rec.acc, rec.gyr, side=side, forward=rec.forward, up=rec.up)
    tr = rec.truth
    assert abs(r.drop_deg - tr.drop_deg) < 0.5, (r.drop_deg, tr.drop_deg)
    assert abs(r.hold_s - tr.hold_s) < 0.3
    assert abs(r.foot_off_s - tr.foot_off_s) < 0.3
    assert abs(r.sway_rms_deg - tr.sway_rms_deg) < 0.15 * tr.sway_rms_deg
    assert r.completed is (hold >= 30.0)
    assert r.heading == "transition" and r.quality == 1.0


def test_sway_orders_runners_and_other_mounts():
    got = []
    for sway in (0.5, 1.0, 2.0):
        rec = simulate_single_leg(SingleLegConfig(seed=9, sway_deg=sway, forward="+z", up="+x",
                                                  mount_euler_deg=(20.0, -25.0, 28.0)))
        r = analyze_single_leg(rec.time, rec.acc, rec.gyr, side="L", forward="+z", up="+x")
        assert abs(r.drop_deg - rec.truth.drop_deg) < 0.5
        got.append(r.sway_rms_deg)
    assert got[0] < got[1] < got[2]


def test_recording_ending_on_one_leg_and_longer_holds_are_capped():
    rec = simulate_single_leg(SingleLegConfig(seed=4, hold_s=40.0, stand_after_s=0.0))
    r = analyze_single_leg(rec.time[: int(30 * rec.fs)], rec.acc[: int(30 * rec.fs)],
                           rec.gyr[: int(30 * rec.fs)], side="L")
    assert any("ends while still on one leg" in n for n in r.notes) and not r.completed
    r = analyze_single_leg(rec.time, rec.acc, rec.gyr, side="L")
    assert r.hold_s == pytest.approx(30.0, abs=0.02) and r.completed


def test_bad_input_is_refused_or_counted():
    rec = simulate_single_leg(SingleLegConfig(seed=2, hold_s=15.0))
    t, a, g = rec.time.copy(), rec.acc.copy(), rec.gyr.copy()
    a[500:510] = np.nan
    r = analyze_single_leg(t, a, g, side="L")
    assert any("10 samples with NaN" in n for n in r.notes)
    with pytest.raises(GaitmonInputError, match="side must be"):
        analyze_single_leg(t, rec.acc, g, side="X")
    with pytest.raises(GaitmonInputError, match="in g"):
        analyze_single_leg(t, rec.acc / 9.81, g, side="L")
    with pytest.raises(GaitmonInputError, match="shorter than 5 s"):
        analyze_single_leg(t[:300], rec.acc[:300], g[:300], side="L")
    with pytest.raises(GaitmonInputError, match="no single-leg stance"):
        n = int(20 * rec.fs)
        analyze_single_leg(t[:n], np.tile(rec.acc[:50].mean(0), (n, 1)), np.zeros((n, 3)) + 0.01, side="L")
    moving = rec.acc.copy()
    moving[:200] += np.random.default_rng(0).normal(0, 2.0, (200, 3))
    with pytest.raises(GaitmonInputError, match="not quiet"):
        analyze_single_leg(t, moving, g, side="L")


def test_cli_from_file_writes_json(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    rec = simulate_single_leg(SingleLegConfig(seed=3, side="R", drop_deg=5.0, hold_s=18.0))
    path = tmp_path / "sl.csv"
    write_recording(path, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up, "sensor": "sim"})
    out = tmp_path / "res.json"
    assert main(["test", "single-leg", str(path), "--side", "r", "--out", str(out), "--runner", "alice"]) == 0
    res = json.loads(out.read_text())
    assert res["side"] == "R" and res["runner"] == "alice" and res["test"] == "single_leg_stance"
    assert abs(res["drop_deg"] - rec.truth.drop_deg) < 0.5 and abs(res["hold_s"] - 18.0) < 0.3
    text = capsys.readouterr().out
    assert "left hip sank" in text and "held 18." in text
    assert main(["test", "single-leg", str(tmp_path / "nope.csv"), "--side", "L"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_virtual_live_countdown(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    out = tmp_path / "v.json"
    assert main(["test", "single-leg", "--virtual", "--side", "L", "--speed", "0", "--virtual-hold", "10",
                 "--virtual-drop", "3", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert abs(res["drop_deg"] - 3.0) < 0.5 and abs(res["hold_s"] - 10.0) < 0.3 and not res["completed"]
    text = capsys.readouterr().out
    assert "Stand on your LEFT leg" in text and "simulated truth" in text

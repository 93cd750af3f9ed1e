"""Bad input gets a one-line error (exit 2) or a counted rejection; no gait -> exit 3; never a traceback."""

import gzip

import numpy as np
import pytest

from gaitmon.cli import EXIT_BAD_INPUT, EXIT_NO_GAIT, EXIT_OK, main
from gaitmon.sources.recording import write_recording
from gaitmon.sim import SimConfig, simulate

REC = simulate(SimConfig(activity="run", fs=104.0, duration_s=20.0, seed=41))


def _run(args, capsys):
    rc = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return rc, out


def test_good_recording_and_outputs(tmp_path, capsys):
    p = tmp_path / "rec.csv.gz"
    write_recording(p, REC.time, REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up})
    rc, out = _run(["analyze", str(p), "--out", str(tmp_path / "s.json"), "--format", "json",
                    "--summary", str(tmp_path / "sum.json")], capsys)
    assert rc == EXIT_OK
    import json

    steps = json.loads((tmp_path / "s.json").read_text())["steps"]
    assert len(steps) > 40 and {"L", "R"} == {s["side"] for s in steps}
    summ = json.loads((tmp_path / "sum.json").read_text())
    assert summ["sides"]["L"]["drop_mean_deg"] > summ["sides"]["R"]["drop_mean_deg"]


@pytest.mark.parametrize("unit,flag", [("g", "--acc-unit"), ("dps", "--gyro-unit")])
def test_wrong_units_refused_with_flag_named(tmp_path, capsys, unit, flag):
    acc = REC.acc / 9.80665 if unit == "g" else REC.acc
    gyr = np.degrees(REC.gyr) if unit == "dps" else REC.gyr
    p = tmp_path / "rec.csv"
    write_recording(p, REC.time, acc, gyr)
    rc, out = _run(["analyze", str(p)], capsys)
    assert rc == EXIT_BAD_INPUT
    assert flag in out.err
    # and the flag fixes it
    rc, _ = _run(["analyze", str(p), flag, unit, f"--forward={REC.forward}", f"--up={REC.up}"], capsys)
    assert rc == EXIT_OK


def test_missing_column_and_empty_file(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y\n0,1,2,3,4,5\n")
    rc, out = _run(["analyze", str(p)], capsys)
    assert rc == EXIT_BAD_INPUT and "gyr_z" in out.err
    e = tmp_path / "empty.csv"
    e.write_text("")
    rc, out = _run(["analyze", str(e)], capsys)
    assert rc == EXIT_BAD_INPUT and "no samples" in out.err
    z = tmp_path / "broken.csv.gz"
    z.write_bytes(b"not gzip at all")
    rc, out = _run(["analyze", str(z)], capsys)
    assert rc == EXIT_BAD_INPUT


def test_nan_rows_and_time_glitches_counted(tmp_path, capsys):
    t, acc, gyr = REC.time.copy(), REC.acc.copy(), REC.gyr.copy()
    acc[1000:1010] = np.nan  # 10 NaN rows
    t[2000] = t[1990]  # one time going backwards
    t[2001] = t[2001 - 1]  # duplicated time after it stays monotone? (counted if not increasing)
    p = tmp_path / "glitch.csv"
    write_recording(p, t, acc, gyr, {"forward": REC.forward, "up": REC.up})
    rc, out = _run(["analyze", str(p), "--summary", str(tmp_path / "s.json")], capsys)
    assert rc == EXIT_OK
    import json

    inp = json.loads((tmp_path / "s.json").read_text())["input"]
    assert inp["nan_rows"] == 10
    assert inp["non_monotonic"] >= 2


def test_standing_only_is_no_gait(tmp_path, capsys):
    n = 104 * 20
    t = np.arange(n) / 104.0
    acc = np.tile([0.0, 9.81, 0.0], (n, 1)) + np.random.default_rng(0).normal(0, 0.03, (n, 3))
    gyr = np.random.default_rng(1).normal(0, 0.003, (n, 3))
    p = tmp_path / "stand.csv"
    write_recording(p, t, acc, gyr)
    rc, out = _run(["analyze", str(p)], capsys)
    assert rc == EXIT_NO_GAIT
    assert "no gait" in out.err


def test_no_standing_falls_back_and_says_so(tmp_path, capsys):
    rec = simulate(SimConfig(activity="run", fs=104.0, duration_s=25.0, seed=42, stand_before_s=0.0))
    p = tmp_path / "nostand.csv"
    write_recording(p, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up})
    rc, out = _run(["analyze", str(p), "--summary", str(tmp_path / "s.json")], capsys)
    assert rc == EXIT_OK
    assert "no quiet standing" in out.out + out.err


def test_simulate_then_demo_writes_files(tmp_path, capsys):
    rc, _ = _run(["simulate", "--activity", "walk", "--duration", "20", "--out", str(tmp_path / "w.csv"),
                  "--truth", str(tmp_path / "t.json")], capsys)
    assert rc == EXIT_OK and (tmp_path / "t.json").exists()
    rc, _ = _run(["demo", "--duration", "20", "--speed", "0", "--no-live", "--out-dir", str(tmp_path / "demo")], capsys)
    assert rc == EXIT_OK
    assert (tmp_path / "demo" / "steps.csv").read_text().count("\n") > 30


def test_saturated_samples_flagged_and_counted():
    from gaitmon.core import analyze

    acc = REC.acc.copy()
    # clip the impacts of the busiest axis as a too-small accelerometer range would
    ax = int(np.argmax(np.abs(acc).max(axis=0)))
    lim = 0.8 * np.abs(acc[:, ax]).max()
    acc[:, ax] = np.clip(acc[:, ax], -lim, lim)
    clipped = np.abs(acc[:, ax]) >= 0.999 * lim  # "at the limit" as the core defines it
    res = analyze(REC.time, acc, REC.gyr, forward=REC.forward, up=REC.up, sat_acc=lim)
    assert res.input_stats.saturated == int(clipped.sum()) > 0
    hit = [s for s in res.steps if s.quality < 1.0]
    assert hit, "steps containing saturated samples must lose quality"


def test_transfers_in_real_daily_life_walking_are_kept_out_of_the_statistics():
    """Sitting down / standing up in the real daily-life course produce 'steps' with huge roll and
    tilt: they stay in the table with low quality and do not enter the per-side statistics."""
    import json
    from pathlib import Path

    from gaitmon.core import analyze
    from gaitmon.core.summary import summarize
    from gaitmon.sources.recording import read_recording

    csv = Path(__file__).resolve().parents[1] / "data" / "real-walking" / "HA_001_TimeMeasure1_Test11_Trial1.csv"
    ref = json.loads(csv.with_suffix(".reference.json").read_text())
    rec = read_recording(csv)
    steps = analyze(rec.time, rec.acc, rec.gyr, forward=ref["forward"], up=ref["up"]).steps
    wild = [s for s in steps if s.obliquity_range_deg > 25 or s.tilt_range_deg > 30]
    assert wild and all(s.quality < 0.5 for s in wild)
    summ = summarize(steps)
    for side in "LR":
        assert summ["sides"][side]["drop_p90_deg"] < 15.0


def test_sitting_still_is_not_taken_as_the_standing_neutral(tmp_path, capsys):
    """The real daily-life course starts seated: that quiet period is ~14° from the walking
    posture and must not become the neutral (it would shift every drop by degrees)."""
    from pathlib import Path

    csv = Path(__file__).resolve().parents[1] / "data" / "real-walking" / "HA_001_TimeMeasure1_Test11_Trial1.csv"
    rc, out = _run(["analyze", str(csv), "--forward=+z", "--up=+x", "--summary", str(tmp_path / "s.json")], capsys)
    assert rc == EXIT_OK
    import json

    summ = json.loads((tmp_path / "s.json").read_text())
    assert summ["calibration"] == "gait-average"
    assert "not upright standing" in summ["note"]
    # a healthy walker: both sides' median drop within a few degrees of each other
    assert abs(summ["sides"]["L"]["drop_median_deg"] - summ["sides"]["R"]["drop_median_deg"]) < 3.0

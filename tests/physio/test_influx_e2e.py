"""End to end against a real influxd 1.6.7: history + exercise log in InfluxDB -> `gaitmon trend`
finds the simulated programme effect; single-leg test and session report read/write InfluxDB."""
import json

import pytest

from gaitmon.cli import main
from gaitmon.core import Step
from gaitmon.sim.singleleg import SingleLegConfig, simulate_single_leg
from gaitmon.sources.recording import write_recording
from gaitmon.store import StoreConfig, open_writer
from tests.physio.history import history


@pytest.fixture
def env(monkeypatch, influxd, db, tmp_path):
    for key, value in {"GAITMON_INFLUX_URL": influxd.url, "GAITMON_INFLUX_DB": db, "GAITMON_RUNNER": "alice",
                       "GAITMON_SPOOL_DIR": str(tmp_path / "spool")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "200")
    return monkeypatch


def _store_history(effect):
    drops, ex, start, rows = history(effect_deg=effect, weeks_before=5, weeks_after=5, steps=200, seed=4)
    w = open_writer(StoreConfig.from_env())
    try:
        for sess, (t0, sides) in rows.items():
            steps = []
            for side, d in sides:
                off = 0.0 if side == "L" else 60.0 / 170.0
                steps += [Step(i * 120 / 170.0 + off, side, 60 / 170.0, 170.0, 0.22, float(x), 8.0, 5.0, 10.0, 8.0,
                               "run", 0.9, i) for i, x in enumerate(d)]
            steps.sort(key=lambda s: s.t_ic_s)
            w.write_steps(steps, sensor="sim", session=sess, t0_unix_ns=t0)
        for t in ex:
            w.write_exercise(exercise="hip_abduction_hold", t_unix_ns=t, sets=3, hold_s=45.0)
        assert w.flush(60.0)
    finally:
        w.close()
    return drops, ex, start, rows


def test_trend_single_leg_and_report_through_influxd(env, influxd, db, tmp_path, capsys):
    drops, ex, start, rows = _store_history(effect=-1.5)
    # a single-leg test stored in InfluxDB
    rec = simulate_single_leg(SingleLegConfig(seed=3, side="R", drop_deg=5.0, hold_s=20.0))
    path = tmp_path / "sl.csv"
    write_recording(path, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up, "sensor": "sim"})
    assert main(["test", "single-leg", str(path), "--side", "R", "--out", str(tmp_path / "sl.json")]) == 0
    assert "single_leg_test for alice stored" in capsys.readouterr().out
    pts = influxd.rows('SELECT * FROM "single_leg_test"', db)
    assert len(pts) == 1 and pts[0]["side"] == "R" and abs(pts[0]["drop_deg"] - rec.truth.drop_deg) < 0.5

    out = tmp_path / "trend.json"
    now = start + 5 * 7 * 86400 * 10**9
    assert main(["trend", "--runner", "alice", "--json", str(out), "--now-ns", str(now)]) == 0
    tr = json.loads(out.read_text())
    assert tr["programme_start_ns"] == min(ex)
    for side in ("L", "R"):
        e = tr["effects"][side]
        assert e["verdict"] == "lower after", e
        assert e["ci95_deg"][0] < -1.5 < e["ci95_deg"][1]
        assert e["sessions_before"] == 10 and e["sessions_after"] == 10
    assert len(tr["adherence"]) >= 5 and {a["status"] for a in tr["adherence"]} <= {"on target", "partly", "behind"}
    assert sum(a["sessions"] for a in tr["adherence"]) > 0
    weeks = {w["week_start_ns"] for w in tr["weekly"]}
    assert len(weeks) == 10
    assert len(tr["single_leg"]) == 1 and tr["single_leg"][0]["side"] == "R"
    text = capsys.readouterr().out
    assert "lower since the programme started" in text and "exercise adherence" in text

    # the report of one stored session: previous sessions from InfluxDB, fatigue written back
    sess = sorted(rows)[-1]
    assert main(["report", "--influx-session", sess, "--out-dir", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "previous.png").exists()
    fat = influxd.rows('SELECT * FROM "fatigue"', db)
    assert sorted(r["side"] for r in fat) == ["L", "R"] and all(r["session"] == sess for r in fat)
    assert all(r["flagged"] == 0.0 for r in fat)  # the simulated sessions have no drift


def test_no_effect_is_not_claimed_and_missing_config_is_clear(env, influxd, db, tmp_path, capsys):
    _, _, start, _ = _store_history(effect=0.0)
    out = tmp_path / "trend.json"
    assert main(["trend", "--runner", "alice", "--json", str(out)]) == 0
    tr = json.loads(out.read_text())
    assert {e["verdict"] for e in tr["effects"].values()} == {"no clear change"}
    assert main(["trend", "--runner", "nobody"]) == 3
    env.delenv("GAITMON_INFLUX_URL")
    env.setenv("GAITMON_HOME", str(tmp_path / "empty-journal"))
    assert main(["trend", "--runner", "alice"]) == 3  # no database: the (empty) local journal
    assert "GAITMON_INFLUX_URL" in capsys.readouterr().err

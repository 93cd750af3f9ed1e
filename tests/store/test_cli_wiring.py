"""`GAITMON_INFLUX_URL=... gaitmon demo` and `gaitmon import` fill a real influxd (issue 5 wiring)."""

import os

import pytest

from gaitmon.cli import EXIT_OK, main
from gaitmon.sim import SimConfig, simulate
from gaitmon.sources.recording import write_recording


@pytest.fixture
def influx_env(influxd, db, tmp_path, monkeypatch):
    monkeypatch.setenv("GAITMON_INFLUX_URL", influxd.url)
    monkeypatch.setenv("GAITMON_INFLUX_DB", db)
    monkeypatch.setenv("GAITMON_INFLUX_API", "v1")
    monkeypatch.setenv("GAITMON_SPOOL_DIR", str(tmp_path / "spool"))
    return db


def test_demo_fills_influxdb(influx_env, influxd, tmp_path, capsys):
    rc = main(["demo", "--duration", "20", "--speed", "0", "--no-live", "--runner", "ann",
               "--out-dir", str(tmp_path / "demo")])
    assert rc == EXIT_OK
    n_file = (tmp_path / "demo" / "steps.csv").read_text().count("\n") - 1
    rows = influxd.rows('SELECT "pelvic_drop_deg", "side" FROM "gait_step" WHERE "runner" = \'ann\'', influx_env)
    assert len(rows) == n_file > 30
    sess = influxd.rows('SELECT * FROM "gait_session"', influx_env)
    assert len(sess) == 1


def test_import_backfills_a_recording(influx_env, influxd, tmp_path, capsys):
    rec = simulate(SimConfig(activity="walk", fs=100.0, duration_s=20.0, seed=77))
    p = tmp_path / "walk.csv"
    write_recording(p, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up,
                                                   "start_utc": "2026-11-20T07:30:00Z"})
    rc = main(["import", str(p), "--runner", "bob"])
    assert rc == EXIT_OK
    rows = influxd.rows('SELECT "pelvic_drop_deg" FROM "gait_step" WHERE "runner" = \'bob\'', influx_env)
    assert len(rows) > 20
    # timestamps anchored at the recording's start_utc
    t0 = 1795159800 * 10**9  # 2026-11-20T07:30:00Z
    assert all(t0 <= r["time"] <= t0 + 40 * 10**9 for r in rows)


def test_collect_virtual_fills_influxdb(influx_env, influxd, tmp_path, capsys):
    """`GAITMON_INFLUX_URL=... gaitmon collect --virtual 2`: steps, sensor status and session
    summaries land, and the steps in InfluxDB are exactly those of the steps files."""
    rc = main(["collect", "--virtual", "2", "--duration", "14", "--speed", "4", "--no-live",
               "--out", str(tmp_path / "rec"), "--session", "vc"])
    assert rc == EXIT_OK
    files = sorted((tmp_path / "rec" / "vc").glob("steps_*.csv"))
    n_file = sum(f.read_text().count("\n") - 1 for f in files)
    rows = influxd.rows('SELECT "pelvic_drop_deg" FROM "gait_step" WHERE "session" = \'vc\'', influx_env)
    assert len(rows) == n_file > 20
    assert influxd.rows('SELECT "packets_received" FROM "sensor_status"', influx_env)
    sess = influxd.rows('SELECT * FROM "gait_session" WHERE "session" = \'vc\'', influx_env)
    assert len(sess) == 2

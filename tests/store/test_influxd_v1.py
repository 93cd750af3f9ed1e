"""The v1 path against a real influxd 1.6.7: every step back exactly, summaries, queries,
retention policies, clear errors for a missing database / policy."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from gaitmon.store import (ApiMismatch, GaitQuery, StoreConfig, TargetNotFound, create_retention_policies,
                           open_writer)
from gaitmon.store.query import quote_literal
from tests.store.conftest import fast_cfg
from tests.store.helpers import FlakyProxy, assert_rows_match, expected_rows, tile_steps


def test_simulated_session_reads_back_exactly(influxd, db, tmp_path, sim_steps, t0_ns):
    cfg = fast_cfg(influxd.url, tmp_path, database=db)
    with open_writer(cfg) as w:
        for i in range(0, len(sim_steps), 7):              # as the live pipeline delivers them
            w.write_steps(sim_steps[i:i + 7], sensor="gaitmon-imu-01", session="2024-05-01-track",
                          t0_unix_ns=t0_ns)
        assert w.flush(20)
        stats = w.stats
    assert stats.api == "v1" and stats.server_version.startswith("1.6")
    assert stats.queued == stats.sent == len(sim_steps) and stats.spooled == 0 and stats.rejected == 0
    rows = influxd.rows(f'SELECT * FROM "gait_step" WHERE "session" = {quote_literal("2024-05-01-track")}', db=db)
    assert len(rows) == len(sim_steps)
    assert_rows_match(rows, expected_rows(sim_steps, runner="alice", sensor="gaitmon-imu-01",
                                          session="2024-05-01-track", t0_unix_ns=t0_ns))
    # tags really are tags (low cardinality, queryable with SHOW TAG VALUES)
    tags = influxd.rows('SHOW TAG VALUES FROM "gait_step" WITH KEY = "side"', db=db)
    assert sorted(r["value"] for r in tags) == ["L", "R"]


def test_nan_fields_are_absent_and_counted(influxd, db, tmp_path, sim_steps, t0_ns):
    steps = tile_steps(sim_steps, 40)
    for s in steps[::4]:
        s["contact_time_s"] = math.nan
    steps[3]["pelvic_drop_deg"] = math.inf
    steps[5]["side"] = "?"                                   # invalid: rejected, counted
    with open_writer(fast_cfg(influxd.url, tmp_path, database=db)) as w:
        assert w.write_steps(steps, sensor="s", session="x", t0_unix_ns=t0_ns) == 39
        assert w.flush(20)
        st = w.stats
    assert st.omitted_fields == {"contact_time_s": 10, "pelvic_drop_deg": 1}
    assert st.rejected_by_reason == {"invalid_input": 1}
    valid = steps[:5] + steps[6:]
    rows = influxd.rows('SELECT * FROM "gait_step"', db=db)
    assert_rows_match(rows, expected_rows(valid, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns))
    counts = influxd.rows('SELECT count("contact_time_s"), count("pelvic_drop_deg") FROM "gait_step"', db=db)
    assert counts[0]["count"] == 29 and counts[0]["count_1"] == 38


def test_other_measurements_and_queries(influxd, db, tmp_path, sim_steps, t0_ns):
    cfg = fast_cfg(influxd.url, tmp_path, database=db)
    week = 7 * 86400 * 10**9
    monday = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)        # a Monday
    m0 = int(monday.timestamp()) * 10**9
    with open_writer(cfg) as w:
        # week 1: two sessions, week 2: one session, another runner in week 2
        w.write_steps(sim_steps, sensor="s1", session="w1-a", t0_unix_ns=m0 + 3600 * 10**9)
        w.write_steps(sim_steps, sensor="s1", session="w1-b", t0_unix_ns=m0 + 2 * 86400 * 10**9)
        w.write_steps(sim_steps, sensor="s2", session="w2-a", t0_unix_ns=m0 + week + 10 * 3600 * 10**9)
        w.write_steps(sim_steps[:10], sensor="s9", session="bob-1", t0_unix_ns=m0 + week, runner="bob")
        w.write_session_summary({"steps": len(sim_steps), "L": {"mean": 5.5}, "R": {"mean": 4.5}},
                                sensor="s1", session="w1-b", t_unix_ns=m0 + 2 * 86400 * 10**9 + 60 * 10**9)
        w.write_session_summary({"steps": len(sim_steps), "L": {"mean": 6.5}, "R": {"mean": 3.5}},
                                sensor="s2", session="w2-a", t_unix_ns=m0 + week + 11 * 3600 * 10**9)
        w.write_sensor_status(sensor="s2", t_unix_ns=m0 + week, battery_pct=88, rssi_dbm=-70,
                              packets_received=12000, packets_lost=12, packets_rejected=1, reconnects=0)
        w.write_exercise(exercise="clamshell", t_unix_ns=m0 + week + 86400 * 10**9, sets=3, reps=15,
                         note="left side")
        assert w.flush(20)
    with GaitQuery(cfg) as q:
        sessions = q.sessions("alice")
        assert [s.session for s in sessions] == ["w1-a", "w1-b", "w2-a"]
        assert all(s.steps == len(sim_steps) for s in sessions)
        first_ic = round(sim_steps[0].t_ic_s * 1e9)
        assert sessions[0].start_ns == m0 + 3600 * 10**9 + first_ic
        assert sessions[2].sensor == "s2"
        assert [s.session for s in q.sessions("alice", since=m0 + week)] == ["w2-a"]
        assert [s.session for s in q.sessions("bob")] == ["bob-1"]

        means = q.weekly_side_means("alice", since=m0 - week, until=m0 + 3 * week)
        assert [(m.week_start_ns, m.side) for m in means] == [(m0, "L"), (m0, "R"), (m0 + week, "L"),
                                                               (m0 + week, "R")]
        for m in means:
            drops = [s.pelvic_drop_deg for s in sim_steps if s.side == m.side]
            n_sessions = 2 if m.week_start_ns == m0 else 1
            assert m.steps == n_sessions * len(drops)
            assert m.mean == pytest.approx(sum(drops) / len(drops), rel=1e-12)

        latest = q.latest_session_summary("alice")
        assert latest["session"] == "w2-a" and latest["L_mean"] == 6.5 and latest["R_mean"] == 3.5
        assert latest["time"] == m0 + week + 11 * 3600 * 10**9
        assert q.latest_session_summary("nobody") is None

        steps = q.session_steps("alice", "w1-b")
        assert len(steps) == len(sim_steps)
        assert [s["stride_index"] for s in steps] == [s.stride_index for s in sim_steps]
        assert steps[0]["pelvic_drop_deg"] == sim_steps[0].pelvic_drop_deg
    status = influxd.rows('SELECT * FROM "sensor_status"', db=db)
    assert status[0]["packets_lost"] == 12 and status[0]["battery_pct"] == 88
    ex = influxd.rows('SELECT * FROM "exercise"', db=db)
    assert ex[0]["exercise"] == "clamshell" and ex[0]["reps"] == 15 and ex[0]["note"] == "left side"


def test_session_steps_beyond_one_chunk(influxd, db, tmp_path, sim_steps, t0_ns):
    steps = tile_steps(sim_steps, 12_345)                   # > one 10k chunk of /query
    cfg = fast_cfg(influxd.url, tmp_path, database=db, batch_size=5000)
    with open_writer(cfg) as w:
        w.write_steps(steps, sensor="s", session="long", t0_unix_ns=t0_ns)
        assert w.flush(30)
    with GaitQuery(cfg) as q:
        got = q.session_steps("alice", "long")
    assert len(got) == 12_345
    assert [g["stride_index"] for g in got] == [s["stride_index"] for s in steps]


def test_retention_policies_route_raw_and_summary(influxd, tmp_path, sim_steps, t0_ns):
    name = "gait_rp_test"
    cfg = fast_cfg(influxd.url, tmp_path, database=name)
    settings = create_retention_policies(cfg, raw_duration="4w")
    assert settings == {"GAITMON_INFLUX_RP": "gaitmon_raw", "GAITMON_INFLUX_SUMMARY_RP": "gaitmon_forever"}
    create_retention_policies(cfg, raw_duration="8w")            # idempotent, updates duration
    rps = {r["name"]: r for r in influxd.rows(f'SHOW RETENTION POLICIES ON "{name}"')}
    assert rps["gaitmon_raw"]["duration"] == "1344h0m0s" and rps["gaitmon_forever"]["duration"] == "0s"
    assert rps["autogen"]["default"] is True                      # the default is left alone
    cfg = fast_cfg(influxd.url, tmp_path, database=name, rp="gaitmon_raw", summary_rp="gaitmon_forever")
    with open_writer(cfg) as w:
        w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)
        w.write_session_summary({"steps": 1}, sensor="s", session="x", t_unix_ns=t0_ns)
        assert w.flush(20)
    assert len(influxd.rows('SELECT * FROM "gaitmon_raw"."gait_step"', db=name)) == len(sim_steps)
    assert len(influxd.rows('SELECT * FROM "gaitmon_forever"."gait_session"', db=name)) == 1
    assert influxd.rows('SELECT * FROM "autogen"."gait_step"', db=name) == []
    with GaitQuery(cfg) as q:
        assert q.sessions("alice")[0].steps == len(sim_steps)
        assert q.latest_session_summary("alice")["steps"] == 1
    with pytest.raises(Exception, match="raw_duration"):
        create_retention_policies(cfg, raw_duration="30m")
    influxd.drop_db(name)


def test_missing_database_or_policy_is_a_clear_error(influxd, db, tmp_path):
    with pytest.raises(TargetNotFound, match="database does not exist.*GAITMON_INFLUX_DB"):
        open_writer(fast_cfg(influxd.url, tmp_path, database="no_such_db"))
    with pytest.raises(TargetNotFound, match="retention policy.*GAITMON_INFLUX_SUMMARY_RP"):
        open_writer(fast_cfg(influxd.url, tmp_path, database=db, summary_rp="nope"))


def test_v2_api_against_influxdb_16_says_what_to_do(influxd, db, tmp_path):
    cfg = fast_cfg(influxd.url, tmp_path, api="v2", bucket=db)
    with pytest.raises(ApiMismatch, match="GAITMON_INFLUX_API=v1"):
        open_writer(cfg)
    cfg = fast_cfg(influxd.url, tmp_path, bucket=db)                 # auto, only a bucket
    with pytest.raises(ApiMismatch, match="set GAITMON_INFLUX_DB"):
        open_writer(cfg)


def test_invalid_timestamps_and_tags_raise_or_count(influxd, db, tmp_path, sim_steps):
    with open_writer(fast_cfg(influxd.url, tmp_path, database=db)) as w:
        with pytest.raises(ValueError, match="sensor"):
            w.write_steps(sim_steps, sensor="", session="x", t0_unix_ns=0)
        with pytest.raises(ValueError, match="t_unix_ns"):
            w.write_session_summary({"a": 1}, sensor="s", session="x", t_unix_ns=1.5)
        assert w.write_steps(sim_steps[:3], sensor="s", session="x", t0_unix_ns=2**63 - 10) == 0
        assert w.stats.rejected_by_reason == {"invalid_input": 3}


def test_config_from_env_end_to_end(influxd, db, tmp_path, sim_steps, t0_ns):
    cfg = StoreConfig.from_env(environ={"GAITMON_INFLUX_URL": influxd.url, "GAITMON_INFLUX_DB": db,
                                        "GAITMON_RUNNER": "carol", "GAITMON_SPOOL_DIR": str(tmp_path)})
    with open_writer(cfg) as w:
        w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)
        assert w.flush(20)
    assert len(influxd.rows("SELECT * FROM gait_step WHERE runner = 'carol'", db=db)) == len(sim_steps)


@pytest.mark.parametrize("gzip", [True, False])
def test_gzip_on_the_wire(gzip, influxd, db, tmp_path, sim_steps, t0_ns):
    with FlakyProxy(influxd.url) as proxy:
        with open_writer(fast_cfg(proxy.url, tmp_path, database=db, gzip=gzip)) as w:
            w.write_steps(sim_steps, sensor="s", session="gz", t0_unix_ns=t0_ns)
            assert w.flush(20)
    assert proxy.encodings and set(proxy.encodings) == {"gzip" if gzip else None}
    assert_rows_match(influxd.rows("SELECT * FROM gait_step", db=db),
                      expected_rows(sim_steps, runner="alice", sensor="s", session="gz", t0_unix_ns=t0_ns))

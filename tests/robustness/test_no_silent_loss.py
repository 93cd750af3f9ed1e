"""Issue 12 item 2: a point that is not stored means a non-zero exit and a message saying how
many and why — never "exit 0" with points dropped (real influxd 1.6.7)."""
from __future__ import annotations

from gaitmon.cli import main
from gaitmon.sources.recording import write_recording
from tests.robustness.conftest import REC
from tests.store.helpers import FlakyProxy


def _steps_stored(influxd, db) -> int:
    rows = influxd.rows('SELECT count("quality") FROM "gait_step"', db=db)
    return int(rows[0]["count"]) if rows else 0


def test_field_type_conflict_is_an_error(influx_env, influxd, db, recording, capsys):
    # an earlier, foreign write made pelvic_drop_deg a string field: every step is refused
    # (field types are per shard: write it in the recording's week)
    influxd.write_lines(['gait_step,runner=x pelvic_drop_deg="high" 1767607200000000000'], db=db)
    rc = main(["import", str(recording), "--runner", "ann", "--influx-timeout", "20"])
    err = capsys.readouterr().err
    assert rc == 4
    assert "point(s) not stored" in err and "refused by the server" in err and "field type conflict" in err


def test_start_time_outside_influx_range_is_an_error(influx_env, influxd, db, tmp_path, capsys):
    p = tmp_path / "future.csv"
    write_recording(p, REC.time, REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up,
                                                    "start_utc": "2300-01-01T00:00:00Z"})
    rc = main(["import", str(p), "--runner", "ann", "--influx-timeout", "20"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "start_utc" in err or "not stored" in err
    assert _steps_stored(influxd, db) == 0


def test_tiny_spool_with_a_healthy_server_loses_nothing(influx_env, influxd, db, recording, capsys):
    influx_env.setenv("GAITMON_SPOOL_MAX_MB", "0.01")
    rc = main(["import", str(recording), "--runner", "ann", "--influx-timeout", "30"])
    err = capsys.readouterr().err
    assert rc == 0, err
    n = _steps_stored(influxd, db)
    assert n > 150


def test_exercise_log_refused_by_the_server_is_an_error(influx_env, influxd, db, capsys):
    with FlakyProxy(influxd.url, fail_first=10**6, status=400, retry_after=None) as proxy:
        influx_env.setenv("GAITMON_INFLUX_URL", proxy.url)
        rc = main(["exercise", "log", "--runner", "ann", "--no-grafana", "--timeout", "10"])
    err = capsys.readouterr().err
    assert rc == 4, err
    assert "1 point(s) not stored" in err and "refused by the server" in err


def test_store_flush_with_a_poison_row_is_an_error(influx_env, tmp_path, capsys):
    from gaitmon.store.spool import Spool

    sp = Spool(tmp_path / "spool", max_bytes=10**8)
    sp.append(0, ["not line protocol at all"])
    sp.close()
    rc = main(["store", "flush", "--timeout", "20"])
    out = capsys.readouterr()
    assert rc == 4
    assert "1 point(s) not stored" in out.err and "gaitmon store rejected" in out.err


def test_collect_with_points_refused_is_an_error(influx_env, influxd, db, tmp_path, capsys):
    import time

    # a foreign write made quality a string field in the current shard: every step is refused
    influxd.write_lines([f'gait_step,runner=x quality="bad" {time.time_ns()}'], db=db)
    rc = main(["collect", "--virtual", "1", "--duration", "12", "--no-live", "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 4, err
    assert "not stored" in err and "refused by the server" in err

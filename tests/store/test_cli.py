"""``gaitmon store ...`` against a real influxd, through the product's own entry point."""
from __future__ import annotations

import pytest

from gaitmon.cli import main
from gaitmon.store import open_writer
from gaitmon.store.spool import Spool
from tests.servers import free_port
from tests.store.conftest import fast_cfg


@pytest.fixture
def env(monkeypatch, influxd, db, tmp_path):
    for key, value in {"GAITMON_INFLUX_URL": influxd.url, "GAITMON_INFLUX_DB": db, "GAITMON_RUNNER": "alice",
                       "GAITMON_SPOOL_DIR": str(tmp_path / "spool")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "200")
    return monkeypatch


def test_check_ok_and_failures(env, influxd, capsys):
    assert main(["store", "check"]) == 0
    out = capsys.readouterr().out
    assert "v1 write API, server version 1.6.7" in out and "0 points waiting" in out
    env.setenv("GAITMON_INFLUX_DB", "missing_db")
    assert main(["store", "check"]) == 4
    assert "database does not exist" in capsys.readouterr().err
    env.setenv("GAITMON_INFLUX_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["store", "check"]) == 4
    assert "connection refused" in capsys.readouterr().err
    env.setenv("GAITMON_INFLUX_API", "v7")
    assert main(["store", "check"]) == 2
    assert "GAITMON_INFLUX_API" in capsys.readouterr().err


def test_flush_sessions_weekly_rejected(env, influxd, db, tmp_path, sim_steps, t0_ns, capsys):
    # points left in the spool by a run while the server was unreachable
    cfg = fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path / "spool", database=db)
    w = open_writer(cfg)
    w.write_steps(sim_steps, sensor="s1", session="track-1", t0_unix_ns=t0_ns)
    w.close(timeout=0.1)
    sp = Spool(tmp_path / "spool", max_bytes=10**8)
    sp.append(0, ["not line protocol at all"])
    sp.close()
    assert main(["store", "flush", "--timeout", "20"]) == 4  # one point refused: not a success (issue 12)
    out = capsys.readouterr().out
    assert f"{len(sim_steps) + 1} points were waiting, {len(sim_steps)} acknowledged, 0 still waiting" in out
    assert main(["store", "sessions"]) == 0
    out = capsys.readouterr().out
    assert "track-1" in out and str(len(sim_steps)) in out
    assert main(["store", "weekly", "--weeks", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count(" L ") + out.count(" R ") >= 2
    assert main(["store", "rejected"]) == 0
    out = capsys.readouterr().out
    assert "1 points refused" in out and "not line protocol at all" in out


def test_retention(env, influxd, db, capsys):
    assert main(["store", "retention", "--raw", "26w"]) == 0
    out = capsys.readouterr().out
    assert "GAITMON_INFLUX_RP=gaitmon_raw" in out and "GAITMON_INFLUX_SUMMARY_RP=gaitmon_forever" in out
    rps = {r["name"]: r["duration"] for r in influxd.rows(f'SHOW RETENTION POLICIES ON "{db}"')}
    assert rps["gaitmon_raw"] == "4368h0m0s" and rps["gaitmon_forever"] == "0s"
    assert main(["store", "retention", "--raw", "10m"]) == 2

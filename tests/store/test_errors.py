"""Clear errors and nothing lost: 5xx answers, wrong port, wrong credentials, refused points,
a full spool, a server that never answers."""
from __future__ import annotations

import logging
import threading
import time

import pytest

from gaitmon.store import AuthError, Secret, ServerUnavailable, StoreError, open_writer
from gaitmon.store.lineproto import encode_steps
from gaitmon.store.spool import Spool
from tests.servers import InfluxD, free_port
from tests.store.conftest import fast_cfg
from tests.store.helpers import FlakyProxy, SilentServer, assert_rows_match, expected_rows, tile_steps


def test_503_then_recovery(influxd, db, tmp_path, sim_steps, t0_ns, caplog):
    steps = tile_steps(sim_steps, 1000)
    with FlakyProxy(influxd.url, fail_first=0, retry_after="0") as proxy:
        cfg = fast_cfg(proxy.url, tmp_path, database=db, batch_size=100)
        with caplog.at_level(logging.INFO, logger="gaitmon.store"):
            with open_writer(cfg) as w:
                proxy.failing = 8                                   # the next 8 requests get 503
                w.write_steps(steps, sensor="s", session="x", t0_unix_ns=t0_ns)
                assert w.flush(30)
                st = w.stats
    assert proxy.failed == 8 and st.retries == 8
    assert st.sent == 1000 and st.spooled == 0 and st.last_error is None
    assert "server unavailable (HTTP 503" in caplog.text and "points kept in the spool" in caplog.text
    assert "server answers again" in caplog.text
    assert_rows_match(influxd.rows("SELECT * FROM gait_step", db=db),
                      expected_rows(steps, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns))


def test_wrong_port_keeps_points_until_fixed(influxd, db, tmp_path, sim_steps, t0_ns, caplog):
    wrong = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="gaitmon.store"):
        w = open_writer(fast_cfg(wrong, tmp_path, database=db))     # does not raise: spools
        w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)
        assert w.flush(1.0) is False
        st = w.stats
        w.close(timeout=0.5)
    assert st.spooled == len(sim_steps) and st.sent == 0 and st.retries > 0
    assert "no answer (connection refused)" in st.last_error and "GAITMON_INFLUX_URL" in st.last_error
    assert f"{len(sim_steps)} points are still in the spool" in caplog.text
    # the user fixes the URL: the next writer on the same spool delivers everything
    with open_writer(fast_cfg(influxd.url, tmp_path, database=db)) as w:
        assert w.stats.replayed == len(sim_steps)
        assert w.flush(20)
    assert_rows_match(influxd.rows("SELECT * FROM gait_step", db=db),
                      expected_rows(sim_steps, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns))


def test_wrong_credentials_are_clear_and_lose_nothing(tmp_path, sim_steps, t0_ns):
    with InfluxD(auth=("admin", "admin-pass")) as server:
        server.create_db("gait")
        right = dict(database="gait", username="admin", password=Secret("admin-pass"))
        wrong = dict(database="gait", username="admin", password=Secret("not-the-pass"))
        with pytest.raises(AuthError, match=r"refused the credentials \(HTTP 401: authorization failed\); "
                                            "check GAITMON_INFLUX_USER / GAITMON_INFLUX_PASSWORD"):
            open_writer(fast_cfg(server.url, tmp_path, **wrong))
        # without the start-up check the points stay spooled and flush() reports the reason
        w = open_writer(fast_cfg(server.url, tmp_path, **wrong), verify=False)
        w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)
        with pytest.raises(AuthError):
            w.flush(10)
        assert w.stats.spooled == len(sim_steps) and w.stats.sent == 0
        w.close(timeout=0.2)
        with open_writer(fast_cfg(server.url, tmp_path, **right)) as w:
            assert w.flush(20)
        assert_rows_match(server.rows("SELECT * FROM gait_step", db="gait"),
                          expected_rows(sim_steps, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns))


def test_refused_point_is_isolated_and_the_rest_lands(influxd, db, tmp_path, sim_steps, t0_ns, caplog):
    steps = tile_steps(sim_steps, 700)
    cfg = fast_cfg(influxd.url, tmp_path, database=db, batch_size=2000)
    # lines no server can parse sit in the spool among good points (e.g. left by a damaged or
    # foreign program): one inside a big row, one alone in its row
    lines = encode_steps(steps, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns).lines
    bad1, bad2 = "gait_step,runner=alice this is not line protocol", "gait_step pelvic_drop_deg=oops 1"
    sp = Spool(tmp_path, max_bytes=10**8)
    sp.append(0, lines[:333] + [bad1] + lines[333:600])
    sp.append(0, [bad2])
    sp.close()
    with caplog.at_level(logging.ERROR, logger="gaitmon.store"):
        with open_writer(cfg) as w:
            assert w.stats.replayed == 602
            w.write_steps(steps[600:], sensor="s", session="x", t0_unix_ns=t0_ns)
            assert w.flush(20)
            st = w.stats
    assert st.rejected_by_reason == {"server_refused": 2} and st.sent == 700
    assert caplog.text.count("moved to the spool's rejected table") == 2 and "HTTP 400" in caplog.text
    sp = Spool(tmp_path, max_bytes=10)
    assert sorted(r[0] for r in sp.rejected_rows()) == sorted([bad1, bad2])
    assert sp.pending == 0
    sp.close()
    assert_rows_match(influxd.rows("SELECT * FROM gait_step", db=db),
                      expected_rows(steps, runner="alice", sensor="s", session="x", t0_unix_ns=t0_ns))


def test_full_spool_is_loud_and_counted(tmp_path, sim_steps, t0_ns, caplog):
    cfg = fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path, database="g", spool_max_mb=0.02)
    line_len = 330  # about the size of one gait_step line
    with caplog.at_level(logging.WARNING, logger="gaitmon.store"):
        with open_writer(cfg) as w:
            n = w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)
            st = w.stats
            w.close(timeout=0.1)
    assert 0 < n < len(sim_steps) and abs(n - 20000 / line_len) < 15
    assert st.rejected_by_reason == {"spool_full": len(sim_steps) - n} and st.queued == n
    assert f"SPOOL FULL: {len(sim_steps) - n} points dropped" in caplog.text
    assert "full (" in caplog.text                                       # the 80 % warning


def test_writes_never_wait_for_a_hung_server(tmp_path, sim_steps, t0_ns):
    with SilentServer() as silent:
        cfg = fast_cfg(silent.url, tmp_path, database="g", timeout_s=30.0)
        w = open_writer(cfg, verify=False)
        w.write_steps(sim_steps[:5], sensor="s", session="x", t0_unix_ns=t0_ns)
        assert silent.got_request.wait(10)          # the sender is now stuck in a request ...
        done = threading.Event()

        def more():
            for i in range(5, len(sim_steps), 5):
                w.write_steps(sim_steps[i:i + 5], sensor="s", session="x", t0_unix_ns=t0_ns)
            done.set()
        threading.Thread(target=more, daemon=True).start()
        assert done.wait(10)                        # ... and the caller is not
        assert w.stats.queued == len(sim_steps) and w.stats.sent == 0
        assert w.flush(0.2) is False
    w.close(timeout=0.1)


def test_writer_refuses_writes_after_close(influxd, db, tmp_path, sim_steps, t0_ns):
    w = open_writer(fast_cfg(influxd.url, tmp_path, database=db))
    w.close()
    with pytest.raises(StoreError, match="closed"):
        w.write_steps(sim_steps, sensor="s", session="x", t0_unix_ns=t0_ns)


def test_unreachable_server_error_type(tmp_path):
    from gaitmon.store.http import HttpClient
    cfg = fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path, database="g")
    with pytest.raises(ServerUnavailable, match="connection refused"):
        HttpClient(cfg).request("GET", "/ping")


def test_idle_writer_does_not_pester_an_unreachable_server(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gaitmon.store"):
        w = open_writer(fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path, database="g"), verify=False)
        assert w.flush(1.0) is True                 # nothing to send: done
        time.sleep(0.5)                             # ten flush intervals of the test config
        assert w.stats.retries == 0 and w.stats.last_error is None
        w.close()
    assert caplog.text == ""

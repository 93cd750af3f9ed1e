"""Tokens and passwords never appear in logs, reprs or error messages — on every failure path."""
from __future__ import annotations

import base64
import logging

import pytest

from gaitmon.store import GaitQuery, Secret, StoreConfig, StoreError, open_writer
from tests.servers import InfluxD, VictoriaMetrics, free_port
from tests.store.conftest import fast_cfg
from tests.store.helpers import FlakyProxy

TOKEN = "tok-SECRET-5b1e0c"
PASSWORD = "pw-SECRET-93aa1f"
FORBIDDEN = (TOKEN, PASSWORD, base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
             base64.b64encode(f"gaitmon:{PASSWORD}".encode()).decode(), "SECRET")


def assert_clean(*texts):
    for text in texts:
        for secret in FORBIDDEN:
            assert secret not in text, f"secret leaked into: {text[:300]}"


def exercise_writer(cfg, sim_steps, t0_ns):
    """Open (both with and without the start-up check), write, flush, close; collect texts."""
    texts = [repr(cfg), str(cfg), cfg.describe()]
    try:
        open_writer(cfg).close(timeout=0.2)
    except StoreError as e:
        texts += [str(e), repr(e), repr(e.args)]
    w = open_writer(cfg, verify=False)
    w.write_steps(sim_steps[:20], sensor="s", session="x", t0_unix_ns=t0_ns)
    try:
        w.flush(1.0)
    except StoreError as e:
        texts += [str(e), repr(e)]
    texts += [repr(w), repr(w.stats), str(w.stats.last_error)]
    w.close(timeout=0.2)
    return texts


def test_no_secret_anywhere(tmp_path, sim_steps, t0_ns, caplog):
    caplog.set_level(logging.DEBUG)                    # everything, urllib3 and influxdb_client too
    texts = []
    with InfluxD(auth=("admin", "right-pass")) as influx, VictoriaMetrics(auth=("gaitmon", "right")) as vm:
        influx.create_db("gait")
        # v1, wrong password
        texts += exercise_writer(fast_cfg(influx.url, tmp_path / "1", database="gait", username="admin",
                                          password=Secret(PASSWORD)), sim_steps, t0_ns)
        # v2, wrong token; v2, wrong Basic password
        texts += exercise_writer(fast_cfg(vm.url, tmp_path / "2", bucket="gait", token=Secret(TOKEN)),
                                 sim_steps, t0_ns)
        texts += exercise_writer(fast_cfg(vm.url, tmp_path / "3", bucket="gait", username="gaitmon",
                                          password=Secret(PASSWORD)), sim_steps, t0_ns)
        # unreachable, with a token
        texts += exercise_writer(fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path / "4", bucket="gait",
                                          token=Secret(TOKEN), api="v2"), sim_steps, t0_ns)
        # 503 from a proxy, with a token, then the real server refusing it
        with FlakyProxy(influx.url, fail_first=3) as proxy:
            texts += exercise_writer(fast_cfg(proxy.url, tmp_path / "5", database="gait", token=Secret(TOKEN)),
                                     sim_steps, t0_ns)
        # queries with wrong credentials
        with GaitQuery(fast_cfg(influx.url, tmp_path, database="gait", username="admin",
                                password=Secret(PASSWORD))) as q:
            with pytest.raises(StoreError) as e:
                q.sessions("alice")
            texts += [str(e.value), repr(e.value)]
    # configuration errors that involve secrets
    for environ in ({"GAITMON_INFLUX_URL": f"http://admin:{PASSWORD}@h:1", "GAITMON_INFLUX_DB": "g"},
                    {"GAITMON_INFLUX_URL": "http://h:1", "GAITMON_INFLUX_DB": "g", "GAITMON_INFLUX_PASSWORD": PASSWORD},
                    {"GAITMON_INFLUX_URL": "http://h:1", "GAITMON_INFLUX_BUCKET": "b", "GAITMON_INFLUX_TOKEN": TOKEN,
                     "GAITMON_INFLUX_TIMEOUT_S": "x"}):
        with pytest.raises(StoreError) as e:
            StoreConfig.from_env(environ=environ)
        texts += [str(e.value), repr(e.value)]
    everything = texts + [caplog.text]                                  # the failures really happened
    assert sum("refused the credentials" in t for t in texts) >= 8
    assert "HTTP 503" in caplog.text and any("connection refused" in t for t in texts)
    assert "(HTTP 401: Unauthorized); check GAITMON_INFLUX_TOKEN" in caplog.text       # v2 token
    assert "(HTTP 401: authorization failed); check GAITMON_INFLUX_USER" in caplog.text  # v1 user
    assert len(caplog.records) > 10
    assert_clean(*everything, *(str(r.args) for r in caplog.records))

"""``gaitmon dashboards push`` and ``gaitmon exercise log`` against a Grafana API stub (and,
for the exercise log, the real influxd): exact requests, idempotence, secrets kept out of logs."""
from __future__ import annotations

import json
import logging

import pytest

from gaitmon.cli import main
from tests.dashboards.grafana_stub import GrafanaStub
from tests.dashboards.grafana_run import JSON_DIR

TOKEN = "glsa_stubtoken_0123456789"
INFLUX_TOKEN = "influx-secret-token-abc"


@pytest.fixture
def env(monkeypatch, tmp_path):
    for k in list(__import__("os").environ):
        if k.startswith("GAITMON_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("GAITMON_GRAFANA_TOKEN", TOKEN)
    monkeypatch.setenv("GAITMON_SPOOL_DIR", str(tmp_path / "spool"))
    return monkeypatch


def _calls(stub):
    return [(r.method, r.path) for r in stub.requests]


def test_push_creates_then_updates(env, capsys, caplog):
    env.setenv("GAITMON_INFLUX_URL", "http://influxdb:8086")
    env.setenv("GAITMON_INFLUX_API", "v2")
    env.setenv("GAITMON_INFLUX_TOKEN", INFLUX_TOKEN)
    env.setenv("GAITMON_INFLUX_ORG", "club")
    env.setenv("GAITMON_INFLUX_BUCKET", "gaitmon")
    caplog.set_level(logging.DEBUG)
    dashboards = {p.name: json.loads(p.read_text()) for p in sorted(JSON_DIR.glob("*.json"))}
    with GrafanaStub(token=TOKEN) as g:
        assert main(["dashboards", "push", "--grafana-url", g.url]) == 0
        first = _calls(g)
        assert first == [("GET", "/api/health"), ("POST", "/api/folders"), ("GET", "/api/datasources/uid/gaitmon-influxdb"),
                         ("POST", "/api/datasources")] + [("POST", "/api/dashboards/db")] * 3
        assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in g.requests[1:])
        assert g.requests[1].body == {"uid": "gaitmon", "title": "gaitmon"}
        ds = g.requests[3].body
        assert ds["uid"] == "gaitmon-influxdb" and ds["type"] == "influxdb" and ds["url"] == "http://influxdb:8086"
        assert ds["jsonData"] == {"version": "InfluxQL", "dbName": "gaitmon", "httpMode": "POST", "timeInterval": "1s",
                                  "httpHeaderName1": "Authorization"}
        assert ds["secureJsonData"] == {"httpHeaderValue1": f"Token {INFLUX_TOKEN}"}
        pushed = {r.body["dashboard"]["uid"]: r.body for r in g.requests[4:]}
        for name, model in dashboards.items():
            body = pushed[model["uid"]]
            assert body["folderUid"] == "gaitmon" and body["overwrite"] is True
            sent = body["dashboard"]
            ds_var = [v for v in sent["templating"]["list"] if v["name"] == "datasource"][0]
            assert ds_var["current"]["value"] == "gaitmon-influxdb"
            ds_var.pop("current")
            model_var = [v for v in model["templating"]["list"] if v["name"] == "datasource"][0]
            model_var.pop("current", None)
            assert sent == model, f"{name} was not pushed as generated"

        # second run: same folder kept (409), data source updated in place, dashboards overwritten
        g.requests.clear()
        assert main(["dashboards", "push", "--grafana-url", g.url]) == 0
        assert _calls(g) == [("GET", "/api/health"), ("POST", "/api/folders"), ("GET", "/api/datasources/uid/gaitmon-influxdb"),
                             ("PUT", "/api/datasources/uid/gaitmon-influxdb")] + [("POST", "/api/dashboards/db")] * 3
        assert len(g.folders) == 1 and len(g.datasources) == 1 and len(g.dashboards) == 3
        assert all(d["dashboard"]["version"] == 2 for d in g.dashboards.values())
    out = capsys.readouterr()
    text = out.out + out.err + caplog.text
    assert TOKEN not in text and INFLUX_TOKEN not in text
    assert "gaitmon-long-term" in out.out


def test_push_v1_database_with_password(env):
    env.setenv("GAITMON_INFLUX_URL", "http://nas:8086")
    env.setenv("GAITMON_INFLUX_DB", "gait")
    env.setenv("GAITMON_INFLUX_USER", "grafana")
    env.setenv("GAITMON_INFLUX_PASSWORD", "pw-123")
    with GrafanaStub(token=TOKEN) as g:
        assert main(["dashboards", "push", "--grafana-url", g.url, "--influx-url", "http://influx.lan:8086"]) == 0
        ds = g.datasources["gaitmon-influxdb"]
        assert ds["url"] == "http://influx.lan:8086" and ds["jsonData"]["dbName"] == "gait" and ds["user"] == "grafana"
        assert ds["secureJsonData"] == {"password": "pw-123"} and "httpHeaderName1" not in ds["jsonData"]


def test_push_wrong_token_is_a_clear_error(env, capsys):
    env.setenv("GAITMON_INFLUX_URL", "http://influxdb:8086")
    env.setenv("GAITMON_INFLUX_DB", "gait")
    with GrafanaStub(token="the-right-one") as g:
        assert main(["dashboards", "push", "--grafana-url", g.url]) == 4
        assert _calls(g) == [("GET", "/api/health"), ("POST", "/api/folders")]
    err = capsys.readouterr().err
    assert "refused the credentials" in err and "GAITMON_GRAFANA_TOKEN" in err and TOKEN not in err


def test_push_unreachable_and_bad_settings(env, capsys):
    from tests.servers import free_port

    env.setenv("GAITMON_INFLUX_URL", "http://influxdb:8086")
    env.setenv("GAITMON_INFLUX_DB", "gait")
    assert main(["dashboards", "push", "--grafana-url", f"http://127.0.0.1:{free_port()}"]) == 4
    assert "cannot reach Grafana" in capsys.readouterr().err
    assert main(["dashboards", "push", "--grafana-url", "http://admin:pw@grafana:3000"]) == 2
    err = capsys.readouterr().err
    assert "no credentials in the Grafana URL" in err and "pw" not in err.replace("GAITMON_GRAFANA_PASSWORD", "")
    env.delenv("GAITMON_GRAFANA_TOKEN")
    assert main(["dashboards", "push", "--grafana-url", "http://grafana:3000"]) == 2
    assert "GAITMON_GRAFANA_TOKEN" in capsys.readouterr().err


def test_exercise_log_influx_and_annotation(env, dash_influxd, capsys):
    db = "gaitmon_exercise"
    dash_influxd.create_db(db)
    env.setenv("GAITMON_INFLUX_URL", dash_influxd.url)
    env.setenv("GAITMON_INFLUX_DB", db)
    with GrafanaStub(token=TOKEN) as g:
        args = ["exercise", "log", "--runner", "alice", "--at", "2025-03-01T18:30:00Z", "--grafana-url", g.url]
        assert main(args) == 0
        assert _calls(g) == [("GET", "/api/annotations"), ("POST", "/api/annotations")]
        t_ms = 1740853800000
        assert sorted(g.requests[0].query) == sorted([
            ("from", str(t_ms)), ("to", str(t_ms)), ("dashboardUID", "gaitmon-long-term"), ("type", "annotation"),
            ("tags", "gaitmon"), ("tags", "exercise"), ("tags", "runner:alice"), ("tags", "hip_abduction_hold")])
        text = "hip abduction hold · 3 x 30 s hold · both sides"
        assert g.requests[1].body == {"dashboardUID": "gaitmon-long-term", "panelId": None, "time": t_ms,
                                      "timeEnd": t_ms, "tags": ["gaitmon", "exercise", "runner:alice",
                                                                "hip_abduction_hold"], "text": text}
        # the same entry again: written again to InfluxDB (same key, harmless), no second annotation
        g.requests.clear()
        assert main(args) == 0
        assert _calls(g) == [("GET", "/api/annotations")]
        assert len(g.annotations) == 1
        assert main(["exercise", "log", "--runner", "alice", "--at", "2025-03-04T18:30:00Z", "--side", "L",
                     "--sets", "4", "--hold-s", "45", "--note", "felt strong", "--grafana-url", g.url]) == 0
        assert g.annotations[-1]["text"] == "hip abduction hold · 4 x 45 s hold · side L · felt strong"
    rows = dash_influxd.rows('SELECT * FROM "exercise"', db)
    assert [(r["time"], r["runner"], r["exercise"], r["sets"], r["hold_s"], r["note"]) for r in rows] == [
        (1740853800 * 10**9, "alice", "hip_abduction_hold", 3, 30.0, text),
        (1741113000 * 10**9, "alice", "hip_abduction_hold", 4, 45.0,
         "hip abduction hold · 4 x 45 s hold · side L · felt strong")]
    assert TOKEN not in capsys.readouterr().out


def test_exercise_log_bad_input(env, capsys):
    env.setenv("GAITMON_INFLUX_URL", "http://127.0.0.1:9")
    env.setenv("GAITMON_INFLUX_DB", "gait")
    assert main(["exercise", "log", "--runner", "alice", "--sets", "0", "--no-grafana"]) == 2
    assert "--sets" in capsys.readouterr().err
    assert main(["exercise", "log", "--runner", "alice", "--at", "yesterday", "--no-grafana"]) == 2
    assert "ISO 8601" in capsys.readouterr().err
    assert main(["exercise", "log", "--no-grafana"]) == 2
    assert "runner" in capsys.readouterr().err

"""The provisioned alert rules evaluated at the end of the simulated history: the InfluxQL runs
on the real influxd (``$timeFilter`` from each query's relativeTimeRange, as Grafana's alerting
does), the reduce / math / threshold expressions are evaluated as Grafana's server-side
expressions do for the subset used (one number per label set)."""
from __future__ import annotations

import re

import pytest
import yaml

from dashboards import alerts
from gaitmon.grafana.template import time_filter

RULES = yaml.safe_load(alerts.RULES_FILE.read_text())["groups"][0]["rules"]


def evaluate(rule, influx, db, now_ms) -> dict[tuple, float]:
    """Label set -> value of the condition for every instance that fires."""
    values: dict[str, dict[tuple, float | list]] = {}
    for q in rule["data"]:
        m, ref = q["model"], q["refId"]
        if q["datasourceUid"] != "__expr__":
            rt = q["relativeTimeRange"]
            text = m["query"].replace("$timeFilter", time_filter(now_ms - rt["from"] * 1000, now_ms - rt["to"] * 1000))
            out = {}
            for s in influx.query(text, db)[0].get("series", []):
                col = [row[1] for row in s["values"] if row[1] is not None]
                out[tuple(sorted(s.get("tags", {}).items()))] = col
            values[ref] = out
        elif m["type"] == "reduce":
            assert m["reducer"] == "last" and m["settings"]["mode"] == "dropNN"
            values[ref] = {k: v[-1] for k, v in values[m["expression"]].items() if v}
        elif m["type"] == "math":
            refs = re.findall(r"\$(\w+)", m["expression"])
            keys = set.intersection(*(set(values[r]) for r in refs))
            expr = re.sub(r"\$(\w+)", r"v['\1']", m["expression"])
            values[ref] = {k: eval(expr, {"abs": abs}, {"v": {r: values[r][k] for r in refs}}) for k in keys}
        elif m["type"] == "threshold":
            [cond] = m["conditions"]
            op, (limit,) = cond["evaluator"]["type"], cond["evaluator"]["params"]
            src = values[m["expression"]]
            values[ref] = {k: v for k, v in src.items() if (v > limit if op == "gt" else v < limit)}
    return values[rule["condition"]]


def _firing(rule, history, influx):
    return {dict(k).get("runner"): v for k, v in evaluate(rule, influx, history.db, history.now_ms).items()}


def _rules(kind):
    return [r for r in RULES if r["labels"]["kind"] == kind]


def test_drop_rule_uses_the_per_runner_threshold(history, dash_influxd):
    fired = {}
    for rule in _rules("drop"):
        fired.update(_firing(rule, history, dash_influxd))
    assert fired == {}  # alice's live drop (~8.5°) is above the default 8° but below her own 9°
    defaults, runners = alerts.load_thresholds()
    assert runners["alice"]["drop_high_deg"] == 9.0 and defaults["drop_high_deg"] == 8.0
    # with the default threshold alice would fire: her override is what keeps it quiet
    lowered = alerts.rules(defaults, {})
    got = {}
    for rule in [r for r in lowered if r["labels"]["kind"] == "drop"]:
        got.update(_firing(rule, history, dash_influxd))
    assert set(got) == {"alice"} and got["alice"] > 8.0


def test_asymmetry_fatigue_battery_packet_loss(history, dash_influxd):
    asym = {}
    for rule in _rules("asymmetry"):
        asym.update(_firing(rule, history, dash_influxd))
    assert set(asym) == {"bea.o"} and asym["bea.o"] == pytest.approx(4.0, abs=0.6)
    fatigue = {}
    for rule in _rules("fatigue"):
        fatigue.update(_firing(rule, history, dash_influxd))
    assert set(fatigue) == {"alice"} and fatigue["alice"] > 2.0
    battery = _firing([r for r in RULES if r["uid"] == "gaitmon-battery-low"][0], history, dash_influxd)
    assert set(battery) == {"bea.o"} and battery["bea.o"] == pytest.approx(15.0)
    loss = _firing([r for r in RULES if r["uid"] == "gaitmon-packet-loss"][0], history, dash_influxd)
    assert set(loss) == {"alice"} and loss["alice"] == pytest.approx(8.0, abs=0.5)


def test_every_runner_checked_exactly_once():
    defaults, runners = alerts.load_thresholds()
    for kind in ("drop", "asymmetry", "fatigue"):
        queries = [r["data"][0]["model"]["query"] for r in _rules(kind)]
        assert len(queries) == 1 + len(runners)
        assert "\"runner\" !~ /^(alice)$/" in queries[0] and "\"runner\" = 'alice'" in queries[1]


def test_thresholds_file_errors(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text("[defaults]\ndrop_hihg_deg = 7\n")
    with pytest.raises(ValueError, match="drop_hihg_deg"):
        alerts.load_thresholds(bad)
    bad.write_text("[runners.bob]\nbattery_low_pct = 5\n")
    with pytest.raises(ValueError, match="per runner"):
        alerts.load_thresholds(bad)


def test_session_fatigue_rule_fires_on_flagged_sessions(history, dash_influxd):
    """`gaitmon report` writes `fatigue` points (docs/physio.md); the rule fires on flagged ones."""
    from gaitmon.analysis.fatigue import fatigue_drift  # noqa: F401  (the producer of these points)

    t = history.now_ms * 1_000_000 - 3600 * 10**9
    dash_influxd.write_lines([
        f'fatigue,runner=cara,session=s1,side=L flagged=1,rise_deg=2.4 {t}',
        f'fatigue,runner=cara,session=s1,side=R flagged=0,rise_deg=0.3 {t}',
        f'fatigue,runner=dan,session=s2,side=L flagged=0,rise_deg=0.2 {t}',
    ], history.db)
    rule = [r for r in RULES if r["uid"] == "gaitmon-session-fatigue"][0]
    fired = {(dict(k)["runner"], dict(k)["side"]) for k in evaluate(rule, dash_influxd, history.db, history.now_ms)}
    assert fired == {("cara", "L")}

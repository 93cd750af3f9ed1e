"""Grafana alert rules (file provisioning) generated from ``deploy/grafana/alert-thresholds.toml``.

Rules (all on the InfluxDB data source ``gaitmon-influxdb``, one alert instance per runner):

* sustained pelvic drop above the runner's threshold,
* L/R asymmetry above the threshold,
* rising drop within a run (fatigue): last 5 minutes vs 30..20 minutes ago,
* sensor battery low, BLE packet loss high (one instance per runner and sensor).

A runner with an override gets rules of its own (``"runner" = 'name'``); the default rules
exclude the runners with overrides, so every runner is checked against exactly one threshold.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .influxql import INFLUX_TYPE

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS_FILE = ROOT / "deploy" / "grafana" / "alert-thresholds.toml"
RULES_FILE = ROOT / "deploy" / "grafana" / "provisioning" / "alerting" / "gaitmon-alerts.yaml"
DATASOURCE_UID = "gaitmon-influxdb"
FOLDER = "gaitmon"
EXPR = {"type": "__expr__", "uid": "__expr__"}
DEFAULTS = {"drop_high_deg": 8.0, "drop_window_min": 10, "drop_for_min": 5, "asymmetry_deg": 3.0,
            "fatigue_rise_deg": 2.0, "battery_low_pct": 20.0, "packet_loss_pct": 5.0}
PER_RUNNER = ("drop_high_deg", "asymmetry_deg", "fatigue_rise_deg")
GOOD = '"quality" >= 0.5'


def load_thresholds(path: Path = THRESHOLDS_FILE) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """``(defaults, {runner: overrides})`` from the TOML file; unknown keys are an error."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"defaults", "runners"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {sorted(unknown)}")
    defaults = dict(DEFAULTS)
    for key, value in data.get("defaults", {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"{path}: unknown key defaults.{key} (known: {', '.join(DEFAULTS)})")
        defaults[key] = float(value)
    runners: dict[str, dict[str, float]] = {}
    for runner, values in data.get("runners", {}).items():
        for key in values:
            if key not in PER_RUNNER:
                raise ValueError(f"{path}: runners.{runner}.{key}: only {', '.join(PER_RUNNER)} can be set per runner")
        runners[runner] = {k: float(v) for k, v in values.items()}
    return defaults, runners


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _regex_escape(value: str) -> str:
    out = []
    for ch in value:
        out.append("\\" + ch if ch in "\\^$*+?.()|[]{}/" else ch)
    return "".join(out)


def _query(ref: str, query: str, seconds_from: int, seconds_to: int = 0) -> dict[str, Any]:
    return {"refId": ref, "relativeTimeRange": {"from": seconds_from, "to": seconds_to},
            "datasourceUid": DATASOURCE_UID,
            "model": {"refId": ref, "datasource": {"type": INFLUX_TYPE, "uid": DATASOURCE_UID}, "query": query,
                      "rawQuery": True, "resultFormat": "time_series", "intervalMs": 1000, "maxDataPoints": 43200}}


def _reduce(ref: str, of: str, reducer: str = "last") -> dict[str, Any]:
    return {"refId": ref, "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0},
            "model": {"refId": ref, "datasource": dict(EXPR), "type": "reduce", "expression": of, "reducer": reducer,
                      "settings": {"mode": "dropNN"}}}


def _math(ref: str, expression: str) -> dict[str, Any]:
    return {"refId": ref, "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0},
            "model": {"refId": ref, "datasource": dict(EXPR), "type": "math", "expression": expression}}


def _threshold(ref: str, of: str, op: str, value: float) -> dict[str, Any]:
    return {"refId": ref, "datasourceUid": "__expr__", "relativeTimeRange": {"from": 0, "to": 0},
            "model": {"refId": ref, "datasource": dict(EXPR), "type": "threshold", "expression": of,
                      "conditions": [{"evaluator": {"type": op, "params": [value]}}]}}


def _rule(uid: str, title: str, data: list[dict], *, for_min: float, summary: str, description: str,
          severity: str, kind: str) -> dict[str, Any]:
    return {"uid": uid, "title": title, "condition": data[-1]["refId"], "data": data,
            "noDataState": "OK", "execErrState": "Error", "for": f"{int(for_min)}m", "isPaused": False,
            "annotations": {"summary": summary, "description": description,
                            "runbook_url": "https://github.com/gaitmon/gaitmon/blob/main/docs/dashboards.md#alerts"},
            "labels": {"app": "gaitmon", "severity": severity, "kind": kind}}


def _runner_where(runner: str | None, others: list[str]) -> str:
    if runner is not None:
        return f'"runner" = {_literal(runner)}'
    if others:
        return '"runner" !~ /^(' + "|".join(_regex_escape(r) for r in sorted(others)) + ')$/'
    return '"runner" =~ /.+/'


def rules(defaults: dict[str, float], runners: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """All alert rules as Grafana provisioning dicts."""
    out = []
    window_s = int(defaults["drop_window_min"] * 60)
    for runner in [None, *sorted(runners)]:
        limits = {**defaults, **(runners.get(runner, {}) if runner else {})}
        where = _runner_where(runner, list(runners))
        suffix = f"-{runner}" if runner else ""
        who = f"runner {runner}" if runner else "runners without an own threshold"
        out.append(_rule(
            f"gaitmon-drop{suffix}"[:40], f"Pelvic drop above {limits['drop_high_deg']:g}° ({who})",
            [_query("A", f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {where} AND {GOOD} AND $timeFilter '
                         'GROUP BY "runner"', window_s),
             _reduce("B", "A"), _threshold("C", "B", "gt", limits["drop_high_deg"])],
            for_min=defaults["drop_for_min"], severity="warning", kind="drop",
            summary="{{ $labels.runner }}: mean pelvic drop {{ humanize $values.B.Value }}° over the last "
                    f"{defaults['drop_window_min']:g} min (threshold {limits['drop_high_deg']:g}°)",
            description="The pelvis on the swing side drops more than agreed for this runner, sustained. Consider "
                        "easing the pace or ending the session; check form and hip strength."))
        out.append(_rule(
            f"gaitmon-asym{suffix}"[:40], f"L/R asymmetry above {limits['asymmetry_deg']:g}° ({who})",
            [_query("A", 'SELECT mean("L") - mean("R") AS "asymmetry" FROM '
                         f'(SELECT "pelvic_drop_deg" AS "L" FROM "gait_step" WHERE {where} AND "side" = \'L\' AND {GOOD} '
                         'AND $timeFilter GROUP BY "runner"), '
                         f'(SELECT "pelvic_drop_deg" AS "R" FROM "gait_step" WHERE {where} AND "side" = \'R\' AND {GOOD} '
                         'AND $timeFilter GROUP BY "runner") GROUP BY "runner"', window_s),
             _reduce("B", "A"), _math("C", "abs($B)"), _threshold("D", "C", "gt", limits["asymmetry_deg"])],
            for_min=defaults["drop_for_min"], severity="warning", kind="asymmetry",
            summary="{{ $labels.runner }}: left/right drop differs by {{ humanize $values.C.Value }}° "
                    f"(threshold {limits['asymmetry_deg']:g}°)",
            description="Mean drop on left stance minus right stance over the window. A new or growing side "
                        "difference can mean a niggle on one side."))
        out.append(_rule(
            f"gaitmon-fatigue{suffix}"[:40], f"Pelvic drop rising within the run by > {limits['fatigue_rise_deg']:g}° ({who})",
            [_query("A", f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {where} AND {GOOD} AND $timeFilter '
                         'GROUP BY "runner"', 300),
             _query("B", f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {where} AND {GOOD} AND $timeFilter '
                         'GROUP BY "runner"', 1800, 1200),
             _reduce("C", "A"), _reduce("D", "B"), _math("E", "$C - $D"),
             _threshold("F", "E", "gt", limits["fatigue_rise_deg"])],
            for_min=0, severity="info", kind="fatigue",
            summary="{{ $labels.runner }}: drop of the last 5 min is {{ humanize $values.E.Value }}° above "
                    "that of 20–30 min ago",
            description="Hip abductors tiring: the drop grows as the run goes on. Only fires in runs longer than "
                        "30 minutes (there is nothing to compare with before)."))
    out.append(_rule(
        "gaitmon-session-fatigue", "Session flagged for fatigue drift (report / analysis)",
        [_query("A", 'SELECT max("flagged") FROM "fatigue" WHERE $timeFilter GROUP BY "runner", "side"', 6 * 3600),
         _reduce("B", "A"), _threshold("C", "B", "gt", 0.5)],
        for_min=0, severity="info", kind="session-fatigue",
        summary="{{ $labels.runner }}: the drop on {{ $labels.side }} stance rose beyond the fatigue threshold "
                "during a recent session",
        description="Written by `gaitmon report` (measurement `fatigue`, see docs/physio.md): the drop rose by more "
                    "than the configured threshold over the session with a confidence interval above zero."))
    out.append(_rule(
        "gaitmon-battery-low", f"Sensor battery below {defaults['battery_low_pct']:g}%",
        [_query("A", 'SELECT last("battery_pct") FROM "sensor_status" WHERE $timeFilter GROUP BY "runner", "sensor"',
                600),
         _reduce("B", "A"), _threshold("C", "B", "lt", defaults["battery_low_pct"])],
        for_min=0, severity="info", kind="sensor",
        summary="{{ $labels.runner }}: sensor {{ $labels.sensor }} battery at {{ humanize $values.B.Value }}%",
        description="Charge the sensor before the next session."))
    out.append(_rule(
        "gaitmon-packet-loss", f"BLE packet loss above {defaults['packet_loss_pct']:g}%",
        [_query("A", 'SELECT spread("packets_lost") / (spread("packets_lost") + spread("packets_received")) * 100 '
                     'FROM "sensor_status" WHERE $timeFilter GROUP BY "runner", "sensor"', 300),
         _reduce("B", "A"), _threshold("C", "B", "gt", defaults["packet_loss_pct"])],
        for_min=0, severity="warning", kind="sensor",
        summary="{{ $labels.runner }}: {{ humanize $values.B.Value }}% of the packets of sensor "
                "{{ $labels.sensor }} lost in the last 5 min",
        description="The gateway is too far away or blocked; steps may be missed. Move the gateway or the phone "
                    "closer to the track."))
    return out


def provisioning(defaults: dict[str, float], runners: dict[str, dict[str, float]]) -> dict[str, Any]:
    return {"apiVersion": 1,
            "groups": [{"orgId": 1, "name": "gaitmon", "folder": FOLDER, "interval": "1m",
                        "rules": rules(defaults, runners)}]}


def generate() -> dict[Path, str]:
    import yaml

    header = ("# GENERATED by `python -m dashboards.build` from deploy/grafana/alert-thresholds.toml.\n"
              "# Edit the thresholds there, not here.\n")
    doc = provisioning(*load_thresholds())
    return {RULES_FILE: header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)}

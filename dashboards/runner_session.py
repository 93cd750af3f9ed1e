"""Runner session: one run of one runner, step by step.

Per-step pelvic drop L/R with the reference band, drop vs cadence, cadence, contact time,
vertical oscillation, L−R asymmetry and drift within the run, step quality, sensor status.
"""
from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, timeseries, xychart
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from . import thresholds as th
from .common import (CM, COUNT, DEG, PCT, RUNNER, SECONDS, SESSION, SIDE, SPM, datasource_variable,
                     drop_thresholds, plain_thresholds, runner_variable, session_variable, side_overrides,
                     side_variable, stat_options, targets, thresholds, to_dict)
from .influxql import InfluxQL

UID = "gaitmon-runner-session"
STEPS = f'FROM "gait_step" WHERE {RUNNER} AND {SESSION} AND {SIDE}'
GOOD = '"quality" >= ' + repr(th.MIN_QUALITY)


def _mean_over_time(field: str) -> InfluxQL:
    return InfluxQL(f'SELECT mean("{field}") {STEPS} AND $timeFilter GROUP BY time($__interval) fill(none)').alias(
        field)


def _ts(title: str, description: str, unit: str, thr, *queries: InfluxQL, w: int = 8, h: int = 8):
    p = (timeseries.Panel().title(title).description(description).unit(unit).thresholds(thr)
         .span(w).height(h))
    return targets(p, queries)


def build() -> dict:
    d = (db.Dashboard("gaitmon · Runner session").uid(UID).tags(["gaitmon", "running", "pelvic-drop"])
         .description("One session of one runner: contralateral pelvic drop per step and the running form around it.")
         .time("now-6h", "now").timezone("browser").refresh("30s").editable()
         .with_variable(datasource_variable()).with_variable(runner_variable())
         .with_variable(session_variable()).with_variable(side_variable()))

    d = d.with_row(db.Row("Pelvic drop"))
    drop = _ts("Pelvic drop per step",
               "Each dot is one step: how far the pelvis on the swing-leg side dropped below level while the other "
               "foot was on the ground (degrees; left stance = L, right stance = R). Bands: green below "
               f"{th.DROP_WARN_DEG:g}°, yellow up to {th.DROP_HIGH_DEG:g}°, red above — a coaching reference, not "
               "a diagnosis. Two lines that separate show a side difference.",
               DEG, drop_thresholds(),
               InfluxQL(f'SELECT "pelvic_drop_deg" {STEPS} AND $timeFilter GROUP BY "side"').alias("$tag_side"),
               w=16, h=9)
    drop = (drop.draw_style(cm.GraphDrawStyle.POINTS).point_size(4)
            .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.LINE_AND_AREA))
            .axis_soft_min(0).axis_soft_max(12))
    d = d.with_panel(side_overrides(drop))
    xy = (xychart.Panel().title("Drop vs cadence").span(8).height(9).unit(DEG).thresholds(drop_thresholds())
          .description("Pelvic drop of each step (degrees, vertical) against the cadence of that step (steps/min, "
                       "horizontal). Drop that falls as cadence rises suggests a quicker, shorter stride may help.")
          .with_target(InfluxQL(f'SELECT "cadence_spm", "pelvic_drop_deg" {STEPS} AND $timeFilter GROUP BY "side"')
                       .table()))
    d = d.with_panel(xy)

    d = d.with_row(db.Row("Session summary (selected time range)"))
    mean_drop = stat_options(
        stat.Panel().title("Mean drop per side").unit(DEG).decimals(1).thresholds(drop_thresholds()).span(6).height(5)
        .description("Mean pelvic drop per stance side over the steps of good quality in the selected time (degrees)."),
        calc="lastNotNull")
    mean_drop = mean_drop.with_target(InfluxQL(
        f'SELECT mean("pelvic_drop_deg") {STEPS} AND {GOOD} AND $timeFilter GROUP BY "side"').alias("$tag_side"))
    d = d.with_panel(mean_drop)
    asym = stat_options(
        stat.Panel().title("L − R asymmetry").unit(DEG).decimals(1).span(6).height(5)
        .thresholds(thresholds((None, "red"), (-th.ASYM_HIGH_DEG, "yellow"), (-th.ASYM_WARN_DEG, "green"),
                               (th.ASYM_WARN_DEG, "yellow"), (th.ASYM_HIGH_DEG, "red")))
        .description("Mean drop on left stance minus mean drop on right stance (degrees). Positive: the pelvis drops "
                     f"more while standing on the left leg. Within ±{th.ASYM_WARN_DEG:g}° is usual; beyond "
                     f"±{th.ASYM_HIGH_DEG:g}° is worth a look."))
    asym = asym.with_target(InfluxQL(
        f'SELECT mean("L") - mean("R") AS "asymmetry" FROM '
        f'(SELECT "pelvic_drop_deg" AS "L" FROM "gait_step" WHERE {RUNNER} AND {SESSION} AND "side" = \'L\' '
        f'AND {GOOD} AND $timeFilter), '
        f'(SELECT "pelvic_drop_deg" AS "R" FROM "gait_step" WHERE {RUNNER} AND {SESSION} AND "side" = \'R\' '
        f'AND {GOOD} AND $timeFilter)'))
    d = d.with_panel(asym)
    drift = stat_options(
        stat.Panel().title("Drift within the run").unit(DEG).decimals(1).span(6).height(5)
        .thresholds(thresholds((None, "green"), (th.DRIFT_WARN_DEG, "yellow"), (th.DRIFT_HIGH_DEG, "red")))
        .description("Mean drop of the last 5 minutes minus that of the first 5 minutes of the selection (degrees, "
                     "5-minute clock buckets). A rise late in a run is a typical sign of hip-abductor fatigue."))
    drift = drift.with_target(InfluxQL(
        f'SELECT last("drop") - first("drop") AS "drift" FROM (SELECT mean("pelvic_drop_deg") AS "drop" {STEPS} '
        f'AND {GOOD} AND $timeFilter GROUP BY time(5m) fill(none))'))
    d = d.with_panel(drift)
    counts = stat_options(
        stat.Panel().title("Steps / low quality").unit(COUNT).span(6).height(5).no_value("0")
        .thresholds(plain_thresholds())
        .description("Steps in the selection, and how many had quality below "
                     f"{th.MIN_QUALITY:g} (at a turn, in a data gap): those are left out of the summaries."))
    counts = targets(counts, [
        InfluxQL(f'SELECT count("quality") AS "steps" {STEPS} AND $timeFilter').alias("steps"),
        InfluxQL(f'SELECT count("quality") AS "low quality" {STEPS} AND "quality" < {th.MIN_QUALITY!r} '
                 'AND $timeFilter').alias("low quality")])
    d = d.with_panel(counts)

    d = d.with_row(db.Row("Running form"))
    d = d.with_panel(_ts("Cadence", "Steps per minute, averaged per display interval.", SPM,
                         thresholds((None, "text")), _mean_over_time("cadence_spm")))
    d = d.with_panel(_ts("Ground contact time", "How long each foot stays on the ground (seconds; running only: "
                         "walking steps have no contact time).", SECONDS, plain_thresholds(),
                         _mean_over_time("contact_time_s")))
    d = d.with_panel(_ts("Vertical oscillation", "Up-and-down travel of the sensor during a step (cm).", CM,
                         plain_thresholds(), _mean_over_time("vertical_oscillation_cm")))
    quality = _ts("Step quality", "Confidence of the step detection, 0–1. Below "
                  f"{th.MIN_QUALITY:g} (red) the step is not used in the summaries.", "percentunit",
                  thresholds((None, "red"), (th.MIN_QUALITY, "green")), _mean_over_time("quality"), w=12)
    d = d.with_panel(quality.min(0).max(1))

    d = d.with_row(db.Row("Sensor"))
    battery = _ts("Sensor battery", "Battery charge reported by the sensor (%).", PCT,
                  thresholds((None, "red"), (th.BATTERY_LOW_PCT, "green")),
                  InfluxQL(f'SELECT last("battery_pct") FROM "sensor_status" WHERE {RUNNER} AND $timeFilter '
                           'GROUP BY time($__interval), "sensor" fill(none)').alias("$tag_sensor"), w=12)
    d = d.with_panel(battery.min(0).max(100))
    loss = stat_options(
        stat.Panel().title("Packet loss").unit(PCT).decimals(1).span(6).height(8)
        .thresholds(thresholds((None, "green"), (th.PACKET_LOSS_HIGH_PCT, "red")))
        .description("Share of BLE packets lost between sensor and gateway in the selection (%). Above "
                     f"{th.PACKET_LOSS_HIGH_PCT:g}% steps may be missed: move the gateway closer."))
    loss = loss.with_target(InfluxQL(
        'SELECT spread("packets_lost") / (spread("packets_lost") + spread("packets_received")) * 100 AS "loss" '
        f'FROM "sensor_status" WHERE {RUNNER} AND $timeFilter GROUP BY "sensor"').alias("$tag_sensor"))
    d = d.with_panel(loss)
    reconnects = stat_options(
        stat.Panel().title("Reconnects").unit(COUNT).span(6).height(8)
        .thresholds(thresholds((None, "green"), (1, "yellow"), (5, "red")))
        .description("How often the BLE link was lost and re-established in the selection."))
    reconnects = reconnects.with_target(InfluxQL(
        f'SELECT spread("reconnects") AS "reconnects" FROM "sensor_status" WHERE {RUNNER} AND $timeFilter '
        'GROUP BY "sensor"').alias("$tag_sensor"))
    d = d.with_panel(reconnects)
    return to_dict(d)

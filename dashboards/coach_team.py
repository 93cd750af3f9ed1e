"""Coach / team: one row per runner — latest session, change against the 4-week baseline,
live cadence and drop during a team session, sensor link."""
from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, table

from . import thresholds as th
from .common import (DEG, PCT, RUNNER, SPM, datasource_variable, drop_thresholds, plain_thresholds,
                     runner_variable, stat_options, thresholds, to_dict)
from .influxql import InfluxQL

UID = "gaitmon-coach-team"
SESSIONS = f'FROM "gait_session" WHERE {RUNNER} AND $timeFilter'
#: how far back "live" looks (a step arrives every ~0.35 s while running)
LIVE_WINDOW = "1m"
#: a sensor that reported within this window counts as online
LINK_WINDOW = "2m"


def _asym_thresholds():
    return thresholds((None, "red"), (-th.ASYM_HIGH_DEG, "yellow"), (-th.ASYM_WARN_DEG, "green"),
                      (th.ASYM_WARN_DEG, "yellow"), (th.ASYM_HIGH_DEG, "red"))


def build() -> dict:
    d = (db.Dashboard("gaitmon · Coach / team").uid(UID).tags(["gaitmon", "running", "team"])
         .description("Every runner of the group at a glance: last session, trend against their own baseline, "
                      "and live values during a team session.")
         .time("now-30d", "now").timezone("browser").refresh("10s").editable()
         .with_variable(datasource_variable()).with_variable(runner_variable(multi=True)))

    overview = (table.Panel().title("Team overview (latest session in range)").span(24).height(7).unit(DEG)
                .decimals(1).thresholds(drop_thresholds())
                .description("One line per runner from their newest session summary: mean pelvic drop on left "
                             "and right stance (degrees), L − R asymmetry (degrees) and cadence (steps/min). "
                             "Sort by a column to see who needs attention first.")
                .override_by_name("cadence", [_unit(SPM)])
                .with_target(InfluxQL(
                    'SELECT last("sides_L_drop_mean_deg") AS "drop L", last("sides_R_drop_mean_deg") AS "drop R", '
                    'last("asymmetry_l_minus_r_deg") AS "L-R", last("cadence_spm") AS "cadence" '
                    f'{SESSIONS} GROUP BY "runner"').table()))
    d = d.with_panel(overview)

    d = d.with_row(db.Row("$runner").repeat("runner"))
    latest = stat_options(
        stat.Panel().title("Latest session: drop L / R").unit(DEG).decimals(1).thresholds(drop_thresholds())
        .span(5).height(5)
        .description("Mean pelvic drop on left and right stance in the runner's newest session (degrees)."))
    d = d.with_panel(latest.with_target(InfluxQL(
        f'SELECT last("sides_L_drop_mean_deg") AS "L", last("sides_R_drop_mean_deg") AS "R" {SESSIONS}')))
    asym = stat_options(
        stat.Panel().title("Asymmetry L − R").unit(DEG).decimals(1).thresholds(_asym_thresholds()).span(4).height(5)
        .description("Left minus right mean drop in the newest session (degrees); positive = more drop on left "
                     "stance."))
    d = d.with_panel(asym.with_target(InfluxQL(f'SELECT last("asymmetry_l_minus_r_deg") AS "asymmetry" {SESSIONS}')))
    base = stat_options(
        stat.Panel().title("vs 4-week baseline").unit(DEG).decimals(1).time_from("28d").span(4).height(5)
        .thresholds(thresholds((None, "green"), (th.BASELINE_WARN_DEG, "yellow"), (th.BASELINE_HIGH_DEG, "red")))
        .description("Newest session's mean drop (average of both sides) minus the runner's mean over all "
                     "sessions of the last 28 days (degrees). Positive and growing: the hips are tiring or "
                     "something changed."))
    d = d.with_panel(base.with_target(InfluxQL(
        'SELECT last("drop") - mean("drop") AS "change" FROM (SELECT ("sides_L_drop_mean_deg" + '
        f'"sides_R_drop_mean_deg") / 2 AS "drop" {SESSIONS})')))
    live_cad = stat_options(
        stat.Panel().title("Live cadence").unit(SPM).decimals(0).time_from(LIVE_WINDOW).hide_time_override(True)
        .span(3).height(5).no_value("not running").thresholds(plain_thresholds())
        .description(f"Mean cadence over the last {LIVE_WINDOW} (steps/min); empty when the runner is not running."))
    d = d.with_panel(live_cad.with_target(InfluxQL(
        f'SELECT mean("cadence_spm") AS "cadence" FROM "gait_step" WHERE {RUNNER} AND $timeFilter')))
    live_drop = stat_options(
        stat.Panel().title("Live drop L / R").unit(DEG).decimals(1).time_from(LIVE_WINDOW).hide_time_override(True)
        .span(4).height(5).no_value("not running").thresholds(drop_thresholds())
        .description(f"Mean pelvic drop per stance side over the last {LIVE_WINDOW} (degrees)."))
    d = d.with_panel(live_drop.with_target(InfluxQL(
        f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {RUNNER} AND $timeFilter GROUP BY "side"')
        .alias("$tag_side")))
    link = stat_options(
        stat.Panel().title("Sensor link").unit(PCT).decimals(0).time_from(LINK_WINDOW).hide_time_override(True)
        .span(4).height(5).no_value("offline")
        .thresholds(thresholds((None, "red"), (th.BATTERY_LOW_PCT, "green")))
        .description(f"Battery (%) of the runner's sensor if it reported within the last {LINK_WINDOW}; "
                     "'offline' when nothing arrived (out of range, switched off, gateway down)."))
    d = d.with_panel(link.with_target(InfluxQL(
        f'SELECT last("battery_pct") AS "battery" FROM "sensor_status" WHERE {RUNNER} AND $timeFilter')))
    return to_dict(d)


def _unit(unit: str):
    from grafana_foundation_sdk.models import dashboard as dm

    return dm.DynamicConfigValue(id_val="unit", value=unit)

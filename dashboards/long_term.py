"""Long-term trend: weekly mean drop per side with its spread, sessions per week, strength
exercise sessions as annotations, before/after comparison around a chosen date."""
from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, stat, timeseries
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from . import thresholds as th
from .common import (COUNT, DEG, RUNNER, SIDE, datasource_variable, drop_thresholds, plain_thresholds,
                     runner_variable, side_overrides, side_variable, stat_options, targets, thresholds, to_dict)
from .influxql import InfluxAnnotation, InfluxQL

UID = "gaitmon-long-term"
#: calendar weeks starting Monday 00:00 UTC (the epoch was a Thursday: offset 4 days)
WEEK = "time(1w, 4d)"
GOOD = '"quality" >= ' + repr(th.MIN_QUALITY)
DATE = "'${change_date}T00:00:00Z'"
BEFORE = f"time >= {DATE} - ${{compare_weeks}}w AND time < {DATE}"
AFTER = f"time >= {DATE} AND time < {DATE} + ${{compare_weeks}}w"
DEFAULT_CHANGE_DATE = "2025-01-06"


def _dashed(name_regex: str):
    return name_regex, [dm.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
                        dm.DynamicConfigValue(id_val="custom.fillOpacity", value=0)]


def build() -> dict:
    d = (db.Dashboard("gaitmon · Long-term trend").uid(UID).tags(["gaitmon", "running", "trend"])
         .description("Weeks to months of one runner: is the pelvic drop coming down with the strength programme?")
         .time("now-26w", "now").timezone("browser").editable()
         .with_variable(datasource_variable()).with_variable(runner_variable()).with_variable(side_variable())
         .with_variable(db.TextBoxVariable("change_date").label("Change date (YYYY-MM-DD)")
                        .default_value(DEFAULT_CHANGE_DATE)
                        .description("Day something changed (new shoes, start of the strength programme) for the "
                                     "before/after comparison, as YYYY-MM-DD (UTC)."))
         .with_variable(db.CustomVariable("compare_weeks").label("Weeks before/after").values("2,4,6,8")
                        .current(dm.VariableOption(selected=True, text="4", value="4"))
                        .description("Length of the comparison windows before and after the change date (weeks)."))
         .annotation(InfluxAnnotation(
             "Strength exercises",
             'SELECT "note", "exercise", "sets", "hold_s" FROM "exercise" WHERE ' + RUNNER + " AND $timeFilter",
             icon_color="purple", text_column="note", tags_column="exercise")))

    weekly = (timeseries.Panel().title("Weekly mean pelvic drop per side").unit(DEG).decimals(1)
              .thresholds(drop_thresholds()).span(24).height(10).line_width(2).fill_opacity(15)
              .show_points(cm.VisibilityMode.ALWAYS).point_size(6)
              .description("Per calendar week (Monday–Sunday, UTC) and stance side: mean pelvic drop (solid) and "
                           "the band from the 10th to the 90th percentile of the steps (dashed), degrees. Purple "
                           "marks are logged strength exercise sessions. A falling solid line and a narrowing "
                           "band mean the hips control the pelvis better."))
    weekly = weekly.with_target(InfluxQL(
        'SELECT mean("pelvic_drop_deg") AS "mean", percentile("pelvic_drop_deg", 10) AS "p10", '
        f'percentile("pelvic_drop_deg", 90) AS "p90" FROM "gait_step" WHERE {RUNNER} AND {SIDE} AND {GOOD} '
        f'AND $timeFilter GROUP BY {WEEK}, "side" fill(none)').alias("$tag_side $col"))
    weekly = weekly.override_by_regexp(*_dashed(".* p(10|90)$"))
    for side in ("L", "R"):
        weekly = weekly.override_by_name(f"{side} p90", [
            dm.DynamicConfigValue(id_val="custom.fillBelowTo", value=f"{side} p10"),
            dm.DynamicConfigValue(id_val="custom.fillOpacity", value=10)])
    d = d.with_panel(side_overrides(weekly))

    sessions = (timeseries.Panel().title("Sessions per week").unit(COUNT).decimals(0).span(12).height(7)
                .thresholds(plain_thresholds()).draw_style(cm.GraphDrawStyle.BARS).fill_opacity(60)
                .description("Recorded gaitmon sessions per calendar week (bars) and logged strength exercise "
                             "sessions per week."))
    sessions = targets(sessions, [
        InfluxQL(f'SELECT count("steps_total") AS "runs" FROM "gait_session" WHERE {RUNNER} AND $timeFilter '
                 f'GROUP BY {WEEK} fill(0)').alias("runs"),
        InfluxQL(f'SELECT count("sets") AS "strength" FROM "exercise" WHERE {RUNNER} AND $timeFilter '
                 f'GROUP BY {WEEK} fill(0)').alias("strength sessions")])
    d = d.with_panel(sessions)

    compare = (bargauge.Panel().title("Before / after ${change_date}").unit(DEG).decimals(1).min(0).max(12)
               .thresholds(drop_thresholds()).span(8).height(7)
               .orientation(cm.VizOrientation.HORIZONTAL)
               .description("Mean pelvic drop per stance side in the ${compare_weeks} weeks before and after the "
                            "change date (degrees; steps of good quality only). Independent of the dashboard's "
                            "time range."))
    compare = targets(compare, [
        InfluxQL(f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {RUNNER} AND {SIDE} AND {GOOD} '
                 f'AND {BEFORE} GROUP BY "side"').alias("before $tag_side"),
        InfluxQL(f'SELECT mean("pelvic_drop_deg") FROM "gait_step" WHERE {RUNNER} AND {SIDE} AND {GOOD} '
                 f'AND {AFTER} GROUP BY "side"').alias("after $tag_side")])
    d = d.with_panel(compare)
    change = stat_options(
        stat.Panel().title("Change after − before").unit(DEG).decimals(1).span(4).height(7)
        .thresholds(thresholds((None, "green"), (0.0, "yellow"), (th.BASELINE_HIGH_DEG, "red")))
        .description("Mean drop after the change date minus before it, per side (degrees). Negative (green) = "
                     "less drop since the change."))
    change = change.with_target(InfluxQL(
        'SELECT mean("after") - mean("before") AS "change" FROM '
        f'(SELECT "pelvic_drop_deg" AS "before" FROM "gait_step" WHERE {RUNNER} AND {SIDE} AND {GOOD} AND {BEFORE}), '
        f'(SELECT "pelvic_drop_deg" AS "after" FROM "gait_step" WHERE {RUNNER} AND {SIDE} AND {GOOD} AND {AFTER}) '
        'GROUP BY "side"').alias("$tag_side"))
    d = d.with_panel(change)

    single = (timeseries.Panel().title("Single-leg stance tests").unit(DEG).decimals(1)
              .thresholds(drop_thresholds()).span(24).height(8).line_width(1)
              .show_points(cm.VisibilityMode.ALWAYS).point_size(8)
              .description("`gaitmon test single-leg`: how far the unsupported side of the pelvis sank below its "
                           "two-leg level while standing on the left or right leg for up to 30 s (degrees; negative "
                           "= hip hitched up). A Trendelenburg-style check of the hip abductors of the stance leg; "
                           "falling points after the change date mean stronger hips."))
    single = single.with_target(InfluxQL(
        f'SELECT "drop_deg" FROM "single_leg_test" WHERE {RUNNER} AND $timeFilter GROUP BY "side"')
        .alias("standing on $tag_side"))
    d = d.with_panel(single)
    return to_dict(d)

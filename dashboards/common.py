"""Building blocks shared by the three dashboards: variables, filters, thresholds, panel helpers.

InfluxQL conventions (every query):
  * measurement and identifiers quoted (``"name"`` is an InfluxQL keyword);
  * tag filters as regexes with Grafana's ``:regex`` format, ``"runner" =~ /^${runner:regex}$/``,
    so single, multi-value and "All" selections all interpolate to a valid regex (values are
    regex-escaped, several values become ``(a|b)``);
  * ``$timeFilter`` always, ``GROUP BY time($__interval)`` where the panel aggregates over time.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from .influxql import DS, INFLUX_TYPE, InfluxQL

RUNNER = '"runner" =~ /^${runner:regex}$/'
SESSION = '"session" =~ /^${session:regex}$/'
SIDE = '"side" =~ /^${side:regex}$/'

#: custom Grafana unit strings
DEG = "degree"          # Grafana's built-in "°" unit
CM = "suffix: cm"
SPM = "suffix: steps/min"
PCT = "percent"
SECONDS = "s"
COUNT = "none"

SIDE_COLORS = {"L": "blue", "R": "orange"}


def datasource_variable() -> db.DatasourceVariable:
    return (db.DatasourceVariable("datasource").label("Data source").type(INFLUX_TYPE)
            .description("InfluxDB data source holding the gaitmon measurements (InfluxQL; on InfluxDB 2.x "
                         "through a DBRP mapping of the bucket)."))


def runner_variable(*, multi: bool = False) -> db.QueryVariable:
    v = (db.QueryVariable("runner").label("Runner").datasource(DS)
         .query('SHOW TAG VALUES FROM "gait_step" WITH KEY = "runner"')
         .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD).sort(dm.VariableSort.ALPHABETICAL_ASC)
         .description("The runner (InfluxDB tag 'runner')."))
    if multi:
        v = v.multi(True).include_all(True)
    return v


def session_variable() -> db.QueryVariable:
    return (db.QueryVariable("session").label("Session").datasource(DS)
            .query('SHOW TAG VALUES FROM "gait_step" WITH KEY = "session" WHERE ' + RUNNER)
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_DESC)
            .description("One recorded session of the runner (newest first). Set the time range to cover it."))


def side_variable() -> db.CustomVariable:
    return (db.CustomVariable("side").label("Side").values("L,R").multi(True).include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
            .description("Stance side of the step: L = left foot on the ground (the right hemipelvis may drop), "
                         "R = right foot on the ground."))


def thresholds(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    """Absolute threshold steps ``(value, colour)``; the first value must be None (the base)."""
    if not steps or steps[0][0] is not None:
        raise ValueError("the first threshold step is the base: (None, colour)")
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=v, color=c) for v, c in steps])


def drop_thresholds() -> db.ThresholdsConfig:
    from .thresholds import DROP_HIGH_DEG, DROP_WARN_DEG

    return thresholds((None, "green"), (DROP_WARN_DEG, "yellow"), (DROP_HIGH_DEG, "red"))


def plain_thresholds() -> db.ThresholdsConfig:
    """Thresholds for panels without a judgement (one neutral colour)."""
    return thresholds((None, "text"))


def targets(panel, queries: Iterable[InfluxQL]):
    for i, q in enumerate(queries):
        q.ref_id(chr(ord("A") + i))
        panel = panel.with_target(q)
    return panel


def side_overrides(panel, pattern: str = "{side}"):
    """Fixed colours for the L / R series (names produced by the alias ``pattern``)."""
    for side, color in SIDE_COLORS.items():
        panel = panel.override_by_regexp("^" + pattern.format(side=side) + "( .*)?$", [
            dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color})])
    return panel


def stat_options(panel, *, calc: str = "lastNotNull"):
    return (panel.reduce_options(cb.ReduceDataOptions().calcs([calc]).values(False))
            .color_mode(cm.BigValueColorMode.BACKGROUND).graph_mode(cm.BigValueGraphMode.NONE))


def to_dict(builder: db.Dashboard) -> dict[str, Any]:
    """The dashboard's JSON model as plain Python data (what Grafana stores).

    Finishing touches the SDK leaves to the caller: unique panel ids (1, 2, ... in layout order),
    the data source on every panel that has targets, and ``annotations.list`` always present.
    """
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder, sort_keys=True))
    ds = {"type": INFLUX_TYPE, "uid": "${datasource}"}
    for n, panel in enumerate(model.get("panels", []), start=1):
        panel["id"] = n
        if panel.get("targets"):
            panel["datasource"] = ds
    annotations = model.get("annotations") or {}
    annotations.setdefault("list", [])
    model["annotations"] = annotations
    model.setdefault("schemaVersion", 39)
    return model


def dump(model: dict[str, Any]) -> str:
    """Canonical JSON text of a dashboard (stable key order, 2-space indent, final newline)."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

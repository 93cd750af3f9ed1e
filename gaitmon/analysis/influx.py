"""InfluxDB side of the physio features, over :mod:`gaitmon.store` (InfluxQL reads, the durable
spooled writer for points).

Measurements written here (data-contracts §4 style; tags low-cardinality):

- ``single_leg_test`` — one point per test at its time. Tags ``runner``, ``sensor``, ``side``
  (stance leg). Float fields ``drop_deg`` (+ = unsupported side lower), ``hold_s``,
  ``sway_rms_deg``, ``sway_velocity_dps``, ``quality`` (0..1), ``completed`` (1/0).
- ``fatigue`` — one point per session and side at the session end. Tags ``runner``, ``session``,
  ``side``. Float fields ``slope_deg_per_min``, ``ci95_lo_deg_per_min``, ``ci95_hi_deg_per_min``,
  ``slope_deg_per_km``, ``rise_deg``, ``first_quarter_mean_deg``, ``last_quarter_mean_deg``,
  ``threshold_deg``, ``flagged`` (1/0, for alert rules), ``steps``, ``duration_s``,
  ``distance_m``.

Both go to the summary destination (kept forever, like ``gait_session`` and ``exercise``).
"""

from __future__ import annotations

import logging
from typing import Any

from gaitmon.analysis.programme import SessionDrop
from gaitmon.store.query import GaitQuery, _ns, quote_ident, quote_literal

log = logging.getLogger("gaitmon.analysis")

MIN_QUALITY = 0.5


def _summary_from(q: GaitQuery, measurement: str) -> str:
    return q.from_clause(measurement, summary=True)


def write_point(writer, measurement: str, tags: dict[str, str], fields: dict[str, Any], t_unix_ns: int) -> int:
    """Spool one point of ``measurement`` to the summary destination through the durable
    ``StepWriter`` (NaN/inf fields omitted and counted). Returns the number of points spooled."""
    return writer.write_point(measurement, tags=tags, fields=fields, t_unix_ns=t_unix_ns)


def write_single_leg(writer, result, *, runner: str, sensor: str, t_unix_ns: int) -> int:
    """Spool a :class:`gaitmon.core.singleleg.SingleLegResult` as ``single_leg_test``."""
    fields = {"drop_deg": result.drop_deg, "hold_s": result.hold_s, "sway_rms_deg": result.sway_rms_deg,
              "sway_velocity_dps": result.sway_velocity_dps, "quality": float(result.quality),
              "completed": 1.0 if result.completed else 0.0}
    return write_point(writer, "single_leg_test", {"runner": runner, "sensor": sensor, "side": result.side},
                       {k: float(v) for k, v in fields.items()}, t_unix_ns)


def write_fatigue(writer, fatigue, *, runner: str, session: str, t_unix_ns: int) -> int:
    """Spool a :class:`gaitmon.analysis.fatigue.FatigueResult` as one ``fatigue`` point per side
    that could be assessed."""
    n = 0
    for side, d in fatigue.sides.items():
        f = fatigue.influx_fields(side)
        if "slope_deg_per_min" in f:
            n += write_point(writer, "fatigue", {"runner": runner, "session": session, "side": side}, f, t_unix_ns)
    return n


def session_drops(q: GaitQuery, runner: str, *, since=None, until=None,
                  activity: str | None = "run") -> list[SessionDrop]:
    """Mean drop per session and side (steps with quality ≥ 0.5; only ``activity`` steps unless
    None), with the session start from its first step."""
    infos = {s.session: s for s in q.sessions(runner, since=since, until=until)}
    where = f'"runner" = {quote_literal(runner)} AND "quality" >= {MIN_QUALITY}'
    if activity:
        where += f' AND "activity" = {quote_literal(activity)}'
    if since is not None:
        where += f" AND time >= {_ns(since)}"
    if until is not None:
        where += f" AND time < {_ns(until)}"
    field = quote_ident("pelvic_drop_deg")
    res = q.query(f"SELECT mean({field}), count({field}) FROM {q._raw_from} WHERE {where} "
                  'GROUP BY "session", "side"')
    out = []
    for s in (res or [[]])[0]:
        sess = s.tags.get("session", "")
        info = infos.get(sess)
        if info is None or not s.values:
            continue
        _, mean, cnt = s.values[0]
        if mean is None:
            continue
        out.append(SessionDrop(sess, int(info.start_ns), s.tags.get("side", ""), float(mean), int(cnt)))
    return sorted(out, key=lambda d: (d.start_ns, d.side))


def exercise_times(q: GaitQuery, runner: str) -> list[int]:
    """Times (UTC ns) of the runner's ``exercise`` log entries, oldest first."""
    rows = _rows(q, f"SELECT * FROM {_summary_from(q, 'exercise')} WHERE \"runner\" = {quote_literal(runner)}")
    return sorted(int(r["time"]) for r in rows)


def single_leg_tests(q: GaitQuery, runner: str) -> list[dict]:
    """The runner's ``single_leg_test`` points as dicts (``time`` UTC ns), oldest first."""
    rows = _rows(q, f"SELECT * FROM {_summary_from(q, 'single_leg_test')} "
                    f"WHERE \"runner\" = {quote_literal(runner)}")
    return sorted(({k: v for k, v in r.items() if v is not None} for r in rows), key=lambda r: r["time"])


def fatigue_points(q: GaitQuery, runner: str) -> list[dict]:
    """The runner's ``fatigue`` points as dicts, oldest first."""
    rows = _rows(q, f"SELECT * FROM {_summary_from(q, 'fatigue')} WHERE \"runner\" = {quote_literal(runner)}")
    return sorted(({k: v for k, v in r.items() if v is not None} for r in rows), key=lambda r: r["time"])


def _rows(q: GaitQuery, influxql: str) -> list[dict]:
    out = []
    for s in (q.query(influxql, db=q.summary_db) or [[]])[0]:
        out.extend(s.rows())
    return out

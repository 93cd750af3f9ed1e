"""Reading gaitmon data back with InfluxQL (``GET /query``), which InfluxDB 1.x, 2.x (through
its DBRP mapping: a bucket is queried as a database) and 3.x all serve.

    from gaitmon.store import StoreConfig
    from gaitmon.store.query import GaitQuery

    with GaitQuery(StoreConfig.from_env()) as q:
        q.sessions("alice")                        # [SessionInfo(session=..., steps=..., ...)]
        q.weekly_side_means("alice", since=...)    # mean pelvic drop per week (Monday 00:00 UTC) and side
        q.latest_session_summary("alice")          # {'time': ..., 'session': ..., 'L_mean': ...}
        q.session_steps("alice", "2024-05-01-track")   # every step, oldest first

Times are integers in ns since the Unix epoch (UTC) in and out; ``since``/``until`` also take
timezone-aware ``datetime`` objects. Angles in degrees, times in s, as written.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from typing import Any

from .config import StoreConfig
from .errors import QueryError
from .http import HttpClient, classify, server_message
from .schema import STEP_FLOAT_FIELDS, STEP_INT_FIELDS

__all__ = ["GaitQuery", "Series", "SessionInfo", "WeeklySideMean", "quote_ident", "quote_literal",
           "run_influxql"]

_MONDAY_OFFSET = "4d"  # the epoch (1970-01-01) was a Thursday; +4 days aligns weeks to Mondays


def quote_ident(name: str) -> str:
    """InfluxQL identifier: ``"name"`` with ``"`` and ``\\`` escaped."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    """InfluxQL string literal: ``'value'`` with ``'`` and ``\\`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ns(t: int | _dt.datetime) -> int:
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            raise ValueError("use a timezone-aware datetime (UTC) or integer ns since the epoch")
        delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if isinstance(t, bool) or not isinstance(t, int):
        raise ValueError(f"time must be integer ns since the Unix epoch or a datetime, got {t!r}")
    return t


@dataclass(frozen=True)
class Series:
    """One InfluxQL result series: ``name``, group-by ``tags``, ``columns`` and row ``values``."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        """Rows as dicts (group-by tags included); ``time`` in ns since the epoch."""
        return [{**self.tags, **dict(zip(self.columns, v))} for v in self.values]


@dataclass(frozen=True)
class SessionInfo:
    """A session found in ``gait_step``: first/last step time (UTC ns), number of steps."""

    session: str
    sensor: str
    start_ns: int
    end_ns: int
    steps: int


@dataclass(frozen=True)
class WeeklySideMean:
    """Mean of one step metric over one week (starting Monday 00:00 UTC) for one side."""

    week_start_ns: int
    side: str
    mean: float
    steps: int


def run_influxql(http: HttpClient, cfg: StoreConfig, q: str, *, db: str | None,
                 method: str = "GET", chunked: bool = True) -> list[list[Series]]:
    """Run one or more ``;``-separated InfluxQL statements; return, per statement, its series.

    Uses ``epoch=ns`` and chunked responses (so large results are not cut by the server's
    row limit). Raises :class:`QueryError` with the server's message for a failing statement,
    AuthError / ServerUnavailable etc. for HTTP-level failures.
    """
    params = {"q": q, "epoch": "ns", "db": db}
    if chunked:
        params.update({"chunked": "true", "chunk_size": "10000"})
    r = http.request(method, "/query", params=params)
    if r.status != 200:
        raise classify(r.status, http.redact(server_message(r.data)), cfg=cfg, api="query",
                       what=f"InfluxQL on db {db!r}", retry_after=r.header("Retry-After"))
    merged: dict[int, dict[tuple, Series]] = {}
    for chunk in r.data.splitlines():
        if not chunk.strip():
            continue
        try:
            obj = json.loads(chunk)
        except ValueError:
            raise QueryError(f"{cfg.url}: /query answered with invalid JSON", status=r.status) from None
        if "error" in obj:
            raise QueryError(f"{cfg.url}: InfluxQL failed: {http.redact(str(obj['error']))}", status=r.status)
        for result in obj.get("results", []):
            if "error" in result:
                raise QueryError(f"{cfg.url}: InfluxQL failed on db {db!r}: "
                                 f"{http.redact(str(result['error']))}", status=r.status)
            stmt = merged.setdefault(result.get("statement_id", 0), {})
            for s in result.get("series", []):
                key = (s.get("name", ""), tuple(sorted(s.get("tags", {}).items())))
                if key in stmt:
                    stmt[key].values.extend(s.get("values", []))
                else:
                    stmt[key] = Series(s.get("name", ""), dict(s.get("tags", {})),
                                       list(s["columns"]), list(s.get("values", [])))
    return [list(merged[i].values()) for i in sorted(merged)]


class GaitQuery:
    """InfluxQL reader for the gaitmon schema. Database for raw data: ``GAITMON_INFLUX_DB``
    (v1) or the bucket's DBRP name ``GAITMON_INFLUX_BUCKET`` (v2); summaries from
    ``GAITMON_INFLUX_SUMMARY_RP`` / ``GAITMON_INFLUX_SUMMARY_BUCKET`` when set."""

    def __init__(self, cfg: StoreConfig):
        self.cfg = cfg
        self.http = HttpClient(cfg)
        v1 = bool(cfg.database) and (cfg.api != "v2" or not cfg.bucket)
        self.db = cfg.database if v1 else cfg.bucket
        self.summary_db = cfg.database if v1 else (cfg.summary_bucket or cfg.bucket)
        self._v1 = v1
        self._raw_from = self._from("gait_step", cfg.rp if v1 else None)
        self._summary_from = self._from("gait_session", cfg.summary_rp if v1 else None)

    def from_clause(self, measurement: str, *, summary: bool = True) -> str:
        """Quoted FROM target of ``measurement`` in the summary (kept forever) or raw storage,
        with the 1.x retention policy when one is configured."""
        rp = (self.cfg.summary_rp if summary else self.cfg.rp) if self._v1 else None
        return self._from(measurement, rp)

    @staticmethod
    def _from(measurement: str, rp: str | None) -> str:
        return (quote_ident(rp) + "." if rp else "") + quote_ident(measurement)

    def query(self, q: str, *, db: str | None = None) -> list[list[Series]]:
        """Run raw InfluxQL against ``db`` (default: the raw-data database)."""
        return run_influxql(self.http, self.cfg, q, db=db or self.db)

    # -- the questions reports ask -------------------------------------------------------------
    def sessions(self, runner: str, *, since: int | _dt.datetime | None = None,
                 until: int | _dt.datetime | None = None) -> list[SessionInfo]:
        """Sessions of ``runner`` with steps in ``[since, until)``, oldest first."""
        where = self._where(runner, since, until)
        group = ' GROUP BY "session", "sensor"'
        stmts = [f'SELECT first("step_time_s") FROM {self._raw_from} WHERE {where}{group}',
                 f'SELECT last("step_time_s") FROM {self._raw_from} WHERE {where}{group}',
                 f'SELECT count("step_time_s") FROM {self._raw_from} WHERE {where}{group}']
        results = self.query("; ".join(stmts))
        results += [[]] * (3 - len(results))
        first = {(s.tags["session"], s.tags.get("sensor", "")): s.values[0][0] for s in results[0] if s.values}
        last = {(s.tags["session"], s.tags.get("sensor", "")): s.values[0][0] for s in results[1] if s.values}
        count = {(s.tags["session"], s.tags.get("sensor", "")): s.values[0][1] for s in results[2] if s.values}
        out = [SessionInfo(session=k[0], sensor=k[1], start_ns=first[k], end_ns=last.get(k, first[k]),
                           steps=int(count.get(k, 0))) for k in first]
        return sorted(out, key=lambda s: (s.start_ns, s.session))

    def weekly_side_means(self, runner: str, *, since: int | _dt.datetime,
                          until: int | _dt.datetime | None = None, metric: str = "pelvic_drop_deg",
                          activity: str | None = None) -> list[WeeklySideMean]:
        """Per week (Monday 00:00 UTC) and side: mean of ``metric`` over the steps of ``runner``
        (optionally one ``activity``, walk/run) in ``[since, until)``; weeks without steps omitted."""
        if metric not in STEP_FLOAT_FIELDS:
            raise ValueError(f"metric must be one of {', '.join(STEP_FLOAT_FIELDS)}")
        where = self._where(runner, since, until)
        if activity is not None:
            where += f' AND "activity" = {quote_literal(activity)}'
        field = quote_ident(metric)
        q = (f"SELECT mean({field}), count({field}) FROM {self._raw_from} WHERE {where} "
             f'GROUP BY time(1w, {_MONDAY_OFFSET}), "side" fill(none)')
        out = []
        for s in (self.query(q) or [[]])[0]:
            for t, mean, n in s.values:
                if mean is not None:
                    out.append(WeeklySideMean(week_start_ns=int(t), side=s.tags.get("side", ""),
                                              mean=float(mean), steps=int(n)))
        return sorted(out, key=lambda w: (w.week_start_ns, w.side))

    def latest_session_summary(self, runner: str) -> dict[str, Any] | None:
        """The newest ``gait_session`` point of ``runner`` as a dict (fields, tags, ``time``
        ns), or None when there is none."""
        q = (f"SELECT * FROM {self._summary_from} WHERE \"runner\" = {quote_literal(runner)} "
             "ORDER BY time DESC LIMIT 1")
        for s in (run_influxql(self.http, self.cfg, q, db=self.summary_db) or [[]])[0]:
            rows = s.rows()
            if rows:
                return {k: v for k, v in rows[0].items() if v is not None}
        return None

    def session_steps(self, runner: str, session: str) -> list[dict[str, Any]]:
        """Every ``gait_step`` of one session, oldest first: dicts with ``time`` (UTC ns), the
        tags and the per-step fields (floats; ``stride_index`` int; an omitted field is absent)."""
        q = (f"SELECT * FROM {self._raw_from} WHERE \"runner\" = {quote_literal(runner)} "
             f"AND \"session\" = {quote_literal(session)}")
        out = []
        for s in (self.query(q) or [[]])[0]:
            for row in s.rows():
                step = {k: v for k, v in row.items() if v is not None}
                for k in STEP_FLOAT_FIELDS:
                    if k in step:
                        step[k] = float(step[k])
                for k in STEP_INT_FIELDS:
                    if k in step:
                        step[k] = int(step[k])
                out.append(step)
        out.sort(key=lambda r: r["time"])
        return out

    def _where(self, runner: str, since, until) -> str:
        parts = [f'"runner" = {quote_literal(runner)}']
        if since is not None:
            parts.append(f"time >= {_ns(since)}")
        if until is not None:
            parts.append(f"time < {_ns(until)}")
        return " AND ".join(parts)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "GaitQuery":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

"""Retention: raw steps expire, session summaries stay.

InfluxDB 1.x keeps data per *retention policy* (RP). :func:`create_retention_policies` creates
one RP for raw points (``gait_step``, ``sensor_status``) with a finite duration and one that
never expires for summaries (``gait_session``, ``exercise``); the writer then sends each
measurement to its RP once ``GAITMON_INFLUX_RP`` / ``GAITMON_INFLUX_SUMMARY_RP`` name them.

InfluxDB 2.x/3.x keep data per bucket: give the raw bucket a retention period and point
``GAITMON_INFLUX_SUMMARY_BUCKET`` at a bucket that keeps data forever; gaitmon writes the
summaries itself, so no downsampling task is needed (see docs/storage.md).
"""
from __future__ import annotations

import logging
import re

from .config import StoreConfig
from .errors import ConfigError, QueryError
from .http import HttpClient
from .query import quote_ident, run_influxql

__all__ = ["create_retention_policies"]

log = logging.getLogger("gaitmon.store.retention")

_DURATION = re.compile(r"^(?:INF|[1-9]\d*[hdw])$")


def create_retention_policies(cfg: StoreConfig, *, raw_duration: str = "52w",
                              raw_rp: str = "gaitmon_raw", summary_rp: str = "gaitmon_forever",
                              create_database: bool = True) -> dict[str, str]:
    """Create (or update) the two InfluxDB 1.x retention policies of gaitmon.

    ``raw_duration``: how long raw steps are kept, InfluxQL duration ``<n>h|d|w`` (at least
    1h) or ``INF``. ``summary_rp`` never expires. Neither becomes the database's default
    policy, so nothing else written to the database changes. Needs admin rights (v1 user).
    Idempotent: an existing policy of that name gets the requested duration.

    Returns the settings to use, ``{"GAITMON_INFLUX_RP": raw_rp,
    "GAITMON_INFLUX_SUMMARY_RP": summary_rp}``.
    """
    if not cfg.database:
        raise ConfigError("retention policies exist in InfluxDB 1.x only: set GAITMON_INFLUX_DB. "
                          "For InfluxDB 2.x/3.x set the bucket's retention period instead "
                          "(docs/storage.md)")
    if not _DURATION.match(raw_duration):
        raise ConfigError(f"raw_duration={raw_duration!r}: use <n>h, <n>d, <n>w (>= 1h) or INF")
    db = quote_ident(cfg.database)
    http = HttpClient(cfg)
    try:
        if create_database:
            run_influxql(http, cfg, f"CREATE DATABASE {db}", db=None, method="POST", chunked=False)
        for name, duration in ((raw_rp, raw_duration), (summary_rp, "INF")):
            rp = quote_ident(name)
            try:
                run_influxql(http, cfg, f"CREATE RETENTION POLICY {rp} ON {db} DURATION {duration} "
                             "REPLICATION 1", db=None, method="POST", chunked=False)
            except QueryError as e:
                if "already exists" not in str(e):
                    raise
                run_influxql(http, cfg, f"ALTER RETENTION POLICY {rp} ON {db} DURATION {duration}",
                             db=None, method="POST", chunked=False)
    finally:
        http.close()
    log.info("retention policies on %s: %s (%s) for raw points, %s (INF) for summaries; set "
             "GAITMON_INFLUX_RP=%s GAITMON_INFLUX_SUMMARY_RP=%s", cfg.database, raw_rp, raw_duration,
             summary_rp, raw_rp, summary_rp)
    return {"GAITMON_INFLUX_RP": raw_rp, "GAITMON_INFLUX_SUMMARY_RP": summary_rp}

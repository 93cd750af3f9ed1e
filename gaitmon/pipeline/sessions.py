"""A session's identity: its tag (runner + UTC start minute) and the UTC start of a recording.

Shared by the InfluxDB sinks (:mod:`gaitmon.pipeline.influx`), the journal
(:mod:`gaitmon.pipeline.journal`) and the commands that name a session.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

__all__ = ["session_id", "recording_start_ns"]


def session_id(runner: str, t_unix_ns: int) -> str:
    """Low-cardinality, readable session tag: runner + UTC start minute."""
    ts = _dt.datetime.fromtimestamp(t_unix_ns / 1e9, tz=_dt.timezone.utc).strftime("%Y%m%dT%H%MZ")
    return f"{runner}-{ts}"


def recording_start_ns(path: Path, meta: dict, duration_s: float) -> int:
    """UTC start of a recording (ns): `# start_utc:` header if present, else file mtime − duration."""
    s = meta.get("start_utc")
    if s:
        try:
            return int(_dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1e9)
        except ValueError:
            pass
    return int((Path(path).stat().st_mtime - duration_s) * 1e9)

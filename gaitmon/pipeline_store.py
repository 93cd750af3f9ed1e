"""Wiring of finished steps into InfluxDB (gaitmon.store) for the demo, analyze and import commands.

Kept out of the core (which does no I/O) and out of the store (which knows nothing of the core).
"""

from __future__ import annotations

import datetime as _dt
import time
from pathlib import Path


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


class InfluxStepSink:
    """Streams steps to InfluxDB through the durable writer (spool first, then the server)."""

    def __init__(self, writer, *, runner: str, sensor: str, session: str, t0_unix_ns: int, console=None):
        self.writer = writer
        self.runner = runner
        self.sensor = sensor
        self.session = session
        self.t0_unix_ns = t0_unix_ns
        self.console = console

    @classmethod
    def from_env(cls, *, runner: str | None, sensor: str, console=None, t0_unix_ns: int | None = None,
                 session: str | None = None) -> "InfluxStepSink":
        from gaitmon.store import StoreConfig, open_writer

        cfg = StoreConfig.from_env()
        runner = runner or cfg.runner or "runner"
        t0 = t0_unix_ns if t0_unix_ns is not None else time.time_ns()
        w = open_writer(cfg)
        if console:
            console.print(f"InfluxDB: writing to {cfg.url} (runner {runner}); spool {w.spool_path}")
        return cls(w, runner=runner, sensor=sensor, session=session or session_id(runner, t0), t0_unix_ns=t0,
                   console=console)

    def write_steps(self, steps) -> None:
        if steps:
            self.writer.write_steps(steps, sensor=self.sensor, session=self.session, t0_unix_ns=self.t0_unix_ns,
                                    runner=self.runner)

    def close(self, summary: dict | None = None, timeout: float = 30.0) -> None:
        try:
            if summary is not None:
                self.writer.write_session_summary(summary, sensor=self.sensor, session=self.session,
                                                  t_unix_ns=time.time_ns(), runner=self.runner)
            done = self.writer.flush(timeout)
        finally:
            self.writer.close()
        st = self.writer.stats
        if self.console:
            msg = f"InfluxDB: {st.sent} points acknowledged, {st.spooled} waiting in the spool"
            if not done:
                msg += " (server not reachable: they will be sent by the next gaitmon run)"
            self.console.print(msg)

"""The InfluxDB sinks: finished steps into InfluxDB through :mod:`gaitmon.store`.

* :class:`InfluxStepSink` — the steps of one analysed recording or of the demo (``analyze``,
  ``import``, ``demo``);
* :class:`InfluxCollectSink` — a :class:`~gaitmon.pipeline.records.Sink` of the live pipeline
  (``collect``);
* :func:`loss_exit_code` — the exit code for points that will never be stored.

Kept out of the core (which does no I/O) and out of the store (which knows nothing of the core).
"""

from __future__ import annotations

import logging
import time

from .sessions import session_id

__all__ = ["InfluxStepSink", "InfluxCollectSink", "loss_exit_code"]

log = logging.getLogger("gaitmon.pipeline")


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
            console.print(f"InfluxDB: writing to {cfg.url} (runner {runner}); spool {w.spool_path}",
                          markup=False, highlight=False)
        return cls(w, runner=runner, sensor=sensor, session=session or session_id(runner, t0), t0_unix_ns=t0,
                   console=console)

    def write_steps(self, steps, batch: int = 5000) -> None:
        # in slices: the encoded lines of a day of steps need not be in memory at once
        for i in range(0, len(steps), batch):
            self.writer.write_steps(steps[i:i + batch], sensor=self.sensor, session=self.session,
                                    t0_unix_ns=self.t0_unix_ns, runner=self.runner)

    def close(self, summary: dict | None = None, timeout: float = 30.0):
        """Write the summary, wait up to ``timeout`` s, close; return the writer's final stats
        (``stats.loss_message()`` says what will never be stored)."""
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
            self.console.print(msg, markup=False, highlight=False)
        return st


def loss_exit_code(stats) -> int:
    """Exit code for points that will never be stored: 0 none, 2 only invalid input values,
    4 otherwise (refused by the server, spool full)."""
    if not stats.rejected:
        return 0
    return 2 if set(stats.rejected_by_reason) == {"invalid_input"} else 4


class InfluxCollectSink:
    """Sink of the live pipeline (`gaitmon collect`) into InfluxDB: every step as a ``gait_step``
    point at its IC in UTC (from the collector's sensor-clock mapping), every status tick as
    ``sensor_status``, and at the end one ``gait_session`` summary per runner/sensor. Spooled
    first (durable), sent by the writer's background thread — the pipeline never waits on the
    network."""

    def __init__(self, writer, *, flush_timeout_s: float | None = None):
        self.writer = writer
        self.flush_timeout_s = writer.cfg.timeout_s if flush_timeout_s is None else flush_timeout_s
        self._steps: dict[tuple[str, str, str], list] = {}

    @classmethod
    def from_env(cls) -> "InfluxCollectSink":
        from gaitmon.store import StoreConfig, deadline, open_writer

        cfg = StoreConfig.from_env()
        with deadline.operation(cfg.timeout_s):  # the pre-flight check never holds up collection
            return cls(open_writer(cfg))

    def write_steps(self, records) -> None:
        for r in records:
            # point time = the IC in UTC: t0 chosen so that t0 + t_ic_s = t_ic_utc
            t0 = int(round((r.t_ic_utc - r.step.t_ic_s) * 1e9))
            self.writer.write_steps([r.step], sensor=r.sensor, session=r.session, t0_unix_ns=t0, runner=r.runner)
            self._steps.setdefault((r.runner, r.sensor, r.session), []).append(r.step)

    def write_status(self, statuses, t_utc: float) -> None:
        t_ns = int(t_utc * 1e9)
        for st in statuses:
            self.writer.write_sensor_status(sensor=st.sensor, t_unix_ns=t_ns, session=st.session,
                                            battery_pct=st.battery_pct, rssi_dbm=st.rssi_dbm,
                                            packets_received=st.packets_received, packets_lost=st.packets_lost,
                                            packets_rejected=st.packets_rejected, reconnects=st.reconnects,
                                            runner=st.runner)

    def close(self) -> None:
        from gaitmon.core.summary import summarize
        from gaitmon.store import deadline

        with deadline.operation(self.flush_timeout_s):  # all of the closing, not each request
            self._close(summarize)
        loss = self.writer.stats.loss_message()
        if loss:
            log.error("InfluxDB: %s", loss)

    def _close(self, summarize) -> None:
        try:
            now = time.time_ns()
            for (runner, sensor, session), steps in self._steps.items():
                self.writer.write_session_summary(summarize(steps), sensor=sensor, session=session, t_unix_ns=now,
                                                  runner=runner)
            if not self.writer.flush(self.flush_timeout_s):
                log.warning("InfluxDB did not acknowledge everything within %.0f s: the rest stays in the spool "
                            "%s and is sent by the next gaitmon run", self.flush_timeout_s, self.writer.spool_path)
        finally:
            self.writer.close()

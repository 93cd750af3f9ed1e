"""The step writer: spool first, send in the background, never lose a step.

    from gaitmon.store import StoreConfig, open_writer

    with open_writer(StoreConfig.from_env()) as w:
        w.write_steps(steps, sensor="polar-h10-1a2b", session="2024-05-01-track",
                      t0_unix_ns=recording_start_ns)
        ...
        w.write_session_summary(summary, sensor=..., session=..., t_unix_ns=end_ns)
        w.flush(timeout=30)

Every ``write_*`` call encodes its points in the caller's thread and commits them to the local
SQLite spool before returning (no network on the caller's path). A background thread takes the
oldest points from the spool in batches, posts them (gzip), and removes them from the spool only
when the server acknowledged them. While the server is down or refuses the credentials the
points stay in the spool; attempts continue with exponential back-off; a later writer on the same
GAITMON_SPOOL_DIR (after a crash or a restart) replays them in order. Re-sending is harmless: a
point is keyed by measurement + tags + timestamp, so InfluxDB overwrites it with itself.

Points the server refuses for good (HTTP 400/422: e.g. a field type conflict) are isolated by
splitting the batch, moved to the spool's ``rejected`` table, logged and counted — the rest of
the batch still lands.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from . import deadline as _deadline
from .config import StoreConfig
from .errors import (ApiMismatch, PayloadTooLarge, PointsRejected, ServerError, ServerUnavailable,
                     StoreError)
from .http import HttpClient
from .lineproto import Encoded, encode_exercise, encode_point, encode_sensor_status, encode_session, encode_steps
from .schema import RAW, SUMMARY
from .spool import Spool, SpoolRow
from .transport import Transport, connect

__all__ = ["WriterStats", "StepWriter", "open_writer", "import_recording_steps"]

log = logging.getLogger("gaitmon.store")

_BACKOFF_START_S = 0.25
_SENDERS = 2  # batches in flight: influxd ingests two concurrent requests ~1.8x faster than one
_REPEAT_LOG_S = 60.0
_REFUSED_LOG_LINES = 5  # refused points logged one by one; the rest counted (stats, exit message)


@dataclass(frozen=True)
class WriterStats:
    """A snapshot of the writer's counters (points unless said otherwise).

    queued       points this writer accepted into the spool
    sent         points the server acknowledged (including replayed ones from earlier runs)
    spooled      points waiting in the spool right now (all runs)
    rejected     inputs/points that will never be stored; by cause in ``rejected_by_reason``:
                 ``invalid_input`` (bad step/summary values, counted per input row),
                 ``server_refused`` (HTTP 400/422 for that single point; kept in the spool's
                 ``rejected`` table), ``spool_full``
    omitted_fields  NaN/inf/None field values left out of otherwise valid points, per field
    replayed     points found in the spool when this writer started
    retries      failed send attempts; batches: successful requests
    api, server_version   what the server turned out to be (None until known)
    last_error   message of the last failed attempt (None after a success)
    """

    queued: int = 0
    sent: int = 0
    spooled: int = 0
    rejected: int = 0
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    omitted_fields: Mapping[str, int] = field(default_factory=dict)
    replayed: int = 0
    retries: int = 0
    batches: int = 0
    api: str | None = None
    server_version: str | None = None
    last_error: str | None = None
    rejected_examples: Mapping[str, str] = field(default_factory=dict)

    def loss_message(self) -> str | None:
        """One line saying how many points will never be stored and why; None when none."""
        if not self.rejected:
            return None
        why = {"invalid_input": "invalid values", "server_refused": "refused by the server",
               "spool_full": "the spool was full (GAITMON_SPOOL_MAX_MB)",
               "unreadable_spool_row": "unreadable spool rows"}
        parts = []
        for reason, n in sorted(self.rejected_by_reason.items()):
            example = self.rejected_examples.get(reason)
            parts.append(f"{n} {why.get(reason, reason)}" + (f" (first: {example})" if example else ""))
        return f"{self.rejected} point(s) not stored: " + "; ".join(parts)


class StepWriter:
    """Durable, batching, retrying writer of gaitmon points. Use :func:`open_writer`.

    Thread-safe: ``write_*`` may be called from any thread. Not a network client of its own
    callers: the only blocking I/O in ``write_*`` is the local spool commit.
    """

    def __init__(self, cfg: StoreConfig, *, verify: bool = True):
        self.cfg = cfg
        self._spool = Spool(cfg.spool_dir, max_bytes=int(cfg.spool_max_mb * 1e6), sync=cfg.spool_sync)
        self._http = HttpClient(cfg)
        self._transport: Transport | None = None
        self._cond = threading.Condition()
        self._queued = 0
        self._sent = 0
        self._retries = 0
        self._batches = 0
        self._rejected: Counter = Counter()
        self._reject_examples: dict[str, str] = {}
        self._quarantined_seen = 0
        self._refused_logged = 0
        self._omitted: Counter = Counter()
        self._replayed = self._spool.pending
        self._last_error: ServerError | None = None
        self._permanent_error: ServerError | None = None
        self._attempts = 0
        self._kick = 0  # bumped by flush() and close(): wakes the sender threads
        self._claimed: dict[int, int] = {}  # spool row id -> points, rows a sender is sending
        self._claimed_points = 0
        self._claim_lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._failing_since: float | None = None
        self._last_logged: tuple[str, float] = ("", 0.0)
        self._flushers = 0
        self._closing = False
        self._closed = False
        self._last_send = 0.0
        self._batch_limit = cfg.batch_size
        self._last_full_log = 0.0
        self._full_dropped_since_log = 0
        if self._replayed:
            log.info("spool %s holds %d points from an earlier run; replaying them first",
                     self._spool.path, self._replayed)
        if verify:
            try:
                self._transport = connect(cfg, self._http)
                self._transport.check()
            except ServerUnavailable as e:
                self._transport = None
                log.warning("%s; points will wait in the spool %s and be sent once the server answers",
                            e, self._spool.path)
            except BaseException:
                self._release()
                raise
        self._threads = [threading.Thread(target=self._run, name=f"gaitmon-store-sender-{i}", daemon=True)
                         for i in range(_SENDERS)]
        for t in self._threads:
            t.start()

    # -- public API ------------------------------------------------------------------------------
    @property
    def spool_path(self):
        """Path of the SQLite spool file."""
        return self._spool.path

    @property
    def stats(self) -> WriterStats:
        with self._cond:
            t = self._transport
            return WriterStats(
                queued=self._queued, sent=self._sent, spooled=self._spool.pending,
                rejected=sum(self._rejected.values()), rejected_by_reason=dict(self._rejected),
                omitted_fields=dict(self._omitted), replayed=self._replayed, retries=self._retries,
                batches=self._batches, api=t.api if t else None, server_version=t.version if t else None,
                last_error=str(self._last_error) if self._last_error else None,
                rejected_examples=dict(self._reject_examples))

    def write_steps(self, steps: Iterable[Any], *, sensor: str, session: str, t0_unix_ns: int,
                    runner: str | None = None) -> int:
        """Spool one ``gait_step`` point per step; return how many points were spooled.

        ``steps``: dicts / ``gaitmon.core.Step`` objects with the per-step columns
        (data-contracts §3: ``t_ic_s`` s on the recording clock, ``side`` L/R, ``step_time_s`` s,
        ``cadence_spm`` steps/min, ``contact_time_s`` s or NaN, ``pelvic_drop_deg``,
        ``obliquity_range_deg``, ``tilt_range_deg``, ``rotation_range_deg`` degrees in the pelvis
        frame, ``vertical_oscillation_cm`` cm, ``activity`` walk/run, ``quality`` 0..1,
        ``stride_index`` int). Point time = ``t0_unix_ns + t_ic_s * 1e9`` (UTC ns).
        ``runner`` defaults to GAITMON_RUNNER. Invalid steps are counted and logged, not raised.
        """
        return self._accept(encode_steps(steps, runner=self._runner(runner), sensor=sensor,
                                         session=session, t0_unix_ns=t0_unix_ns), RAW, "steps")

    def write_session_summary(self, summary: Mapping[str, Any], *, sensor: str, session: str,
                              t_unix_ns: int, runner: str | None = None) -> int:
        """Spool one ``gait_session`` point (kept forever) at ``t_unix_ns`` (session end, UTC ns).
        Nested dicts are flattened with ``_``; numbers become float fields (see
        :func:`gaitmon.store.lineproto.encode_session`)."""
        return self._accept(encode_session(summary, runner=self._runner(runner), sensor=sensor,
                                           session=session, t_unix_ns=t_unix_ns), SUMMARY, "session summary")

    def write_sensor_status(self, *, sensor: str, t_unix_ns: int, session: str | None = None,
                            battery_pct: float | None = None, rssi_dbm: float | None = None,
                            packets_received: int | None = None, packets_lost: int | None = None,
                            packets_rejected: int | None = None, reconnects: int | None = None,
                            runner: str | None = None) -> int:
        """Spool one ``sensor_status`` point: battery (%), RSSI (dBm), cumulative packet
        counters and reconnects of the sensor at ``t_unix_ns`` (UTC ns)."""
        return self._accept(encode_sensor_status(
            runner=self._runner(runner), sensor=sensor, t_unix_ns=t_unix_ns, session=session,
            battery_pct=battery_pct, rssi_dbm=rssi_dbm, packets_received=packets_received,
            packets_lost=packets_lost, packets_rejected=packets_rejected, reconnects=reconnects),
            RAW, "sensor status")

    def write_exercise(self, *, exercise: str, t_unix_ns: int, sets: int | None = None,
                       reps: int | None = None, hold_s: float | None = None, note: str | None = None,
                       runner: str | None = None) -> int:
        """Spool one ``exercise`` log entry (kept forever): ``sets``, ``reps``, ``hold_s`` (s),
        free-text ``note``, at ``t_unix_ns`` (UTC ns)."""
        return self._accept(encode_exercise(runner=self._runner(runner), exercise=exercise,
                                            t_unix_ns=t_unix_ns, sets=sets, reps=reps, hold_s=hold_s,
                                            note=note), SUMMARY, "exercise")

    def write_point(self, measurement: str, *, tags: Mapping[str, str], fields: Mapping[str, Any],
                    t_unix_ns: int, summary: bool = True) -> int:
        """Spool one point of another measurement (``single_leg_test``, ``fatigue`` ...) to the
        summary destination (kept forever; ``summary=False``: raw). Returns points spooled."""
        return self._accept(encode_point(measurement, tags, fields, t_unix_ns), SUMMARY if summary else RAW,
                            measurement)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every spooled point is acknowledged by the server.

        Returns True when the spool is empty, False when ``timeout`` (s) passed first (the
        points stay spooled, nothing is lost). Raises the server's error (AuthError,
        TargetNotFound, ApiMismatch, ...) when an attempt made during this call failed in a
        way that waiting cannot fix.
        """
        deadline = time.monotonic() + min(timeout, _deadline.remaining())  # never past the operation's
        with self._cond:
            if self._closed:
                return self._spool.pending == 0
            start = self._attempts
            self._flushers += 1
            self._kick += 1
            self._cond.notify_all()
            try:
                while True:
                    if self._spool.pending == 0:
                        return True
                    if self._permanent_error is not None and self._attempts > start:
                        raise self._permanent_error
                    if not any(t.is_alive() for t in self._threads):
                        raise StoreError("the writer's sending threads stopped; see the log")
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            finally:
                self._flushers -= 1

    def close(self, timeout: float = 10.0) -> None:
        """Send what can be sent within ``timeout`` (s), stop the thread, close the spool.
        Points not acknowledged stay in the spool for the next writer (logged)."""
        if self._closed:
            return
        try:
            self.flush(timeout)
        except StoreError as e:
            log.error("%s", e)
        with self._cond:
            self._closing = True
            self._kick += 1
            self._cond.notify_all()
        # a sender may be in the middle of a request (bounded by timeout_s and the operation)
        deadline = time.monotonic() + min(self.cfg.timeout_s + 1.0, _deadline.remaining() + 0.5)
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            log.warning("a request to the server is still pending; unacknowledged points stay in the spool "
                        "%s for the next gaitmon run", self._spool.path)
            return
        pending = self._spool.pending
        if pending:
            log.warning("%d points are still in the spool %s; the next gaitmon writer using this "
                        "GAITMON_SPOOL_DIR will send them", pending, self._spool.path)
        self._release()

    def __enter__(self) -> "StepWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<StepWriter {self.cfg.describe()} spool={self._spool.path}>"

    # -- caller side -------------------------------------------------------------------------------
    def _runner(self, runner: str | None) -> str:
        runner = runner or self.cfg.runner
        if not runner:
            raise StoreError("no runner: set GAITMON_RUNNER or pass runner=")
        return runner

    def _accept(self, enc: Encoded, target: int, what: str) -> int:
        if self._closed or self._closing:
            raise StoreError("the writer is closed")
        n = self._append_with_room(target, enc.lines)
        dropped = len(enc.lines) - n
        with self._cond:
            self._queued += n
            self._omitted.update(enc.omitted)
            if enc.rejected:
                self._rejected["invalid_input"] += len(enc.rejected)
                self._reject_examples.setdefault("invalid_input", f"{what} #{enc.rejected[0][0]}: {enc.rejected[0][1]}")
            if dropped:
                self._rejected["spool_full"] += dropped
                self._reject_examples.setdefault(
                    "spool_full", f"{self._spool.pending} points ({self._spool.pending_bytes / 1e6:.2f} MB) waiting, "
                                  f"bound {self.cfg.spool_max_mb:g} MB")
            if self._full_batch_waiting():
                self._cond.notify_all()
        if enc.rejected:
            index, reason = enc.rejected[0]
            log.warning("rejected %d invalid %s (first: #%d: %s)", len(enc.rejected), what, index, reason)
        if dropped:
            self._log_spool_full(dropped)
        return n

    def _append_with_room(self, target: int, lines: list[str]) -> int:
        """Append to the spool; when it is full while the server answers, wait (up to
        GAITMON_INFLUX_TIMEOUT_S without progress) for the senders to make room instead of
        dropping points. Returns how many lines were spooled."""
        n = self._spool.append(target, lines) if lines else 0
        last_progress = time.monotonic()
        while n < len(lines) and self._transport is not None and self._last_error is None:
            if time.monotonic() - last_progress > self.cfg.timeout_s or _deadline.remaining() <= 0:
                break
            before = self._spool.pending
            with self._cond:
                self._kick += 1
                self._cond.notify_all()
                self._cond.wait(0.05)
            more = self._spool.append(target, lines[n:])
            if more:
                n += more
                last_progress = time.monotonic()
            elif before == 0 and self._spool.pending == 0:
                break  # a single point larger than the whole spool
            elif self._spool.pending < before:
                last_progress = time.monotonic()
        return n

    def _log_spool_full(self, dropped: int) -> None:
        self._full_dropped_since_log += dropped
        now = time.monotonic()
        if now - self._last_full_log >= 10.0:
            why = (f"the server has not acknowledged anything for a while: last error: {self._last_error}"
                   if self._last_error is not None else
                   "the server did not make room in time; raise GAITMON_SPOOL_MAX_MB")
            log.error("SPOOL FULL: %d points dropped (%s holds %d points, bound GAITMON_SPOOL_MAX_MB=%g); %s",
                      self._full_dropped_since_log, self._spool.path, self._spool.pending,
                      self.cfg.spool_max_mb, why)
            self._last_full_log = now
            self._full_dropped_since_log = 0

    # -- sender threads ----------------------------------------------------------------------------
    def _run(self) -> None:
        delay = _BACKOFF_START_S
        seen_kick = -1
        while True:
            with self._cond:
                if self._closing:
                    return
                urgent = self._kick != seen_kick or self._flushers > 0
                seen_kick = self._kick
            rows: list[SpoolRow] = []
            transport = None
            try:
                rows = self._claim()
                n = sum(r[2] for r in rows)
                since = time.monotonic() - self._last_send
                # a partial batch waits (up to flush_interval_s after the last send) for more
                # points, unless a flush/close is waiting or more points are queued behind it
                linger = (n < self._batch_limit and not urgent and since < self.cfg.flush_interval_s
                          and self._spool.pending <= self._claimed_points)
                if not rows or linger:
                    self._unclaim(rows)
                    rows = []
                    self._wait(self.cfg.flush_interval_s - (since if n else 0.0), seen_kick, until_work=True)
                    continue
                transport = self._connected()  # only when there is something to send
                self._send(transport, rows)
            except ServerError as e:
                self._failed(e, transport)
                wait = delay if e.retryable else self.cfg.retry_max_s
                if e.retry_after_s is not None:
                    wait = max(wait, min(e.retry_after_s, self.cfg.retry_max_s))
                self._wait(wait * random.uniform(0.8, 1.2), seen_kick, until_work=False)
                delay = min(delay * 2, self.cfg.retry_max_s)
                continue
            except Exception:  # a bug or a spool failure: never let the thread die silently
                log.exception("unexpected error in the gaitmon store writer; retrying")
                self._wait(self.cfg.retry_max_s, seen_kick, until_work=False)
                continue
            finally:
                self._unclaim(rows)
            delay = _BACKOFF_START_S

    def _connected(self) -> Transport:
        with self._connect_lock:
            if self._transport is None:
                self._transport = connect(self.cfg, self._http)
            return self._transport

    def _claim(self) -> list[SpoolRow]:
        """The oldest batch of rows no other sender thread is sending."""
        with self._claim_lock:
            rows = self._spool.peek(self._batch_limit, skip=self._claimed)
            q = self._spool.quarantined - self._quarantined_seen
            if q:
                self._quarantined_seen += q
                with self._cond:
                    self._rejected["unreadable_spool_row"] += q
                    self._reject_examples.setdefault("unreadable_spool_row", "see `gaitmon store rejected`")
            for r in rows:
                self._claimed[r[0]] = r[2]
            self._claimed_points += sum(r[2] for r in rows)
            return rows

    def _unclaim(self, rows: Sequence[SpoolRow]) -> None:
        if rows:
            with self._claim_lock:
                for r in rows:
                    self._claimed_points -= self._claimed.pop(r[0], 0)

    def _full_batch_waiting(self) -> bool:
        """At least one full batch in the spool that no sender is sending yet."""
        return self._spool.pending - self._claimed_points >= self._batch_limit

    def _failed(self, e: ServerError, transport: Transport | None) -> None:
        """Count a failed attempt; log it (once per distinct message and minute)."""
        now = time.monotonic()
        with self._cond:
            self._attempts += 1
            self._retries += 1
            self._last_error = e
            self._permanent_error = None if e.retryable else e
            if self._failing_since is None:
                self._failing_since = now
            msg = str(e)
            log_it = msg != self._last_logged[0] or now - self._last_logged[1] >= _REPEAT_LOG_S
            if log_it:
                self._last_logged = (msg, now)
            self._cond.notify_all()
        if log_it:
            log.log(logging.WARNING if e.retryable else logging.ERROR,
                    "%s; %d points kept in the spool %s, retrying", msg, self._spool.pending, self._spool.path)
        if isinstance(e, ApiMismatch) and self.cfg.api == "auto":
            with self._connect_lock:
                if transport is not None and self._transport is transport:
                    self._transport = None  # ask /ping again next time
                    transport.close()

    def _wait(self, seconds: float, seen_kick: int, *, until_work: bool) -> None:
        """Sleep up to ``seconds``; wake early on close, flush, or (``until_work``) a full batch."""
        deadline = time.monotonic() + max(0.0, seconds)
        with self._cond:
            while not self._closing and self._kick == seen_kick:
                if until_work and self._full_batch_waiting():
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def _send(self, transport: Transport, rows: Sequence[SpoolRow]) -> None:
        """Post ``rows`` (one target); on 400/413 split until the refused points are isolated."""
        target = rows[0][1]
        try:
            transport.send(b"\n".join(r[3] for r in rows), target)
        except (PointsRejected, PayloadTooLarge) as e:
            if isinstance(e, PayloadTooLarge):
                self._batch_limit = max(1, min(self._batch_limit, sum(r[2] for r in rows) // 2))
            if len(rows) > 1:
                half = len(rows) // 2
                self._send(transport, rows[:half])
                self._send(transport, rows[half:])
                return
            refused = self._isolate(transport, rows[0][3].split(b"\n"), target, e)
            self._spool.reject(rows[0], refused)
            with self._cond:
                self._rejected["server_refused"] += len(refused)
                self._reject_examples.setdefault("server_refused", refused[0][1][:300])
            for line, reason in refused:
                self._refused_logged += 1
                if self._refused_logged <= _REFUSED_LOG_LINES:
                    log.error("point refused by the server and moved to the spool's rejected table: %s "
                              "[%s]", reason, line[:200].decode("utf-8", "replace"))
                elif self._refused_logged == _REFUSED_LOG_LINES + 1:
                    log.error("more points refused by the server: counted, not logged one by one "
                              "(gaitmon store rejected lists them)")
            self._acknowledged(rows[0][2] - len(refused))
            return
        self._spool.ack(rows)
        self._acknowledged(sum(r[2] for r in rows))

    def _isolate(self, transport: Transport, lines: list[bytes], target: int,
                 error: ServerError) -> list[tuple[bytes, str]]:
        """Send ``lines`` in halves until the refused ones are single; return them with the
        server's reason. Everything else has been acknowledged when this returns."""
        if len(lines) == 1:
            return [(lines[0], str(error))]
        refused = []
        half = len(lines) // 2
        for part in (lines[:half], lines[half:]):
            try:
                transport.send(b"\n".join(part), target)
            except (PointsRejected, PayloadTooLarge) as e:
                refused += self._isolate(transport, part, target, e)
        return refused

    def _acknowledged(self, n: int) -> None:
        with self._cond:
            if self._failing_since is not None:
                log.info("server answers again after %.0f s; %d points left in the spool",
                         time.monotonic() - self._failing_since, self._spool.pending)
                self._failing_since = None
                self._last_logged = ("", 0.0)
            self._sent += n
            self._batches += 1
            self._attempts += 1
            self._last_error = None
            self._permanent_error = None
            self._last_send = time.monotonic()
            self._cond.notify_all()

    def _release(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.close()
        self._http.close()
        self._spool.close()


def open_writer(cfg: StoreConfig, *, verify: bool = True) -> StepWriter:
    """Open the spool, start the sending thread, return the writer (a context manager).

    With ``verify`` (default) the server is asked first — API detection and an empty write to
    each destination — so a wrong token, a missing database/bucket or a wrong API raises right
    here (AuthError, TargetNotFound, ApiMismatch). An unreachable server is only logged: the
    points wait in the spool until it answers. Raises SpoolError when the spool cannot be used.
    """
    return StepWriter(cfg, verify=verify)


def import_recording_steps(cfg: StoreConfig, steps: Iterable[Any], *, sensor: str, session: str,
                           t0_unix_ns: int, runner: str | None = None,
                           summary: Mapping[str, Any] | None = None, summary_t_unix_ns: int | None = None,
                           timeout: float = 120.0) -> WriterStats:
    """Back-fill one analysed recording (``gaitmon import``): write its steps (and summary),
    wait up to ``timeout`` s for the server, close, and return the final stats. Anything not
    acknowledged in time stays in the spool (``stats.spooled``) for the next writer."""
    if summary is not None and summary_t_unix_ns is None:
        raise ValueError("summary_t_unix_ns (session end, UTC ns) is needed with a summary")
    w = open_writer(cfg)
    try:
        w.write_steps(steps, sensor=sensor, session=session, t0_unix_ns=t0_unix_ns, runner=runner)
        if summary is not None:
            w.write_session_summary(summary, sensor=sensor, session=session,
                                    t_unix_ns=summary_t_unix_ns, runner=runner)
        w.flush(timeout)
    finally:
        w.close()
    return w.stats

"""Live pipeline: collector -> streaming core (one analyzer per sensor) -> sinks.

:class:`LivePipeline` receives every accepted packet of every sensor session as a
:class:`~gaitmon.collector.session.SampleBlock` (``on_block``, cheap, called in the event loop),
pushes them in batches into one :class:`gaitmon.core.StreamingAnalyzer` per sensor (in a worker
thread, so BLE notifications keep flowing while the core computes), and hands finished steps and
periodic sensor status to its sinks.

Sinks: see :mod:`gaitmon.pipeline.records` (:class:`~gaitmon.pipeline.records.Sink`); the
pipeline passes each a list of :class:`~gaitmon.pipeline.records.StepRecord`, the status
snapshots and, where a sink can take them, the steps whose side was revised.

The pipeline is the collector's block consumer (:class:`gaitmon.collector.consumer.BlockConsumer`:
``add_session``, ``on_block``, ``run``, ``stop``, ``stats``); the collector never imports it —
the command line hands :func:`pipeline_factory` to :func:`gaitmon.collector.app.run_collect`.

Per-step latency: from the host arrival of the packet holding the step's last sample (the next
contralateral IC, ``t_ic_s + step_time_s``) to the moment the step leaves the core. Recorded
per step (``StepRecord.latency_s``), summarised as p50/p99 in :meth:`LivePipeline.stats`. The
core needs a warm-up (standing + several strides) before its first step; the steps of that first
batch carry the warm-up in their latency and are reported separately (``latency_first_batch``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.collector.session import SampleBlock, SensorSession
from gaitmon.core import StreamingAnalyzer, Step

from .file_sink import FileSink
from .records import Sink, StepRecord

__all__ = ["LivePipeline", "SensorStats", "latency_summary", "default_analyzer", "pipeline_factory"]

log = logging.getLogger("gaitmon.pipeline")

G = 9.80665


def latency_summary(values: list[float]) -> dict:
    """n, p50, p99 and max of latencies (s); NaN-free; empty -> None values."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return {"n": 0, "p50_s": None, "p99_s": None, "max_s": None}
    return {"n": int(len(v)), "p50_s": float(np.percentile(v, 50)),
            "p99_s": float(np.percentile(v, 99)), "max_s": float(v.max())}


@dataclass
class SensorStats:
    """Live analysis state of one sensor (what the live view shows)."""

    key: str
    runner: str
    sensor: str
    steps: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=40))  # last Steps
    latencies: list = field(default_factory=list)  # steady-state latencies, s
    first_batch_latencies: list = field(default_factory=list)  # warm-up batch, s
    analysis_errors: int = 0
    samples_analysed: int = 0
    side_revisions: int = 0  # steps whose side/confidence changed when their bout was smoothed

    def side_mean(self, side: str, field_name: str = "pelvic_drop_deg", last: int = 10) -> float | None:
        vals = [getattr(s, field_name) for s in self.recent if s.side == side]
        vals = [v for v in vals[-last:] if v is not None and math.isfinite(v)]
        return float(np.mean(vals)) if vals else None

    @property
    def cadence_spm(self) -> float | None:
        vals = [s.cadence_spm for s in list(self.recent)[-6:] if math.isfinite(s.cadence_spm)]
        return float(np.median(vals)) if vals else None


AnalyzerFactory = Callable[[SensorSession], StreamingAnalyzer]


def default_analyzer(session: SensorSession) -> StreamingAnalyzer:
    """A StreamingAnalyzer for the session's nominal mount and the sensor's ranges, reading runs
    without a walk with the runner's drop pattern learned from earlier walk-started runs (journal)."""
    from gaitmon.pipeline import journal

    info = session.info
    sat_acc = info.acc_range_g * G * 0.999 if info and info.acc_range_g else None
    sat_gyr = math.radians(info.gyro_range_dps) * 0.999 if info and info.gyro_range_dps else None
    learned, _, _ = journal.learned_run_pattern(session.spec.runner)
    return StreamingAnalyzer(forward=session.forward, up=session.up, sat_acc=sat_acc, sat_gyr=sat_gyr,
                             run_pattern_reversed=learned)


class _Lane:
    """Per-sensor state: pending blocks, analyzer, latency markers."""

    def __init__(self, session: SensorSession) -> None:
        self.session = session
        self.pending: list[SampleBlock] = []
        self.analyzer: StreamingAnalyzer | None = None
        self.markers: deque = deque()  # (t_rec of the block's last sample, arrival_mono)
        self.emitted_batches = 0
        self.failed = False
        self.stats = SensorStats(key=session.spec.key, runner=session.spec.runner,
                                 sensor=session.spec.sensor)


class LivePipeline:
    """Collector sessions -> StreamingAnalyzer per sensor -> sinks (see module docstring).

    Args:
        sinks: where steps and status go. analyzer_factory: builds the analyzer of a session
            (default: :func:`default_analyzer`). status_interval_s: status snapshot period.
    """

    def __init__(self, sinks: list[Sink], *, analyzer_factory: AnalyzerFactory | None = None,
                 status_interval_s: float = 5.0) -> None:
        self.sinks = list(sinks)
        self.analyzer_factory = analyzer_factory or default_analyzer
        self.status_interval_s = float(status_interval_s)
        self._lanes: dict[str, _Lane] = {}
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._finished = False
        self.records: list[StepRecord] = []  # every step record (also kept for summaries)
        self.keep_records = True

    # ------------------------------------------------------------------------------ wiring
    def add_session(self, session: SensorSession) -> None:
        """Register a session; its blocks must reach :meth:`on_block`."""
        if session.spec.key in self._lanes:
            raise ValueError(f"duplicate sensor key {session.spec.key!r}")
        self._lanes[session.spec.key] = _Lane(session)

    @property
    def sessions(self) -> list[SensorSession]:
        return [lane.session for lane in self._lanes.values()]

    def sensor_stats(self) -> list[SensorStats]:
        return [lane.stats for lane in self._lanes.values()]

    def on_block(self, block: SampleBlock) -> None:
        """Queue a block (called by the sessions in the event loop)."""
        lane = self._lanes.get(block.key)
        if lane is None:
            log.error("block for unknown sensor %r dropped", block.key)
            return
        lane.pending.append(block)
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------------------ running
    async def run(self) -> None:
        """Process blocks until :meth:`stop`; then drain, finish the analyzers, close sinks."""
        self._wake = asyncio.Event()
        next_status = time.monotonic() + self.status_interval_s
        try:
            while True:
                timeout = max(0.0, next_status - time.monotonic())
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    pass
                self._wake.clear()
                await self._process_pending()
                if time.monotonic() >= next_status:
                    self._write_status()
                    next_status = time.monotonic() + self.status_interval_s
                if self._stopping and not any(l.pending for l in self._lanes.values()):
                    break
        finally:
            await self.finish()

    def stop(self) -> None:
        """Ask :meth:`run` to drain what is queued and finish."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    async def finish(self) -> None:
        """Flush: process what is queued, ``finish()`` every analyzer, final status, close sinks."""
        if self._finished:
            return
        self._finished = True
        await self._process_pending()
        for lane in self._lanes.values():
            if lane.analyzer is not None and not lane.failed:
                try:
                    steps = await asyncio.to_thread(lane.analyzer.finish)
                except Exception:
                    log.exception("%s: analyzer finish failed", lane.stats.key)
                    lane.stats.analysis_errors += 1
                    steps = []
                self._emit(lane, steps, at_end=True)
                self._emit_revisions(lane)
                self._keep_run_pattern(lane)
        self._write_status()
        for sink in self.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("sink %s failed to close", type(sink).__name__)

    def _keep_run_pattern(self, lane: _Lane) -> None:
        """The session's verdicts on the runner's running drop pattern, for the runner's next runs."""
        from gaitmon.pipeline import journal

        verdicts = getattr(lane.analyzer, "run_pattern_verdicts", None)
        if not verdicts:
            return
        try:
            journal.append_run_pattern(runner=lane.session.spec.runner, session=lane.session.session_id,
                                       verdicts=verdicts)
        except OSError as exc:
            log.warning("%s: the run-pattern verdicts could not be kept in the journal: %s", lane.stats.key, exc)

    async def _process_pending(self) -> None:
        for lane in self._lanes.values():
            if not lane.pending:
                continue
            blocks, lane.pending = lane.pending, []
            await self._analyse(lane, blocks)

    async def _analyse(self, lane: _Lane, blocks: list[SampleBlock]) -> None:
        if lane.failed:
            return
        if lane.analyzer is None:
            session = lane.session
            if session.forward is None or session.up is None:
                log.error("%s: nominal forward/up axes unknown (set them in the config); "
                          "steps are not analysed, the raw recording continues", lane.stats.key)
                lane.failed = True
                return
            try:
                lane.analyzer = self.analyzer_factory(session)
            except Exception:
                log.exception("%s: cannot create the analyzer", lane.stats.key)
                lane.failed = True
                return
        t = np.concatenate([b.t_rec for b in blocks])
        acc = np.concatenate([b.acc for b in blocks])
        gyr = np.concatenate([b.gyr for b in blocks])
        for b in blocks:
            lane.markers.append((float(b.t_rec[-1]), b.arrival_mono))
        try:
            steps = await asyncio.to_thread(lane.analyzer.push, t, acc, gyr)
        except Exception as e:
            lane.stats.analysis_errors += 1
            log.warning("%s: analysis of %d samples failed: %s", lane.stats.key, len(t), e)
            return
        lane.stats.samples_analysed += len(t)
        self._emit(lane, steps)

    def _emit(self, lane: _Lane, steps: list[Step], at_end: bool = False) -> None:
        if not steps:
            return
        now = time.monotonic()
        session = lane.session
        first_batch = lane.emitted_batches == 0
        lane.emitted_batches += 1
        records = []
        for s in steps:
            t_end = s.t_ic_s + s.step_time_s
            latency = None
            if not at_end:
                for t_last, arrival in lane.markers:
                    if t_last >= t_end - 1e-9:
                        latency = now - arrival
                        break
            if latency is not None:
                (lane.stats.first_batch_latencies if first_batch else lane.stats.latencies).append(latency)
            rec = StepRecord(runner=session.spec.runner, sensor=session.spec.sensor,
                             session=session.session_id, key=lane.stats.key, step=s,
                             t_ic_utc=float(session.rec_to_utc(s.t_ic_s)), latency_s=latency)
            records.append(rec)
            lane.stats.steps += 1
            lane.stats.recent.append(s)
        # markers older than the newest finished step (minus a margin) are no longer needed
        horizon = max(s.t_ic_s + s.step_time_s for s in steps) - 30.0
        while lane.markers and lane.markers[0][0] < horizon:
            lane.markers.popleft()
        if self.keep_records:
            self.records.extend(records)
        for sink in self.sinks:
            try:
                sink.write_steps(records)
            except Exception:
                log.exception("sink %s failed to write steps", type(sink).__name__)
        self._emit_revisions(lane)

    def _emit_revisions(self, lane: _Lane) -> None:
        """Pass on the steps whose side the analyzer revised when their bout closed (sinks that
        can revise — ``revise_steps`` — get them; the records kept here are updated)."""
        revs = lane.analyzer.side_revisions if lane.analyzer is not None else []
        if not revs:
            return
        new = list(revs)
        del revs[:]  # taken: over a day-long collect the list would otherwise keep every revision
        lane.stats.side_revisions += len(new)
        session = lane.session
        records = [StepRecord(runner=session.spec.runner, sensor=session.spec.sensor, session=session.session_id,
                              key=lane.stats.key, step=s, t_ic_utc=float(session.rec_to_utc(s.t_ic_s)), latency_s=None)
                   for s in new]
        if self.keep_records:
            by = {(r.key, r.step.stride_index): r for r in records}
            self.records = [by.get((r.key, r.step.stride_index), r) for r in self.records]
        for sink in self.sinks:
            revise = getattr(sink, "revise_steps", None)
            if revise is None:
                continue
            try:
                revise(records)
            except Exception:
                log.exception("sink %s failed to revise steps", type(sink).__name__)

    def _write_status(self) -> None:
        statuses = [lane.session.status for lane in self._lanes.values()]
        t_utc = time.time()
        for sink in self.sinks:
            try:
                sink.write_status(statuses, t_utc)
            except Exception:
                log.exception("sink %s failed to write status", type(sink).__name__)

    # ------------------------------------------------------------------------------ stats
    def stats(self) -> dict:
        """Per-sensor counts and latency summaries (s): steady state and first (warm-up) batch."""
        out = {}
        all_lat: list[float] = []
        for key, lane in self._lanes.items():
            st = lane.stats
            all_lat += st.latencies
            out[key] = {
                "runner": st.runner, "sensor": st.sensor, "steps": st.steps,
                "samples_analysed": st.samples_analysed, "analysis_errors": st.analysis_errors,
                "side_revisions": st.side_revisions,
                "latency": latency_summary(st.latencies),
                "latency_first_batch": latency_summary(st.first_batch_latencies),
            }
        return {"sensors": out, "latency": latency_summary(all_lat)}


def pipeline_factory(sinks=(), *, file_sink: bool = True) -> Callable[..., LivePipeline]:
    """The collector's consumer factory (:class:`gaitmon.collector.consumer.ConsumerFactory`) for a
    live session: once the collector has made the session directory it calls
    ``factory(run_dir, status_interval_s=...)`` and feeds the returned :class:`LivePipeline`,
    which writes the session's files there (:class:`FileSink`, unless ``file_sink`` is False)
    and to ``sinks`` (e.g. the InfluxDB sink)."""
    extra = list(sinks)

    def make(run_dir: Path, *, status_interval_s: float = 5.0) -> LivePipeline:
        all_sinks = ([FileSink(run_dir)] if file_sink else []) + extra
        return LivePipeline(all_sinks, status_interval_s=status_interval_s)

    return make

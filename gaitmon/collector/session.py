"""One sensor session: connect, configure, stream, account, record, reconnect — over a Link.

A :class:`SensorSession` owns one :class:`~gaitmon.collector.link.Link` and runs as one asyncio
task (:meth:`SensorSession.run`) until :meth:`SensorSession.stop`. It

* connects (timeout), reads Device Information, reads/sets the sensor configuration, subscribes
  to the data characteristic and starts the stream;
* decodes every notification with the profile's decoder (malformed ones are counted by reason
  in :class:`~gaitmon.collector.status.SensorStatus` and dropped — never a crash);
* checks sequence numbers and timestamps (:class:`~gaitmon.collector.accounting.StreamAccountant`):
  lost packets/samples become explicit :class:`~gaitmon.collector.accounting.Gap` records;
* maps the sensor clock to UTC with drift estimation (:class:`~gaitmon.collector.clock.ClockMapper`);
* appends raw samples to the recording CSV (a gap stays a gap) and hands every accepted packet
  as a :class:`SampleBlock` to ``on_block`` (the live pipeline);
* on link loss, reconnects with exponential backoff and resumes the *same* session (same
  recording file, same clock, sequence continuity checked across the outage);
* polls battery level and RSSI every ``status_interval_s`` and rewrites the sidecar JSON.

Units: times in seconds (sensor clock; ``t_rec`` = seconds since the session's first sample),
acc in m/s² (specific force), gyr in rad/s, both in the SENSOR frame.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitmon.sensors.base import DecodeError, Decoder

from .accounting import Gap, Rejected, StreamAccountant
from .clock import ClockMapper, HostClock
from .link import Link, LinkError
from .profiles import SensorProfile, StreamInfo, read_battery, read_device_info
from .recorder import RecordingWriter, utc_iso
from .status import SensorStatus

__all__ = ["SampleBlock", "SensorSpec", "ReconnectPolicy", "SensorSession"]

log = logging.getLogger("gaitmon.collector.session")


@dataclass(frozen=True)
class SampleBlock:
    """The samples of one accepted notification.

    key: the session's sensor key; t_rec: float64[n] s since the session's first sample (sensor
    clock); acc: float64[n,3] m/s² specific force, sensor frame; gyr: float64[n,3] rad/s sensor
    frame; arrival_mono: host ``time.monotonic()`` when the notification arrived; gap: the gap
    that precedes these samples, if any.
    """

    key: str
    t_rec: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    arrival_mono: float
    gap: Gap | None = None


@dataclass(frozen=True)
class SensorSpec:
    """What to collect from one sensor.

    key: unique id within the run (used in file names); runner: who wears it; sensor: display
    name (advertised name or address); kind: profile (``gaitmon``); forward/up: nominal mount
    axes overriding what the device reports (``+x`` … ``-z``); rate_hz: requested sample rate
    (None = keep the device's).
    """

    key: str
    runner: str
    sensor: str
    kind: str = "gaitmon"
    forward: str | None = None
    up: str | None = None
    rate_hz: int | None = None


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff between connection attempts (seconds), with ±``jitter`` fraction.

    max_failures: consecutive failed attempts after which the session gives up (None: never).
    """

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 10.0
    jitter: float = 0.2
    connect_timeout_s: float = 15.0
    max_failures: int | None = None

    def delay(self, failures: int, rng: random.Random) -> float:
        """Delay before the next attempt after ``failures`` consecutive failures (0 = link lost)."""
        base = min(self.max_s, self.initial_s * self.factor ** max(0, failures - 1))
        return max(0.0, base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0)))


class SensorSession:
    """Collect one sensor over one link until stopped (see module docstring).

    Args:
        spec: what to collect; link: the connection (BleakLink or VirtualLink);
        profile: the device profile; session_id: run identifier (tag, file header);
        recording_path: where the raw CSV goes (None: no raw recording);
        on_block: called with every :class:`SampleBlock` (in the event loop; keep it cheap);
        host_clock: shared monotonic->UTC clock of the run; policy: reconnect backoff;
        status_interval_s: battery/RSSI poll and sidecar rewrite period.
    """

    def __init__(self, spec: SensorSpec, link: Link, profile: SensorProfile, *, session_id: str,
                 recording_path: Path | None, on_block: Callable[[SampleBlock], None] | None = None,
                 host_clock: HostClock | None = None, policy: ReconnectPolicy | None = None,
                 status_interval_s: float = 5.0, seed: int | None = None) -> None:
        self.spec = spec
        self.link = link
        self.profile = profile
        self.session_id = session_id
        self.on_block = on_block
        self.host_clock = host_clock or HostClock()
        self.policy = policy or ReconnectPolicy()
        self.status_interval_s = float(status_interval_s)
        self.recorder = RecordingWriter(recording_path) if recording_path else None
        self.status = SensorStatus(runner=spec.runner, sensor=spec.sensor, session=session_id,
                                   address=link.address, kind=spec.kind)
        self.clock = ClockMapper()
        self.info: StreamInfo | None = None
        self.accountant: StreamAccountant | None = None
        self.start_utc: float | None = None
        self.samples_saturated = 0
        self._decoder: Decoder | None = None
        self._connections = 0  # connections that reached streaming
        self._stop_evt: asyncio.Event | None = None
        self._lost_evt: asyncio.Event | None = None
        self._stop_requested = False
        self._rng = random.Random(seed)
        self._warned: set[str] = set()
        self.closed = False

    # ------------------------------------------------------------------------------ public
    @property
    def forward(self) -> str | None:
        """Nominal forward axis: the configured override, else what the device reports."""
        return self.spec.forward or (self.info.forward if self.info else None)

    @property
    def up(self) -> str | None:
        return self.spec.up or (self.info.up if self.info else None)

    def stop(self) -> None:
        """Ask :meth:`run` to stop the stream, disconnect and close the files."""
        self._stop_requested = True
        if self._stop_evt is not None:
            self._stop_evt.set()

    async def run(self) -> SensorStatus:
        """Connect/stream/reconnect until :meth:`stop`; returns the final status."""
        self._stop_evt = asyncio.Event()
        if self._stop_requested:
            self._stop_evt.set()
        failures = 0
        try:
            while not self._stop_evt.is_set():
                self.status.link_state = "connecting" if self._connections == 0 else "reconnecting"
                try:
                    await self._connect_once()
                    failures = 0
                    await self._stream_until_lost()
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # a failed attempt never ends the session
                    failures += 1
                    self.status.connect_failures += 1
                    self.status.last_error = f"{type(e).__name__}: {e}"
                    known = isinstance(e, (LinkError, TimeoutError, OSError))
                    log.warning("%s: connection attempt %d failed: %s", self.spec.key, failures,
                                self.status.last_error, exc_info=not known)
                    await self._drop_link()
                if self._stop_evt.is_set():
                    break
                if self.policy.max_failures is not None and failures >= self.policy.max_failures:
                    self.status.link_state = "failed"
                    log.error("%s: giving up after %d failed attempts", self.spec.key, failures)
                    break
                self.status.link_state = "reconnecting"
                delay = self.policy.delay(failures, self._rng)
                try:
                    await asyncio.wait_for(self._stop_evt.wait(), timeout=delay)
                except TimeoutError:
                    pass
        finally:
            await self._drop_link()
            self._close()
        return self.status

    def sidecar(self) -> dict:
        """The session's sidecar record (gaps, clock fit, status) as a JSON-able dict."""
        fit = self.clock.fit() if self.clock.ready else None
        acc = self.accountant
        return {
            "format": "gaitmon-session/1",
            "session": self.session_id,
            "runner": self.spec.runner,
            "sensor": self.spec.sensor,
            "address": self.link.address,
            "kind": self.spec.kind,
            "recording": self.recorder.path.name if self.recorder else None,
            "start_utc": utc_iso(self.start_utc) if self.start_utc else None,
            "forward": self.forward,
            "up": self.up,
            "sample_rate_hz": self.info.rate_hz if self.info else None,
            "clock": None if fit is None else {
                "offset_s": fit.offset_s, "drift_ppm": fit.drift_ppm, "t_ref_s": fit.t_ref_s,
                "windows": fit.n_windows, "suspect": fit.suspect,
                "note": "utc = t_sensor + offset_s + drift_ppm*1e-6 * (t_sensor - t_ref_s); "
                        "t_sensor = time_s + origin_s",
                "origin_s": acc.origin if acc else None,
            },
            "gaps": [g.as_dict() for g in acc.gaps] if acc else [],
            "samples_saturated": self.samples_saturated,
            "status": self.status.as_dict(),
        }

    def rec_to_utc(self, t_rec) -> float | np.ndarray:
        """Recording time(s) (s since the first sample) -> UTC POSIX seconds."""
        origin = self.accountant.origin if self.accountant and self.accountant.origin is not None else 0.0
        return self.clock.to_utc(np.asarray(t_rec, dtype=np.float64) + origin)

    # ------------------------------------------------------------------------------ connect
    async def _connect_once(self) -> None:
        link = self.link
        self._lost_evt = asyncio.Event()
        lost = self._lost_evt
        link.set_disconnected_callback(lambda: lost.set())
        timeout = self.policy.connect_timeout_s
        await asyncio.wait_for(link.connect(timeout), timeout=timeout + 5.0)
        reconnect = self._connections > 0  # a stream ran before: this resumes the session
        if reconnect and self.accountant is not None:
            self.accountant.mark_reconnect()
        if self.status.model is None and self.status.firmware is None:
            self.status.model, self.status.firmware = await read_device_info(link)
        info = await self.profile.configure(link, self.spec.rate_hz)
        if self.info is None:
            self.info = info
            self.status.sample_rate_hz = info.rate_hz
            self.accountant = StreamAccountant(info.dt_s, seq_bits=self.profile.seq_bits,
                                               clock_wrap_s=self.profile.clock_wrap_s)
        elif info != self.info:
            log.warning("%s: sensor configuration changed on reconnect: %s -> %s",
                        self.spec.key, self.info, info)
            self.info = info
            self.status.sample_rate_hz = info.rate_hz
            self.accountant.set_dt(info.dt_s)
        self._decoder = self.profile.make_decoder(info)  # fresh per connection
        await link.start_notify(self.profile.data_uuid, self._on_notify)
        await self.profile.start(link)
        self._connections += 1
        if reconnect:
            self.status.reconnects += 1
            log.info("%s: reconnected (reconnect #%d)", self.spec.key, self.status.reconnects)
        self.status.link_state = "streaming"
        await self._poll_link_health()
        if lost.is_set():
            raise LinkError("link lost while starting the stream")

    async def _stream_until_lost(self) -> None:
        assert self._stop_evt is not None and self._lost_evt is not None
        stop, lost = self._stop_evt, self._lost_evt
        while True:
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, timeout=self.status_interval_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
            if stop.is_set():
                await self._graceful_stop()
                return
            if lost.is_set():
                self.status.link_state = "reconnecting"
                log.warning("%s: link lost; reconnecting", self.spec.key)
                self._decoder = None
                return
            await self._poll_link_health()
            self._write_sidecar()

    async def _poll_link_health(self) -> None:
        try:
            battery = await asyncio.wait_for(read_battery(self.link), timeout=5.0)
            if battery is not None:
                self.status.battery_pct = battery
            rssi = await asyncio.wait_for(self.link.rssi(), timeout=5.0)
            if rssi is not None:
                self.status.rssi_dbm = int(rssi)
        except (LinkError, TimeoutError) as e:
            log.debug("%s: battery/RSSI poll failed: %s", self.spec.key, e)
        if self.clock.ready:
            fit = self.clock.fit()
            self.status.clock_drift_ppm = fit.drift_ppm if fit.n_windows >= 3 else None
            self.status.clock_suspect = fit.suspect

    async def _graceful_stop(self) -> None:
        link = self.link
        if link.is_connected:
            try:
                await asyncio.wait_for(self.profile.stop(link), timeout=3.0)
            except (LinkError, TimeoutError) as e:
                log.debug("%s: stop command failed: %s", self.spec.key, e)
            try:
                await asyncio.wait_for(link.stop_notify(self.profile.data_uuid), timeout=3.0)
            except (LinkError, TimeoutError) as e:
                log.debug("%s: stop_notify failed: %s", self.spec.key, e)
        await self._drop_link()

    async def _drop_link(self) -> None:
        self._decoder = None
        try:
            await asyncio.wait_for(self.link.disconnect(), timeout=5.0)
        except (LinkError, TimeoutError, OSError) as e:
            log.debug("%s: disconnect: %s", self.spec.key, e)

    # ------------------------------------------------------------------------------ data path
    def _reject(self, reason: str, detail: str = "") -> None:
        self.status.reject(reason)
        level = logging.WARNING if reason not in self._warned else logging.DEBUG
        self._warned.add(reason)
        log.log(level, "%s: packet rejected (%s)%s", self.spec.key, reason,
                f": {detail}" if detail else "")

    def _on_notify(self, data: bytes) -> None:
        arrival = time.monotonic()
        self.status.notifications += 1
        decoder = self._decoder
        if decoder is None or self.accountant is None:
            self._reject("not_streaming", "notification outside a configured stream")
            return
        try:
            pkt = decoder.decode(data)
        except DecodeError as e:
            self._reject(e.reason, str(e))
            return
        except Exception as e:  # a decoder bug must not take the session down
            self._reject("decoder_error", f"{type(e).__name__}: {e}")
            return
        if pkt is None:
            return
        if pkt.acc is None or pkt.gyr is None:
            self._reject("missing_channels", "packet without accelerometer or gyroscope data")
            return
        if not (np.isfinite(pkt.t_s).all() and np.isfinite(pkt.acc).all()
                and np.isfinite(pkt.gyr).all()):
            self._reject("bad_value", "NaN or infinite sample")
            return
        verdict = self.accountant.accept(pkt.seq, pkt.t_s, arrival)
        if isinstance(verdict, Rejected):
            self._reject(verdict.reason, f"seq {pkt.seq}")
            return
        st = self.status
        st.packets_received += 1
        st.samples_received += pkt.n
        if pkt.saturated is not None:
            self.samples_saturated += int(np.count_nonzero(pkt.saturated))
        if verdict.gap is not None:
            g = verdict.gap
            st.gaps += 1
            st.packets_lost = self.accountant.packets_lost
            st.samples_lost = self.accountant.samples_lost
            st.clock_resets = self.accountant.clock_resets
            log.info("%s: gap of %d samples (%s packets lost, %s) at t=%.3f s", self.spec.key,
                     g.samples_lost, "?" if g.packets_lost is None else g.packets_lost, g.cause,
                     g.t_before_s)
        arrival_utc = self.host_clock.mono_to_utc(arrival)
        self.clock.add(float(verdict.t_sensor[-1]), arrival_utc)
        st.last_packet_utc = arrival_utc
        if self.recorder is not None:
            if not self.recorder.started:
                self.start_utc = arrival_utc - float(verdict.t_rec[-1])
                self.recorder.start(self._header())
            self.recorder.write(verdict.t_rec, pkt.acc, pkt.gyr)
        elif self.start_utc is None:
            self.start_utc = arrival_utc - float(verdict.t_rec[-1])
        if self.on_block is not None:
            block = SampleBlock(key=self.spec.key, t_rec=verdict.t_rec, acc=pkt.acc, gyr=pkt.gyr,
                                arrival_mono=arrival, gap=verdict.gap)
            try:
                self.on_block(block)
            except Exception:  # the consumer's bug must not stop the recording
                log.exception("%s: on_block consumer failed", self.spec.key)

    def _header(self) -> dict:
        info = self.info
        return {
            "format": "gaitmon-recording/1",
            "session": self.session_id,
            "runner": self.spec.runner,
            "sensor": f"{self.spec.sensor} ({self.link.address})",
            "sensor_kind": self.spec.kind,
            "model": self.status.model or (info.model if info else None),
            "firmware": self.status.firmware,
            "forward": self.forward,
            "up": self.up,
            "sample_rate_hz": f"{info.rate_hz:g}" if info else None,
            "acc_range_g": f"{info.acc_range_g:g}" if info and info.acc_range_g else None,
            "gyro_range_dps": f"{info.gyro_range_dps:g}" if info and info.gyro_range_dps else None,
            "start_utc": utc_iso(self.start_utc) if self.start_utc else None,
            "time": "time_s = sensor clock seconds since the first sample; gaps are missing rows",
            "units": "acc m/s^2 (specific force), gyr rad/s, sensor frame",
        }

    # ------------------------------------------------------------------------------ closing
    def _write_sidecar(self) -> None:
        if self.recorder is None:
            return
        try:
            self.recorder.write_sidecar(self.sidecar())
        except OSError as e:
            log.error("%s: cannot write session sidecar: %s", self.spec.key, e)

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.status.link_state != "failed":
            self.status.link_state = "stopped"
        if self.recorder is not None:
            self.recorder.close()
            self._write_sidecar()
        log.info("%s: session closed: %d packets, %d lost, %d rejected %s, %d reconnects",
                 self.spec.key, self.status.packets_received, self.status.packets_lost,
                 self.status.packets_rejected, self.status.rejected_by_reason,
                 self.status.reconnects)

"""A virtual gaitmon-profile sensor and the in-process link that reaches it (no radio).

:class:`VirtualSensor` is a simulated peripheral that speaks the open gaitmon profile byte for
byte (Config read, Control write, Data notifications built with
:func:`gaitmon.sensors.gaitmon_profile.packetize`, Battery and Device Information reads). Its
samples come from the project's gait simulator (:func:`gaitmon.sim.simulate`): a runner wearing
the sensor on the sacrum, with known truth. When a simulated bout is used up, the next bout
(next seed) follows on the same sensor clock, so a session can run for as long as wanted.

:class:`VirtualLink` implements :class:`~gaitmon.collector.link.Link` for one virtual sensor.
The sensor's clock runs at ``speed`` x real time (1.0 = real time; higher = faster, the sensor
timestamps stay realistic). Like a device of the open profile, it stops transmitting on
disconnection while its clock keeps running; after a reconnect and Start it resumes at the
current sensor time with the next sequence number (the collector sees a time gap). Impairments:

* ``loss``: probability that a packet is lost in the air (seeded, reproducible), and/or
  ``loss_indices``: exact stream indices to lose;
* ``drops``: ``[(at_sensor_s, down_s), ...]`` link losses at given sensor-stream times, the
  peripheral being unreachable for ``down_s`` sensor seconds; ``drop_every_s`` repeats one.

``VirtualLink.stats`` counts delivered, lost (in the air) and not-sent packets and samples
exactly, for tests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sensors.base import DecodeError
from gaitmon.sensors.standard import (
    BATTERY_LEVEL_UUID,
    FIRMWARE_REVISION_UUID,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER_UUID,
    encode_battery_level,
)
from gaitmon.sim import SimConfig, simulate

from .link import LinkError, NotifyCallback

__all__ = ["VirtualSensor", "VirtualLink", "LinkStats", "TruthSegment"]

log = logging.getLogger("gaitmon.collector.virtual")

TICK_S = 0.01  # producer tick, host seconds


@dataclass(frozen=True)
class TruthSegment:
    """Simulator truth of one bout, with times on the sensor clock (s, unwrapped)."""

    t0_sensor_s: float  # sensor time of the bout's first sample
    ic_t: np.ndarray  # initial contacts, s on the sensor clock
    side: np.ndarray
    pelvic_drop_deg: np.ndarray
    steady: np.ndarray


class VirtualSensor:
    """A simulated gaitmon-profile peripheral fed by :func:`gaitmon.sim.simulate`.

    Args:
        address, name: as advertised. sim: the simulator configuration of the first bout
            (``fs`` must be an integer rate in Hz); bouts: how many bouts to chain at most
            (None: unlimited, new seeds each time).
        samples_per_packet: samples per notification (default: about 20 packets/s).
        clock_start_s: sensor clock at the first sample (s). The wire clock wraps at 2**32 µs,
            so values near 4294.97 s exercise the wrap.
        battery_pct, rssi_dbm, model, firmware: what the device reports.
    """

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 samples_per_packet: int | None = None, clock_start_s: float = 0.0,
                 battery_pct: int = 90, rssi_dbm: int = -60, model: str = "gaitmon-virtual",
                 firmware: str = "virtual-1") -> None:
        if float(sim.fs) != int(sim.fs):
            raise ValueError("the virtual sensor needs an integer sample rate")
        self.address = address
        self.name = name
        self.sim = sim
        self.bouts = bouts
        self.samples_per_packet = samples_per_packet
        self.clock_start_s = float(clock_start_s)
        self.battery_pct = int(battery_pct)
        self.rssi_dbm = int(rssi_dbm)
        self.model = model
        self.firmware = firmware
        self.config = gp.GaitmonConfig(rate_hz=int(sim.fs), acc_range_g=int(sim.acc_range_g),
                                       gyro_range_dps=int(sim.gyr_range_dps), forward=sim.forward,
                                       up=sim.up, model=model[:16])
        self.truth: list[TruthSegment] = []
        # stream: packets with the sensor time at which each is complete (last sample)
        self._packets: list[bytes] = []
        self._ready_t: list[float] = []
        self._next_seq = 0
        self._next_t0 = self.clock_start_s
        self._bout = 0
        self._lock = threading.Lock()  # guards the packet lists
        self._sim_lock = threading.Lock()  # serialises simulations

    # -------------------------------------------------------------------------- GATT server
    def read(self, uuid: str) -> bytes:
        """Value of a readable characteristic (raises LinkError for others)."""
        if uuid == gp.CONFIG_UUID:
            return gp.encode_config(self.config)
        if uuid == BATTERY_LEVEL_UUID:
            return encode_battery_level(self.battery_pct)
        if uuid == MODEL_NUMBER_UUID:
            return self.model.encode()
        if uuid == FIRMWARE_REVISION_UUID:
            return self.firmware.encode()
        if uuid == MANUFACTURER_NAME_UUID:
            return b"gaitmon project"
        raise LinkError(f"characteristic {uuid} is not readable")

    @property
    def characteristics(self) -> set[str]:
        return {gp.DATA_UUID, gp.CONFIG_UUID, gp.CONTROL_UUID, BATTERY_LEVEL_UUID,
                MODEL_NUMBER_UUID, FIRMWARE_REVISION_UUID, MANUFACTURER_NAME_UUID}

    def control(self, data: bytes) -> int:
        """Apply a Control write; returns the opcode (raises LinkError like an ATT error)."""
        try:
            cmd = gp.decode_control(data)
        except DecodeError as e:
            raise LinkError(f"control write rejected: {e}") from e
        if cmd.op == gp.OP_SET_RATE:
            if self._packets:
                raise LinkError("rate change while streaming is not supported by this device")
            self.sim = replace(self.sim, fs=float(cmd.rate_hz))
            self.config = replace(self.config, rate_hz=int(cmd.rate_hz))
        elif cmd.op == gp.OP_SET_RANGES:
            if self._packets:
                raise LinkError("range change while streaming is not supported by this device")
            self.sim = replace(self.sim, acc_range_g=float(cmd.acc_range_g),
                               gyr_range_dps=float(cmd.gyro_range_dps))
            self.config = replace(self.config, acc_range_g=int(cmd.acc_range_g),
                                  gyro_range_dps=int(cmd.gyro_range_dps))
        return cmd.op

    # -------------------------------------------------------------------------- stream
    @property
    def available(self) -> int:
        """Number of stream packets simulated so far."""
        return len(self._packets)

    @property
    def exhausted(self) -> bool:
        """True when every bout has been simulated (the stream will end)."""
        return self.bouts is not None and self._bout >= self.bouts

    def packet(self, i: int) -> tuple[bytes, float] | None:
        """Stream packet ``i`` and the sensor time (s) of its last sample, if already simulated
        (see :meth:`ensure`); None otherwise."""
        with self._lock:
            if i < len(self._packets):
                return self._packets[i], self._ready_t[i]
        return None

    def ensure(self, i: int) -> bool:
        """Simulate bouts until packet ``i`` exists (blocking, CPU-bound: run it in a thread
        from async code). False if the stream ends before ``i``."""
        with self._sim_lock:  # one simulation at a time
            while i >= self.available:
                if not self._extend():
                    return False
        return True

    def _extend(self) -> bool:
        if self.exhausted:
            return False
        cfg = replace(self.sim, seed=self.sim.seed + self._bout)
        rec = simulate(cfg)
        t = rec.time - rec.time[0] + self._next_t0
        pk = gp.packetize(t, rec.acc, rec.gyr, self.config.rate_hz, self.config.acc_range_g,
                          self.config.gyro_range_dps, samples_per_packet=self.samples_per_packet,
                          seq_start=self._next_seq)
        n = np.array([p[10] for p in pk])  # header byte 10: samples in the packet
        ends = np.cumsum(n) - 1
        shift = self._next_t0 - rec.time[0]
        tr = rec.truth
        with self._lock:
            self._packets.extend(pk)
            self._ready_t.extend(t[ends].tolist())
            self.truth.append(TruthSegment(t0_sensor_s=float(t[0]),
                                           ic_t=np.asarray(tr.ic_t) + shift,
                                           side=np.asarray(tr.side), steady=np.asarray(tr.steady),
                                           pelvic_drop_deg=np.asarray(tr.pelvic_drop_deg)))
            self._next_seq = (self._next_seq + len(pk)) & 0xFFFF
            self._next_t0 = float(t[-1]) + 1.0 / self.config.rate_hz
            self._bout += 1
        log.debug("%s: bout %d simulated: %d packets", self.name, self._bout, len(pk))
        return True


@dataclass
class LinkStats:
    """Exact counts of a virtual link (the truth the collector is tested against).

    produced: stream packets whose sensor time has passed; delivered: notifications handed to
    the collector; lost_injected / samples_lost_injected: transmitted (sequence number used)
    but lost in the air; not_sent / samples_not_sent: never transmitted because the device was
    not streaming (link down: the device stops on disconnection, its clock keeps running).
    """

    produced: int = 0
    delivered: int = 0
    lost_injected: int = 0
    samples_lost_injected: int = 0
    not_sent: int = 0
    samples_not_sent: int = 0
    drops: int = 0
    connects: int = 0
    attempts: list[float] = field(default_factory=list)  # host monotonic time of each attempt
    control_writes: list[bytes] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Packets missing by sequence number (lost in the air)."""
        return self.lost_injected

    @property
    def samples_missing(self) -> int:
        """Samples of the stream that never reached the collector."""
        return self.samples_lost_injected + self.samples_not_sent


class VirtualLink:
    """In-process :class:`~gaitmon.collector.link.Link` to a :class:`VirtualSensor`.

    Behaves like a device of the open profile (docs/ble-profile.md §4): it transmits after
    Start while connected and notifying, stops on Stop and on disconnection, keeps its clock
    running, and numbers transmitted packets consecutively.

    Args:
        sensor: the peripheral. speed: sensor seconds per host second (> 0).
        loss: probability of losing a transmitted packet in the air; loss_indices: exact stream
            indices to lose; seed: RNG seed of the loss process.
        drops: ``[(at_sensor_s, down_s)]`` link losses, times relative to the stream start
            (sensor seconds); drop_every_s/drop_down_s: a link loss every ``drop_every_s``.
        connect_delay_s: host seconds a connection takes.
    """

    def __init__(self, sensor: VirtualSensor, *, speed: float = 1.0, loss: float = 0.0,
                 loss_indices: set[int] | list[int] | None = None,
                 drops: list[tuple[float, float]] | None = None, drop_every_s: float | None = None,
                 drop_down_s: float = 2.0, connect_delay_s: float = 0.05, seed: int = 0) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0")
        if not 0.0 <= loss < 1.0:
            raise ValueError("loss must be in [0, 1)")
        self.sensor = sensor
        self.address = sensor.address
        self.name = sensor.name
        self.speed = float(speed)
        self.loss = float(loss)
        self.loss_indices = set(loss_indices or ())
        self._drops = sorted(drops or [])
        self.drop_every_s = drop_every_s
        self.drop_down_s = float(drop_down_s)
        self.connect_delay_s = float(connect_delay_s)
        self._rng = random.Random(seed)  # packet loss
        self._rssi_rng = random.Random(seed + 7919)  # RSSI wobble (separate: timing-dependent)
        self.stats = LinkStats()
        self._connected = False
        self._notify: dict[str, NotifyCallback] = {}
        self._disc_cb: Callable[[], None] | None = None
        self._down_until_sensor = -math.inf
        self._refuse = 0
        # device side: clock (starts with the first Start, never stops) and transmitter
        self._sending = False
        self._seq_out: int | None = None
        self._index = 0
        self._stream_t0_host: float | None = None
        self._stream_t0_sensor: float | None = None
        self._producer: asyncio.Task | None = None
        self._next_periodic_drop = drop_every_s

    # ------------------------------------------------------------------------------ Link API
    @property
    def is_connected(self) -> bool:
        return self._connected

    def set_disconnected_callback(self, callback: Callable[[], None] | None) -> None:
        self._disc_cb = callback

    async def connect(self, timeout: float) -> None:
        if self._connected:
            return
        self.stats.attempts.append(time.monotonic())
        await asyncio.sleep(min(self.connect_delay_s, timeout))
        if self._refuse > 0:
            self._refuse -= 1
            raise LinkError(f"{self.address}: connection refused")
        if self._sensor_now() < self._down_until_sensor:
            raise LinkError(f"{self.address}: connection failed (peripheral out of range)")
        self._connected = True
        self.stats.connects += 1

    async def disconnect(self) -> None:
        if self._connected:
            self._link_down(notify=True)

    def has_characteristic(self, char_uuid: str) -> bool:
        return self._connected and char_uuid in self.sensor.characteristics

    async def read(self, char_uuid: str) -> bytes:
        self._require()
        await asyncio.sleep(0)
        return self.sensor.read(char_uuid)

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        self._require()
        await asyncio.sleep(0)
        if char_uuid != gp.CONTROL_UUID:
            raise LinkError(f"characteristic {char_uuid} is not writable")
        self.stats.control_writes.append(bytes(data))
        op = self.sensor.control(bytes(data))
        if op == gp.OP_START:
            if self._stream_t0_host is None:  # simulate the first bout before the clock starts
                await asyncio.to_thread(self.sensor.ensure, 0)
            self._start_stream()
        elif op == gp.OP_STOP:
            self._sending = False

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        self._require()
        if char_uuid != gp.DATA_UUID:
            raise LinkError(f"characteristic {char_uuid} does not notify")
        self._notify[char_uuid] = callback

    async def stop_notify(self, char_uuid: str) -> None:
        self._notify.pop(char_uuid, None)

    async def rssi(self) -> int | None:
        if not self._connected:
            return None
        return self.sensor.rssi_dbm + self._rssi_rng.randint(-3, 3)

    # ------------------------------------------------------------------------------ test hooks
    def inject(self, data: bytes) -> None:
        """Deliver arbitrary bytes as one Data notification (malformed-packet tests)."""
        cb = self._notify.get(gp.DATA_UUID)
        if self._connected and cb is not None:
            cb(bytes(data))

    def refuse_connects(self, count: int) -> None:
        """The next ``count`` connection attempts fail."""
        self._refuse = int(count)

    def drop_now(self, down_s: float) -> None:
        """Lose the link now; the peripheral is unreachable for ``down_s`` sensor seconds."""
        self._down_until_sensor = self._sensor_now() + down_s
        if self._connected:
            self.stats.drops += 1
            self._link_down(notify=True)

    @property
    def finished(self) -> bool:
        """True when a finite stream's time has completely passed."""
        return (self._stream_t0_host is not None and self.sensor.exhausted
                and self._index >= self.sensor.available)

    # ------------------------------------------------------------------------------ internals
    def _require(self) -> None:
        if not self._connected:
            raise LinkError(f"{self.address} is not connected")

    def _sensor_now(self) -> float:
        """Sensor seconds since the stream started (host time x speed); 0 before start."""
        if self._stream_t0_host is None:
            return 0.0
        return (time.monotonic() - self._stream_t0_host) * self.speed

    def _link_down(self, notify: bool) -> None:
        self._connected = False
        self._sending = False  # the device stops streaming on disconnection
        self._notify.clear()
        if notify and self._disc_cb is not None:
            cb = self._disc_cb
            asyncio.get_running_loop().call_soon(cb)

    def _start_stream(self) -> None:
        self._sending = True
        if self._stream_t0_host is None:
            self._stream_t0_host = time.monotonic()
            first = self.sensor.packet(0)
            self._stream_t0_sensor = first[1] if first else 0.0
            self._seq_out = struct.unpack_from("<H", first[0], 2)[0] if first else 0
        if self._producer is None or self._producer.done():
            self._producer = asyncio.get_running_loop().create_task(self._produce())

    async def _produce(self) -> None:
        """Let sensor time pass (sped up), transmitting the packets whose last sample is due;
        simulate the next bout in a worker thread ahead of time."""
        prep: asyncio.Future | None = None
        while not self.finished:
            now = self._sensor_now()
            self._maybe_drop(now)
            ahead = self._index + int(30.0 * self.speed * 20) + 200
            if (prep is None or prep.done()) and not self.sensor.exhausted and \
                    self.sensor.available < ahead:
                prep = asyncio.ensure_future(asyncio.to_thread(self.sensor.ensure, ahead))
            while True:
                item = self.sensor.packet(self._index)
                if item is None:
                    break
                data, ready_t = item
                if ready_t - self._stream_t0_sensor > now:
                    break
                self._emit(self._index, data)
                self._index += 1
            await asyncio.sleep(TICK_S)

    def _maybe_drop(self, now: float) -> None:
        while self._drops and self._drops[0][0] <= now:
            _at, down = self._drops.pop(0)
            self.drop_now(down)
        if self.drop_every_s and self._next_periodic_drop is not None and now >= self._next_periodic_drop:
            self._next_periodic_drop += self.drop_every_s
            self.drop_now(self.drop_down_s)

    def _emit(self, index: int, data: bytes) -> None:
        self.stats.produced += 1
        n = data[10]  # header byte 10: samples in the packet
        cb = self._notify.get(gp.DATA_UUID)
        if not (self._sending and self._connected and cb is not None):
            self.stats.not_sent += 1
            self.stats.samples_not_sent += n
            return
        seq = self._seq_out
        self._seq_out = (seq + 1) & 0xFFFF
        if index in self.loss_indices or (self.loss > 0 and self._rng.random() < self.loss):
            self.stats.lost_injected += 1
            self.stats.samples_lost_injected += n
            return
        self.stats.delivered += 1
        cb(data[:2] + struct.pack("<H", seq) + data[4:])

    async def aclose(self) -> None:
        """Stop the device task (end of run)."""
        self._sending = False
        if self._producer is not None:
            self._producer.cancel()
            try:
                await self._producer
            except asyncio.CancelledError:
                pass

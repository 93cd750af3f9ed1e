"""Virtual sensors and the in-process link that reaches them (no radio).

:class:`VirtualSensor` is a simulated peripheral that speaks the open gaitmon profile byte for
byte (Config read, Control write, Data notifications built with
:func:`gaitmon.sensors.gaitmon_profile.packetize`, Battery and Device Information reads);
:class:`VirtualPolarSensor` speaks Polar PMD (control point exchange, compressed ACC and GYRO
frames from :func:`gaitmon.sensors.polar_pmd.packetize`); :class:`VirtualMovesenseSensor` the
Movesense GATT SensorData Protocol (IMU6). Their samples come from the project's gait simulator (:func:`gaitmon.sim.simulate`): a runner wearing
the sensor on the sacrum, with known truth. When a simulated bout is used up, the next bout
(next seed) follows on the same sensor clock, so a session can run for as long as wanted.

:class:`VirtualLink` implements :class:`~gaitmon.collector.link.Link` for one virtual sensor.
The sensor's clock runs at ``speed`` x real time (1.0 = real time; higher = faster, the sensor
timestamps stay realistic). Like the real devices, a virtual sensor stops transmitting on
disconnection while its clock keeps running; after a reconnect and start it resumes at the
current sensor time (gaitmon: with the next sequence number; the collector sees a time gap).
Impairments:

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
from gaitmon.sensors import metawear as mw
from gaitmon.sensors import movella_dot as dot
from gaitmon.sensors import movesense as ms
from gaitmon.sensors import polar_pmd as pmd
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

__all__ = ["VirtualSensor", "VirtualPolarSensor", "VirtualMovesenseSensor", "VirtualLink",
           "LinkStats", "TruthSegment"]

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


class _SimulatedPeripheral:
    """Shared part of the virtual devices: bouts of :func:`gaitmon.sim.simulate` turned into
    the device's notifications ahead of time; Battery and Device Information reads.

    Subclasses define the profile: ``data_uuid``, ``control_uuid``, ``_packetize``, ``write``,
    ``transmit``, ``transmitting``, ``link_lost`` and extra readable characteristics.
    """

    kind: str
    data_uuid: str
    control_uuid: str

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None,
                 clock_start_s: float, battery_pct: int, rssi_dbm: int, model: str,
                 firmware: str) -> None:
        if float(sim.fs) != int(sim.fs):
            raise ValueError("the virtual sensor needs an integer sample rate")
        self.address = address
        self.name = name
        self.sim = sim
        self.bouts = bouts
        self.clock_start_s = float(clock_start_s)
        self.battery_pct = int(battery_pct)
        self.rssi_dbm = int(rssi_dbm)
        self.model = model
        self.firmware = firmware
        self.truth: list[TruthSegment] = []
        # stream: packets, the sensor time at which each is complete (its last sample), and
        # how many samples of the (accelerometer) stream it carries
        self._packets: list[bytes] = []
        self._ready_t: list[float] = []
        self._n: list[int] = []
        self._next_t0 = self.clock_start_s
        self._bout = 0
        self._lock = threading.Lock()  # guards the packet lists
        self._sim_lock = threading.Lock()  # serialises simulations

    # -------------------------------------------------------------------------- GATT server
    def read(self, uuid: str) -> bytes:
        """Value of a readable characteristic (raises LinkError for others)."""
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
        return {self.data_uuid, self.control_uuid, BATTERY_LEVEL_UUID, MODEL_NUMBER_UUID,
                FIRMWARE_REVISION_UUID, MANUFACTURER_NAME_UUID}

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
        """Stream packet ``i`` (as stored) and the sensor time (s) of its last sample, if
        already simulated (see :meth:`ensure`); None otherwise."""
        with self._lock:
            if i < len(self._packets):
                return self._packets[i], self._ready_t[i]
        return None

    def samples(self, i: int) -> int:
        """Samples of the stream carried by packet ``i``."""
        with self._lock:
            return self._n[i]

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
        pk, ready, n = self._packetize(t, rec)
        shift = self._next_t0 - rec.time[0]
        tr = rec.truth
        with self._lock:
            self._packets.extend(pk)
            self._ready_t.extend(ready)
            self._n.extend(n)
            self.truth.append(TruthSegment(t0_sensor_s=float(t[0]),
                                           ic_t=np.asarray(tr.ic_t) + shift,
                                           side=np.asarray(tr.side), steady=np.asarray(tr.steady),
                                           pelvic_drop_deg=np.asarray(tr.pelvic_drop_deg)))
            self._next_t0 = float(t[-1]) + 1.0 / float(self.sim.fs)
            self._bout += 1
        log.debug("%s: bout %d simulated: %d packets", self.name, self._bout, len(pk))
        return True

    def _packetize(self, t: np.ndarray, rec) -> tuple[list[bytes], list[float], list[int]]:
        raise NotImplementedError

    # -------------------------------------------------------------------------- device logic
    @property
    def transmitting(self) -> bool:
        """True while the device sends data notifications (its clock then runs)."""
        raise NotImplementedError

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        """Apply a write; returns notifications to send on ``control_uuid`` (responses)."""
        raise NotImplementedError

    def transmit(self, i: int) -> bytes | None:
        """The bytes the device sends for stream packet ``i`` now (None: not sent)."""
        raise NotImplementedError

    def link_lost(self) -> None:
        """The connection dropped: the device stops streaming."""
        raise NotImplementedError


class VirtualSensor(_SimulatedPeripheral):
    """A simulated peripheral of the open gaitmon profile fed by :func:`gaitmon.sim.simulate`.

    Args:
        address, name: as advertised. sim: the simulator configuration of the first bout
            (``fs`` must be an integer rate in Hz); bouts: how many bouts to chain at most
            (None: unlimited, new seeds each time).
        samples_per_packet: samples per notification (default: about 20 packets/s).
        clock_start_s: sensor clock at the first sample (s). The wire clock wraps at 2**32 µs,
            so values near 4294.97 s exercise the wrap.
        battery_pct, rssi_dbm, model, firmware: what the device reports.

    Device behaviour (docs/ble-profile.md §4): it transmits after Start (0x01) while connected
    and notifying, stops on Stop (0x02) and on disconnection, keeps its clock running, and
    numbers the packets it transmits consecutively.
    """

    kind = "gaitmon"
    data_uuid = gp.DATA_UUID
    control_uuid = gp.CONTROL_UUID

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 samples_per_packet: int | None = None, clock_start_s: float = 0.0,
                 battery_pct: int = 90, rssi_dbm: int = -60, model: str = "gaitmon-virtual",
                 firmware: str = "virtual-1") -> None:
        super().__init__(address, name, sim, bouts=bouts, clock_start_s=clock_start_s,
                         battery_pct=battery_pct, rssi_dbm=rssi_dbm, model=model,
                         firmware=firmware)
        self.samples_per_packet = samples_per_packet
        self.config = gp.GaitmonConfig(rate_hz=int(sim.fs), acc_range_g=int(sim.acc_range_g),
                                       gyro_range_dps=int(sim.gyr_range_dps), forward=sim.forward,
                                       up=sim.up, model=model[:16])
        self._sending = False
        self._seq_out = 0

    def read(self, uuid: str) -> bytes:
        if uuid == gp.CONFIG_UUID:
            return gp.encode_config(self.config)
        return super().read(uuid)

    @property
    def characteristics(self) -> set[str]:
        return super().characteristics | {gp.CONFIG_UUID}

    def _packetize(self, t, rec):
        pk = gp.packetize(t, rec.acc, rec.gyr, self.config.rate_hz, self.config.acc_range_g,
                          self.config.gyro_range_dps, samples_per_packet=self.samples_per_packet)
        n = [p[10] for p in pk]  # header byte 10: samples in the packet
        ends = np.cumsum(n) - 1
        return pk, t[ends].tolist(), n

    @property
    def transmitting(self) -> bool:
        return self._sending

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        if uuid != gp.CONTROL_UUID:
            raise LinkError(f"characteristic {uuid} is not writable")
        try:
            cmd = gp.decode_control(data)
        except DecodeError as e:
            raise LinkError(f"control write rejected: {e}") from e
        if cmd.op == gp.OP_START:
            self._sending = True
        elif cmd.op == gp.OP_STOP:
            self._sending = False
        elif cmd.op == gp.OP_SET_RATE:
            if self._packets:
                raise LinkError("rate change after the stream started is not supported")
            self.sim = replace(self.sim, fs=float(cmd.rate_hz))
            self.config = replace(self.config, rate_hz=int(cmd.rate_hz))
        elif cmd.op == gp.OP_SET_RANGES:
            if self._packets:
                raise LinkError("range change after the stream started is not supported")
            self.sim = replace(self.sim, acc_range_g=float(cmd.acc_range_g),
                               gyr_range_dps=float(cmd.gyro_range_dps))
            self.config = replace(self.config, acc_range_g=int(cmd.acc_range_g),
                                  gyro_range_dps=int(cmd.gyro_range_dps))
        return []

    def transmit(self, i: int) -> bytes | None:
        if not self._sending:
            return None
        data = self.packet(i)[0]
        seq, self._seq_out = self._seq_out, (self._seq_out + 1) & 0xFFFF
        return data[:2] + struct.pack("<H", seq) + data[4:]

    def link_lost(self) -> None:
        self._sending = False


class VirtualPolarSensor(_SimulatedPeripheral):
    """A simulated Polar PMD device (Verity Sense style): ACC and GYRO streams started over the
    PMD control point, compressed frames from :func:`gaitmon.sensors.polar_pmd.packetize`,
    nanosecond timestamps since 2000-01-01, no sequence numbers.

    Offers ACC and GYRO at 26/52/104/208 Hz (``sim.fs`` must be one of them; the first start
    may pick another one, both streams then use it), ACC ±2/4/8/16 g,
    GYRO ±250/500/1000/2000 °/s, 16 bit. A start answers with the conversion FACTOR. The device
    does not report its mount: the collector needs forward/up from the configuration.
    """

    kind = "polar"
    data_uuid = pmd.PMD_DATA_UUID
    control_uuid = pmd.PMD_CP_UUID
    RATES = (26, 52, 104, 208)
    ACC_RANGES = (2, 4, 8, 16)
    GYRO_RANGES = (250, 500, 1000, 2000)
    ACC_FACTOR = 0.24414062  # mG per count at ±8 g, 16 bit (as packetize encodes)
    GYRO_FACTOR = 0.061  # °/s per count at ±2000 °/s
    T0_NS = 780_000_000_000_000_000  # device clock at clock_start_s (2024-09, Polar epoch)

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 clock_start_s: float = 0.0, battery_pct: int = 90, rssi_dbm: int = -60,
                 model: str = "Polar Sense", firmware: str = "virtual-polar-1") -> None:
        if int(sim.fs) not in self.RATES:
            raise ValueError(f"a Polar virtual sensor samples at {self.RATES} Hz, not {sim.fs}")
        super().__init__(address, name, sim, bouts=bouts, clock_start_s=clock_start_s,
                         battery_pct=battery_pct, rssi_dbm=rssi_dbm, model=model,
                         firmware=firmware)
        self._started: dict[int, bool] = {}
        self._kind: list[int] = []  # measurement type of each packet

    def read(self, uuid: str) -> bytes:
        if uuid == pmd.PMD_CP_UUID:
            return pmd.encode_features([pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO])
        return super().read(uuid)

    def _packetize(self, t, rec):
        frames = pmd.packetize(t, acc=rec.acc, gyr=rec.gyr, sample_rate=int(self.sim.fs),
                               acc_factor=self.ACC_FACTOR, gyr_factor=self.GYRO_FACTOR,
                               t0_ns=self.T0_NS)
        ready, n = [], []
        for f in frames:
            fr = pmd.parse_frame(f)
            ready.append((fr.timestamp_ns - self.T0_NS) * 1e-9)
            acc = int(fr.measurement_type) == pmd.MeasurementType.ACC
            n.append(len(pmd.frame_samples(fr, self.ACC_FACTOR)) if acc else 0)
            self._kind.append(int(fr.measurement_type))
        return frames, ready, n

    @property
    def transmitting(self) -> bool:
        return any(self._started.values())

    def _settings_response(self, mt: int) -> bytes:
        ranges = self.ACC_RANGES if mt == pmd.MeasurementType.ACC else self.GYRO_RANGES
        return (bytes([pmd.SettingType.SAMPLE_RATE, len(self.RATES)])
                + struct.pack(f"<{len(self.RATES)}H", *self.RATES)
                + bytes([pmd.SettingType.RESOLUTION, 1]) + struct.pack("<H", 16)
                + bytes([pmd.SettingType.RANGE, len(ranges)])
                + struct.pack(f"<{len(ranges)}H", *ranges))

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        if uuid != pmd.PMD_CP_UUID:
            raise LinkError(f"characteristic {uuid} is not writable")
        if len(data) < 2:
            return [pmd.encode_control_point_response(data[0] if data else 0, 0,
                                                      pmd.ResponseCode.ERROR_INVALID_LENGTH)]
        op, mt = data[0], data[1] & 0x3F
        resp = pmd.encode_control_point_response
        if mt not in (pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO):
            return [resp(op, mt, pmd.ResponseCode.ERROR_NOT_SUPPORTED)]
        if op == pmd.ControlPointOp.GET_MEASUREMENT_SETTINGS:
            return [resp(op, mt, pmd.ResponseCode.SUCCESS, self._settings_response(mt))]
        if op == pmd.ControlPointOp.REQUEST_MEASUREMENT_START:
            try:
                settings = pmd.parse_settings(data[2:])
            except DecodeError:
                return [resp(op, mt, pmd.ResponseCode.ERROR_INVALID_PARAMETER)]
            rate = settings.get(pmd.SettingType.SAMPLE_RATE, (0,))[0]
            if rate != int(self.sim.fs):
                if rate not in self.RATES or self._packets:  # no change once simulated
                    return [resp(op, mt, pmd.ResponseCode.ERROR_INVALID_SAMPLE_RATE)]
                self.sim = replace(self.sim, fs=float(rate))
            if self._started.get(mt):
                return [resp(op, mt, pmd.ResponseCode.ERROR_ALREADY_IN_STATE)]
            self._started[mt] = True
            factor = self.ACC_FACTOR if mt == pmd.MeasurementType.ACC else self.GYRO_FACTOR
            params = bytes([pmd.SettingType.FACTOR, 1]) + struct.pack("<f", factor)
            return [resp(op, mt, pmd.ResponseCode.SUCCESS, params)]
        if op == pmd.ControlPointOp.STOP_MEASUREMENT:
            self._started[mt] = False
            return [resp(op, mt, pmd.ResponseCode.SUCCESS)]
        return [resp(op, mt, pmd.ResponseCode.ERROR_INVALID_OP_CODE)]

    def transmit(self, i: int) -> bytes | None:
        with self._lock:
            mt = self._kind[i]
        if not self._started.get(mt):
            return None
        return self.packet(i)[0]

    def link_lost(self) -> None:
        self._started.clear()


class VirtualMovesenseSensor(_SimulatedPeripheral):
    """A simulated Movesense sensor speaking the GATT SensorData Protocol: HELLO, SUBSCRIBE
    ``/Meas/IMU6/<rate>`` / UNSUBSCRIBE on the command characteristic, results and IMU6 data
    (fragmented into DATA + DATA_PART2 when longer than one notification) on the notify
    characteristic, built with :func:`gaitmon.sensors.movesense.packetize`. The first
    subscription may pick any IMU rate; no sequence numbers; u32 ms clock.
    """

    kind = "movesense"
    data_uuid = ms.NOTIFY_UUID
    control_uuid = ms.NOTIFY_UUID  # command results come back on the data characteristic
    WIRE_REF = 1  # reference in the precomputed packets; rewritten to the client's on sending

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 clock_start_s: float = 0.0, battery_pct: int = 90, rssi_dbm: int = -60,
                 model: str = "Movesense", firmware: str = "virtual-movesense-1") -> None:
        if int(sim.fs) not in ms.IMU_RATES:
            raise ValueError(f"a Movesense IMU samples at {ms.IMU_RATES} Hz, not {sim.fs}")
        super().__init__(address, name, sim, bouts=bouts, clock_start_s=clock_start_s,
                         battery_pct=battery_pct, rssi_dbm=rssi_dbm, model=model,
                         firmware=firmware)
        self._client_ref: int | None = None

    @property
    def characteristics(self) -> set[str]:
        return super().characteristics | {ms.WRITE_UUID}

    def _packetize(self, t, rec):
        path = ms.imu_path("IMU6", int(self.sim.fs))
        pk = ms.packetize(t, ref=self.WIRE_REF, path=path, acc=rec.acc, gyr=rec.gyr)
        dec = ms.MovesenseDecoder()
        dec.subscribe(self.WIRE_REF, path)
        ready: list[float | None] = []
        n: list[int] = []
        for p in pk:  # which notification completes which samples (fragments carry none)
            out = dec.decode(p)
            ready.append(None if out is None else float(out.t_s[-1]))
            n.append(0 if out is None else out.n)
        nxt = ready[-1] if ready and ready[-1] is not None else float(t[-1])
        for i in range(len(ready) - 1, -1, -1):  # a fragment is sent with its completion
            if ready[i] is None:
                ready[i] = nxt
            nxt = ready[i]
        return pk, ready, n

    @property
    def transmitting(self) -> bool:
        return self._client_ref is not None

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        if uuid != ms.WRITE_UUID:
            raise LinkError(f"characteristic {uuid} is not writable")
        try:
            cmd = ms.parse_command(data)
        except DecodeError as e:
            raise LinkError(f"GSP command rejected: {e}") from e
        if cmd.op == ms.CMD_HELLO:
            return [ms.encode_hello_response(cmd.ref)]
        if cmd.op == ms.CMD_UNSUBSCRIBE:
            if cmd.ref == self._client_ref:
                self._client_ref = None
            return [ms.encode_command_result(cmd.ref, 200)]
        try:
            spec = ms.parse_path(cmd.path or "")
        except ValueError:
            return [ms.encode_command_result(cmd.ref, 404)]
        if spec.resource != "IMU6":
            return [ms.encode_command_result(cmd.ref, 404)]
        if spec.rate_hz != int(self.sim.fs):
            if self._packets:  # no change once simulated
                return [ms.encode_command_result(cmd.ref, 400)]
            self.sim = replace(self.sim, fs=float(spec.rate_hz))
        self._client_ref = cmd.ref
        return [ms.encode_command_result(cmd.ref, 200)]

    def transmit(self, i: int) -> bytes | None:
        if self._client_ref is None:
            return None
        data = self.packet(i)[0]
        return data[:1] + bytes([self._client_ref]) + data[2:]

    def link_lost(self) -> None:
        self._client_ref = None  # subscriptions end with the connection


class VirtualDotSensor(_SimulatedPeripheral):
    """A simulated Movella DOT (XD0506P): output rate on the device control characteristic
    (1-60 Hz streaming; ``sim.fs`` must be one of them, a write before the stream may change it),
    measurement started/stopped with ``[1, 1|0, 21]`` on the control characteristic, one Rate
    quantities payload (28 bytes, zero-padded to the medium characteristic's 40) per sample on the
    medium payload characteristic, u32 µs clock (wraps), no sequence numbers; DOT battery 0x3001."""

    kind = "movella_dot"
    data_uuid = dot.MEDIUM_PAYLOAD_UUID
    control_uuid = dot.CONTROL_UUID

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 clock_start_s: float = 0.0, battery_pct: int = 90, rssi_dbm: int = -60,
                 model: str = "Movella DOT", firmware: str = "virtual-dot-2.6.0") -> None:
        if int(sim.fs) not in dot.STREAM_RATES:
            raise ValueError(f"a DOT streams at {dot.STREAM_RATES} Hz, not {sim.fs}")
        super().__init__(address, name, sim, bouts=bouts, clock_start_s=clock_start_s,
                         battery_pct=battery_pct, rssi_dbm=rssi_dbm, model=model, firmware=firmware)
        self._measuring = False

    @property
    def characteristics(self) -> set[str]:
        return super().characteristics | {dot.DEVICE_CONTROL_UUID, dot.BATTERY_UUID}

    def read(self, uuid: str) -> bytes:
        if uuid == dot.DEVICE_CONTROL_UUID:
            b = bytearray(dot.set_output_rate_command(int(self.sim.fs)))
            b[0] = 0
            b[7] = len(self.name.encode()[:16])
            b[8:8 + b[7]] = self.name.encode()[:16]
            return bytes(b)
        if uuid == dot.CONTROL_UUID:
            return dot.control_command(self._measuring, dot.MODE_RATE_QUANTITIES)
        if uuid == dot.BATTERY_UUID:
            return bytes([self.battery_pct, 0])
        return super().read(uuid)

    def _packetize(self, t, rec):
        gyr_dps = np.degrees(rec.gyr)
        pk = [dot.encode_rate_quantities(int(round(ti * 1e6)), a, g) + bytes(12)
              for ti, a, g in zip(t, rec.acc, gyr_dps)]
        return pk, [float(x) for x in t], [1] * len(pk)

    @property
    def transmitting(self) -> bool:
        return self._measuring

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        if uuid == dot.DEVICE_CONTROL_UUID:
            try:
                cfg = dot.parse_device_control(data)
            except DecodeError as e:
                raise LinkError(f"device control rejected: {e}") from e
            if cfg["visit_index"] & 0x10:
                rate = cfg["output_rate_hz"]
                if rate not in dot.STREAM_RATES or (self._packets and rate != int(self.sim.fs)):
                    raise LinkError(f"output rate {rate} Hz refused")
                self.sim = replace(self.sim, fs=float(rate))
            return []
        if uuid != dot.CONTROL_UUID:
            raise LinkError(f"characteristic {uuid} is not writable")
        try:
            start, mode = dot.parse_control(data)
        except DecodeError as e:
            raise LinkError(f"measurement control rejected: {e}") from e
        if start and mode != dot.MODE_RATE_QUANTITIES:
            raise LinkError(f"the virtual DOT streams payload mode 21 only, not {mode}")
        self._measuring = start
        return []

    def transmit(self, i: int) -> bytes | None:
        return self.packet(i)[0] if self._measuring else None

    def link_lost(self) -> None:
        self._measuring = False


class VirtualMetaWearSensor(_SimulatedPeripheral):
    """A simulated MbientLab MetaWear (BMI160) speaking its GATT command protocol: accelerometer and
    gyroscope configured (rate, range) on the command characteristic, subscribed, enabled and
    powered on; packed data (three samples per notification, accelerometer then gyroscope
    notification) on the notify characteristic. No timestamps, no counters. ``sim.fs`` must be a
    Bosch output rate; a configuration before the stream may change it (ranges: any)."""

    kind = "metawear"
    data_uuid = mw.NOTIFY_UUID
    control_uuid = mw.COMMAND_UUID

    def __init__(self, address: str, name: str, sim: SimConfig, *, bouts: int | None = None,
                 clock_start_s: float = 0.0, battery_pct: int = 90, rssi_dbm: int = -60,
                 model: str = "MetaMotionR", firmware: str = "virtual-metawear-1.7") -> None:
        if int(sim.fs) not in mw.ODR_CODES:
            raise ValueError(f"a MetaWear samples at {sorted(mw.ODR_CODES)} Hz, not {sim.fs}")
        super().__init__(address, name, sim, bouts=bouts, clock_start_s=clock_start_s,
                         battery_pct=battery_pct, rssi_dbm=rssi_dbm, model=model, firmware=firmware)
        self.acc_range_g = 16
        self.gyro_range_dps = 2000
        self._sub = {mw.ACC_MODULE: False, mw.GYRO_MODULE: False}
        self._enabled = {mw.ACC_MODULE: False, mw.GYRO_MODULE: False}
        self._power = {mw.ACC_MODULE: False, mw.GYRO_MODULE: False}

    def _packetize(self, t, rec):
        a_lsb = mw.ACC_RANGE_BMI160[self.acc_range_g][1] / 9.80665
        g_lsb = mw.GYRO_RANGE[self.gyro_range_dps][1] * 180.0 / math.pi
        a = np.clip(np.round(rec.acc * a_lsb), -32768, 32767)
        g = np.clip(np.round(rec.gyr * g_lsb), -32768, 32767)
        pk, ready, n = [], [], []
        for i in range(0, len(t) - len(t) % 3, 3):
            pk += [mw.encode_data(mw.ACC_MODULE, mw.ACC_PACKED["bmi160"], a[i:i + 3]),
                   mw.encode_data(mw.GYRO_MODULE, mw.GYRO_PACKED, g[i:i + 3])]
            ready += [float(t[i + 2])] * 2
            n += [3, 0]
        return pk, ready, n

    @property
    def transmitting(self) -> bool:
        return all(self._sub.values()) and all(self._enabled.values()) and all(self._power.values())

    def write(self, uuid: str, data: bytes) -> list[bytes]:
        if uuid != mw.COMMAND_UUID:
            raise LinkError(f"characteristic {uuid} is not writable")
        try:
            mod, reg, payload = mw.parse_command(data)
        except DecodeError as e:
            raise LinkError(f"command rejected: {e}") from e
        if mod not in (mw.ACC_MODULE, mw.GYRO_MODULE):
            raise LinkError(f"module 0x{mod:02x} not simulated")
        if reg == mw.R_CONFIG and len(payload) == 2:
            codes = {v: k for k, v in mw.ODR_CODES.items()}
            rate = codes.get(payload[0] & 0x0F)
            if rate is None or (self._packets and rate != int(self.sim.fs)):
                raise LinkError(f"output rate code {payload[0] & 0x0F} refused")
            if self._packets and any(self._power.values()):
                raise LinkError("configuration while sampling")
            self.sim = replace(self.sim, fs=float(rate))
            if mod == mw.ACC_MODULE:
                self.acc_range_g = {v[0]: k for k, v in mw.ACC_RANGE_BMI160.items()}[payload[1]]
            else:
                self.gyro_range_dps = {v[0]: k for k, v in mw.GYRO_RANGE.items()}[payload[1]]
        elif reg == mw.R_POWER and len(payload) == 1:
            self._power[mod] = payload[0] == 1
        elif reg == mw.R_INT_ENABLE and len(payload) == 2:
            self._enabled[mod] = payload[0] == 1
        elif (mod, reg) in ((mw.ACC_MODULE, mw.ACC_PACKED["bmi160"]), (mw.GYRO_MODULE, mw.GYRO_PACKED)) and len(payload) == 1:
            self._sub[mod] = payload[0] == 1
        else:
            raise LinkError(f"command {bytes(data).hex()} not simulated")
        return []

    def transmit(self, i: int) -> bytes | None:
        return self.packet(i)[0] if self.transmitting else None

    def link_lost(self) -> None:
        for d in (self._sub, self._enabled, self._power):
            for k in d:
                d[k] = False


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

    def __init__(self, sensor: _SimulatedPeripheral, *, speed: float = 1.0, loss: float = 0.0,
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
        # device clock: starts with the first stream start, never stops
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
        self.stats.control_writes.append(bytes(data))
        replies = self.sensor.write(char_uuid, bytes(data))
        cb = self._notify.get(self.sensor.control_uuid)
        for reply in replies:
            if cb is not None:
                asyncio.get_running_loop().call_soon(cb, reply)
        if self.sensor.transmitting:
            if self._stream_t0_host is None:  # simulate the first bout before the clock starts
                await asyncio.to_thread(self.sensor.ensure, 0)
            self._start_stream()

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        self._require()
        if char_uuid not in (self.sensor.data_uuid, self.sensor.control_uuid):
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
        cb = self._notify.get(self.sensor.data_uuid)
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
        self.sensor.link_lost()  # the device stops streaming on disconnection
        self._notify.clear()
        if notify and self._disc_cb is not None:
            cb = self._disc_cb
            asyncio.get_running_loop().call_soon(cb)

    def _start_stream(self) -> None:
        if self._stream_t0_host is None:
            self._stream_t0_host = time.monotonic()
            first = self.sensor.packet(0)
            self._stream_t0_sensor = first[1] if first else 0.0
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
                _data, ready_t = item
                if ready_t - self._stream_t0_sensor > now:
                    break
                self._emit(self._index)
                self._index += 1
            await asyncio.sleep(TICK_S)

    def _maybe_drop(self, now: float) -> None:
        while self._drops and self._drops[0][0] <= now:
            _at, down = self._drops.pop(0)
            self.drop_now(down)
        if self.drop_every_s and self._next_periodic_drop is not None and now >= self._next_periodic_drop:
            self._next_periodic_drop += self.drop_every_s
            self.drop_now(self.drop_down_s)

    def _emit(self, index: int) -> None:
        self.stats.produced += 1
        n = self.sensor.samples(index)
        cb = self._notify.get(self.sensor.data_uuid)
        wire = self.sensor.transmit(index) if (self._connected and cb is not None) else None
        if wire is None:
            self.stats.not_sent += 1
            self.stats.samples_not_sent += n
            return
        if index in self.loss_indices or (self.loss > 0 and self._rng.random() < self.loss):
            self.stats.lost_injected += 1
            self.stats.samples_lost_injected += n
            return
        self.stats.delivered += 1
        cb(wire)

    async def aclose(self) -> None:
        """Stop the device task (end of run)."""
        if self._producer is not None:
            self._producer.cancel()
            try:
                await self._producer
            except asyncio.CancelledError:
                pass

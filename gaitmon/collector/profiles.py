"""Sensor profiles: how to recognise, configure, start and decode one family of devices.

A profile is the device-specific part of a sensor session: which advertised services/names
identify the device, which characteristic carries the data, how to read its configuration and
start/stop the stream, and which :mod:`gaitmon.sensors` decoder turns notifications into
:class:`gaitmon.sensors.base.Packet` (seconds on the sensor clock, m/s², rad/s, sensor frame).

Implemented: ``gaitmon`` (the open gaitmon IMU profile, ``docs/ble-profile.md``), ``polar``
(Polar Measurement Data: ACC + GYRO of Verity Sense / OH1 / H10), ``movesense`` (GATT
SensorData Protocol, IMU6), ``movella_dot`` (Movella DOT rate quantities), ``metawear``
(MbientLab MetaWear, BMI160) and ``sensorlogger`` (a phone's HTTP push, not Bluetooth).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Protocol

from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sensors import metawear as mw
from gaitmon.sensors import movella_dot as dot
from gaitmon.sensors import movesense as ms
from gaitmon.sensors import polar_pmd as pmd
from gaitmon.sensors.base import DecodeError, Decoder
from gaitmon.sensors.standard import (
    BATTERY_LEVEL_UUID,
    FIRMWARE_REVISION_UUID,
    MODEL_NUMBER_UUID,
    decode_battery_level,
    decode_dis_string,
)

from .link import Link, LinkError

__all__ = [
    "StreamInfo",
    "SensorProfile",
    "GaitmonProfile",
    "PolarProfile",
    "MovesenseProfile",
    "MovellaDotProfile",
    "DotExport",
    "MetaWearProfile",
    "SensorLoggerProfile",
    "PhyphoxProfile",
    "PROFILES",
    "get_profile",
    "classify_advertisement",
    "read_battery",
    "read_device_info",
]

log = logging.getLogger("gaitmon.collector.profiles")


@dataclass(frozen=True)
class StreamInfo:
    """What the sensor reported about its stream.

    rate_hz: sample rate, Hz; acc_range_g: ±g; gyro_range_dps: ±°/s; forward/up: nominal mount
    (sensor axes pointing forward/up on the sacrum, e.g. ``"-z"``/``"+y"``) or None if the device
    does not say; model: model string from the device, if any.
    """

    rate_hz: float
    acc_range_g: float | None = None
    gyro_range_dps: float | None = None
    forward: str | None = None
    up: str | None = None
    model: str | None = None

    @property
    def dt_s(self) -> float:
        return 1.0 / self.rate_hz


class SensorProfile(Protocol):
    kind: str
    service_uuids: tuple[str, ...]
    name_patterns: tuple[str, ...]
    data_uuid: str
    seq_bits: int | None
    clock_wrap_s: float | None
    reports_mount: bool  # does the device say which axes point forward/up?

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo: ...

    def make_decoder(self, info: StreamInfo) -> Decoder: ...

    async def start(self, link: Link) -> None: ...

    async def stop(self, link: Link) -> None: ...


class GaitmonProfile:
    """The open gaitmon IMU profile (service ``b8c10001-…``): Config read, Control write,
    Data notifications with a 16-bit sequence number and a wrapping 32-bit µs clock."""

    kind = "gaitmon"
    service_uuids = (gp.SERVICE_UUID,)
    name_patterns = (r"^gaitmon",)
    data_uuid = gp.DATA_UUID
    seq_bits = 16
    clock_wrap_s = float(1 << 32) * 1e-6
    reports_mount = True

    def __init__(self) -> None:
        self._config: gp.GaitmonConfig | None = None

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        """Read Config; if ``rate_hz`` differs, write Set-rate and read Config again."""
        cfg = await self._read_config(link)
        if rate_hz is not None and int(rate_hz) != cfg.rate_hz:
            log.info("%s: asking for %d Hz (device at %d Hz)", link.address, rate_hz, cfg.rate_hz)
            await link.write(gp.CONTROL_UUID, gp.control_set_rate(int(rate_hz)), response=True)
            cfg = await self._read_config(link)
            if cfg.rate_hz != int(rate_hz):
                raise LinkError(f"{link.address} refused rate {rate_hz} Hz (stays at {cfg.rate_hz} Hz)")
        self._config = cfg
        return StreamInfo(rate_hz=float(cfg.rate_hz), acc_range_g=float(cfg.acc_range_g),
                          gyro_range_dps=float(cfg.gyro_range_dps), forward=cfg.forward,
                          up=cfg.up, model=cfg.model or None)

    async def _read_config(self, link: Link) -> gp.GaitmonConfig:
        raw = await link.read(gp.CONFIG_UUID)
        try:
            return gp.decode_config(raw)
        except DecodeError as e:
            raise LinkError(f"{link.address}: unreadable Config characteristic ({e})") from e

    def make_decoder(self, info: StreamInfo) -> Decoder:
        if self._config is None:
            raise RuntimeError("configure() first")
        return gp.GaitmonProfileDecoder(self._config)

    async def start(self, link: Link) -> None:
        await link.write(gp.CONTROL_UUID, gp.control_start(), response=True)

    async def stop(self, link: Link) -> None:
        await link.write(gp.CONTROL_UUID, gp.control_stop(), response=True)


class PolarProfile:
    """Polar PMD devices (Verity Sense, OH1, H10): ACC + GYRO streams started over the PMD
    control point (write, answers as notifications), decoded and paired by
    :class:`gaitmon.sensors.polar_pmd.PolarImuDecoder` (gyro interpolated to the ACC times).

    No sequence numbers: losses are sized from the timestamps (ns since 2000, no wrap). The
    device does not report its mount, so forward/up must come from the configuration. Sample
    rate: the requested one if both streams offer it, else 104 Hz (or the highest offered);
    ranges: ±8 g (or the largest) and ±2000 °/s (or the largest), 16 bit.
    """

    kind = "polar"
    service_uuids = (pmd.PMD_SERVICE_UUID,)
    name_patterns = (r"^Polar (Sense|Verity|OH1|H10)",)
    data_uuid = pmd.PMD_DATA_UUID
    seq_bits = None
    clock_wrap_s = None
    reports_mount = False
    DEFAULT_RATE = 104
    RESPONSE_TIMEOUT_S = 5.0

    def __init__(self) -> None:
        self._decoder: pmd.PolarImuDecoder | None = None
        self._queue: asyncio.Queue | None = None
        self._plan: tuple[int, int, int] | None = None  # rate, acc range, gyro range

    def _on_cp(self, data: bytes) -> None:
        try:
            msg = (self._decoder.on_control_point(data) if self._decoder is not None
                   else pmd.parse_control_point(data))
        except DecodeError as e:
            log.warning("Polar control point: unreadable message (%s)", e)
            return
        if self._queue is not None:
            self._queue.put_nowait(msg)

    async def _request(self, link: Link, cmd: bytes) -> pmd.ControlPointResponse:
        assert self._queue is not None
        while not self._queue.empty():
            self._queue.get_nowait()
        await link.write(pmd.PMD_CP_UUID, cmd, response=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.RESPONSE_TIMEOUT_S
        while True:
            try:
                msg = await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise LinkError(f"{link.address}: no answer from the PMD control point to "
                                f"{cmd[:2].hex()}") from None
            if isinstance(msg, pmd.ControlPointResponse) and int(msg.op) == cmd[0] and \
                    int(msg.measurement_type) == (cmd[1] & 0x3F):
                return msg
            log.debug("%s: PMD control point message ignored: %s", link.address, msg)

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        self._queue = asyncio.Queue()
        self._decoder = None
        await link.start_notify(pmd.PMD_CP_UUID, self._on_cp)
        try:
            features = pmd.parse_features(await link.read(pmd.PMD_CP_UUID))
        except DecodeError as e:
            raise LinkError(f"{link.address}: unreadable PMD features ({e})") from e
        acc_t, gyr_t = pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO
        if acc_t not in features or gyr_t not in features:
            raise LinkError(f"{link.address}: the device offers no ACC and GYRO streams")
        offered = {}
        for mt in (acc_t, gyr_t):
            resp = await self._request(link, pmd.get_settings_command(mt))
            if not resp.ok:
                raise LinkError(f"{link.address}: {mt.name} settings refused ({resp.status!r})")
            offered[mt] = resp.settings()
        rates = sorted(set(offered[acc_t].get(pmd.SettingType.SAMPLE_RATE, ()))
                       & set(offered[gyr_t].get(pmd.SettingType.SAMPLE_RATE, ())))
        if not rates:
            raise LinkError(f"{link.address}: ACC and GYRO share no sample rate")
        if rate_hz is not None:
            if int(rate_hz) not in rates:
                raise LinkError(f"{link.address}: offers {rates} Hz, not {rate_hz} Hz")
            rate = int(rate_hz)
        else:
            rate = self.DEFAULT_RATE if self.DEFAULT_RATE in rates else rates[-1]

        def pick(options, preferred):
            options = sorted(options or (preferred,))
            return preferred if preferred in options else options[-1]

        acc_range = pick(offered[acc_t].get(pmd.SettingType.RANGE), 8)
        gyr_range = pick(offered[gyr_t].get(pmd.SettingType.RANGE), 2000)
        self._plan = (rate, acc_range, gyr_range)
        return StreamInfo(rate_hz=float(rate), acc_range_g=float(acc_range),
                          gyro_range_dps=float(gyr_range))

    def make_decoder(self, info: StreamInfo) -> Decoder:
        self._decoder = pmd.PolarImuDecoder()
        return self._decoder

    async def start(self, link: Link) -> None:
        assert self._decoder is not None and self._plan is not None
        rate, acc_range, gyr_range = self._plan
        for mt, rng in ((pmd.MeasurementType.ACC, acc_range), (pmd.MeasurementType.GYRO, gyr_range)):
            cmd = self._decoder.start_command(mt, sample_rate=rate, resolution=16, range_=rng)
            resp = await self._request(link, cmd)
            if int(resp.status) == pmd.ResponseCode.ERROR_ALREADY_IN_STATE:
                # still streaming from before: restart it so its conversion factor is known
                await self._request(link, pmd.stop_measurement_command(mt))
                cmd = self._decoder.start_command(mt, sample_rate=rate, resolution=16, range_=rng)
                resp = await self._request(link, cmd)
            if not resp.ok:
                raise LinkError(f"{link.address}: {mt.name} start refused ({resp.status!r})")

    async def stop(self, link: Link) -> None:
        for mt in (pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO):
            try:
                await self._request(link, pmd.stop_measurement_command(mt))
            except LinkError as e:
                log.debug("%s: stopping %s: %s", link.address, mt.name, e)


class MovesenseProfile:
    """Movesense sensors through the GATT SensorData Protocol: one SUBSCRIBE to
    ``/Meas/IMU6/<rate>`` on the command characteristic; data and command results arrive on the
    notify characteristic (:class:`gaitmon.sensors.movesense.MovesenseDecoder`).

    No sequence numbers: losses are sized from the timestamps (u32 ms, wrapping after 49.7
    days). The device does not report its mount: forward/up must come from the configuration.
    Rate: the requested one if the IMU offers it, else 104 Hz. Values arrive as float32 in SI
    units, so no range is configured (saturation is not flagged from ranges).
    """

    kind = "movesense"
    service_uuids = (ms.SERVICE_UUID,)
    name_patterns = (r"^Movesense",)
    data_uuid = ms.NOTIFY_UUID
    seq_bits = None
    clock_wrap_s = float(1 << 32) * 1e-3
    reports_mount = False
    DEFAULT_RATE = 104
    REF = 42  # client reference of the IMU subscription
    RESULT_TIMEOUT_S = 5.0

    def __init__(self) -> None:
        self._decoder: ms.MovesenseDecoder | None = None
        self._rate: int | None = None

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        if not link.has_characteristic(ms.WRITE_UUID):
            raise LinkError(f"{link.address}: no Movesense GSP command characteristic")
        if rate_hz is not None and int(rate_hz) not in ms.IMU_RATES:
            raise LinkError(f"{link.address}: Movesense IMU rates are {list(ms.IMU_RATES)} Hz, "
                            f"not {rate_hz} Hz")
        self._rate = int(rate_hz) if rate_hz is not None else self.DEFAULT_RATE
        return StreamInfo(rate_hz=float(self._rate))

    def make_decoder(self, info: StreamInfo) -> Decoder:
        self._decoder = ms.MovesenseDecoder()
        return self._decoder

    async def start(self, link: Link) -> None:
        assert self._decoder is not None and self._rate is not None
        self._decoder.command_results.clear()
        cmd = self._decoder.subscribe(self.REF, ms.imu_path("IMU6", self._rate))
        await link.write(ms.WRITE_UUID, cmd, response=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.RESULT_TIMEOUT_S
        while loop.time() < deadline:  # the result comes back on the notify characteristic
            for res in list(self._decoder.command_results):
                if res.ref == self.REF:
                    if not res.ok:
                        raise LinkError(f"{link.address}: subscribe to IMU6 at {self._rate} Hz "
                                        f"refused (status {res.status})")
                    return
            await asyncio.sleep(0.01)
        raise LinkError(f"{link.address}: no answer to the IMU6 subscription")

    async def stop(self, link: Link) -> None:
        if self._decoder is not None:
            await link.write(ms.WRITE_UUID, self._decoder.unsubscribe(self.REF), response=True)


class MovellaDotProfile:
    """Movella (Xsens) DOT, Measurement Service (XD0506P): output rate on the device control
    characteristic, payload mode 21 "Rate quantities" (acc m/s² + gyr °/s + u32 µs timestamp)
    started/stopped on the control characteristic, notifications on the medium payload."""

    kind = "movella_dot"
    service_uuids = (dot.MEASUREMENT_SERVICE_UUID, dot.CONFIG_SERVICE_UUID)
    name_patterns = (r"^(Movella|Xsens) DOT",)
    data_uuid = dot.MEDIUM_PAYLOAD_UUID
    seq_bits = None
    clock_wrap_s = dot.CLOCK_WRAP_S
    reports_mount = False
    DEFAULT_RATE = 60

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        if not link.has_characteristic(dot.CONTROL_UUID):
            raise LinkError(f"{link.address}: no DOT measurement control characteristic")
        rate = int(rate_hz) if rate_hz is not None else None
        if rate is not None and rate not in dot.STREAM_RATES:
            raise LinkError(f"{link.address}: DOT streaming rates are {list(dot.STREAM_RATES)} Hz, not {rate}")
        if rate is not None:
            await link.write(dot.DEVICE_CONTROL_UUID, dot.set_output_rate_command(rate), response=True)
        try:
            got = dot.parse_device_control(await link.read(dot.DEVICE_CONTROL_UUID))["output_rate_hz"]
        except DecodeError as e:
            raise LinkError(f"{link.address}: bad DOT device control value: {e}") from e
        if rate is not None and got != rate:
            raise LinkError(f"{link.address}: DOT stays at {got} Hz (asked {rate} Hz)")
        if got not in dot.STREAM_RATES:
            raise LinkError(f"{link.address}: DOT output rate {got} Hz cannot be streamed")
        return StreamInfo(rate_hz=float(got), model="Movella DOT")

    def make_decoder(self, info: StreamInfo) -> Decoder:
        return dot.MovellaDotDecoder(dot.MODE_RATE_QUANTITIES)

    async def start(self, link: Link) -> None:
        await link.write(dot.CONTROL_UUID, dot.control_command(True, dot.MODE_RATE_QUANTITIES), response=True)

    async def stop(self, link: Link) -> None:
        await link.write(dot.CONTROL_UUID, dot.control_command(False, dot.MODE_RATE_QUANTITIES), response=True)

    # ------------------------------------------------------------------ on-sensor recording
    # Message Service (XD0506P §5): control messages are written to 0x7001 and acknowledged on
    # 0x7002 (read right after the write, §5.2.1); asynchronous answers arrive on 0x7003.
    MESSAGE_TIMEOUT_S = 10.0

    def _require_messages(self, link: Link) -> None:
        if not link.has_characteristic(dot.MESSAGE_CONTROL_UUID):
            raise LinkError(f"{link.address}: no DOT message service (recording control)")

    async def _command(self, link: Link, msg: bytes) -> dot.RecordingAck:
        self._require_messages(link)
        await link.write(dot.MESSAGE_CONTROL_UUID, msg, response=True)
        raw = await link.read(dot.MESSAGE_ACK_UUID)
        try:
            ack = dot.decode_recording_ack(raw)
        except DecodeError as e:
            raise LinkError(f"{link.address}: unreadable recording acknowledge ({e})") from e
        if ack.command != msg[2]:
            raise LinkError(f"{link.address}: acknowledge of ReID {ack.command:#04x}, sent {msg[2]:#04x}")
        return ack

    async def _checked(self, link: Link, msg: bytes, what: str) -> dot.RecordingAck:
        ack = await self._command(link, msg)
        if not ack.ok:
            raise LinkError(f"{link.address}: {what} refused ({ack.result_name})")
        return ack

    async def _exchange(self, link: Link, msg: bytes, what: str, done: set[int],
                        timeout_s: float | None = None) -> list[dot.DotMessage]:
        """Write a control message, check its acknowledge, collect recording notifications
        until one whose ReID is in ``done`` (included in the result)."""
        self._require_messages(link)
        queue: asyncio.Queue = asyncio.Queue()
        await link.start_notify(dot.MESSAGE_NOTIFICATION_UUID, queue.put_nowait)
        try:
            await self._checked(link, msg, what)
            out: list[dot.DotMessage] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + (timeout_s or self.MESSAGE_TIMEOUT_S)
            while True:
                try:
                    raw = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise LinkError(f"{link.address}: {what}: no end after {len(out)} notifications") from None
                try:
                    m = dot.decode_recording_message(raw)
                except DecodeError as e:
                    log.warning("%s: %s: unreadable notification (%s)", link.address, what, e)
                    continue
                out.append(m)
                if m.id in done:
                    return out
                deadline = loop.time() + (timeout_s or self.MESSAGE_TIMEOUT_S)  # still talking
        finally:
            try:
                await link.stop_notify(dot.MESSAGE_NOTIFICATION_UUID)
            except LinkError:
                pass

    async def recording_state(self, link: Link) -> dot.RecResult | int:
        """The recording state (GetState: the acknowledge's result, Table 26), e.g. ``IDLE``,
        ``ON_RECORDING``, ``ON_ERASING``."""
        ack = await self._command(link, dot.get_state_message())
        try:
            return dot.RecResult(ack.result)
        except ValueError:
            return ack.result

    async def start_recording(self, link: Link, *, duration_s: int | None = None,
                              utc_s: int | None = None) -> None:
        """Start recording to the sensor's flash (idle only) at the output rate of the device
        control characteristic; ``duration_s`` None records until stopped (or flash 90 % full)."""
        utc = int(time.time()) if utc_s is None else int(utc_s)
        await self._checked(link, dot.start_recording_message(utc, duration_s), "start recording")

    async def stop_recording(self, link: Link) -> None:
        await self._checked(link, dot.stop_recording_message(), "stop recording")

    async def recording_time(self, link: Link) -> dot.RecordingTime:
        """Start UTC and timer of the ongoing recording (RequestRecordingTime, recording only)."""
        ms = await self._exchange(link, dot.request_recording_time_message(), "recording time",
                                  {dot.RecId.RECORDING_TIME})
        return self._parse(link, dot.decode_recording_time, ms[-1].payload)

    async def erase_flash(self, link: Link, *, utc_s: int | None = None, timeout_s: float = 120.0) -> None:
        """Erase the recording space (idle only); waits for StoreFlashInfoDone."""
        utc = int(time.time()) if utc_s is None else int(utc_s)
        await self._exchange(link, dot.erase_flash_message(utc), "erase flash",
                             {dot.RecId.STORE_FLASH_INFO_DONE}, timeout_s)

    async def flash_info(self, link: Link) -> tuple[dot.FlashInfo | None, list[int]]:
        """Flash Info Header (None if the recording space is not initialised) and the data
        sectors of each recording file (File Indicators); file indexes are 1 + list index."""
        ms = await self._exchange(link, dot.request_flash_info_message(), "flash info",
                                  {dot.RecId.EXPORT_FLASH_INFO_DONE})
        parts = [m.payload for m in ms if m.id == dot.RecId.EXPORT_FLASH_INFO]
        if not parts:
            return None, []
        header = self._parse(link, dot.decode_flash_info, parts[0])
        return header, self._parse(link, dot.decode_file_indicators, b"".join(parts[1:]))

    async def file_info(self, link: Link, file_index: int) -> dot.FileInfo | None:
        """Header of recording file ``file_index`` (1-based), None if there is no such file."""
        ms = await self._exchange(link, dot.request_file_info_message(file_index), "file info",
                                  {dot.RecId.EXPORT_FILE_INFO_DONE, dot.RecId.NO_RECORDING_FILE})
        infos = [m.payload for m in ms if m.id == dot.RecId.EXPORT_FILE_INFO]
        if not infos:
            return None
        return self._parse(link, dot.decode_file_info, infos[0])

    async def export_file(self, link: Link, file_index: int, *, timeout_s: float = 30.0) -> DotExport:
        """Export recording file ``file_index`` as timestamp + acceleration + angular velocity
        (SelectExportData, then RequestFileData until ExportFileDataDone)."""
        await self._checked(link, dot.select_export_data_message(dot.GAIT_EXPORT), "select export data")
        ms = await self._exchange(link, dot.request_file_data_message(file_index), "export file data",
                                  {dot.RecId.EXPORT_FILE_DATA_DONE, dot.RecId.STOP_EXPORT_DATA,
                                   dot.RecId.NO_RECORDING_FILE}, timeout_s)
        if ms[-1].id == dot.RecId.NO_RECORDING_FILE:
            raise LinkError(f"{link.address}: no recording file {file_index}")
        decoder = dot.DotExportDecoder(dot.GAIT_EXPORT)
        packets, invalid = [], 0
        for m in ms:
            if m.id == dot.RecId.EXPORT_FILE_DATA_INVALID:
                invalid += 1
            elif m.id == dot.RecId.EXPORT_FILE_DATA:
                raw = dot.encode_message(m.mid, m.data)
                try:
                    packets.append(decoder.decode(raw))
                except DecodeError as e:
                    log.warning("%s: export packet rejected (%s)", link.address, e)
                    invalid += 1
        return DotExport(packets=packets, invalid=invalid, complete=ms[-1].id == dot.RecId.EXPORT_FILE_DATA_DONE)

    @staticmethod
    def _parse(link: Link, fn, payload: bytes):
        try:
            return fn(payload)
        except DecodeError as e:
            raise LinkError(f"{link.address}: unreadable recording notification ({e})") from e


@dataclass(frozen=True)
class DotExport:
    """An exported DOT recording file: one-sample packets (``seq`` = DataNumber), the number of
    packets flagged invalid by the sensor (ExportFileDataInvalid) or rejected, and whether the
    export ended with ExportFileDataDone."""

    packets: list
    invalid: int
    complete: bool

    @property
    def missing(self) -> list[int]:
        """DataNumbers absent between the first and the last received one."""
        got = sorted(p.seq for p in self.packets)
        have = set(got)
        return [n for n in range(got[0], got[-1] + 1) if n not in have] if got else []

    def write_recording(self, path, *, sensor: str, start_utc_s: float | None = None,
                        forward: str | None = None, up: str | None = None) -> int:
        """Write the samples in gaitmon's recording format (docs/recording-format.md §1; time_s
        from the first sample on the sensor clock, acc m/s², gyr rad/s); returns rows written.
        ``start_utc_s`` (e.g. the file's StartUTC, whole seconds) goes to the header as is."""
        import numpy as np

        from .recorder import RecordingWriter, utc_iso

        pk = sorted(self.packets, key=lambda p: p.seq)
        w = RecordingWriter(path)
        w.start({"format": "gaitmon-recording/1", "sensor": sensor, "forward": forward, "up": up,
                 "start_utc": utc_iso(start_utc_s) if start_utc_s is not None else None,
                 "source": "movella_dot flash export"})
        try:
            if pk:
                t = np.concatenate([p.t_s for p in pk])
                w.write(t - t[0], np.concatenate([p.acc for p in pk]), np.concatenate([p.gyr for p in pk]))
        finally:
            w.close()
        return w.rows


class MetaWearProfile:
    """MbientLab MetaWear (BMI160): accelerometer ±16 g and gyroscope ±2000 °/s at the same rate,
    configured, subscribed (packed registers), enabled and powered on over the command
    characteristic; data notifications carry no time or counter (see gaitmon.sensors.metawear)."""

    kind = "metawear"
    service_uuids = (mw.SERVICE_UUID,)
    name_patterns = (r"^MetaWear", r"^MetaMotion")
    data_uuid = mw.NOTIFY_UUID
    seq_bits = None
    clock_wrap_s = None
    reports_mount = False
    DEFAULT_RATE = 100
    ACC_RANGE_G = 16
    GYRO_RANGE_DPS = 2000

    def __init__(self) -> None:
        self._rate = self.DEFAULT_RATE

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        if not link.has_characteristic(mw.COMMAND_UUID):
            raise LinkError(f"{link.address}: no MetaWear command characteristic")
        rate = int(rate_hz) if rate_hz is not None else self.DEFAULT_RATE
        if rate not in mw.ODR_CODES:
            raise LinkError(f"{link.address}: MetaWear rates are {sorted(mw.ODR_CODES)} Hz, not {rate}")
        await link.write(mw.COMMAND_UUID, mw.acc_config(rate, self.ACC_RANGE_G), response=True)
        await link.write(mw.COMMAND_UUID, mw.gyro_config(rate, self.GYRO_RANGE_DPS), response=True)
        self._rate = rate
        return StreamInfo(rate_hz=float(rate), acc_range_g=float(self.ACC_RANGE_G),
                          gyro_range_dps=float(self.GYRO_RANGE_DPS), model="MetaWear (BMI160)")

    def make_decoder(self, info: StreamInfo) -> Decoder:
        return mw.MetaWearDecoder(info.rate_hz, acc_range_g=self.ACC_RANGE_G, gyro_range_dps=self.GYRO_RANGE_DPS)

    async def start(self, link: Link) -> None:
        for cmd in mw.start_commands():
            await link.write(mw.COMMAND_UUID, cmd, response=True)

    async def stop(self, link: Link) -> None:
        for cmd in mw.stop_commands():
            await link.write(mw.COMMAND_UUID, cmd, response=True)


class SensorLoggerProfile:
    """A phone running Sensor Logger with HTTP push, over a
    :class:`~gaitmon.collector.phone.PhoneLink` (not Bluetooth): the link delivers every pushed
    JSON message as one "notification"; nothing is configured on the phone (its sampling rate is the
    app's setting, measured from the first message unless given)."""

    kind = "sensorlogger"
    service_uuids: tuple[str, ...] = ()
    name_patterns: tuple[str, ...] = ()
    data_uuid = "sensorlogger-push"
    seq_bits = None
    clock_wrap_s = None
    reports_mount = False

    def __init__(self) -> None:
        self._platform = "android"
        self._standardised = False

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        self._platform = getattr(link, "platform", "android")
        self._standardised = bool(getattr(link, "standardised", False))
        rate = rate_hz or getattr(link, "estimated_rate_hz", None)
        if not rate:
            raise LinkError(f"{link.address}: sampling rate unknown (no accelerometer in the first push)")
        return StreamInfo(rate_hz=float(rate), model=f"Sensor Logger ({self._platform})")

    def make_decoder(self, info: StreamInfo) -> Decoder:
        from gaitmon.sensors.sensorlogger_push import SensorLoggerPushDecoder

        return SensorLoggerPushDecoder(info.rate_hz, platform=self._platform, standardised=self._standardised)

    async def start(self, link: Link) -> None:
        return None

    async def stop(self, link: Link) -> None:
        return None


class PhyphoxProfile:
    """A phone running phyphox with remote access, over a
    :class:`~gaitmon.collector.phone.PhyphoxLink` (HTTP polling, not Bluetooth): the experiment's
    accelerometer and gyroscope buffers (from ``/config``), the rate measured at connection."""

    kind = "phyphox"
    service_uuids: tuple[str, ...] = ()
    name_patterns: tuple[str, ...] = ()
    data_uuid = "phyphox-get"
    seq_bits = None
    clock_wrap_s = None
    reports_mount = False

    def __init__(self) -> None:
        self._buffers: dict | None = None

    async def configure(self, link: Link, rate_hz: int | None) -> StreamInfo:
        self._buffers = getattr(link, "buffers", None)
        rate = rate_hz or getattr(link, "estimated_rate_hz", None)
        if not self._buffers or not rate:
            raise LinkError(f"{link.address}: phyphox buffers or rate unknown")
        return StreamInfo(rate_hz=float(rate), model="phyphox")

    def make_decoder(self, info: StreamInfo) -> Decoder:
        from gaitmon.sensors.phyphox_remote import PhyphoxRemoteDecoder

        return PhyphoxRemoteDecoder(self._buffers, info.rate_hz)

    async def start(self, link: Link) -> None:
        return None

    async def stop(self, link: Link) -> None:
        return None


PROFILES: dict[str, type] = {"gaitmon": GaitmonProfile, "polar": PolarProfile,
                             "movesense": MovesenseProfile, "movella_dot": MovellaDotProfile,
                             "metawear": MetaWearProfile, "sensorlogger": SensorLoggerProfile,
                             "phyphox": PhyphoxProfile}


def get_profile(kind: str) -> SensorProfile:
    """A fresh profile instance for ``kind`` (raises ValueError for unknown kinds)."""
    try:
        return PROFILES[kind]()
    except KeyError:
        raise ValueError(f"unknown sensor kind {kind!r}; known: {', '.join(sorted(PROFILES))}") from None


def classify_advertisement(name: str | None, service_uuids: list[str] | tuple[str, ...]) -> str | None:
    """The profile kind an advertisement belongs to (by service UUID, then by name), or None."""
    uuids = {u.lower() for u in service_uuids or ()}
    for kind, cls in PROFILES.items():
        if uuids & set(cls.service_uuids):
            return kind
    for kind, cls in PROFILES.items():
        if name and any(re.search(p, name, re.IGNORECASE) for p in cls.name_patterns):
            return kind
    return None


async def read_battery(link: Link) -> int | None:
    """Battery level in percent (standard 0x2A19, or the platform's equivalent), or None."""
    try:
        return decode_battery_level(await link.read(BATTERY_LEVEL_UUID))
    except (LinkError, DecodeError) as e:
        log.debug("%s: battery level unavailable: %s", link.address, e)
        return None


async def read_device_info(link: Link) -> tuple[str | None, str | None]:
    """(model, firmware) from the Device Information service, None where unavailable."""
    out: list[str | None] = []
    for uuid in (MODEL_NUMBER_UUID, FIRMWARE_REVISION_UUID):
        if not link.has_characteristic(uuid):
            out.append(None)
            continue
        try:
            out.append(decode_dis_string(await link.read(uuid)) or None)
        except (LinkError, DecodeError) as e:
            log.debug("%s: device information %s unavailable: %s", link.address, uuid, e)
            out.append(None)
    return out[0], out[1]

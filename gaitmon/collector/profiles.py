"""Sensor profiles: how to recognise, configure, start and decode one family of devices.

A profile is the device-specific part of a sensor session: which advertised services/names
identify the device, which characteristic carries the data, how to read its configuration and
start/stop the stream, and which :mod:`gaitmon.sensors` decoder turns notifications into
:class:`gaitmon.sensors.base.Packet` (seconds on the sensor clock, m/s², rad/s, sensor frame).

Implemented: ``gaitmon`` (the open gaitmon IMU profile, ``docs/ble-profile.md``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

from gaitmon.sensors import gaitmon_profile as gp
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


PROFILES: dict[str, type] = {"gaitmon": GaitmonProfile}


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

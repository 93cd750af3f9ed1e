"""Open gaitmon IMU BLE profile, version 1 — encoder and decoder (pure, no I/O).

The full specification, with a C struct and a worked hex example, is ``docs/ble-profile.md``.
Summary (all multi-byte fields little-endian):

* Service ``b8c10001-6761-6974-6d6f-6e494d550001`` with
  Data ``…0002…`` (notify), Config ``…0003…`` (read), Control ``…0004…`` (write with response);
  plus the standard Battery (0x180F) and Device Information (0x180A) services.
* Data notification: 12-byte header
  ``u8 version(=1) | u8 flags | u16 seq | u32 t_first_us | u16 dt_us | u8 n | u8 reserved(0)``
  then ``n`` (1..19) samples of ``i16 ax, ay, az, gx, gy, gz``.
  flags bit0 = gyro present, bit1 = a sample in this batch is saturated.
  ``seq`` wraps 65535 -> 0; ``t_first_us`` is the sensor clock (µs) of the first sample and
  wraps at 2**32; sample ``i`` was taken at ``t_first_us + i * dt_us``.
* Config (24 bytes): ``u8 version | u16 rate_hz | u8 acc_range_g | u16 gyro_range_dps |
  i8 forward_axis | i8 up_axis | char model[16]`` (UTF-8, NUL padded); axis codes
  +1/-1 = +x/-x, +2/-2 = +y/-y, +3/-3 = +z/-z.
* Scale: acc m/s² = raw * acc_range_g * 9.80665 / 32768 (specific force, sensor frame);
  gyro rad/s = raw * gyro_range_dps * pi / 180 / 32768 (sensor frame).  Raw -32768 or 32767
  means saturated; :class:`Packet.saturated` marks those samples.
* Control: ``0x01`` start, ``0x02`` stop, ``0x03 u16 rate_hz`` set rate,
  ``0x04 u8 acc_range_g u16 gyro_range_dps`` set ranges.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass

import numpy as np

from .base import STANDARD_GRAVITY, DecodeError, Packet, WrapUnwrapper, regular_chunks

log = logging.getLogger("gaitmon.sensors.gaitmon_profile")

__all__ = [
    "SERVICE_UUID",
    "DATA_UUID",
    "CONFIG_UUID",
    "CONTROL_UUID",
    "PROFILE_VERSION",
    "HEADER_SIZE",
    "SAMPLE_SIZE",
    "MAX_SAMPLES",
    "FLAG_GYRO",
    "FLAG_SATURATED",
    "OP_START",
    "OP_STOP",
    "OP_SET_RATE",
    "OP_SET_RANGES",
    "GaitmonConfig",
    "RawPacket",
    "ControlCommand",
    "axis_code",
    "axis_name",
    "acc_scale",
    "gyro_scale",
    "encode_config",
    "decode_config",
    "encode_packet_raw",
    "encode_packet",
    "parse_packet",
    "decode_packet",
    "control_start",
    "control_stop",
    "control_set_rate",
    "control_set_ranges",
    "decode_control",
    "packetize",
    "GaitmonProfileDecoder",
]

SERVICE_UUID = "b8c10001-6761-6974-6d6f-6e494d550001"
DATA_UUID = "b8c10002-6761-6974-6d6f-6e494d550001"
CONFIG_UUID = "b8c10003-6761-6974-6d6f-6e494d550001"
CONTROL_UUID = "b8c10004-6761-6974-6d6f-6e494d550001"

PROFILE_VERSION = 1
HEADER_SIZE = 12
SAMPLE_SIZE = 12
#: 12 + 19 * 12 = 240 bytes, fits one notification at ATT MTU 247 (244 bytes of value).
MAX_SAMPLES = 19
FLAG_GYRO = 0x01
FLAG_SATURATED = 0x02

OP_START = 0x01
OP_STOP = 0x02
OP_SET_RATE = 0x03
OP_SET_RANGES = 0x04

#: The lowest rate whose sample interval fits the u16 ``dt_us`` field (1e6 / 65535 µs).
MIN_RATE_HZ = 16
MAX_RATE_HZ = 10000

_HEADER = struct.Struct("<BBHIHBB")
_CONFIG = struct.Struct("<BHBHbb16s")
CONFIG_SIZE = _CONFIG.size  # 24
_I16_MIN, _I16_MAX = -32768, 32767

_AXES = {"+x": 1, "-x": -1, "+y": 2, "-y": -2, "+z": 3, "-z": -3}
_AXIS_NAMES = {v: k for k, v in _AXES.items()}


def axis_code(axis: str) -> int:
    """Axis string (``"+x"`` … ``"-z"``) -> profile code (+1/-1, +2/-2, +3/-3)."""
    try:
        return _AXES[axis.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"axis must be one of {sorted(_AXES)}, got {axis!r}") from None


def axis_name(code: int) -> str:
    """Profile axis code -> axis string (``+1`` -> ``"+x"``)."""
    try:
        return _AXIS_NAMES[int(code)]
    except KeyError:
        raise ValueError(f"axis code must be ±1, ±2 or ±3, got {code}") from None


def acc_scale(acc_range_g: float) -> float:
    """m/s² per raw count for a ±``acc_range_g`` g accelerometer."""
    return float(acc_range_g) * STANDARD_GRAVITY / 32768.0


def gyro_scale(gyro_range_dps: float) -> float:
    """rad/s per raw count for a ±``gyro_range_dps`` °/s gyroscope."""
    return float(gyro_range_dps) * math.pi / 180.0 / 32768.0


@dataclass(frozen=True)
class GaitmonConfig:
    """Contents of the Config characteristic.

    rate_hz: sample rate in Hz (16..10000); acc_range_g: accelerometer range ±g (1..255);
    gyro_range_dps: gyroscope range ±°/s (1..65535); forward / up: the nominal mount, i.e. which
    SENSOR axis points forward and up when worn on the sacrum (``"+x"`` … ``"-z"``);
    model: model name, at most 16 bytes UTF-8.
    """

    rate_hz: int
    acc_range_g: int
    gyro_range_dps: int
    forward: str = "+x"
    up: str = "+z"
    model: str = ""
    version: int = PROFILE_VERSION

    def __post_init__(self) -> None:
        if self.version != PROFILE_VERSION:
            raise ValueError(f"only profile version {PROFILE_VERSION} is defined")
        if not MIN_RATE_HZ <= int(self.rate_hz) <= MAX_RATE_HZ:
            raise ValueError(f"rate_hz must be {MIN_RATE_HZ}..{MAX_RATE_HZ}, got {self.rate_hz}")
        if not 1 <= int(self.acc_range_g) <= 255:
            raise ValueError(f"acc_range_g must be 1..255, got {self.acc_range_g}")
        if not 1 <= int(self.gyro_range_dps) <= 65535:
            raise ValueError(f"gyro_range_dps must be 1..65535, got {self.gyro_range_dps}")
        f, u = axis_code(self.forward), axis_code(self.up)
        if abs(f) == abs(u):
            raise ValueError(f"forward {self.forward} and up {self.up} must be different axes")
        object.__setattr__(self, "forward", axis_name(f))
        object.__setattr__(self, "up", axis_name(u))
        if len(self.model.encode("utf-8")) > 16:
            raise ValueError("model name is at most 16 bytes UTF-8")
        if "\x00" in self.model:
            raise ValueError("model name must not contain NUL")

    @property
    def acc_scale(self) -> float:
        """m/s² per raw count."""
        return acc_scale(self.acc_range_g)

    @property
    def gyro_scale(self) -> float:
        """rad/s per raw count."""
        return gyro_scale(self.gyro_range_dps)

    @property
    def dt_us(self) -> int:
        """Nominal sample interval in µs (what a device puts into ``dt_us``)."""
        return int(round(1e6 / self.rate_hz))


def encode_config(config: GaitmonConfig) -> bytes:
    """GaitmonConfig -> the 24-byte Config characteristic value."""
    return _CONFIG.pack(
        config.version,
        int(config.rate_hz),
        int(config.acc_range_g),
        int(config.gyro_range_dps),
        axis_code(config.forward),
        axis_code(config.up),
        config.model.encode("utf-8").ljust(16, b"\x00"),
    )


def _versioned(data: bytes | bytearray | memoryview, what: str) -> bytes:
    """The bytes of a value whose first byte is the profile version (checked)."""
    b = bytes(data)
    if len(b) < 1:
        raise DecodeError("truncated", f"empty {what}")
    if b[0] != PROFILE_VERSION:
        raise DecodeError("bad_version", f"{what} version {b[0]}, this decoder speaks {PROFILE_VERSION}")
    return b


def decode_config(data: bytes | bytearray | memoryview) -> GaitmonConfig:
    """Config characteristic value -> GaitmonConfig.  Raises DecodeError when malformed."""
    b = _versioned(data, "config")
    if len(b) < CONFIG_SIZE:
        raise DecodeError("truncated", f"config is {CONFIG_SIZE} bytes, got {len(b)}")
    if len(b) > CONFIG_SIZE:
        raise DecodeError("bad_length", f"config is {CONFIG_SIZE} bytes, got {len(b)}")
    version, rate, acc_g, gyro_dps, fwd, up, model = _CONFIG.unpack(b)
    try:
        model_s = model.split(b"\x00", 1)[0].decode("utf-8")
        return GaitmonConfig(
            rate_hz=rate,
            acc_range_g=acc_g,
            gyro_range_dps=gyro_dps,
            forward=axis_name(fwd),
            up=axis_name(up),
            model=model_s,
            version=version,
        )
    except (ValueError, UnicodeDecodeError) as e:  # UnicodeDecodeError is a ValueError too
        raise DecodeError("bad_field", str(e)) from None


@dataclass(frozen=True, eq=False)
class RawPacket:
    """A data notification's fields, before scaling.  ``raw`` is int16[n, 6]
    (ax, ay, az, gx, gy, gz in counts)."""

    version: int
    flags: int
    seq: int
    t_first_us: int
    dt_us: int
    raw: np.ndarray

    @property
    def n(self) -> int:
        return int(self.raw.shape[0])

    @property
    def gyro_present(self) -> bool:
        return bool(self.flags & FLAG_GYRO)

    @property
    def saturated_flag(self) -> bool:
        return bool(self.flags & FLAG_SATURATED)


def _saturation_mask(raw: np.ndarray, gyro_present: bool) -> np.ndarray:
    cols = raw if gyro_present else raw[:, :3]
    return np.any((cols == _I16_MIN) | (cols == _I16_MAX), axis=1)


def encode_packet_raw(
    *,
    seq: int,
    t_first_us: int,
    dt_us: int,
    raw,
    gyro_present: bool = True,
    saturated: bool | None = None,
) -> bytes:
    """Build a data notification from raw counts.

    raw: int array [n, 6] (ax, ay, az, gx, gy, gz) within int16, 1 <= n <= 19 (gyro columns
    are sent as 0 when ``gyro_present`` is False).  seq is taken modulo 2**16 and t_first_us
    modulo 2**32 (the wire wraps).  ``saturated`` sets flags bit1; by default it is set when
    any sent value is -32768 or 32767.
    """
    r = np.asarray(raw)
    if r.ndim != 2 or r.shape[1] != 6:
        raise ValueError(f"raw must have shape (n, 6), got {r.shape}")
    if not 1 <= r.shape[0] <= MAX_SAMPLES:
        raise ValueError(f"a packet holds 1..{MAX_SAMPLES} samples, got {r.shape[0]}")
    if not np.issubdtype(r.dtype, np.integer):
        raise ValueError("raw must be integer counts")
    if r.min() < _I16_MIN or r.max() > _I16_MAX:
        raise ValueError("raw counts must fit int16")
    if not 1 <= int(dt_us) <= 0xFFFF:
        raise ValueError(f"dt_us must be 1..65535, got {dt_us}")
    r16 = r.astype("<i2", copy=True)
    if not gyro_present:
        r16[:, 3:] = 0
    if saturated is None:
        saturated = bool(_saturation_mask(r16, gyro_present).any())
    flags = (FLAG_GYRO if gyro_present else 0) | (FLAG_SATURATED if saturated else 0)
    header = _HEADER.pack(
        PROFILE_VERSION, flags, int(seq) & 0xFFFF, int(t_first_us) & 0xFFFFFFFF, int(dt_us), r16.shape[0], 0
    )
    return header + r16.tobytes()


def _quantize(values: np.ndarray, scale: float) -> np.ndarray:
    q = np.rint(values / scale)
    return np.clip(q, _I16_MIN, _I16_MAX).astype(np.int64)


def encode_packet(
    *,
    seq: int,
    t_first_us: int,
    acc,
    gyr,
    config: GaitmonConfig,
    dt_us: int | None = None,
) -> bytes:
    """Build a data notification from SI samples, as a device with ``config`` would.

    acc: float[n, 3] m/s² (specific force, sensor frame); gyr: float[n, 3] rad/s (sensor frame)
    or None (then flags bit0 is clear).  Values are rounded to counts and clipped to the range
    (clipped values are sent as -32768 / 32767 and flagged saturated).  ``dt_us`` defaults to
    ``round(1e6 / config.rate_hz)``.
    """
    a = np.asarray(acc, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"acc must have shape (n, 3), got {a.shape}")
    raw = np.zeros((a.shape[0], 6), dtype=np.int64)
    if not np.all(np.isfinite(a)):
        raise ValueError("acc contains NaN or inf")
    raw[:, :3] = _quantize(a, config.acc_scale)
    if gyr is not None:
        g = np.asarray(gyr, dtype=np.float64)
        if g.shape != a.shape:
            raise ValueError(f"gyr must have the shape of acc {a.shape}, got {g.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError("gyr contains NaN or inf")
        raw[:, 3:] = _quantize(g, config.gyro_scale)
    return encode_packet_raw(
        seq=seq,
        t_first_us=t_first_us,
        dt_us=config.dt_us if dt_us is None else dt_us,
        raw=raw,
        gyro_present=gyr is not None,
    )


def parse_packet(data: bytes | bytearray | memoryview) -> RawPacket:
    """Split a data notification into its fields (no scaling).  Raises DecodeError."""
    b = _versioned(data, "data packet")
    if len(b) < HEADER_SIZE:
        raise DecodeError("truncated", f"header is {HEADER_SIZE} bytes, got {len(b)}")
    version, flags, seq, t_first_us, dt_us, n, _reserved = _HEADER.unpack_from(b)
    if not 1 <= n <= MAX_SAMPLES:
        raise DecodeError("bad_length", f"sample count n={n} is outside 1..{MAX_SAMPLES}")
    expected = HEADER_SIZE + n * SAMPLE_SIZE
    if len(b) < expected:
        raise DecodeError("truncated", f"n={n} needs {expected} bytes, got {len(b)}")
    if len(b) > expected:
        raise DecodeError("bad_length", f"n={n} needs {expected} bytes, got {len(b)}")
    if dt_us == 0:
        raise DecodeError("bad_field", "sample interval dt_us is 0")
    raw = np.frombuffer(b, dtype="<i2", count=n * 6, offset=HEADER_SIZE).reshape(n, 6).astype(np.int16)
    return RawPacket(version=version, flags=flags, seq=seq, t_first_us=t_first_us, dt_us=dt_us, raw=raw)


def _packet_from_raw(rp: RawPacket, config: GaitmonConfig, t_first_s: float) -> Packet:
    raw = rp.raw.astype(np.float64)
    acc = raw[:, :3] * config.acc_scale
    gyr = raw[:, 3:] * config.gyro_scale if rp.gyro_present else None
    t = t_first_s + np.arange(rp.n, dtype=np.float64) * (rp.dt_us * 1e-6)
    return Packet(
        kind="gaitmon",
        seq=rp.seq,
        t_s=t,
        acc=acc,
        gyr=gyr,
        saturated=_saturation_mask(rp.raw, rp.gyro_present),
    )


def decode_packet(data: bytes | bytearray | memoryview, config: GaitmonConfig) -> Packet:
    """Decode one data notification with the device's ``config`` (ranges) into SI units.

    Times are ``t_first_us * 1e-6 + i * dt_us * 1e-6`` seconds of the raw (wrapping) sensor
    clock; use :class:`GaitmonProfileDecoder` to unwrap the clock across packets.
    """
    rp = parse_packet(data)
    return _packet_from_raw(rp, config, rp.t_first_us * 1e-6)


# --------------------------------------------------------------------------- control point


@dataclass(frozen=True)
class ControlCommand:
    """A decoded Control write (for the device side / the virtual sensor)."""

    op: int
    rate_hz: int | None = None
    acc_range_g: int | None = None
    gyro_range_dps: int | None = None


def control_start() -> bytes:
    """Control write that starts streaming."""
    return bytes([OP_START])


def control_stop() -> bytes:
    """Control write that stops streaming."""
    return bytes([OP_STOP])


def control_set_rate(rate_hz: int) -> bytes:
    """Control write that sets the sample rate in Hz (16..10000)."""
    r = int(rate_hz)
    if not MIN_RATE_HZ <= r <= MAX_RATE_HZ:
        raise ValueError(f"rate_hz must be {MIN_RATE_HZ}..{MAX_RATE_HZ}, got {rate_hz}")
    return struct.pack("<BH", OP_SET_RATE, r)


def control_set_ranges(acc_range_g: int, gyro_range_dps: int) -> bytes:
    """Control write that sets the ranges: accelerometer ±g (1..255), gyroscope ±°/s (1..65535)."""
    a, g = int(acc_range_g), int(gyro_range_dps)
    if not 1 <= a <= 255:
        raise ValueError(f"acc_range_g must be 1..255, got {acc_range_g}")
    if not 1 <= g <= 65535:
        raise ValueError(f"gyro_range_dps must be 1..65535, got {gyro_range_dps}")
    return struct.pack("<BBH", OP_SET_RANGES, a, g)


_CONTROL_LEN = {OP_START: 1, OP_STOP: 1, OP_SET_RATE: 3, OP_SET_RANGES: 4}


def decode_control(data: bytes | bytearray | memoryview) -> ControlCommand:
    """Parse a Control write (what a device does with it).  Raises DecodeError."""
    b = bytes(data)
    if not b:
        raise DecodeError("truncated", "empty control write")
    op = b[0]
    need = _CONTROL_LEN.get(op)
    if need is None:
        raise DecodeError("unknown_frame_type", f"unknown control opcode 0x{op:02x}")
    if len(b) < need:
        raise DecodeError("truncated", f"opcode 0x{op:02x} needs {need} bytes, got {len(b)}")
    if len(b) > need:
        raise DecodeError("bad_length", f"opcode 0x{op:02x} needs {need} bytes, got {len(b)}")
    if op == OP_SET_RATE:
        (rate,) = struct.unpack_from("<H", b, 1)
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise DecodeError("bad_field", f"rate {rate} Hz outside {MIN_RATE_HZ}..{MAX_RATE_HZ}")
        return ControlCommand(op, rate_hz=rate)
    if op == OP_SET_RANGES:
        acc_g, gyro_dps = struct.unpack_from("<BH", b, 1)
        if acc_g == 0 or gyro_dps == 0:
            raise DecodeError("bad_field", "ranges must be > 0")
        return ControlCommand(op, acc_range_g=acc_g, gyro_range_dps=gyro_dps)
    return ControlCommand(op)


# --------------------------------------------------------------------------- stream -> packets


def packetize(
    time,
    acc,
    gyr,
    rate_hz: int,
    acc_range_g: int = 16,
    gyro_range_dps: int = 2000,
    *,
    samples_per_packet: int | None = None,
    seq_start: int = 0,
) -> list[bytes]:
    """Turn a continuous stream into the data notifications a gaitmon-profile device emits.

    time: float[n] seconds (sensor clock; e.g. a simulator's ``rec.time``); acc: float[n, 3]
    m/s² specific force, sensor frame; gyr: float[n, 3] rad/s sensor frame, or None.
    Each packet carries up to ``samples_per_packet`` consecutive samples (default: about 20
    packets per second, at most 19); a gap in ``time`` (an interval off the nominal
    ``1/rate_hz`` by more than half of it) starts a new packet, so no packet spans a gap.
    ``t_first_us`` is the first sample's time in µs (rounded, wrapping at 2**32); ``seq``
    counts packets from ``seq_start`` and wraps at 2**16.
    """
    config = GaitmonConfig(rate_hz=int(rate_hz), acc_range_g=int(acc_range_g), gyro_range_dps=int(gyro_range_dps))
    t = np.asarray(time, dtype=np.float64)
    a = np.asarray(acc, dtype=np.float64)
    g = None if gyr is None else np.asarray(gyr, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError("time must be 1-D")
    if a.shape != (t.shape[0], 3) or (g is not None and g.shape != a.shape):
        raise ValueError("acc (and gyr) must have shape (len(time), 3)")
    if samples_per_packet is None:
        samples_per_packet = min(MAX_SAMPLES, max(1, int(round(config.rate_hz / 20.0))))
    if not 1 <= samples_per_packet <= MAX_SAMPLES:
        raise ValueError(f"samples_per_packet must be 1..{MAX_SAMPLES}")
    packets: list[bytes] = []
    seq = int(seq_start)
    for s, e in regular_chunks(t, config.rate_hz, samples_per_packet):
        packets.append(
            encode_packet(
                seq=seq,
                t_first_us=int(round(t[s] * 1e6)),
                acc=a[s:e],
                gyr=None if g is None else g[s:e],
                config=config,
            )
        )
        seq = (seq + 1) & 0xFFFF
    return packets


# --------------------------------------------------------------------------- decoder


class GaitmonProfileDecoder:
    """Per-connection decoder of gaitmon-profile data notifications.

    Holds the device's :class:`GaitmonConfig` (read from the Config characteristic; set it with
    :meth:`set_config` or pass the raw bytes to :meth:`set_config_bytes`) and unwraps the
    32-bit µs sensor clock, so ``Packet.t_s`` keeps increasing past the 71.6-minute wrap.
    ``Packet.seq`` is the wire sequence number (use :func:`gaitmon.sensors.base.seq_delta`
    to count lost packets).
    """

    kind = "gaitmon"

    def __init__(self, config: GaitmonConfig | None = None) -> None:
        self.config = config
        self._clock = WrapUnwrapper(1 << 32)

    def set_config(self, config: GaitmonConfig) -> None:
        self.config = config

    def set_config_bytes(self, data: bytes | bytearray | memoryview) -> GaitmonConfig:
        """Decode and adopt a Config characteristic value (raises DecodeError)."""
        self.config = decode_config(data)
        return self.config

    def reset(self) -> None:
        """Forget the clock reference (after a reconnect the device clock may have restarted)."""
        self._clock.reset()

    def decode(self, data: bytes | bytearray | memoryview) -> Packet:
        if self.config is None:
            raise DecodeError("not_configured", "read the Config characteristic first")
        rp = parse_packet(data)
        t_first_us = self._clock.unwrap(rp.t_first_us)
        return _packet_from_raw(rp, self.config, t_first_us * 1e-6)

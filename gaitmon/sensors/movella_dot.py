"""Movella (Xsens) DOT: Measurement Service payloads and commands (pure, no I/O).

Source: *Movella DOT BLE Service Specification*, document XD0506P, revision C (July 2023) — §1.1
base UUID ``1517xxxx-4947-11e9-8646-d663bd873d93``, §1.3 little-endian, §2.2 Device control
characteristic 0x1002 (32 bytes; visit-index bit 4 = output rate, u16 at byte 24; rates 1, 4, 10,
12, 15, 20, 30, 60 Hz streaming), §3.1 Control characteristic 0x2001 (3 bytes: type 1 = measurement,
action 1 start / 0 stop, payload mode), §3.3/3.4 payload characteristics (medium 0x2003, short 0x2004,
long 0x2002), Table 15-17 (payload layouts; timestamp u32 µs on the sensor; acceleration: calibrated,
sensor frame, m/s², float32 x,y,z; angular velocity: sensor frame, **deg/s**, float32; free
acceleration: earth frame with gravity removed), §4.1 battery 0x3001 (level %, charging). Offsets
cross-checked with Xsens' own example server, github.com/xsens/xsens_dot_server (commit 364d521a,
``bleHandler.js``: control ``[0x01, 1|0, mode]`` on 0x2001, medium payload on 0x2003, rate
quantities with mag = acc at byte 4, gyr at 16, mag at 28).

gaitmon streams **Rate quantities** (payload mode 21, 28 bytes: timestamp, acceleration, angular
velocity) or **Custom mode 5** (26, long payload, 44 bytes: timestamp, quaternion, acceleration,
angular velocity). Free acceleration (mode 6) has gravity removed in the earth frame and no angular
velocity, so it cannot feed the gait core: it decodes (``decode_free_acceleration``) but the decoder
refuses it. The Xsens calibrated acceleration is specific force (gravity included, sensor frame).

The u32 µs timestamp wraps every 4294.967296 s: :class:`MovellaDotDecoder` unwraps it within a
connection (the collector's accountant handles wraps across reconnects).
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .base import DecodeError, Packet, WrapUnwrapper

__all__ = [
    "BASE_UUID", "uuid", "CONFIG_SERVICE_UUID", "DEVICE_INFO_UUID", "DEVICE_CONTROL_UUID",
    "MEASUREMENT_SERVICE_UUID", "CONTROL_UUID", "LONG_PAYLOAD_UUID", "MEDIUM_PAYLOAD_UUID",
    "SHORT_PAYLOAD_UUID", "BATTERY_UUID", "MODE_FREE_ACCELERATION", "MODE_RATE_QUANTITIES",
    "MODE_CUSTOM_5", "PAYLOAD_SIZE", "STREAM_RATES", "control_command", "parse_control",
    "set_output_rate_command", "parse_device_control", "decode_battery", "decode_free_acceleration",
    "encode_rate_quantities", "encode_custom_mode_5", "MovellaDotDecoder", "CLOCK_WRAP_S",
]


def uuid(short: int) -> str:
    """Full UUID of a DOT attribute from its 16-bit short form (§1.1)."""
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


BASE_UUID = uuid(0x0000)
CONFIG_SERVICE_UUID = uuid(0x1000)
DEVICE_INFO_UUID = uuid(0x1001)
DEVICE_CONTROL_UUID = uuid(0x1002)
MEASUREMENT_SERVICE_UUID = uuid(0x2000)
CONTROL_UUID = uuid(0x2001)
LONG_PAYLOAD_UUID = uuid(0x2002)
MEDIUM_PAYLOAD_UUID = uuid(0x2003)
SHORT_PAYLOAD_UUID = uuid(0x2004)
BATTERY_UUID = uuid(0x3001)

MODE_FREE_ACCELERATION = 6
MODE_RATE_QUANTITIES = 21
MODE_CUSTOM_5 = 26
#: payload mode -> bytes carried (Tables 14-16)
PAYLOAD_SIZE = {MODE_FREE_ACCELERATION: 16, MODE_RATE_QUANTITIES: 28, MODE_CUSTOM_5: 44}
#: payload mode -> the characteristic that carries it
PAYLOAD_UUID = {MODE_FREE_ACCELERATION: SHORT_PAYLOAD_UUID, MODE_RATE_QUANTITIES: MEDIUM_PAYLOAD_UUID,
                MODE_CUSTOM_5: LONG_PAYLOAD_UUID}
STREAM_RATES = (1, 4, 10, 12, 15, 20, 30, 60)
CLOCK_WRAP_S = float(1 << 32) * 1e-6
_DEG = math.pi / 180.0


# ------------------------------------------------------------------ commands (§2.2, §3.1)
def control_command(start: bool, mode: int) -> bytes:
    """Measurement control write (0x2001): type 1, action start/stop, payload mode."""
    if not 0 <= mode <= 255:
        raise ValueError("payload mode is one byte")
    return bytes([0x01, 0x01 if start else 0x00, mode])


def parse_control(data: bytes) -> tuple[bool, int]:
    """(started, payload mode) from a control characteristic value."""
    b = bytes(data)
    if len(b) != 3:
        raise DecodeError("bad_length", f"control is 3 bytes, got {len(b)}")
    if b[0] != 0x01:
        raise DecodeError("bad_field", f"control type {b[0]} (1 = measurement)")
    if b[1] not in (0, 1):
        raise DecodeError("bad_field", f"control action {b[1]}")
    return b[1] == 1, b[2]


def set_output_rate_command(rate_hz: int) -> bytes:
    """Device control write (0x1002, 32 bytes) that sets only the output rate (visit-index bit 4)."""
    if int(rate_hz) not in STREAM_RATES:
        raise ValueError(f"DOT streaming rates are {STREAM_RATES} Hz, not {rate_hz}")
    b = bytearray(32)
    b[0] = 1 << 4
    struct.pack_into("<H", b, 24, int(rate_hz))
    return bytes(b)


def parse_device_control(data: bytes) -> dict:
    """Output rate (Hz), filter profile index and tag of a device control value (32 bytes)."""
    b = bytes(data)
    if len(b) != 32:
        raise DecodeError("bad_length", f"device control is 32 bytes, got {len(b)}")
    n = min(b[7], 16)
    return {"visit_index": b[0], "output_rate_hz": struct.unpack_from("<H", b, 24)[0],
            "filter_profile": b[26], "tag": b[8:8 + n].decode("utf-8", "replace")}


def decode_battery(data: bytes) -> tuple[int, bool]:
    """(level %, charging) from the battery characteristic 0x3001 (§4.1)."""
    b = bytes(data)
    if len(b) < 2:
        raise DecodeError("truncated", "battery is 2 bytes")
    if b[0] > 100:
        raise DecodeError("bad_field", f"battery level {b[0]} %")
    return b[0], b[1] == 1


# ------------------------------------------------------------------ payloads (Tables 15-17)
def _check(b: bytes, size: int, what: str) -> None:
    if len(b) < size:
        raise DecodeError("truncated", f"{what}: {len(b)} of {size} bytes")


def decode_free_acceleration(data: bytes) -> tuple[int, tuple[float, float, float]]:
    """(timestamp µs, free acceleration m/s² in the earth frame) of a short payload, mode 6."""
    b = bytes(data)
    _check(b, 16, "free acceleration")
    t, x, y, z = struct.unpack_from("<Ifff", b, 0)
    return t, (x, y, z)


def encode_rate_quantities(t_us: int, acc, gyr_dps) -> bytes:
    """A Rate quantities payload (mode 21, 28 bytes) — for virtual sensors and tests."""
    return struct.pack("<I3f3f", int(t_us) & 0xFFFFFFFF, *map(float, acc), *map(float, gyr_dps))


def encode_custom_mode_5(t_us: int, quat, acc, gyr_dps) -> bytes:
    """A Custom mode 5 payload (mode 26, 44 bytes): timestamp, quaternion w,x,y,z, acc, gyr."""
    return struct.pack("<I4f3f3f", int(t_us) & 0xFFFFFFFF, *map(float, quat), *map(float, acc),
                       *map(float, gyr_dps))


class MovellaDotDecoder:
    """Per-connection decoder of DOT measurement notifications in one payload mode.

    ``decode`` takes one notification of the mode's payload characteristic and returns a
    one-sample :class:`Packet` (t_s on the unwrapped sensor clock, acc m/s², gyr rad/s, sensor
    frame; ``saturated`` is unknown in these modes). No sequence numbers: losses show as time gaps.
    """

    kind = "movella_dot"

    def __init__(self, mode: int = MODE_RATE_QUANTITIES) -> None:
        if mode not in (MODE_RATE_QUANTITIES, MODE_CUSTOM_5):
            raise ValueError("gaitmon streams DOT payload mode 21 (rate quantities) or 26 (custom mode 5)")
        self.mode = mode
        self._clock = WrapUnwrapper(1 << 32)

    def reset(self) -> None:
        self._clock = WrapUnwrapper(1 << 32)

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        b = bytes(data)
        size = PAYLOAD_SIZE[self.mode]
        _check(b, size, f"payload mode {self.mode}")
        # the characteristic is fixed-length: trailing bytes must be the specified zero padding
        if len(b) > 63 or any(b[size:]):
            raise DecodeError("bad_length", f"{len(b)} bytes for payload mode {self.mode} ({size})")
        if self.mode == MODE_RATE_QUANTITIES:
            t, ax, ay, az, gx, gy, gz = struct.unpack_from("<I3f3f", b, 0)
        else:
            t, _w, _x, _y, _z, ax, ay, az, gx, gy, gz = struct.unpack_from("<I4f3f3f", b, 0)
        vals = (ax, ay, az, gx, gy, gz)
        if not all(math.isfinite(v) for v in vals):
            raise DecodeError("bad_value", "non-finite acceleration or angular velocity")
        t_s = self._clock.unwrap(t) * 1e-6
        return Packet(kind=self.kind, t_s=np.array([t_s]), acc=np.array([[ax, ay, az]]),
                      gyr=np.array([[gx * _DEG, gy * _DEG, gz * _DEG]]), seq=None)

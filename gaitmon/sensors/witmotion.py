"""WitMotion Bluetooth 5.0 IMUs (WT9011DCL-BT50, BWT901BLE5.0): ``0x55 0x61`` frames (pure, no I/O).

Source: WITMOTION/WitBluetooth_BWT901BLE5_0 (official examples), Android
``wit-example-ble5``: ``BleUUID.java`` (service ``0000ffe5-…-00805f9a34fb``, notify ``ffe4``,
write ``ffe9`` — note WitMotion's base UUID ends in ``9a34fb``), ``Bwt901bleResolver.java``
(20-byte frames ``0x55 0x61`` + nine int16 LE: acc x,y,z, angular velocity x,y,z, angle x,y,z;
``0x55 0x71`` frames answer register reads), ``Bwt901bleProcessor.java`` (scales:
acc = raw / 32768 * 16 g, gyro = raw / 32768 * 2000 °/s, angle = raw / 32768 * 180 °),
``Bwt901ble.java`` / ``DeviceModel.java`` (commands: unlock ``FF AA 69 88 B5``, save
``FF AA 00 00 00``, return rate ``FF AA 03 <code> 00`` with codes 1 Hz=3, 5 Hz=5, 10 Hz=6,
50 Hz=8, 100 Hz=9, 200 Hz=0x0B).

The frames carry **no timestamp and no sequence number**: :class:`WitMotionDecoder` numbers the
samples and times them at the configured output rate (``t = k / rate_hz`` from the first
sample after creation/reset).  Lost notifications are therefore invisible in ``t_s``; prefer
devices with a sensor clock (gaitmon profile, Polar, Movesense) for gait analysis.

Units out: acc m/s² (specific force, sensor frame), gyr rad/s (sensor frame).
"""

from __future__ import annotations

import math

import numpy as np

from .base import STANDARD_GRAVITY, DecodeError, Packet

__all__ = [
    "SERVICE_UUID",
    "NOTIFY_UUID",
    "WRITE_UUID",
    "FRAME_SIZE",
    "RATE_CODES",
    "unlock_command",
    "save_command",
    "set_rate_command",
    "parse_frames",
    "encode_frame",
    "WitMotionDecoder",
]

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

FRAME_SIZE = 20
_HEAD = 0x55
_FLAG_IMU = 0x61
_FLAG_REGISTER = 0x71
#: output rate (Hz) -> register 0x03 code
RATE_CODES = {1: 0x03, 5: 0x05, 10: 0x06, 50: 0x08, 100: 0x09, 200: 0x0B}

_ACC_SCALE = 16.0 * STANDARD_GRAVITY / 32768.0
_GYR_SCALE = 2000.0 * math.pi / 180.0 / 32768.0
_ANGLE_SCALE = 180.0 / 32768.0


def unlock_command() -> bytes:
    """Unlock the registers (needed before a configuration write)."""
    return bytes([0xFF, 0xAA, 0x69, 0x88, 0xB5])


def save_command() -> bytes:
    """Save the configuration to flash."""
    return bytes([0xFF, 0xAA, 0x00, 0x00, 0x00])


def set_rate_command(rate_hz: int) -> bytes:
    """Set the output (notification) rate; ``rate_hz`` in :data:`RATE_CODES`."""
    try:
        code = RATE_CODES[int(rate_hz)]
    except KeyError:
        raise ValueError(f"WitMotion output rate must be one of {sorted(RATE_CODES)} Hz") from None
    return bytes([0xFF, 0xAA, 0x03, code, 0x00])


def parse_frames(data: bytes | bytearray | memoryview) -> tuple[np.ndarray, int]:
    """Split a notification into 20-byte frames -> (raw int16[k, 9] of the ``0x55 0x61``
    frames — acc xyz, gyro xyz, angle xyz counts — and the number of register frames
    ``0x55 0x71`` skipped).  Raises DecodeError for a length that is not a multiple of 20 or
    a frame with another header."""
    b = bytes(data)
    if len(b) == 0:
        raise DecodeError("truncated", "empty notification")
    if len(b) % FRAME_SIZE:
        raise DecodeError("truncated" if len(b) < FRAME_SIZE else "bad_length", f"{len(b)} bytes is not a multiple of {FRAME_SIZE}")
    frames = np.frombuffer(b, dtype=np.uint8).reshape(-1, FRAME_SIZE)
    if np.any(frames[:, 0] != _HEAD):
        raise DecodeError("unknown_frame_type", "frame does not start with 0x55")
    flags = frames[:, 1]
    if np.any((flags != _FLAG_IMU) & (flags != _FLAG_REGISTER)):
        bad = int(flags[(flags != _FLAG_IMU) & (flags != _FLAG_REGISTER)][0])
        raise DecodeError("unknown_frame_type", f"frame flag 0x{bad:02x}")
    imu = frames[flags == _FLAG_IMU]
    raw = np.ascontiguousarray(imu[:, 2:20]).view("<i2").reshape(-1, 9).astype(np.int16)
    return raw, int(np.count_nonzero(flags == _FLAG_REGISTER))


def encode_frame(acc_ms2, gyr_rads, angle_deg=(0.0, 0.0, 0.0)) -> bytes:
    """Device side: one ``0x55 0x61`` frame from acc (m/s², 3) and gyro (rad/s, 3) and the
    device's Euler angles (°, 3); values are clipped to the ±16 g / ±2000 °/s ranges."""
    vals = np.concatenate(
        [
            np.asarray(acc_ms2, dtype=np.float64) / _ACC_SCALE,
            np.asarray(gyr_rads, dtype=np.float64) / _GYR_SCALE,
            np.asarray(angle_deg, dtype=np.float64) / _ANGLE_SCALE,
        ]
    )
    if vals.shape != (9,) or not np.all(np.isfinite(vals)):
        raise ValueError("acc, gyr and angle must be 3 finite values each")
    raw = np.clip(np.rint(vals), -32768, 32767).astype("<i2")
    return bytes([_HEAD, _FLAG_IMU]) + raw.tobytes()


class WitMotionDecoder:
    """Per-connection decoder; times samples by count at ``rate_hz`` (no sensor clock)."""

    kind = "witmotion"

    def __init__(self, rate_hz: float = 200.0) -> None:
        if not rate_hz > 0:
            raise ValueError("rate_hz must be > 0")
        self.rate_hz = float(rate_hz)
        self._count = 0
        self.register_frames = 0

    def reset(self) -> None:
        self._count = 0

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        raw, nreg = parse_frames(data)
        self.register_frames += nreg
        n = raw.shape[0]
        if n == 0:
            return None
        r = raw.astype(np.float64)
        t = (self._count + np.arange(n, dtype=np.float64)) / self.rate_hz
        self._count += n
        sat = np.any((raw[:, :6] == -32768) | (raw[:, :6] == 32767), axis=1)
        return Packet(kind="witmotion", t_s=t, acc=r[:, :3] * _ACC_SCALE, gyr=r[:, 3:6] * _GYR_SCALE, saturated=sat)

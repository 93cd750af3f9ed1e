"""MbientLab MetaWear (MetaMotion R/RL/C with a Bosch BMI160 or BMI270): GATT command protocol (pure).

Source: github.com/mbientlab/MetaWear-SDK-Cpp, commit f67699e5c7eb64401a68157f553f9585e3857a6a —
``src/metawear/impl/cpp/metawearboard.cpp`` (service ``326a9000-85cb-9195-d9dd-464cfbbae75a``,
command characteristic ``…9001`` written, notifications on ``…9006``), ``…/sensor/cpp/
accelerometer_bosch_register.h`` / ``gyro_bosch_register.h`` (register numbers),
``accelerometer_bosch.cpp`` (``BMI160_FSR_SCALE``: range code 0x3/0x5/0x8/0xc = ±2/4/8/16 g at
16384/8192/4096/2048 LSB/g; BMI270 codes 0-3), ``gyro_bosch.cpp`` (``FSR_SCALE``: range code 0-4 =
±2000/1000/500/250/125 °/s at 16.4/32.8/65.6/131.2/262.4 LSB/(°/s)), ``gyro_bosch.h`` (ODR codes
25 Hz = 6 … 3200 Hz = 13), and the SDK's own tests ``test/test_accelerometer_bmi160.py``,
``test_accelerometer_bmi270.py``, ``test_gyro_bmi160.py`` (the command and data vectors gaitmon's
tests use).

Every message is ``[module id, register, payload…]``: accelerometer module 0x03, gyroscope 0x13.

* configure: acc ``03 03 <0x20|odr> <range code>`` (BMI160; BMI270 ``03 03 <0xa0|odr> <code>``),
  gyro ``13 03 <0x20|odr> <range code>``;
* start: subscribe to data (``03 04 01`` / ``13 05 01``; packed: ``03 1c 01`` BMI160,
  ``03 05 01`` BMI270, ``13 07 01``), enable sampling (``03 02 01 00`` / ``13 02 01 00``), power on
  (``03 01 01`` / ``13 01 01``); stop in reverse with 0 / ``00 01``;
* data: int16 LE x, y, z per sample (one sample, or three in the packed registers), in LSB of the
  configured range.

The streams carry **no timestamp and no counter**: :class:`MetaWearDecoder` pairs the n-th
accelerometer sample with the n-th gyroscope sample (both run at the same output rate) and times
them ``t = n / rate_hz``. A lost notification is therefore invisible in the times (and would shift
the pairing by its samples): a link loss restarts the count; prefer sensors with a clock when
losses matter.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .base import STANDARD_GRAVITY, DecodeError, Packet

__all__ = [
    "SERVICE_UUID", "COMMAND_UUID", "NOTIFY_UUID", "ACC_MODULE", "GYRO_MODULE", "ODR_CODES",
    "ACC_RANGE_BMI160", "ACC_RANGE_BMI270", "GYRO_RANGE", "acc_config", "gyro_config",
    "start_commands", "stop_commands", "parse_command", "encode_data", "MetaWearDecoder",
]

SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"

ACC_MODULE = 0x03
GYRO_MODULE = 0x13
# registers
R_POWER = 0x01
R_INT_ENABLE = 0x02
R_CONFIG = 0x03
ACC_DATA = 0x04
ACC_PACKED = {"bmi160": 0x1C, "bmi270": 0x05}
GYRO_DATA = 0x05
GYRO_PACKED = 0x07

#: output rate (Hz) -> Bosch ODR code (gyro_bosch.h; the accelerometer uses the same codes >= 12.5 Hz)
ODR_CODES = {25: 6, 50: 7, 100: 8, 200: 9, 400: 10, 800: 11, 1600: 12}
#: ±g -> (range code, LSB per g)
ACC_RANGE_BMI160 = {2: (0x3, 16384.0), 4: (0x5, 8192.0), 8: (0x8, 4096.0), 16: (0xC, 2048.0)}
ACC_RANGE_BMI270 = {2: (0x0, 16384.0), 4: (0x1, 8192.0), 8: (0x2, 4096.0), 16: (0x3, 2048.0)}
#: ±°/s -> (range code, LSB per °/s)
GYRO_RANGE = {2000: (0, 16.4), 1000: (1, 32.8), 500: (2, 65.6), 250: (3, 131.2), 125: (4, 262.4)}


def _odr(rate_hz: int) -> int:
    try:
        return ODR_CODES[int(rate_hz)]
    except KeyError:
        raise ValueError(f"MetaWear rates are {sorted(ODR_CODES)} Hz, not {rate_hz}") from None


def _acc_ranges(chip: str) -> dict:
    if chip not in ("bmi160", "bmi270"):
        raise ValueError("chip must be bmi160 or bmi270")
    return ACC_RANGE_BMI160 if chip == "bmi160" else ACC_RANGE_BMI270


def acc_config(rate_hz: int, range_g: int, chip: str = "bmi160") -> bytes:
    """Accelerometer configuration write (normal filter mode: bandwidth bits 0x20; BMI270: 0xa0)."""
    code = _acc_ranges(chip)[int(range_g)][0]
    return bytes([ACC_MODULE, R_CONFIG, (0x20 if chip == "bmi160" else 0xA0) | _odr(rate_hz), code])


def gyro_config(rate_hz: int, range_dps: int) -> bytes:
    """Gyroscope (BMI160) configuration write."""
    return bytes([GYRO_MODULE, R_CONFIG, 0x20 | _odr(rate_hz), GYRO_RANGE[int(range_dps)][0]])


def start_commands(chip: str = "bmi160", packed: bool = True) -> list[bytes]:
    """Subscribe, enable sampling, power on — accelerometer then gyroscope (the SDK's order)."""
    acc_reg = ACC_PACKED[chip] if packed else ACC_DATA
    gyr_reg = GYRO_PACKED if packed else GYRO_DATA
    return [bytes([ACC_MODULE, acc_reg, 1]), bytes([GYRO_MODULE, gyr_reg, 1]),
            bytes([ACC_MODULE, R_INT_ENABLE, 1, 0]), bytes([GYRO_MODULE, R_INT_ENABLE, 1, 0]),
            bytes([ACC_MODULE, R_POWER, 1]), bytes([GYRO_MODULE, R_POWER, 1])]


def stop_commands(chip: str = "bmi160", packed: bool = True) -> list[bytes]:
    acc_reg = ACC_PACKED[chip] if packed else ACC_DATA
    gyr_reg = GYRO_PACKED if packed else GYRO_DATA
    return [bytes([ACC_MODULE, R_POWER, 0]), bytes([GYRO_MODULE, R_POWER, 0]),
            bytes([ACC_MODULE, R_INT_ENABLE, 0, 1]), bytes([GYRO_MODULE, R_INT_ENABLE, 0, 1]),
            bytes([ACC_MODULE, acc_reg, 0]), bytes([GYRO_MODULE, gyr_reg, 0])]


def parse_command(data: bytes) -> tuple[int, int, bytes]:
    """(module, register, payload) of a command write."""
    b = bytes(data)
    if len(b) < 2:
        raise DecodeError("truncated", "a command has a module and a register byte")
    return b[0], b[1], b[2:]


def encode_data(module: int, register: int, raw) -> bytes:
    """A data notification from int16 samples ``raw`` (n,3) — for virtual sensors and tests."""
    a = np.asarray(raw, dtype=np.int64).reshape(-1, 3)
    if a.min(initial=0) < -32768 or a.max(initial=0) > 32767:
        raise ValueError("samples must fit int16")
    return bytes([module, register]) + struct.pack(f"<{a.size}h", *a.ravel().tolist())


class MetaWearDecoder:
    """Per-connection decoder of MetaWear accelerometer + gyroscope notifications.

    Args: rate_hz (both sensors' output rate), acc_range_g, gyro_range_dps, chip
    (``bmi160``/``bmi270``). ``decode`` returns the acc+gyr pairs completed by a notification
    (t_s = n / rate_hz, acc m/s², gyr rad/s, sensor frame), None when one stream is ahead.
    ``saturated`` marks samples at the int16 limits.
    """

    kind = "metawear"

    def __init__(self, rate_hz: float, *, acc_range_g: int = 16, gyro_range_dps: int = 2000,
                 chip: str = "bmi160") -> None:
        if not rate_hz > 0:
            raise ValueError("rate_hz must be > 0")
        self.rate_hz = float(rate_hz)
        self.chip = chip
        self._acc_scale = STANDARD_GRAVITY / _acc_ranges(chip)[int(acc_range_g)][1]
        self._gyr_scale = math.pi / 180.0 / GYRO_RANGE[int(gyro_range_dps)][1]
        self._acc_regs = {ACC_DATA, ACC_PACKED[chip]}
        self._gyr_regs = {GYRO_DATA, GYRO_PACKED}
        self.reset()

    def reset(self) -> None:
        self._acc: list[np.ndarray] = []
        self._gyr: list[np.ndarray] = []
        self._n = 0  # pairs emitted

    def _samples(self, b: bytes) -> np.ndarray:
        body = b[2:]
        if len(body) == 0 or len(body) % 6:
            raise DecodeError("bad_length", f"{len(body)} data bytes (6 per sample)")
        if len(body) > 18:
            raise DecodeError("bad_length", f"{len(body)} data bytes (at most 3 samples)")
        return np.frombuffer(body, dtype="<i2").reshape(-1, 3).astype(np.int64)

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        b = bytes(data)
        if len(b) < 2:
            raise DecodeError("truncated", "shorter than module + register")
        mod, reg = b[0], b[1]
        if mod == ACC_MODULE and reg in self._acc_regs:
            self._acc.extend(self._samples(b))
        elif mod == GYRO_MODULE and reg in self._gyr_regs:
            self._gyr.extend(self._samples(b))
        else:
            raise DecodeError("unknown_frame_type", f"module 0x{mod:02x} register 0x{reg:02x}")
        n = min(len(self._acc), len(self._gyr))
        if n == 0:
            return None
        a = np.array(self._acc[:n])
        g = np.array(self._gyr[:n])
        del self._acc[:n], self._gyr[:n]
        t = (self._n + np.arange(n)) / self.rate_hz
        self._n += n
        sat = np.any((np.abs(a) >= 32767) | (np.abs(g) >= 32767), axis=1) | np.any((a == -32768) | (g == -32768), axis=1)
        return Packet(kind=self.kind, t_s=t, acc=a * self._acc_scale, gyr=g * self._gyr_scale, seq=None,
                      saturated=sat)

"""Polar Measurement Data (PMD) service: ACC and GYRO streams of Polar Verity Sense, OH1, H10.

Pure bytes <-> arrays, no I/O.  The layouts follow the Polar BLE SDK
(github.com/polarofficial/polar-ble-sdk), Android sources under
``sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``: ``BlePMDClient.kt`` (UUIDs, control point exchange,
``parseDeltaFramesAll`` / ``parseDeltaFrame`` / ``parseDeltaFrameRefSamples``),
``PmdControlPointCommand.kt``, ``PmdControlPointResponse.kt``, ``PmdSetting.kt``,
``PmdMeasurementType.kt``, ``PmdDataFrame.kt``, ``model/AccData.kt``, ``model/GyrData.kt``,
``model/PmdTimeStampUtils.kt``; and Polar's "Polar Measurement Data" document
(``technical_documentation/online_measurement.pdf``, v1.0 Aug 2024).

Control point (``FB005C81-…``, write + notify/indicate):
  request   ``[op, measurement_type, settings…]``; start = op 2, stop = op 3, get settings = op 1.
  settings  repeated ``[setting_type, count, value (LE, size by type)…]``:
            0 sample rate u16 Hz, 1 resolution u16 bits, 2 range u16 (±g / ±°/s),
            3 range in milli-units u32, 4 channels u8, 5 factor float32 (IEEE 754), 6 security.
  response  ``[0xF0, op, measurement_type, status, more, parameters…]``; status 0 = success.
  A successful start may return the conversion FACTOR (setting 5) that scales the samples.

Data (``FB005C82-…``, notify): ``[measurement_type, u64 timestamp_ns, frame_type, content…]``
  timestamp: ns since 2000-01-01T00:00Z of the LAST sample in the frame;
  frame_type: bit7 = delta-compressed, bits0-6 = type.
  ACC  raw type 0/1/2 = int8/int16/int24 x,y,z in mG;  compressed type 1 = int16 deltas
       (x factor -> mG), compressed type 0 = int16 deltas in G units (x factor x 1000 -> mG).
  GYRO compressed type 0 = int16 deltas (x factor -> °/s); compressed type 1 = float32
       bit patterns delta coded (x factor -> °/s).  (The SDK has no raw gyro frame.)
  Compressed content: reference sample (channels x ceil(resolution/8) bytes, LE, signed),
  then blocks ``[delta_bit_width u8, sample_count u8, bit-packed deltas]``; deltas are
  ``sample_count x channels`` little-endian bit fields of ``delta_bit_width`` bits
  (two's complement), each added to the previous sample.

Per-sample times are back-computed as the SDK does (``PmdTimeStampUtils.getTimeStamps``): with
a previous frame of the same type, the ``n`` samples are spread evenly over
``(prev_ts, ts]``; for the first frame, ``1e9 / sample_rate`` ns apart ending at ``ts``.
Deliberate differences to the SDK, both on inputs the SDK mis-decodes:
* a 1-bit delta is decoded as two's complement (0 or -1); the SDK's sign mask turns a 1 into
  2**31 - 1;
* a delta block of bit width 0 with samples, or wider than 32 bits, is rejected
  (``bad_compression``) instead of silently dropping its samples;
* gap guard (on by default, needs the sample rate): if the previous-frame spacing is off the
  nominal ``1/sample_rate`` by more than 25 % (a notification was lost), the frame's samples
  are timed from the sample rate instead of being smeared over the gap.

Units out: ACC mG -> m/s² (specific force, x 9.80665e-3), GYRO °/s -> rad/s; sensor frame;
``t_s`` = device time in s since 2000-01-01 (float64: steps of ~0.1 µs at today's values).

:class:`PolarPmdDecoder` returns ACC and GYRO packets separately; :class:`PolarImuDecoder`
pairs them (gyro interpolated to the ACC sample times) into packets carrying both.
"""

from __future__ import annotations

import logging
import math
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Mapping, Sequence

import numpy as np

from .base import STANDARD_GRAVITY, DecodeError, Packet, regular_chunks

log = logging.getLogger("gaitmon.sensors.polar_pmd")

__all__ = [
    "PMD_SERVICE_UUID",
    "PMD_CP_UUID",
    "PMD_DATA_UUID",
    "MeasurementType",
    "ControlPointOp",
    "SettingType",
    "ResponseCode",
    "ControlPointResponse",
    "MeasurementStopped",
    "PmdControlPointError",
    "PmdFrame",
    "get_settings_command",
    "start_measurement_command",
    "stop_measurement_command",
    "encode_settings",
    "parse_settings",
    "settings_factor",
    "parse_control_point",
    "parse_features",
    "encode_features",
    "encode_control_point_response",
    "parse_frame",
    "decode_delta_frames",
    "encode_delta_frames",
    "sample_times_ns",
    "frame_samples",
    "encode_frame",
    "encode_acc_frame",
    "encode_gyro_frame",
    "packetize",
    "PolarPmdDecoder",
    "PolarImuDecoder",
    "POLAR_EPOCH_UNIX_NS",
]

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CP_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

#: Polar device time counts ns since 2000-01-01T00:00:00Z; add this to get Unix ns.
POLAR_EPOCH_UNIX_NS = 946_684_800_000_000_000

_MG_TO_MS2 = STANDARD_GRAVITY * 1e-3
_DEG_TO_RAD = math.pi / 180.0


class MeasurementType(IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAGNETOMETER = 6
    SKIN_TEMP = 7
    SDK_MODE = 9
    LOCATION = 10
    PRESSURE = 11
    TEMPERATURE = 12
    OFFLINE_RECORDING = 13
    OFFLINE_HR = 14


class ControlPointOp(IntEnum):
    GET_MEASUREMENT_SETTINGS = 1
    REQUEST_MEASUREMENT_START = 2
    STOP_MEASUREMENT = 3
    GET_SDK_MODE_MEASUREMENT_SETTINGS = 4
    GET_MEASUREMENT_STATUS = 5
    GET_SDK_MODE_STATUS = 6
    GET_OFFLINE_RECORDING_TRIGGER_STATUS = 7
    SET_OFFLINE_RECORDING_TRIGGER_MODE = 8
    SET_OFFLINE_RECORDING_TRIGGER_SETTINGS = 9


class SettingType(IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5
    SECURITY = 6


_SETTING_SIZE = {
    SettingType.SAMPLE_RATE: 2,
    SettingType.RESOLUTION: 2,
    SettingType.RANGE: 2,
    SettingType.RANGE_MILLIUNIT: 4,
    SettingType.CHANNELS: 1,
    SettingType.FACTOR: 4,
    SettingType.SECURITY: 16,
}


class ResponseCode(IntEnum):
    SUCCESS = 0
    ERROR_INVALID_OP_CODE = 1
    ERROR_INVALID_MEASUREMENT_TYPE = 2
    ERROR_NOT_SUPPORTED = 3
    ERROR_INVALID_LENGTH = 4
    ERROR_INVALID_PARAMETER = 5
    ERROR_ALREADY_IN_STATE = 6
    ERROR_INVALID_RESOLUTION = 7
    ERROR_INVALID_SAMPLE_RATE = 8
    ERROR_INVALID_RANGE = 9
    ERROR_INVALID_MTU = 10
    ERROR_INVALID_NUMBER_OF_CHANNELS = 11
    ERROR_INVALID_STATE = 12
    ERROR_DEVICE_IN_CHARGER = 13
    ERROR_DISK_FULL = 14


CONTROL_POINT_RESPONSE_CODE = 0xF0
_CP_MEASUREMENT_STOPPED = 0x01  # PmdControlPointCommandServiceToClient.ONLINE_MEASUREMENT_STOPPED
_MEASUREMENT_TYPE_MASK = 0x3F
_DELTA_FRAME_BIT = 0x80


def _measurement_type(value: int) -> MeasurementType:
    try:
        return MeasurementType(value)
    except ValueError:
        raise ValueError(f"unknown PMD measurement type {value}") from None


# --------------------------------------------------------------------------- settings


def encode_settings(settings: Mapping[SettingType | int, int]) -> bytes:
    """Serialize selected settings ``{SettingType: value}`` as the SDK's
    ``PmdSetting.serializeSelected`` does: ``[type, 1, value LE]`` per entry, in the mapping's
    order; FACTOR is never sent by the client and is skipped."""
    out = bytearray()
    for key, value in settings.items():
        st = SettingType(int(key))
        if st is SettingType.FACTOR:
            continue
        size = _SETTING_SIZE[st]
        v = int(value)
        if size <= 2 and not 0 <= v < (1 << (8 * size)):
            raise ValueError(f"{st.name} value {v} does not fit {size} bytes")
        out += bytes([st, 1]) + (v & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return bytes(out)


def parse_settings(data: bytes | bytearray | memoryview) -> dict[SettingType, tuple[int, ...]]:
    """Parse a settings list (a GET_MEASUREMENT_SETTINGS response's parameters, or the
    parameters of a start response) -> ``{SettingType: (values…)}``.

    Values are little-endian signed integers of the type's size (as the SDK reads them);
    use :func:`settings_factor` for the FACTOR float.  Raises DecodeError when malformed.
    """
    b = bytes(data)
    out: dict[SettingType, tuple[int, ...]] = {}
    if len(b) <= 1:  # the SDK treats 0..1 bytes as "no settings"
        return out
    off = 0
    while off < len(b):
        if off + 2 > len(b):
            raise DecodeError("truncated", f"setting header at offset {off} cut off")
        try:
            st = SettingType(b[off])
        except ValueError:
            raise DecodeError("bad_field", f"unknown PMD setting type {b[off]}") from None
        count = b[off + 1]
        off += 2
        size = _SETTING_SIZE[st]
        if off + count * size > len(b):
            raise DecodeError("truncated", f"{st.name} announces {count} values, data ends")
        vals = tuple(int.from_bytes(b[off + i * size : off + (i + 1) * size], "little", signed=True) for i in range(count))
        off += count * size
        out[st] = vals
    return out


def settings_factor(settings: Mapping[SettingType, Sequence[int]]) -> float | None:
    """The conversion FACTOR (float32) in parsed settings, or None if absent."""
    vals = settings.get(SettingType.FACTOR)
    if not vals:
        return None
    return struct.unpack("<f", (int(vals[0]) & 0xFFFFFFFF).to_bytes(4, "little"))[0]


# --------------------------------------------------------------------------- control point


def get_settings_command(measurement_type: MeasurementType | int) -> bytes:
    """Control point write that asks for the available settings of a measurement."""
    return bytes([ControlPointOp.GET_MEASUREMENT_SETTINGS, int(_measurement_type(int(measurement_type)))])


def start_measurement_command(
    measurement_type: MeasurementType | int,
    *,
    sample_rate: int,
    resolution: int = 16,
    range_: int | None = None,
    channels: int | None = None,
) -> bytes:
    """Control point write that starts an online ACC / GYRO (…) stream.

    sample_rate in Hz, resolution in bits, range_ in ±g (ACC) or ±°/s (GYRO).  Example
    (Polar H10, ACC 200 Hz, 16 bit, ±8 g): ``02 02 00 01 c8 00 01 01 10 00 02 01 08 00``.
    """
    mt = _measurement_type(int(measurement_type))
    settings: dict[SettingType, int] = {SettingType.SAMPLE_RATE: sample_rate, SettingType.RESOLUTION: resolution}
    if range_ is not None:
        settings[SettingType.RANGE] = range_
    if channels is not None:
        settings[SettingType.CHANNELS] = channels
    # first byte: recording type (online = 0) << 7 | measurement type
    return bytes([ControlPointOp.REQUEST_MEASUREMENT_START, int(mt)]) + encode_settings(settings)


def stop_measurement_command(measurement_type: MeasurementType | int) -> bytes:
    """Control point write that stops a stream."""
    return bytes([ControlPointOp.STOP_MEASUREMENT, int(_measurement_type(int(measurement_type)))])


class PmdControlPointError(RuntimeError):
    """The device refused a control point request (status != SUCCESS)."""

    def __init__(self, response: "ControlPointResponse") -> None:
        self.response = response
        op = response.op.name if isinstance(response.op, ControlPointOp) else str(response.op)
        mt = response.measurement_type
        mts = mt.name if isinstance(mt, MeasurementType) else str(mt)
        st = response.status.name if isinstance(response.status, ResponseCode) else f"status {response.status}"
        super().__init__(f"Polar PMD {op} for {mts} refused: {st} ({int(response.status)})")


@dataclass(frozen=True)
class ControlPointResponse:
    """Answer to a control point request: ``[0xF0, op, measurement_type, status, more, params…]``."""

    op: ControlPointOp | int
    measurement_type: MeasurementType | int
    status: ResponseCode | int
    more: bool = False
    parameters: bytes = b""

    @property
    def ok(self) -> bool:
        return int(self.status) == ResponseCode.SUCCESS

    def raise_for_status(self) -> "ControlPointResponse":
        """Raise :class:`PmdControlPointError` if the device refused the request."""
        if not self.ok:
            raise PmdControlPointError(self)
        return self

    def settings(self) -> dict[SettingType, tuple[int, ...]]:
        """The parameters parsed as a settings list (see :func:`parse_settings`)."""
        return parse_settings(self.parameters)


@dataclass(frozen=True)
class MeasurementStopped:
    """The device stopped streams on its own (control point notification ``01 types…``)."""

    measurement_types: tuple[MeasurementType | int, ...]


def _maybe_enum(enum_cls, value: int):
    try:
        return enum_cls(value)
    except ValueError:
        return value


def parse_control_point(data: bytes | bytearray | memoryview) -> ControlPointResponse | MeasurementStopped:
    """Parse a control point notification/indication.  Raises DecodeError when malformed.

    A response with an error status is returned (check ``.ok`` / ``.raise_for_status()``),
    not raised: it is a valid answer.
    """
    b = bytes(data)
    if not b:
        raise DecodeError("truncated", "empty control point message")
    if b[0] == _CP_MEASUREMENT_STOPPED:
        return MeasurementStopped(tuple(_maybe_enum(MeasurementType, x & _MEASUREMENT_TYPE_MASK) for x in b[1:]))
    if b[0] != CONTROL_POINT_RESPONSE_CODE:
        raise DecodeError("unknown_frame_type", f"control point message type 0x{b[0]:02x}")
    if len(b) < 4:
        raise DecodeError("truncated", f"control point response needs >= 4 bytes, got {len(b)}")
    try:
        op = ControlPointOp(b[1])
    except ValueError:
        raise DecodeError("bad_field", f"unknown control point op code {b[1]}") from None
    try:
        status = ResponseCode(b[3])
    except ValueError:
        raise DecodeError("bad_field", f"unknown control point status {b[3]}") from None
    mt = _maybe_enum(MeasurementType, b[2] & _MEASUREMENT_TYPE_MASK)
    if status is ResponseCode.SUCCESS:
        more = len(b) > 4 and b[4] != 0
        params = b[5:] if len(b) > 5 else b""
    else:
        more, params = False, b""
    return ControlPointResponse(op=op, measurement_type=mt, status=status, more=more, parameters=params)


def encode_control_point_response(
    op: ControlPointOp | int,
    measurement_type: MeasurementType | int,
    status: ResponseCode | int = ResponseCode.SUCCESS,
    parameters: bytes = b"",
    more: bool = False,
) -> bytes:
    """What a Polar device answers on the control point (for a virtual Polar sensor)."""
    return bytes([CONTROL_POINT_RESPONSE_CODE, int(op), int(measurement_type), int(status), 1 if more else 0]) + bytes(
        parameters
    )


_FEATURE_BITS = {
    MeasurementType.ECG: (1, 0x01),
    MeasurementType.PPG: (1, 0x02),
    MeasurementType.ACC: (1, 0x04),
    MeasurementType.PPI: (1, 0x08),
    MeasurementType.GYRO: (1, 0x20),
    MeasurementType.MAGNETOMETER: (1, 0x40),
    MeasurementType.SKIN_TEMP: (1, 0x80),
    MeasurementType.SDK_MODE: (2, 0x02),
    MeasurementType.LOCATION: (2, 0x04),
    MeasurementType.PRESSURE: (2, 0x08),
    MeasurementType.TEMPERATURE: (2, 0x10),
    MeasurementType.OFFLINE_RECORDING: (2, 0x20),
    MeasurementType.OFFLINE_HR: (2, 0x40),
}


def parse_features(data: bytes | bytearray | memoryview) -> set[MeasurementType]:
    """The control point's READ value (feature bits) -> the measurement types supported."""
    b = bytes(data)
    if len(b) < 3:
        raise DecodeError("truncated", f"PMD feature read needs >= 3 bytes, got {len(b)}")
    if b[0] != 0x0F:
        raise DecodeError("unknown_frame_type", f"PMD feature read starts with 0x{b[0]:02x}, expected 0x0f")
    return {mt for mt, (i, bit) in _FEATURE_BITS.items() if b[i] & bit}


def encode_features(types) -> bytes:
    """Feature bits a device returns when its control point is read."""
    b = bytearray([0x0F, 0, 0])
    for mt in types:
        i, bit = _FEATURE_BITS[MeasurementType(int(mt))]
        b[i] |= bit
    return bytes(b)


# --------------------------------------------------------------------------- data frames


@dataclass(frozen=True)
class PmdFrame:
    """Header fields of a PMD data notification plus its undecoded content."""

    measurement_type: MeasurementType | int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    content: bytes


def parse_frame(data: bytes | bytearray | memoryview) -> PmdFrame:
    """Split a PMD data notification into header fields and content (raises DecodeError)."""
    b = bytes(data)
    if len(b) < 10:
        raise DecodeError("truncated", f"PMD frame header is 10 bytes, got {len(b)}")
    mt = _maybe_enum(MeasurementType, b[0] & _MEASUREMENT_TYPE_MASK)
    ts = int.from_bytes(b[1:9], "little")
    ft = b[9]
    return PmdFrame(
        measurement_type=mt,
        timestamp_ns=ts,
        frame_type=ft & 0x7F,
        compressed=bool(ft & _DELTA_FRAME_BIT),
        content=b[10:],
    )


def _ref_size(channels: int, resolution: int) -> int:
    return channels * int(math.ceil(resolution / 8.0))


def decode_delta_frames(
    content: bytes | bytearray | memoryview, channels: int, resolution: int, *, signed: bool = True
) -> np.ndarray:
    """Decode delta-compressed PMD content into integer samples, int64[n, channels].

    ``signed=True`` is the SDK's SIGNED_INT encoding (reference sample sign-extended from bit
    ``resolution-1``); ``signed=False`` its FLOAT_IEEE754 encoding, where the values are 32-bit
    patterns summed modulo 2**32 (returned as uint32 values in int64; view as float32).
    Raises DecodeError("truncated" / "bad_compression").
    """
    b = bytes(content)
    nbytes = int(math.ceil(resolution / 8.0))
    ref_len = channels * nbytes
    if len(b) < ref_len:
        raise DecodeError("truncated", f"reference sample needs {ref_len} bytes, got {len(b)}")
    ref = []
    for c in range(channels):
        chunk = b[c * nbytes : (c + 1) * nbytes]
        if signed:
            v = int.from_bytes(chunk, "little", signed=True)
            mask = -1 << (resolution - 1)
            if v & mask:
                v |= mask
        else:
            v = int.from_bytes(chunk, "little", signed=False)
        ref.append(v)
    blocks = [np.asarray([ref], dtype=np.int64)]
    off = ref_len
    while off < len(b):
        if off + 2 > len(b):
            raise DecodeError("truncated", f"delta block header at offset {off} cut off")
        width, count = b[off], b[off + 1]
        off += 2
        if count == 0:
            continue
        if width == 0 or width > 32:
            raise DecodeError("bad_compression", f"delta bit width {width} with {count} samples")
        nbits = width * count * channels
        length = (nbits + 7) // 8
        if off + length > len(b):
            raise DecodeError("truncated", f"delta block of {count} samples x {width} bits needs {length} bytes")
        bits = np.unpackbits(np.frombuffer(b, dtype=np.uint8, count=length, offset=off), bitorder="little")[:nbits]
        fields = bits.reshape(count * channels, width).astype(np.int64)
        vals = fields @ (np.int64(1) << np.arange(width, dtype=np.int64))
        vals = np.where(vals >= (np.int64(1) << (width - 1)), vals - (np.int64(1) << width), vals)
        blocks.append(vals.reshape(count, channels))
        off += length
    deltas = np.concatenate(blocks, axis=0)
    samples = np.cumsum(deltas, axis=0)
    if signed:
        if samples.min() < -(1 << 31) or samples.max() >= (1 << 31):
            raise DecodeError("bad_compression", "delta sums leave the 32-bit range")
    else:
        samples = samples % (1 << 32)
    return samples


def encode_delta_frames(samples, resolution: int, *, signed: bool = True, max_block: int = 255) -> bytes:
    """Delta-compress integer samples int[n, channels] as a Polar device does (inverse of
    :func:`decode_delta_frames`): the first row is the reference sample, then blocks of up
    to ``max_block`` samples, each with the smallest two's-complement bit width (>= 2, so
    the SDK's 1-bit quirk never matters) that holds its deltas.  ``signed=False`` encodes
    32-bit patterns (float32 bits) with deltas taken modulo 2**32."""
    s = np.asarray(samples, dtype=np.int64)
    if s.ndim != 2 or s.shape[0] < 1:
        raise ValueError("samples must have shape (n >= 1, channels)")
    channels = s.shape[1]
    nbytes = int(math.ceil(resolution / 8.0))
    out = bytearray()
    for v in s[0]:
        v = int(v)
        if signed:
            if not -(1 << (resolution - 1)) <= v < (1 << (resolution - 1)):
                raise ValueError(f"reference value {v} does not fit {resolution} bits")
            out += (v & ((1 << (8 * nbytes)) - 1)).to_bytes(nbytes, "little")
        else:
            out += (v % (1 << (8 * nbytes))).to_bytes(nbytes, "little")
    d = np.diff(s, axis=0)
    if not signed:
        d = ((d + (1 << 31)) % (1 << 32)) - (1 << 31)  # shortest signed 32-bit step
    for start in range(0, d.shape[0], max_block):
        blk = d[start : start + max_block]
        m = int(max(int(blk.max()), -int(blk.min()) - 1, 0))
        width = max(2, m.bit_length() + 1)
        if width > 32:
            raise ValueError("delta does not fit 32 bits")
        flat = (blk.reshape(-1) & ((np.int64(1) << width) - 1)).astype(np.int64)
        bits = ((flat[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, blk.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return bytes(out)


def sample_times_ns(previous_ns: int, frame_ns: int, n: int, sample_rate: int) -> np.ndarray:
    """Per-sample timestamps (ns, int64[n]) exactly as the SDK's
    ``PmdTimeStampUtils.getTimeStamps``: the last equals ``frame_ns``; with
    ``previous_ns != 0`` the samples are spaced ``(frame_ns - previous_ns) / n`` starting one
    step after ``previous_ns``, otherwise ``1e9 / sample_rate`` apart (rounded half to even).
    Raises DecodeError("bad_timestamp") where the SDK throws ("not_configured" when there is
    neither a previous frame nor a sample rate)."""
    if n <= 0:
        raise DecodeError("bad_length", "frame has no samples")
    if not 0 <= frame_ns < (1 << 63):
        raise DecodeError("bad_timestamp", f"frame timestamp {frame_ns} beyond int64")
    if previous_ns == 0:
        if sample_rate <= 0:
            raise DecodeError("not_configured", "no previous frame and no sample rate: cannot time samples")
        delta = (1.0 / float(sample_rate)) * 1000 * 1000 * 1000
    else:
        if frame_ns <= previous_ns:
            raise DecodeError("bad_timestamp", f"frame timestamp {frame_ns} not after previous {previous_ns}")
        delta = float(frame_ns - previous_ns) / float(n)
    if float(frame_ns) < delta * n:
        raise DecodeError("bad_timestamp", f"timestamps would be negative (ts {frame_ns}, delta {delta}, n {n})")
    if previous_ns == 0:
        start = float(frame_ns) - delta * (n - 1)
        if not start > 0:
            raise DecodeError("bad_timestamp", f"first sample time would be <= 0 (ts {frame_ns})")
    else:
        start = float(previous_ns) + delta
    first = np.round(start + delta * np.arange(n - 1, dtype=np.float64))
    if first.size and first.max() >= 2.0**63:
        raise DecodeError("bad_timestamp", "sample timestamp beyond int64")
    out = np.empty(n, dtype=np.int64)
    out[: n - 1] = first.astype(np.int64)
    out[n - 1] = frame_ns
    return out


# sample layouts the SDK knows: (measurement, compressed, frame type) -> (channels, resolution bits, signed)
_RAW_ACC_BYTES = {0: 1, 1: 2, 2: 3}


def frame_samples(frame: PmdFrame, factor: float = 1.0) -> np.ndarray:
    """Samples of an ACC or GYRO frame in the SDK's units, float64[n, 3]:
    ACC in mG, GYRO in °/s (factor applied exactly as the SDK, without its int truncation).
    Raises DecodeError for unknown measurement / frame types and malformed content."""
    mt, ft, c = frame.measurement_type, frame.frame_type, frame.content
    if mt == MeasurementType.ACC:
        if frame.compressed:
            if ft == 0:  # "special Wolfi type": G units, factor x 1000 -> mG
                s = decode_delta_frames(c, 3, 16, signed=True)
                return s.astype(np.float64) * (float(np.float32(factor)) * 1000.0)
            if ft == 1:
                s = decode_delta_frames(c, 3, 16, signed=True).astype(np.float64)
                return s * float(np.float32(factor)) if factor != 1.0 else s
            raise DecodeError("unknown_frame_type", f"compressed ACC frame type {ft}")
        if ft in _RAW_ACC_BYTES:
            step = _RAW_ACC_BYTES[ft]
            if len(c) == 0 or len(c) % (3 * step):
                raise DecodeError("bad_length", f"raw ACC type {ft}: {len(c)} bytes is not n x {3 * step}")
            if step == 3:
                u = np.frombuffer(c, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
                v = u[:, 0] | (u[:, 1] << 8) | (u[:, 2] << 16)
                v = np.where(v >= (1 << 23), v - (1 << 24), v)
            else:
                v = np.frombuffer(c, dtype="<i1" if step == 1 else "<i2").astype(np.int64)
            return v.reshape(-1, 3).astype(np.float64)
        raise DecodeError("unknown_frame_type", f"raw ACC frame type {ft}")
    if mt == MeasurementType.GYRO:
        if not frame.compressed:
            raise DecodeError("unknown_frame_type", f"raw GYRO frame type {ft} (the SDK decodes none)")
        if ft == 0:
            s = decode_delta_frames(c, 3, 16, signed=True).astype(np.float64)
            return s * float(np.float32(factor)) if factor != 1.0 else s
        if ft == 1:
            bits = decode_delta_frames(c, 3, 32, signed=False).astype(np.uint32)
            f = bits.view(np.float32).astype(np.float64)
            if not np.all(np.isfinite(f)):
                raise DecodeError("bad_value", "GYRO float sample is NaN or infinite")
            return f * float(np.float32(factor)) if factor != 1.0 else f
        raise DecodeError("unknown_frame_type", f"compressed GYRO frame type {ft}")
    name = mt.name if isinstance(mt, MeasurementType) else str(mt)
    raise DecodeError("unknown_measurement", f"PMD measurement {name} is not decoded by gaitmon")


# --------------------------------------------------------------------------- encoders (virtual device)


def encode_frame(measurement_type: MeasurementType | int, timestamp_ns: int, frame_type: int, compressed: bool, content: bytes) -> bytes:
    """Assemble a PMD data notification from its parts."""
    if not 0 <= int(timestamp_ns) < (1 << 64):
        raise ValueError("timestamp_ns must fit u64")
    return (
        bytes([int(measurement_type)])
        + int(timestamp_ns).to_bytes(8, "little")
        + bytes([(int(frame_type) & 0x7F) | (_DELTA_FRAME_BIT if compressed else 0)])
        + bytes(content)
    )


def encode_acc_frame(timestamp_ns: int, acc_ms2, *, compressed: bool = True, factor: float = 1.0) -> bytes:
    """ACC frame as a Polar device sends it, from specific force in m/s² (sensor frame).

    ``timestamp_ns`` is the time of the LAST sample (ns since 2000-01-01).  compressed=True
    gives frame type 0x81 (Verity Sense style: int16 deltas, value x factor = mG);
    compressed=False gives raw type 0x01 (H10 style: int16 mG)."""
    a = np.asarray(acc_ms2, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] < 1 or not np.all(np.isfinite(a)):
        raise ValueError("acc must be finite with shape (n >= 1, 3)")
    mg = a / _MG_TO_MS2
    if compressed:
        counts = np.clip(np.rint(mg / float(np.float32(factor))), -32768, 32767).astype(np.int64)
        return encode_frame(MeasurementType.ACC, timestamp_ns, 1, True, encode_delta_frames(counts, 16))
    counts = np.clip(np.rint(mg), -32768, 32767).astype("<i2")
    return encode_frame(MeasurementType.ACC, timestamp_ns, 1, False, counts.tobytes())


def encode_gyro_frame(timestamp_ns: int, gyr_rads, *, factor: float = 1.0) -> bytes:
    """GYRO frame (compressed type 0, 0x80) from angular velocity in rad/s: int16 deltas,
    value x factor = °/s.  ``timestamp_ns`` is the time of the LAST sample."""
    g = np.asarray(gyr_rads, dtype=np.float64)
    if g.ndim != 2 or g.shape[1] != 3 or g.shape[0] < 1 or not np.all(np.isfinite(g)):
        raise ValueError("gyr must be finite with shape (n >= 1, 3)")
    counts = np.clip(np.rint(g / _DEG_TO_RAD / float(np.float32(factor))), -32768, 32767).astype(np.int64)
    return encode_frame(MeasurementType.GYRO, timestamp_ns, 0, True, encode_delta_frames(counts, 16))


def packetize(
    time,
    *,
    acc=None,
    gyr=None,
    sample_rate: int,
    samples_per_frame: int | None = None,
    acc_factor: float = 0.24414062,
    gyr_factor: float = 0.061,
    acc_compressed: bool = True,
    t0_ns: int = 700_000_000_000_000_000,
) -> list[bytes]:
    """Turn a continuous stream into the PMD data notifications a Polar sensor would send.

    time: float[n] s (sensor clock); acc: float[n, 3] m/s² and/or gyr: float[n, 3] rad/s.
    The device clock is ``t0_ns + round(time * 1e9)`` ns (Polar epoch 2000-01-01; the default
    is in 2022).  Frames hold ``samples_per_frame`` samples (default ~0.25 s worth, at most
    255 deltas per block) and never span a gap in ``time``; ACC frames come before the GYRO
    frame of the same samples.  Factors as a Verity Sense reports them (±8 g -> 0.244 mG,
    ±2000 °/s -> 0.061 °/s per count); ``acc_compressed=False`` gives H10-style raw frames.
    """
    t = np.asarray(time, dtype=np.float64)
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in (("acc", acc), ("gyr", gyr)) if v is not None}
    for k, a in arrays.items():
        if a.shape != (t.shape[0], 3):
            raise ValueError(f"{k} must have shape (len(time), 3)")
    if samples_per_frame is None:
        samples_per_frame = max(1, int(round(sample_rate / 4.0)))
    if not 1 <= samples_per_frame <= 256:
        raise ValueError("samples_per_frame must be 1..256")
    out: list[bytes] = []
    for s, e in regular_chunks(t, sample_rate, samples_per_frame):
        ts = int(t0_ns) + int(round(t[e - 1] * 1e9))
        if "acc" in arrays:
            out.append(encode_acc_frame(ts, arrays["acc"][s:e], compressed=acc_compressed, factor=acc_factor))
        if "gyr" in arrays:
            out.append(encode_gyro_frame(ts, arrays["gyr"][s:e], factor=gyr_factor))
    return out


# --------------------------------------------------------------------------- decoder


@dataclass
class _StreamState:
    sample_rate: int = 0
    factor: float = 1.0
    previous_ns: dict[tuple[int, int], int] = field(default_factory=dict)


class PolarPmdDecoder:
    """Per-connection decoder of Polar PMD ACC and GYRO notifications.

    State it keeps, like the SDK's ``BlePMDClient``: the sample rate of each started stream
    (:meth:`start_command` records it), the conversion factor returned in the start response
    (feed every control point notification to :meth:`on_control_point`), and the previous
    frame's timestamp per (measurement, frame type) for sample timing.

    ``decode`` returns a Packet with ``kind`` ``"polar_acc"`` (acc in m/s²) or ``"polar_gyr"``
    (gyr in rad/s); ``t_s`` is the device clock in seconds since 2000-01-01 (Polar epoch).
    ACC and GYRO arrive as separate packets on the same clock.
    """

    kind = "polar"

    def __init__(self, *, gap_guard: bool = True) -> None:
        self.gap_guard = gap_guard
        self._streams: dict[int, _StreamState] = {}

    def _state(self, mt: int) -> _StreamState:
        return self._streams.setdefault(int(mt), _StreamState())

    def reset(self) -> None:
        """Forget timestamps (after a reconnect); sample rates and factors are kept."""
        for st in self._streams.values():
            st.previous_ns.clear()

    def set_sample_rate(self, measurement_type: MeasurementType | int, sample_rate: int) -> None:
        self._state(measurement_type).sample_rate = int(sample_rate)

    def set_factor(self, measurement_type: MeasurementType | int, factor: float) -> None:
        self._state(measurement_type).factor = float(factor)

    def start_command(self, measurement_type: MeasurementType | int, *, sample_rate: int, **settings) -> bytes:
        """Bytes to write to the control point to start a stream (arguments as for
        :func:`start_measurement_command`); remembers its sample rate."""
        cmd = start_measurement_command(measurement_type, sample_rate=sample_rate, **settings)
        st = self._state(measurement_type)
        st.sample_rate = int(sample_rate)
        st.factor = 1.0
        st.previous_ns.clear()
        return cmd

    def on_control_point(self, data: bytes | bytearray | memoryview) -> ControlPointResponse | MeasurementStopped:
        """Parse a control point notification and adopt what it says: the FACTOR of a
        successful start response; a stop response or a device-side stop clears timestamps."""
        msg = parse_control_point(data)
        if isinstance(msg, MeasurementStopped):
            for mt in msg.measurement_types:
                self._state(mt).previous_ns.clear()
            log.warning("Polar device stopped streams %s", [getattr(m, "name", m) for m in msg.measurement_types])
            return msg
        if not msg.ok:
            log.warning("%s", PmdControlPointError(msg))
            return msg
        if msg.op == ControlPointOp.REQUEST_MEASUREMENT_START:
            factor = settings_factor(msg.settings())
            if factor is not None:
                self._state(msg.measurement_type).factor = factor
        elif msg.op == ControlPointOp.STOP_MEASUREMENT:
            self._state(msg.measurement_type).previous_ns.clear()
        return msg

    def decode_frame(self, data: bytes | bytearray | memoryview) -> tuple[PmdFrame, np.ndarray, np.ndarray]:
        """Lower level: -> (frame header, sample times in ns int64[n], samples in mG or °/s)."""
        frame = parse_frame(data)
        st = self._state(frame.measurement_type)
        key = (int(frame.measurement_type), frame.frame_type)
        previous = st.previous_ns.get(key, 0)
        # like the SDK: the timestamp is remembered before the content is parsed
        st.previous_ns[key] = frame.timestamp_ns
        values = frame_samples(frame, st.factor)
        n = values.shape[0]
        if previous and self.gap_guard and st.sample_rate > 0 and frame.timestamp_ns > previous:
            nominal = 1e9 / st.sample_rate
            actual = (frame.timestamp_ns - previous) / n
            if abs(actual / nominal - 1.0) > 0.25:
                log.debug("PMD frame spacing %.0f ns vs nominal %.0f ns: timing from sample rate", actual, nominal)
                previous = 0
        t_ns = sample_times_ns(previous, frame.timestamp_ns, n, st.sample_rate)
        return frame, t_ns, values

    def decode(self, data: bytes | bytearray | memoryview) -> Packet:
        frame, t_ns, values = self.decode_frame(data)
        t_s = t_ns.astype(np.float64) * 1e-9
        if frame.measurement_type == MeasurementType.ACC:
            return Packet(kind="polar_acc", t_s=t_s, acc=values * _MG_TO_MS2)
        return Packet(kind="polar_gyr", t_s=t_s, gyr=values * _DEG_TO_RAD)

    def sample_rate(self, measurement_type: MeasurementType | int) -> int:
        return self._state(measurement_type).sample_rate


class PolarImuDecoder:
    """ACC + GYRO of one Polar sensor as packets that carry both (``kind`` ``"polar_imu"``).

    Polar sends ACC and GYRO as separate notifications on the same device clock.  This decoder
    (a :class:`PolarPmdDecoder` inside — use :attr:`pmd` for commands and control point
    messages) keeps them until both cover a time span and then emits the ACC samples with the
    gyroscope **linearly interpolated to the ACC sample times** (this resampling is the one
    deliberate interpolation; with equal rates the shift is below one sample interval).
    ACC samples whose neighbouring gyro samples are more than ``max_pair_gap_s`` apart (a lost
    gyro notification; default 1.5 gyro sample intervals), or that come before the first gyro
    sample, are not emitted: they are counted in :attr:`unpaired_samples` and logged.
    ``decode`` returns None while nothing new is complete.
    """

    kind = "polar"

    def __init__(self, *, gap_guard: bool = True, max_pair_gap_s: float | None = None, max_buffer_s: float = 5.0) -> None:
        self.pmd = PolarPmdDecoder(gap_guard=gap_guard)
        self.max_pair_gap_s = max_pair_gap_s
        self.max_buffer_s = float(max_buffer_s)
        self.unpaired_samples = 0
        self._clear()

    def _clear(self) -> None:
        self._acc_t = np.empty(0)
        self._acc = np.empty((0, 3))
        self._gyr_t = np.empty(0)
        self._gyr = np.empty((0, 3))

    def reset(self) -> None:
        """Forget buffered samples and timestamps (after a reconnect)."""
        self.unpaired_samples += self._acc_t.size
        self._clear()
        self.pmd.reset()

    def start_command(self, measurement_type: MeasurementType | int, **kw) -> bytes:
        return self.pmd.start_command(measurement_type, **kw)

    def on_control_point(self, data: bytes | bytearray | memoryview) -> ControlPointResponse | MeasurementStopped:
        return self.pmd.on_control_point(data)

    def _drop(self, n: int, why: str) -> None:
        if n > 0:
            self.unpaired_samples += n
            log.info("Polar: %d ACC samples without gyroscope dropped (%s)", n, why)

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        p = self.pmd.decode(data)
        if p.acc is not None:
            if self._acc_t.size and p.t_s[0] <= self._acc_t[-1]:
                self._drop(self._acc_t.size, "ACC clock went back")
                self._acc_t, self._acc = np.empty(0), np.empty((0, 3))
            self._acc_t = np.concatenate([self._acc_t, p.t_s])
            self._acc = np.concatenate([self._acc, p.acc])
        else:
            if self._gyr_t.size and p.t_s[0] <= self._gyr_t[-1]:
                self._gyr_t, self._gyr = np.empty(0), np.empty((0, 3))
            self._gyr_t = np.concatenate([self._gyr_t, p.t_s])
            self._gyr = np.concatenate([self._gyr, p.gyr])
        return self._emit()

    def _emit(self) -> Packet | None:
        if self._acc_t.size:
            # ACC waiting for gyroscope data that does not come (gyro stream stopped/not started)
            cover = self._gyr_t[-1] if self._gyr_t.size else -np.inf
            stale = (self._acc_t > cover) & (self._acc_t < self._acc_t[-1] - self.max_buffer_s)
            if stale.any():
                self._drop(int(stale.sum()), f"no gyroscope data for {self.max_buffer_s:g} s")
                self._acc_t, self._acc = self._acc_t[~stale], self._acc[~stale]
        if self._gyr_t.size:
            cutoff = self._gyr_t[-1] - self.max_buffer_s
            if self._acc_t.size:
                cutoff = min(cutoff, self._acc_t[0])
            k = max(int(np.searchsorted(self._gyr_t, cutoff)) - 1, 0)
            self._gyr_t, self._gyr = self._gyr_t[k:], self._gyr[k:]
        if self._acc_t.size == 0 or self._gyr_t.size == 0:
            return None
        if self.max_pair_gap_s is not None:
            tol = self.max_pair_gap_s
        else:
            rate = self.pmd.sample_rate(MeasurementType.GYRO)
            tol = 1.5 / rate if rate > 0 else 0.1
        gt, gv = self._gyr_t, self._gyr
        ready = self._acc_t <= gt[-1]
        t = self._acc_t[ready]
        a = self._acc[ready]
        j = np.searchsorted(gt, t, side="left")  # gt[j-1] < t <= gt[j]
        hi = np.minimum(j, gt.size - 1)
        lo = np.maximum(j - 1, 0)
        exact = gt[hi] == t
        span = gt[hi] - gt[lo]
        ok = exact | ((j > 0) & (span <= tol))
        w = np.where(exact | (span <= 0), 1.0, (t - gt[lo]) / np.where(span > 0, span, 1.0))
        g = gv[lo] + (gv[hi] - gv[lo]) * w[:, None]
        self._drop(int((~ok).sum()), "gyroscope gap, or before the first gyroscope sample")
        # keep the ACC samples not yet covered, and the gyro samples they may still need
        keep_from = int(lo[-1]) if lo.size else 0
        self._acc_t, self._acc = self._acc_t[~ready], self._acc[~ready]
        self._gyr_t, self._gyr = gt[keep_from:], gv[keep_from:]
        if not ok.any():
            return None
        return Packet(kind="polar_imu", t_s=t[ok], acc=a[ok], gyr=g[ok])

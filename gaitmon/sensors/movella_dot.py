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

Recording on the sensor (Message Service 0x7000, §5): ``*_message`` functions encode the recording
control messages (``MID LEN DATA CHECKSUM``, all bytes summing to 0 mod 256), ``decode_*`` read
the acknowledge (§5.2.3, result per Table 26) and the notifications (§5.2.4: RecordingTime, Flash
Info Header + File Indicators, file info, ExportFileData), :class:`DotExportDecoder` turns exported
timestamp/acc/gyr packets into :class:`Packet` s. Not implemented: synchronization and
configuration messages, the magnetometer scale, the SDK-only high-fidelity data; export
selections are restricted to ascending codes (the only order whose layout the spec pins down).
The spec's own StartRecording example carries a wrong checksum (see the tests).
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass

import numpy as np

from .base import DecodeError, Packet, WrapUnwrapper

__all__ = [
    "BASE_UUID", "uuid", "CONFIG_SERVICE_UUID", "DEVICE_INFO_UUID", "DEVICE_CONTROL_UUID",
    "MEASUREMENT_SERVICE_UUID", "CONTROL_UUID", "LONG_PAYLOAD_UUID", "MEDIUM_PAYLOAD_UUID",
    "SHORT_PAYLOAD_UUID", "BATTERY_UUID", "MODE_FREE_ACCELERATION", "MODE_RATE_QUANTITIES",
    "MODE_CUSTOM_5", "PAYLOAD_SIZE", "STREAM_RATES", "control_command", "parse_control",
    "set_output_rate_command", "parse_device_control", "decode_battery", "decode_free_acceleration",
    "encode_rate_quantities", "encode_custom_mode_5", "MovellaDotDecoder", "CLOCK_WRAP_S",
    # Message Service: recording control and export (§5)
    "MESSAGE_SERVICE_UUID", "MESSAGE_CONTROL_UUID", "MESSAGE_ACK_UUID", "MESSAGE_NOTIFICATION_UUID",
    "MID_RECORDING", "RecId", "RecResult", "ExportQuantity", "EXPORT_LAYOUT", "DEFAULT_EXPORT",
    "GAIT_EXPORT", "NO_TIMER", "MessageChecksumError", "message_checksum", "encode_message",
    "DotMessage", "decode_message", "decode_recording_message", "get_state_message",
    "erase_flash_message", "start_recording_message", "stop_recording_message",
    "request_recording_time_message", "request_flash_info_message", "request_file_info_message",
    "request_file_data_message", "stop_export_message", "select_export_data_message",
    "retransmission_message", "RecordingAck", "decode_recording_ack", "encode_recording_ack",
    "RecordingTime", "decode_recording_time", "FlashInfo", "decode_flash_info",
    "decode_file_indicators", "FileInfo", "decode_file_info", "export_packet_size",
    "decode_export_data", "encode_export_data", "DotExportDecoder",
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


# ==================================================================================== Message
# Service (§5): recording to the DOT's own flash and exporting it over BLE.
#
# Source: XD0506P rev C §5 (Table 22 characteristics, Table 23 message construction, Table 24
# MIDs, §5.2 recording messages, §5.2.1 examples, Table 25 export quantities, Table 26 ACK
# results, Tables 27-29 flash / file structure, §5.5.1 reference listing). Message framing and
# checksum cross-checked with xsens/xsens_dot_server commit 364d521ab3f40690649bf281c054c6d798889a12,
# ``bleHandler.js`` (``BLE_UUID_RECORDING_CONTROL`` 15177001…, ``BLE_UUID_RECORDING_ACK``
# 15177002…, ``data[1]`` = LEN "exclude checkSum", ``checkSum`` = ``0xFF & -sum``).
#
# Left out (no published layout, or not recording control): the synchronization (MID 2) and
# configuration (MID 3) messages are framed the same way but not implemented here; the order of
# the quantities inside an ExportFileData packet is not stated beyond "based on SelectedData"
# — gaitmon only asks for ascending codes, for which the §5.2.1 example (codes 00 01 05 06 07 08
# 09 0A, LEN 0x55 = 85 = 1 + 4 + 4+16+16+12+12+12+6+2) fixes the layout; the "High fidelity"
# data are SDK-only and not exportable here.
MESSAGE_SERVICE_UUID = uuid(0x7000)
MESSAGE_CONTROL_UUID = uuid(0x7001)  # write, 160 bytes
MESSAGE_ACK_UUID = uuid(0x7002)  # read, 160 bytes
MESSAGE_NOTIFICATION_UUID = uuid(0x7003)  # notify, 160 bytes
MID_RECORDING = 0x01
MID_SYNC = 0x02
MID_CONFIG = 0x03
MESSAGE_MAX_DATA = 157  # Table 23


class RecId(enum.IntEnum):
    """Recording message IDs (ReID), §5.5.1. 0x41 and 0x73 are the same ID in both directions."""

    ACK = 0x01
    GET_STATE = 0x02
    FLASH_PROCESS_BUSY = 0x03
    ERASE_FLASH = 0x30
    STORE_FLASH_INFO_DONE = 0x33
    FLASH_FULL = 0x34
    INVALID_FLASH_FORMAT = 0x35
    START_RECORDING = 0x40
    STOP_RECORDING = 0x41  # host -> sensor: stop; sensor -> host: RecordingStopped
    REQUEST_RECORDING_TIME = 0x42
    RECORDING_TIME = 0x43
    REQUEST_FLASH_INFO = 0x50
    EXPORT_FLASH_INFO = 0x51
    EXPORT_FLASH_INFO_DONE = 0x52
    REQUEST_FILE_INFO = 0x60
    EXPORT_FILE_INFO = 0x61
    EXPORT_FILE_INFO_DONE = 0x62
    NO_RECORDING_FILE = 0x63
    REQUEST_FILE_DATA = 0x70
    EXPORT_FILE_DATA = 0x71
    EXPORT_FILE_DATA_DONE = 0x72
    STOP_EXPORT_DATA = 0x73  # host -> sensor: stop; sensor -> host: ExportDataStopped
    SELECT_EXPORT_DATA = 0x74
    RETRANSMISSION = 0x75
    EXPORT_FILE_DATA_INVALID = 0x76


class RecResult(enum.IntEnum):
    """Recording ACK results, Table 26 (for GetState the result is the recording state)."""

    SUCCESS = 0x00
    INVALID_CMD = 0x02
    FLASH_PROCESS_BUSY = 0x03
    IDLE = 0x06
    ON_ERASING = 0x30
    ON_RECORDING = 0x40
    ON_EXPORT_FLASH_INFO = 0x50
    ON_EXPORT_FILE_INFO = 0x60
    ON_EXPORT_FILE_DATA = 0x70


class ExportQuantity(enum.IntEnum):
    """SelectedData codes, Table 25; sizes and formats from Table 17."""

    TIMESTAMP = 0x00
    QUATERNION = 0x01
    EULER = 0x04
    DQ = 0x05
    DV = 0x06
    ACCELERATION = 0x07
    ANGULAR_VELOCITY = 0x08
    MAG = 0x09
    STATUS = 0x0A
    CLIP_COUNT_ACC = 0x0B
    CLIP_COUNT_GYR = 0x0C


#: quantity -> (bytes, struct format), Table 17 (mag: 3 x 16-bit fixed point, "a.u.": kept raw)
EXPORT_LAYOUT = {
    ExportQuantity.TIMESTAMP: (4, "<I"), ExportQuantity.QUATERNION: (16, "<4f"),
    ExportQuantity.EULER: (12, "<3f"), ExportQuantity.DQ: (16, "<4f"), ExportQuantity.DV: (12, "<3f"),
    ExportQuantity.ACCELERATION: (12, "<3f"), ExportQuantity.ANGULAR_VELOCITY: (12, "<3f"),
    ExportQuantity.MAG: (6, "<3h"), ExportQuantity.STATUS: (2, "<H"),
    ExportQuantity.CLIP_COUNT_ACC: (1, "<B"), ExportQuantity.CLIP_COUNT_GYR: (1, "<B"),
}
#: what the sensor exports if SelectExportData was not sent (§5.2.2.10)
DEFAULT_EXPORT = (ExportQuantity.TIMESTAMP, ExportQuantity.EULER, ExportQuantity.ACCELERATION,
                  ExportQuantity.ANGULAR_VELOCITY)
#: what gaitmon exports: the Rate quantities of the stream (timestamp, acc m/s², gyr °/s)
GAIT_EXPORT = (ExportQuantity.TIMESTAMP, ExportQuantity.ACCELERATION, ExportQuantity.ANGULAR_VELOCITY)
NO_TIMER = 0xFFFF  # RecordingTime / TotalRecordingTime of a recording without timer
FLASH_INFO_MAGIC = 0x466C6173  # "Flas"
FILE_INFO_MAGIC = 0x5265636F  # "Reco"


class MessageChecksumError(DecodeError):
    """A message whose bytes do not sum to 0 (mod 256); ``reason`` is ``bad_field``."""

    def __init__(self, message: str) -> None:
        super().__init__("bad_field", message)


def message_checksum(body: bytes) -> int:
    """Checksum byte of MID, LEN and DATA: all message bytes, it included, sum to 0 (Table 23)."""
    return (-sum(bytes(body))) & 0xFF


def encode_message(mid: int, data: bytes) -> bytes:
    """A Message Service message: ``MID LEN DATA CHECKSUM`` (Table 23)."""
    data = bytes(data)
    if not 0 <= mid <= 255:
        raise ValueError("MID is one byte")
    if len(data) > MESSAGE_MAX_DATA:
        raise ValueError(f"a message carries at most {MESSAGE_MAX_DATA} data bytes, not {len(data)}")
    body = bytes([mid, len(data)]) + data
    return body + bytes([message_checksum(body)])


@dataclass(frozen=True)
class DotMessage:
    """One decoded message: MID and DATA (for MID 1: ``data[0]`` = ReID, ``data[1:]`` = ReDATA)."""

    mid: int
    data: bytes

    @property
    def id(self) -> int:
        return self.data[0]

    @property
    def payload(self) -> bytes:
        return self.data[1:]


def decode_message(raw: bytes | bytearray | memoryview) -> DotMessage:
    """Check LEN and the checksum of one message; bytes after the checksum are ignored (the
    acknowledge characteristic is 160 bytes long)."""
    b = bytes(raw)
    if len(b) < 3:
        raise DecodeError("truncated", f"a message is at least 3 bytes, got {len(b)}")
    n = b[1]
    if n > MESSAGE_MAX_DATA:
        raise DecodeError("bad_length", f"LEN {n} > {MESSAGE_MAX_DATA}")
    if len(b) < n + 3:
        raise DecodeError("truncated", f"LEN {n} needs {n + 3} bytes, got {len(b)}")
    if sum(b[:n + 3]) & 0xFF:
        raise MessageChecksumError(f"checksum {b[n + 2]:#04x}, expected {message_checksum(b[:n + 2]):#04x}")
    return DotMessage(b[0], b[2:n + 2])


def decode_recording_message(raw) -> DotMessage:
    """:func:`decode_message` for recording messages (MID 1, at least a ReID)."""
    m = decode_message(raw)
    if m.mid != MID_RECORDING:
        raise DecodeError("unknown_frame_type", f"MID {m.mid} is not a recording message")
    if not m.data:
        raise DecodeError("truncated", "recording message without ReID")
    return m


def _rec(reid: int, redata: bytes = b"") -> bytes:
    return encode_message(MID_RECORDING, bytes([reid]) + bytes(redata))


def _u32(v: int, what: str) -> bytes:
    if not 0 <= int(v) <= 0xFFFFFFFF:
        raise ValueError(f"{what} is a u32")
    return struct.pack("<I", int(v))


def _file_index(i: int) -> bytes:
    if not 1 <= int(i) <= 0xFE:
        raise ValueError("FileIndex is 1..254 (§5.2.2.7)")
    return bytes([int(i)])


# ------------------------------------------------------------------ recording control (§5.2.2)
def get_state_message() -> bytes:
    """GetState (0x02): the state comes back as the result of the acknowledge."""
    return _rec(RecId.GET_STATE)


def erase_flash_message(utc_s: int) -> bytes:
    """EraseFlash (0x30, idle only): EraseUTC u32 s; StoreFlashInfoDone follows when done."""
    return _rec(RecId.ERASE_FLASH, _u32(utc_s, "EraseUTC"))


def start_recording_message(utc_s: int, duration_s: int | None = None) -> bytes:
    """StartRecording (0x40, idle only): StartUTC u32 s, RecordingTime u16 s (None: no timer,
    0xFFFF). The sensor stops by itself at the timer, on a button press or at 90 % flash."""
    if duration_s is None:
        rt = NO_TIMER
    elif 1 <= int(duration_s) < NO_TIMER:
        rt = int(duration_s)
    else:
        raise ValueError(f"recording time is 1..{NO_TIMER - 1} s (or None for no timer)")
    return _rec(RecId.START_RECORDING, _u32(utc_s, "StartUTC") + struct.pack("<H", rt))


def stop_recording_message() -> bytes:
    """StopRecording (0x41)."""
    return _rec(RecId.STOP_RECORDING)


def request_recording_time_message() -> bytes:
    """RequestRecordingTime (0x42, recording only): a RecordingTime notification follows."""
    return _rec(RecId.REQUEST_RECORDING_TIME)


def request_flash_info_message() -> bytes:
    """RequestFlashInfo (0x50, idle only): ExportFlashInfo notifications, then …Done."""
    return _rec(RecId.REQUEST_FLASH_INFO)


def request_file_info_message(file_index: int) -> bytes:
    """RequestFileInfo (0x60, idle only): ExportFileInfo (or NoRecordingFile), then …Done."""
    return _rec(RecId.REQUEST_FILE_INFO, _file_index(file_index))


def request_file_data_message(file_index: int) -> bytes:
    """RequestFileData (0x70, idle only): ExportFileData notifications, then …Done."""
    return _rec(RecId.REQUEST_FILE_DATA, _file_index(file_index))


def stop_export_message() -> bytes:
    """StopExportData (0x73)."""
    return _rec(RecId.STOP_EXPORT_DATA)


def select_export_data_message(quantities=GAIT_EXPORT) -> bytes:
    """SelectExportData (0x74, idle only): one code per quantity (Table 25). gaitmon sends
    distinct codes in ascending order, the only order whose packet layout the spec fixes."""
    codes = [int(ExportQuantity(q)) for q in quantities]
    if not codes or codes != sorted(set(codes)):
        raise ValueError("export quantities: at least one, distinct, in ascending code order")
    return _rec(RecId.SELECT_EXPORT_DATA, bytes(codes))


def retransmission_message(data_number: int) -> bytes:
    """Retransmission (0x75, while exporting): resend every packet from ``data_number`` on."""
    return _rec(RecId.RETRANSMISSION, _u32(data_number, "RetransDataNumber"))


# ------------------------------------------------------------------ acknowledge (§5.2.3)
@dataclass(frozen=True)
class RecordingAck:
    """Acknowledge of a recording control message: result (Table 26) and the echoed command."""

    result: int
    command: int
    command_data: bytes

    @property
    def ok(self) -> bool:
        return self.result == RecResult.SUCCESS

    @property
    def result_name(self) -> str:
        try:
            return RecResult(self.result).name
        except ValueError:
            return f"unknown_{self.result:#04x}"


def decode_recording_ack(raw) -> RecordingAck:
    """The acknowledge characteristic after a recording control write."""
    m = decode_recording_message(raw)
    if m.id != RecId.ACK:
        raise DecodeError("unknown_frame_type", f"ReID {m.id:#04x} is not an acknowledge")
    if len(m.payload) < 2:
        raise DecodeError("truncated", "acknowledge without result and command ReID")
    return RecordingAck(m.payload[0], m.payload[1], bytes(m.payload[2:]))


def encode_recording_ack(result: int, command: bytes) -> bytes:
    """An acknowledge of ``command`` (a whole control message) — for virtual sensors and tests."""
    m = decode_recording_message(command)
    return _rec(RecId.ACK, bytes([int(result)]) + m.data)


# ------------------------------------------------------------------ notifications (§5.2.4)
def _need(p: bytes, n: int, what: str) -> None:
    if len(p) < n:
        raise DecodeError("truncated", f"{what}: {len(p)} of {n} bytes")


@dataclass(frozen=True)
class RecordingTime:
    """RecordingTime notification (0x43): start UTC s, timer total/remaining s (None: no timer)."""

    start_utc: int
    total_s: int | None
    remaining_s: int | None


def decode_recording_time(payload: bytes) -> RecordingTime:
    p = bytes(payload)
    _need(p, 8, "RecordingTime")
    utc, total, rem = struct.unpack_from("<IHH", p, 0)
    return RecordingTime(utc, None if total == NO_TIMER else total, None if rem == NO_TIMER else rem)


def _revision(p: bytes, off: int) -> tuple[int, int]:
    # 2 bytes, shown as "1.0"/"2.0" in the tables; the §5.2.1 ExportFileInfo example carries
    # 00 01 for revision 1.0, i.e. minor first, major second
    return p[off + 1], p[off]


@dataclass(frozen=True)
class FlashInfo:
    """Flash Info Header, first ExportFlashInfo notification (0x51)."""

    header_size: int
    revision: tuple[int, int]
    init_utc: int
    space_size: int
    file_indicators_size: int | None  # header revision >= 2.0 only


def decode_flash_info(payload: bytes) -> FlashInfo:
    p = bytes(payload)
    _need(p, 18, "Flash Info Header")
    magic, hsize = struct.unpack_from("<II", p, 0)
    if magic != FLASH_INFO_MAGIC:
        raise DecodeError("bad_field", f"flash info magic {magic:#010x}")
    rev = _revision(p, 8)
    utc, size = struct.unpack_from("<II", p, 10)
    fis = None
    if rev >= (2, 0):
        _need(p, 22, "Flash Info Header 2.0")
        fis = struct.unpack_from("<I", p, 18)[0]
    return FlashInfo(hsize, rev, utc, size, fis)


def decode_file_indicators(data: bytes) -> list[int]:
    """Data sectors of each recording file from the File Indicators (Table 28: 0xEE a file
    header, 0xCC a sector with data, 0xFF unused); a file of k sectors is roughly 4 kB + k x 228 kB."""
    files: list[int] = []
    for i, x in enumerate(bytes(data)):
        if x == 0xEE:
            files.append(0)
        elif x == 0xCC:
            if not files:
                raise DecodeError("bad_field", f"data sector at {i} before any file header")
            files[-1] += 1
        elif x != 0xFF:
            raise DecodeError("bad_field", f"file indicator byte {x:#04x} at {i}")
    return files


@dataclass(frozen=True)
class FileInfo:
    """ExportFileInfo notification (0x61): the recording file's header."""

    header_size: int
    revision: tuple[int, int]
    start_utc: int
    total_s: int | None  # the StartRecording timer, None without timer


def decode_file_info(payload: bytes) -> FileInfo:
    p = bytes(payload)
    _need(p, 16, "ExportFileInfo")
    magic, hsize = struct.unpack_from("<II", p, 0)
    if magic != FILE_INFO_MAGIC:
        raise DecodeError("bad_field", f"file info magic {magic:#010x}")
    utc, total = struct.unpack_from("<IH", p, 10)
    return FileInfo(hsize, _revision(p, 8), utc, None if total == NO_TIMER else total)


def export_packet_size(quantities) -> int:
    """Bytes of ExportedData for the selected quantities."""
    return sum(EXPORT_LAYOUT[ExportQuantity(q)][0] for q in quantities)


def decode_export_data(payload: bytes, quantities=GAIT_EXPORT) -> tuple[int, dict[ExportQuantity, tuple]]:
    """ReDATA of ExportFileData (0x71) / ExportFileDataInvalid (0x76): (DataNumber, {quantity:
    values}) in the selected (ascending) order; floats as sent (acc m/s², gyr °/s)."""
    p = bytes(payload)
    qs = [ExportQuantity(q) for q in quantities]
    size = 4 + export_packet_size(qs)
    _need(p, size, "ExportFileData")
    if len(p) != size:
        raise DecodeError("bad_length", f"ExportFileData: {len(p)} bytes for a {size}-byte selection")
    out: dict[ExportQuantity, tuple] = {}
    off = 4
    for q in qs:
        n, fmt = EXPORT_LAYOUT[q]
        out[q] = struct.unpack_from(fmt, p, off)
        off += n
    return struct.unpack_from("<I", p, 0)[0], out


def encode_export_data(data_number: int, values: dict, quantities=GAIT_EXPORT) -> bytes:
    """An ExportFileData message — for virtual sensors and tests."""
    body = bytearray(_u32(data_number, "DataNumber"))
    for q in (ExportQuantity(x) for x in quantities):
        v = values[q]
        body += struct.pack(EXPORT_LAYOUT[q][1], *(v if isinstance(v, tuple | list) else (v,)))
    return _rec(RecId.EXPORT_FILE_DATA, bytes(body))


class DotExportDecoder:
    """Turns ExportFileData messages with (at least) timestamp, acceleration and angular velocity
    into one-sample :class:`Packet` s like :class:`MovellaDotDecoder` (t_s on the unwrapped
    u32 µs clock, acc m/s², gyr rad/s, ``seq`` = DataNumber). Other recording messages → None."""

    kind = "movella_dot_export"

    def __init__(self, quantities=GAIT_EXPORT) -> None:
        self.quantities = tuple(ExportQuantity(q) for q in quantities)
        need = set(GAIT_EXPORT)
        if not need <= set(self.quantities):
            raise ValueError("the export must contain timestamp, acceleration and angular velocity")
        self._clock = WrapUnwrapper(1 << 32)

    def reset(self) -> None:
        self._clock = WrapUnwrapper(1 << 32)

    def decode(self, data) -> Packet | None:
        m = decode_recording_message(data)
        if m.id != RecId.EXPORT_FILE_DATA:
            return None
        n, v = decode_export_data(m.payload, self.quantities)
        acc = v[ExportQuantity.ACCELERATION]
        gyr = v[ExportQuantity.ANGULAR_VELOCITY]
        if not all(math.isfinite(x) for x in acc + gyr):
            raise DecodeError("bad_value", "non-finite acceleration or angular velocity")
        t_s = self._clock.unwrap(v[ExportQuantity.TIMESTAMP][0]) * 1e-6
        return Packet(kind=self.kind, t_s=np.array([t_s]), acc=np.array([acc]),
                      gyr=np.radians(np.array([gyr])), seq=n)

"""Movesense GATT SensorData Protocol (GSP) — IMU streams of Movesense sensors (pure, no I/O).

Sources (read, not guessed):

* Movesense device library, sample ``samples/gatt_sensordata_app``:
  ``GATTSensorDataClient.cpp`` (service/characteristic UUIDs; command layout
  ``[command u8, client reference u8 (not 0), data…]`` with HELLO = 0, SUBSCRIBE = 1 (data = the
  Whiteboard resource path as a string, e.g. ``/Meas/IMU6/104``), UNSUBSCRIBE = 2; responses
  ``[type u8, reference u8, data…]`` with COMMAND_RESULT = 1 (HELLO answers ``"Hello"``, errors
  carry an HTTP code in 2 bytes, e.g. 507 as ``0x01 0xFB``) and DATA = 2 (the SBEM
  serialization of the resource's notification)) and its ``python_client/movesense_sensor_data.py``
  (DATA_PART2 = 3: a notification too long for one packet continues in a second one whose 2-byte
  header is dropped before joining; IMU9 payload = u32 timestamp then the acc, gyro and magn
  arrays one after another, each ``n`` x 3 float32).
* Movesense API ``MovesenseCoreLib/resources/movesense-api/meas/imu.yaml``: ``IMU6Data`` =
  Timestamp (u32, ms, "local timestamp of first measurement"), ArrayAcc (m/s²),
  ArrayGyro (dps); ``IMU9Data`` adds ArrayMagn; ``IMU6MData`` = acc + magn; the single-sensor
  ``/Meas/Acc``, ``/Meas/Gyro``, ``/Meas/Magn`` carry one array.
* Movesense GSP specification https://www.movesense.com/docs/esw/gatt_sensordata_protocol/.

A DATA payload (after ``[0x02, ref]``) is therefore little-endian
``u32 timestamp_ms | float32 acc[n][3] | float32 gyro[n][3] | float32 magn[n][3]``
(only the arrays the resource has).  Units out: acc m/s² (specific force, sensor frame),
gyro °/s -> rad/s, magn µT; sample ``i`` is at ``timestamp_ms / 1000 + i / rate_hz`` seconds of
the sensor clock (the u32 ms clock is unwrapped across its 49.7-day wrap).
"""

from __future__ import annotations

import logging
import math
import re
from collections import deque
from dataclasses import dataclass

import numpy as np

from .base import DecodeError, Packet, WrapUnwrapper, regular_chunks

log = logging.getLogger("gaitmon.sensors.movesense")

__all__ = [
    "SERVICE_UUID",
    "WRITE_UUID",
    "NOTIFY_UUID",
    "CMD_HELLO",
    "CMD_SUBSCRIBE",
    "CMD_UNSUBSCRIBE",
    "RESP_COMMAND_RESULT",
    "RESP_DATA",
    "RESP_DATA_PART2",
    "RESP_DATA_PART3",
    "IMU_RATES",
    "DEFAULT_MAX_NOTIFICATION",
    "StreamSpec",
    "Command",
    "CommandResult",
    "parse_path",
    "imu_path",
    "hello_command",
    "subscribe_command",
    "unsubscribe_command",
    "parse_command",
    "encode_command_result",
    "encode_hello_response",
    "parse_command_result",
    "encode_data_payload",
    "decode_data_payload",
    "encode_data",
    "packetize",
    "MovesenseDecoder",
]

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"

CMD_HELLO = 0
CMD_SUBSCRIBE = 1
CMD_UNSUBSCRIBE = 2

RESP_COMMAND_RESULT = 1
RESP_DATA = 2
RESP_DATA_PART2 = 3
RESP_DATA_PART3 = 4

#: Sample rates the Movesense IMU resources accept (Hz).
IMU_RATES = (13, 26, 52, 104, 208, 416, 833, 1666)
#: Largest notification value of a Movesense sensor (ATT MTU 161 - 3).
DEFAULT_MAX_NOTIFICATION = 158
#: Longest resource path the firmware accepts (its path buffer is 160 bytes incl. NUL).
MAX_PATH_BYTES = 159

_DEG_TO_RAD = math.pi / 180.0

# resource -> the arrays in its payload, in order
_LAYOUTS = {
    "IMU6": ("acc", "gyr"),
    "IMU9": ("acc", "gyr", "mag"),
    "IMU6m": ("acc", "mag"),
    "Acc": ("acc",),
    "Gyro": ("gyr",),
    "Magn": ("mag",),
}
_PATH_RE = re.compile(r"^/Meas/(IMU6m|IMU6|IMU9|Acc|Gyro|Magn)/(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class StreamSpec:
    """What a subscribed resource sends: ``resource`` (``"IMU6"``, ``"IMU9"``, ``"IMU6m"``,
    ``"Acc"``, ``"Gyro"``, ``"Magn"``), its ``rate_hz`` and the arrays in payload order."""

    path: str
    resource: str
    rate_hz: int
    arrays: tuple[str, ...]

    @property
    def stride(self) -> int:
        """Payload bytes per sample (12 per 3-axis float32 array)."""
        return 12 * len(self.arrays)

    @property
    def kind(self) -> str:
        return "movesense_" + self.resource.lower()


def parse_path(path: str) -> StreamSpec:
    """``"/Meas/IMU6/104"`` -> StreamSpec.  Raises ValueError for resources gaitmon does not
    decode (ECG, HR, temperature…) or rates the IMU does not offer."""
    m = _PATH_RE.match(path.strip())
    if not m:
        raise ValueError(f"unsupported Movesense resource path {path!r} (want /Meas/IMU6/<rate> etc.)")
    name = next(k for k in _LAYOUTS if k.lower() == m.group(1).lower())
    rate = int(m.group(2))
    if rate not in IMU_RATES:
        raise ValueError(f"Movesense IMU rate must be one of {IMU_RATES}, got {rate}")
    return StreamSpec(path=f"/Meas/{name}/{rate}", resource=name, rate_hz=rate, arrays=_LAYOUTS[name])


def imu_path(resource: str = "IMU6", rate_hz: int = 104) -> str:
    """Resource path for a subscription, e.g. ``imu_path("IMU6", 104) == "/Meas/IMU6/104"``."""
    return parse_path(f"/Meas/{resource}/{int(rate_hz)}").path


def _check_ref(ref: int) -> int:
    r = int(ref)
    if not 1 <= r <= 255:
        raise ValueError(f"client reference must be 1..255 (0 is reserved), got {ref}")
    return r


def hello_command(ref: int) -> bytes:
    """HELLO: the sensor answers ``[1, ref, 'Hello']``."""
    return bytes([CMD_HELLO, _check_ref(ref)])


def subscribe_command(ref: int, path: str) -> bytes:
    """SUBSCRIBE ``path`` (e.g. ``/Meas/IMU6/104``) under client reference ``ref`` (1..255)."""
    p = path.encode("utf-8")
    if not 1 <= len(p) <= MAX_PATH_BYTES:
        raise ValueError(f"resource path must be 1..{MAX_PATH_BYTES} bytes")
    return bytes([CMD_SUBSCRIBE, _check_ref(ref)]) + p


def unsubscribe_command(ref: int) -> bytes:
    """UNSUBSCRIBE the stream subscribed under ``ref``."""
    return bytes([CMD_UNSUBSCRIBE, _check_ref(ref)])


@dataclass(frozen=True)
class Command:
    """A command as the sensor parses it (for a virtual Movesense sensor)."""

    op: int
    ref: int
    path: str | None = None


def parse_command(data: bytes | bytearray | memoryview) -> Command:
    """Device side: parse a write to the command characteristic.  Raises DecodeError."""
    b = bytes(data)
    if len(b) < 2:
        raise DecodeError("truncated", f"command needs >= 2 bytes, got {len(b)}")
    op, ref = b[0], b[1]
    if op not in (CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE):
        raise DecodeError("unknown_frame_type", f"unknown GSP command {op}")
    if ref == 0:
        raise DecodeError("bad_field", "client reference 0 is reserved")
    if op == CMD_SUBSCRIBE:
        if len(b) == 2:
            raise DecodeError("truncated", "SUBSCRIBE without a resource path")
        if len(b) - 2 > MAX_PATH_BYTES:
            raise DecodeError("bad_length", "resource path too long")
        try:
            path = b[2:].split(b"\x00", 1)[0].decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("bad_field", "resource path is not UTF-8") from None
        return Command(op, ref, path)
    if len(b) > 2:
        raise DecodeError("bad_length", f"command {op} takes no data")
    return Command(op, ref)


@dataclass(frozen=True)
class CommandResult:
    """A COMMAND_RESULT notification: ``status`` is the HTTP-style code when the payload is
    one (2 bytes, high byte first as in the firmware sample), else None (e.g. HELLO's text)."""

    ref: int
    payload: bytes
    status: int | None

    @property
    def ok(self) -> bool:
        return self.status is None or 200 <= self.status < 300


def parse_command_result(data: bytes | bytearray | memoryview) -> CommandResult:
    b = bytes(data)
    if len(b) < 2:
        raise DecodeError("truncated", "command result needs >= 2 bytes")
    if b[0] != RESP_COMMAND_RESULT:
        raise DecodeError("unknown_frame_type", f"not a command result (type {b[0]})")
    payload = b[2:]
    status = int.from_bytes(payload, "big") if len(payload) == 2 else None
    return CommandResult(ref=b[1], payload=payload, status=status)


def encode_command_result(ref: int, status: int) -> bytes:
    """Device side: COMMAND_RESULT with an HTTP-style status (e.g. 507 -> ``01 r 01 fb``)."""
    return bytes([RESP_COMMAND_RESULT, _check_ref(ref)]) + int(status).to_bytes(2, "big")


def encode_hello_response(ref: int) -> bytes:
    """Device side: the answer to HELLO."""
    return bytes([RESP_COMMAND_RESULT, _check_ref(ref)]) + b"Hello"


# --------------------------------------------------------------------------- DATA payloads


def encode_data_payload(spec: StreamSpec, timestamp_ms: int, *, acc=None, gyr=None, mag=None) -> bytes:
    """DATA payload (without the 2-byte header) for ``spec``: u32 timestamp (ms, wraps) and
    the float32 arrays.  acc m/s², gyr rad/s (sent as °/s), mag µT; each float[n, 3]."""
    given = {"acc": acc, "gyr": gyr, "mag": mag}
    arrays = []
    n = None
    for name in spec.arrays:
        v = given[name]
        if v is None:
            raise ValueError(f"{spec.resource} needs {name}")
        a = np.asarray(v, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] < 1 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite with shape (n >= 1, 3)")
        if n is not None and a.shape[0] != n:
            raise ValueError("all arrays need the same number of samples")
        n = a.shape[0]
        arrays.append(a / _DEG_TO_RAD if name == "gyr" else a)
    for name, v in given.items():
        if v is not None and name not in spec.arrays:
            raise ValueError(f"{spec.resource} has no {name} array")
    body = b"".join(a.astype("<f4").tobytes() for a in arrays)
    return (int(timestamp_ms) & 0xFFFFFFFF).to_bytes(4, "little") + body


def decode_data_payload(payload: bytes, spec: StreamSpec) -> tuple[int, dict[str, np.ndarray]]:
    """DATA payload -> (raw u32 timestamp ms, {"acc"/"gyr"/"mag": float64[n, 3]}) in SI
    (gyro converted to rad/s).  Raises DecodeError."""
    if len(payload) < 4:
        raise DecodeError("truncated", "DATA payload shorter than its timestamp")
    body = len(payload) - 4
    if body == 0:
        raise DecodeError("bad_length", "DATA payload without samples")
    if body % spec.stride:
        raise DecodeError("bad_length", f"{body} sample bytes is not a multiple of {spec.stride} ({spec.resource})")
    n = body // spec.stride
    ts = int.from_bytes(payload[:4], "little")
    floats = np.frombuffer(payload, dtype="<f4", offset=4).astype(np.float64)
    if not np.all(np.isfinite(floats)):
        raise DecodeError("bad_value", "NaN or infinite sample")
    out = {}
    for i, name in enumerate(spec.arrays):
        a = floats[i * 3 * n : (i + 1) * 3 * n].reshape(n, 3)
        out[name] = a * _DEG_TO_RAD if name == "gyr" else a
    return ts, out


def encode_data(
    ref: int,
    spec: StreamSpec | str,
    timestamp_ms: int,
    *,
    acc=None,
    gyr=None,
    mag=None,
    max_len: int = DEFAULT_MAX_NOTIFICATION,
) -> list[bytes]:
    """Device side: the notification(s) carrying one DATA message — ``[2, ref, payload]``,
    continued in ``[3, ref, …]`` (and ``[4, ref, …]``) when longer than ``max_len``."""
    sp = parse_path(spec) if isinstance(spec, str) else spec
    r = _check_ref(ref)
    payload = encode_data_payload(sp, timestamp_ms, acc=acc, gyr=gyr, mag=mag)
    room = int(max_len) - 2
    if room < 8:
        raise ValueError("max_len too small")
    chunks = [payload[i : i + room] for i in range(0, len(payload), room)]
    if len(chunks) > 3:
        raise ValueError(f"DATA of {len(payload)} bytes needs {len(chunks)} notifications (max 3); send fewer samples")
    codes = (RESP_DATA, RESP_DATA_PART2, RESP_DATA_PART3)
    return [bytes([codes[i], r]) + c for i, c in enumerate(chunks)]


def packetize(
    time,
    *,
    ref: int,
    path: str,
    acc=None,
    gyr=None,
    mag=None,
    samples_per_packet: int | None = None,
    max_len: int = DEFAULT_MAX_NOTIFICATION,
) -> list[bytes]:
    """Turn a continuous stream into the notifications a Movesense sensor subscribed to
    ``path`` under ``ref`` would send.  time: float[n] s (sensor clock); acc m/s², gyr rad/s,
    mag µT, each float[n, 3] as the resource needs.  A gap in ``time`` starts a new message.
    ``samples_per_packet`` defaults to rate/13 (1 at 13 Hz … 8 at 104 Hz and above)."""
    spec = parse_path(path)
    t = np.asarray(time, dtype=np.float64)
    given = {"acc": acc, "gyr": gyr, "mag": mag}
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in given.items() if v is not None}
    for k, a in arrays.items():
        if a.shape != (t.shape[0], 3):
            raise ValueError(f"{k} must have shape (len(time), 3)")
    if samples_per_packet is None:
        samples_per_packet = min(8, max(1, int(round(spec.rate_hz / 13.0))))
    out: list[bytes] = []
    for s, e in regular_chunks(t, spec.rate_hz, samples_per_packet):
        out += encode_data(
            ref,
            spec,
            int(round(t[s] * 1000.0)),
            max_len=max_len,
            **{k: a[s:e] for k, a in arrays.items()},
        )
    return out


# --------------------------------------------------------------------------- decoder


@dataclass
class _Sub:
    spec: StreamSpec
    expected_samples: int | None
    clock: WrapUnwrapper
    pending: bytearray | None = None
    parts: int = 0


class MovesenseDecoder:
    """Per-connection decoder of the GSP notify characteristic.

    Register each subscription with :meth:`subscribe` (it returns the bytes to write), then
    feed every notification to :meth:`decode`:

    * DATA of a subscribed reference -> a :class:`Packet` (``kind`` ``"movesense_imu6"`` …);
    * a first fragment (continued by DATA_PART2/3) -> ``None`` until the message is complete;
    * COMMAND_RESULT -> ``None``; it is appended to :attr:`command_results` (and logged when
      it reports an error).

    A message is complete when its sample bytes are a multiple of the resource's stride (and
    equal ``expected_samples`` x stride if given at subscription — give it when the firmware's
    samples per notification are known, as it removes the one ambiguity of the format).
    A first fragment left incomplete when the next DATA of the same reference arrives is
    dropped, logged and counted in :attr:`dropped_fragments`.
    """

    kind = "movesense"

    def __init__(self) -> None:
        self._subs: dict[int, _Sub] = {}
        self.command_results: deque[CommandResult] = deque(maxlen=64)
        self.dropped_fragments = 0

    def subscribe(self, ref: int, path: str, *, expected_samples: int | None = None) -> bytes:
        """Register stream ``path`` under ``ref`` and return the SUBSCRIBE command bytes."""
        spec = parse_path(path)
        r = _check_ref(ref)
        self._subs[r] = _Sub(spec=spec, expected_samples=expected_samples, clock=WrapUnwrapper(1 << 32))
        return subscribe_command(r, spec.path)

    def unsubscribe(self, ref: int) -> bytes:
        """Forget ``ref`` and return the UNSUBSCRIBE command bytes."""
        r = _check_ref(ref)
        self._subs.pop(r, None)
        return unsubscribe_command(r)

    def reset(self) -> None:
        """Drop fragments and clock references (after a reconnect); subscriptions are kept."""
        for s in self._subs.values():
            s.pending = None
            s.parts = 0
            s.clock.reset()

    def _complete(self, sub: _Sub, payload_len: int) -> bool:
        body = payload_len - 4
        if body <= 0 or body % sub.spec.stride:
            return False
        if sub.expected_samples is not None:
            n = body // sub.spec.stride
            if n > sub.expected_samples:
                raise DecodeError("bad_length", f"{n} samples, subscription expects {sub.expected_samples}")
            return n == sub.expected_samples
        return True

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        b = bytes(data)
        if len(b) < 2:
            raise DecodeError("truncated", f"notification needs >= 2 bytes, got {len(b)}")
        code, ref = b[0], b[1]
        if code == RESP_COMMAND_RESULT:
            res = parse_command_result(b)
            self.command_results.append(res)
            if not res.ok:
                log.warning("Movesense command ref %d failed with status %s", res.ref, res.status)
            return None
        if code not in (RESP_DATA, RESP_DATA_PART2, RESP_DATA_PART3):
            raise DecodeError("unknown_frame_type", f"GSP notification type {code}")
        sub = self._subs.get(ref)
        if sub is None:
            raise DecodeError("unknown_reference", f"DATA for reference {ref}, which was not subscribed")
        if code == RESP_DATA:
            if sub.pending is not None:
                self.dropped_fragments += 1
                log.warning("Movesense ref %d: incomplete message of %d bytes dropped", ref, len(sub.pending))
            sub.pending = bytearray(b[2:])
            sub.parts = 1
        else:
            if sub.pending is None or code != RESP_DATA_PART2 + sub.parts - 1:
                sub.pending = None
                sub.parts = 0
                raise DecodeError("unexpected_fragment", f"continuation type {code} for ref {ref} without its first part")
            sub.pending += b[2:]
            sub.parts += 1
        try:
            complete = self._complete(sub, len(sub.pending))
        except DecodeError:
            sub.pending = None
            sub.parts = 0
            raise
        if not complete:
            if sub.parts >= 3:
                sub.pending = None
                sub.parts = 0
                raise DecodeError("bad_length", f"ref {ref}: message still incomplete after 3 parts")
            return None
        payload = bytes(sub.pending)
        sub.pending = None
        sub.parts = 0
        ts_raw, arrays = decode_data_payload(payload, sub.spec)
        ts_ms = sub.clock.unwrap(ts_raw)
        n = next(iter(arrays.values())).shape[0]
        t = ts_ms * 1e-3 + np.arange(n, dtype=np.float64) / sub.spec.rate_hz
        return Packet(kind=sub.spec.kind, t_s=t, acc=arrays.get("acc"), gyr=arrays.get("gyr"), mag=arrays.get("mag"))

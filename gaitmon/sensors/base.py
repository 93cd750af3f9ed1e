"""Common result type and error type of every gaitmon packet decoder.

Every decoder in :mod:`gaitmon.sensors` turns the bytes of one BLE notification into a
:class:`Packet` in SI units, or raises :class:`DecodeError` with a short machine-readable
``reason`` — never ``IndexError``, ``struct.error`` or the like — so the collector can count
rejections by reason and keep running.

Units (all decoders, all devices):

* ``t_s``  — seconds on the *sensor's* clock (not wall time); float64[n], one per sample.
* ``acc``  — specific force in m/s² in the SENSOR frame (a sensor lying still reads about
  +9.81 m/s² on its up axis); float64[n, 3].
* ``gyr``  — angular velocity in rad/s in the SENSOR frame; float64[n, 3].
* ``mag``  — magnetic flux density in µT in the SENSOR frame; float64[n, 3].

This module is pure (no I/O, no bleak).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "REASONS",
    "DecodeError",
    "Packet",
    "Decoder",
    "WrapUnwrapper",
    "seq_delta",
    "regular_chunks",
    "STANDARD_GRAVITY",
]

#: Standard gravity in m/s² (used to convert g and mG to m/s²).
STANDARD_GRAVITY = 9.80665

#: Every ``DecodeError.reason`` a decoder may use.  Collectors count rejections by these.
REASONS = frozenset(
    {
        "truncated",  # fewer bytes than the header/length fields announce
        "bad_length",  # more bytes than announced, or a length that cannot be valid
        "bad_version",  # protocol version this decoder does not speak
        "bad_field",  # a header/config field with an impossible value (zero interval, bad axis code...)
        "bad_value",  # a sample value that is NaN / infinite
        "unknown_frame_type",  # frame / packet / response type this decoder does not know
        "unknown_measurement",  # a measurement type (e.g. Polar ECG) this decoder does not decode
        "bad_compression",  # a malformed delta-compressed block
        "bad_timestamp",  # timestamps that cannot be turned into sample times
        "not_configured",  # decoder lacks the configuration (sample rate, ranges...) it needs
        "unexpected_fragment",  # a continuation fragment without its first part
        "unknown_reference",  # a stream reference that was never subscribed
    }
)


class DecodeError(ValueError):
    """A notification could not be decoded.

    ``reason`` is one of :data:`REASONS` (short, machine-readable, for counters);
    the message explains the details for a log line.
    """

    def __init__(self, reason: str, message: str = "") -> None:
        if reason not in REASONS:  # programming error in a decoder
            raise ValueError(f"unknown DecodeError reason {reason!r}")
        self.reason = reason
        super().__init__(f"{reason}: {message}" if message else reason)


def _frozen_array(a, dtype, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    if arr.ndim != 1 + len(shape_tail) or arr.shape[1:] != shape_tail:
        raise ValueError(f"Packet.{name} must have shape (n,{','.join(map(str, shape_tail))}), got {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, kw_only=True, eq=False)
class Packet:
    """Samples decoded from one notification (or one reassembled message).

    Attributes:
        kind: what produced it, e.g. ``"gaitmon"``, ``"polar_acc"``, ``"polar_gyr"``,
            ``"movesense_imu6"``.
        t_s: float64[n] sample times in seconds on the sensor's clock.
        acc: float64[n, 3] specific force in m/s², sensor frame, or ``None``.
        gyr: float64[n, 3] angular velocity in rad/s, sensor frame, or ``None``.
        mag: float64[n, 3] magnetic field in µT, sensor frame, or ``None``.
        seq: the packet's sequence number exactly as sent (wraps; see :func:`seq_delta`),
            or ``None`` when the protocol has none.
        saturated: bool[n] — True where any channel of that sample sat at the sensor's
            range limit (the value is clipped, not trustworthy), or ``None`` if unknown.

    Arrays are read-only copies.
    """

    kind: str
    t_s: np.ndarray
    acc: np.ndarray | None = None
    gyr: np.ndarray | None = None
    mag: np.ndarray | None = None
    seq: int | None = None
    saturated: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        t = _frozen_array(self.t_s, np.float64, (), "t_s")
        object.__setattr__(self, "t_s", t)
        n = t.shape[0]
        for name in ("acc", "gyr", "mag"):
            v = getattr(self, name)
            if v is not None:
                arr = _frozen_array(v, np.float64, (3,), name)
                if arr.shape[0] != n:
                    raise ValueError(f"Packet.{name} has {arr.shape[0]} rows, t_s has {n}")
                object.__setattr__(self, name, arr)
        if self.saturated is not None:
            s = _frozen_array(self.saturated, bool, (), "saturated")
            if s.shape[0] != n:
                raise ValueError(f"Packet.saturated has {s.shape[0]} entries, t_s has {n}")
            object.__setattr__(self, "saturated", s)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.t_s.shape[0])


@runtime_checkable
class Decoder(Protocol):
    """Per-connection decoder of one device family.

    It holds what the bytes alone do not say (sample rate and ranges, the previous frame's
    timestamp, clock wrap-around, half-received fragments).  ``decode`` returns a
    :class:`Packet`, or ``None`` when the notification was valid but completes no samples yet
    (a first fragment, a command answer); it raises :class:`DecodeError` for malformed input.
    ``reset`` forgets per-connection state (call it after a reconnect).
    """

    kind: str

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None: ...

    def reset(self) -> None: ...


def seq_delta(prev: int, cur: int, bits: int = 16) -> int:
    """Forward distance from sequence number ``prev`` to ``cur`` modulo ``2**bits``.

    1 means "the next packet", 0 a duplicate; ``seq_delta(p, c) - 1`` packets were lost in
    between (if the gap is shorter than the wrap period).  Example: 65535 -> 0 gives 1.
    """
    m = 1 << bits
    return (int(cur) - int(prev)) % m


class WrapUnwrapper:
    """Turns a wrapping unsigned counter (e.g. a u32 µs clock) into a monotonic integer.

    The first value is taken as is; each following value is placed at the nearest position
    (forward or backward by less than half the modulus) to the previous one, so a wrap from
    ``2**32 - 1`` to ``0`` continues at ``2**32``.  Gaps longer than half the wrap period
    cannot be told apart and are not handled.
    """

    def __init__(self, modulus: int) -> None:
        if modulus <= 1:
            raise ValueError("modulus must be > 1")
        self.modulus = int(modulus)
        self._last: int | None = None

    def reset(self) -> None:
        self._last = None

    def unwrap(self, raw: int) -> int:
        raw = int(raw) % self.modulus
        if self._last is None:
            self._last = raw
            return raw
        d = (raw - self._last) % self.modulus
        if d >= self.modulus // 2:
            d -= self.modulus
        self._last += d
        return self._last


def regular_chunks(time, rate_hz: float, max_samples: int):
    """Index ranges ``(start, end)`` that cut a sample stream into device packets: runs of
    at most ``max_samples`` consecutive samples, never spanning a gap (an interval off the
    nominal ``1/rate_hz`` by more than half of it).  ``time`` in seconds, float[n].
    Used by the encoders' ``packetize`` functions (virtual sensors)."""
    t = np.asarray(time, dtype=np.float64)
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError("time must be 1-D and finite")
    if max_samples < 1:
        raise ValueError("max_samples must be >= 1")
    n = t.shape[0]
    if n == 0:
        return
    dt = 1.0 / float(rate_hz)
    breaks = np.flatnonzero(np.abs(np.diff(t) - dt) > 0.5 * dt) + 1
    for s0, e0 in zip(np.concatenate(([0], breaks)), np.concatenate((breaks, [n]))):
        for s in range(int(s0), int(e0), max_samples):
            yield s, min(s + max_samples, int(e0))

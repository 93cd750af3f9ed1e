"""Sensor Logger's live HTTP push (and MQTT) messages -> gaitmon samples (pure, no I/O).

Message format, from the app's documentation — github.com/tszheichoi/awesome-sensor-logger,
commit b10f5c53, PUSHING.md (schema, "time is always in UTC epoch nanoseconds", the Dash example reading
``d["values"]["x"]``) — and a real capture, github.com/mhaberler/sensorlogger-telegraf, commit 7251240c,
``log.js``::

    {"messageId": 36, "sessionId": "…", "deviceId": "…",
     "payload": [{"name": "barometer", "values": {"relativeAltitude": 0, "pressure": 994.28},
                  "accuracy": 3, "time": 1658038822740147200}, …]}

The sensor ``name`` is the export's file name in lower case (``accelerometer``, ``location`` in
PUSHING.md; ``totalacceleration`` and ``gyroscope`` as consumed by public receivers). Units and signs
are those of the exports (UNITS.md, CROSSPLATFORM.md; see :mod:`gaitmon.sources.sensorlogger`); a
message does not say which platform sent it, so the decoder is told (``platform``, ``standardised``).

:class:`SensorLoggerPushDecoder` is stateful like the BLE decoders: messages carry batches of each
sensor on its own clock, so it keeps the tail of every stream and emits samples on a uniform grid
(multiples of ``1/rate_hz`` on the phone's UTC clock) only where the accelerometer (with gravity) and
the gyroscope both have two close samples around the instant — gaps stay gaps, and the collector's
accounting sees them as missing grid samples. Samples older than what was already emitted (late or
re-sent messages) are dropped and counted in ``late_samples``.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .base import STANDARD_GRAVITY, DecodeError, Packet
from .grid import bracket_interp, clean, emit_grid, max_gap

__all__ = ["SensorLoggerPushDecoder", "IMU_NAMES"]

IMU_NAMES = ("accelerometer", "gravity", "totalacceleration", "accelerometeruncalibrated", "gyroscope",
             "gyroscopeuncalibrated")


def _empty():
    return np.empty(0), np.empty((0, 3))


def _append(buf, t, v):
    tb, vb = buf
    tt, vv, _ = clean(np.concatenate([tb, t]), np.concatenate([vb, v]))
    return tt, vv


class SensorLoggerPushDecoder:
    """Decode Sensor Logger push messages (JSON bytes) into uniform-grid gaitmon packets.

    Args:
        rate_hz: the grid rate (the app's sampling rate setting, e.g. 100).
        platform: ``"ios"`` or ``"android"`` (the acceleration sign differs, CROSSPLATFORM.md).
        standardised: "Standardise Units & Frames" was on (iOS then uses Android's convention).
    """

    def __init__(self, rate_hz: float, *, platform: str = "android", standardised: bool = False) -> None:
        if not rate_hz > 0:
            raise ValueError("rate_hz must be > 0")
        if platform not in ("ios", "android"):
            raise ValueError("platform must be 'ios' or 'android'")
        self.fs = float(rate_hz)
        self.ios_native = platform == "ios" and not standardised
        self.max_gap = max_gap(1.0 / self.fs)
        self._buf = {n: _empty() for n in ("acc", "user", "gravity", "gyr")}
        self._acc_source: str | None = None
        self._gyr_source: str | None = None
        self._k_next: int | None = None  # next grid index (time = k / fs, UTC seconds)
        self.late_samples = 0
        self.messages = 0
        self.last_message_id: int | None = None

    # ------------------------------------------------------------------ parsing
    def _parse(self, data: bytes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        try:
            msg = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DecodeError("bad_field", f"not a JSON message: {e}") from None
        if not isinstance(msg, dict) or not isinstance(msg.get("payload"), list):
            raise DecodeError("bad_field", "no 'payload' array")
        mid = msg.get("messageId")
        self.last_message_id = mid if isinstance(mid, int) else None
        rows: dict[str, tuple[list, list]] = {}
        for e in msg["payload"]:
            if not isinstance(e, dict):
                raise DecodeError("bad_field", "payload entry is not an object")
            name = str(e.get("name", "")).lower()
            if name not in IMU_NAMES:
                continue  # location, barometer, ...: not used
            vals = e.get("values")
            try:
                t = int(e["time"])
                x, y, z = (float(vals[c]) for c in ("x", "y", "z"))
            except (KeyError, TypeError, ValueError) as ex:
                raise DecodeError("bad_field", f"{name} entry without time/values.x,y,z: {ex}") from None
            if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)) or t <= 0:
                raise DecodeError("bad_value", f"{name}: non-finite value or time")
            r = rows.setdefault(name, ([], []))
            r[0].append(t)
            r[1].append((x, y, z))
        out = {}
        for name, (t, v) in rows.items():
            tn = np.array(t, dtype=np.int64)
            out[name] = (tn // 1_000_000_000 + (tn % 1_000_000_000) / 1e9, np.array(v, dtype=np.float64))
        return out

    # ------------------------------------------------------------------ decoding
    def decode(self, data: bytes) -> Packet | None:
        """One pushed message -> the grid samples that became complete, or None (nothing new yet)."""
        streams = self._parse(data)
        self.messages += 1
        if self._k_next is not None:  # samples at or before what was already emitted: late
            done = (self._k_next - 1) / self.fs
            for name, (t, v) in list(streams.items()):
                late = t <= done
                if late.any():
                    self.late_samples += int(late.sum())
                    streams[name] = (t[~late], v[~late])
        sign = -1.0 if self.ios_native else 1.0
        # the accelerometer with gravity, in order of preference (as for the exports)
        if "totalacceleration" in streams or self._acc_source == "totalacceleration":
            self._acc_source = "totalacceleration"
            if "totalacceleration" in streams:
                t, v = streams["totalacceleration"]
                self._buf["acc"] = _append(self._buf["acc"], t, sign * v)
        elif ("accelerometer" in streams and "gravity" in streams) or self._acc_source == "accelerometer+gravity":
            self._acc_source = "accelerometer+gravity"
            for src, dst in (("accelerometer", "user"), ("gravity", "gravity")):
                if src in streams:
                    t, v = streams[src]
                    self._buf[dst] = _append(self._buf[dst], t, sign * v)
            self._combine_user_gravity()
        elif "accelerometeruncalibrated" in streams or self._acc_source == "accelerometeruncalibrated":
            self._acc_source = "accelerometeruncalibrated"
            if "accelerometeruncalibrated" in streams:
                t, v = streams["accelerometeruncalibrated"]
                scale = -STANDARD_GRAVITY if self.ios_native else 1.0  # g on native iOS (UNITS.md)
                self._buf["acc"] = _append(self._buf["acc"], t, scale * v)
        for g in ("gyroscope", "gyroscopeuncalibrated"):
            if g in streams and self._gyr_source in (None, g):
                self._gyr_source = g
                t, v = streams[g]
                self._buf["gyr"] = _append(self._buf["gyr"], t, v)
        return self._emit()

    def _combine_user_gravity(self) -> None:
        tu, vu = self._buf["user"]
        tg, vg = self._buf["gravity"]
        if len(tu) == 0 or len(tg) == 0:
            return
        ready = tu <= tg[-1]
        if not ready.any():
            return
        g, ok = bracket_interp(tu[ready], tg, vg, self.max_gap)
        self._buf["acc"] = _append(self._buf["acc"], tu[ready][ok], vu[ready][ok] + g[ok])
        self._buf["user"] = (tu[~ready], vu[~ready])
        keep = max(int(np.searchsorted(tg, tu[ready][-1], side="right")) - 1, 0)
        self._buf["gravity"] = (tg[keep:], vg[keep:])

    def _emit(self) -> Packet | None:
        self._k_next, out = emit_grid(self._buf, self.fs, self.max_gap, self._k_next, "sensorlogger")
        return out

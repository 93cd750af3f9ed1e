"""phyphox remote-access API (``/config``, ``/get``) responses -> gaitmon samples (pure, no I/O).

Source: phyphox's own server, github.com/phyphox/phyphox-android, commit cb5f8d8f,
``app/src/main/java/de/rwth_aachen/phyphox/RemoteServer.java``:

* ``GET /config`` -> JSON with ``inputs``: ``[{"source": "accelerometer", "outputs": [{"x": "accX"},
  {"y": "accY"}, {"z": "accZ"}, {"t": "acc_time"}]}, {"source": "gyroscope", …}]`` (the buffer
  names of the running experiment);
* ``GET /get?acc_time=T&accX=T|acc_time&…`` -> ``{"buffer": {"acc_time": {"size": n, "updateMode":
  "partial", "buffer": [values…]}, …}, "status": {"session": "…", "measuring": true, …}}``: every
  value of ``accX`` at the indices where ``acc_time`` > T (T is nudged up by 10^floor(log10(T/1e7))
  to skip the value already sent; numbers have 8 significant digits, ``null`` for NaN);
  ``T = full`` sends the whole buffer; ``GET /control?cmd=start|stop`` starts/stops the measurement.

Times are phyphox's *experiment time* (s since the start; it does not advance while paused), the
accelerometer is m/s² with gravity in Android's convention on both platforms (phyphox-ios scales
CoreMotion by −9.81), the gyroscope rad/s. :class:`PhyphoxRemoteDecoder` merges the two streams onto
a uniform grid like the Sensor Logger push decoder (gaps stay gaps).
"""

from __future__ import annotations

import json

import numpy as np

from .base import DecodeError, Packet
from .grid import emit_grid, max_gap
from .sensorlogger_push import _append, _empty

__all__ = ["buffers_from_config", "get_query", "PhyphoxRemoteDecoder"]


def buffers_from_config(config: bytes | str | dict) -> dict[str, dict[str, str]]:
    """{"acc": {"t": …, "x": …, "y": …, "z": …}, "gyr": {…}} from a ``/config`` answer.

    Raises ValueError naming what is missing (the experiment must record both sensors)."""
    cfg = config if isinstance(config, dict) else json.loads(config)
    out: dict[str, dict[str, str]] = {}
    for inp in cfg.get("inputs", []):
        src = str(inp.get("source", "")).lower()
        kind = {"accelerometer": "acc", "gyroscope": "gyr"}.get(src)
        if kind is None or kind in out:
            continue
        names = {}
        for o in inp.get("outputs", []):
            names.update({k: str(v) for k, v in o.items()})
        if all(c in names for c in "txyz"):
            out[kind] = {c: names[c] for c in "txyz"}
    missing = [n for k, n in (("acc", "accelerometer"), ("gyr", "gyroscope")) if k not in out]
    if missing:
        raise ValueError(f"the phyphox experiment has no {' and no '.join(missing)} with t,x,y,z buffers "
                         "(use a simple experiment with the accelerometer and the gyroscope)")
    return out


def get_query(buffers: dict[str, dict[str, str]], since: dict[str, float | None]) -> str:
    """The ``/get`` query asking for every value after ``since[kind]`` (None: the whole buffer)."""
    parts = []
    for kind, b in buffers.items():
        th = since.get(kind)
        t = "full" if th is None else repr(float(th))
        parts.append(f"{b['t']}={t}")
        for c in "xyz":
            parts.append(f"{b[c]}={t}" if th is None else f"{b[c]}={t}|{b['t']}")
    return "get?" + "&".join(parts)


class PhyphoxRemoteDecoder:
    """Turn ``/get`` answers (bytes) into uniform-grid packets at ``rate_hz``.

    ``last_t``: per stream, the last experiment time received (for the next query's threshold);
    ``measuring``: the phone's status in the last answer.
    """

    kind = "phyphox"

    def __init__(self, buffers: dict[str, dict[str, str]], rate_hz: float) -> None:
        if not rate_hz > 0:
            raise ValueError("rate_hz must be > 0")
        self.buffers = buffers
        self.fs = float(rate_hz)
        self.max_gap = max_gap(1.0 / self.fs)
        self.reset()

    def reset(self) -> None:
        self._buf = {"acc": _empty(), "gyr": _empty()}
        self._k_next: int | None = None
        self.last_t: dict[str, float | None] = {"acc": None, "gyr": None}
        self.measuring: bool | None = None
        self.session: str | None = None

    def _stream(self, buf: dict, kind: str) -> tuple[np.ndarray, np.ndarray]:
        names = self.buffers[kind]
        cols = []
        for c in "txyz":
            b = buf.get(names[c])
            if not isinstance(b, dict) or not isinstance(b.get("buffer"), list):
                raise DecodeError("bad_field", f"no buffer '{names[c]}' in the answer")
            cols.append(b["buffer"])
        n = min(len(c) for c in cols)
        try:
            a = np.array([[np.nan if v is None else float(v) for v in c[:n]] for c in cols], dtype=float).T
        except (TypeError, ValueError) as e:
            raise DecodeError("bad_value", f"{kind}: {e}") from None
        a = a.reshape(-1, 4)
        a = a[np.all(np.isfinite(a), axis=1)]
        return a[:, 0], a[:, 1:]

    def decode(self, data: bytes | bytearray | memoryview) -> Packet | None:
        try:
            msg = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DecodeError("bad_field", f"not a JSON answer: {e}") from None
        if not isinstance(msg, dict) or not isinstance(msg.get("buffer"), dict):
            raise DecodeError("bad_field", "no 'buffer' object")
        st = msg.get("status") or {}
        if isinstance(st, dict):
            self.measuring = bool(st.get("measuring")) if "measuring" in st else None
            self.session = st.get("session", self.session)
        for kind in ("acc", "gyr"):
            t, v = self._stream(msg["buffer"], kind)
            if len(t) == 0:
                continue
            if self.last_t[kind] is not None:  # only what is new (the threshold is approximate)
                keep = t > self.last_t[kind]
                t, v = t[keep], v[keep]
            if len(t):
                self.last_t[kind] = float(t.max()) if self.last_t[kind] is None else max(self.last_t[kind], float(t.max()))
                self._buf[kind] = _append(self._buf[kind], t, v)
        self._k_next, out = emit_grid(self._buf, self.fs, self.max_gap, self._k_next, self.kind)
        return out


def estimate_rate(t) -> float | None:
    """A phone's sensor rate (Hz, whole) from about a second of timestamps: the mean interval, which
    jitter barely moves (the median of jittered intervals can be off by a percent)."""
    u = np.unique(np.asarray(t, float))
    if len(u) < 8 or not u[-1] > u[0]:
        return None
    return float(round((len(u) - 1) / (u[-1] - u[0])))

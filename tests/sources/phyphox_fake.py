"""A stand-in for phyphox's remote-access server, written from its source — github.com/phyphox/phyphox-android,
commit cb5f8d8ff33d081953bf15af228045b3d7badbb8, ``RemoteServer.java`` (``handleConfig``: ``inputs``
with ``source`` and ``outputs``; ``handleGet``/``parseBufferRequest``/``buildBuffer``: ``name=full``,
``name=T``, ``name=T|ref`` with T nudged by 10^floor(log10(T/1e7)), "0.#######E0" numbers, ``null`` for
NaN, ``status`` with ``session``/``measuring``; ``handleControl``: ``cmd=start|stop``) and the buffer
names of ``SimpleExperimentCreator.java`` (acc_time, accX…, gyr_time, gyrX…).

No capture of a real phyphox remote session was found; this server replays recorded samples in
experiment time (which, as in phyphox, stands still while paused).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from urllib.parse import parse_qsl, urlsplit

import numpy as np

BUFFERS = {"acc": ("acc_time", "accX", "accY", "accZ"), "gyr": ("gyr_time", "gyrX", "gyrY", "gyrZ")}


def java_fmt(v: float) -> str:
    if v is None or not math.isfinite(v):
        return "null"
    m, e = f"{v:.7E}".split("E")
    if "." in m:
        m = m.rstrip("0").rstrip(".")
    return f"{m}E{int(e)}"


class FakePhyphox:
    """Serves ``streams`` = {"acc": (t, xyz), "gyr": (t, xyz)} (experiment time, s) at ``speed``x."""

    def __init__(self, streams: dict, *, speed: float = 1.0, autostart: bool = False) -> None:
        self.streams = streams
        self.speed = speed
        self.measuring = False
        self._t_exp = 0.0  # experiment time when the clock was last (re)started
        self._since = None  # host time of the last (re)start, None while paused
        self.port = None
        self._server = None
        self.requests: list[str] = []
        if autostart:
            self.start()

    # experiment clock
    def now_exp(self) -> float:
        if self._since is None:
            return self._t_exp
        return self._t_exp + (time.monotonic() - self._since) * self.speed

    def start(self) -> None:
        if not self.measuring:
            self.measuring = True
            self._since = time.monotonic()

    def pause(self) -> None:
        if self.measuring:
            self._t_exp = self.now_exp()
            self._since = None
            self.measuring = False

    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    # HTTP
    async def _handle(self, reader, writer):
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            target = line.split()[1].decode()
            self.requests.append(target)
            u = urlsplit(target)
            if u.path == "/config":
                body = self._config()
            elif u.path == "/get":
                body = self._get(u.query)
            elif u.path == "/control":
                q = dict(parse_qsl(u.query))
                if q.get("cmd") == "start":
                    self.start()
                elif q.get("cmd") == "stop":
                    self.pause()
                body = json.dumps({"result": True})
            else:
                body = "{}"
            data = body.encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(data)).encode() + b"\r\n\r\n" + data)
            await writer.drain()
        finally:
            writer.close()

    def _config(self) -> str:
        inputs = [{"source": src, "outputs": [{"x": b[1]}, {"y": b[2]}, {"z": b[3]}, {"t": b[0]}]}
                  for src, b in (("accelerometer", BUFFERS["acc"]), ("gyroscope", BUFFERS["gyr"]))]
        return json.dumps({"crc32": "0", "title": "gaitmon walk", "inputs": inputs,
                           "buffers": [{"name": n, "size": 0} for b in BUFFERS.values() for n in b]})

    def _visible(self, kind):
        t, v = self.streams[kind]
        n = int(np.searchsorted(t, self.now_exp(), side="right")) if self.measuring or self._t_exp else 0
        return t[:n], v[:n]

    def _get(self, query: str) -> str:
        out = []
        cols = {}
        for kind, names in BUFFERS.items():
            t, v = self._visible(kind)
            cols[names[0]] = t
            for i, n in enumerate(names[1:]):
                cols[n] = v[:, i]
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name not in cols:
                continue
            data = cols[name]
            if value == "":
                mode, vals = "single", [data[-1]] if len(data) else [float("nan")]
            elif value == "full":
                mode, vals = "full", list(data)
            else:
                th, _, ref = value.partition("|")
                th = float(th)
                if th > 0:
                    th += 10 ** math.floor(math.log10(th / 1e7))
                refd = cols[ref] if ref else data
                n = min(len(data), len(refd))
                mode, vals = "partial", [data[i] for i in range(n) if refd[i] > th]
            out.append(f'"{name}":{{"size":0,"updateMode":"{mode}", "buffer":[{",".join(java_fmt(x) for x in vals)}]}}')
        status = (f'"status":{{\n"session":"fake1", "measuring":{str(self.measuring).lower()}, '
                  f'"timedRun":false, "countDown":0\n}}')
        return '{"buffer":{\n' + ",\n".join(out) + "\n},\n" + status + "\n}\n"

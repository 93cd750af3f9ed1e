"""Phones as live sensors: Sensor Logger's HTTP push (a small HTTP server) and phyphox's
remote-access API (polled).

Sensor Logger (github.com/tszheichoi/awesome-sensor-logger, PUSHING.md) POSTs a JSON message with a
batch of samples of every enabled sensor, once per batch period, to a URL set in the app
(``http://<this computer>:<port>/``). :class:`PushServer` accepts those POSTs (HTTP/1.1, keep-alive,
``Content-Length`` or chunked bodies) and hands each body to the :class:`PhoneLink` of the phone that
sent it (matched by ``deviceId``; the first message of an unknown phone binds it to a free link).
A :class:`PhoneLink` is a :class:`~gaitmon.collector.link.Link` like a BLE connection: it is
"connected" while messages keep coming and "lost" after ``idle_timeout_s`` without one, so the
collector's session (decoding, gap accounting, clock mapping, recording, reconnects, the live
pipeline and InfluxDB) runs unchanged with the ``sensorlogger`` profile.

Replies: ``200`` for accepted messages; ``499`` with a text for a phone gaitmon has no runner for —
the app shows that text to the user (PUSHING.md). No authentication: listen on a trusted network only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from .link import LinkError, NotifyCallback

__all__ = ["PushServer", "PhoneLink", "PhyphoxLink", "post_message", "http_get"]

log = logging.getLogger("gaitmon.collector.phone")

MAX_BODY = 16 * 1024 * 1024


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    """HTTP header lines up to the blank line, names in lower case."""
    headers: dict[str, str] = {}
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            return headers
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], *, to_eof: bool = False) -> bytes:
    """The message body: chunked, Content-Length, or (``to_eof``) up to the end of the connection.
    Raises ValueError past MAX_BODY."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readline()
            if sum(map(len, chunks)) > MAX_BODY:
                raise ValueError("body too large")
    if headers.get("content-length"):
        n = int(headers["content-length"])
        if n > MAX_BODY:
            raise ValueError("body too large")
        return await reader.readexactly(n)
    return await reader.read(MAX_BODY) if to_eof else b""


class PushServer:
    """HTTP endpoint for Sensor Logger pushes; routes messages to :class:`PhoneLink` objects."""

    def __init__(self, host: str = "0.0.0.0", port: int = 8000) -> None:
        self.host = host
        self.port = int(port)
        self.links: list[PhoneLink] = []
        self._server: asyncio.base_events.Server | None = None
        self._lock = asyncio.Lock()
        self.messages = 0
        self.refused = 0

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        async with self._lock:
            if self._server is None:
                self._server = await asyncio.start_server(self._handle, self.host, self.port)
                self.port = self._server.sockets[0].getsockname()[1]
                log.info("listening for Sensor Logger pushes on %s", self.url)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout=2.0)
            self._server = None

    def _route(self, body: bytes) -> PhoneLink | None:
        device = None
        try:
            msg = json.loads(body.decode("utf-8"))
            if isinstance(msg, dict):
                device = msg.get("deviceId")
        except (UnicodeDecodeError, json.JSONDecodeError):
            pass  # the link's decoder counts it as malformed
        for link in self.links:
            if link.device_id is not None and link.device_id == device:
                return link
        for link in self.links:
            if link.device_id is None:
                if device is not None:
                    link.device_id = str(device)
                    log.info("phone %s -> %s", device, link.name)
                return link
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                parts = line.decode("latin-1").split()
                if len(parts) < 2:
                    await self._reply(writer, 400, "bad request line")
                    break
                method = parts[0].upper()
                headers = await _read_headers(reader)
                try:
                    body = await _read_body(reader, headers)
                except ValueError:
                    await self._reply(writer, 413, "message too large")
                    break
                if method == "POST":
                    link = self._route(body)
                    if link is None:
                        self.refused += 1
                        await self._reply(writer, 499, "gaitmon: no runner is waiting for this phone")
                    else:
                        self.messages += 1
                        link.deliver(body)
                        await self._reply(writer, 200, "ok")
                else:
                    await self._reply(writer, 200, "gaitmon: POST Sensor Logger push messages here")
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as e:
            log.debug("push connection ended: %s", e)
        except asyncio.CancelledError:  # the server is closing
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, code: int, text: str) -> None:
        reason = {200: "OK", 400: "Bad Request", 413: "Payload Too Large", 499: "Client Closed Request"}.get(code, "")
        data = text.encode()
        writer.write(f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        await writer.drain()


class _PhoneLinkBase:
    """The part of the Link protocol a phone shares: no GATT characteristics to read or write, no
    RSSI; "connected" while data come; one background task (watchdog or poller) cancelled on
    disconnect; ``_lost()`` reports the link loss to the session."""

    name: str

    def __init__(self) -> None:
        self._connected = False
        self._callback: NotifyCallback | None = None
        self._on_disconnect: Callable[[], None] | None = None
        self._task: asyncio.Task | None = None

    @property
    def is_connected(self) -> bool:
        return self._connected

    def _lost(self, why: str) -> None:
        log.info("%s: %s: link lost", self.name, why)
        self._connected = False
        if self._on_disconnect is not None:
            self._on_disconnect()

    def _run(self, coro) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(coro, name=f"{coro.__name__}-{self.name}")
        else:
            coro.close()

    async def disconnect(self) -> None:
        self._connected = False
        self._callback = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def read(self, char_uuid: str) -> bytes:
        raise LinkError(f"{self.address}: a phone has no readable characteristic {char_uuid}")

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        raise LinkError(f"{self.address}: a phone cannot be written to")

    async def stop_notify(self, char_uuid: str) -> None:
        self._callback = None

    def has_characteristic(self, char_uuid: str) -> bool:
        return False

    def set_disconnected_callback(self, callback: Callable[[], None] | None) -> None:
        self._on_disconnect = callback

    async def rssi(self) -> int | None:
        return None


class PhoneLink(_PhoneLinkBase):
    """One phone pushing to a :class:`PushServer`, seen by the collector as a Link.

    Args:
        server: the shared push server; name: display name; platform: ``"ios"``/``"android"``
        (the push messages do not say, and the acceleration sign depends on it); standardised:
        "Standardise Units & Frames" on; device_id: bind to this ``deviceId`` (None: the first
        phone that pushes); idle_timeout_s: no message for this long = link lost.
    """

    def __init__(self, server: PushServer, *, name: str = "Sensor Logger", platform: str = "android",
                 standardised: bool = False, device_id: str | None = None, idle_timeout_s: float = 5.0) -> None:
        if platform not in ("ios", "android"):
            raise ValueError("platform must be 'ios' or 'android'")
        super().__init__()
        self.server = server
        self.name = name
        self.platform = platform
        self.standardised = standardised
        self.device_id = device_id
        self.idle_timeout_s = float(idle_timeout_s)
        self.estimated_rate_hz: float | None = None
        self._queue: deque[bytes] = deque(maxlen=200)
        self._arrived: asyncio.Event | None = None
        self._last_arrival = 0.0
        self.messages = 0
        server.links.append(self)

    @property
    def address(self) -> str:
        return f"sensorlogger:{self.device_id or 'any'}@{self.server.port}"

    # ------------------------------------------------------------------ fed by the server
    def deliver(self, body: bytes) -> None:
        self.messages += 1
        self._last_arrival = time.monotonic()
        if self.estimated_rate_hz is None:  # until a message with accelerometer samples came
            self.estimated_rate_hz = _estimate_rate(body)
        if self._connected and self._callback is not None:
            self._callback(body)
        else:
            self._queue.append(body)
        if self._arrived is not None:
            self._arrived.set()

    # ------------------------------------------------------------------ Link protocol
    async def connect(self, timeout: float) -> None:
        await self.server.start()
        if self._arrived is None:
            self._arrived = asyncio.Event()
        if not self._queue and not (time.monotonic() - self._last_arrival < self.idle_timeout_s):
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=timeout)
            except TimeoutError:
                raise LinkError(f"no push from the phone within {timeout:g} s: set Sensor Logger's HTTP push "
                                f"URL to http://<this computer>:{self.server.port}/ and start a recording") from None
        self._connected = True
        self._run(self._watch())

    async def _watch(self) -> None:
        while self._connected:
            await asyncio.sleep(min(0.25, self.idle_timeout_s / 4))
            if self._connected and time.monotonic() - self._last_arrival > self.idle_timeout_s:
                self._lost(f"no push for {self.idle_timeout_s:.1f} s")

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        self._callback = callback
        while self._queue:
            callback(self._queue.popleft())

    async def aclose(self) -> None:
        await self.disconnect()
        if self in self.server.links:
            self.server.links.remove(self)
        if not self.server.links:
            await self.server.aclose()


def _estimate_rate(body: bytes) -> float | None:
    """Sampling rate (Hz) of the accelerometer-type entries of one message (mean interval, whole ms)."""
    try:
        msg = json.loads(body.decode("utf-8"))
        ts = {}
        for e in msg.get("payload", []):
            name = str(e.get("name", "")).lower()
            if name in ("totalacceleration", "accelerometer", "gyroscope"):
                ts.setdefault(name, []).append(int(e["time"]))
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None
    for t in ts.values():
        u = np.unique(np.array(t, dtype=np.int64))
        if len(u) >= 4:
            # the app's rate setting is an interval in whole milliseconds (Metadata.csv sampleRateMs)
            ms = max(1, round((u[-1] - u[0]) / (len(u) - 1) / 1e6))
            return 1000.0 / ms
    return None


async def post_message(url: str, body: bytes, *, reader_writer: list | None = None) -> int:
    """POST one message the way Sensor Logger does (JSON body, keep-alive); returns the HTTP status.

    ``reader_writer``: a one-element list holding an open (reader, writer) pair to reuse, filled
    on first use (keep-alive); None opens and closes a connection per message.
    """
    from urllib.parse import urlsplit

    u = urlsplit(url)
    if reader_writer:
        reader, writer = reader_writer[0]
    else:
        reader, writer = await asyncio.open_connection(u.hostname, u.port or 80)
        if reader_writer is not None:
            reader_writer.append((reader, writer))
    head = (f"POST {u.path or '/'} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + ("" if reader_writer is not None else "Connection: close\r\n") + "\r\n")
    writer.write(head.encode() + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    await _read_body(reader, await _read_headers(reader))
    if reader_writer is None:
        writer.close()
    return status


# ------------------------------------------------------------------------------------ phyphox
async def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """A small HTTP/1.1 GET (Connection: close): (status, body). Raises OSError/TimeoutError."""
    from urllib.parse import urlsplit

    u = urlsplit(url)

    async def go():
        reader, writer = await asyncio.open_connection(u.hostname, u.port or 80)
        try:
            path = (u.path or "/") + (f"?{u.query}" if u.query else "")
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            status_line = await reader.readline()
            parts = status_line.split()
            if len(parts) < 2:
                raise OSError(f"bad HTTP answer {status_line[:40]!r}")
            return int(parts[1]), await _read_body(reader, await _read_headers(reader), to_eof=True)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    try:
        return await asyncio.wait_for(go(), timeout=timeout)
    except (asyncio.IncompleteReadError, ValueError) as e:
        raise OSError(f"bad or short HTTP answer: {e}") from None


class PhyphoxLink(_PhoneLinkBase):
    """A phone running phyphox with "Allow remote access", polled over its HTTP API
    (``/config``, ``/get``, ``/control``; see :mod:`gaitmon.sensors.phyphox_remote`), as a Link.

    Each ``/get`` answer with new samples is one "notification". The link is lost when the phone
    does not answer, or answers without new samples (paused, stopped), for ``idle_timeout_s``.
    ``start_measurement``: send ``control?cmd=start`` when the phone is not measuring.
    """

    def __init__(self, url: str, *, name: str = "phyphox", poll_interval_s: float = 0.1,
                 idle_timeout_s: float = 5.0, start_measurement: bool = True) -> None:
        super().__init__()
        self.url = url.rstrip("/") + "/"
        self.name = name
        self.poll_interval_s = float(poll_interval_s)
        self.idle_timeout_s = float(idle_timeout_s)
        self.start_measurement = start_measurement
        self.buffers: dict | None = None
        self.estimated_rate_hz: float | None = None
        self._since: dict[str, float | None] = {"acc": None, "gyr": None}
        self.polls = 0
        self.answers_with_data = 0

    @property
    def address(self) -> str:
        return self.url

    async def _get(self, query: str) -> dict:
        status, body = await http_get(self.url + query, timeout=max(2.0, self.idle_timeout_s))
        if status != 200:
            raise LinkError(f"{self.url}{query.split('?')[0]}: HTTP {status}")
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise LinkError(f"{self.url}: not a phyphox answer ({e})") from None

    async def _last_times(self) -> dict[str, float | None]:
        b = self.buffers
        ans = await self._get(f"get?{b['acc']['t']}&{b['gyr']['t']}")
        out = {}
        for kind in ("acc", "gyr"):
            v = (ans.get("buffer", {}).get(b[kind]["t"]) or {}).get("buffer") or [None]
            out[kind] = float(v[-1]) if v and v[-1] is not None else None
        return out

    async def connect(self, timeout: float) -> None:
        from gaitmon.sensors.phyphox_remote import buffers_from_config, estimate_rate

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            cfg = await self._get("config")
            try:
                self.buffers = buffers_from_config(cfg)
            except ValueError as e:
                raise LinkError(str(e)) from None
            last = await self._last_times()
            if last["acc"] is None and self.start_measurement:
                await self._get("control?cmd=start")
            while last["acc"] is None or last["gyr"] is None or (self.estimated_rate_hz is None and last["acc"] < 1.0):
                if loop.time() > deadline:
                    raise LinkError(f"{self.url}: phyphox is not measuring (start the experiment)")
                await asyncio.sleep(0.1)
                last = await self._last_times()
            if self.estimated_rate_hz is None:
                t0 = max(last["acc"] - 1.0, 0.0)
                ans = await self._get(f"get?{self.buffers['acc']['t']}={t0!r}")
                ts = ans["buffer"][self.buffers["acc"]["t"]]["buffer"]
                self.estimated_rate_hz = estimate_rate([x for x in ts if x is not None])
                if self.estimated_rate_hz is None:
                    raise LinkError(f"{self.url}: cannot tell the accelerometer's rate")
        except (OSError, TimeoutError) as e:
            raise LinkError(f"{self.url}: phyphox does not answer ({e}): is remote access on, same network?") from None
        # stream from now on (history before the first connection is not replayed); after a
        # reconnect, continue where the last answer ended, unless the experiment was cleared
        if self._since["acc"] is None or last["acc"] < self._since["acc"]:
            self._since = {"acc": last["acc"], "gyr": last["gyr"]}
        self._connected = True

    async def _poll(self) -> None:
        from gaitmon.sensors.phyphox_remote import get_query

        loop = asyncio.get_running_loop()
        last_new = loop.time()
        b = self.buffers
        while self._connected:
            try:
                status, body = await http_get(self.url + get_query(b, self._since),
                                              timeout=max(2.0, self.idle_timeout_s))
                self.polls += 1
                new = False
                if status == 200:
                    try:
                        ans = json.loads(body.decode("utf-8"))
                        for kind in ("acc", "gyr"):
                            v = [x for x in ans["buffer"][b[kind]["t"]]["buffer"] if x is not None]
                            if v:
                                self._since[kind] = max(v)
                                new = True
                    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
                        new = True  # let the decoder count it as malformed
                    if new and self._callback is not None:
                        self.answers_with_data += 1
                        self._callback(body)
                if new:
                    last_new = loop.time()
            except (OSError, TimeoutError) as e:
                log.debug("%s: poll failed: %s", self.url, e)
            if loop.time() - last_new > self.idle_timeout_s:
                self._lost(f"no new samples for {self.idle_timeout_s:.1f} s")
                return
            await asyncio.sleep(self.poll_interval_s)

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        self._callback = callback
        self._run(self._poll())

    async def aclose(self) -> None:
        await self.disconnect()

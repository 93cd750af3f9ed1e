"""Helpers of the store tests: step data, a flaky HTTP proxy in front of a real server, and
exact comparison of what a server holds with what was written."""
from __future__ import annotations

import dataclasses
import http.client
import http.server
import math
import socket
import threading
import urllib.parse
from typing import Any, Sequence

from gaitmon.store.lineproto import STEP_FLOAT_FIELDS, point_time_ns

STEP_TAG_KEYS = ("runner", "sensor", "session", "side", "activity")


def as_dict(step: Any) -> dict[str, Any]:
    return dict(step) if isinstance(step, dict) else dataclasses.asdict(step)


def tile_steps(base: Sequence[Any], n: int) -> list[dict[str, Any]]:
    """``n`` step dicts made by repeating ``base`` (simulated steps) shifted in time, so a long
    stream keeps realistic values; every step gets a distinct ``t_ic_s`` and ``stride_index``."""
    base = [as_dict(s) for s in base]
    span = base[-1]["t_ic_s"] - base[0]["t_ic_s"] + base[-1]["step_time_s"]
    out = []
    for i in range(n):
        k, j = divmod(i, len(base))
        s = dict(base[j])
        s["t_ic_s"] = base[j]["t_ic_s"] + k * span
        s["stride_index"] = base[j]["stride_index"] + k * (base[-1]["stride_index"] + 1)
        out.append(s)
    return out


def expected_rows(steps: Sequence[Any], *, runner: str, sensor: str, session: str,
                  t0_unix_ns: int) -> dict[int, dict[str, Any]]:
    """What InfluxDB must hold for ``steps``: time (ns) -> tags + finite fields."""
    out = {}
    for s in map(as_dict, steps):
        row: dict[str, Any] = {"runner": runner, "sensor": sensor, "session": session,
                               "side": s["side"], "activity": s["activity"]}
        for k in STEP_FLOAT_FIELDS:
            v = s[k]
            if v is not None and math.isfinite(v):
                row[k] = float(v)
        row["stride_index"] = int(s["stride_index"])
        out[point_time_ns(t0_unix_ns, s["t_ic_s"])] = row
    return out


def assert_rows_match(rows: Sequence[dict[str, Any]], expected: dict[int, dict[str, Any]]) -> None:
    """Every expected step is there exactly once with exactly its tags and values."""
    times = [r["time"] for r in rows]
    assert len(times) == len(set(times)), "duplicate points in query result"
    got = {r["time"]: {k: v for k, v in r.items() if k != "time" and v is not None} for r in rows}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing, f"{len(missing)} steps lost (first at {missing[:3]})"
    assert not extra, f"{len(extra)} unexpected points"
    for t, want in expected.items():
        have = got[t]
        assert set(have) == set(want), f"columns differ at {t}: {set(have) ^ set(want)}"
        for k, v in want.items():
            if isinstance(v, float):
                assert have[k] == v, f"{k} at {t}: {have[k]!r} != {v!r}"  # exact: repr round-trip
            else:
                assert have[k] == v, f"{k} at {t}: {have[k]!r} != {v!r}"


class FlakyProxy:
    """HTTP proxy on 127.0.0.1 in front of a real server. While ``failing`` > 0 it answers
    each request with ``status`` (default 503, with ``Retry-After``) and decrements; afterwards
    it forwards requests unchanged. ``requests`` / ``failed`` count what it saw."""

    def __init__(self, upstream_url: str, *, fail_first: int = 0, status: int = 503,
                 retry_after: str | None = "0"):
        self.upstream = urllib.parse.urlsplit(upstream_url)
        self.failing = fail_first
        self.status = status
        self.retry_after = retry_after
        self.requests = 0
        self.failed = 0
        self.encodings: list[str | None] = []   # Content-Encoding of every request body seen
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.requests += 1
                    if body:
                        proxy.encodings.append(self.headers.get("Content-Encoding"))
                    fail = proxy.failing > 0
                    if fail:
                        proxy.failing -= 1
                        proxy.failed += 1
                if fail:
                    msg = b'{"error":"service unavailable: test proxy"}'
                    self.send_response(proxy.status)
                    if proxy.retry_after is not None:
                        self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FlakyProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentServer:
    """Accepts TCP connections and reads requests but never answers (a hung server).
    ``got_request`` is set once a request arrived."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.got_request = threading.Event()
        self._conns: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self._conns.append(c)
            c.settimeout(5)
            try:
                if c.recv(65536):
                    self.got_request.set()
            except OSError:
                pass

    def __enter__(self) -> "SilentServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._thread.join(2)
        for c in self._conns:
            c.close()
        self.sock.close()

"""Real database servers for the test suites: InfluxDB 1.x (``influxd``) and VictoriaMetrics.

Both run as child processes bound to 127.0.0.1 on free ports, with every file in a temporary
directory, so tests never touch a system service and never mock a database.

    from tests.servers import InfluxD, VictoriaMetrics

    with InfluxD() as influx:                 # /usr/bin/influxd (Debian ``influxdb`` 1.6.7)
        influx.create_db("gait")
        influx.write_lines(["m,t=a v=1 1"], db="gait")
        rows = influx.rows('SELECT * FROM "m"', db="gait")   # [{'time': 1, 't': 'a', 'v': 1.0}]
        influx.stop(); influx.start()          # same port, same data: a server restart
        influx.kill()                          # SIGKILL, for crash tests

    with VictoriaMetrics() as vm:             # /usr/bin/victoria-metrics
        ...                                    # POST vm.url + "/api/v2/write" (influxdb-client)
        vm.export('{__name__=~"gait_step_.*"}', min_samples=100)   # what landed, per series

``InfluxD(auth=("admin", "secret"))`` enables HTTP authentication and creates that admin user;
``VictoriaMetrics(auth=(user, password))`` turns on its ``-httpAuth.*`` Basic auth.

A missing binary raises :class:`ServerBinaryMissing` naming ``./dev.sh test`` (which installs
the Debian packages); tests must fail on it, never skip.

Timestamps given to and returned by these helpers are integers in nanoseconds since the Unix
epoch (InfluxDB), or milliseconds (VictoriaMetrics' export format, as the server returns them).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Iterable

__all__ = ["ServerBinaryMissing", "ServerError", "free_port", "InfluxD", "VictoriaMetrics"]


class ServerBinaryMissing(RuntimeError):
    """The server binary is not installed; ``./dev.sh test`` installs it."""


class ServerError(RuntimeError):
    """A test server failed to start, or answered a request with an error."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _find_binary(name: str, default: str, package: str) -> str:
    path = shutil.which(name) or (default if os.path.exists(default) else None)
    if path is None:
        raise ServerBinaryMissing(
            f"{name} not found (expected {default}, Debian package '{package}'). "
            f"Run ./dev.sh test once: it installs the test servers (influxdb, victoria-metrics).")
    return path


class _Server:
    """A server child process with a temp work dir; subclasses say how to start and probe it."""

    name = "server"

    def __init__(self, workdir: str | os.PathLike | None = None, auth: tuple[str, str] | None = None):
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix=f"gaitmon-{self.name}-")) if workdir is None \
            else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.auth = auth
        self.port = free_port()
        self._proc: subprocess.Popen | None = None
        self._log_path = self.workdir / f"{self.name}.log"

    # -- subclass hooks -------------------------------------------------------------------------
    def _command(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ready(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _after_first_start(self) -> None:
        pass

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 30.0) -> "_Server":
        """Start (or restart, on the same port and data) and wait until it answers."""
        if self.running:
            return self
        first = not (self.workdir / ".started").exists()
        log = open(self._log_path, "ab")
        try:
            self._proc = subprocess.Popen(self._command(), stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=self.workdir)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerError(f"{self.name} exited with code {self._proc.returncode} while "
                                  f"starting on port {self.port}:\n{self._log_tail()}")
            if self._ready():
                break
            time.sleep(0.05)
        else:
            self.kill()
            raise ServerError(f"{self.name} did not answer within {timeout:.0f} s on port "
                              f"{self.port}:\n{self._log_tail()}")
        if first:
            self._after_first_start()
            (self.workdir / ".started").touch()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), waiting for the process to exit; SIGKILL if it does not."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    def kill(self) -> None:
        """Crash the server (SIGKILL): no shutdown, no flush."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def close(self) -> None:
        """Stop the server and delete its temp dir (if this object created it)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _log_tail(self, n: int = 2000) -> str:
        try:
            return self._log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"

    # -- HTTP -----------------------------------------------------------------------------------
    def _request(self, method: str, path: str, params: dict | None = None, body: bytes | None = None,
                 headers: dict | None = None, timeout: float = 30.0) -> tuple[int, dict, bytes]:
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        if self.auth is not None:
            token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def _probe(self, path: str) -> bool:
        try:
            status, _, _ = self._request("GET", path, timeout=1.0)
        except (OSError, urllib.error.URLError):
            return False
        return status < 500


class InfluxD(_Server):
    """InfluxDB 1.x (``/usr/bin/influxd``, Debian bookworm ships 1.6.7), v1 HTTP API only.

    ``auth=(user, password)`` turns on ``auth-enabled`` and creates that user as admin on first
    start; every helper request then authenticates as that user.
    """

    name = "influxd"

    def __init__(self, workdir: str | os.PathLike | None = None, *, auth: tuple[str, str] | None = None):
        self.binary = _find_binary("influxd", "/usr/bin/influxd", "influxdb")
        super().__init__(workdir, auth)
        self.rpc_port = free_port()
        self.config_path = self.workdir / "influxdb.conf"
        self._write_config()

    def _write_config(self) -> None:
        d = self.workdir
        self.config_path.write_text(f"""\
reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{d / 'meta'}"
  logging-enabled = false
[data]
  dir = "{d / 'data'}"
  wal-dir = "{d / 'wal'}"
  query-log-enabled = false
  trace-logging-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {'true' if self.auth else 'false'}
  log-enabled = false
  suppress-write-log = true
  pprof-enabled = false
[ifql]
  enabled = false
[logging]
  level = "error"
  suppress-logo = true
[continuous_queries]
  enabled = false
  log-enabled = false
[subscriber]
  enabled = false
""")

    def _command(self) -> list[str]:
        return [self.binary, "-config", str(self.config_path)]

    def _ready(self) -> bool:
        return self._probe("/ping")

    def _after_first_start(self) -> None:
        if self.auth:
            user, password = self.auth
            # With auth on and no user yet, influxd accepts exactly this one unauthenticated query.
            status, _, body = self._request("POST", "/query", {
                "q": f"CREATE USER {_ident(user)} WITH PASSWORD {_literal(password)} WITH ALL PRIVILEGES"})
            if status != 200:
                raise ServerError(f"creating the admin user failed: HTTP {status} {body[:200]!r}")

    def ping(self) -> str:
        """The server's ``X-Influxdb-Version`` header (e.g. ``"1.6.7~rc0"``)."""
        status, headers, _ = self._request("GET", "/ping")
        if status != 204:
            raise ServerError(f"/ping answered HTTP {status}")
        return {k.lower(): v for k, v in headers.items()}.get("x-influxdb-version", "")

    def query(self, q: str, db: str | None = None, *, rp: str | None = None,
              epoch: str = "ns") -> list[dict[str, Any]]:
        """Run InfluxQL; return the ``results`` list (one dict per statement).

        SELECT/SHOW go as GET, everything else as POST. An error in any statement raises
        :class:`ServerError`.
        """
        params = {"q": q, "epoch": epoch}
        if db:
            params["db"] = db
        if rp:
            params["rp"] = rp
        method = "GET" if q.lstrip().upper().startswith(("SELECT", "SHOW")) else "POST"
        status, _, body = self._request(method, "/query", params)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise ServerError(f"/query answered HTTP {status} with non-JSON {body[:200]!r}") from None
        if status != 200 or "error" in data:
            raise ServerError(f"/query HTTP {status}: {data.get('error', body[:200])}")
        for result in data.get("results", []):
            if "error" in result:
                raise ServerError(f"InfluxQL error: {result['error']} (query: {q})")
        return data.get("results", [])

    def rows(self, q: str, db: str | None = None, *, rp: str | None = None) -> list[dict[str, Any]]:
        """Run one InfluxQL SELECT; return flat rows ``{column: value, **group tags}``.

        ``time`` is integer ns since the Unix epoch; ``SELECT *`` includes tag columns.
        """
        out: list[dict[str, Any]] = []
        for result in self.query(q, db, rp=rp):
            for series in result.get("series", []):
                cols = series["columns"]
                tags = series.get("tags", {})
                for values in series["values"]:
                    row = dict(tags)
                    row.update(zip(cols, values))
                    out.append(row)
        return out

    def create_db(self, name: str) -> None:
        """``CREATE DATABASE`` (idempotent)."""
        self.query(f"CREATE DATABASE {_ident(name)}")

    def drop_db(self, name: str) -> None:
        self.query(f"DROP DATABASE {_ident(name)}")

    def write_lines(self, lines: Iterable[str], db: str, *, rp: str | None = None,
                    precision: str = "ns") -> None:
        """POST line protocol to ``/write``; raise :class:`ServerError` unless HTTP 204."""
        params = {"db": db, "precision": precision}
        if rp:
            params["rp"] = rp
        status, _, body = self._request("POST", "/write", params, "\n".join(lines).encode())
        if status != 204:
            raise ServerError(f"/write HTTP {status}: {body[:300]!r}")


class VictoriaMetrics(_Server):
    """VictoriaMetrics single node (``/usr/bin/victoria-metrics``, Debian bookworm 1.79).

    Accepts InfluxDB line protocol on ``/write`` and ``/api/v2/write``; stores every numeric
    field as a series ``<measurement>_<field>{tags}``, drops string fields, keeps ms timestamps.
    Retention is the default one month: write recent timestamps.
    """

    name = "victoria-metrics"

    def __init__(self, workdir: str | os.PathLike | None = None, *, auth: tuple[str, str] | None = None):
        self.binary = _find_binary("victoria-metrics", "/usr/bin/victoria-metrics", "victoria-metrics")
        super().__init__(workdir, auth)

    def _command(self) -> list[str]:
        cmd = [self.binary, f"-storageDataPath={self.workdir / 'data'}",
               f"-httpListenAddr=127.0.0.1:{self.port}", "-loggerLevel=ERROR",
               "-search.latencyOffset=0s", "-search.disableCache", "-selfScrapeInterval=0"]
        if self.auth:
            cmd += [f"-httpAuth.username={self.auth[0]}", f"-httpAuth.password={self.auth[1]}"]
        return cmd

    def _ready(self) -> bool:
        return self._probe("/health")

    def force_flush(self) -> None:
        """Make just-ingested samples visible to queries and exports."""
        self._request("GET", "/internal/force_flush")

    def export(self, match: str = '{__name__=~".+"}', *, min_samples: int = 0,
               timeout: float = 10.0) -> list[dict[str, Any]]:
        """``/api/v1/export``: one dict per series ``{"metric": {...}, "values": [...],
        "timestamps": [ms...]}`` for every series matching the selector.

        Ingested samples become visible after about a second: with ``min_samples`` the export
        is repeated until at least that many samples are there or ``timeout`` (s) passed (then
        whatever is there is returned, for the caller to assert on).
        """
        deadline = time.monotonic() + timeout
        while True:
            self.force_flush()
            status, _, body = self._request("POST", "/api/v1/export", body=urllib.parse.urlencode(
                {"match[]": match, "start": "0"}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            if status != 200:
                raise ServerError(f"/api/v1/export HTTP {status}: {body[:300]!r}")
            series = [json.loads(line) for line in body.splitlines() if line.strip()]
            if sum(len(s["values"]) for s in series) >= min_samples or time.monotonic() > deadline:
                return series
            time.sleep(0.2)


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

"""Sending line protocol to the server: the v1 ``/write`` endpoint (InfluxDB 1.x) or the v2
``/api/v2/write`` endpoint through ``influxdb-client`` (InfluxDB 2.x, 3.x, Cloud, 1.8+,
VictoriaMetrics), chosen by GAITMON_INFLUX_API or detected from ``/ping``.

A transport sends one batch body and either returns (the server acknowledged every point) or
raises a :class:`~gaitmon.store.errors.ServerError` subclass; it never retries by itself —
retry, back-off and splitting belong to the writer, which owns the spool.
"""
from __future__ import annotations

import gzip
import logging
import re

import urllib3

from . import deadline as _deadline
from .config import StoreConfig
from .errors import ApiMismatch, PointsRejected, ServerUnavailable
from .http import HttpClient, Redactor, classify, connection_failure, server_message
from .schema import RAW, SUMMARY

__all__ = ["Transport", "V1Transport", "V2Transport", "detect_api", "connect"]

log = logging.getLogger("gaitmon.store.transport")

_GZIP_LEVEL = 1  # ~4x smaller bodies at a fraction of the CPU of level 9


def _parse_version(version: str | None) -> tuple[int, int] | None:
    m = re.match(r"v?(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def detect_api(cfg: StoreConfig, http: HttpClient) -> tuple[str, str | None]:
    """Return ``(api, server_version)``. With ``cfg.api`` set to v1/v2 nothing is asked;
    with ``auto`` the ``X-Influxdb-Version`` header of ``GET /ping`` decides (1.x -> v1 unless
    only a bucket is configured on 1.8+, 2.x/3.x -> v2); without that header (e.g.
    VictoriaMetrics, some proxies) a configured bucket means v2, a database v1.
    Raises ServerUnavailable when the server does not answer, ApiMismatch when the
    configuration cannot fit the server."""
    if cfg.api != "auto":
        return cfg.api, None
    r = http.request("GET", "/ping", timeout=min(cfg.timeout_s, 5.0))
    version = r.header("X-Influxdb-Version")
    if r.status in (401, 403) or r.status == 429 or r.status >= 500:
        raise classify(r.status, http.redact(server_message(r.data)), cfg=cfg, api="v2", what="GET /ping",
                       retry_after=r.header("Retry-After"))
    if r.status not in (200, 204):
        raise ApiMismatch(f"{cfg.url}: GET /ping answered HTTP {r.status}; GAITMON_INFLUX_URL does not "
                          "look like an InfluxDB server (or set GAITMON_INFLUX_API=v1|v2 explicitly)",
                          status=r.status)
    v = _parse_version(version)
    if v is None:
        return ("v2" if cfg.bucket else "v1"), version
    if v[0] == 1:
        if cfg.database:
            return "v1", version
        if v >= (1, 8):
            return "v2", version
        raise ApiMismatch(f"{cfg.url} is InfluxDB {version}, which has only the v1 API: set "
                          "GAITMON_INFLUX_DB (GAITMON_INFLUX_BUCKET needs InfluxDB 1.8+ or 2.x)")
    if not cfg.bucket:
        raise ApiMismatch(f"{cfg.url} is InfluxDB {version} (v2 API): set GAITMON_INFLUX_BUCKET, "
                          "GAITMON_INFLUX_ORG and GAITMON_INFLUX_TOKEN")
    return "v2", version


class Transport:
    """Base: ``send(body, target)`` posts uncompressed line protocol (``\\n``-joined, UTF-8)."""

    api = ""

    def __init__(self, cfg: StoreConfig, version: str | None):
        self.cfg = cfg
        self.version = version

    def _encode(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        if self.cfg.use_gzip and body:
            return gzip.compress(body, _GZIP_LEVEL), {"Content-Encoding": "gzip"}
        return body, {}

    def send(self, body: bytes, target: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def targets(self) -> list[int]:
        return [RAW, SUMMARY]

    def check(self) -> None:
        """Pre-flight: an empty write to every destination. Raises AuthError, TargetNotFound,
        ApiMismatch or ServerUnavailable; stores nothing."""
        for target in self.targets():
            try:
                self.send(b"", target)
            except PointsRejected:
                pass  # some servers refuse an empty body after auth and target checks passed

    def describe(self, target: int) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass


class V1Transport(Transport):
    """InfluxDB 1.x ``POST /write?db=..&rp=..&precision=ns`` (Basic auth when configured)."""

    api = "v1"

    def __init__(self, cfg: StoreConfig, version: str | None, http: HttpClient):
        super().__init__(cfg, version)
        self.http = http

    def _rp(self, target: int) -> str | None:
        return self.cfg.rp if target == RAW else self.cfg.summary_rp

    def describe(self, target: int) -> str:
        rp = self._rp(target)
        return f"write to db {self.cfg.database!r}" + (f" rp {rp!r}" if rp else "")

    def send(self, body: bytes, target: int) -> None:
        data, headers = self._encode(body)
        headers["Content-Type"] = "text/plain; charset=utf-8"
        r = self.http.request("POST", "/write", body=data, headers=headers,
                              params={"db": self.cfg.database, "rp": self._rp(target), "precision": "ns"})
        if r.status in (200, 204):
            return
        msg = server_message(r.data) or (r.header("X-Influxdb-Error") or "")
        raise classify(r.status, self.http.redact(msg), cfg=self.cfg, api="v1",
                       what=self.describe(target), retry_after=r.header("Retry-After"),
                       version=self.version or r.header("X-Influxdb-Version"))

    def targets(self) -> list[int]:
        return [RAW] if self.cfg.rp == self.cfg.summary_rp else [RAW, SUMMARY]


class V2Transport(Transport):
    """``POST /api/v2/write?org=..&bucket=..&precision=ns`` through influxdb-client's
    ``WriteService`` (``Authorization: Token`` or, with user/password, Basic)."""

    api = "v2"

    def __init__(self, cfg: StoreConfig, version: str | None, redact: Redactor):
        super().__init__(cfg, version)
        from influxdb_client import InfluxDBClient
        from influxdb_client.service.write_service import WriteService

        kw = {}
        if cfg.token is not None:
            token = cfg.token.reveal()
        elif cfg.username and cfg.password is not None:
            token, kw = f"{cfg.username}:{cfg.password.reveal()}", {"auth_basic": True}
        else:
            token = None
        self.redact = redact
        self._client = InfluxDBClient(url=cfg.url, token=token, org=cfg.org,
                                      timeout=int(cfg.timeout_s * 1000), enable_gzip=False,
                                      verify_ssl=cfg.verify_ssl, **kw)
        self._service = WriteService(self._client.api_client)

    def _bucket(self, target: int) -> str:
        return self.cfg.bucket if target == RAW else (self.cfg.summary_bucket or self.cfg.bucket)

    def describe(self, target: int) -> str:
        return f"write to bucket {self._bucket(target)!r}" + (f" org {self.cfg.org!r}" if self.cfg.org else "")

    def targets(self) -> list[int]:
        return [RAW] if self._bucket(RAW) == self._bucket(SUMMARY) else [RAW, SUMMARY]

    def send(self, body: bytes, target: int) -> None:
        from influxdb_client.rest import ApiException

        data, headers = self._encode(body)
        kw = {"content_encoding": headers["Content-Encoding"]} if headers else {}
        limit = min(self.cfg.timeout_s, _deadline.remaining())
        if limit <= 0:
            raise ServerUnavailable(f"{self.cfg.url}: no answer (the time limit of this operation passed)")
        try:
            _deadline.call_with_deadline(
                lambda: self._service.post_write(org=self.cfg.org or "", bucket=self._bucket(target), body=data,
                                                 precision="ns", content_type="text/plain; charset=utf-8", **kw),
                limit)
        except _deadline.DeadlineExceeded:
            raise ServerUnavailable(f"{self.cfg.url}: no answer (timed out after {limit:.3g} s); is the server "
                                    "running and GAITMON_INFLUX_URL right?") from None
        except ApiException as e:
            status = e.status or 0
            hdrs = e.headers or {}
            msg = server_message(e.body) or server_message(getattr(e, "message", None)) or (e.reason or "")
            raise classify(status, self.redact(msg), cfg=self.cfg, api="v2",
                           what=self.describe(target), retry_after=hdrs.get("Retry-After"),
                           version=self.version or hdrs.get("X-Influxdb-Version")) from None
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise connection_failure(self.cfg, e, self.redact) from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            # drop the references now, so the client's __del__ runs here, not at interpreter exit
            self._service = None
            self._client = None


def connect(cfg: StoreConfig, http: HttpClient) -> Transport:
    """Detect the API (see :func:`detect_api`) and return the matching transport."""
    api, version = detect_api(cfg, http)
    if api == "v1":
        if not cfg.database:
            raise ApiMismatch(f"{cfg.url} speaks the v1 API: set GAITMON_INFLUX_DB")
        transport: Transport = V1Transport(cfg, version, http)
    else:
        if not cfg.bucket:
            raise ApiMismatch(f"{cfg.url} speaks the v2 API: set GAITMON_INFLUX_BUCKET")
        transport = V2Transport(cfg, version, http.redact)
    log.info("sending to %s using the %s write API%s", cfg.url, api,
             f" (server version {version})" if version else "")
    return transport


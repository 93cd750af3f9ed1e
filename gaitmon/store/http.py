"""Small HTTP layer shared by the v1 writer and the InfluxQL reader: auth headers, timeouts,
turning server answers into the errors of :mod:`gaitmon.store.errors`, scrubbing secrets.

Credentials travel only in the ``Authorization`` header (never in a URL, so never in a log
line): ``Basic`` for GAITMON_INFLUX_USER/PASSWORD, ``Token`` for GAITMON_INFLUX_TOKEN.
"""
from __future__ import annotations

import base64
import json
import logging
import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

import urllib3

from . import deadline as _deadline
from .config import StoreConfig
from .errors import (ApiMismatch, AuthError, PayloadTooLarge, PointsRejected, ServerError,
                     ServerUnavailable, TargetNotFound)

__all__ = ["Response", "HttpClient", "server_message", "classify", "connection_failure", "Redactor"]

log = logging.getLogger("gaitmon.store.http")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    data: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class Redactor:
    """Replaces every configured secret (token, password, Basic credential) by ``********``."""

    def __init__(self, cfg: StoreConfig):
        self._secrets = sorted(cfg.secrets(), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "********")
        return text


def server_message(data: bytes | str | None, limit: int = 300) -> str:
    """The error text of an InfluxDB answer: ``{"error": ...}`` (1.x), ``{"message": ...}``
    (2.x/3.x) or the raw body, shortened."""
    if not data:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        for key in ("error", "message"):
            if isinstance(obj.get(key), str):
                text = obj[key]
                break
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify(status: int, message: str, *, cfg: StoreConfig, api: str, what: str,
             retry_after: str | None = None, version: str | None = None) -> ServerError:
    """Turn a non-2xx answer into the matching :class:`ServerError` with a fix-it message.

    ``what`` names the request (e.g. ``"write to db 'gait' rp 'raw'"``); ``message`` must be
    already scrubbed of secrets.
    """
    where = f"{cfg.url} ({what})"
    said = f": {message}" if message else ""
    low = message.lower()
    if status in (401, 403):
        if cfg.username:
            fix = "check GAITMON_INFLUX_USER / GAITMON_INFLUX_PASSWORD"
        elif cfg.token is not None:
            fix = "check GAITMON_INFLUX_TOKEN"
        else:
            fix = ("the server wants credentials: set GAITMON_INFLUX_TOKEN or "
                   "GAITMON_INFLUX_USER / GAITMON_INFLUX_PASSWORD")
        if status == 403:
            fix += " and that these credentials may write/read there"
        return AuthError(f"{where} refused the credentials (HTTP {status}{said}); {fix}", status=status)
    if "retention policy not found" in low:
        return TargetNotFound(
            f"{where}: retention policy does not exist (HTTP {status}{said}); create it "
            "(gaitmon.store.create_retention_policies) or fix GAITMON_INFLUX_RP / "
            "GAITMON_INFLUX_SUMMARY_RP", status=status)
    if status == 404:
        if "database not found" in low:
            return TargetNotFound(f"{where}: database does not exist (HTTP 404{said}); create it "
                                  "(CREATE DATABASE) or fix GAITMON_INFLUX_DB", status=status)
        if "bucket" in low or "organization" in low or "org " in low:
            return TargetNotFound(f"{where}: {message or 'not found'} (HTTP 404); create the bucket "
                                  "or fix GAITMON_INFLUX_BUCKET / GAITMON_INFLUX_ORG", status=status)
        ver = f" (the server says it is version {version})" if version else ""
        if api not in ("v1", "v2"):
            return ApiMismatch(f"{where}: the server has no InfluxQL /query endpoint (HTTP 404{said})"
                               f"{ver}", status=status)
        other = "v1" if api == "v2" else "v2"
        return ApiMismatch(f"{where}: the server has no such endpoint (HTTP 404{said}){ver}; "
                           f"it does not speak the InfluxDB {api} write API — set "
                           f"GAITMON_INFLUX_API={other} (or auto)", status=status)
    if status == 405:
        return ApiMismatch(f"{where}: method not allowed (HTTP 405{said}); wrong GAITMON_INFLUX_API "
                           "or GAITMON_INFLUX_URL path?", status=status)
    if status == 413:
        return PayloadTooLarge(f"{where}: request too large (HTTP 413{said})", status=status)
    if status in (400, 422):
        return PointsRejected(f"{where}: the server refused points (HTTP {status}{said})", status=status)
    if status == 429 or status >= 500:
        return ServerUnavailable(f"{where}: server unavailable (HTTP {status}{said})", status=status,
                                 retry_after_s=_retry_after(retry_after))
    return ServerError(f"{where}: unexpected HTTP {status}{said}", status=status)


class HttpClient:
    """urllib3 pool to one server with gaitmon's auth, timeout and error handling."""

    def __init__(self, cfg: StoreConfig):
        self.cfg = cfg
        self.redact = Redactor(cfg)
        self._pool = urllib3.PoolManager(
            num_pools=2, maxsize=2, retries=False,
            timeout=urllib3.Timeout(connect=min(cfg.timeout_s, 5.0), read=cfg.timeout_s),
            cert_reqs="CERT_REQUIRED" if cfg.verify_ssl else "CERT_NONE")
        self._auth: dict[str, str] = {}
        if cfg.username and cfg.password is not None:
            cred = base64.b64encode(f"{cfg.username}:{cfg.password.reveal()}".encode()).decode()
            self._auth = {"Authorization": f"Basic {cred}"}
        elif cfg.token is not None:
            self._auth = {"Authorization": f"Token {cfg.token.reveal()}"}

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                body: bytes | None = None, headers: Mapping[str, str] | None = None,
                timeout: float | None = None, auth: bool = True) -> Response:
        """Send one request; return the answer whatever its status. No answer at all
        (refused, reset, timeout, TLS failure) raises :class:`ServerUnavailable`."""
        url = self.cfg.url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        hdrs = dict(self._auth) if auth else {}
        if headers:
            hdrs.update(headers)
        # the request as a whole (not each socket read) gets at most its timeout, and never more
        # than what is left of the command's operation (gaitmon.store.deadline)
        limit = min(self.cfg.timeout_s if timeout is None else timeout, _deadline.remaining())
        if limit <= 0:
            raise ServerUnavailable(f"{self.cfg.url}: no answer (the time limit of this operation passed)")
        kw: dict[str, Any] = {"timeout": urllib3.Timeout(connect=min(limit, 5.0), read=limit)}

        def call():
            r = self._pool.request(method, url, body=body, headers=hdrs, redirect=False,
                                   preload_content=True, **kw)
            return Response(r.status, dict(r.headers), r.data or b"")

        try:
            return _deadline.call_with_deadline(call, limit)
        except _deadline.DeadlineExceeded:
            raise ServerUnavailable(f"{self.cfg.url}: no answer (timed out after {limit:.3g} s); is the server "
                                    "running and GAITMON_INFLUX_URL right?") from None
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise connection_failure(self.cfg, e, self.redact) from None

    def close(self) -> None:
        self._pool.clear()


def connection_failure(cfg: StoreConfig, e: BaseException, redact: Redactor) -> ServerUnavailable:
    """The error for a request that got no answer (refused, reset, timeout, TLS failure)."""
    return ServerUnavailable(f"{cfg.url}: no answer ({_reason(e, redact)}); is the server running "
                             "and GAITMON_INFLUX_URL right?")


def _reason(e: BaseException, redact: Redactor) -> str:
    """A short, secret-free description of a connection failure."""
    inner = e
    while getattr(inner, "reason", None) is not None and isinstance(inner.reason, BaseException):
        inner = inner.reason
    text = str(inner)
    for marker in ("Connection refused", "timed out", "Name or service not known",
                   "No route to host", "Connection reset", "certificate verify failed",
                   "Remote end closed connection", "Temporary failure in name resolution"):
        if marker.lower() in text.lower():
            return marker.lower() if marker != "timed out" else "timed out"
    return redact(f"{type(inner).__name__}: {text}")[:200]

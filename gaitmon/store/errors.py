"""Errors raised by :mod:`gaitmon.store`.

Every message names what to fix (which setting, which server answer) and never contains a token
or password: the HTTP layer scrubs configured secrets from anything a server sends back.

Hierarchy::

    StoreError
    ├── ConfigError            invalid/missing GAITMON_* setting (also a ValueError)
    ├── SpoolError             the local spool file cannot be used
    └── ServerError            the server answered, but not with success
        ├── AuthError          401/403: wrong token / user / password, or no permission
        ├── TargetNotFound     database, retention policy, bucket or organisation missing
        ├── ApiMismatch        the endpoint does not exist: wrong GAITMON_INFLUX_API (v1/v2)
        ├── PointsRejected     400/422: the server refuses these points (bad line, type conflict)
        ├── PayloadTooLarge    413: the batch is too big (the writer splits it)
        ├── QueryError         an InfluxQL statement failed (syntax, unknown database ...)
        └── ServerUnavailable  5xx/429 or no connection at all: retry later
"""
from __future__ import annotations

__all__ = [
    "StoreError", "ConfigError", "SpoolError", "ServerError", "AuthError", "TargetNotFound",
    "ApiMismatch", "PointsRejected", "PayloadTooLarge", "QueryError", "ServerUnavailable",
]


class StoreError(Exception):
    """Base class of every error raised by gaitmon.store."""


class ConfigError(StoreError, ValueError):
    """A configuration value is missing or invalid; the message names the GAITMON_* key."""


class SpoolError(StoreError):
    """The local spool (SQLite file under GAITMON_SPOOL_DIR) cannot be opened or written."""


class ServerError(StoreError):
    """The server (or the network on the way) did not accept a request.

    ``status`` is the HTTP status (None when no answer came back); ``retryable`` says whether
    the same request may succeed later without a configuration change.
    """

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class AuthError(ServerError):
    """401/403: credentials refused (GAITMON_INFLUX_TOKEN or GAITMON_INFLUX_USER/PASSWORD)."""


class TargetNotFound(ServerError):
    """The database / retention policy (v1) or bucket / organisation (v2) does not exist."""


class ApiMismatch(ServerError):
    """The server has no such endpoint (e.g. InfluxDB 1.6 has no /api/v2/write)."""


class PointsRejected(ServerError):
    """400/422: the server refused some points of the batch (parse error, field type conflict,
    outside the retention period). Retrying the same points cannot succeed."""


class PayloadTooLarge(ServerError):
    """413: the request body is larger than the server accepts."""


class QueryError(ServerError):
    """The server answered an InfluxQL query with an error (its message is included)."""


class ServerUnavailable(ServerError):
    """Connection refused/reset, timeout, HTTP 5xx or 429: the request may succeed later."""

    retryable = True

"""Storage configuration: ``GAITMON_*`` environment variables, or the same keys in a TOML file.

    cfg = StoreConfig.from_env()                      # environment only (+ $GAITMON_CONFIG file)
    cfg = StoreConfig.from_env("~/.config/gaitmon.toml")

The TOML file holds the very same key names at top level, e.g.::

    GAITMON_INFLUX_URL = "http://nas.local:8086"
    GAITMON_INFLUX_DB = "gaitmon"
    GAITMON_RUNNER = "alice"

Environment variables win over the file. Keys of other gaitmon modules are ignored here;
an unknown ``GAITMON_INFLUX_*`` / ``GAITMON_SPOOL_*`` key is an error (it is almost always a typo).

Tokens and passwords are held in :class:`Secret`, whose ``repr``/``str`` never show the value.
"""
from __future__ import annotations

import base64
import dataclasses
import difflib
import hmac
import logging
import os
import stat
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError

__all__ = ["Secret", "StoreConfig", "ENV_KEYS", "influx_configured", "configured_runner"]

log = logging.getLogger("gaitmon.store")


class Secret:
    """A token or password. ``repr``/``str``/f-strings print ``********``; :meth:`reveal` gives
    the value (only the HTTP layer calls it, to build an ``Authorization`` header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not isinstance(value, str):
            raise TypeError("Secret value must be a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))

    def __reduce__(self):  # never pickle a secret into a crash dump or a queue
        raise TypeError("Secret cannot be pickled")


def _default_spool_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "gaitmon" / "spool"


@dataclass(frozen=True)
class StoreConfig:
    """Where and how gaitmon stores steps. Build it with :meth:`from_env` (validated), or
    directly (then call :meth:`validated`).

    Server:
      url            base URL of InfluxDB (``http(s)://host:port[/prefix]``), no credentials in it.
      api            ``"v1"`` (``/write`` of InfluxDB 1.x), ``"v2"`` (``/api/v2/write``: InfluxDB
                     2.x, 3.x, Cloud, 1.8+ and VictoriaMetrics) or ``"auto"`` (ask ``/ping``).
      token, org, bucket, summary_bucket   v2 settings; summaries go to ``summary_bucket``
                     (default: ``bucket``) so raw steps can expire with the bucket's retention.
      database, username, password, rp, summary_rp   v1 settings; ``rp``/``summary_rp`` are the
                     retention policies for raw points and for session summaries (default: the
                     database's default policy), see :func:`gaitmon.store.create_retention_policies`.
    Data:
      runner         default ``runner`` tag (a name, not a timestamp or number).
    Spool and sending:
      spool_dir      directory of the local SQLite spool (``spool.sqlite3``).
      spool_max_mb   bound of the spool (line-protocol megabytes); beyond it new points are
                     refused with an ERROR log and counted.
      spool_sync     ``"full"`` (every accepted point survives power loss) or ``"normal"``
                     (survives a process crash, not a power cut; faster).
      batch_size     points per HTTP request; flush_interval_s: longest wait before a partial
                     batch is sent (s); timeout_s: HTTP timeout (s); retry_max_s: longest back-off
                     between attempts while the server is down (s); gzip: compress request
                     bodies (level 1, ~4x smaller); ``None`` = auto: on, except for a server on
                     this machine (loopback), where it only costs CPU on both sides.
    """

    url: str
    api: str = "auto"
    token: Secret | None = None
    org: str | None = None
    bucket: str | None = None
    summary_bucket: str | None = None
    database: str | None = None
    username: str | None = None
    password: Secret | None = None
    rp: str | None = None
    summary_rp: str | None = None
    runner: str | None = None
    spool_dir: Path = field(default_factory=_default_spool_dir)
    spool_max_mb: float = 512.0
    spool_sync: str = "full"
    batch_size: int = 5000
    flush_interval_s: float = 1.0
    timeout_s: float = 10.0
    retry_max_s: float = 30.0
    gzip: bool | None = None
    verify_ssl: bool = True

    # ------------------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, config_file: str | os.PathLike | None = None, *,
                 environ: Mapping[str, str] | None = None) -> "StoreConfig":
        """Read the settings from ``environ`` (default ``os.environ``) over ``config_file``
        (default: ``$GAITMON_CONFIG`` if set), validate, and return the config.

        Raises :class:`~gaitmon.store.errors.ConfigError` naming the offending key.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if config_file is None and env.get("GAITMON_CONFIG"):
            config_file = env["GAITMON_CONFIG"]
        if config_file is not None:
            values.update(_read_toml(Path(config_file).expanduser()))
        for key, value in env.items():
            if key in ENV_KEYS:
                values[key] = value
            else:
                _check_unknown(key, "environment variable")
        kwargs: dict[str, Any] = {}
        for key, raw in values.items():
            name, parse = ENV_KEYS[key]
            if isinstance(raw, str) and raw.strip() == "":
                continue  # an empty variable means "not set"
            try:
                kwargs[name] = parse(raw)
            except (TypeError, ValueError) as e:
                shown = "(hidden)" if name in ("token", "password") else repr(raw)
                raise ConfigError(f"{key}={shown}: {e}") from None
        if "url" not in kwargs:
            raise ConfigError("GAITMON_INFLUX_URL is not set (e.g. http://localhost:8086); "
                              "set it in the environment or the config file")
        return cls(**kwargs).validated()

    def validated(self) -> "StoreConfig":
        """Check every value; return a normalised copy. Raises ConfigError naming the key."""
        url = _check_url(self.url)
        api = (self.api or "auto").strip().lower()
        if api not in ("auto", "v1", "v2"):
            raise ConfigError(f"GAITMON_INFLUX_API={self.api!r}: use v1 (InfluxDB 1.x /write), "
                              "v2 (/api/v2/write: InfluxDB 2.x/3.x/Cloud/1.8+) or auto")
        for key, value in (("GAITMON_INFLUX_ORG", self.org), ("GAITMON_INFLUX_BUCKET", self.bucket),
                           ("GAITMON_INFLUX_SUMMARY_BUCKET", self.summary_bucket),
                           ("GAITMON_INFLUX_DB", self.database), ("GAITMON_INFLUX_USER", self.username),
                           ("GAITMON_INFLUX_RP", self.rp), ("GAITMON_INFLUX_SUMMARY_RP", self.summary_rp),
                           ("GAITMON_RUNNER", self.runner)):
            if value is not None:
                _check_name(key, value)
        if (self.username is None) != (self.password is None):
            raise ConfigError("GAITMON_INFLUX_USER and GAITMON_INFLUX_PASSWORD go together: set both or neither")
        if api == "v1" and not self.database:
            raise ConfigError("GAITMON_INFLUX_API=v1 needs GAITMON_INFLUX_DB (the InfluxDB 1.x database)")
        if api == "v2" and not self.bucket:
            raise ConfigError("GAITMON_INFLUX_API=v2 needs GAITMON_INFLUX_BUCKET (and usually "
                              "GAITMON_INFLUX_ORG and GAITMON_INFLUX_TOKEN)")
        if api == "auto" and not (self.database or self.bucket):
            raise ConfigError("set GAITMON_INFLUX_DB (InfluxDB 1.x) or GAITMON_INFLUX_BUCKET "
                              "(InfluxDB 2.x/3.x/Cloud): where should the steps go?")
        if self.spool_sync not in ("full", "normal"):
            raise ConfigError(f"GAITMON_SPOOL_SYNC={self.spool_sync!r}: use full or normal")
        _positive("GAITMON_SPOOL_MAX_MB", self.spool_max_mb)
        _positive("GAITMON_INFLUX_BATCH_SIZE", self.batch_size)
        _positive("GAITMON_INFLUX_FLUSH_INTERVAL_S", self.flush_interval_s)
        _positive("GAITMON_INFLUX_TIMEOUT_S", self.timeout_s)
        _positive("GAITMON_INFLUX_RETRY_MAX_S", self.retry_max_s)
        if not isinstance(self.batch_size, int):
            raise ConfigError("GAITMON_INFLUX_BATCH_SIZE must be an integer")
        return dataclasses.replace(self, url=url, api=api, spool_dir=Path(self.spool_dir).expanduser())

    @property
    def use_gzip(self) -> bool:
        """Whether request bodies are gzipped: ``gzip`` if set, else all but loopback servers."""
        if self.gzip is not None:
            return self.gzip
        host = (urllib.parse.urlsplit(self.url).hostname or "").lower()
        return not (host == "localhost" or host == "::1" or host.startswith("127."))

    def describe(self) -> str:
        """One line for logs: server, API, target — never credentials."""
        if self.api == "v1" or (self.api == "auto" and self.database and not self.bucket):
            target = f"db={self.database}" + (f" rp={self.rp}" if self.rp else "")
        else:
            target = f"bucket={self.bucket}" + (f" org={self.org}" if self.org else "")
        return f"InfluxDB {self.url} api={self.api} {target}"

    def secrets(self) -> list[str]:
        """The secret strings to scrub from any text (used by the HTTP layer)."""
        out = [s.reveal() for s in (self.token, self.password) if s is not None and s.reveal()]
        if self.username and self.password is not None:
            out.append(base64.b64encode(f"{self.username}:{self.password.reveal()}".encode()).decode())
        return out


def influx_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether InfluxDB is configured — GAITMON_INFLUX_URL in the environment or in the
    ``$GAITMON_CONFIG`` file — the one test every gaitmon command uses to decide whether to
    write to / read from the database. A config file that cannot be read counts as configured,
    so the command then reports what is wrong with it instead of silently skipping the database."""
    env = os.environ if environ is None else environ
    if str(env.get("GAITMON_INFLUX_URL") or "").strip():
        return True
    path = env.get("GAITMON_CONFIG")
    if not path or not path.strip():
        return False
    try:
        values = _read_toml(Path(path).expanduser())
    except ConfigError:
        return True
    return bool(str(values.get("GAITMON_INFLUX_URL") or "").strip())


def configured_runner(environ: Mapping[str, str] | None = None) -> str | None:
    """GAITMON_RUNNER from the environment, else from the ``$GAITMON_CONFIG`` file (None if
    neither, or the file cannot be read — the command reports that where it reads the file)."""
    env = os.environ if environ is None else environ
    value = str(env.get("GAITMON_RUNNER") or "").strip()
    if value:
        return value
    path = env.get("GAITMON_CONFIG")
    if not path or not path.strip():
        return None
    try:
        value = _read_toml(Path(path).expanduser()).get("GAITMON_RUNNER")
    except ConfigError:
        return None
    return value.strip() if isinstance(value, str) and value.strip() else None


# ---------------------------------------------------------------------------------------------
def _secret(value: Any) -> Secret:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return Secret(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _bool_or_auto(value: Any) -> bool | None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return _bool(value)
    except ValueError:
        raise ValueError("must be true, false or auto") from None


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    return float(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("must be an integer")
    return int(value)


def _path(value: Any) -> Path:
    return Path(_str(value)).expanduser()


#: environment/config key -> (StoreConfig field, parser)
ENV_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "GAITMON_INFLUX_URL": ("url", _str),
    "GAITMON_INFLUX_API": ("api", _str),
    "GAITMON_INFLUX_TOKEN": ("token", _secret),
    "GAITMON_INFLUX_ORG": ("org", _str),
    "GAITMON_INFLUX_BUCKET": ("bucket", _str),
    "GAITMON_INFLUX_SUMMARY_BUCKET": ("summary_bucket", _str),
    "GAITMON_INFLUX_DB": ("database", _str),
    "GAITMON_INFLUX_USER": ("username", _str),
    "GAITMON_INFLUX_PASSWORD": ("password", _secret),
    "GAITMON_INFLUX_RP": ("rp", _str),
    "GAITMON_INFLUX_SUMMARY_RP": ("summary_rp", _str),
    "GAITMON_RUNNER": ("runner", _str),
    "GAITMON_SPOOL_DIR": ("spool_dir", _path),
    "GAITMON_SPOOL_MAX_MB": ("spool_max_mb", _float),
    "GAITMON_SPOOL_SYNC": ("spool_sync", lambda v: _str(v).lower()),
    "GAITMON_INFLUX_BATCH_SIZE": ("batch_size", _int),
    "GAITMON_INFLUX_FLUSH_INTERVAL_S": ("flush_interval_s", _float),
    "GAITMON_INFLUX_TIMEOUT_S": ("timeout_s", _float),
    "GAITMON_INFLUX_RETRY_MAX_S": ("retry_max_s", _float),
    "GAITMON_INFLUX_GZIP": ("gzip", _bool_or_auto),
    "GAITMON_INFLUX_VERIFY_SSL": ("verify_ssl", _bool),
}

_OWN_PREFIXES = ("GAITMON_INFLUX_", "GAITMON_SPOOL_")


def _check_unknown(key: str, where: str) -> None:
    if key.startswith(_OWN_PREFIXES) and key not in ENV_KEYS:
        close = difflib.get_close_matches(key, ENV_KEYS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"unknown {where} {key}{hint}; known keys: {', '.join(ENV_KEYS)}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"config file {path} cannot be read: {e.strerror}") from None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in ENV_KEYS and key.upper() in ENV_KEYS:
            raise ConfigError(f"key {key} in {path}: keys are upper case, as the environment variables "
                              f"(did you mean {key.upper()}?)")
        if key in ENV_KEYS:
            if isinstance(value, (dict, list)):
                raise ConfigError(f"{key} in {path} must be a single value, not a table or list")
            out[key] = value
        else:
            _check_unknown(key, f"key in {path}:")
    if ("GAITMON_INFLUX_TOKEN" in out or "GAITMON_INFLUX_PASSWORD" in out):
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = 0
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            log.warning("config file %s holds a token/password and is readable by other users; "
                        "chmod 600 it", path)
    return out


def _check_url(url: str) -> str:
    if not url or not isinstance(url, str):
        raise ConfigError("GAITMON_INFLUX_URL is empty (e.g. http://localhost:8086)")
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("GAITMON_INFLUX_URL is not a valid URL (e.g. http://localhost:8086)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("GAITMON_INFLUX_URL must start with http:// or https:// and name a host "
                          "(e.g. http://localhost:8086)")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("GAITMON_INFLUX_URL must not contain credentials; put them in "
                          "GAITMON_INFLUX_TOKEN or GAITMON_INFLUX_USER/GAITMON_INFLUX_PASSWORD")
    if parts.query or parts.fragment:
        raise ConfigError("GAITMON_INFLUX_URL must not contain a query string or fragment")
    del port
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _check_name(key: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"{key} contains control characters")
    if len(value) > 256:
        raise ConfigError(f"{key} is longer than 256 characters")


def _positive(key: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0) \
            or value != value or value == float("inf"):
        raise ConfigError(f"{key}={value!r} must be a positive finite number")

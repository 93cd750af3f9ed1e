"""Grafana's interpolation of an InfluxDB (InfluxQL) panel query, done outside Grafana.

Used to run every dashboard query against a real InfluxDB exactly as Grafana would send it
(tests, ``gaitmon dashboards check``). What Grafana does, and this module copies:

* template variables: ``$name``, ``${name}``, ``[[name]]`` and ``${name:regex}`` (values
  regex-escaped; several values become ``(a|b)``) — the InfluxDB data source formats a
  multi-value variable as a regex in every case;
* ``$timeFilter`` -> ``time >= <from>ms and time <= <to>ms`` (Grafana's InfluxQL backend);
* ``$__interval`` / ``$interval`` -> the rounded interval text (``10s``, ``1m``, ``1d``...) of
  ``(to - from) / maxDataPoints`` with Grafana's rounding table, ``$__interval_ms`` -> ms.

Times are integers in milliseconds since the Unix epoch (UTC).
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

__all__ = ["regex_escape", "format_regex", "round_interval_ms", "format_interval", "calculate_interval",
           "parse_duration_ms", "time_filter", "interpolate"]

_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
       "M": 2_592_000_000, "y": 31_536_000_000}

# Grafana's intervalv2.roundInterval: (upper bound of the raw interval, rounded interval), ms
_ROUND = [(10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
          (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
          (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
          (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
          (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (172800000, 86400000),
          (604800000, 86400000), (1814400000, 604800000)]


def regex_escape(value: str) -> str:
    """Grafana's ``regexEscape``: backslash before every regex metacharacter and ``/``."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def format_regex(value: str | Sequence[str]) -> str:
    """The ``:regex`` format: one value escaped, several as ``(a|b)``."""
    if isinstance(value, str):
        return regex_escape(value)
    values = list(value)
    if len(values) == 1:
        return regex_escape(values[0])
    return "(" + "|".join(regex_escape(v) for v in values) + ")"


def round_interval_ms(raw_ms: float) -> int:
    for bound, rounded in _ROUND:
        if raw_ms <= bound:
            return rounded
    return 2_592_000_000 if raw_ms < 3_628_800_000 else 31_536_000_000


def format_interval(ms: int) -> str:
    """Grafana's FormatDuration: the largest whole unit of y, d, h, m, s, ms."""
    for unit, size in (("y", _MS["y"]), ("d", _MS["d"]), ("h", _MS["h"]), ("m", _MS["m"]), ("s", _MS["s"])):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{max(ms, 1)}ms"


def calculate_interval(from_ms: int, to_ms: int, max_data_points: int = 1500, min_interval_ms: int = 1) -> int:
    """The panel's ``$__interval`` in ms: ``(to - from) / maxDataPoints`` rounded, at least
    ``min_interval_ms`` (the data source's / panel's minimum interval)."""
    raw = (to_ms - from_ms) / max(1, max_data_points)
    if raw < min_interval_ms:
        return min_interval_ms
    return round_interval_ms(raw)


def parse_duration_ms(text: str) -> int:
    """``"5m"`` -> 300000; units ms, s, m, h, d, w, M (30 d), y (365 d)."""
    m = re.fullmatch(r"\s*(\d+)\s*(ms|s|m|h|d|w|M|y)\s*", text)
    if not m:
        raise ValueError(f"not a Grafana duration: {text!r}")
    return int(m.group(1)) * _MS[m.group(2)]


def time_filter(from_ms: int, to_ms: int) -> str:
    return f"time >= {int(from_ms)}ms and time <= {int(to_ms)}ms"


def interpolate(query: str, variables: Mapping[str, str | Sequence[str]], *, from_ms: int, to_ms: int,
                max_data_points: int = 1500, min_interval_ms: int = 1) -> str:
    """The query text Grafana sends to InfluxDB for a panel showing ``[from_ms, to_ms]``.

    ``variables``: current value(s) per template variable name ("All" already expanded to the
    list of all values, as Grafana does for a variable without a custom all value).
    An unknown ``$name`` is left as it is (Grafana does the same), so InfluxDB reports it.
    """
    interval = calculate_interval(from_ms, to_ms, max_data_points, min_interval_ms)

    def value_of(name: str, fmt: str | None) -> str | None:
        if name not in variables:
            return None
        value = variables[name]
        if fmt == "regex" or (fmt is None and not isinstance(value, str) and len(value) > 1):
            return format_regex(value)
        if fmt not in (None, "raw"):
            raise ValueError(f"format :{fmt} is not supported here")
        return value if isinstance(value, str) else ",".join(value)

    def repl(m: re.Match) -> str:
        name = m.group("braced") or m.group("bracket") or m.group("plain")
        out = value_of(name, m.group("fmt"))
        return m.group(0) if out is None else out

    text = re.sub(r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\[\[(?P<bracket>\w+)\]\]|\$(?P<plain>(?!__)\w+)",
                  lambda m: m.group(0) if (m.group("plain") or "") in ("timeFilter", "interval") else repl(m),
                  query)
    text = text.replace("$timeFilter", time_filter(from_ms, to_ms))
    text = text.replace("$__interval_ms", str(interval)).replace("$__interval", format_interval(interval))
    text = text.replace("$interval", format_interval(interval))
    return text

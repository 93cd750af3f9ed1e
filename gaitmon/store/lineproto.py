"""Points of the gaitmon InfluxDB schema (data-contracts §4) as line protocol.

Measurements and where they go:

* ``gait_step`` — one point per step, time = initial contact (UTC ns). Tags ``runner, sensor,
  session, side, activity``; float fields ``step_time_s`` (s), ``cadence_spm`` (steps/min),
  ``contact_time_s`` (s), ``pelvic_drop_deg``, ``obliquity_range_deg``, ``tilt_range_deg``,
  ``rotation_range_deg`` (degrees, pelvis frame), ``vertical_oscillation_cm`` (cm), ``quality``
  (0..1) and the integer field ``stride_index``. Raw target (expires with the raw retention).
* ``gait_session`` — one point per session (summary target, kept forever); tags ``runner,
  sensor, session``; every number of the (flattened) summary as a float field.
* ``sensor_status`` — battery %, RSSI dBm, packet counters, reconnects (raw target).
* ``exercise`` — strength-programme log entries (summary target).

A NaN or infinite value never reaches line protocol: the field is omitted and counted (a step
whose ``contact_time_s`` was not estimated simply has no such field). Values are coerced to one
type per field (floats stay floats even when whole), so InfluxDB never sees a field type
conflict between two writes of gaitmon.

``gait_step`` is serialised by a fast path (one pre-escaped tag prefix per side/activity) that
produces byte-for-byte what ``influxdb_client.Point.to_line_protocol()`` produces (property-tested);
the other measurements are built with ``influxdb_client.Point`` directly.
"""
from __future__ import annotations

import math
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from influxdb_client import Point

from .schema import ACTIVITIES, RAW, SIDES, STEP_FLOAT_FIELDS, STEP_INT_FIELDS, STEP_TAGS, SUMMARY

__all__ = [
    "RAW", "SUMMARY", "STEP_FLOAT_FIELDS", "STEP_INT_FIELDS", "STEP_TAGS", "Encoded",
    "encode_steps", "encode_session", "encode_sensor_status", "encode_exercise", "point_time_ns",
]

# Field keys need no escaping (plain identifiers); line-protocol order = sorted, like Point.
# (key, is_int, "key=") per field, and the order in which encode_steps reads a step's columns.
_STEP_FIELD_SPECS = tuple((k, k in STEP_INT_FIELDS, k + "=") for k in sorted(STEP_FLOAT_FIELDS + STEP_INT_FIELDS))
_STEP_READ_ORDER = ("side", "activity", "t_ic_s") + tuple(k for k, _, _ in _STEP_FIELD_SPECS)
_STEP_TEMPLATE = ",".join(head + ("%di" if is_int else "%r") for _, is_int, head in _STEP_FIELD_SPECS)
_STRIDE_POS = [k for k, _, _ in _STEP_FIELD_SPECS].index("stride_index")
_FAST_TYPES = {float, int}

_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})

_MAX_NS = 2**63 - 1


@dataclass
class Encoded:
    """Result of encoding: the lines, and what was left out.

    ``omitted`` counts NaN/inf/None fields per field name; ``rejected`` lists
    ``(index, reason)`` of inputs that produced no point at all.
    """

    lines: list[str] = field(default_factory=list)
    omitted: Counter = field(default_factory=Counter)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _tag_value(value: str) -> str:
    return value.translate(_ESCAPE_KEY)


_BAD_BACKSLASH = re.compile(r"\\(?=[,= ]|$)")


def check_tag(name: str, value: Any) -> str:
    """Validate a tag value: a non-empty string without control characters, and without a
    backslash at its end or before ``,``/``=``/space — line protocol cannot carry those (InfluxDB
    would store ``ann\\`` as ``ann `` or refuse the point). Raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"tag {name!r} must be a non-empty string, got {value!r}")
    if any(ord(c) < 32 for c in value):
        raise ValueError(f"tag {name!r} contains control characters: {value!r}")
    if _BAD_BACKSLASH.search(value):
        raise ValueError(f"tag {name!r} has a backslash at its end or before a comma, '=' or space, "
                         f"which InfluxDB cannot store: {value!r}")
    return value


def point_time_ns(t0_unix_ns: int, t_s: float) -> int:
    """``t0_unix_ns + round(t_s * 1e9)``: a recording-clock time (s) to UTC ns since the epoch.

    Deterministic for the same inputs, so writing a step twice yields the same point key.
    Raises ValueError for a non-finite time or a result outside 0..2**63-1.
    """
    t = float(t_s)
    if not math.isfinite(t):
        raise ValueError(f"time {t_s!r} s is not finite")
    ns = int(t0_unix_ns) + round(t * 1e9)
    if not 0 <= ns <= _MAX_NS:
        raise ValueError(f"time {ns} ns is outside the InfluxDB range")
    return ns


def _float_text(value: Any) -> str | None:
    """Line-protocol text of a float field, None for NaN/inf/None; ValueError for non-numbers."""
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{value!r} is not a number")
    v = float(value)
    if not math.isfinite(v):
        return None
    s = repr(v)
    return s[:-2] if s.endswith(".0") else s


def _as_int(value: Any) -> int | None:
    """An integer field value; None for None/NaN/inf; ValueError for non-integers."""
    if value is None:
        return None
    if isinstance(value, (bool, str, bytes)):
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return int(value)
    v = float(value)
    if not math.isfinite(v):
        return None
    if not v.is_integer():
        raise ValueError(f"{value!r} is not an integer")
    return int(v)


def _int_text(value: Any) -> str | None:
    """Line-protocol text of an integer field (``5i``), None for None/NaN/inf."""
    v = _as_int(value)
    return None if v is None else f"{v}i"


def encode_steps(steps: Iterable[Any], *, runner: str, sensor: str, session: str,
                 t0_unix_ns: int) -> Encoded:
    """Encode per-step rows (data-contracts §3) as ``gait_step`` lines.

    ``steps``: dicts, ``gaitmon.core.Step`` objects or any objects with the column attributes.
    ``t_ic_s`` is on the recording clock (s); the point time is ``t0_unix_ns + t_ic_s * 1e9``
    (UTC ns). A step with an invalid ``t_ic_s``, ``side``, ``activity`` or a non-numeric value
    is rejected (listed in ``Encoded.rejected``); NaN/inf fields are omitted and counted in
    ``Encoded.omitted``.
    """
    base = (",runner=" + _tag_value(check_tag("runner", runner))
            + ",sensor=" + _tag_value(check_tag("sensor", sensor))
            + ",session=" + _tag_value(check_tag("session", session)))
    t0 = int(t0_unix_ns)
    # Point sorts tags by key: activity, runner, sensor, session, side
    prefixes = {(side, act): "gait_step,activity=" + act + base + ",side=" + side + " "
                for side in SIDES for act in ACTIVITIES}
    out = Encoded()
    lines = out.lines
    columns = _STEP_READ_ORDER
    read_dict, read_attrs = operator.itemgetter(*columns), operator.attrgetter(*columns)
    for index, step in enumerate(steps):
        try:
            values = read_dict(step) if isinstance(step, Mapping) else read_attrs(step)
        except (KeyError, AttributeError):  # a column is missing: None, i.e. omitted or rejected
            values = [step.get(c) if isinstance(step, Mapping) else getattr(step, c, None) for c in columns]
        side, activity, t_ic = values[0], values[1], values[2]
        prefix = prefixes.get((side, activity))
        try:
            if prefix is None:
                raise ValueError(f"side={side!r} must be 'L'/'R' and activity={activity!r} 'walk'/'run'")
            if type(t_ic) is float and t_ic - t_ic == 0.0:
                ns = t0 + round(t_ic * 1e9)
                if not 0 <= ns <= _MAX_NS:
                    raise ValueError(f"time {ns} ns is outside the InfluxDB range")
            else:
                ns = point_time_ns(t0, t_ic)
            fields = values[3:]
            if set(map(type, fields)) == _FAST_TYPES and type(fields[_STRIDE_POS]) is int:
                # fast path: all finite Python floats (+ the int index), one C-level format;
                # "x.0" -> "x" exactly like Point (a float repr contains ".0," or ends in ".0"
                # only when it is a whole number)
                floats = fields[:_STRIDE_POS] + fields[_STRIDE_POS + 1:]
                total = sum(floats)
                if total - total == 0.0:
                    text = (_STEP_TEMPLATE % tuple(fields)).replace(".0,", ",")
                    if text[-2:] == ".0":
                        text = text[:-2]
                    lines.append(prefix + text + " " + str(ns))
                    continue
            parts = []
            for (key, is_int, head), v in zip(_STEP_FIELD_SPECS, fields):
                # fast path: a finite Python float (v - v is NaN for NaN and +-inf)
                if type(v) is float and not is_int and v - v == 0.0:
                    text = repr(v)
                    parts.append(head + (text[:-2] if text[-2:] == ".0" else text))
                    continue
                try:
                    text = _int_text(v) if is_int else _float_text(v)
                except (TypeError, ValueError) as e:
                    raise ValueError(f"{key}: {e}") from None
                if text is None:
                    out.omitted[key] += 1
                else:
                    parts.append(head + text)
            if not parts:
                raise ValueError("no finite field values")
        except (TypeError, ValueError) as e:
            out.rejected.append((index, str(e)))
            continue
        lines.append(prefix + ",".join(parts) + " " + str(ns))
    return out


def _point_line(point: Point, fields: Mapping[str, Any], out: Encoded, index: int) -> None:
    """Add finite fields to ``point``; append its line (or a rejection) to ``out``."""
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value) or \
                isinstance(value, str) and ("\n" in value or "\r" in value):
            out.omitted[key] += 1  # NaN/inf; a line break would split the line protocol
            continue
        point.field(key, value)
    line = point.to_line_protocol()
    if line:
        out.lines.append(line)
    else:
        out.rejected.append((index, "no finite field values"))


def _flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, name + "_"))
        elif isinstance(value, (list, tuple)):
            continue  # arrays (e.g. per-step series) do not belong in a summary point
        else:
            flat[name] = value
    return flat


def encode_session(summary: Mapping[str, Any], *, runner: str, sensor: str, session: str,
                   t_unix_ns: int) -> Encoded:
    """Encode a session summary as one ``gait_session`` point at ``t_unix_ns`` (session end, UTC ns).

    Nested dicts are flattened with ``_`` (``{"L": {"mean": 4.2}}`` -> ``L_mean``); every number
    (int or float) becomes a float field so a count never conflicts with a mean; bools become
    booleans, strings string fields; lists are skipped; None, NaN/inf and other objects are
    omitted and counted in ``Encoded.omitted``.
    """
    out = Encoded()
    point = Point("gait_session").tag("runner", check_tag("runner", runner)) \
        .tag("sensor", check_tag("sensor", sensor)).tag("session", check_tag("session", session)) \
        .time(_check_ns(t_unix_ns))
    fields: dict[str, Any] = {}
    for key, value in sorted(_flatten(summary).items()):
        if isinstance(value, bool) or isinstance(value, str):
            fields[key] = value
        elif value is None:
            out.omitted[key] += 1
        else:
            try:
                fields[key] = float(value)
            except (TypeError, ValueError):
                out.omitted[key] += 1  # not a number, a string or a bool: leave it out, counted
    _point_line(point, fields, out, 0)
    return out


def encode_sensor_status(*, runner: str, sensor: str, t_unix_ns: int, session: str | None = None,
                         battery_pct: float | None = None, rssi_dbm: float | None = None,
                         packets_received: int | None = None, packets_lost: int | None = None,
                         packets_rejected: int | None = None, reconnects: int | None = None) -> Encoded:
    """Encode one ``sensor_status`` point: battery (%), RSSI (dBm) as floats, counters as ints."""
    out = Encoded()
    point = Point("sensor_status").tag("runner", check_tag("runner", runner)) \
        .tag("sensor", check_tag("sensor", sensor)).time(_check_ns(t_unix_ns))
    if session is not None:
        point.tag("session", check_tag("session", session))
    fields = _typed_fields(out, floats={"battery_pct": battery_pct, "rssi_dbm": rssi_dbm},
                           ints={"packets_received": packets_received, "packets_lost": packets_lost,
                                 "packets_rejected": packets_rejected, "reconnects": reconnects})
    _point_line(point, fields, out, 0)
    return out


def encode_point(measurement: str, tags: Mapping[str, str], fields: Mapping[str, Any], t_unix_ns: int) -> Encoded:
    """Encode one point of any gaitmon measurement (e.g. ``single_leg_test``, ``fatigue``):
    tags are validated low-cardinality strings; NaN/inf/None fields are omitted and counted."""
    out = Encoded()
    point = Point(measurement)
    for k, v in tags.items():
        point = point.tag(k, check_tag(k, v))
    _point_line(point.time(_check_ns(t_unix_ns)), fields, out, 0)
    return out


def encode_exercise(*, runner: str, exercise: str, t_unix_ns: int, sets: int | None = None,
                    reps: int | None = None, hold_s: float | None = None,
                    note: str | None = None) -> Encoded:
    """Encode one ``exercise`` log entry: tags runner, exercise; fields sets, reps (int),
    hold_s (s, float), note (string)."""
    out = Encoded()
    point = Point("exercise").tag("runner", check_tag("runner", runner)) \
        .tag("exercise", check_tag("exercise", exercise)).time(_check_ns(t_unix_ns))
    fields = _typed_fields(out, floats={"hold_s": hold_s}, ints={"sets": sets, "reps": reps})
    if note is not None:
        if not isinstance(note, str) or "\n" in note or "\r" in note:
            raise ValueError("note must be a string of one line")
        fields["note"] = note
    _point_line(point, fields, out, 0)
    return out


def _typed_fields(out: Encoded, *, floats: Mapping[str, Any], ints: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce optional field values to their one type (None skipped; a NaN integer omitted and
    counted; NaN floats are left for :func:`_point_line` to omit and count)."""
    fields = {key: float(value) for key, value in floats.items() if value is not None}
    for key, value in ints.items():
        if value is not None:
            v = _as_int(value)
            if v is None:
                out.omitted[key] += 1
            else:
                fields[key] = v
    return fields


def _check_ns(t_unix_ns: Any) -> int:
    if isinstance(t_unix_ns, bool) or not isinstance(t_unix_ns, int):
        if hasattr(t_unix_ns, "dtype") and t_unix_ns.dtype.kind in "iu":
            t_unix_ns = int(t_unix_ns)
        else:
            raise ValueError(f"t_unix_ns must be an integer (ns since the Unix epoch), got {t_unix_ns!r}")
    if not 0 <= t_unix_ns <= _MAX_NS:
        raise ValueError(f"t_unix_ns={t_unix_ns} is outside the InfluxDB time range")
    return t_unix_ns

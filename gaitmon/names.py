"""Names a user gives gaitmon (runner, session, sensor, exercise): checked once, at the door.

They become InfluxDB tags, journal entries and file names, and they are printed. A name is
refused (exit 2, a one-line message) when it is empty, longer than :data:`MAX_NAME_LEN`
characters, holds control characters (tab, newline ...), or holds a backslash that InfluxDB's
line protocol cannot store (at the end, or before a comma, equals sign or space: InfluxDB 1.x
reads ``ann\\`` as ``ann`` + an escaped separator, and stores ``ann `` or refuses the point).
Every other string round-trips exactly (tested against a real influxd).
"""

from __future__ import annotations

import re

from gaitmon.core.types import GaitmonInputError

MAX_NAME_LEN = 256  # the same bound as GAITMON_RUNNER
_BAD_BACKSLASH = re.compile(r"\\(?=[,= ]|$)")


class NameProblem(GaitmonInputError):
    """A user-given name cannot be used (the message says why)."""


def name_problem(value) -> str | None:
    """Why ``value`` cannot be a gaitmon name (tag value), or None when it can."""
    if not isinstance(value, str) or not value.strip():
        return "is empty"
    if len(value) > MAX_NAME_LEN:
        return f"is longer than {MAX_NAME_LEN} characters ({len(value)})"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "contains control characters (tab, newline ...)"
    if _BAD_BACKSLASH.search(value):
        return "has a backslash at the end or before a comma, '=' or space, which InfluxDB cannot store"
    return None


def check_name(what: str, value: str) -> str:
    """Return ``value`` if it is a usable name, else raise :class:`NameProblem` naming ``what``."""
    why = name_problem(value)
    if why:
        shown = value if isinstance(value, str) and len(value) <= 60 else f"{str(value)[:57]}..."
        raise NameProblem(f"{what} {shown!r} {why}")
    return value

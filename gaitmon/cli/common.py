"""What every command shares: exit codes, the error line, safe markup, axis defaults, the InfluxDB switch."""

from __future__ import annotations

import datetime as _dt
import sys

from gaitmon.axes import AXIS_NAMES as AXES

__all__ = ["EXIT_OK", "EXIT_BAD_INPUT", "EXIT_NO_GAIT", "EXIT_NO_DATA", "EXIT_SERVER", "EXIT_NO_BLUETOOTH",
           "AXES", "DEFAULT_FORWARD", "DEFAULT_UP", "err", "esc", "influx_configured", "report_losses"]

#: exit codes: 0 ok, 2 bad input or usage (the message says what to change), 3 no gait found /
#: nothing to analyse, 4 the server (InfluxDB, Grafana) refused or did not answer, or no Bluetooth
EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_GAIT = 3
EXIT_NO_DATA = 3
EXIT_SERVER = 4
EXIT_NO_BLUETOOTH = 4

#: nominal sensor axes when neither the command line nor the file header names them
DEFAULT_FORWARD = "-z"
DEFAULT_UP = "+y"


def err(msg: str) -> None:
    """The one-line error message of a command (stderr)."""
    print(f"gaitmon: error: {msg}", file=sys.stderr)


def esc(text) -> str:
    """User text inside a Rich markup string: shown as typed, never interpreted."""
    from rich.markup import escape

    return escape(str(text))


def influx_configured() -> bool:
    """InfluxDB settings given (environment or $GAITMON_CONFIG)."""
    from gaitmon.store.config import influx_configured as configured

    return configured()


def report_losses(stats) -> int:
    """Non-zero exit and a message when points will never be stored (see loss_exit_code)."""
    from gaitmon.pipeline.influx import loss_exit_code

    rc = loss_exit_code(stats)
    if rc:
        err(f"InfluxDB: {stats.loss_message()}")
    return rc


def iso_to_ns(text: str, bad: str) -> int:
    """ISO 8601 date or time -> ns since the epoch, exactly (UTC when no zone is given); ``bad`` is
    the message of the ``ValueError`` for text that is not one."""
    try:
        t = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(bad) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    delta = t - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000

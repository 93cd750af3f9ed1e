"""The ``gaitmon`` command: the top-level parser, every command group mounted on it, and
:func:`main` (names checked at the door; every error becomes a one-line message and an exit code).
"""

from __future__ import annotations

import argparse
import logging

from . import analyze, collect, dashboards, demo, dot, exercise, report, scan, simulate, single_leg, store, trend
from .common import EXIT_BAD_INPUT, EXIT_SERVER, err

log = logging.getLogger("gaitmon")

#: the command groups in the order ``gaitmon --help`` lists them
GROUPS = (analyze, simulate, demo, scan, collect, dot, store, dashboards, exercise, report, trend, single_leg)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitmon",
        description="Open gait monitor for runners: contralateral pelvic drop per step from one IMU "
                    "clipped on the back of the waistband.",
        epilog="Start with `gaitmon demo` (no hardware, no database). Units: m/s², rad/s, degrees.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    for group in GROUPS:
        group.add_parser(sub)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    from gaitmon.store import deadline

    try:
        _check_names(args)
        with deadline.operation(None):  # a command's InfluxDB deadline ends with the command
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last net: a one-line message and an exit code, never a traceback
        rc, msg = _classify(exc)
        if rc is None:
            raise
        err(msg)
        if args.verbose:
            log.exception("details")
        return rc


#: arguments holding user-given names (InfluxDB tags, journal keys, printed text)
_NAME_ARGS = ("runner", "session", "exercise")


def _check_names(args) -> None:
    from gaitmon.names import check_name

    for attr in _NAME_ARGS:
        value = getattr(args, attr, None)
        if isinstance(value, str):
            check_name(f"--{attr}", value)


def _classify(exc: BaseException) -> tuple[int | None, str]:
    """Exit code and message for an error that reached main(); (None, '') for a bug."""
    from gaitmon.core.types import GaitmonInputError

    if isinstance(exc, GaitmonInputError):
        return EXIT_BAD_INPUT, str(exc)
    if type(exc).__module__.startswith("gaitmon.store"):
        from gaitmon.store.errors import ConfigError, SpoolError

        if isinstance(exc, (ConfigError, SpoolError)):
            return EXIT_BAD_INPUT, str(exc)
        return EXIT_SERVER, f"InfluxDB: {exc}"
    if isinstance(exc, UnicodeError):
        return EXIT_BAD_INPUT, f"cannot decode text: {exc}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return EXIT_BAD_INPUT, f"{where}{exc.strerror or exc}"
    return None, ""

"""``gaitmon exercise log``: one strength-exercise session into InfluxDB ``exercise`` (and a Grafana
annotation on the long-term dashboard), or into the runner's local journal without a database.

    gaitmon exercise log --runner alice                              3 x 30 s isometric hip-abduction hold, now

Grafana credentials from GAITMON_GRAFANA_TOKEN (or GAITMON_GRAFANA_USER/PASSWORD); InfluxDB
settings from the GAITMON_INFLUX_* variables or ``--config FILE`` (docs/storage.md).
Exit codes: 0 ok, 2 bad settings or usage, 4 Grafana or InfluxDB refused or did not answer.
"""
from __future__ import annotations

import os
import sys
import time

from .common import EXIT_BAD_INPUT, EXIT_OK, EXIT_SERVER, err, iso_to_ns

#: defaults of ``gaitmon exercise log``: the side-lying isometric hip-abduction hold
DEFAULT_EXERCISE = "hip_abduction_hold"
DEFAULT_SETS = 3
DEFAULT_HOLD_S = 30.0


def add_parser(subparsers) -> None:
    """Mount ``exercise`` (``log``)."""
    e = subparsers.add_parser("exercise", help="strength-programme log (InfluxDB + Grafana annotation)")
    esub = e.add_subparsers(dest="exercise_cmd", required=True)
    lg = esub.add_parser("log", help="log one strength exercise session",
                         description="Log a strength exercise session: a point in the InfluxDB 'exercise' "
                                     "measurement and, with a Grafana URL, an annotation on the long-term dashboard. "
                                     "Defaults: isometric side-lying hip-abduction hold, 3 sets of 30 s, both sides.")
    lg.add_argument("--runner", default=None, help="runner name (default GAITMON_RUNNER)")
    lg.add_argument("--exercise", default=DEFAULT_EXERCISE, help="exercise name (default %(default)s)")
    lg.add_argument("--sets", type=int, default=DEFAULT_SETS, help="sets (default %(default)s)")
    lg.add_argument("--reps", type=int, default=None, help="repetitions per set (holds have none)")
    lg.add_argument("--hold-s", type=float, default=DEFAULT_HOLD_S, help="hold per set, seconds (default %(default)s)")
    lg.add_argument("--side", choices=("L", "R", "both"), default="both", help="side trained (default %(default)s)")
    lg.add_argument("--note", default=None, help="free text, one line")
    lg.add_argument("--at", default=None, help="when, ISO 8601 (default now; without a zone: UTC)")
    lg.add_argument("--config", default=None, help="TOML file with GAITMON_* keys (default $GAITMON_CONFIG)")
    lg.add_argument("--grafana-url", default=None, help="also annotate Grafana (default $GAITMON_GRAFANA_URL)")
    lg.add_argument("--no-grafana", action="store_true", help="only write to InfluxDB")
    lg.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for InfluxDB (default %(default)s)")
    lg.set_defaults(func=cmd_exercise_log)


def _parse_at(text: str | None) -> int:
    """ISO 8601 -> ns since the epoch (UTC when no zone is given); None -> now."""
    if text is None:
        return time.time_ns()
    return iso_to_ns(text, f"--at {text!r} is not an ISO 8601 time (e.g. 2025-03-01T18:30)")


def exercise_text(*, exercise: str, sets: int | None, reps: int | None, hold_s: float | None, side: str,
                  note: str | None) -> str:
    """The one-line description used as the annotation text and stored note."""
    parts = [exercise.replace("_", " ")]
    dose = []
    if sets:
        dose.append(f"{sets} x")
    if reps:
        dose.append(f"{reps} reps")
    if hold_s:
        dose.append(f"{hold_s:g} s hold")
    if dose:
        parts.append(" ".join(dose))
    parts.append("both sides" if side == "both" else f"side {side}")
    if note:
        parts.append(note)
    return " · ".join(parts)


def cmd_exercise_log(args) -> int:
    from gaitmon.store import StoreConfig, StoreError, open_writer
    from gaitmon.store.errors import ConfigError

    from gaitmon.grafana.client import GrafanaError, GrafanaPusher, GrafanaSettings

    try:
        if args.sets is not None and args.sets < 1 or args.reps is not None and args.reps < 1:
            raise ValueError("--sets and --reps must be at least 1")
        if args.hold_s is not None and not (0 < args.hold_s < 3600):
            raise ValueError("--hold-s must be between 0 and 3600 seconds")
        if args.note is not None and ("\n" in args.note or "\r" in args.note):
            raise ValueError("--note must be one line")
        if not args.exercise.strip():
            raise ValueError("--exercise must not be empty")
        t_ns = _parse_at(args.at)
        from gaitmon.store.config import influx_configured

        use_db = bool(args.config) or influx_configured()
        cfg = StoreConfig.from_env(args.config) if use_db else None
        from gaitmon.store.config import configured_runner

        runner = args.runner or (cfg.runner if cfg else configured_runner())
        if not runner:
            raise ValueError("no runner: pass --runner or set GAITMON_RUNNER")
        settings = None
        if not args.no_grafana and (args.grafana_url or os.environ.get("GAITMON_GRAFANA_URL")):
            settings = GrafanaSettings.from_env(args.grafana_url)
    except (ValueError, ConfigError, GrafanaError) as e:
        err(str(e))
        return EXIT_BAD_INPUT
    text = exercise_text(exercise=args.exercise, sets=args.sets, reps=args.reps, hold_s=args.hold_s,
                         side=args.side, note=args.note)
    if cfg is None:
        # no database configured: the runner's local journal (read by `gaitmon trend`)
        from gaitmon.pipeline import journal

        path = journal.append_exercise(runner=runner, exercise=args.exercise, t_ns=t_ns, sets=args.sets,
                                       reps=args.reps, hold_s=args.hold_s, side=args.side, note=args.note)
        print(f"logged for {runner} in {path}: {text} (set GAITMON_INFLUX_URL to log to InfluxDB)")
        return EXIT_OK
    from gaitmon.store import deadline

    deadline.begin(args.timeout)  # the whole InfluxDB part
    try:
        with open_writer(cfg) as w:
            n = w.write_exercise(exercise=args.exercise, t_unix_ns=t_ns, sets=args.sets, reps=args.reps,
                                 hold_s=args.hold_s, note=text, runner=runner)
            if n != 1:
                raise StoreError("the exercise entry was not accepted (see the log)")
            if not w.flush(args.timeout):
                print(f"InfluxDB did not answer within {args.timeout:g} s: the entry waits in the spool "
                      f"{w.spool_path} and is sent by the next gaitmon run", file=sys.stderr)
        loss = w.stats.loss_message()
        if loss:
            raise StoreError(loss)
    except StoreError as e:
        err(str(e))
        return EXIT_SERVER
    print(f"logged for {runner}: {text}")
    if settings is not None:
        try:
            with GrafanaPusher(settings) as g:
                added = g.add_exercise_annotation(runner=runner, exercise=args.exercise,
                                                  t_unix_ms=t_ns // 1_000_000, text=text)
            print("Grafana annotation " + ("added" if added else "already there"))
        except GrafanaError as e:
            err(str(e))
            return EXIT_SERVER
    return EXIT_OK

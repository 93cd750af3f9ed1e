"""`gaitmon report`: the HTML session report of a recording, a steps CSV or an InfluxDB session;
with InfluxDB, the comparison with previous sessions and the session's fatigue drift.

Exit codes: 0 ok, 2 bad input (the message says what to change), 3 nothing to report,
4 InfluxDB refused the fatigue points.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

from .common import AXES, EXIT_BAD_INPUT, EXIT_NO_DATA, EXIT_OK, EXIT_SERVER, err, esc, influx_configured


def add_parser(sub) -> None:
    """Mount ``report``."""
    r = sub.add_parser("report", help="HTML session report (figures, plain-language summary)",
                       description="Build a self-contained HTML report (+ PNG figures) of one session from a "
                                   "recording, a steps CSV (gaitmon analyze --out) or a session in InfluxDB. "
                                   "With GAITMON_INFLUX_URL set: compares with previous sessions and writes the "
                                   "session's fatigue drift (measurement `fatigue`).")
    r.add_argument("source", nargs="?", type=Path, help="recording (.csv/.csv.gz) or steps CSV")
    r.add_argument("--influx-session", metavar="SESSION", help="report a session stored in InfluxDB")
    r.add_argument("--runner", help="runner (InfluxDB tag; default GAITMON_RUNNER)")
    r.add_argument("--session", help="session tag for the fatigue points (default: runner + start time)")
    r.add_argument("--out-dir", type=Path, default=Path("gaitmon-report"), help="default %(default)s")
    r.add_argument("--title", help="report title")
    r.add_argument("--forward", choices=AXES, help="sensor axis pointing forward (recordings)")
    r.add_argument("--up", choices=AXES, help="sensor axis pointing up (recordings)")
    r.add_argument("--leg-length", type=float, default=0.90, help="leg length, m, for step length (default %(default)s)")
    r.add_argument("--step-length", type=float, default=None,
                   help="your running step length, m (e.g. GPS distance / steps); enables drop vs speed for runs")
    r.add_argument("--fatigue-threshold", type=float, default=1.0,
                   help="flag fatigue when the drop rises by at least this many degrees over the session (default %(default)s)")
    r.add_argument("--previous", type=int, default=8, help="previous sessions to compare with (InfluxDB; default %(default)s)")
    r.add_argument("--no-influx", action="store_true", help="do not read or write InfluxDB")
    r.set_defaults(func=cmd_report)


def _is_steps_csv(path: Path) -> bool:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                return s.split(",")[0].strip().lower() == "t_ic_s"
    return False


def cmd_report(args) -> int:
    from rich.console import Console

    from gaitmon.core import GaitmonInputError
    from gaitmon.report import build_report

    console = Console(stderr=True)
    from gaitmon.store.config import configured_runner

    runner = args.runner or configured_runner()
    session = args.session
    t0_ns = None
    try:
        if args.influx_session:
            if not runner:
                err("--influx-session needs --runner (or GAITMON_RUNNER)")
                return EXIT_BAD_INPUT
            from gaitmon.store import deadline

            deadline.begin(deadline.budget())
            steps, t0_ns = _steps_from_influx(runner, args.influx_session)
            session = args.influx_session
            source = f"InfluxDB session {session}"
        elif args.source is None:
            err("give a recording, a steps CSV, or --influx-session SESSION --runner NAME")
            return EXIT_BAD_INPUT
        elif not Path(args.source).exists():
            err(f"{args.source}: no such file")
            return EXIT_BAD_INPUT
        elif _is_steps_csv(Path(args.source)):
            from gaitmon.pipeline.step_files import read_steps_csv

            steps = read_steps_csv(args.source)
            source = f"steps file {Path(args.source).name}"
        else:
            from gaitmon.core import analyze
            from gaitmon.pipeline.sessions import recording_start_ns
            from gaitmon.sources.recording import read_recording

            rec = read_recording(args.source)
            steps = analyze(rec.time, rec.acc, rec.gyr, forward=args.forward or rec.forward or "-z",
                            up=args.up or rec.up or "+y").steps
            source = f"recording {Path(args.source).name}"
            t0_ns = recording_start_ns(Path(args.source), rec.meta, float(rec.time[-1] - rec.time[0])) \
                - int(rec.time[0] * 1e9)
    except (GaitmonInputError, ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
        err(f"cannot read {args.source or args.influx_session}: {exc}")
        return EXIT_BAD_INPUT
    except Exception as exc:  # store errors (unreachable server, auth...) -> clear message
        if exc.__class__.__module__.startswith("gaitmon.store"):
            err(f"InfluxDB: {exc}")
            return EXIT_BAD_INPUT
        raise
    if not steps:
        err("no steps to report (no walking or running found)")
        return EXIT_NO_DATA
    previous = None
    use_influx = influx_configured() and not args.no_influx and runner
    if use_influx:
        from gaitmon.store import deadline

        deadline.begin(deadline.budget())  # all InfluxDB work of the report
        try:
            previous = _previous_sessions(runner, exclude=session, n=args.previous)
        except Exception as exc:  # report still useful without the history
            console.print(f"[yellow]InfluxDB: previous sessions not available ({esc(exc)})[/]")
    title = args.title or f"gaitmon session report{' — ' + runner if runner else ''}"
    try:
        path = build_report(steps, args.out_dir, title=title, previous=previous or None,
                            leg_length_m=args.leg_length, run_step_length_m=args.step_length,
                            fatigue_threshold_deg=args.fatigue_threshold, source=source)
    except ValueError as exc:
        err(str(exc))
        return EXIT_BAD_INPUT
    rep = json.loads((Path(args.out_dir) / "report.json").read_text())
    for line in rep["summary"]:
        console.print("• " + line, markup=False, highlight=False)
    console.print(f"report → {path}  (open it in a browser; figures also as PNG in {args.out_dir})",
                  markup=False, highlight=False)
    if use_influx and t0_ns is not None:
        return _write_fatigue(steps, runner, session, t0_ns, args, console)
    return EXIT_OK


def _steps_from_influx(runner: str, session: str):
    from gaitmon.store import StoreConfig
    from gaitmon.store.query import GaitQuery

    with GaitQuery(StoreConfig.from_env()) as q:
        rows = q.session_steps(runner, session)
    if not rows:
        raise ValueError(f"no steps of runner {runner!r} in session {session!r}")
    t0 = int(rows[0]["time"])
    for r in rows:
        r["t_ic_s"] = (int(r["time"]) - t0) / 1e9
        r.setdefault("contact_time_s", math.nan)
    return rows, t0


def _previous_sessions(runner: str, *, exclude: str | None, n: int) -> list[dict]:
    from gaitmon.analysis.influx import session_drops
    from gaitmon.store import StoreConfig
    from gaitmon.store.query import GaitQuery

    with GaitQuery(StoreConfig.from_env()) as q:
        drops = session_drops(q, runner, activity=None)
    by: dict[str, dict] = {}
    for d in drops:
        if d.session == exclude:
            continue
        e = by.setdefault(d.session, {"start": d.start_ns,
                                      "label": _dt.datetime.fromtimestamp(d.start_ns / 1e9, _dt.timezone.utc)
                                      .strftime("%d %b %H:%M")})
        e[d.side] = d.mean_deg
    rows = sorted(by.values(), key=lambda e: e["start"])[-n:] if n > 0 else []
    return [{"label": r["label"], "L": r.get("L"), "R": r.get("R")} for r in rows]


def _write_fatigue(steps, runner, session, t0_ns, args, console) -> int:
    from gaitmon.analysis.fatigue import fatigue_drift
    from gaitmon.analysis.influx import write_fatigue
    from gaitmon.pipeline.sessions import session_id
    from gaitmon.store import StoreConfig, StoreError, open_writer

    fat = fatigue_drift(steps, threshold_deg=args.fatigue_threshold, leg_length_m=args.leg_length,
                        run_step_length_m=args.step_length)
    session = session or session_id(runner, t0_ns)
    t_end = t0_ns + int(max((s["t_ic_s"] if isinstance(s, dict) else s.t_ic_s) for s in steps) * 1e9)
    try:
        w = open_writer(StoreConfig.from_env())
        try:
            n = write_fatigue(w, fat, runner=runner, session=session, t_unix_ns=t_end)
            done = w.flush(30.0)
        finally:
            w.close()
        if w.stats.loss_message():
            raise StoreError(w.stats.loss_message())
        console.print(f"InfluxDB: {n} fatigue point(s) for session {session} "
                      + ("stored" if done else "spooled (sent by the next gaitmon run)"), markup=False)
    except (StoreError, ValueError) as exc:
        err(f"InfluxDB: fatigue not written ({exc})")
        return EXIT_SERVER if isinstance(exc, StoreError) and not isinstance(exc, ValueError) else EXIT_BAD_INPUT
    return EXIT_OK

"""`gaitmon report`, `gaitmon trend`, `gaitmon test single-leg` — for the runner and the physio.

Mounted by gaitmon/cli.py (``_mount_optional``). Exit codes as in gaitmon.cli: 0 ok, 2 bad input
(the message says what to change), 3 nothing to analyse.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT, EXIT_NO_DATA, EXIT_SERVER = 0, 2, 3, 4
from gaitmon.axes import AXIS_NAMES as AXES


def _esc(text) -> str:
    """User text inside a Rich markup string: shown as typed, never interpreted."""
    from rich.markup import escape

    return escape(str(text))


def _err(msg: str) -> None:
    print(f"gaitmon: error: {msg}", file=sys.stderr)


def _influx_configured() -> bool:
    from gaitmon.store.config import influx_configured

    return influx_configured()


def _date_ns(s: str) -> int:
    try:
        d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{s!r} is not a date (use YYYY-MM-DD or an ISO time)") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return int(d.timestamp() * 1e9)


def _is_steps_csv(path: Path) -> bool:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if s and not s.startswith("#"):
                return s.split(",")[0].strip().lower() == "t_ic_s"
    return False


# ------------------------------------------------------------------ report
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
                _err("--influx-session needs --runner (or GAITMON_RUNNER)")
                return EXIT_BAD_INPUT
            from gaitmon.store import deadline

            deadline.begin(deadline.budget())
            steps, t0_ns = _steps_from_influx(runner, args.influx_session)
            session = args.influx_session
            source = f"InfluxDB session {session}"
        elif args.source is None:
            _err("give a recording, a steps CSV, or --influx-session SESSION --runner NAME")
            return EXIT_BAD_INPUT
        elif not Path(args.source).exists():
            _err(f"{args.source}: no such file")
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
        _err(f"cannot read {args.source or args.influx_session}: {exc}")
        return EXIT_BAD_INPUT
    except Exception as exc:  # store errors (unreachable server, auth...) -> clear message
        if exc.__class__.__module__.startswith("gaitmon.store"):
            _err(f"InfluxDB: {exc}")
            return EXIT_BAD_INPUT
        raise
    if not steps:
        _err("no steps to report (no walking or running found)")
        return EXIT_NO_DATA
    previous = None
    use_influx = _influx_configured() and not args.no_influx and runner
    if use_influx:
        from gaitmon.store import deadline

        deadline.begin(deadline.budget())  # all InfluxDB work of the report
        try:
            previous = _previous_sessions(runner, exclude=session, n=args.previous)
        except Exception as exc:  # report still useful without the history
            console.print(f"[yellow]InfluxDB: previous sessions not available ({_esc(exc)})[/]")
    title = args.title or f"gaitmon session report{' — ' + runner if runner else ''}"
    try:
        path = build_report(steps, args.out_dir, title=title, previous=previous or None,
                            leg_length_m=args.leg_length, run_step_length_m=args.step_length,
                            fatigue_threshold_deg=args.fatigue_threshold, source=source)
    except ValueError as exc:
        _err(str(exc))
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
        _err(f"InfluxDB: fatigue not written ({exc})")
        return EXIT_SERVER if isinstance(exc, StoreError) and not isinstance(exc, ValueError) else EXIT_BAD_INPUT
    return EXIT_OK


# ------------------------------------------------------------------ trend
def cmd_trend(args) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from gaitmon.analysis.programme import build_trend
    from gaitmon.pipeline.single_leg import load_results

    console = Console()
    try:
        start = _date_ns(args.start) if args.start else None
        since = _date_ns(args.since) if args.since else None
    except ValueError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    lo, hi = args.per_day
    if not 0 < lo <= hi:
        _err("--per-day MIN MAX needs 0 < MIN <= MAX")
        return EXIT_BAD_INPUT
    if _influx_configured():
        from gaitmon.analysis.influx import exercise_times, session_drops, single_leg_tests
        from gaitmon.store import StoreConfig, StoreError
        from gaitmon.store import deadline
        from gaitmon.store.query import GaitQuery

        try:
            deadline.begin(deadline.budget())
            with GaitQuery(StoreConfig.from_env()) as q:
                drops = session_drops(q, args.runner, since=since, activity=args.activity)
                ex = exercise_times(q, args.runner)
                sl = single_leg_tests(q, args.runner)
        except StoreError as exc:
            _err(f"InfluxDB: {exc}")
            return EXIT_BAD_INPUT
    else:
        # no database: the runner's local journal (sessions from `gaitmon analyze --runner`,
        # exercises from `gaitmon exercise log`)
        from gaitmon.pipeline import journal

        drops = [d for d in journal.session_drops(args.runner, activity=args.activity)
                 if since is None or d.start_ns >= since]
        ex = journal.exercise_times(args.runner)
        sl = []
        console.print(f"history from the local journal {journal.home()} (no GAITMON_INFLUX_URL set)",
                      markup=False, highlight=False)
        if not drops:
            _err(f"no sessions of {args.runner} in {journal.home()}: analyse runs with "
                 "`gaitmon analyze REC.csv --runner NAME`, or set GAITMON_INFLUX_URL to read InfluxDB")
    if args.single_leg_dir:
        sl += [r for r in load_results(args.single_leg_dir) if r.get("runner") in (None, args.runner)]
    now = args.now_ns if args.now_ns else time.time_ns()
    tr = build_trend(args.runner, drops, ex, now_ns=now, programme_start_ns=start, per_day=(lo, hi),
                     washin_days=args.washin_days, single_leg=sl)
    day = lambda ns: _dt.datetime.fromtimestamp(ns / 1e9, _dt.timezone.utc).strftime("%Y-%m-%d")  # noqa: E731
    t = Table(title=Text(f"weekly pelvic drop — {args.runner} (mean of session means, deg)"))
    for c in ("week of", "left steps", "right steps", "sessions"):
        t.add_column(c, justify="right")
    weeks = sorted({w.week_start_ns for w in tr.weekly})
    for wk in weeks:
        L = next((w for w in tr.weekly if w.week_start_ns == wk and w.side == "L"), None)
        R = next((w for w in tr.weekly if w.week_start_ns == wk and w.side == "R"), None)
        mark = " ◀ start" if tr.programme_start_ns and wk <= tr.programme_start_ns < wk + 7 * 86400 * 10**9 else ""
        t.add_row(day(wk) + mark, f"{L.mean_deg:.1f}" if L else "–", f"{R.mean_deg:.1f}" if R else "–",
                  str(max(L.sessions if L else 0, R.sessions if R else 0)))
    console.print(t)
    if tr.adherence:
        a = Table(title=f"exercise adherence (prescribed {lo}–{hi} per day)")
        for c in ("week of", "days", "done", "prescribed", "status"):
            a.add_column(c, justify="right")
        for w in tr.adherence:
            a.add_row(day(w.week_start_ns), str(w.days), str(w.sessions), f"{w.prescribed_min}–{w.prescribed_max}",
                      w.status)
        console.print(a)
    for e in tr.effects.values():
        console.print("• " + e.text, markup=False, highlight=False)
    if tr.single_leg:
        s = Table(title="single-leg stance tests")
        for c in ("date", "stance leg", "drop °", "hold s", "sway °"):
            s.add_column(c, justify="right")
        for r in tr.single_leg:
            tn = r.get("time") or r.get("time_unix_ns") or 0
            s.add_row(day(int(tn)), str(r.get("side")), f"{r.get('drop_deg', math.nan):.1f}",
                      f"{r.get('hold_s', math.nan):.1f}", f"{r.get('sway_rms_deg', math.nan):.2f}")
        console.print(s)
    for n in tr.notes:
        console.print(f"[yellow]note:[/] {_esc(n)}")
    if args.json:
        Path(args.json).write_text(json.dumps(tr.as_dict(), indent=1))
    return EXIT_OK if drops else EXIT_NO_DATA


# ------------------------------------------------------------------ single-leg test
def cmd_single_leg(args) -> int:
    from rich.console import Console

    from gaitmon.core import GaitmonInputError
    from gaitmon.core.singleleg import analyze_single_leg
    from gaitmon.pipeline.single_leg import result_record, run_virtual, save_result, store_influx
    from gaitmon.ui.single_leg_view import Countdown, describe, link_note

    console = Console()
    side = args.side.upper()
    truth = None
    try:
        if args.virtual:
            t, a, g, fwd, up, truth = run_virtual(side, countdown=Countdown(console, side), speed=args.speed,
                                                  hold_s=args.virtual_hold, drop_deg=args.virtual_drop,
                                                  seed=args.seed)
            source, sensor = "virtual sensor", "virtual"
        elif args.sensor:
            import asyncio

            from gaitmon.pipeline.single_leg import collect_ble

            try:
                t, a, g, fwd, up, rec_path, link = asyncio.run(collect_ble(
                    side, args.sensor, countdown=Countdown(console, side), kind=args.kind, out_dir=args.record_dir,
                    runner=args.runner, forward=args.forward, up=args.up))
            except TimeoutError as exc:
                _err(str(exc))
                return EXIT_BAD_INPUT
            note = link_note(link.packets_lost, link.packets_rejected)
            if note:
                console.print(note)
            source, sensor = f"BLE sensor {args.sensor} (raw recording {rec_path})", args.sensor
        elif args.recording:
            from gaitmon.sources.recording import read_recording

            rec = read_recording(args.recording)
            t, a, g = rec.time, rec.acc, rec.gyr
            fwd, up = args.forward or rec.forward or "-z", args.up or rec.up or "+y"
            source, sensor = f"recording {Path(args.recording).name}", rec.meta.get("sensor", "file")
        else:
            _err("give a recording of the test, --sensor ADDRESS for a live BLE sensor (see `gaitmon scan`), "
                 "or --virtual for a simulated live sensor")
            return EXIT_BAD_INPUT
        res = analyze_single_leg(t, a, g, side=side, forward=fwd, up=up)
    except GaitmonInputError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    console.rule(f"single-leg stance — standing on the {side} leg")
    for line in describe(res):
        console.print(line)
    if truth is not None:
        console.print(f"[dim](simulated truth: drop {truth.drop_deg:.1f}°, hold {truth.hold_s:.1f} s, "
                      f"sway {truth.sway_rms_deg:.2f}°)[/]")
    now = time.time_ns()
    from gaitmon.store.config import configured_runner

    runner = args.runner or configured_runner()
    out = args.out or Path("gaitmon-tests") / f"single-leg-{side}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    rec_json = result_record(res, runner=runner, source=source, t_unix_ns=now)
    save_result(out, rec_json)
    console.print(f"result → {out}", markup=False, highlight=False)
    if _influx_configured():
        from gaitmon.store import StoreError

        try:
            store_influx(res, runner=runner, sensor=sensor, t_unix_ns=now, console=console)
        except (StoreError, ValueError) as exc:
            _err(f"InfluxDB: {exc} (the result is saved in {out})")
            return EXIT_SERVER if isinstance(exc, StoreError) and not isinstance(exc, ValueError) else EXIT_BAD_INPUT
    return EXIT_OK


# ------------------------------------------------------------------ parser
def add_cli(sub) -> None:
    """Add `report`, `trend` and `test single-leg` to gaitmon's sub-command parser."""
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

    t = sub.add_parser("trend", help="weekly drop, exercise adherence, programme effect (InfluxDB or local journal)",
                       description="Strength-programme tracking from InfluxDB: weekly per-side pelvic drop, exercise "
                                   "adherence vs the prescription, before/after effect around the programme start "
                                   "(bootstrap 95 % CI over sessions), single-leg tests.")
    t.add_argument("--runner", required=True)
    t.add_argument("--start", help="programme start date (default: first `exercise` log entry)")
    t.add_argument("--since", help="ignore sessions before this date")
    t.add_argument("--per-day", type=int, nargs=2, default=(2, 3), metavar=("MIN", "MAX"),
                   help="prescribed exercise sessions per day (default 2 3)")
    t.add_argument("--washin-days", type=float, default=0.0,
                   help="days after the start not counted as 'after' (strength takes weeks; default 0)")
    t.add_argument("--activity", choices=("run", "walk"), default="run", help="steps compared (default %(default)s)")
    t.add_argument("--single-leg-dir", type=Path, help="also trend single-leg test JSON files in this directory")
    t.add_argument("--json", type=Path, help="write the trend as JSON")
    t.add_argument("--now-ns", type=int, default=None, help=argparse_suppress())
    t.set_defaults(func=cmd_trend)

    te = sub.add_parser("test", help="clinical tests with the clip-on sensor (single-leg stance)")
    ts = te.add_subparsers(dest="test_cmd", metavar="TEST")
    s = ts.add_parser("single-leg", help="single-leg stance test (Trendelenburg-style pelvic drop, hold, sway)",
                      description="Stand 5 s on both legs, then on one leg for up to 30 s. gaitmon measures how far "
                                  "the unsupported side of the pelvis sinks relative to two-leg standing, the hold "
                                  "time and the sway. Result → JSON file, and InfluxDB `single_leg_test` when "
                                  "GAITMON_INFLUX_URL is set.")
    s.add_argument("recording", nargs="?", type=Path, help="recording of the test (.csv/.csv.gz)")
    s.add_argument("--side", required=True, type=str.upper, choices=("L", "R"), help="the leg you STAND on")
    s.add_argument("--sensor", metavar="ADDRESS", help="live BLE sensor (address from `gaitmon scan`), with the countdown")
    s.add_argument("--kind", choices=("gaitmon", "polar", "movesense"), default="gaitmon",
                   help="protocol of the live sensor (default %(default)s)")
    s.add_argument("--record-dir", type=Path, default=Path("gaitmon-tests"),
                   help="live sensor: where the raw recording goes (default %(default)s)")
    s.add_argument("--virtual", action="store_true", help="simulated live sensor with the countdown")
    s.add_argument("--speed", type=float, default=1.0, help="virtual: playback speed (0 = fastest; default 1)")
    s.add_argument("--virtual-hold", type=float, default=30.0, help=argparse_suppress())
    s.add_argument("--virtual-drop", type=float, default=4.0, help=argparse_suppress())
    s.add_argument("--seed", type=int, default=0, help=argparse_suppress())
    s.add_argument("--forward", choices=AXES)
    s.add_argument("--up", choices=AXES)
    s.add_argument("--runner", help="runner (default GAITMON_RUNNER)")
    s.add_argument("--out", type=Path, help="result JSON (default gaitmon-tests/single-leg-SIDE-TIME.json)")
    s.set_defaults(func=cmd_single_leg)
    te.set_defaults(func=lambda a: (te.print_help(), EXIT_BAD_INPUT)[1])


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS

"""`gaitmon trend`: weekly pelvic drop, exercise adherence and the programme's effect, from
InfluxDB or, without a database, the runner's local journal.

Exit codes: 0 ok, 2 bad input or InfluxDB settings, 3 no sessions of the runner.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import time
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_NO_DATA, EXIT_OK, err, esc, influx_configured, iso_to_ns


def add_parser(sub) -> None:
    """Mount ``trend``."""
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
    t.add_argument("--now-ns", type=int, default=None, help=argparse.SUPPRESS)
    t.set_defaults(func=cmd_trend)


def _date_ns(s: str) -> int:
    return iso_to_ns(s, f"{s!r} is not a date (use YYYY-MM-DD or an ISO time)")


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
        err(str(exc))
        return EXIT_BAD_INPUT
    lo, hi = args.per_day
    if not 0 < lo <= hi:
        err("--per-day MIN MAX needs 0 < MIN <= MAX")
        return EXIT_BAD_INPUT
    if influx_configured():
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
            err(f"InfluxDB: {exc}")
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
            err(f"no sessions of {args.runner} in {journal.home()}: analyse runs with "
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
        console.print(f"[yellow]note:[/] {esc(n)}")
    if args.json:
        Path(args.json).write_text(json.dumps(tr.as_dict(), indent=1))
    return EXIT_OK if drops else EXIT_NO_DATA

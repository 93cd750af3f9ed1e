"""``gaitmon store ...``: look after the InfluxDB side from the command line.

    gaitmon store check                      settings, server, API, spool (exit 0 when all is well)
    gaitmon store flush [--timeout S]        send what waits in the spool
    gaitmon store retention [--raw 52w]      InfluxDB 1.x: create the raw/summary retention policies
    gaitmon store sessions --runner NAME     sessions found in InfluxDB
    gaitmon store weekly --runner NAME       weekly mean pelvic drop per side
    gaitmon store rejected                   points the server refused for good

Settings come from GAITMON_* variables or ``--config FILE`` (docs/storage.md).
Exit codes: 0 ok, 2 bad settings or usage, 4 the server refused or did not answer.
"""
from __future__ import annotations

import datetime as _dt
import time

from gaitmon.store.config import StoreConfig
from gaitmon.store.errors import ConfigError, SpoolError, StoreError
from gaitmon.store.schema import STEP_FLOAT_FIELDS

from .common import EXIT_BAD_INPUT, EXIT_OK, EXIT_SERVER, err


def add_parser(subparsers) -> None:
    """Mount ``store`` and its sub-commands on an argparse sub-parser collection."""
    p = subparsers.add_parser("store", help="InfluxDB storage: check, flush the spool, retention, queries",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default=None, help="TOML file with GAITMON_* keys (default $GAITMON_CONFIG)")
    sub = p.add_subparsers(dest="store_cmd", required=True)
    sub.add_parser("check", help="validate settings, reach the server, show the spool").set_defaults(func=cmd_check)
    f = sub.add_parser("flush", help="send the points waiting in the spool")
    f.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default %(default)s)")
    f.set_defaults(func=cmd_flush)
    r = sub.add_parser("retention", help="InfluxDB 1.x: create retention policies (raw steps expire, summaries stay)")
    r.add_argument("--raw", default="52w", help="how long raw steps are kept: <n>h|d|w or INF (default %(default)s)")
    r.set_defaults(func=cmd_retention)
    s = sub.add_parser("sessions", help="list the sessions of a runner")
    s.add_argument("--runner", default=None, help="default GAITMON_RUNNER")
    s.add_argument("--weeks", type=int, default=None, help="only the last N weeks")
    s.set_defaults(func=cmd_sessions)
    w = sub.add_parser("weekly", help="weekly mean of a step metric per side")
    w.add_argument("--runner", default=None, help="default GAITMON_RUNNER")
    w.add_argument("--weeks", type=int, default=12, help="how many weeks back (default %(default)s)")
    w.add_argument("--metric", default="pelvic_drop_deg", choices=STEP_FLOAT_FIELDS)
    w.add_argument("--activity", default=None, choices=("walk", "run"))
    w.set_defaults(func=cmd_weekly)
    j = sub.add_parser("rejected", help="show points the server refused for good")
    j.add_argument("--limit", type=int, default=20)
    j.set_defaults(func=cmd_rejected)


def _run(args, body) -> int:
    """Load the settings, run ``body(cfg)``, turn store errors into messages + exit codes."""
    from gaitmon.store import deadline

    try:
        cfg = StoreConfig.from_env(args.config)
        deadline.begin(getattr(args, "timeout", None) or cfg.timeout_s)  # the whole command
        return body(cfg)
    except (ConfigError, SpoolError) as e:  # local settings / the local spool: not the server
        err(str(e))
        return EXIT_BAD_INPUT
    except StoreError as e:
        err(str(e))
        return EXIT_SERVER


def _console():
    from rich.console import Console

    return Console()


def _fmt_ns(ns: int) -> str:
    return _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def cmd_check(args) -> int:
    from gaitmon.store.http import HttpClient
    from gaitmon.store.spool import Spool
    from gaitmon.store.transport import connect

    def body(cfg: StoreConfig) -> int:
        console = _console()
        console.print(f"settings: {cfg.describe()}, runner={cfg.runner or '(not set)'}, "
                      f"gzip={'on' if cfg.use_gzip else 'off'}", markup=False, highlight=False)
        spool = Spool(cfg.spool_dir, max_bytes=int(cfg.spool_max_mb * 1e6), sync=cfg.spool_sync)
        try:
            console.print(f"spool: {spool.path}: {spool.pending} points waiting "
                          f"({spool.pending_bytes / 1e6:.1f} of {cfg.spool_max_mb:g} MB), "
                          f"{spool.rejected_count()} refused by the server", markup=False, highlight=False)
            for note in spool.salvage_notes():
                console.print(f"spool: damaged file kept aside: {note}", markup=False, highlight=False)
        finally:
            spool.close()
        http = HttpClient(cfg)
        try:
            transport = connect(cfg, http)
            try:
                transport.check()
            finally:
                transport.close()
        finally:
            http.close()
        version = f", server version {transport.version}" if transport.version else ""
        console.print(f"server: {cfg.url} answers; {transport.api} write API{version}; "
                      "credentials and destination accepted", markup=False, highlight=False)
        return EXIT_OK

    return _run(args, body)


def cmd_flush(args) -> int:
    from gaitmon.store.writer import open_writer

    def body(cfg: StoreConfig) -> int:
        w = open_writer(cfg)
        try:
            before = w.stats.spooled
            done = w.flush(args.timeout)
        finally:
            w.close(timeout=1.0)
        st = w.stats
        _console().print(f"spool {w.spool_path}: {before} points were waiting, {st.sent} acknowledged, "
                         f"{st.spooled} still waiting", markup=False, highlight=False)
        if not done:
            err(f"not everything was sent within {args.timeout:g} s: {st.last_error or 'server slow'}")
            return EXIT_SERVER
        loss = st.loss_message()
        if loss:
            err(f"{loss}; see `gaitmon store rejected`")
            return EXIT_SERVER
        return EXIT_OK

    return _run(args, body)


def cmd_retention(args) -> int:
    from gaitmon.store.retention import create_retention_policies

    def body(cfg: StoreConfig) -> int:
        settings = create_retention_policies(cfg, raw_duration=args.raw)
        console = _console()
        console.print(f"retention policies ready on database {cfg.database!r}: raw steps kept {args.raw}, "
                      "summaries forever. Add to your settings:", markup=False, highlight=False)
        for key, value in settings.items():
            console.print(f"  {key}={value}", markup=False, highlight=False)
        return EXIT_OK

    return _run(args, body)


def _runner(args, cfg: StoreConfig) -> str:
    runner = args.runner or cfg.runner
    if not runner:
        raise ConfigError("give --runner or set GAITMON_RUNNER")
    return runner


def cmd_sessions(args) -> int:
    from rich.table import Table
    from rich.text import Text

    from gaitmon.store.query import GaitQuery

    def body(cfg: StoreConfig) -> int:
        runner = _runner(args, cfg)
        since = time.time_ns() - args.weeks * 7 * 86400 * 10**9 if args.weeks else None
        with GaitQuery(cfg) as q:
            sessions = q.sessions(runner, since=since)
        table = Table(title=Text(f"sessions of {runner}"))
        for col in ("session", "sensor", "start", "minutes", "steps"):
            table.add_column(col)
        for s in sessions:
            table.add_row(Text(s.session), Text(s.sensor), _fmt_ns(s.start_ns), f"{(s.end_ns - s.start_ns) / 6e10:.1f}",
                          str(s.steps))
        _console().print(table)
        return EXIT_OK

    return _run(args, body)


def cmd_weekly(args) -> int:
    from rich.table import Table
    from rich.text import Text

    from gaitmon.store.query import GaitQuery

    def body(cfg: StoreConfig) -> int:
        runner = _runner(args, cfg)
        since = time.time_ns() - args.weeks * 7 * 86400 * 10**9
        with GaitQuery(cfg) as q:
            means = q.weekly_side_means(runner, since=since, metric=args.metric, activity=args.activity)
        table = Table(title=Text(f"{args.metric}: weekly mean per side, {runner}"))
        for col in ("week (Monday)", "side", "mean", "steps"):
            table.add_column(col)
        for m in means:
            table.add_row(_fmt_ns(m.week_start_ns)[:10], m.side, f"{m.mean:.2f}", str(m.steps))
        _console().print(table)
        return EXIT_OK

    return _run(args, body)


def cmd_rejected(args) -> int:
    from gaitmon.store.spool import Spool

    def body(cfg: StoreConfig) -> int:
        spool = Spool(cfg.spool_dir, max_bytes=int(cfg.spool_max_mb * 1e6), sync=cfg.spool_sync)
        try:
            rows = spool.rejected_rows(args.limit)
            total = spool.rejected_count()
        finally:
            spool.close()
        console = _console()
        console.print(f"{total} points refused by the server (kept in {spool.path}, table 'rejected')",
                      markup=False, highlight=False)
        for line, reason in rows:
            console.print(f"- {reason}\n  {line[:300]}", markup=False, highlight=False)
        return EXIT_OK

    return _run(args, body)

"""`gaitmon demo`: a simulated run streamed live through the core (no hardware, no database)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .common import EXIT_NO_GAIT, EXIT_OK, esc, influx_configured, report_losses
from .simulate import add_sim_args, sim_config


def add_parser(sub) -> None:
    """Mount ``demo``."""
    d = sub.add_parser("demo", help="simulated run streamed live through the core (no hardware)",
                       description="Simulate a run, stream it through the streaming core in 100 ms chunks with a "
                                   "live per-step view, and write steps + summary.")
    add_sim_args(d, duration=180.0, fs=104.0, fatigue=1.0)
    d.add_argument("--out-dir", type=Path, default=Path("gaitmon-demo"), help="where steps.csv and summary.json go (default %(default)s)")
    d.add_argument("--speed", type=float, default=12.0, help="playback speed vs real time; 0 = as fast as possible (default %(default)s)")
    d.add_argument("--no-live", action="store_true", help="no live view (for logs/CI)")
    d.add_argument("--runner", default=None, help="runner name for the InfluxDB tags (with GAITMON_INFLUX_URL)")
    d.add_argument("--no-report", action="store_true", help="skip the HTML session report")
    d.set_defaults(func=cmd_demo)


def cmd_demo(args) -> int:
    from rich.console import Console, Group
    from rich.live import Live
    from rich.panel import Panel
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from gaitmon.core import StreamingAnalyzer
    from gaitmon.core.summary import summarize
    from gaitmon.pipeline.step_files import StepCsvWriter, write_summary
    from gaitmon.sim import simulate
    from gaitmon.ui.summary_view import print_summary

    console = Console()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = sim_config(args)
    console.print(f"[bold]gaitmon demo[/] — simulated {cfg.activity} of {cfg.duration_s:.0f} s at {cfg.fs:g} Hz "
                  f"(true drop L {cfg.drop_left_deg}°, R {cfg.drop_right_deg}° at the start, rising "
                  f"{cfg.drop_drift_deg_per_min}°/min as the runner tires), streamed through the core")
    rec = simulate(cfg)
    an = StreamingAnalyzer(forward=rec.forward, up=rec.up)
    steps_path = out_dir / "steps.csv"
    writer = StepCsvWriter(steps_path)
    sink = _optional_influx_sink(args, console)
    steps = []
    chunk = max(int(rec.fs * 0.1), 1)  # 100 ms of samples per push, like BLE notifications
    n = len(rec.time)
    progress = Progress(TextColumn("streaming"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TimeRemainingColumn(), console=console)
    task = progress.add_task("stream", total=n)

    def view():
        t = Table(title="last steps", expand=False)
        for c in ("t (s)", "side", "drop °", "", "spm", "contact ms", "VO cm", "quality"):
            t.add_column(c, justify="left" if c == "" else "right", no_wrap=True, min_width=8 if c == "" else None)
        for s in steps[-8:]:
            bar = ("█" * int(round(max(s.pelvic_drop_deg, 0))))[:15]  # one block per degree
            col = "cyan" if s.side == "L" else "magenta"
            ct = "" if s.contact_time_s != s.contact_time_s else f"{s.contact_time_s * 1000:.0f}"
            t.add_row(f"{s.t_ic_s:.2f}", f"[{col}]{s.side}[/]", f"{s.pelvic_drop_deg:.1f}", f"[{col}]{bar}[/]",
                      f"{s.cadence_spm:.0f}", ct, f"{s.vertical_oscillation_cm:.1f}", f"{s.quality:.2f}")
        lat = an.latencies_s
        foot = f"steps {len(steps)}" + (f" · latency median {np.median(lat) * 1000:.0f} ms" if lat else "")
        return Panel(Group(progress, t), subtitle=foot)

    live = Live(view(), console=console, refresh_per_second=8, transient=False) if not args.no_live else None
    try:
        if live:
            live.start()
        for i in range(0, n, chunk):
            new = an.push(rec.time[i:i + chunk], rec.acc[i:i + chunk], rec.gyr[i:i + chunk])
            if new:
                steps.extend(new)
                writer.write(new)
                if sink:
                    sink.write_steps(new)
            progress.update(task, completed=min(i + chunk, n))
            if live:
                live.update(view())
            if args.speed > 0:
                time.sleep(chunk / rec.fs / args.speed)
        new = an.finish()
        steps.extend(new)
        writer.write(new)
        if sink:
            sink.write_steps(new)
        if live:
            live.update(view())
    except KeyboardInterrupt:
        console.print("[yellow]interrupted — writing what was analysed so far[/]")
    finally:
        if live:
            live.stop()
        writer.close()
    if an.side_revisions:
        # bouts smoothed with their later evidence: the files and the summary get the final sides
        from gaitmon.core.sides import apply_revisions
        from gaitmon.pipeline.step_files import write_steps

        steps = apply_revisions(steps, an.side_revisions)
        write_steps(steps_path, steps, "csv")
    if steps and args.runner:
        from gaitmon.pipeline import journal
        from gaitmon.pipeline.sessions import session_id

        start = time.time_ns() - int(rec.time[-1] * 1e9)
        p = journal.append_session(steps, runner=args.runner, session=session_id(args.runner, start), start_ns=start)
        console.print(f"session added to {args.runner}'s journal {p}", markup=False, highlight=False)
    summary = summarize(steps, extra={"source": "simulation", "truth_drop_left_deg": cfg.drop_left_deg,
                                      "truth_drop_right_deg": cfg.drop_right_deg,
                                      "latency_median_s": float(np.median(an.latencies_s)) if an.latencies_s else None})
    write_summary(out_dir / "summary.json", summary)
    store_rc = EXIT_OK
    if sink:
        from gaitmon.store import deadline

        deadline.begin(sink.writer.cfg.timeout_s)
        store_rc = report_losses(sink.close(summary, timeout=sink.writer.cfg.timeout_s))
    print_summary(Console(), summary)
    console.print(f"steps → {steps_path}\nsummary → {out_dir / 'summary.json'}", markup=False, highlight=False)
    if steps and not args.no_report:
        from gaitmon.report.build import build_report

        html = build_report(steps, out_dir / "report", title="gaitmon demo — simulated run",
                            source=f"simulated {cfg.activity}, seed {cfg.seed}")
        console.print(f"report → [bold]{esc(str(html))}[/] (open it in a browser)")
    console.print("next: [bold]gaitmon analyze YOUR_RECORDING.csv --out steps.csv[/] "
                  "(or gaitmon simulate --out rec.csv to make one)")
    if store_rc:
        return store_rc
    return EXIT_OK if steps else EXIT_NO_GAIT


def _optional_influx_sink(args, console):
    """InfluxDB sink for the demo when InfluxDB is configured (environment or $GAITMON_CONFIG)."""
    if not influx_configured():
        return None
    from gaitmon.pipeline.influx import InfluxStepSink
    from gaitmon.store import deadline

    from gaitmon.store.config import configured_runner

    runner = getattr(args, "runner", None) or configured_runner() or "demo"
    with deadline.operation(deadline.budget()):  # the pre-flight check; closing gets its own
        return InfluxStepSink.from_env(runner=runner, sensor="sim", console=console)

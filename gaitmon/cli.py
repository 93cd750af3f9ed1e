"""`gaitmon` command line: analyze | simulate | demo (and, where installed, collect/scan/store tools).

Exit codes: 0 ok, 2 bad input or usage (the message says what to change), 3 no gait found.
"""

from __future__ import annotations

import argparse
import json
import os
import logging
import sys
import time
from pathlib import Path

import numpy as np

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_GAIT = 3
EXIT_SERVER = 4

from gaitmon.axes import AXIS_NAMES as AXES
DEFAULT_FORWARD = "-z"
DEFAULT_UP = "+y"

log = logging.getLogger("gaitmon")


def _esc(text: str) -> str:
    """User text inside a Rich markup string: shown as typed, never interpreted."""
    from rich.markup import escape

    return escape(str(text))


def _err(msg: str) -> None:
    print(f"gaitmon: error: {msg}", file=sys.stderr)


# ------------------------------------------------------------------ analyze
def cmd_analyze(args) -> int:
    from rich.console import Console

    from gaitmon.core import GaitmonInputError
    from gaitmon.core.summary import summarize
    from gaitmon.pipeline.analyze import analyze_stream
    from gaitmon.pipeline.step_files import write_steps, write_summary
    from gaitmon.sources import apply_mount, detect, read_any
    from gaitmon.sources.recording import ArrayStream, open_recording
    from gaitmon.ui.summary_view import print_summary

    console = Console(stderr=True)
    try:
        path = Path(args.recording)
        if path.is_file() and path.suffix.lower() not in (".zip", ".json") and detect(path) == "gaitmon":
            # the recording CSV: streamed in chunks (flat memory for day-long files)
            rec = open_recording(path, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit)
        else:  # a phone export (Sensor Logger, phyphox): read whole
            rec = ArrayStream(read_any(path, acc_unit=args.acc_unit, gyro_unit=args.gyro_unit,
                                       phone_platform=getattr(args, "phone_platform", None)))
        apply_mount(rec, getattr(args, "mount", None))
        if args.runner or getattr(args, "require_influx", False):
            from gaitmon.names import check_name

            check_name(f"{args.recording.name}: the '# sensor:' header", rec.meta.get("sensor", "file"))
        forward = args.forward or rec.forward or DEFAULT_FORWARD
        up = args.up or rec.up or DEFAULT_UP
        res = analyze_stream(rec, forward=forward, up=up)
    except GaitmonInputError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    extra = {
        "recording": str(args.recording),
        "forward": forward,
        "up": up,
        "sample_rate_hz": round(res.fs, 3) if res.fs else None,
        "calibration": res.calibration.mode if res.calibration else None,
        "input": {**res.input_stats.as_dict(), "unparseable_rows": rec.bad_rows},
        "side_disagreements": res.side_disagreements,
    }
    if res.calibration is not None and res.calibration.mode != "standing":
        extra["note"] = f"{res.calibration.note or 'no quiet standing found'}: neutral = stride-averaged vertical"
    summary = summarize(res.steps, extra=extra)
    if args.out:
        write_steps(args.out, res.steps, args.format)
    if args.summary:
        write_summary(args.summary, summary)
    print_summary(console, summary)
    if res.steps and args.runner:
        _journal_session(console, res.steps, runner=args.runner, session=args.session, path=args.recording, rec=rec)
    if res.steps and (_influx_configured() or getattr(args, "require_influx", False)):
        rc = _store_steps(args, rec, res.steps, summary, console)
        if rc:
            return rc
    if not res.steps:
        st = res.input_stats
        unusable = st.nan_rows + st.non_monotonic + st.implausible
        if st.samples_in and unusable > st.samples_in / 2:
            why = ", ".join(f"{n} {what}" for n, what in ((st.non_monotonic, "with a time not after the previous row"),
                                                          (st.nan_rows, "with missing/NaN values"),
                                                          (st.implausible, "with physically impossible values"))
                            if n)
            _err(f"{args.recording.name}: {unusable} of {st.samples_in} rows cannot be used ({why}): "
                 "check the time_s column (seconds, increasing) and the values")
            return EXIT_BAD_INPUT
        _err("no gait found: the recording needs walking or running after a few seconds of standing"
             " (check --forward/--up and that the sensor moved)")
        return EXIT_NO_GAIT
    return EXIT_OK


def _store_steps(args, rec, steps, summary, console) -> int:
    """Back-fill analysed steps into InfluxDB (spooled first, so nothing is lost if it is down)."""
    from gaitmon.pipeline.influx import InfluxStepSink
    from gaitmon.pipeline.sessions import recording_start_ns
    from gaitmon.store import StoreError

    if not _influx_configured():
        _err("set GAITMON_INFLUX_URL (and GAITMON_INFLUX_TOKEN/ORG/BUCKET or GAITMON_INFLUX_DB) to import into InfluxDB")
        return EXIT_BAD_INPUT
    from gaitmon.store import deadline

    deadline.begin(args.influx_timeout)  # all of the InfluxDB work, not each request
    try:
        t0 = recording_start_ns(args.recording, rec.meta, rec.t_last - rec.t_first)
        sink = InfluxStepSink.from_env(runner=args.runner, sensor=rec.meta.get("sensor", "file"), console=console,
                                       t0_unix_ns=t0 - int(rec.t_first * 1e9), session=args.session)
        sink.write_steps(steps)
        stats = sink.close(summary, timeout=args.influx_timeout)
    except StoreError as exc:
        from gaitmon.store import ConfigError, SpoolError

        _err(f"InfluxDB: {exc}")
        return EXIT_BAD_INPUT if isinstance(exc, (ConfigError, SpoolError)) else EXIT_SERVER
    return _report_losses(stats)


def _report_losses(stats) -> int:
    """Non-zero exit and a message when points will never be stored (see loss_exit_code)."""
    from gaitmon.pipeline.influx import loss_exit_code

    rc = loss_exit_code(stats)
    if rc:
        _err(f"InfluxDB: {stats.loss_message()}")
    return rc


def _journal_session(console, steps, *, runner, session, path, rec) -> None:
    """Append the session to the runner's local journal (read by `gaitmon trend` without a DB)."""
    from gaitmon.pipeline import journal
    from gaitmon.pipeline.sessions import recording_start_ns, session_id

    start = recording_start_ns(path, rec.meta, rec.t_last - rec.t_first)
    p = journal.append_session(steps, runner=runner, session=session or session_id(runner, start), start_ns=start)
    console.print(f"session added to {runner}'s journal {p}", markup=False, highlight=False)


def cmd_import(args) -> int:
    args.require_influx = True
    args.out = args.out if hasattr(args, "out") else None
    return cmd_analyze(args)


# ------------------------------------------------------------------ simulate
def _sim_config(args):
    from gaitmon.sim import SimConfig

    return SimConfig(activity=args.activity, fs=args.fs, duration_s=args.duration, seed=args.seed,
                     drop_left_deg=args.drop_left, drop_right_deg=args.drop_right,
                     cadence_spm=args.cadence, bends=args.bends, forward=args.forward or DEFAULT_FORWARD,
                     up=args.up or DEFAULT_UP, drop_drift_deg_per_min=args.fatigue)


def cmd_simulate_mocap(args) -> int:
    """`gaitmon simulate --from-mocap TRIAL`: sacral-IMU recording + truth from motion capture."""
    from gaitmon.sources.recording import write_recording
    from gaitmon.sim.mocap import MocapConfig, synthesize
    from gaitmon.sim.mocap_io import load_trial

    try:
        cfg = MocapConfig(fs=args.fs, seed=args.seed, forward=args.forward or DEFAULT_FORWARD,
                          up=args.up or DEFAULT_UP, mount_error_deg=args.mount_error, min_gait_s=args.min_gait_s,
                          cutoff_hz=args.cutoff, noise=not args.no_noise)
        trial = load_trial(args.from_mocap, forces=args.forces)
        static = load_trial(args.static) if args.static else None
        rec = synthesize(trial, cfg, static=static)
        write_recording(args.out, rec.time, rec.acc, rec.gyr, rec.meta())
        if args.truth:
            rec.save_truth(args.truth)
    except (ValueError, OSError, KeyError, IndexError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        _err(f"--from-mocap {args.from_mocap}: {msg}")
        return EXIT_BAD_INPUT
    i = rec.info
    n_steady = int(rec.truth.steady.sum())
    print(f"wrote {len(rec.time)} samples ({rec.time[-1]:.0f} s at {rec.fs:g} Hz) from {i['trial']} "
          f"({i['surface']}, {i['activity']}, low-pass {i['cutoff_hz']:.1f} Hz, "
          f"{i['loop']['copies']}× a {i['loop']['block_s']:.2f} s block) to {args.out}"
          + (f", truth ({len(rec.steps)} steps, {n_steady} steady; ICs from {'+'.join(i['ic_sources'])}) "
             f"to {args.truth}" if args.truth else ""))
    print(f"next: gaitmon analyze {args.out} --out steps.csv")
    return EXIT_OK


def cmd_simulate(args) -> int:
    from gaitmon.sources.recording import write_recording
    from gaitmon.sim import simulate

    if getattr(args, "from_mocap", None):
        return cmd_simulate_mocap(args)
    for opt in ("static", "forces", "cutoff"):
        if getattr(args, opt, None):
            _err(f"--{opt} only applies with --from-mocap")
            return EXIT_BAD_INPUT
    try:
        rec = simulate(_sim_config(args))
    except ValueError as exc:
        _err(str(exc))
        return EXIT_BAD_INPUT
    meta = {"sensor": "gaitmon-sim", "forward": rec.forward, "up": rec.up, "fs": rec.fs,
            "activity": args.activity, "seed": args.seed}
    write_recording(args.out, rec.time, rec.acc, rec.gyr, meta)
    if args.truth:
        rec.truth.save(args.truth)
    print(f"wrote {len(rec.time)} samples ({rec.time[-1]:.0f} s at {rec.fs:g} Hz) to {args.out}"
          + (f", truth to {args.truth}" if args.truth else ""))
    print(f"next: gaitmon analyze {args.out} --out steps.csv")
    return EXIT_OK


# ------------------------------------------------------------------ demo
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
    cfg = _sim_config(args)
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
        store_rc = _report_losses(sink.close(summary, timeout=sink.writer.cfg.timeout_s))
    print_summary(Console(), summary)
    console.print(f"steps → {steps_path}\nsummary → {out_dir / 'summary.json'}", markup=False, highlight=False)
    if steps and not args.no_report:
        from gaitmon.report.build import build_report

        html = build_report(steps, out_dir / "report", title="gaitmon demo — simulated run",
                            source=f"simulated {cfg.activity}, seed {cfg.seed}")
        console.print(f"report → [bold]{_esc(str(html))}[/] (open it in a browser)")
    console.print("next: [bold]gaitmon analyze YOUR_RECORDING.csv --out steps.csv[/] "
                  "(or gaitmon simulate --out rec.csv to make one)")
    if store_rc:
        return store_rc
    return EXIT_OK if steps else EXIT_NO_GAIT


def _influx_configured() -> bool:
    from gaitmon.store.config import influx_configured

    return influx_configured()


def _optional_influx_sink(args, console):
    """InfluxDB sink for the demo when InfluxDB is configured (environment or $GAITMON_CONFIG)."""
    if not _influx_configured():
        return None
    from gaitmon.pipeline.influx import InfluxStepSink
    from gaitmon.store import deadline

    from gaitmon.store.config import configured_runner

    runner = getattr(args, "runner", None) or configured_runner() or "demo"
    with deadline.operation(deadline.budget()):  # the pre-flight check; closing gets its own
        return InfluxStepSink.from_env(runner=runner, sensor="sim", console=console)


# ------------------------------------------------------------------ parser
def _add_sim_args(p, *, duration: float, fs: float, activity: str = "run", fatigue: float = 0.0):
    p.add_argument("--activity", choices=("run", "walk"), default=activity, help="gait to simulate (default %(default)s)")
    p.add_argument("--duration", type=float, default=duration, help="seconds of gait (default %(default)s)")
    p.add_argument("--fs", type=float, default=fs, help="sensor sample rate, Hz (default %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="random seed: mount, noise, step times (default %(default)s)")
    p.add_argument("--drop-left", type=float, default=6.0, help="true mean pelvic drop in left steps, deg (default %(default)s)")
    p.add_argument("--drop-right", type=float, default=4.0, help="true mean pelvic drop in right steps, deg (default %(default)s)")
    p.add_argument("--cadence", type=float, default=None, help="steps/min (default 170 run, 110 walk)")
    p.add_argument("--fatigue", type=float, default=fatigue, help="true drop rising by this many deg/min as the runner tires (default %(default)s)")
    p.add_argument("--bends", action="store_true", help="add bends where the runner leans in")
    p.add_argument("--forward", choices=AXES, default=None, help=f"sensor axis pointing forward (default {DEFAULT_FORWARD})")
    p.add_argument("--up", choices=AXES, default=None, help=f"sensor axis pointing up (default {DEFAULT_UP})")


def _add_mount_arg(p):
    from gaitmon.sources import MOUNTS, PLATFORMS

    p.add_argument("--mount", choices=tuple(MOUNTS), default=None,
                   help="phone carried upright in a belt at the back: sets --forward/--up for the phone's screen "
                        "frame (belt-screen-out = -z/+y, belt-screen-in = +z/+y); --forward/--up still win")
    p.add_argument("--phone-platform", choices=PLATFORMS, default=None,
                   help="Sensor Logger export without Metadata.csv (the JSON export): the phone's platform, "
                        "which sets the acceleration sign")


def _add_store_args(p, runner_required: bool = False):
    p.add_argument("--runner", required=runner_required, default=None,
                   help="runner tag in InfluxDB (default GAITMON_RUNNER)")
    p.add_argument("--session", default=None, help="session tag (default: runner + start time)")
    p.add_argument("--influx-timeout", type=float, default=60.0,
                   help="seconds to wait for InfluxDB to acknowledge before leaving points in the spool")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gaitmon",
        description="Open gait monitor for runners: contralateral pelvic drop per step from one IMU "
                    "clipped on the back of the waistband.",
        epilog="Start with `gaitmon demo` (no hardware, no database). Units: m/s², rad/s, degrees.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    a = sub.add_parser("analyze", help="per-step pelvic drop etc. from a recording file",
                       description="Analyse a recording (CSV or CSV.gz: time_s,acc_x..z [m/s²],gyr_x..z [rad/s], "
                                   "sensor frame) and write one row per step.")
    a.add_argument("recording", type=Path, help="recording file (.csv or .csv.gz), or a phone app's export "
                   "(Sensor Logger zip/folder/JSON, phyphox CSV zip/folder: docs/phone.md)")
    a.add_argument("--out", type=Path, help="per-step output file")
    a.add_argument("--format", choices=("csv", "json"), default="csv", help="per-step output format (default %(default)s)")
    a.add_argument("--summary", type=Path, help="session summary JSON")
    a.add_argument("--forward", choices=AXES, help="sensor axis pointing forward (default: file header, else -z); "
                   "only resolves the sign, the exact mount is found from the data")
    a.add_argument("--up", choices=AXES, help="sensor axis pointing up (default: file header, else +y)")
    a.add_argument("--acc-unit", choices=("mps2", "g"), default=None, help="acceleration unit in the file (default m/s²)")
    a.add_argument("--gyro-unit", choices=("rads", "dps"), default=None, help="angular velocity unit (default rad/s)")
    _add_mount_arg(a)
    _add_store_args(a)
    a.set_defaults(func=cmd_analyze)

    im = sub.add_parser("import", help="analyse a recording and back-fill its steps into InfluxDB",
                        description="Like analyze, then writes gait_step points and the gait_session summary to "
                                    "InfluxDB (GAITMON_INFLUX_* settings). Points are spooled first: nothing is "
                                    "lost if the server is down; the next gaitmon run sends them.")
    im.add_argument("recording", type=Path, help="recording file (.csv or .csv.gz) or a phone app's export (docs/phone.md)")
    im.add_argument("--forward", choices=AXES, help="sensor axis pointing forward (default: file header, else -z)")
    im.add_argument("--up", choices=AXES, help="sensor axis pointing up (default: file header, else +y)")
    im.add_argument("--acc-unit", choices=("mps2", "g"), default=None, help="acceleration unit in the file")
    im.add_argument("--gyro-unit", choices=("rads", "dps"), default=None, help="angular velocity unit in the file")
    _add_mount_arg(im)
    im.set_defaults(out=None, summary=None, format="csv")
    _add_store_args(im, runner_required=True)
    im.set_defaults(func=cmd_import)

    s = sub.add_parser("simulate", help="write a simulated recording and its ground truth",
                       description="Simulate a walker/runner with a sacral IMU (specific force, lever arm, impacts, "
                                   "noise, bias, random mount) and write the recording + truth. With --from-mocap, "
                                   "build the recording from a real optical motion-capture trial instead: rigid "
                                   "pelvis fit, sensor on the sacrum with a random clip mount, standing before the "
                                   "gait, strides looped up to --min-gait-s, truth ICs from force plates (else foot "
                                   "markers). See docs/mocap.md.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  gaitmon simulate --out rec.csv --truth truth.json\n"
                              "  gaitmon simulate --from-mocap tests/data/real-running/hamner2013/s04_run300_markers.csv.gz "
                              "--fs 104 --out rec.csv --truth truth.json\n"
                              "  gaitmon simulate --from-mocap trial.c3d --static static.c3d --fs 200 --seed 3 "
                              "--out rec.csv --truth truth.json")
    _add_sim_args(s, duration=60.0, fs=104.0)
    s.add_argument("--out", type=Path, required=True, help="recording CSV to write (.csv or .csv.gz)")
    s.add_argument("--truth", type=Path, help="truth JSON (ICs, sides, per-step drop...)")
    m = s.add_argument_group("from motion capture (--activity, --duration, --drop-*, --cadence, --fatigue, "
                             "--bends do not apply)")
    m.add_argument("--from-mocap", metavar="TRIAL", help="motion-capture trial: .c3d, .trc, or the shared CSV "
                   "(<trial>_markers.csv.gz; its _grf/_forces/_ik siblings are found automatically). Needs "
                   "LASI+RASI and LPSI+RPSI or SACR (or L.ASIS/R.ASIS/L.PSIS/R.PSIS...), and foot markers")
    m.add_argument("--static", metavar="TRIAL", help="static standing trial of the same subject: reference marker "
                   "cluster and the neutral (standing) pose (default: the trial's own typical frame / mean pose)")
    m.add_argument("--forces", metavar="FILE", help="force file (shared CSV with <chan>_fy_N columns, or C3D) "
                   "instead of the trial's own; without any forces ICs come from the foot markers")
    m.add_argument("--mount-error", type=float, default=25.0, metavar="DEG",
                   help="max random clip-mount error per axis about the nominal --forward/--up axes "
                        "(default %(default)s; 0 = perfect mount)")
    m.add_argument("--min-gait-s", type=float, default=20.0, metavar="S",
                   help="loop whole strides (same-foot IC to IC) up to this much gait (default %(default)s; "
                        "0 = play the trial's strides once)")
    m.add_argument("--cutoff", type=float, default=None, metavar="HZ",
                   help="pose low-pass cut-off (default: Winter residual analysis per trial, limited to 6-15 Hz)")
    m.add_argument("--no-noise", action="store_true", help="no sensor bias, scale error, noise, quantisation or "
                   "clock error (for checks)")
    s.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="simulated run streamed live through the core (no hardware)",
                       description="Simulate a run, stream it through the streaming core in 100 ms chunks with a "
                                   "live per-step view, and write steps + summary.")
    _add_sim_args(d, duration=180.0, fs=104.0, fatigue=1.0)
    d.add_argument("--out-dir", type=Path, default=Path("gaitmon-demo"), help="where steps.csv and summary.json go (default %(default)s)")
    d.add_argument("--speed", type=float, default=12.0, help="playback speed vs real time; 0 = as fast as possible (default %(default)s)")
    d.add_argument("--no-live", action="store_true", help="no live view (for logs/CI)")
    d.add_argument("--runner", default=None, help="runner name for the InfluxDB tags (with GAITMON_INFLUX_URL)")
    d.add_argument("--no-report", action="store_true", help="skip the HTML session report")
    d.set_defaults(func=cmd_demo)

    _mount_optional(sub)
    return p


def _collect_sinks() -> list:
    """Sinks `gaitmon collect` adds to its files: InfluxDB when configured (env or $GAITMON_CONFIG)."""
    if not _influx_configured():
        return []
    from gaitmon.pipeline.influx import InfluxCollectSink
    from gaitmon.store import StoreError

    try:
        return [InfluxCollectSink.from_env()]
    except StoreError as exc:  # bad settings: say so; the collection itself still runs on files
        _err(f"InfluxDB: {exc} — collecting to files only")
        return []


def _mount_optional(sub) -> None:
    """Commands contributed by other packages (collector, store, dashboards) when present."""
    for modname, fn in (("gaitmon.collector.app", "add_cli"), ("gaitmon.store.cli", "add_cli"),
                        ("gaitmon.dashboards_cli", "add_cli"), ("gaitmon.physio_cli", "add_cli")):
        try:
            mod = __import__(modname, fromlist=[fn])
        except ImportError:
            continue
        if hasattr(mod, fn):
            getattr(mod, fn)(sub)
    collect = sub.choices.get("collect")
    if collect is not None:
        collect.set_defaults(sink_factory=_collect_sinks, func=_collect_checked(collect.get_default("func")))


def _collect_checked(collect_func):
    """`gaitmon collect` plus the store's verdict: points that will never be stored make the exit
    code non-zero (4) with a message saying how many and why (the files keep everything)."""
    def run(args) -> int:
        made: list = []

        def factory():
            sinks = _collect_sinks()
            made.extend(sinks)
            return sinks

        args.sink_factory = factory
        rc = collect_func(args)
        for sink in made:
            loss = sink.writer.stats.loss_message() if hasattr(sink, "writer") else None
            if loss:
                _err(f"InfluxDB: {loss} (the recordings and steps files hold everything)")
                rc = rc or EXIT_SERVER
        return rc

    return run


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
        _err(msg)
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


if __name__ == "__main__":
    sys.exit(main())

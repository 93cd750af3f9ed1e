"""`gaitmon analyze` and `gaitmon import`: a recording file through the core, steps to files,
the journal and InfluxDB.

Exit codes: 0 ok, 2 bad input or usage (the message says what to change), 3 no gait found,
4 InfluxDB refused or did not answer.
"""

from __future__ import annotations

from pathlib import Path

from .common import (AXES, DEFAULT_FORWARD, DEFAULT_UP, EXIT_BAD_INPUT, EXIT_NO_GAIT, EXIT_OK, EXIT_SERVER, err,
                     influx_configured, report_losses)


def add_parser(sub) -> None:
    """Mount ``analyze`` and ``import``."""
    a = sub.add_parser("analyze", help="per-step pelvic drop etc. from a recording file",
                       description="Analyse a recording (CSV or CSV.gz: time_s,acc_x..z [m/s²],gyr_x..z [rad/s], "
                                   "sensor frame) and write one row per step.")
    _add_input_args(a)
    a.add_argument("--out", type=Path, help="per-step output file")
    a.add_argument("--format", choices=("csv", "json"), default="csv", help="per-step output format (default %(default)s)")
    a.add_argument("--summary", type=Path, help="session summary JSON")
    _add_store_args(a)
    a.set_defaults(func=cmd_analyze)

    im = sub.add_parser("import", help="analyse a recording and back-fill its steps into InfluxDB",
                        description="Like analyze, then writes gait_step points and the gait_session summary to "
                                    "InfluxDB (GAITMON_INFLUX_* settings). Points are spooled first: nothing is "
                                    "lost if the server is down; the next gaitmon run sends them.")
    _add_input_args(im)
    im.set_defaults(out=None, summary=None, format="csv")
    _add_store_args(im, runner_required=True)
    im.set_defaults(func=cmd_import)


def _add_input_args(p) -> None:
    """The recording and how to read it (units, axes, phone mount): the same for analyze and import."""
    p.add_argument("recording", type=Path, help="recording file (.csv or .csv.gz), or a phone app's export "
                   "(Sensor Logger zip/folder/JSON, phyphox CSV zip/folder: docs/phone.md)")
    p.add_argument("--forward", choices=AXES, help="sensor axis pointing forward (default: file header, else -z); "
                   "only resolves the sign, the exact mount is found from the data")
    p.add_argument("--up", choices=AXES, help="sensor axis pointing up (default: file header, else +y)")
    p.add_argument("--acc-unit", choices=("mps2", "g"), default=None, help="acceleration unit in the file (default m/s²)")
    p.add_argument("--gyro-unit", choices=("rads", "dps"), default=None, help="angular velocity unit (default rad/s)")
    _add_mount_arg(p)


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
        learned = _learned_run_pattern(args)
        res = analyze_stream(rec, forward=forward, up=up, run_pattern_reversed=learned["p_reversed"] if learned else None)
    except GaitmonInputError as exc:
        err(str(exc))
        return EXIT_BAD_INPUT
    extra = {
        "recording": str(args.recording),
        "forward": forward,
        "up": up,
        "sample_rate_hz": round(res.fs, 3) if res.fs else None,
        "calibration": res.calibration.mode if res.calibration else None,
        "input": {**res.input_stats.as_dict(), "unparseable_rows": rec.bad_rows},
        "side_disagreements": res.side_disagreements,
        "run_pattern": {"this_session": {"usual": res.run_pattern_verdicts.count(1),
                                         "reversed": res.run_pattern_verdicts.count(-1)},
                        "learned": learned},
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
        _journal_session(console, res.steps, runner=args.runner, session=args.session, path=args.recording, rec=rec,
                         verdicts=res.run_pattern_verdicts)
    if res.steps and (influx_configured() or getattr(args, "require_influx", False)):
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
            err(f"{args.recording.name}: {unusable} of {st.samples_in} rows cannot be used ({why}): "
                "check the time_s column (seconds, increasing) and the values")
            return EXIT_BAD_INPUT
        err("no gait found: the recording needs walking or running after a few seconds of standing"
            " (check --forward/--up and that the sensor moved)")
        return EXIT_NO_GAIT
    return EXIT_OK


def _store_steps(args, rec, steps, summary, console) -> int:
    """Back-fill analysed steps into InfluxDB (spooled first, so nothing is lost if it is down)."""
    from gaitmon.pipeline.influx import InfluxStepSink
    from gaitmon.pipeline.sessions import recording_start_ns
    from gaitmon.store import StoreError

    if not influx_configured():
        err("set GAITMON_INFLUX_URL (and GAITMON_INFLUX_TOKEN/ORG/BUCKET or GAITMON_INFLUX_DB) to import into InfluxDB")
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

        err(f"InfluxDB: {exc}")
        return EXIT_BAD_INPUT if isinstance(exc, (ConfigError, SpoolError)) else EXIT_SERVER
    return report_losses(stats)


def _journal_session(console, steps, *, runner, session, path, rec, verdicts=()) -> None:
    """Append the session to the runner's local journal (read by `gaitmon trend` without a DB), and
    its runs' verdicts on the running drop pattern (read by the next analysis of this runner)."""
    from gaitmon.pipeline import journal
    from gaitmon.pipeline.sessions import recording_start_ns, session_id

    start = recording_start_ns(path, rec.meta, rec.t_last - rec.t_first)
    sid = session or session_id(runner, start)
    p = journal.append_session(steps, runner=runner, session=sid, start_ns=start)
    journal.append_run_pattern(runner=runner, session=sid, verdicts=verdicts, recording=Path(path).name)
    console.print(f"session added to {runner}'s journal {p}", markup=False, highlight=False)


def _learned_run_pattern(args) -> dict | None:
    """The runner's running drop pattern learned from earlier runs anchored by a walk (journal), unless
    --no-learned-pattern: {p_reversed, usual, reversed} or None."""
    if not args.runner or getattr(args, "no_learned_pattern", False):
        return None
    from gaitmon.pipeline import journal

    p, nu, nr = journal.learned_run_pattern(args.runner, exclude_recording=Path(args.recording).name)
    return None if p is None else {"p_reversed": round(p, 4), "usual": nu, "reversed": nr}


def cmd_import(args) -> int:
    args.require_influx = True
    args.out = args.out if hasattr(args, "out") else None
    return cmd_analyze(args)


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
    p.add_argument("--no-learned-pattern", action="store_true",
                   help="read running sides without this runner's drop pattern learned from earlier runs that "
                        "started with a walk (the local journal); by default it is used when --runner is given")
    p.add_argument("--influx-timeout", type=float, default=60.0,
                   help="seconds to wait for InfluxDB to acknowledge before leaving points in the spool")

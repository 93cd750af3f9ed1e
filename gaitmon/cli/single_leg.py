"""`gaitmon test single-leg`: the single-leg stance test from a recording, a live BLE sensor or a
virtual one — countdown, a clear result, stored as a JSON file and, when GAITMON_INFLUX_URL is
set, as InfluxDB ``single_leg_test``.

The acquisition and the result's files/points are :mod:`gaitmon.pipeline.single_leg`; the
countdown and the wording :mod:`gaitmon.ui.single_leg_view`; the numbers
:func:`gaitmon.core.singleleg.analyze_single_leg`. Exit codes: 0 ok, 2 bad input (the message says
what to change), 4 InfluxDB refused the result (it is saved in the file).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .common import AXES, EXIT_BAD_INPUT, EXIT_OK, EXIT_SERVER, err, influx_configured


def add_parser(sub) -> None:
    """Mount ``test`` and its ``single-leg`` test."""
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
    s.add_argument("--virtual-hold", type=float, default=30.0, help=argparse.SUPPRESS)
    s.add_argument("--virtual-drop", type=float, default=4.0, help=argparse.SUPPRESS)
    s.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    s.add_argument("--forward", choices=AXES)
    s.add_argument("--up", choices=AXES)
    s.add_argument("--runner", help="runner (default GAITMON_RUNNER)")
    s.add_argument("--out", type=Path, help="result JSON (default gaitmon-tests/single-leg-SIDE-TIME.json)")
    s.set_defaults(func=cmd_single_leg)
    te.set_defaults(func=lambda a: (te.print_help(), EXIT_BAD_INPUT)[1])


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
                                                  hold_s=args.virtual_hold, drop_deg=args.virtual_drop, seed=args.seed)
            source, sensor = "virtual sensor", "virtual"
        elif args.sensor:
            import asyncio

            from gaitmon.pipeline.single_leg import collect_ble

            try:
                t, a, g, fwd, up, rec_path, link = asyncio.run(collect_ble(
                    side, args.sensor, countdown=Countdown(console, side), kind=args.kind,
                    out_dir=args.record_dir, runner=args.runner, forward=args.forward, up=args.up))
            except TimeoutError as exc:
                err(str(exc))
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
            err("give a recording of the test, --sensor ADDRESS for a live BLE sensor (see `gaitmon scan`), "
                "or --virtual for a simulated live sensor")
            return EXIT_BAD_INPUT
        res = analyze_single_leg(t, a, g, side=side, forward=fwd, up=up)
    except GaitmonInputError as exc:
        err(str(exc))
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
    if influx_configured():
        from gaitmon.store import StoreError

        try:
            store_influx(res, runner=runner, sensor=sensor, t_unix_ns=now, console=console)
        except (StoreError, ValueError) as exc:
            err(f"InfluxDB: {exc} (the result is saved in {out})")
            return EXIT_SERVER if isinstance(exc, StoreError) and not isinstance(exc, ValueError) else EXIT_BAD_INPUT
    return EXIT_OK

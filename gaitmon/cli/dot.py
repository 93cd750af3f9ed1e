"""`gaitmon dot ADDRESS ...`: a Movella DOT's on-sensor recording (Message Service, XD0506P §5).

For runs without a phone or laptop nearby: start a recording on the sensor's flash, run, then stop
it and export the file into gaitmon's recording format (`gaitmon analyze` reads it). Lost or
sensor-flagged packets stay gaps in the exported file, and the command says how many.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from pathlib import Path

from gaitmon.axes import AXIS_NAMES as AXES

from .common import EXIT_BAD_INPUT, EXIT_NO_BLUETOOTH, EXIT_OK, err


def add_parser(subparsers) -> None:
    """Mount ``dot``."""
    p = subparsers.add_parser(
        "dot", help="Movella DOT on-sensor recording: status, start, stop, files, export, erase",
        description="Control a Movella DOT's recording to its own flash over Bluetooth LE, and export a "
                    "recording into gaitmon's recording format. Typical use: `gaitmon dot ADDR start`, run, "
                    "`gaitmon dot ADDR stop`, `gaitmon dot ADDR export 1 --out run.csv`, then "
                    "`gaitmon analyze run.csv`. The sensor records at its current output rate (the one `gaitmon "
                    "collect` last set).")
    p.add_argument("address", help="the DOT's Bluetooth address (see `gaitmon scan`)")
    p.add_argument("--timeout", type=float, default=20.0, metavar="S", help="connection timeout (default 20 s)")
    act = p.add_subparsers(dest="dot_cmd", metavar="ACTION", required=True)
    act.add_parser("status", help="recording state, the ongoing recording's time, files on the flash")
    st = act.add_parser("start", help="start recording to the flash (the sensor must be idle)")
    st.add_argument("--duration", type=int, metavar="S", help="stop by itself after S seconds (default: "
                    "record until `stop` or the flash is 90 %% full)")
    act.add_parser("stop", help="stop the ongoing recording")
    act.add_parser("files", help="list the recording files on the flash")
    ex = act.add_parser("export", help="export one recording file to a gaitmon recording CSV")
    ex.add_argument("file", type=int, help="file number (1 = the first; see `files`)")
    ex.add_argument("--out", type=Path, required=True, help="recording CSV to write (.csv or .csv.gz)")
    ex.add_argument("--forward", choices=AXES, help="sensor axis pointing forward as worn (written to the header)")
    ex.add_argument("--up", choices=AXES, help="sensor axis pointing up as worn (written to the header)")
    er = act.add_parser("erase", help="erase every recording on the flash (cannot be undone)")
    er.add_argument("--yes", action="store_true", help="really erase")
    p.set_defaults(func=cmd_dot)


def _utc(s: int) -> str:
    return _dt.datetime.fromtimestamp(s, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


async def _files(prof, link) -> list[tuple[int, object]]:
    _header, sectors = await prof.flash_info(link)
    out = []
    for k in range(1, len(sectors) + 1):
        out.append((k, await prof.file_info(link, k)))
    return out


async def _run(args) -> int:
    from gaitmon.collector.bleak_link import BleakLink
    from gaitmon.collector.profiles import MovellaDotProfile
    from gaitmon.sensors import movella_dot as dot

    prof = MovellaDotProfile()
    link = BleakLink(args.address)
    await link.connect(args.timeout)
    try:
        a = args.dot_cmd
        if a == "status":
            state = await prof.recording_state(link)
            name = state.name if isinstance(state, dot.RecResult) else f"{state:#04x}"
            print(f"{args.address}: {name}")
            if state == dot.RecResult.ON_RECORDING:
                rt = await prof.recording_time(link)
                left = "until stopped" if rt.total_s is None else f"{rt.remaining_s} s of {rt.total_s} s left"
                print(f"recording since {_utc(rt.start_utc)}, {left}")
            elif state == dot.RecResult.IDLE:
                _header, sectors = await prof.flash_info(link)  # the count needs no file headers
                print(f"{len(sectors)} recording file(s) on the flash")
        elif a == "start":
            await prof.start_recording(link, duration_s=args.duration)
            print(f"{args.address}: recording" + (f" for {args.duration} s" if args.duration else
                                                  " until `gaitmon dot ADDRESS stop`"))
        elif a == "stop":
            await prof.stop_recording(link)
            print(f"{args.address}: stopped; `gaitmon dot {args.address} files` lists the recordings")
        elif a == "files":
            files = await _files(prof, link)
            if not files:
                print("no recording files on the flash")
            for k, info in files:
                timer = "" if info is None or info.total_s is None else f", timer {info.total_s} s"
                print(f"{k}: " + ("(no header)" if info is None else f"started {_utc(info.start_utc)}{timer}"))
        elif a == "export":
            info = await prof.file_info(link, args.file)
            if info is None:
                err(f"no recording file {args.file} on {args.address} (`gaitmon dot {args.address} files`)")
                return EXIT_BAD_INPUT
            export = await prof.export_file(link, args.file)
            rows = export.write_recording(args.out, sensor=f"Movella DOT ({args.address})",
                                          start_utc_s=info.start_utc, forward=args.forward, up=args.up)
            print(f"{rows} samples → {args.out}")
            lost = len(export.missing)
            if lost or export.invalid or not export.complete:
                err(f"{lost} packet(s) missing ({export.invalid} flagged invalid by the sensor)"
                    + ("" if export.complete else "; the export did not finish") + ": they are gaps in the file")
            print(f"next: gaitmon analyze {args.out}")
        elif a == "erase":
            await prof.erase_flash(link)
            print(f"{args.address}: flash erased")
        return EXIT_OK
    finally:
        await link.disconnect()


def cmd_dot(args) -> int:
    from gaitmon.collector.link import LinkError

    if args.dot_cmd == "erase" and not args.yes:
        err("erase deletes every recording on the sensor: add --yes to do it")
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(_run(args))
    except LinkError as e:
        err(f"{e} (is the DOT on, in range and not connected to another app?)")
        return EXIT_NO_BLUETOOTH

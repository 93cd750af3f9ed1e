"""`gaitmon scan`: the Bluetooth LE sensors gaitmon can read, nearby."""

from __future__ import annotations

import json
import sys

from .common import EXIT_NO_BLUETOOTH, EXIT_OK, err


def add_parser(subparsers) -> None:
    """Mount ``scan``."""
    p = subparsers.add_parser(
        "scan", help="list gaitmon-capable BLE sensors nearby",
        description="Scan for Bluetooth LE sensors that gaitmon can read (the open gaitmon IMU "
                    "profile, Polar PMD and Movesense devices, recognised by service UUID or "
                    "name) and print address, name, kind and signal strength. Use an address or "
                    "name in the [[sensor]] entries of the collect config.")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="scan duration in seconds (default 10)")
    p.add_argument("--all", action="store_true", help="list every advertising device, not only "
                   "recognised sensors")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_scan)


def cmd_scan(args) -> int:
    import asyncio

    from gaitmon.collector.app import scan
    from gaitmon.collector.scanner import ScanError

    try:
        found = asyncio.run(scan(args.timeout, all_devices=args.all))
    except ScanError as e:
        err(str(e))
        return EXIT_NO_BLUETOOTH
    if args.json:
        print(json.dumps([{"address": d.address, "name": d.name, "rssi_dbm": d.rssi,
                           "kind": d.kind, "service_uuids": list(d.service_uuids)} for d in found],
                         indent=2))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"BLE scan ({args.timeout:g} s): {len(found)} device(s)")
    for col in ("address", "name", "kind", "RSSI dBm"):
        table.add_column(col)
    for d in found:
        table.add_row(d.address, d.name or "", d.kind or "–", "" if d.rssi is None else str(d.rssi))
    Console().print(table)
    if not found:
        print("No sensor found: is it switched on, charged and not connected to another device? "
              "(--all lists every advertising device)", file=sys.stderr)
    return EXIT_OK

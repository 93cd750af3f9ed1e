"""Discovery through bleak's BlueZ backend: recognised sensors, filters, find by name/address."""

from __future__ import annotations

import asyncio

from gaitmon.cli.scan import cmd_scan
from gaitmon.collector.app import scan
from gaitmon.collector.scanner import find_device, find_devices
from gaitmon.sensors.gaitmon_profile import SERVICE_UUID

HR = "0000180d-0000-1000-8000-00805f9b34fb"


def test_scan_recognises_gaitmon_sensors(bluez):
    bluez.add_peripheral("5C:A1:00:00:00:01", "gaitmon-uuid", rssi=-50)
    bluez.add_peripheral("5C:A1:00:00:00:02", "gaitmon-1A2B", uuids=[], rssi=-80)  # name only
    bluez.add_peripheral("5C:A1:00:00:00:03", "Polar H10 123", kind="other", uuids=[HR], rssi=-40)
    bluez.add_peripheral("5C:A1:00:00:00:04", "kettle", kind="other", uuids=[HR], rssi=-45)

    found = asyncio.run(scan(1.0))
    by_addr = {d.address: d for d in found}
    assert by_addr["5C:A1:00:00:00:01"].kind == "gaitmon"
    assert SERVICE_UUID in by_addr["5C:A1:00:00:00:01"].service_uuids
    assert by_addr["5C:A1:00:00:00:02"].kind == "gaitmon"  # recognised by its name
    assert by_addr["5C:A1:00:00:00:03"].kind == "polar"  # Polar PMD device, by its name
    assert "5C:A1:00:00:00:04" not in by_addr
    ours = [d.address for d in found if d.address.startswith("5C:A1")]
    assert ours == ["5C:A1:00:00:00:03", "5C:A1:00:00:00:01", "5C:A1:00:00:00:02"]  # by RSSI
    assert abs(by_addr["5C:A1:00:00:00:01"].rssi - (-50)) <= 1

    everything = asyncio.run(scan(1.0, all_devices=True))
    other = {d.address: d for d in everything}["5C:A1:00:00:00:04"]
    assert other.kind is None and other.name == "kettle"


def test_find_by_name_and_address(bluez):
    bluez.add_peripheral("5C:A1:00:00:00:11", "gaitmon-find-me", uuids=[])
    d = asyncio.run(find_device(name="gaitmon-find-me", timeout=3.0))
    assert d is not None and d.address == "5C:A1:00:00:00:11" and d.device is not None
    d = asyncio.run(find_device(address="5c:a1:00:00:00:11", timeout=3.0))
    assert d is not None and d.name == "gaitmon-find-me"
    both = asyncio.run(find_devices([("5C:A1:00:00:00:11", None), (None, "no-such-sensor")],
                                    timeout=0.5))
    assert both[0] is not None and both[1] is None


def test_scan_cli_json(bluez, capsys):
    bluez.add_peripheral("5C:A1:00:00:00:21", "gaitmon-cli", rssi=-61)

    class Args:
        timeout = 0.8
        all = False
        json = True

    assert cmd_scan(Args()) == 0
    out = capsys.readouterr().out
    assert '"address": "5C:A1:00:00:00:21"' in out and '"kind": "gaitmon"' in out

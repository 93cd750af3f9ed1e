"""BLE discovery of gaitmon-capable sensors through bleak (scan, find by address or name).

Devices are recognised by an advertised service UUID of a supported profile, else by name
(see :func:`gaitmon.collector.profiles.classify_advertisement`); many sensors advertise only
their name. Only one scan runs at a time in a process (BlueZ allows one discovery session per
D-Bus client), so every scan goes through one lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError

from .profiles import classify_advertisement

__all__ = ["FoundDevice", "scan_devices", "find_device", "find_devices", "ScanError"]

log = logging.getLogger("gaitmon.collector.scanner")

_scan_lock: asyncio.Lock | None = None
_lock_loop = None


class ScanError(RuntimeError):
    """Scanning is impossible (no adapter, Bluetooth off, no permission): the message says why."""


def _lock() -> asyncio.Lock:
    global _scan_lock, _lock_loop
    loop = asyncio.get_running_loop()
    if _scan_lock is None or _lock_loop is not loop:
        _scan_lock, _lock_loop = asyncio.Lock(), loop
    return _scan_lock


@dataclass(frozen=True)
class FoundDevice:
    """One advertising peripheral.

    address: BLE address (a UUID on macOS); name: advertised name; rssi: dBm of the strongest
    advertisement seen; kind: gaitmon profile kind it matches (None: not a known sensor);
    service_uuids: advertised service UUIDs; device: bleak's BLEDevice (for connecting).
    """

    address: str
    name: str | None
    rssi: int | None
    kind: str | None
    service_uuids: tuple[str, ...] = ()
    device: BLEDevice | None = field(default=None, repr=False, compare=False)


async def _run_scan(timeout: float, stop_when: Callable[[dict], bool] | None) -> dict[str, FoundDevice]:
    seen: dict[str, FoundDevice] = {}
    done = asyncio.Event()

    def on_adv(dev: BLEDevice, adv: AdvertisementData) -> None:
        prev = seen.get(dev.address)
        name = adv.local_name or dev.name or (prev.name if prev else None)
        uuids = tuple(sorted(set(adv.service_uuids or ()) | set(prev.service_uuids if prev else ())))
        rssi = adv.rssi if prev is None or prev.rssi is None else max(prev.rssi, adv.rssi)
        seen[dev.address] = FoundDevice(address=dev.address, name=name, rssi=rssi,
                                        kind=classify_advertisement(name, uuids),
                                        service_uuids=uuids, device=dev)
        if stop_when is not None and stop_when(seen):
            done.set()

    async with _lock():
        try:
            scanner = BleakScanner(detection_callback=on_adv)
            await scanner.start()
        except (BleakError, OSError, EOFError) as e:
            raise ScanError(f"cannot scan for BLE devices: {e} (is a Bluetooth adapter present "
                            "and powered, and is bluetoothd running?)") from e
        try:
            try:
                await asyncio.wait_for(done.wait(), timeout=timeout)
            except TimeoutError:
                pass
        finally:
            try:
                await scanner.stop()
            except (BleakError, OSError, EOFError) as e:
                log.debug("stopping the scan: %s", e)
    return seen


async def scan_devices(timeout: float = 10.0, *, all_devices: bool = False) -> list[FoundDevice]:
    """Scan for ``timeout`` s; return the recognised sensors (or every device with
    ``all_devices``), strongest signal first."""
    seen = await _run_scan(timeout, None)
    out = [d for d in seen.values() if all_devices or d.kind is not None]
    return sorted(out, key=lambda d: -(d.rssi if d.rssi is not None else -999))


async def find_device(*, address: str | None = None, name: str | None = None,
                      timeout: float = 10.0) -> FoundDevice | None:
    """Scan until a device with this address (case-insensitive) or advertised name appears."""
    if (address is None) == (name is None):
        raise ValueError("give exactly one of address or name")

    def match(d: FoundDevice) -> bool:
        return (address is not None and d.address.upper() == address.upper()) or \
            (name is not None and d.name == name)

    seen = await _run_scan(timeout, lambda s: any(match(d) for d in s.values()))
    hits = [d for d in seen.values() if match(d)]
    return hits[0] if hits else None


async def find_devices(wanted: list[tuple[str | None, str | None]], *,
                       timeout: float = 10.0) -> list[FoundDevice | None]:
    """One scan for several devices, each given as ``(address, name)`` (one of them None);
    stops as soon as all are seen. Returns a FoundDevice or None per wanted entry."""

    def match(want, d: FoundDevice) -> bool:
        address, name = want
        return (address is not None and d.address.upper() == address.upper()) or \
            (name is not None and d.name == name)

    def all_seen(seen: dict) -> bool:
        return all(any(match(w, d) for d in seen.values()) for w in wanted)

    seen = await _run_scan(timeout, all_seen) if wanted else {}
    return [next((d for d in seen.values() if match(w, d)), None) for w in wanted]

"""``BleakLink``: the :class:`~gaitmon.collector.link.Link` interface over a real bleak client.

Platform notes (BlueZ, Linux):

* BlueZ's battery plugin claims the standard Battery Service (0x180F): it is not visible over
  GATT and the level is exported as ``org.bluez.Battery1.Percentage`` on the device object
  instead. ``read(BATTERY_LEVEL)`` falls back to that property when the characteristic is absent.
* The RSSI of a connected device is BlueZ's ``org.bluez.Device1.RSSI`` (updated while the
  adapter sees advertisements); ``rssi()`` reads it over D-Bus and returns None when BlueZ has no
  value. Other platforms: ``rssi()`` returns the RSSI of the last advertisement seen, if any.

A fresh :class:`bleak.BleakClient` is created for every connection attempt (bleak recommends a
new D-Bus connection per BLE connection on BlueZ).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from .link import LinkError, NotifyCallback

__all__ = ["BleakLink", "BATTERY_LEVEL_UUID"]

log = logging.getLogger("gaitmon.collector.bleak_link")

BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"


class BleakLink:
    """A :class:`~gaitmon.collector.link.Link` to one peripheral through bleak.

    Args:
        target: a :class:`bleak.backends.device.BLEDevice` from a scan (preferred: reconnects
            need no new scan) or an address string (bleak scans for it on every connect).
        name: display name (defaults to the advertised name).
        adv_rssi: RSSI (dBm) of the advertisement that found the device, if known.
        resolver: optional ``async resolver() -> BLEDevice | None`` that scans for the device;
            used when there is no target yet (sensor configured by name and not seen yet) and
            when the OS forgot the device (BlueZ drops unpaired devices not seen for a while).
    """

    def __init__(self, target: BLEDevice | str | None, *, name: str | None = None,
                 adv_rssi: int | None = None,
                 resolver: Callable[[], Awaitable[BLEDevice | None]] | None = None) -> None:
        if target is None and resolver is None:
            raise ValueError("BleakLink needs a target (device or address) or a resolver")
        self._target = target
        if isinstance(target, BLEDevice):
            self.address = target.address
        elif target is not None:
            self.address = str(target)
        else:
            self.address = name or "?"
        self.name = name or (target.name if isinstance(target, BLEDevice) else None)
        self._adv_rssi = adv_rssi
        self._resolver = resolver
        self._client: BleakClient | None = None
        self._disc_cb: Callable[[], None] | None = None
        self._bus = None  # dbus_fast bus for BlueZ property reads (Linux only)

    # ------------------------------------------------------------------------------ Link API
    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def set_disconnected_callback(self, callback: Callable[[], None] | None) -> None:
        self._disc_cb = callback

    async def connect(self, timeout: float) -> None:
        if self.is_connected:
            return
        stale, self._client = self._client, None
        if stale is not None:  # a client whose link dropped: release its D-Bus connection
            try:
                await stale.disconnect()
            except (BleakError, OSError, asyncio.TimeoutError, EOFError) as e:
                log.debug("releasing stale client of %s: %s", self.address, e)
        if self._target is None:
            await self._resolve()
        client = BleakClient(self._target, disconnected_callback=self._on_disconnect,
                             timeout=timeout)
        try:
            await client.connect()
        except BleakError as e:
            if self._resolver is not None and "not found" in str(e).lower():
                self._target = None  # scan again on the next attempt
            raise LinkError(f"connect to {self.address} failed: {e}") from e
        except (OSError, EOFError) as e:
            raise LinkError(f"connect to {self.address} failed: {e}") from e
        self._client = client

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.disconnect()
            except (BleakError, OSError, asyncio.TimeoutError, EOFError) as e:
                log.debug("disconnect %s: %s", self.address, e)
        await self._close_bus()

    def has_characteristic(self, char_uuid: str) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            return client.services.get_characteristic(char_uuid) is not None
        except BleakError:
            return False

    async def read(self, char_uuid: str) -> bytes:
        client = self._require()
        if char_uuid == BATTERY_LEVEL_UUID and not self.has_characteristic(char_uuid):
            pct = await self._bluez_property("org.bluez.Battery1", "Percentage")
            if pct is None:
                raise LinkError("battery level not available")
            return bytes([int(pct)])
        try:
            return bytes(await client.read_gatt_char(char_uuid))
        except (BleakError, OSError, EOFError) as e:
            raise LinkError(f"read {char_uuid}: {e}") from e

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        client = self._require()
        try:
            await client.write_gatt_char(char_uuid, bytes(data), response=response)
        except (BleakError, OSError, EOFError) as e:
            raise LinkError(f"write {char_uuid}: {e}") from e

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        client = self._require()
        try:
            await client.start_notify(char_uuid, lambda _char, data: callback(bytes(data)))
        except (BleakError, OSError, EOFError) as e:
            raise LinkError(f"start_notify {char_uuid}: {e}") from e

    async def stop_notify(self, char_uuid: str) -> None:
        client = self._client
        if client is None or not client.is_connected:
            return
        try:
            await client.stop_notify(char_uuid)
        except (BleakError, OSError, EOFError) as e:
            log.debug("stop_notify %s: %s", char_uuid, e)

    async def rssi(self) -> int | None:
        value = await self._bluez_property("org.bluez.Device1", "RSSI")
        if value is not None:
            return int(value)
        return self._adv_rssi

    # ------------------------------------------------------------------------------ internals
    async def _resolve(self) -> None:
        assert self._resolver is not None
        dev = await self._resolver()
        if not isinstance(dev, BLEDevice):
            raise LinkError(f"{self.name or self.address}: not found (sensor off or out of range?)")
        self._target = dev
        self.address = dev.address
        self.name = self.name or dev.name

    def _require(self) -> BleakClient:
        if self._client is None or not self._client.is_connected:
            raise LinkError(f"{self.address} is not connected")
        return self._client

    def _on_disconnect(self, _client: BleakClient) -> None:
        if self._disc_cb is not None:
            self._disc_cb()

    def _device_path(self) -> str | None:
        if isinstance(self._target, BLEDevice):
            details = self._target.details
            if isinstance(details, dict) and "path" in details:
                return str(details["path"])
        return None

    async def _bluez_property(self, interface: str, name: str):
        """Read one BlueZ D-Bus property of this device; None if unavailable."""
        if not sys.platform.startswith("linux"):
            return None
        path = self._device_path()
        if path is None:
            return None
        try:
            from dbus_fast import BusType, Message, MessageType
            from dbus_fast.aio import MessageBus

            if self._bus is None or not self._bus.connected:
                self._bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
            reply = await self._bus.call(Message(
                destination="org.bluez", path=path, interface="org.freedesktop.DBus.Properties",
                member="Get", signature="ss", body=[interface, name]))
        except Exception as e:  # D-Bus unavailable: the value is simply unknown
            log.debug("BlueZ property %s.%s of %s: %s", interface, name, self.address, e)
            return None
        if reply is None or reply.message_type == MessageType.ERROR:
            return None
        return reply.body[0].value

    async def _close_bus(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            bus.disconnect()

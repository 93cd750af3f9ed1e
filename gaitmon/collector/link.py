"""The small link interface the collector is built around.

A *link* is one BLE connection to one peripheral, reduced to what the collector needs. Two
implementations speak the same bytes: :class:`gaitmon.collector.bleak_link.BleakLink` (real
radio through bleak) and :class:`gaitmon.collector.virtual.VirtualLink` (an in-process
simulated peripheral). Characteristics are addressed by their full 128-bit UUID string
(lower case).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Link", "LinkError", "NotifyCallback"]

#: receives the raw bytes of one notification; called in the event loop thread
NotifyCallback = Callable[[bytes], None]


class LinkError(RuntimeError):
    """A link operation failed (not connected, connection refused, GATT error...)."""


@runtime_checkable
class Link(Protocol):
    """One connection to one peripheral.

    Attributes:
        address: BLE address (or ``virtual:N``). name: advertised name, if known.
    """

    address: str
    name: str | None

    @property
    def is_connected(self) -> bool: ...

    async def connect(self, timeout: float) -> None:
        """Connect and discover services; raises LinkError or TimeoutError on failure."""

    async def disconnect(self) -> None:
        """Disconnect (no error if already disconnected)."""

    async def read(self, char_uuid: str) -> bytes:
        """Read a characteristic value."""

    async def write(self, char_uuid: str, data: bytes, *, response: bool = True) -> None:
        """Write a characteristic value (with or without response)."""

    async def start_notify(self, char_uuid: str, callback: NotifyCallback) -> None:
        """Subscribe to notifications of a characteristic."""

    async def stop_notify(self, char_uuid: str) -> None:
        """Unsubscribe (no error if the link is already gone)."""

    def has_characteristic(self, char_uuid: str) -> bool:
        """True if the connected peripheral offers this characteristic."""

    def set_disconnected_callback(self, callback: Callable[[], None] | None) -> None:
        """``callback()`` runs (in the event loop) when the link drops or is closed."""

    async def rssi(self) -> int | None:
        """Current received signal strength, dBm, or None if the platform cannot tell."""

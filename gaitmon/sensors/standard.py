"""Standard Bluetooth SIG GATT services every gaitmon sensor may offer (pure, no I/O).

* Battery Service 0x180F, Battery Level 0x2A19: one byte, percent 0..100.
* Device Information Service 0x180A: UTF-8 strings (manufacturer, model, serial, firmware).
"""

from __future__ import annotations

from .base import DecodeError

__all__ = [
    "uuid16",
    "BATTERY_SERVICE_UUID",
    "BATTERY_LEVEL_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "MANUFACTURER_NAME_UUID",
    "MODEL_NUMBER_UUID",
    "SERIAL_NUMBER_UUID",
    "FIRMWARE_REVISION_UUID",
    "HARDWARE_REVISION_UUID",
    "decode_battery_level",
    "encode_battery_level",
    "decode_dis_string",
]


def uuid16(short: int) -> str:
    """The full 128-bit UUID string (lower case, as bleak reports it) of a SIG 16-bit UUID."""
    if not 0 <= short <= 0xFFFF:
        raise ValueError("a 16-bit UUID is 0..0xFFFF")
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


BATTERY_SERVICE_UUID = uuid16(0x180F)
BATTERY_LEVEL_UUID = uuid16(0x2A19)
DEVICE_INFORMATION_SERVICE_UUID = uuid16(0x180A)
MANUFACTURER_NAME_UUID = uuid16(0x2A29)
MODEL_NUMBER_UUID = uuid16(0x2A24)
SERIAL_NUMBER_UUID = uuid16(0x2A25)
FIRMWARE_REVISION_UUID = uuid16(0x2A26)
HARDWARE_REVISION_UUID = uuid16(0x2A27)


def decode_battery_level(data: bytes | bytearray | memoryview) -> int:
    """Battery Level (0x2A19) value -> percent 0..100.  Raises DecodeError otherwise."""
    b = bytes(data)
    if len(b) < 1:
        raise DecodeError("truncated", "battery level needs 1 byte")
    if len(b) > 1:
        raise DecodeError("bad_length", f"battery level is 1 byte, got {len(b)}")
    if b[0] > 100:
        raise DecodeError("bad_field", f"battery level {b[0]} % is above 100")
    return b[0]


def encode_battery_level(percent: int) -> bytes:
    """Percent 0..100 -> the 1-byte Battery Level value."""
    p = int(percent)
    if not 0 <= p <= 100:
        raise ValueError("battery level is 0..100 %")
    return bytes([p])


def decode_dis_string(data: bytes | bytearray | memoryview) -> str:
    """A Device Information string characteristic (UTF-8, maybe NUL padded) -> str."""
    try:
        return bytes(data).rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError as e:
        raise DecodeError("bad_field", f"not UTF-8: {e}") from None

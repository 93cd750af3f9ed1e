"""Recordings from files: gaitmon's own recording CSV (:mod:`.recording`) and phone apps' exports
(Sensor Logger, phyphox).

:func:`read_any` picks the reader from the file's content and returns the same
:class:`gaitmon.sources.recording.Recording` as :func:`gaitmon.sources.recording.read_recording`
(time s, specific force m/s², rad/s, sensor frame = the phone's screen frame for phones).

Phone mounts (``--mount``): a phone carried upright in a running belt over the sacrum has its screen's
y axis up; with the screen facing out (away from the body) its z axis (out of the screen) points
backwards, with the screen facing in it points forwards.
"""

from __future__ import annotations

from pathlib import Path

from gaitmon.core.types import GaitmonInputError
from gaitmon.sources.recording import Recording, read_recording

# preset -> (forward, up) in the phone's screen frame (x right, y up the screen, z out of the screen)
MOUNTS = {
    "belt-screen-out": ("-z", "+y"),
    "belt-screen-in": ("+z", "+y"),
    "belt-screen-out-upside-down": ("-z", "-y"),
    "belt-screen-in-upside-down": ("+z", "-y"),
}


def detect(path) -> str:
    """'sensorlogger', 'phyphox' or 'gaitmon' (the recording CSV format)."""
    from gaitmon.sources import phyphox, sensorlogger

    p = Path(path)
    if sensorlogger.looks_like(p):
        return "sensorlogger"
    if phyphox.looks_like(p):
        return "phyphox"
    return "gaitmon"


PLATFORMS = ("android", "ios", "ios-standardised")


def read_any(path, *, acc_unit: str | None = None, gyro_unit: str | None = None,
             phone_platform: str | None = None) -> Recording:
    """Read a gaitmon recording, a Sensor Logger export or a phyphox export (file, folder or zip).

    ``phone_platform``: for Sensor Logger exports without Metadata.csv (see :mod:`.sensorlogger`)."""
    from gaitmon.sources import phyphox, sensorlogger

    p = Path(path)
    if not p.exists():
        raise GaitmonInputError(f"{p}: no such file")
    kind = detect(p)
    if kind == "gaitmon":
        if p.is_dir() or p.suffix.lower() in (".zip", ".json"):
            raise GaitmonInputError(f"{p.name}: not a recording CSV, nor a Sensor Logger or phyphox export "
                                    "(see docs/phone.md)")
        return read_recording(p, acc_unit=acc_unit, gyro_unit=gyro_unit)
    if acc_unit or gyro_unit:
        raise GaitmonInputError(f"{p.name}: --acc-unit/--gyro-unit do not apply to a {kind} export "
                                "(its units are known from the app's documentation)")
    if phone_platform and phone_platform not in PLATFORMS:
        raise GaitmonInputError(f"--phone-platform must be one of {', '.join(PLATFORMS)}, got {phone_platform!r}")
    if kind == "sensorlogger":
        return sensorlogger.read_sensorlogger(p, platform=phone_platform)
    return phyphox.read_phyphox(p)


def apply_mount(rec: Recording, mount: str | None) -> Recording:
    """Set the nominal forward/up of a recording from a ``--mount`` preset."""
    if mount:
        if mount not in MOUNTS:
            raise GaitmonInputError(f"--mount must be one of {', '.join(MOUNTS)}, got {mount!r}")
        rec.meta["forward"], rec.meta["up"] = MOUNTS[mount]
        rec.meta["mount"] = mount
    return rec

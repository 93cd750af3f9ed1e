"""Sensor Logger (Kelvin Choi, iOS/Android) exports: the zip of CSVs, its unpacked folder, or the JSON export.

Everything here follows the app's published documentation, github.com/tszheichoi/awesome-sensor-logger
(commit b10f5c53): README.md (timestamps, zip/JSON layout, Metadata.csv), UNITS.md, COORDINATES.md,
CROSSPLATFORM.md. In short:

* one CSV per sensor, header ``time,seconds_elapsed,z,y,x`` (read by name, not position); ``time`` is
  UTC epoch **nanoseconds**; the JSON export is one array of records ``{"sensor": "Accelerometer",
  "time": "…", "seconds_elapsed": "…", "z": "…", …}`` with every value a string;
* axes are the phone's screen frame (x right, y up along the screen, z out of the screen);
* ``Accelerometer`` is acceleration **without** gravity, m/s²; ``Gravity`` is the gravity vector, m/s²;
  ``TotalAcceleration`` (Android only) is the raw reading **with** gravity; ``AccelerometerUncalibrated``
  is m/s² on Android but **g** on iOS; ``Gyroscope`` is rad/s with the same sign on both platforms;
* iOS differs from Android by a **negative sign on all three acceleration and gravity axes** unless
  "Standardise Units & Frames" was on (Metadata.csv ``standardisation``; older exports lack the column
  and were not standardised). Android's convention is gaitmon's specific force: a phone lying flat,
  screen up, reads +9.81 on z.

gaitmon's specific force is therefore, in order of preference: ``TotalAcceleration``; else
``Accelerometer + Gravity``; else ``AccelerometerUncalibrated`` (x g on non-standardised iOS) — each
negated for non-standardised iOS. The accelerometer and gyroscope streams are merged onto one grid
by :mod:`gaitmon.sources.resample` (gaps stay gaps).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from gaitmon.core.types import GaitmonInputError
from gaitmon.sensors.grid import bracket_interp
from gaitmon.sources.recording import G0, Recording
from gaitmon.sources.resample import merge_streams

APP = "Sensor Logger"
AXES = ("x", "y", "z")
HEADER_START = "time,seconds_elapsed"
SENSORS = ("TotalAcceleration", "Accelerometer", "AccelerometerUncalibrated", "Gyroscope", "GyroscopeUncalibrated")
WANTED = SENSORS + ("Gravity", "Metadata")


def _is_header(line: str) -> bool:
    return line.lstrip("\ufeff").strip().lower().startswith(HEADER_START)


def looks_like(path: Path) -> bool:
    """True if ``path`` is (or is inside) a Sensor Logger export.

    A folder or zip is one if a sensor CSV of the app (``Gyroscope.csv``, ``AccelerometerUncalibrated.csv``, …)
    starts with the app's header ``time,seconds_elapsed``, or if it holds ``Metadata.csv`` beside a sensor CSV.
    The header decides, not the file names alone: phyphox names the CSVs of a simple experiment
    ``Accelerometer.csv`` and ``Gyroscope.csv`` too, and an export with only the uncalibrated sensors has
    neither ``Accelerometer.csv`` nor ``Gyroscope.csv``."""
    try:
        if path.is_dir():
            found = [path / f"{n}.csv" for n in SENSORS if (path / f"{n}.csv").exists()]
            if found and (path / "Metadata.csv").exists():
                return True
            for f in found:
                with open(f, encoding="utf-8", errors="replace") as fh:
                    if _is_header(fh.readline()):
                        return True
            return False
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.lower().endswith(".csv")]
                found = [n for n in names if Path(n).stem in SENSORS]
                if found and any(Path(n).stem == "Metadata" for n in names):
                    return True
                for n in found:
                    with z.open(n) as fh:
                        if _is_header(fh.readline().decode("utf-8", "replace")):
                            return True
            return False
        if path.suffix.lower() == ".json":
            with open(path, "rb") as fh:
                head = fh.read(4096).decode("utf-8", "replace")
            return '"sensor"' in head and '"seconds_elapsed"' in head
        if path.suffix.lower() == ".csv":
            with open(path, encoding="utf-8", errors="replace") as fh:
                return _is_header(fh.readline())
    except OSError:
        return False
    return False


# ------------------------------------------------------------------ loading the tables
def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _load_tables(path: Path) -> dict[str, list[dict]]:
    """name -> list of row dicts (strings), for the sensors gaitmon uses."""
    tables: dict[str, list[dict]] = {}
    if path.is_file() and path.suffix.lower() == ".csv":
        path = path.parent  # one CSV of an unpacked export: read its siblings
    if path.is_dir():
        for n in WANTED:
            f = path / f"{n}.csv"
            if f.exists():
                tables[n] = _csv_rows(f.read_text(encoding="utf-8-sig"))
        return tables
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                stem = Path(name).stem
                if name.lower().endswith(".csv") and stem in WANTED and stem not in tables:
                    tables[stem] = _csv_rows(z.read(name).decode("utf-8-sig"))
        return tables
    # JSON export: an array of records, each with a "sensor" name
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GaitmonInputError(f"{APP} export {path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise GaitmonInputError(f"{APP} export {path.name}: expected a JSON array of records with a 'sensor' field")
    for rec in data:
        if isinstance(rec, dict) and rec.get("sensor") in WANTED:
            tables.setdefault(rec["sensor"], []).append(rec)
    return tables


def _vectors(name: str, rows: list[dict], src: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(time_ns int64, values (n,3), rows dropped as unparseable) of one sensor table; errors name
    the app, table and column."""
    if not rows:
        raise GaitmonInputError(f"{APP} export {src}: {name} has no samples")
    missing = [c for c in ("time",) + AXES if c not in rows[0]]
    if missing:
        raise GaitmonInputError(f"{APP} export {src}: {name} has no column '{missing[0]}' "
                                f"(found: {', '.join(k for k in rows[0] if k)}; expected time,seconds_elapsed,z,y,x)")
    t = np.empty(len(rows), np.int64)
    v = np.full((len(rows), 3), np.nan)
    bad = 0
    for i, r in enumerate(rows):
        try:
            t[i] = int(str(r["time"]).strip())
        except (TypeError, ValueError):
            try:
                t[i] = int(float(r["time"]))
            except (TypeError, ValueError):
                t[i] = -1
                bad += 1
                continue
        for k, c in enumerate(AXES):
            try:
                v[i, k] = float(r[c])
            except (TypeError, ValueError):
                pass
    ok = (t >= 0) & np.all(np.isfinite(v), axis=1)
    if ok.sum() < 2:
        col = "time" if bad else next((c for k, c in enumerate(AXES) if not np.isfinite(v[:, k]).any()), "x")
        raise GaitmonInputError(f"{APP} export {src}: {name} column '{col}' holds no numbers")
    return t[ok], v[ok], int((~ok).sum())


def _metadata(tables: dict) -> dict:
    rows = tables.get("Metadata") or []
    return {str(k).strip().lower(): str(v).strip() for k, v in rows[0].items() if k} if rows else {}


# ------------------------------------------------------------------ the reader
def read_sensorlogger(path, *, platform: str | None = None) -> Recording:
    """Read a Sensor Logger export (zip, folder, one of its CSVs, or JSON) as a gaitmon Recording.

    ``platform`` (``android``, ``ios``, ``ios-standardised``) stands in for Metadata.csv when the
    export has none (the JSON export); it must agree with Metadata.csv when both exist."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise GaitmonInputError(f"{path}: no such file")
    try:
        tables = _load_tables(path)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error) as exc:
        raise GaitmonInputError(f"{APP} export {src}: cannot read ({exc.__class__.__name__}: {exc})") from None
    meta_in = _metadata(tables)
    given = platform
    platform = meta_in.get("platform", "").lower()
    standardised = meta_in.get("standardisation", "false").lower() == "true"
    if given:
        g_platform, g_std = given.split("-")[0], given.endswith("standardised")
        if platform and (platform != g_platform or (platform == "ios" and standardised != g_std)):
            raise GaitmonInputError(f"{APP} export {src}: Metadata.csv says platform {platform}"
                                    f"{' (standardised)' if standardised else ''}, not --phone-platform {given}")
        if not platform:
            platform, standardised = g_platform, g_std
    if not platform and "TotalAcceleration" in tables:
        platform = "android"  # TotalAcceleration is written on Android only (UNITS.md)

    gyr_name = "Gyroscope" if "Gyroscope" in tables else ("GyroscopeUncalibrated" if "GyroscopeUncalibrated" in tables else None)
    if gyr_name is None:
        raise GaitmonInputError(f"{APP} export {src}: no Gyroscope (Gyroscope.csv with columns x,y,z in rad/s): "
                                "switch on the Gyroscope sensor in Sensor Logger and record again")
    tg, gyr, bad = _vectors(gyr_name, tables[gyr_name], src)

    # specific force (Android convention, m/s²) from what the export holds
    if "TotalAcceleration" in tables:
        acc_name = "TotalAcceleration"
        ta, acc, bad_a = _vectors(acc_name, tables[acc_name], src)
        unit_g = False
    elif "Accelerometer" in tables and "Gravity" in tables:
        acc_name = "Accelerometer+Gravity"
        ta, user, bad_a = _vectors("Accelerometer", tables["Accelerometer"], src)
        tgr, grav, bad_g = _vectors("Gravity", tables["Gravity"], src)
        bad_a += bad_g
        o = np.argsort(tgr, kind="stable")
        tgr, grav = tgr[o], grav[o]
        gi, ok = bracket_interp((ta - ta[0]).astype(float), (tgr - ta[0]).astype(float), grav, 0.1)
        if ok.sum() < 2:
            raise GaitmonInputError(f"{APP} export {src}: Accelerometer and Gravity do not overlap in time (column 'time')")
        ta, acc = ta[ok], user[ok] + gi[ok]
        unit_g = False
    elif "AccelerometerUncalibrated" in tables:
        acc_name = "AccelerometerUncalibrated"
        ta, acc, bad_a = _vectors(acc_name, tables[acc_name], src)
        unit_g = platform == "ios" and not standardised  # UNITS.md: g on iOS unless standardised
    elif "Accelerometer" in tables:
        raise GaitmonInputError(f"{APP} export {src}: Accelerometer.csv is acceleration without gravity and there is no "
                                "Gravity.csv: switch on Gravity (or, on Android, TotalAcceleration) in Sensor Logger")
    else:
        raise GaitmonInputError(f"{APP} export {src}: no accelerometer (TotalAcceleration.csv, Accelerometer.csv + "
                                "Gravity.csv, or AccelerometerUncalibrated.csv)")
    if platform not in ("ios", "android"):
        raise GaitmonInputError(f"{APP} export {src}: Metadata.csv has no column 'platform' (ios/android), needed for the "
                                "acceleration sign: export the recording as a zip (it includes Metadata.csv) or give "
                                "--phone-platform")
    if unit_g:
        acc = acc * G0
    if platform == "ios" and not standardised:
        acc = -acc  # CROSSPLATFORM.md: iOS acceleration and gravity are the negative of Android's

    t0 = int(min(ta.min(), tg.min()))
    try:
        m = merge_streams((ta - t0) / 1e9, acc, (tg - t0) / 1e9, gyr)
    except ValueError as exc:
        raise GaitmonInputError(f"{APP} export {src}: {exc} (column 'time' of {acc_name} and {gyr_name})") from None
    if len(m.time) < 2:
        raise GaitmonInputError(f"{APP} export {src}: no instant where both {acc_name} and {gyr_name} have samples (column 'time')")
    start = _dt.datetime.fromtimestamp(t0 / 1e9, tz=_dt.timezone.utc)
    meta = {
        "sensor": f"sensorlogger-{platform}",
        "source": f"{APP} {meta_in.get('appversion', '')}".strip() + f" ({platform}"
                  + (", standardised" if standardised else "") + f"; {meta_in.get('device name', 'phone')})",
        "start_utc": start.isoformat().replace("+00:00", "Z"),
        "acceleration": acc_name,
        "gyroscope": gyr_name,
        "fs": m.fs,
        "phone_gaps": m.gaps,
        "phone_gap_seconds": m.gap_seconds,
    }
    return Recording(time=m.time, acc=m.acc, gyr=m.gyr, meta=meta, bad_rows=m.duplicates + bad + bad_a)

"""phyphox (RWTH Aachen) CSV exports: the zip the app shares, its unpacked folder, or a single CSV.

The layout follows the app's own export code, github.com/phyphox/phyphox-android (commit cb5f8d8f),
``app/src/main/java/de/rwth_aachen/phyphox/DataExport.java`` and
``…/ExperimentList/handler/SimpleExperimentCreator.java``:

* one CSV per export set (``<set name>.csv``; a simple experiment with accelerometer and gyroscope
  gives ``Accelerometer.csv`` and ``Gyroscope.csv``, the built-in experiments ``Raw Data.csv``),
  quoted column names such as ``"Time (s)"``, ``"Acceleration x (m/s^2)"``, ``"Gyroscope x (rad/s)"``;
  the user picks one of five dialects: separator ``,`` ``\\t`` ``;`` with a decimal point, or ``\\t``
  ``;`` with a decimal comma; numbers like ``6.017022500E-2``; short columns padded with ``NaN``;
* ``meta/time.csv``: ``"event","experiment time","system time","system time text"`` rows for each
  START and PAUSE. phyphox's *experiment time* does not advance while paused (ExperimentTimeReference.java),
  so a pause leaves no hole in ``Time (s)``: gaitmon puts each run back on the wall clock from these
  rows, so that the pause becomes the gap it was;
* the accelerometer "with g" is m/s² in Android's convention on both platforms (phyphox-ios multiplies
  CoreMotion's g by −9.81: ``phyphox-iOS/phyphox/Experiments/Data-Input/ExperimentSensorInput.swift``,
  commit fc758b37) — gaitmon's specific force; "Linear Acceleration" is without gravity (not usable);
  the gyroscope is rad/s.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np

from gaitmon.core.types import GaitmonInputError
from gaitmon.sources.recording import Recording
from gaitmon.sources.resample import merge_streams

APP = "phyphox"
TIME_COL = re.compile(r"^time \(s\)$", re.I)
ACC_COL = re.compile(r"^acceleration ([xyz]) \(m/s\^?2\)$", re.I)
LIN_COL = re.compile(r"^linear acceleration ([xyz]) \(m/s\^?2\)$", re.I)
GYR_COL = re.compile(r"^gyroscope ([xyz]) \(rad/s\)$", re.I)
GYR_DEG = re.compile(r"^gyroscope ([xyz]) \(deg/s\)$", re.I)


def _sniff(text: str) -> tuple[str, str]:
    """(separator, decimal mark) of a phyphox CSV from its header and first data line."""
    lines = text.splitlines()
    head = lines[0] if lines else ""
    sep = max(("\t", ";", ","), key=head.count)
    if sep == "," or len(lines) < 2:
        return sep, "."
    return sep, ("," if "," in lines[1] else ".")


def looks_like(path: Path) -> bool:
    try:
        if path.is_dir():
            if (path / "meta" / "time.csv").exists():
                return True
            for p in path.glob("*.csv"):
                with open(p, encoding="utf-8", errors="replace") as fh:
                    if _is_phyphox_csv(fh.readline()):
                        return True
            return False
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                if "meta/time.csv" in names:
                    return True
                for n in names:
                    if n.endswith(".csv"):
                        with z.open(n) as fh:
                            if _is_phyphox_csv(fh.read(400).decode("utf-8", "replace")):
                                return True
                return False
        if path.suffix.lower() == ".csv":
            with open(path, encoding="utf-8", errors="replace") as fh:
                return _is_phyphox_csv(fh.readline())
    except OSError:
        return False
    return False


def _is_phyphox_csv(head: str) -> bool:
    first = head.splitlines()[0] if head else ""
    return first.startswith('"Time (s)"') or first.startswith("Time (s)")


def _parse_table(text: str) -> tuple[list[str], np.ndarray]:
    sep, dec = _sniff(text)
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    if not rows:
        return [], np.empty((0, 0))
    names = [c.strip() for c in rows[0]]
    data = np.full((len(rows) - 1, len(names)), np.nan)
    for i, r in enumerate(rows[1:]):
        for j, c in enumerate(r[: len(names)]):
            c = c.strip()
            if dec == ",":
                c = c.replace(",", ".")
            try:
                data[i, j] = float(c)
            except ValueError:
                pass
    return names, data


def _load(path: Path) -> tuple[dict[str, str], str | None]:
    """(csv name -> text, meta/time.csv text or None)."""
    files: dict[str, str] = {}
    timecsv = None
    if path.is_dir():
        for p in sorted(path.glob("*.csv")):
            files[p.name] = p.read_text(encoding="utf-8-sig")
        t = path / "meta" / "time.csv"
        timecsv = t.read_text(encoding="utf-8-sig") if t.exists() else None
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.endswith("meta/time.csv"):
                    timecsv = z.read(n).decode("utf-8-sig")
                elif n.lower().endswith(".csv") and "/meta/" not in f"/{n}":
                    files[Path(n).name] = z.read(n).decode("utf-8-sig")
    else:
        files[path.name] = path.read_text(encoding="utf-8-sig")
        t = path.parent / "meta" / "time.csv"
        timecsv = t.read_text(encoding="utf-8-sig") if t.exists() else None
    return files, timecsv


def _runs(timecsv: str | None) -> list[tuple[float, float]]:
    """[(experiment time, system time s)] of every START event in meta/time.csv."""
    if not timecsv:
        return []
    names, data = _parse_table(timecsv)
    rows = list(csv.reader(io.StringIO(timecsv), delimiter=_sniff(timecsv)[0]))
    lower = [n.lower() for n in names]
    if "experiment time" not in lower or "system time" not in lower:
        raise GaitmonInputError(f"{APP} export: meta/time.csv has no column 'experiment time'/'system time'")
    ie, isy = lower.index("experiment time"), lower.index("system time")
    out = []
    for k, r in enumerate(rows[1:]):
        if r and r[0].strip().upper() == "START" and np.isfinite(data[k, ie]) and np.isfinite(data[k, isy]):
            out.append((float(data[k, ie]), float(data[k, isy])))
    return out


def _wall_clock(t: np.ndarray, runs: list[tuple[float, float]]) -> np.ndarray:
    """Experiment time -> seconds since the first START on the wall clock (pauses become gaps)."""
    if not runs:
        return t
    e = np.array([r[0] for r in runs])
    s = np.array([r[1] for r in runs]) - runs[0][1]
    k = np.clip(np.searchsorted(e, t, side="right") - 1, 0, len(runs) - 1)
    return s[k] + (t - e[k])


def read_phyphox(path) -> Recording:
    """Read a phyphox CSV export (zip, folder or one CSV) with accelerometer (with g) and gyroscope."""
    path = Path(path)
    src = path.name
    if not path.exists():
        raise GaitmonInputError(f"{path}: no such file")
    try:
        files, timecsv = _load(path)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error) as exc:
        raise GaitmonInputError(f"{APP} export {src}: cannot read ({exc.__class__.__name__}: {exc})") from None
    acc = gyr = None
    seen: list[str] = []
    lin = deg = False
    for fname, text in files.items():
        names, data = _parse_table(text)
        seen += names
        tcols = [j for j, n in enumerate(names) if TIME_COL.match(n)]
        if not tcols or data.shape[0] == 0:
            continue
        tcol = tcols[0]
        for pat, kind in ((ACC_COL, "acc"), (GYR_COL, "gyr")):
            cols = {}
            for j, n in enumerate(names):
                m = pat.match(n)
                if m:
                    cols[m.group(1).lower()] = j
            if len(cols) == 3:
                # the time column of this block: the nearest "Time (s)" column to its left
                tj = max([j for j in tcols if j < cols["x"]] or [tcol])
                block = (data[:, tj], data[:, [cols["x"], cols["y"], cols["z"]]], fname)
                if kind == "acc" and acc is None:
                    acc = block
                elif kind == "gyr" and gyr is None:
                    gyr = block
        lin |= any(LIN_COL.match(n) for n in names)
        deg |= any(GYR_DEG.match(n) for n in names)
    if acc is None:
        why = (" (it holds 'Linear Acceleration x (m/s^2)', acceleration without g: use the accelerometer"
               " 'with g')" if lin else "")
        raise GaitmonInputError(f"{APP} export {src}: no column 'Acceleration x (m/s^2)'{why}; record a simple "
                                "experiment with the accelerometer and the gyroscope (see docs/phone.md)")
    if gyr is None:
        why = " (found deg/s columns: export the gyroscope in rad/s)" if deg else ""
        raise GaitmonInputError(f"{APP} export {src}: no column 'Gyroscope x (rad/s)'{why}; record a simple experiment "
                                "with the accelerometer and the gyroscope (see docs/phone.md)")
    runs = _runs(timecsv)
    ta = _wall_clock(acc[0], runs)
    tg = _wall_clock(gyr[0], runs)
    try:
        m = merge_streams(ta, acc[1], tg, gyr[1])
    except ValueError as exc:
        raise GaitmonInputError(f"{APP} export {src}: {exc} (column 'Time (s)' of {acc[2]} and {gyr[2]})") from None
    meta = {"sensor": "phyphox", "source": f"{APP} CSV export", "fs": m.fs, "phone_gaps": m.gaps,
            "phone_gap_seconds": m.gap_seconds, "pauses": max(len(runs) - 1, 0)}
    if runs:
        meta["start_utc"] = _dt.datetime.fromtimestamp(runs[0][1], tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return Recording(time=m.time, acc=m.acc, gyr=m.gyr, meta=meta, bad_rows=m.duplicates)

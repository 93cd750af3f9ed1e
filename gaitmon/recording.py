"""Recording files (data-contracts §1): CSV (optionally .csv.gz) with `# key: value` header lines.

Columns: time_s, acc_x, acc_y, acc_z (m/s², specific force), gyr_x, gyr_y, gyr_z (rad/s), optional
mag_x, mag_y, mag_z (µT) — all in the **sensor frame**. Unit conversion (g -> m/s², deg/s -> rad/s)
only happens when the caller says so (``acc_unit``/``gyro_unit``); the core refuses wrong units.
"""

from __future__ import annotations

import gzip
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitmon.core.types import GaitmonInputError

REQUIRED = ("time_s", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
G0 = 9.80665


@dataclass
class Recording:
    """Raw samples of one sensor: time (s), acc (n,3) m/s², gyr (n,3) rad/s, sensor frame."""

    time: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    meta: dict = field(default_factory=dict)
    bad_rows: int = 0  # rows that could not be parsed (counted, not silently dropped)

    @property
    def forward(self) -> str | None:
        return self.meta.get("forward")

    @property
    def up(self) -> str | None:
        return self.meta.get("up")


def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig")  # a UTF-8 BOM (spreadsheet exports) is not part of the header


def read_recording(path, *, acc_unit: str = "mps2", gyro_unit: str = "rads") -> Recording:
    """Read a recording CSV (or .csv.gz). Raises GaitmonInputError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise GaitmonInputError(f"{path}: no such file")
    meta: dict[str, str] = {}
    header = None
    rows = []
    bad = 0
    try:
        with _open_text(path) as fh:
            for line in fh:
                s = line.strip()
                if not s:
                    continue
                if s.startswith("#"):
                    if ":" in s and header is None:
                        k, v = s[1:].split(":", 1)
                        meta[k.strip().lower()] = v.strip()
                    continue
                if header is None:
                    header = [c.strip().strip('"\'').strip().lower() for c in s.split(",")]
                    missing = [c for c in REQUIRED if c not in header]
                    sep = next((name for ch, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "'|'"))
                                if len(header) == 1 and ch in s), None)
                    if missing and sep:
                        raise GaitmonInputError(
                            f"{path.name}: the columns are separated by {sep}; gaitmon reads comma-separated "
                            f"files (header {','.join(REQUIRED)}, '.' as decimal point; see docs/recording-format.md)"
                        )
                    if missing:
                        raise GaitmonInputError(
                            f"{path.name}: missing column(s) {', '.join(missing)}; expected header "
                            f"{','.join(REQUIRED)}[,mag_x,mag_y,mag_z] (see docs/recording-format.md)"
                        )
                    idx = [header.index(c) for c in REQUIRED]
                    continue
                parts = s.split(",")
                if '"' in s:
                    parts = [p.strip().strip('"') for p in parts]
                try:
                    rows.append([float(parts[i]) if parts[i].strip() else math.nan for i in idx])
                except (ValueError, IndexError):
                    bad += 1
    except (UnicodeDecodeError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise GaitmonInputError(f"{path.name}: cannot read ({exc.__class__.__name__}: {exc})") from None
    if header is None or (not rows and not bad):
        raise GaitmonInputError(f"{path.name}: no samples (empty file or header only)")
    if not rows:
        raise GaitmonInputError(f"{path.name}: none of the {bad} data rows holds numbers in every column "
                                f"{','.join(REQUIRED)} (quoted values? a decimal comma?)")
    a = np.array(rows, dtype=float)
    acc = a[:, 1:4]
    gyr = a[:, 4:7]
    acc_unit = (acc_unit or meta.get("acc_unit") or "mps2").lower()
    gyro_unit = (gyro_unit or meta.get("gyro_unit") or "rads").lower()
    if acc_unit == "g":
        acc = acc * G0
    elif acc_unit not in ("mps2", "m/s2", "m/s^2"):
        raise GaitmonInputError(f"--acc-unit must be g or mps2, got {acc_unit!r}")
    if gyro_unit in ("dps", "deg/s"):
        gyr = np.radians(gyr)
    elif gyro_unit not in ("rads", "rad/s"):
        raise GaitmonInputError(f"--gyro-unit must be dps or rads, got {gyro_unit!r}")
    return Recording(time=a[:, 0], acc=acc, gyr=gyr, meta=meta, bad_rows=bad)


def write_recording(path, time, acc, gyr, meta: dict | None = None, gz: bool | None = None) -> None:
    """Write a recording CSV (gzip if the name ends in .gz). Units: s, m/s², rad/s, sensor frame."""
    path = Path(path)
    buf = io.StringIO()
    for k, v in (meta or {}).items():
        buf.write(f"# {k}: {v}\n")
    buf.write(",".join(REQUIRED) + "\n")
    data = np.column_stack([time, acc, gyr])
    np.savetxt(buf, data, delimiter=",", fmt=["%.5f"] + ["%.5f"] * 6)
    text = buf.getvalue()
    if gz if gz is not None else path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text)

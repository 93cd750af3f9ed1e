"""Raw-sample recording of one sensor session in the recording format (data contracts §1).

``<stem>.csv``::

    # format: gaitmon-recording/1
    # sensor: gaitmon-1A2B (C4:12:...)
    # forward: -z
    # up: +y
    # start_utc: 2025-05-01T07:31:02.123456Z
    # ...
    time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z
    0.000000,1.40311,9.73291,-0.57353,-0.00329,0.00035,0.00133

``time_s`` is seconds on the sensor clock since the session's first sample; acc in m/s²
(specific force), gyr in rad/s, both in the SENSOR frame. Lost samples are simply absent (a gap
stays a gap: no fabricated rows). The gaps, the clock fit (sensor time -> UTC, drift) and the
final sensor status go to the sidecar ``<stem>.session.json``, rewritten atomically at each
``write_sidecar`` call so a crash loses at most one status interval.
"""

from __future__ import annotations

import io
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["RecordingWriter", "utc_iso"]

log = logging.getLogger("gaitmon.collector.recorder")

COLUMNS = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"


def utc_iso(posix_s: float) -> str:
    """POSIX seconds -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.fromtimestamp(posix_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RecordingWriter:
    """Append-only CSV writer for one sensor session.

    The header is written by :meth:`start` (when the first packet fixes the start time); rows by
    :meth:`write`. Data are flushed to the OS every ``flush_every`` rows and on :meth:`close`.
    """

    def __init__(self, path: Path, *, flush_every: int = 2000) -> None:
        self.path = Path(path)
        self.sidecar_path = self.path.with_name(self.path.name.removesuffix(".csv") + ".session.json")
        self.flush_every = int(flush_every)
        self._fh: io.TextIOWrapper | None = None
        self._pending = 0
        self.rows = 0
        self.closed = False

    @property
    def started(self) -> bool:
        return self._fh is not None

    def start(self, header: dict[str, object]) -> None:
        """Create the file and write the ``# key: value`` header lines and the column line."""
        if self._fh is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        for key, value in header.items():
            if value is None:
                continue
            text = str(value).replace("\n", " ")
            self._fh.write(f"# {key}: {text}\n")
        self._fh.write(COLUMNS + "\n")
        self._fh.flush()

    def write(self, t_rec: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> None:
        """Append samples: ``t_rec`` float64[n] s, ``acc`` [n,3] m/s², ``gyr`` [n,3] rad/s."""
        if self._fh is None:
            raise RuntimeError("RecordingWriter.start() must be called before write()")
        n = len(t_rec)
        if n == 0:
            return
        block = np.empty((n, 7), dtype=np.float64)
        block[:, 0] = t_rec
        block[:, 1:4] = acc
        block[:, 4:7] = gyr
        np.savetxt(self._fh, block, fmt=["%.6f"] + ["%.5f"] * 3 + ["%.6f"] * 3, delimiter=",")
        self.rows += n
        self._pending += n
        if self._pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            self._pending = 0

    def write_sidecar(self, info: dict) -> None:
        """Atomically (re)write ``<stem>.session.json`` with ``info`` (JSON-able)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.sidecar_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(info, indent=2, default=_json_default) + "\n", encoding="utf-8")
        os.replace(tmp, self.sidecar_path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
        self.closed = True


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")

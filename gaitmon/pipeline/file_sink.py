"""The files of a live session (``gaitmon collect``): steps CSV per runner, status snapshots.

A :class:`~gaitmon.pipeline.records.Sink` of :class:`~gaitmon.pipeline.live.LivePipeline`.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from gaitmon.collector.recorder import utc_iso
from gaitmon.collector.status import SensorStatus
from gaitmon.core.types import STEP_COLUMNS

from .records import StepRecord

__all__ = ["FileSink", "STEP_FILE_COLUMNS"]

STEP_FILE_COLUMNS = (*STEP_COLUMNS, "sensor", "session", "time_utc", "latency_s")


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


class FileSink:
    """Steps CSV per runner (``steps_<runner>.csv``, data-contracts §3 columns first, then
    sensor, session, time_utc, latency_s) and status snapshots (``status.jsonl``, one JSON object
    per sensor and snapshot, plus ``status_final.json`` at close)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, tuple] = {}
        self._status = open(self.out_dir / "status.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._last_status: list[dict] = []
        self._revised: dict[tuple, StepRecord] = {}
        self.steps_written = 0
        self.closed = False

    def steps_path(self, runner: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in runner) or "runner"
        return self.out_dir / f"steps_{safe}.csv"

    def write_steps(self, records: list[StepRecord]) -> None:
        for r in records:
            entry = self._files.get(r.runner)
            if entry is None:
                fh = open(self.steps_path(r.runner), "w", encoding="utf-8", newline="")  # noqa: SIM115
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(STEP_FILE_COLUMNS)
                entry = self._files[r.runner] = (fh, w)
            row = r.as_row()
            entry[1].writerow([_fmt(row[c]) for c in STEP_FILE_COLUMNS])
            self.steps_written += 1
        for fh, _w in self._files.values():
            fh.flush()

    def revise_steps(self, records: list[StepRecord]) -> None:
        """Steps whose side was revised (their bout smoothed): the steps files are rewritten with
        them at close, so the files end with the final sides."""
        for r in records:
            self._revised[(r.runner, r.sensor, r.session, r.step.stride_index)] = r

    def _apply_revisions(self) -> None:
        by_runner: dict[str, dict] = {}
        for (runner, sensor, session, stride), r in self._revised.items():
            by_runner.setdefault(runner, {})[(sensor, session, str(stride))] = r
        for runner, revs in by_runner.items():
            path = self.steps_path(runner)
            if not path.exists():
                continue
            with open(path, encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
            tmp = path.with_suffix(".csv.tmp")
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(STEP_FILE_COLUMNS)
                for row in rows:
                    r = revs.get((row["sensor"], row["session"], row["stride_index"]))
                    if r is not None:
                        new = r.as_row()
                        row = {**row, **{c: _fmt(new[c]) for c in STEP_COLUMNS}}
                    w.writerow([row[c] for c in STEP_FILE_COLUMNS])
            tmp.replace(path)

    def write_status(self, statuses: list[SensorStatus], t_utc: float) -> None:
        self._last_status = []
        for s in statuses:
            d = {"time_utc": utc_iso(t_utc), **s.as_dict()}
            self._last_status.append(d)
            self._status.write(json.dumps(d) + "\n")
        self._status.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fh, _w in self._files.values():
            fh.close()
        if self._revised:
            self._apply_revisions()
        self._status.close()
        (self.out_dir / "status_final.json").write_text(
            json.dumps(self._last_status, indent=2) + "\n", encoding="utf-8")

"""Per-step tables (CSV/JSON, data-contracts §3) and session summaries (JSON): the file sink of the
one-shot commands (``analyze``, ``demo``) and the reader of the same table (``report``).

Why here and not in :mod:`gaitmon.cli`: this is a sink of the core's steps — the batch
counterpart of the live :class:`~gaitmon.pipeline.file_sink.FileSink` and of the InfluxDB sinks —
and a file format other code and tests read and write; the commands only choose the paths.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from gaitmon.core.types import STEP_COLUMNS, Step

FORMATS = ("csv", "json")


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4f}"
    return v


def write_steps(path, steps: list[Step], fmt: str = "csv") -> None:
    """Write steps with the contract's columns. CSV: NaN -> empty cell; JSON: NaN -> null."""
    path = Path(path)
    if fmt == "csv":
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(STEP_COLUMNS)
            for s in steps:
                w.writerow([_fmt(getattr(s, c)) for c in STEP_COLUMNS])
    elif fmt == "json":
        path.write_text(json.dumps({"columns": list(STEP_COLUMNS), "steps": [s.as_json_dict() for s in steps]}, indent=1))
    else:
        raise ValueError(f"format must be one of {FORMATS}")


class StepCsvWriter:
    """Append steps to a CSV as they arrive (streaming); flushes every row."""

    def __init__(self, path):
        self._fh = open(path, "w", newline="")
        self._w = csv.writer(self._fh)
        self._w.writerow(STEP_COLUMNS)
        self._fh.flush()

    def write(self, steps: list[Step]) -> None:
        for s in steps:
            self._w.writerow([_fmt(getattr(s, c)) for c in STEP_COLUMNS])
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_steps_csv(path) -> list[Step]:
    """Read a steps CSV written by :func:`write_steps`."""
    out = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            kw = {}
            for c in STEP_COLUMNS:
                v = row.get(c)
                if v is None:
                    continue  # a column added later (side_confidence, side_source): its default
                if c in ("side", "activity", "side_source"):
                    kw[c] = v
                elif c == "stride_index":
                    kw[c] = int(v)
                else:
                    kw[c] = float(v) if v != "" else math.nan
            out.append(Step(**kw))
    return out


def write_summary(path, summary: dict) -> None:
    Path(path).write_text(json.dumps(summary, indent=1))

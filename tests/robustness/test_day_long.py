"""Issue 12, day-long recordings: `gaitmon analyze` streams the file in chunks — the same steps as
reading it whole, memory flat in the recording's length (tracemalloc on two lengths; speed and
peak RSS are measured by `python -m benchmarks analyze`, not here)."""
from __future__ import annotations

import gzip
import tracemalloc

import numpy as np
import pytest

from gaitmon.cli import main
from gaitmon.core import analyze
from gaitmon.pipeline.analyze import analyze_stream
from gaitmon.sim import SimConfig, simulate
from gaitmon.sources.recording import open_recording, read_recording, write_recording
from tests.core.test_stream_batch import same_steps

BASE = simulate(SimConfig(activity="run", fs=200.0, duration_s=120.0, seed=11))


def _tiled(path, reps):
    period = BASE.time[-1] - BASE.time[0] + 1 / 200.0
    t = np.concatenate([BASE.time + k * period for k in range(reps)])
    write_recording(path, t, np.tile(BASE.acc, (reps, 1)), np.tile(BASE.gyr, (reps, 1)),
                    {"forward": BASE.forward, "up": BASE.up})
    return path


def test_streamed_analysis_equals_the_whole_file(tmp_path):
    p = _tiled(tmp_path / "r.csv", 2)
    rec = read_recording(p)
    whole = analyze(rec.time, rec.acc, rec.gyr, forward=BASE.forward, up=BASE.up).steps
    for chunk_rows in (997, 1 << 18):
        res = analyze_stream(open_recording(p, chunk_rows=chunk_rows), forward=BASE.forward, up=BASE.up)
        assert same_steps(list(res.steps), whole, tol=1e-6)


def test_gzip_and_python_fallback_read_the_same_samples(tmp_path):
    p = _tiled(tmp_path / "r.csv", 1)
    text = p.read_text()
    gz = tmp_path / "r.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    lines = text.splitlines()
    # a row pyarrow cannot convert half-way: the Python parser takes over from there, bad rows counted
    k = len(lines) // 2
    lines.insert(k, "1.0,abc,2,3,4,5,6")
    lines.insert(k + 5, "# a comment in the middle")
    lines.insert(k + 9, "1,2,3")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    ref = read_recording(p)
    for path, bad_rows in ((gz, 0), (bad, 2)):
        s = open_recording(path, chunk_rows=4096)
        t = np.concatenate([c[0] for c in s.chunks()])
        assert s.bad_rows == bad_rows
        np.testing.assert_array_equal(t, ref.time)


def _peak_bytes(path) -> int:
    tracemalloc.start()
    try:
        analyze_stream(open_recording(path, chunk_rows=1 << 15), forward=BASE.forward, up=BASE.up)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_is_flat_in_recording_length(tmp_path):
    short = _tiled(tmp_path / "short.csv", 2)   # 4 min at 200 Hz
    long = _tiled(tmp_path / "long.csv", 12)    # 24 min: 6x longer
    _peak_bytes(short)  # JIT and caches warmed
    a, b = _peak_bytes(short), _peak_bytes(long)
    # steps are kept as columns (~100 B a step): 6x the length adds ~6x a few hundred KB, while a
    # whole-file read would add ~6 x 40 MB
    assert b - a < 8e6, (a, b)
    assert b < 3 * a, (a, b)


def test_cli_analyze_reports_unparseable_rows(tmp_path, capsys):
    p = _tiled(tmp_path / "r.csv", 1)
    lines = p.read_text().splitlines()
    lines.insert(len(lines) // 3, "0.5,1,2")
    p.write_text("\n".join(lines) + "\n")
    assert main(["analyze", str(p), "--summary", str(tmp_path / "s.json")]) == 0
    import json

    assert json.loads((tmp_path / "s.json").read_text())["input"]["unparseable_rows"] == 1

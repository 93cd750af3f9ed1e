"""A recording through the core in chunks: the path of ``gaitmon analyze`` (sources → core → steps).

:func:`analyze_stream` pushes a :class:`~gaitmon.sources.recording.RecordingStream` (or an
``ArrayStream`` of a phone export) chunk by chunk through one StreamingAnalyzer — the same engine
and results as the batch :func:`gaitmon.core.analyze` — so memory stays flat in the recording's
length; the steps go to a column table, the side revisions applied as they come.
"""

from __future__ import annotations

from gaitmon.core import AnalysisResult, StreamingAnalyzer
from gaitmon.core.steptable import StepTable

__all__ = ["analyze_stream"]


def analyze_stream(rec, *, forward: str, up: str, run_pattern_reversed: float | None = None):
    """Push a :class:`~gaitmon.sources.recording.RecordingStream` chunk by chunk through one
    StreamingAnalyzer (the same engine and results as the batch ``analyze``), so memory stays flat
    in the recording's length; ``run_pattern_reversed``: the runner's learned running drop pattern
    (``StreamingAnalyzer``). Returns the core's AnalysisResult."""
    an = StreamingAnalyzer(forward=forward, up=up, run_pattern_reversed=run_pattern_reversed)
    steps = StepTable()  # columns: ~120 bytes a step
    for t, acc, gyr in rec.chunks():
        steps.extend(an.push(t, acc, gyr))
        an.latencies_s.clear()  # (live latency; not reported by analyze)
        _take_revisions(an, steps)
    steps.extend(an.finish())
    _take_revisions(an, steps)
    return AnalysisResult(steps=steps, fs=an.fs, calibration=an.calibration, input_stats=an.stats,
                          latencies_s=[], side_disagreements=an.side_disagreements,
                          run_pattern_verdicts=list(an.run_pattern_verdicts))


def _take_revisions(an, steps) -> None:
    """Apply the analyzer's side revisions (bouts smoothed with their later evidence) to the
    table, then drop them from the analyzer's list: nothing else reads it, and over a day-long
    recording it would grow to a revised copy of almost every step."""
    revs = an.side_revisions
    if revs:
        steps.revise(revs)
        del revs[:]

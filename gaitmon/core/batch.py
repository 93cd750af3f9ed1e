"""The batch face: a whole recording -> steps, over exactly the same engine as streaming."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitmon.core.stream import InputStats, StreamingAnalyzer
from gaitmon.core.calib import Calibration
from gaitmon.core.types import Step


@dataclass
class AnalysisResult:
    """Steps of a recording plus what the analysis found out on the way."""

    steps: list[Step]
    fs: float | None
    calibration: Calibration | None
    input_stats: InputStats
    latencies_s: list[float]


def analyze(time, acc, gyr, *, forward: str = "-z", up: str = "+y", sat_acc: float | None = None,
            sat_gyr: float | None = None) -> AnalysisResult:
    """Analyse a whole recording.

    time: (n,) s; acc: (n,3) m/s² specific force, sensor frame; gyr: (n,3) rad/s, sensor frame;
    forward/up: nominal sensor axes (sign resolution only). Returns per-step results in the
    pelvis frame (degrees) — identical to pushing the same samples through ``StreamingAnalyzer``.
    """
    an = StreamingAnalyzer(forward=forward, up=up, sat_acc=sat_acc, sat_gyr=sat_gyr)
    steps = an.push(np.asarray(time, float), np.asarray(acc, float), np.asarray(gyr, float))
    steps += an.finish()
    return AnalysisResult(steps=steps, fs=an.fs, calibration=an.calibration, input_stats=an.stats,
                          latencies_s=an.latencies_s)

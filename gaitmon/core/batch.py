"""The batch face: a whole recording -> steps, over exactly the same engine as streaming."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitmon.core.sides import apply_revisions
from gaitmon.core.hygiene import InputStats
from gaitmon.core.stream import StreamingAnalyzer
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
    side_disagreements: int = 0  # bouts where walking anchored the sides and the running evidence disagreed
    run_pattern_verdicts: list = field(default_factory=list)  # per anchored bout: +1 usual, -1 stance side drops


def analyze(time, acc, gyr, *, forward: str = "-z", up: str = "+y", sat_acc: float | None = None,
            sat_gyr: float | None = None, params: dict | None = None,
            run_pattern_reversed: float | None = None) -> AnalysisResult:
    """Analyse a whole recording.

    time: (n,) s; acc: (n,3) m/s² specific force, sensor frame; gyr: (n,3) rad/s, sensor frame;
    forward/up: nominal sensor axes (sign resolution only). Returns per-step results in the
    pelvis frame (degrees) — identical to pushing the same samples through ``StreamingAnalyzer`` and
    applying its ``side_revisions`` (each bout's sides smoothed with the whole bout's evidence).
    ``run_pattern_reversed``: this runner's learned running drop pattern (see ``StreamingAnalyzer``).
    """
    an = StreamingAnalyzer(forward=forward, up=up, sat_acc=sat_acc, sat_gyr=sat_gyr, params=params,
                           run_pattern_reversed=run_pattern_reversed)
    steps = an.push(np.asarray(time, float), np.asarray(acc, float), np.asarray(gyr, float))
    steps += an.finish()
    steps = apply_revisions(steps, an.side_revisions)
    return AnalysisResult(steps=steps, fs=an.fs, calibration=an.calibration, input_stats=an.stats,
                          latencies_s=an.latencies_s, side_disagreements=an.side_disagreements,
                          run_pattern_verdicts=list(an.run_pattern_verdicts))

"""gaitmon core: Numba gait engine. Arrays in, steps out; no I/O.

Faces: :func:`analyze` (batch, whole recording) and :class:`StreamingAnalyzer` (push chunks).
Units: time s, acc m/s² specific force, gyr rad/s (sensor frame in, pelvis-frame degrees out).
"""

from gaitmon.core.batch import AnalysisResult, analyze
from gaitmon.core.hygiene import InputStats
from gaitmon.core.steptable import steps_to_array
from gaitmon.core.stream import StreamingAnalyzer
from gaitmon.core.types import STEP_COLUMNS, GaitmonInputError, NoGaitError, Step, UnitsError

__all__ = ["analyze", "AnalysisResult", "StreamingAnalyzer", "InputStats", "Step", "STEP_COLUMNS",
           "GaitmonInputError", "NoGaitError", "UnitsError", "steps_to_array"]

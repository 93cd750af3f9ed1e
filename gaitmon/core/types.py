"""Public result types of the core: one `Step` per step (data-contracts §3) and errors."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

#: Per-step output columns, in file order (data-contracts §3) — the product's public interface.
STEP_COLUMNS = (
    "t_ic_s",
    "side",
    "step_time_s",
    "cadence_spm",
    "contact_time_s",
    "pelvic_drop_deg",
    "obliquity_range_deg",
    "tilt_range_deg",
    "rotation_range_deg",
    "vertical_oscillation_cm",
    "activity",
    "quality",
    "stride_index",
    "side_confidence",
    "side_source",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One step: from the initial contact (IC) of one foot to the next IC of the other foot.

    Times in seconds on the recording's clock; angles in degrees in the pelvis frame (x forward,
    y left, z up) relative to the neutral standing posture; vertical oscillation in cm of the
    sensor's vertical position.

    - ``side``: the stance leg of this step ('L'/'R', the foot that lands at ``t_ic_s``).
    - ``pelvic_drop_deg``: contralateral pelvic drop — peak drop of the swing-side hemipelvis
      below neutral during the step; positive = swing side lower.
    - ``contact_time_s``: ground contact of this foot, s (running with a flight after its toe-off), NaN
      where not estimated (walking; running without a flight phase).
    - ``quality``: 0..1 confidence (lower in gaps, on turns, for repaired contacts, saturation).
    - ``side_confidence``: 0.5..1, probability that ``side`` is right given the bout's evidence
      (see ``gaitmon.core.sides``); ``side_source``: where the side came from — ``walk``
      (obliquity rise after contact + yaw rate + sideways force before it), ``run`` (the drop
      pattern alone: a runner whose stance side drops would be mirrored), ``run, anchored by walking`` (a walking segment of the
      same bout fixed the sides), ``run, learned pattern`` (the drop pattern read the way this
      runner's earlier runs that started with a walk showed it: ``run_pattern_reversed``).
    """

    t_ic_s: float
    side: str
    step_time_s: float
    cadence_spm: float
    contact_time_s: float
    pelvic_drop_deg: float
    obliquity_range_deg: float
    tilt_range_deg: float
    rotation_range_deg: float
    vertical_oscillation_cm: float
    activity: str
    quality: float
    stride_index: int
    side_confidence: float = math.nan
    side_source: str = ""

    def as_dict(self) -> dict:
        """Plain dict with the contract's column names (NaN kept as float NaN)."""
        return asdict(self)

    def as_json_dict(self) -> dict:
        """Like :meth:`as_dict` but NaN -> None (JSON null)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float) and math.isnan(v):
                d[k] = None
        return d


assert tuple(f.name for f in fields(Step)) == STEP_COLUMNS


class GaitmonInputError(ValueError):
    """The input cannot be analysed as given (units, columns, empty...). Message says what to do."""


class UnitsError(GaitmonInputError):
    """Acceleration or angular velocity are not in m/s² / rad/s."""


class NoGaitError(RuntimeError):
    """The recording holds no walking or running steps."""

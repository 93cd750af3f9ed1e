"""The gaitmon InfluxDB schema (data-contracts §4): measurements, tags, fields, destinations.

Plain constants, importable without loading any HTTP or InfluxDB client code.
"""
from __future__ import annotations

__all__ = ["RAW", "SUMMARY", "STEP_FLOAT_FIELDS", "STEP_INT_FIELDS", "STEP_TAGS", "SIDES", "ACTIVITIES"]

#: spool target of points that expire with the raw retention (gait_step, sensor_status)
RAW = 0
#: spool target of points kept forever (gait_session, exercise)
SUMMARY = 1

#: gait_step float fields: s, steps/min, s, degrees (pelvis frame) x4, cm, 0..1, 0.5..1
#: (``side_confidence``: probability that the side tag is right, see gaitmon.core.sides)
STEP_FLOAT_FIELDS = ("step_time_s", "cadence_spm", "contact_time_s", "pelvic_drop_deg",
                     "obliquity_range_deg", "tilt_range_deg", "rotation_range_deg",
                     "vertical_oscillation_cm", "quality", "side_confidence")
#: gait_step integer fields
STEP_INT_FIELDS = ("stride_index",)
#: gait_step tags (low cardinality: never a time or a float)
STEP_TAGS = ("runner", "sensor", "session", "side", "activity")
SIDES = ("L", "R")
ACTIVITIES = ("walk", "run")

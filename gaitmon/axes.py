"""Sensor axis names (``+x -x +y -y +z -z``) and their unit vectors in the sensor frame — one
definition for the core, the simulator, the collector config and the command line."""

from __future__ import annotations

import numpy as np

AXIS_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z")


def axis_vector(name: str, error: type[Exception] = ValueError) -> np.ndarray:
    """Unit vector (sensor frame) of an axis name; raises ``error`` naming the valid names."""
    if name not in AXIS_NAMES:
        raise error(f"axis must be one of {' '.join(AXIS_NAMES)}, got {name!r}")
    v = np.zeros(3)
    v["xyz".index(name[1])] = 1.0 if name[0] == "+" else -1.0
    return v

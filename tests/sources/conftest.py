"""Shared by the phone tests: real walking in a phone's screen frame, and a real influxd."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitmon.sources.recording import read_recording
from tests.servers import InfluxD

WALK = Path(__file__).resolve().parents[1] / "data" / "real-walking" / "HA_001_TimeMeasure1_Test5_Trial1.csv"


def walk_phone():
    """Real walking (Mobilise-D, sensor x up, y right, z forward) in a phone's screen frame, belt, screen in.

    Screen in: z (out of the screen) points forward, y up; x = y × z = up × forward = left = −right.
    Returns (recording, acc, gyr) with acc/gyr in the phone frame.
    """
    rec = read_recording(WALK)
    to_phone = lambda v: np.column_stack([-v[:, 1], v[:, 0], v[:, 2]])  # noqa: E731
    return rec, to_phone(rec.acc), to_phone(rec.gyr)


@pytest.fixture(scope="module")
def influxd():
    with InfluxD() as server:
        yield server


@pytest.fixture
def influx_env(influxd, tmp_path, monkeypatch):
    """A fresh database on the module's influxd, and the GAITMON_* settings pointing at it."""
    influxd.create_db("phone")
    for k, v in {"GAITMON_INFLUX_URL": influxd.url, "GAITMON_INFLUX_DB": "phone", "GAITMON_INFLUX_API": "v1",
                 "GAITMON_SPOOL_DIR": str(tmp_path / "spool"), "GAITMON_HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(k, v)
    yield "phone"
    influxd.drop_db("phone")

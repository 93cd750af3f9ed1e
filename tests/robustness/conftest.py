"""Fixtures of the robustness tests (issue 12): the real influxd of the store tests, a recording,
and the environment of a gaitmon command pointed at a fresh database."""
from __future__ import annotations

import pytest

from gaitmon.sim import SimConfig, simulate
from gaitmon.sources.recording import write_recording
from tests.store.conftest import db, influxd  # noqa: F401  (real influxd 1.6.7, fresh databases)

REC = simulate(SimConfig(activity="run", fs=104.0, duration_s=60.0, seed=3))


@pytest.fixture
def recording(tmp_path):
    """A 60 s simulated run (about 170 steps) as a recording file."""
    p = tmp_path / "run.csv"
    write_recording(p, REC.time, REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up,
                                                    "start_utc": "2026-01-05T10:00:00Z"})
    return p


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No GAITMON_* from the caller's environment; journal and spool in tmp_path."""
    import os

    for key in list(os.environ):
        if key.startswith("GAITMON_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GAITMON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GAITMON_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("COLUMNS", "200")
    return monkeypatch


@pytest.fixture
def influx_env(clean_env, influxd, db):  # noqa: F811
    clean_env.setenv("GAITMON_INFLUX_URL", influxd.url)
    clean_env.setenv("GAITMON_INFLUX_DB", db)
    clean_env.setenv("GAITMON_INFLUX_API", "v1")
    return clean_env

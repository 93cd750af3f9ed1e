"""Fixtures of the store tests: real servers (started once per session), fresh databases,
configurations and simulated steps."""
from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from gaitmon.store import StoreConfig
from tests.servers import InfluxD, VictoriaMetrics

_db_ids = itertools.count()


@pytest.fixture(scope="session")
def influxd():
    """One influxd 1.6.7 for the whole session (tests use their own databases)."""
    with InfluxD() as server:
        yield server


@pytest.fixture(scope="session")
def victoria():
    with VictoriaMetrics() as server:
        yield server


@pytest.fixture
def db(influxd):
    """A fresh database on the shared influxd."""
    name = f"gait_{next(_db_ids)}"
    influxd.create_db(name)
    yield name
    influxd.drop_db(name)


def fast_cfg(url: str, spool_dir: Path, **kw) -> StoreConfig:
    """A config with short intervals so outages are retried quickly in tests."""
    base = dict(url=url, runner="alice", spool_dir=spool_dir, flush_interval_s=0.05,
                retry_max_s=0.3, timeout_s=5.0, batch_size=500)
    base.update(kw)
    return StoreConfig(**base).validated()


@pytest.fixture(scope="session")
def sim_steps():
    """Steps of a simulated 60 s run (gaitmon.sim + gaitmon.core): realistic per-step values."""
    from gaitmon.core import analyze
    from gaitmon.sim import SimConfig, simulate

    rec = simulate(SimConfig(activity="run", fs=200.0, duration_s=60.0, seed=1))
    steps = analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up).steps
    assert len(steps) > 100
    return steps


@pytest.fixture
def t0_ns():
    """A recent start time (VictoriaMetrics refuses samples older than its retention)."""
    return time.time_ns() - 2 * 3600 * 10**9

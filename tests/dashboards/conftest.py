"""Fixtures of the dashboard tests: one real influxd with the simulated history (built once)."""
from __future__ import annotations

import pytest

from tests.dashboards.history import build_history
from tests.servers import InfluxD


@pytest.fixture(scope="session")
def dash_influxd():
    with InfluxD() as server:
        yield server


@pytest.fixture(scope="session")
def history(dash_influxd, tmp_path_factory):
    return build_history(dash_influxd, "gaitmon_dash", tmp_path_factory.mktemp("spool"))

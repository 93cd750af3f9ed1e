"""Fixtures of tests/ble: a simulated BlueZ on a private D-Bus bus (session-scoped)."""

from __future__ import annotations

import os

import pytest

from tests.ble.bluez_sim import BluezSim, SimUnavailable


@pytest.fixture(scope="session")
def bluez(tmp_path_factory):
    """A running simulated BlueZ with adapter hci0; bleak in this process talks to it."""
    sim = BluezSim(tmp_path_factory.mktemp("bluez"))
    try:
        sim.start()
    except SimUnavailable as e:  # never skip: CI installs these through ./dev.sh test
        sim.stop()
        pytest.fail(str(e), pytrace=False)
    old = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = sim.address
    try:
        sim.add_adapter("hci0")
        yield sim
    finally:
        if old is None:
            os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = old
        sim.stop()

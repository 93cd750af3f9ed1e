"""Movella DOT: Measurement Service payloads and commands.

Sources:
* Movella DOT BLE Service Specification, document XD0506P rev. C (July 2023): §1.1 UUIDs, §2.2 device
  control layout, §3.1 control ``[type 1, action, payload mode]``, Tables 15-17 payload layouts.
* xsens/xsens_dot_server (Xsens' example server), commit 364d521ab3f40690649bf281c054c6d798889a12,
  ``bleHandler.js``: control ``Buffer.from([0x01, SENSOR_ENABLE, measuringPayloadId])`` written to
  ``15172001…``, medium payload ``15172003…``, rate quantities with mag: acc at byte 4, gyr at 16.
* Two real Free acceleration notifications captured from a DOT:
  github.com/protobioengineering/xsens-dot-python-examples, commit 7167dbdcd1a4b135f9a60a309eb107dc8cc46ec6,
  ``turn_on_measurement_service.py`` (docstring "Example output"), with the values printed there.
* No published byte capture of Rate quantities / Custom mode 5 was found: those tests build payloads
  with ``struct`` from the Table 15/17 layout (timestamp u32 µs, float32 acc m/s², float32 gyr °/s).
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors import REASONS, DecodeError, Packet
from gaitmon.sensors import movella_dot as dot

REAL_FREE_ACC = [
    (b'\xd8\x05"D\xaf\x96@@k*\xa7@Z\xdd\x14\xc0\x00\x00\x00\x00', 1143080408, (3.009197, 5.223928, -2.3260102)),
    (b'\xf3F"D\r\xa5<@\x9c\x13\xa6@\xf0\x10\t\xc0\x00\x00\x00\x00', 1143097075, (2.947574, 5.1898937, -2.1416588)),
]


def test_uuids_and_commands():
    assert dot.CONTROL_UUID == "15172001-4947-11e9-8646-d663bd873d93"
    assert dot.MEDIUM_PAYLOAD_UUID == "15172003-4947-11e9-8646-d663bd873d93"
    assert dot.LONG_PAYLOAD_UUID.startswith("15172002") and dot.BATTERY_UUID.startswith("15173001")
    assert dot.control_command(True, dot.MODE_RATE_QUANTITIES) == bytes([0x01, 0x01, 21])
    assert dot.control_command(False, dot.MODE_RATE_QUANTITIES) == bytes([0x01, 0x00, 21])
    assert dot.parse_control(bytes([1, 1, 26])) == (True, 26)
    c = dot.set_output_rate_command(60)
    assert len(c) == 32 and c[0] == 0x10 and c[24:26] == b"\x3c\x00"
    assert dot.parse_device_control(c)["output_rate_hz"] == 60
    assert dot.decode_battery(b"\x55\x01") == (85, True)
    with pytest.raises(ValueError):
        dot.set_output_rate_command(100)
    for bad in (b"\x01\x01", b"\x02\x01\x15", b"\x01\x05\x15"):
        with pytest.raises(DecodeError):
            dot.parse_control(bad)


@pytest.mark.parametrize("data,t,acc", REAL_FREE_ACC)
def test_real_free_acceleration_notifications(data, t, acc):
    ts, v = dot.decode_free_acceleration(data)
    assert ts == t
    np.testing.assert_allclose(v, acc, rtol=1e-6)
    with pytest.raises(ValueError):  # no angular velocity, gravity removed: not for the gait core
        dot.MovellaDotDecoder(dot.MODE_FREE_ACCELERATION)


def test_rate_quantities_layout_units_and_clock_wrap():
    d = dot.MovellaDotDecoder()
    p = d.decode(struct.pack("<I3f3f", 4_294_960_000, 0.1, 9.81, -0.2, 90.0, -45.0, 180.0) + bytes(12))
    assert isinstance(p, Packet) and p.n == 1 and p.seq is None
    np.testing.assert_allclose(p.acc[0], [0.1, 9.81, -0.2], rtol=1e-6)  # m/s², specific force
    np.testing.assert_allclose(p.gyr[0], [math.pi / 2, -math.pi / 4, math.pi], rtol=1e-6)  # °/s -> rad/s
    q = d.decode(dot.encode_rate_quantities(10_000, (0, 0, 9.8), (0, 0, 0)))  # the u32 µs clock wrapped
    assert q.t_s[0] - p.t_s[0] == pytest.approx((2**32 - 4_294_960_000 + 10_000) * 1e-6)


def test_custom_mode_5_layout():
    d = dot.MovellaDotDecoder(dot.MODE_CUSTOM_5)
    p = d.decode(dot.encode_custom_mode_5(123, (1, 0, 0, 0), (1, 2, 3), (10, 20, 30)))
    np.testing.assert_allclose(p.acc[0], [1, 2, 3])
    np.testing.assert_allclose(p.gyr[0], np.radians([10, 20, 30]), rtol=1e-6)
    assert p.t_s[0] == pytest.approx(123e-6)


@pytest.mark.parametrize("data,reason", [
    (b"\x00" * 10, "truncated"),
    (dot.encode_rate_quantities(1, (0, 0, 0), (0, 0, 0)) + b"\x01", "bad_length"),
    (struct.pack("<I3f3f", 1, float("nan"), 0, 0, 0, 0, 0), "bad_value"),
])
def test_malformed(data, reason):
    with pytest.raises(DecodeError) as e:
        dot.MovellaDotDecoder().decode(data)
    assert e.value.reason == reason


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=70), st.sampled_from([dot.MODE_RATE_QUANTITIES, dot.MODE_CUSTOM_5]))
def test_fuzz_never_crashes(data, mode):
    try:
        p = dot.MovellaDotDecoder(mode).decode(data)
    except DecodeError as e:
        assert e.reason in REASONS
        return
    assert np.isfinite(p.acc).all() and np.isfinite(p.gyr).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.floats(-1e6, 1e6, width=32), min_size=6, max_size=6))
def test_fuzz_round_trip(t, v):
    p = dot.MovellaDotDecoder().decode(dot.encode_rate_quantities(t, v[:3], v[3:]))
    np.testing.assert_allclose(p.acc[0], v[:3], rtol=1e-6)
    np.testing.assert_allclose(p.gyr[0], np.radians(v[3:]), rtol=1e-6, atol=1e-12)
    assert p.t_s[0] == pytest.approx(t * 1e-6)

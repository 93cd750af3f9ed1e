"""Common Packet type, DecodeError, sequence and clock helpers, standard GATT values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors import REASONS, DecodeError, Decoder, Packet, WrapUnwrapper, seq_delta
from gaitmon.sensors import gaitmon_profile, movesense, polar_pmd, standard, witmotion


def test_packet_validates_shapes_and_is_read_only():
    p = Packet(kind="x", t_s=[0.0, 0.01], acc=[[0, 0, 9.81], [0, 0, 9.8]], saturated=[False, True], seq=3)
    assert p.n == 2 and p.gyr is None and p.acc.dtype == np.float64
    with pytest.raises(ValueError):
        p.acc[0, 0] = 1.0  # read-only
    with pytest.raises(ValueError):
        Packet(kind="x", t_s=[0.0, 0.01], acc=[[0, 0, 9.81]])
    with pytest.raises(ValueError):
        Packet(kind="x", t_s=[0.0], gyr=[[0, 0]])
    with pytest.raises(ValueError):
        Packet(kind="x", t_s=[0.0], saturated=[True, False])


def test_decode_error_reasons_are_a_closed_set():
    e = DecodeError("truncated", "3 bytes")
    assert isinstance(e, ValueError) and e.reason == "truncated" and "3 bytes" in str(e)
    with pytest.raises(ValueError):
        DecodeError("something_else")
    assert {"truncated", "bad_version", "bad_length", "unknown_frame_type", "bad_compression"} <= REASONS


def test_every_decoder_follows_the_protocol():
    decs = [
        gaitmon_profile.GaitmonProfileDecoder(),
        polar_pmd.PolarPmdDecoder(),
        polar_pmd.PolarImuDecoder(),
        movesense.MovesenseDecoder(),
        witmotion.WitMotionDecoder(),
    ]
    for d in decs:
        assert isinstance(d, Decoder)
        assert isinstance(d.kind, str)


def test_seq_delta_wraps():
    assert seq_delta(65535, 0) == 1
    assert seq_delta(10, 13) == 3  # two packets lost
    assert seq_delta(7, 7) == 0  # duplicate
    assert seq_delta(250, 2, bits=8) == 8


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(-(2**31) + 1, 2**31 - 1), max_size=30))
def test_wrap_unwrapper_recovers_a_continuous_counter(start, steps):
    u = WrapUnwrapper(2**32)
    true = start
    assert u.unwrap(true % 2**32) == start
    for s in steps:
        true += s
        assert u.unwrap(true % 2**32) == true


def test_battery_and_device_information():
    assert standard.BATTERY_LEVEL_UUID == "00002a19-0000-1000-8000-00805f9b34fb"
    assert standard.BATTERY_SERVICE_UUID == "0000180f-0000-1000-8000-00805f9b34fb"
    assert standard.DEVICE_INFORMATION_SERVICE_UUID == "0000180a-0000-1000-8000-00805f9b34fb"
    assert standard.decode_battery_level(b"\x57") == 87
    assert standard.encode_battery_level(87) == b"\x57"
    for bad, reason in [(b"", "truncated"), (b"\x10\x00", "bad_length"), (b"\x65", "bad_field")]:
        with pytest.raises(DecodeError) as e:
            standard.decode_battery_level(bad)
        assert e.value.reason == reason
    assert standard.decode_dis_string(b"gaitmon-ref\x00\x00") == "gaitmon-ref"
    with pytest.raises(DecodeError):
        standard.decode_dis_string(b"\xff\xfe")

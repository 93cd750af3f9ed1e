"""WitMotion BLE 5.0 (WT9011DCL-BT50): 0x55 0x61 frames as the official WitMotion examples parse them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors import REASONS, DecodeError
from gaitmon.sensors import witmotion as wm

G = 9.80665


def _frame(values):
    return bytes([0x55, 0x61]) + np.asarray(values, dtype="<i2").tobytes()


def test_frame_scaling_as_in_the_official_processor():
    # Bwt901bleProcessor.java: acc = raw/32768*16 g, gyro = raw/32768*2000 °/s
    raw = [2048, -1024, 0, 16384, -32768, 100, 0, 0, 0]
    dec = wm.WitMotionDecoder(rate_hz=100)
    p = dec.decode(_frame(raw))
    np.testing.assert_allclose(p.acc[0], np.array([2048, -1024, 0]) / 32768 * 16 * G)
    np.testing.assert_allclose(p.gyr[0], np.array([16384, -32768, 100]) / 32768 * 2000 * math.pi / 180)
    assert p.acc[0, 0] == pytest.approx(G)  # 1 g
    assert p.saturated.tolist() == [True]  # gyro y at -32768
    assert p.t_s.tolist() == [0.0]


def test_several_frames_and_register_frames_in_one_notification():
    dec = wm.WitMotionDecoder(rate_hz=200)
    reg = bytes([0x55, 0x71, 0x3A, 0x00]) + bytes(16)  # a register read answer (magnetometer)
    note = _frame([0] * 9) + reg + _frame([1] * 9)
    p = dec.decode(note)
    assert p.n == 2 and dec.register_frames == 1
    np.testing.assert_allclose(p.t_s, [0.0, 0.005])
    assert dec.decode(reg) is None
    assert dec.decode(_frame([0] * 9)).t_s[0] == pytest.approx(0.010)  # counting continues
    dec.reset()
    assert dec.decode(_frame([0] * 9)).t_s[0] == 0.0


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "truncated"), (b"\x55\x61\x00", "truncated"), (bytes(21), "bad_length"),
     (b"\x54\x61" + bytes(18), "unknown_frame_type"), (b"\x55\x62" + bytes(18), "unknown_frame_type")],
)
def test_rejections(data, reason):
    with pytest.raises(DecodeError) as e:
        wm.WitMotionDecoder().decode(data)
    assert e.value.reason == reason


def test_commands_and_encoder_round_trip():
    assert wm.unlock_command() == bytes.fromhex("ffaa6988b5")
    assert wm.save_command() == bytes.fromhex("ffaa000000")
    assert wm.set_rate_command(200) == bytes.fromhex("ffaa030b00")
    assert wm.set_rate_command(10) == bytes.fromhex("ffaa030600")
    with pytest.raises(ValueError):
        wm.set_rate_command(104)
    acc, gyr = np.array([0.5, -9.81, 3.0]), np.array([1.0, -0.2, 0.05])
    p = wm.WitMotionDecoder().decode(wm.encode_frame(acc, gyr, (10.0, -5.0, 90.0)))
    np.testing.assert_allclose(p.acc[0], acc, atol=16 * G / 32768)
    np.testing.assert_allclose(p.gyr[0], gyr, atol=2000 * math.pi / 180 / 32768)
    raw, _ = wm.parse_frames(wm.encode_frame(acc, gyr, (10.0, -5.0, 90.0)))
    np.testing.assert_allclose(raw[0, 6:] / 32768 * 180, [10.0, -5.0, 90.0], atol=180 / 32768)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100))
def test_fuzz(data):
    try:
        wm.WitMotionDecoder().decode(data)
    except DecodeError as e:
        assert e.reason in REASONS

"""MetaWear (MbientLab GATT command protocol): commands and data vectors from the SDK's own tests.

Vectors are copied from github.com/mbientlab/MetaWear-SDK-Cpp, commit f67699e5c7eb64401a68157f553f9585e3857a6a:

* ``test/test_accelerometer_bmi160.py`` — TestAccBmi160Config (``test_set_odr``, ``test_set_range``,
  ``test_set_odr_and_range``, enable/disable sampling), TestBmi160AccelerationData
  (``test_get_acceleration_data_g``: ``03 04 16c4 94a2 2ad0`` at ±4 g = (-1.872, -2.919, -1.495) g;
  subscribe ``03 04 01``), TestBmi160HighFreqAccData (packed ``03 1c`` + 3 samples at ±8 g)
* ``test/test_accelerometer_bmi270.py`` — ``test_set_odr_and_range`` (``03 03 a9 02``), packed ``03 05``
* ``test/test_gyro_bmi160.py`` — config (``13 03 29 00`` 200 Hz/2000 °/s, ``13 03 27 04`` 50 Hz/125 °/s),
  power/enable/subscribe, ``13 05 3e43 ff7f 0080`` at ±500 °/s = (262.409, 499.497, -499.512) °/s, packed
  ``13 07`` + 3 samples at ±1000 °/s.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.sensors import REASONS, DecodeError, Packet
from gaitmon.sensors import metawear as mw

G = 9.80665
DEG = math.pi / 180


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


@pytest.mark.parametrize("rate,expected", [(25, "03 03 26 03"), (50, "03 03 27 03"), (100, "03 03 28 03"),
                                            (200, "03 03 29 03"), (400, "03 03 2a 03"), (800, "03 03 2b 03"),
                                            (1600, "03 03 2c 03")])
def test_acc_bmi160_odr_commands(rate, expected):
    assert mw.acc_config(rate, 2) == h(expected)  # default range ±2 g (code 3)


def test_acc_and_gyro_config_vectors():
    assert mw.acc_config(100, 16) == h("03 03 28 0c")  # test_set_range
    assert mw.acc_config(200, 8) == h("03 03 29 08")  # test_set_odr_and_range
    assert mw.acc_config(200, 8, chip="bmi270") == h("03 03 a9 02")  # bmi270 test_set_odr_and_range
    assert mw.acc_config(100, 16, chip="bmi270") == h("03 03 a8 03")  # bmi270 test_set_range
    assert mw.gyro_config(200, 2000) == h("13 03 29 00")
    assert mw.gyro_config(100, 250) == h("13 03 28 03")
    assert mw.gyro_config(50, 125) == h("13 03 27 04")
    start = mw.start_commands(packed=False)
    for v in ("03 04 01", "13 05 01", "03 02 01 00", "13 02 01 00", "13 01 01"):
        assert h(v) in start
    assert h("03 1c 01") in mw.start_commands() and h("13 07 01") in mw.start_commands()
    assert h("03 05 01") in mw.start_commands(chip="bmi270")
    stop = mw.stop_commands(packed=False)
    for v in ("03 04 00", "13 05 00", "03 02 00 01", "13 02 00 01", "13 01 00"):
        assert h(v) in stop
    with pytest.raises(ValueError):
        mw.acc_config(60, 16)


def test_sdk_data_vectors():
    d = mw.MetaWearDecoder(100, acc_range_g=4, gyro_range_dps=500)
    assert d.decode(h("03 04 16c4 94a2 2ad0")) is None  # acc first: waits for its gyro sample
    p = d.decode(h("13 05 3e43 ff7f 0080"))
    np.testing.assert_allclose(p.acc[0] / G, [-1.872, -2.919, -1.495], atol=5e-4)
    np.testing.assert_allclose(p.gyr[0] / DEG, [262.409, 499.497, -499.512], atol=5e-4)
    assert p.t_s.tolist() == [0.0] and p.saturated.tolist() == [True]  # 0x7fff / 0x8000: at the limit


def test_sdk_packed_vectors():
    d = mw.MetaWearDecoder(100, acc_range_g=8, gyro_range_dps=1000)
    assert d.decode(h("03 1c 62b7 530d e9fd 16d0 4d0e 5702 8aff a105 0a01")) is None
    p = d.decode(h("13 07 0915 ad26 08de 8a1a 0d26 65e4 8d20 ac27 73ec"))
    np.testing.assert_allclose(p.acc / G, [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146],
                                           [-0.029, 0.352, 0.065]], atol=5e-4)
    np.testing.assert_allclose(p.gyr / DEG, [[164.177, 301.860, -265.122], [207.134, 296.982, -215.457],
                                             [254.055, 309.634, -152.591]], atol=5e-3)
    np.testing.assert_allclose(p.t_s, [0.0, 0.01, 0.02])
    # bmi270 packs the accelerometer in register 0x05
    d2 = mw.MetaWearDecoder(100, acc_range_g=8, chip="bmi270")
    d2.decode(h("03 05 62b7 530d e9fd 16d0 4d0e 5702 8aff a105 0a01"))
    assert d2.decode(mw.encode_data(0x13, 0x07, np.zeros((3, 3)))).n == 3


def test_round_trip_and_errors():
    rng = np.random.default_rng(1)
    d = mw.MetaWearDecoder(200, acc_range_g=16, gyro_range_dps=2000)
    a = rng.integers(-30000, 30000, (9, 3))
    g = rng.integers(-30000, 30000, (9, 3))
    out = []
    for i in range(0, 9, 3):
        d.decode(mw.encode_data(0x03, 0x1C, a[i:i + 3]))
        out.append(d.decode(mw.encode_data(0x13, 0x07, g[i:i + 3])))
    np.testing.assert_allclose(np.vstack([p.acc for p in out]), a * G / 2048)
    np.testing.assert_allclose(np.vstack([p.gyr for p in out]), g * DEG / 16.4)
    np.testing.assert_allclose(np.concatenate([p.t_s for p in out]), np.arange(9) / 200)
    for bad, reason in ((b"\x03", "truncated"), (h("03 04 0102"), "bad_length"), (h("0b 84 00"), "unknown_frame_type"),
                        (h("03 1c") + bytes(24), "bad_length")):
        with pytest.raises(DecodeError) as e:
            d.decode(bad)
        assert e.value.reason == reason


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=24), max_size=8))
def test_fuzz_never_crashes(frames):
    d = mw.MetaWearDecoder(100)
    for f in frames:
        try:
            p = d.decode(f)
        except DecodeError as e:
            assert e.reason in REASONS
            continue
        assert p is None or (isinstance(p, Packet) and np.isfinite(p.acc).all() and np.all(np.diff(p.t_s) > 0))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 3)), max_size=20))
def test_fuzz_pairing_keeps_order(seq):
    d = mw.MetaWearDecoder(50)
    t_all = []
    for is_acc, n in seq:
        p = d.decode(mw.encode_data(0x03 if is_acc else 0x13, 0x1C if is_acc else 0x07, np.ones((n, 3))))
        if p is not None:
            t_all += p.t_s.tolist()
    assert np.allclose(np.array(t_all) * 50, np.arange(len(t_all)))

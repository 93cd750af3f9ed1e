"""Polar PMD: byte vectors and expected values from the Polar BLE SDK's own unit tests.

Vectors are copied from github.com/polarofficial/polar-ble-sdk (commit 8fb5311c, May 2026),
``sources/Android/android-communications/library/src/test/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``:

* ``model/AccDataTest.kt``      — raw type 1, compressed type 0 and type 1 ACC frames
* ``model/GyrDataTest.kt``      — compressed type 0 and type 1 (float) GYRO frames
* ``BlePmdClientParsersTest.kt`` — reference samples and multi-block delta frames
* ``BlePmdClientControlPointResponseTest.kt`` — control point responses
* ``PmdSettingTest.kt``         — settings lists
* ``model/PmdTimeStampUtilsTest.kt`` — sample time reconstruction
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitmon.sensors import REASONS, DecodeError, Packet
from gaitmon.sensors import polar_pmd as pmd
from gaitmon.sensors.polar_pmd import MeasurementType as MT
from gaitmon.sensors.polar_pmd import SettingType as S

MG = 9.80665e-3


def f32(bits: int) -> float:
    return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]


# --- AccDataTest.kt --------------------------------------------------------------------------

ACC_RAW1_HEADER = "02009435770000000001"
ACC_RAW1_CONTENT = (
    "f7ffffffe703f8fffeffe503f9ffffffe503faffffffe603fafffeffe603f9ffffffe503f8ffffffe603f8fffeffe603"
    "faffffffe503faffffffe703faffffffe503f8ffffffe603f7ffffffe603f8fffeffe603f9fffeffe703f9ff0000e603"
    "f9ffffffe603f7fffeffe503f9ffffffe503f9ffffffe503faff0000e603f9fffeffe603f8ffffffe603f8ffffffe503"
    "f9ffffffe603f9ffffffe503faffffffe603f9ffffffe503f9ffffffe503f8fffeffe603f9ffffffe603f9ffffffe603"
    "f9ff0000e503f9fffeffe603f8fffeffe603f7fffeffe603"
)
ACC_C0_HEADER = "02009435770000000080"
ACC_C0_CONTENT = (
    "7107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1fb12b9ecbd3c3ebb2f8fd3de4be3"
    "b5f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1bdef52f8efbc18fe3b2f8403bfcbe0c2ef32"
    "b8f0bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4bdfcaebc2f7f2b8eccd7c2e7b378f4bdecee392f7f3b8"
    "e00dfd2d774b7fcbddd2df6237f5b7d44dbd2d745b6fcbdcd7d73237f6b5c88d7d2d716b4f4bdcdcd3f236f7b4bcddfd"
    "2c6f7b3f4bdbe0cfd236f8b2b02dbe2c6c8f1fcbdae3c7a276f9"
)
ACC_C1 = "02650000000000000081" + "f1ff1400f00306017b0f08"

# --- GyrDataTest.kt --------------------------------------------------------------------------

GYR_C0 = "05ffffffffffffff7f80" + "eaff08000d000301df00"
GYR_C1_HEADER = "05009435770000000081"
GYR_C1_CONTENT = "0000803f000020410000a0411c010000a001000008cdccec0d"

# --- BlePmdClientParsersTest.kt --------------------------------------------------------------

DELTA32_REAL_VECTOR1 = (
    "0000803f000020410000a0411c060000a001000008cdccec0d000008cdccec3d33331acdccec3d33331a0000c0303333"
    "1a0000c0a09999da0000c0a09999da6666a6a19999da6666a60100000e20036666a6010000e000426c450e0000e00042"
    "6c450e2bf8ed21000060fdbe93baf0939b4ccf1c060000a001000008cdccec0d000008cdccec3d33331acdccec3d3333"
    "1a0000c03033331a0000c0a09999da0000c0a09999da6666a6a19999da6666a60100000e20036666a6010000e000426c"
    "450e0000e000426c450e2bf8ed21000060fdbe93baf0939b4ccf"
)
DELTA32_VECTOR2 = (
    "02000000193299e900dafeff2011173299e9e7a7651638db0646e7a7651638db064673413bb87a260401c90aff597707"
    "d13287bf019f213e0d91e50176ad213e0d91e50176ad920138cde50176ad920138cd00548487920138cd0054848778cb"
    "ee400054848778cbee40f1decc8b78cbee40f1decc8b173299e9f1decc8b173299e9e7a76516173299e9e7a7651638db"
    "0646e7a7651638db064673413bb87a260401c90aff597707d13287bf019f213e0d91e50176ad213e0d91e50176ad9201"
    "38cde50176ad920138cd00548487920138cd0054848778cbee40"
)
DELTA16_MULTI = (
    "c9ff12001100030941fe2b0f9c0bbf15004f00041ef1ef00f0c123e4edf4d1f1f1f5ff22de3100f1fe21021f0e2b1f00"
    "e220000e02e11e20fff1f102c5d002e0e102030a312efbba902baa0e23409e030414e3eff30f021f01e00f049e13e2d0"
    "04e222e2c20e200f2002fe000f1c32ee030a890007087c00ce2fe83a9e03041e010011194f002f12fd13ff0e100000f1"
    "c012e4ef21000001f1ffff0210102b510b4e31fc2ebf3114ec0e2f52ef030a069e040e02a888eee0079a00040a1f211e"
    "4e2efec6c002ef030102ee11030af8130000f040bfa5e7007600"
)


def test_uuids():
    assert pmd.PMD_SERVICE_UUID == "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
    assert pmd.PMD_CP_UUID == "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
    assert pmd.PMD_DATA_UUID == "fb005c82-02e7-f387-1cad-8acd2d8df0c8"


def test_sdk_acc_raw_type1_frame():
    """AccDataTest `process acc raw data frame type 1` (52 Hz, no previous frame)."""
    data = bytes.fromhex(ACC_RAW1_HEADER + ACC_RAW1_CONTENT)
    frame = pmd.parse_frame(data)
    assert (frame.measurement_type, frame.timestamp_ns, frame.frame_type, frame.compressed) == (MT.ACC, 2_000_000_000, 1, False)
    mg = pmd.frame_samples(frame)
    assert mg.shape == (len(ACC_RAW1_CONTENT) // 2 // 6, 3) == (36, 3)
    assert mg[0].tolist() == [-9, -1, 999] and mg[1].tolist() == [-8, -2, 997]
    dec = pmd.PolarPmdDecoder()
    dec.set_sample_rate(MT.ACC, 52)
    _, t_ns, _ = dec.decode_frame(data)
    assert t_ns[-1] == 2_000_000_000
    np.testing.assert_allclose(np.diff(t_ns), 1e9 / 52, atol=1)
    dec2 = pmd.PolarPmdDecoder()
    dec2.set_sample_rate(MT.ACC, 52)
    p = dec2.decode(data)
    assert p.kind == "polar_acc" and p.gyr is None
    np.testing.assert_allclose(p.acc[0], np.array([-9, -1, 999]) * MG)
    assert p.t_s[-1] == pytest.approx(2.0)


def test_sdk_acc_compressed_type0_frame():
    """AccDataTest `process acc compressed data type 0` (factor 2.44e-4, previous ts 100)."""
    frame = pmd.parse_frame(bytes.fromhex(ACC_C0_HEADER + ACC_C0_CONTENT))
    assert frame.compressed and frame.frame_type == 0
    raw = pmd.decode_delta_frames(frame.content, 3, 16)
    assert raw.shape == (57, 3)  # reference sample + 56 deltas
    assert raw[0].tolist() == [1905, 27376, -29282]
    assert raw[1].tolist() == [1905 + 190, 27376 - 105, -29282 - 85]
    factor = 2.44e-4
    mg = pmd.frame_samples(frame, factor)
    f = float(np.float32(factor))
    for i in (0, 1):  # the SDK truncates (factor * sample * 1000f).toInt()
        assert np.trunc(mg[i]).tolist() == pytest.approx([int(f * v * 1000) for v in raw[i]], abs=1)
    assert np.all(np.abs(mg) <= 8 * 1000)  # "validate data in range" (8 G)
    t = pmd.sample_times_ns(100, frame.timestamp_ns, 57, 0)
    delta = (2_000_000_000 - 100) / 57
    assert t[0] == round(100 + delta) and t[-1] == 2_000_000_000


def test_sdk_acc_compressed_type1_frame():
    """AccDataTest `process acc compressed data type 1`: -15/20/1008, then -5/-3/0; times 100, 101."""
    frame = pmd.parse_frame(bytes.fromhex(ACC_C1))
    assert frame.timestamp_ns == 101 and frame.compressed and frame.frame_type == 1
    mg = pmd.frame_samples(frame, 1.0)
    assert mg.tolist() == [[-15, 20, 1008], [-20, 17, 1008]]
    assert pmd.sample_times_ns(100, 101, 2, 0).tolist() == [100, 101]


def test_sdk_gyro_compressed_type0_frame():
    """GyrDataTest `process gyro compressed data type 0`: 3-bit deltas -1, +3, +3."""
    frame = pmd.parse_frame(bytes.fromhex(GYR_C0))
    assert frame.measurement_type == MT.GYRO and frame.timestamp_ns == 2**63 - 1
    dps = pmd.frame_samples(frame, 1.0)
    assert dps.tolist() == [[-22.0, 8.0, 13.0], [-23.0, 11.0, 16.0]]
    assert pmd.sample_times_ns(100, frame.timestamp_ns, 2, 0)[-1] == 2**63 - 1


@pytest.mark.parametrize("factor", [1.0, 0.5])
def test_sdk_gyro_compressed_type1_float_frame(factor):
    """GyrDataTest `process gyro compressed data type 1` (and `… with factor` 0.5)."""
    frame = pmd.parse_frame(bytes.fromhex(GYR_C1_HEADER + GYR_C1_CONTENT))
    dps = pmd.frame_samples(frame, factor)
    expected = [
        [f32(0x3F800000), f32(0x41200000), f32(0x41A00000)],
        [f32(0x3F800000 + 0x1A00000), f32(0x41200000 + 0x0800000), f32(0x41A00000 + 0xFDECCCCD)],
    ]
    np.testing.assert_array_equal(dps, np.float32(factor) * np.array(expected, dtype=np.float32))
    dec = pmd.PolarPmdDecoder()
    dec.set_factor(MT.GYRO, factor)
    dec.set_sample_rate(MT.GYRO, 52)
    p = dec.decode(bytes.fromhex(GYR_C1_HEADER + GYR_C1_CONTENT))
    assert p.kind == "polar_gyr" and p.acc is None
    np.testing.assert_allclose(p.gyr, dps * math.pi / 180)
    assert p.t_s[-1] == pytest.approx(2.0)


def test_sdk_reference_samples():
    """BlePmdClientParsersTest: 16-bit signed and 32-bit float reference samples."""
    ref16 = pmd.decode_delta_frames(bytes.fromhex("ffff0000ff7f0080"), 4, 16)
    assert ref16.tolist() == [[-1, 0, 32767, -32768]]
    ref32 = pmd.decode_delta_frames(bytes.fromhex("00000000ffffffff00000080"), 3, 32, signed=False)
    assert ref32.tolist() == [[0x00000000, 0xFFFFFFFF, 0x80000000]]


def test_sdk_delta_frames_resolution32_real_vector1():
    s = pmd.decode_delta_frames(bytes.fromhex(DELTA32_REAL_VECTOR1), 3, 32, signed=False)
    assert s.shape == (1 + 6 + 3 + 6 + 3, 3)
    assert s[0].tolist() == [0x3F800000, 0x41200000, 0x41A00000]
    assert s[1].tolist() == [0x3F800000 + 0x1A00000, 0x41200000 + 0x0800000, (0x41A00000 + 0xFDECCCCD) & 0xFFFFFFFF]


def test_sdk_delta_frames_resolution32_vector2():
    s = pmd.decode_delta_frames(bytes.fromhex(DELTA32_VECTOR2), 3, 32, signed=False)
    assert s.shape == (18, 3)
    assert s[0].tolist() == [0x00000002, 0xE9993219, 0xFFFEDA00]
    assert s[1].tolist() == [
        (0x00000002 + 0xE9993217) & 0xFFFFFFFF,
        (0xE9993219 + 0x1665A7E7) & 0xFFFFFFFF,
        (0xFFFEDA00 + 0x4606DB38) & 0xFFFFFFFF,
    ]


def test_sdk_delta_frames_multiple_blocks():
    """BlePmdClientParsersTest `multipleDeltas`: 9 blocks of 3- and 4-bit deltas."""
    s = pmd.decode_delta_frames(bytes.fromhex(DELTA16_MULTI), 3, 16)
    assert s.shape[0] == 1 + 9 + 30 + 10 + 20 + 10 + 30 + 10 + 10 + 10
    assert s[0].tolist() == [-55, 18, 17]
    assert s[1].tolist() == [-54, 18, 18]


def test_sdk_control_point_responses():
    """BlePmdClientControlPointResponseTest: success with parameters; error status."""
    ok = pmd.parse_control_point(bytes.fromhex("f001020000ffffff"))
    assert ok == pmd.ControlPointResponse(
        op=pmd.ControlPointOp.GET_MEASUREMENT_SETTINGS, measurement_type=MT.ACC, status=pmd.ResponseCode.SUCCESS,
        more=False, parameters=b"\xff\xff\xff",
    )
    assert ok.ok and ok.raise_for_status() is ok
    err = pmd.parse_control_point(bytes.fromhex("f001060700"))
    assert err.status == pmd.ResponseCode.ERROR_INVALID_RESOLUTION and not err.more and err.parameters == b""
    assert err.measurement_type == MT.MAGNETOMETER
    with pytest.raises(pmd.PmdControlPointError) as e:
        err.raise_for_status()
    assert "ERROR_INVALID_RESOLUTION" in str(e.value) and "MAGNETOMETER" in str(e.value)


def test_sdk_settings():
    """PmdSettingTest: available settings; range in milli-units; selected serialization."""
    s = pmd.parse_settings(bytes.fromhex("00013400010110000204f500f401e803d007040103"))
    assert s == {S.SAMPLE_RATE: (52,), S.RESOLUTION: (16,), S.RANGE: (245, 500, 1000, 2000), S.CHANNELS: (3,)}
    m = pmd.parse_settings(bytes.fromhex("0302ffffffffff00000001010e00"))
    assert m == {S.RANGE_MILLIUNIT: (-1, 0xFF), S.RESOLUTION: (14,)}
    selected = {S.SAMPLE_RATE: 0x7FFF, S.RESOLUTION: 0, S.RANGE: 15, S.RANGE_MILLIUNIT: 2**31 - 1, S.CHANNELS: 4, S.FACTOR: 15}
    back = pmd.parse_settings(pmd.encode_settings(selected))
    assert back == {S.SAMPLE_RATE: (0x7FFF,), S.RESOLUTION: (0,), S.RANGE: (15,), S.RANGE_MILLIUNIT: (2**31 - 1,), S.CHANNELS: (4,)}


@pytest.mark.parametrize(
    "prev, ts, n, rate, expected",
    [
        (0, 10_000_000_000, 10, 1, [i * 1_000_000_000 for i in range(1, 11)]),
        (0, 1_000_000_000, 1, 1, [1_000_000_000]),
        (1_000_000_000, 11_000_000_000, 10, 1, [i * 1_000_000_000 for i in range(2, 12)]),
        (100, 2_000_000_000, 3, 1, [round(666666733.33), round(1333333366.66), 2_000_000_000]),
        (1_000_000_000, 2_000_000_000, 1, 1, [2_000_000_000]),
    ],
)
def test_sdk_sample_times(prev, ts, n, rate, expected):
    """PmdTimeStampUtilsTest, the cases that succeed."""
    assert pmd.sample_times_ns(prev, ts, n, rate).tolist() == expected


def test_sdk_sample_time_errors():
    """PmdTimeStampUtilsTest: no previous frame and rate 0; timestamps that would be negative."""
    with pytest.raises(DecodeError) as e:
        pmd.sample_times_ns(0, 100_000, 100, 0)
    assert e.value.reason == "not_configured"
    with pytest.raises(DecodeError) as e:
        pmd.sample_times_ns(0, 100_000, 100, 52)
    assert e.value.reason == "bad_timestamp"


def test_start_stop_and_settings_commands():
    # H10 ACC 200 Hz, 16 bit, ±8 g — the well-known start request
    assert pmd.start_measurement_command(MT.ACC, sample_rate=200, resolution=16, range_=8) == bytes.fromhex(
        "02020001c80001011000020108 00".replace(" ", "")
    )
    # Verity Sense GYRO 52 Hz, 16 bit, ±2000 °/s
    assert pmd.start_measurement_command(MT.GYRO, sample_rate=52, range_=2000) == bytes.fromhex("020500013400010110000201d007")
    assert pmd.stop_measurement_command(MT.ACC) == b"\x03\x02"
    assert pmd.get_settings_command(MT.GYRO) == b"\x01\x05"
    with pytest.raises(ValueError):
        pmd.start_measurement_command(4, sample_rate=52)


def test_decoder_adopts_factor_from_start_response_and_reports_refusals():
    dec = pmd.PolarPmdDecoder()
    cmd = dec.start_command(MT.GYRO, sample_rate=52, range_=2000)
    assert cmd[:2] == b"\x02\x05"
    factor_bits = struct.unpack("<I", struct.pack("<f", 0.061))[0]
    params = bytes([S.FACTOR, 1]) + factor_bits.to_bytes(4, "little")
    resp = dec.on_control_point(pmd.encode_control_point_response(pmd.ControlPointOp.REQUEST_MEASUREMENT_START, MT.GYRO, 0, params))
    assert resp.ok and pmd.settings_factor(resp.settings()) == pytest.approx(0.061)
    frame = pmd.encode_gyro_frame(700_000_000_000_000_000, np.array([[1.0, -2.0, 0.5]] * 4), factor=0.061)
    p = dec.decode(frame)
    np.testing.assert_allclose(p.gyr, [[1.0, -2.0, 0.5]] * 4, atol=0.061 * math.pi / 180)
    refused = dec.on_control_point(bytes.fromhex("f002020800"))
    assert not refused.ok and refused.status == pmd.ResponseCode.ERROR_INVALID_SAMPLE_RATE
    stopped = dec.on_control_point(b"\x01\x02\x05")
    assert stopped == pmd.MeasurementStopped((MT.ACC, MT.GYRO))


def test_features():
    assert pmd.parse_features(bytes.fromhex("0f2400")) == {MT.ACC, MT.GYRO}
    assert pmd.parse_features(pmd.encode_features([MT.ACC, MT.GYRO, MT.MAGNETOMETER, MT.SDK_MODE])) == {
        MT.ACC, MT.GYRO, MT.MAGNETOMETER, MT.SDK_MODE,
    }
    for bad, reason in [(b"\x0f", "truncated"), (b"\x00\x00\x00", "unknown_frame_type")]:
        with pytest.raises(DecodeError) as e:
            pmd.parse_features(bad)
        assert e.value.reason == reason


def test_timing_across_frames_follows_the_sdk_and_the_gap_guard():
    rate = 52
    dt = 1e9 / rate
    dec = pmd.PolarPmdDecoder()
    dec.set_sample_rate(MT.ACC, rate)
    ts0 = 700_000_000_000_000_000
    acc = np.tile([0.0, 0.0, 9.81], (10, 1))
    p1 = dec.decode(pmd.encode_acc_frame(ts0, acc))
    np.testing.assert_allclose(np.diff(p1.t_s), dt * 1e-9, atol=2.5e-7)  # float64 s since 2000: ~0.12 µs steps
    # next frame 10 samples later, with the device's clock running 1 % fast: spread over (prev, ts]
    ts1 = ts0 + int(round(10 * dt * 1.01))
    p2 = dec.decode(pmd.encode_acc_frame(ts1, acc))
    assert p2.t_s[0] == pytest.approx((ts0 + (ts1 - ts0) / 10) * 1e-9, abs=2.5e-7)
    # a lost frame: the next one ends 20 samples later; the guard keeps 1/rate spacing
    ts3 = ts1 + int(round(20 * dt))
    p3 = dec.decode(pmd.encode_acc_frame(ts3, acc))
    np.testing.assert_allclose(np.diff(p3.t_s), dt * 1e-9, atol=2.5e-7)
    assert p3.t_s[0] == pytest.approx((ts3 - 9 * dt) * 1e-9, abs=2.5e-7)
    # without the guard the SDK smears the 10 samples over the 20-sample gap
    sdk = pmd.PolarPmdDecoder(gap_guard=False)
    sdk.set_sample_rate(MT.ACC, rate)
    sdk.decode(pmd.encode_acc_frame(ts1, acc))
    np.testing.assert_allclose(np.diff(sdk.decode(pmd.encode_acc_frame(ts3, acc)).t_s), 2 * dt * 1e-9, atol=2.5e-7)
    # a frame that does not advance the clock is rejected, and the next one decodes again
    with pytest.raises(DecodeError) as e:
        dec.decode(pmd.encode_acc_frame(ts3, acc))
    assert e.value.reason == "bad_timestamp"
    assert dec.decode(pmd.encode_acc_frame(ts3 + int(round(10 * dt)), acc)).n == 10


def test_first_frame_without_sample_rate_cannot_be_timed():
    dec = pmd.PolarPmdDecoder()
    with pytest.raises(DecodeError) as e:
        dec.decode(pmd.encode_acc_frame(700_000_000_000_000_000, np.zeros((3, 3))))
    assert e.value.reason == "not_configured"


@pytest.mark.parametrize(
    "hexdata, reason",
    [
        ("", "truncated"),
        ("0200943577000000", "truncated"),  # header cut
        ("00009435770000000000000000", "unknown_measurement"),  # ECG
        ("02009435770000000003f7ff", "unknown_frame_type"),  # raw ACC type 3
        ("02009435770000000082f7ff", "unknown_frame_type"),  # compressed ACC type 2
        ("05009435770000000001f7ffffffe703", "unknown_frame_type"),  # raw GYRO
        ("02009435770000000001f7ffffffe7", "bad_length"),  # raw ACC: 5 bytes
        ("02009435770000000001", "bad_length"),  # raw ACC: no samples
        ("02009435770000000081f1ff1400f0", "truncated"),  # reference sample cut
        ("02009435770000000081f1ff1400f00306", "truncated"),  # delta block header cut
        ("02009435770000000081f1ff1400f00306027b0f", "truncated"),  # delta bits cut
        ("02009435770000000081f1ff1400f0030003", "bad_compression"),  # 0-bit deltas with 3 samples
        ("02009435770000000081f1ff1400f00321017b0f087b0f087b0f087b0f08", "bad_compression"),  # 33-bit deltas
    ],
)
def test_malformed_frames_are_rejected_with_reason(hexdata, reason):
    dec = pmd.PolarPmdDecoder()
    dec.set_sample_rate(MT.ACC, 52)
    dec.set_sample_rate(MT.GYRO, 52)
    with pytest.raises(DecodeError) as e:
        dec.decode(bytes.fromhex(hexdata))
    assert e.value.reason == reason


def test_one_bit_deltas_are_twos_complement():
    # reference (10, 20, 30), one 1-bit block of 2 samples: deltas (1→-1, 0, 1→-1), (0, 0, 0)
    content = (10).to_bytes(2, "little", signed=True) + (20).to_bytes(2, "little") + (30).to_bytes(2, "little")
    content += bytes([1, 2, 0b00000101])
    assert pmd.decode_delta_frames(content, 3, 16).tolist() == [[10, 20, 30], [9, 20, 29], [9, 20, 29]]


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    st.integers(1, 4),
    st.sampled_from([8, 12, 14, 16, 24]),
    st.integers(1, 600),
)
def test_delta_round_trip_signed(data, channels, resolution, n):
    lo, hi = -(1 << (resolution - 1)), (1 << (resolution - 1)) - 1
    s = data.draw(hnp.arrays(np.int64, (n, channels), elements=st.integers(lo, hi)))
    enc = pmd.encode_delta_frames(s, resolution)
    np.testing.assert_array_equal(pmd.decode_delta_frames(enc, channels, resolution), s)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(1, 60))
def test_delta_round_trip_float_bits(data, n):
    vals = data.draw(hnp.arrays(np.float32, (n, 3), elements=st.floats(-3000, 3000, width=32)))
    bits = vals.view(np.uint32).astype(np.int64)
    enc = pmd.encode_delta_frames(bits, 32, signed=False)
    back = pmd.decode_delta_frames(enc, 3, 32, signed=False).astype(np.uint32).view(np.float32)
    np.testing.assert_array_equal(back, vals)


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    st.integers(1, 40),
    st.booleans(),
    st.sampled_from([1.0, 0.24414062, 0.5]),  # ACC mG per count (Verity Sense ±8 g: 0.244)
    st.sampled_from([1.0, 0.061, 0.5]),  # GYRO °/s per count (±2000 °/s: 0.061)
)
def test_acc_and_gyro_frames_round_trip(data, n, compressed, acc_factor, gyr_factor):
    acc = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-70, 70)))  # ±7 g
    gyr = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-30, 30)))  # ±1719 °/s
    ts = 700_000_000_000_000_000 + data.draw(st.integers(0, 10**12))
    if not compressed:
        acc_factor = 1.0  # raw frames are plain mG
    dec = pmd.PolarPmdDecoder()
    dec.set_sample_rate(MT.ACC, 104)
    dec.set_sample_rate(MT.GYRO, 104)
    dec.set_factor(MT.ACC, acc_factor)
    dec.set_factor(MT.GYRO, gyr_factor)
    pa = dec.decode(pmd.encode_acc_frame(ts, acc, compressed=compressed, factor=acc_factor))
    pg = dec.decode(pmd.encode_gyro_frame(ts, gyr, factor=gyr_factor))
    step_a = float(np.float32(acc_factor)) * MG
    step_g = float(np.float32(gyr_factor)) * math.pi / 180
    assert np.all(np.abs(pa.acc - acc) <= step_a / 2 + 1e-9)
    assert np.all(np.abs(pg.gyr - gyr) <= step_g / 2 + 1e-9)
    assert pa.t_s[-1] == pytest.approx(ts * 1e-9) and pg.n == n


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([0x02, 0x05, 0x00, 0x06, 0x3F, 0x82]),
    st.integers(0, 2**64 - 1),
    st.sampled_from([0x00, 0x01, 0x02, 0x80, 0x81, 0x82, 0x7F]),
    st.binary(max_size=240),
    st.booleans(),
)
def test_fuzz_data_frames_raise_only_decode_error(mt, ts, ft, content, with_rate):
    dec = pmd.PolarPmdDecoder()
    if with_rate:
        dec.set_sample_rate(MT.ACC, 52)
        dec.set_sample_rate(MT.GYRO, 52)
    data = bytes([mt]) + ts.to_bytes(8, "little") + bytes([ft]) + content
    imu = _imu_decoder() if with_rate else pmd.PolarImuDecoder()
    for _ in range(2):  # second time exercises the previous-timestamp path
        try:
            p = dec.decode(data)
        except DecodeError as e:
            assert e.reason in REASONS
        else:
            assert isinstance(p, Packet) and p.n >= 1
            arr = p.acc if p.acc is not None else p.gyr
            assert np.all(np.isfinite(arr)) and np.all(np.diff(p.t_s) >= 0)
        try:
            q = imu.decode(data)
        except DecodeError as e:
            assert e.reason in REASONS
        else:
            assert q is None or (q.acc is not None and q.gyr is not None)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_other_parsers_raise_only_decode_error(data):
    dec = pmd.PolarPmdDecoder()
    for fn in (
        dec.decode,
        dec.on_control_point,
        pmd.parse_control_point,
        pmd.parse_settings,
        pmd.parse_features,
        lambda d: pmd.decode_delta_frames(d, 3, 16),
        lambda d: pmd.decode_delta_frames(d, 3, 32, signed=False),
        lambda d: pmd.decode_delta_frames(d, 1, 24),
    ):
        try:
            fn(data)
        except DecodeError as e:
            assert e.reason in REASONS


def _imu_decoder(rate=52):
    d = pmd.PolarImuDecoder()
    d.pmd.set_sample_rate(MT.ACC, rate)
    d.pmd.set_sample_rate(MT.GYRO, rate)
    d.pmd.set_factor(MT.ACC, 0.24414062)
    d.pmd.set_factor(MT.GYRO, 0.061)
    return d


def _signals(t):
    acc = np.stack([np.sin(2 * np.pi * 1.4 * t), np.cos(2 * np.pi * 2.8 * t), 9.81 + 3 * np.sin(2 * np.pi * 2.8 * t)], 1)
    gyr = np.stack([0.5 * np.sin(2 * np.pi * 1.4 * t), -0.3 * np.cos(2 * np.pi * 1.4 * t), 0.2 * t], 1)
    return acc, gyr


def test_imu_decoder_pairs_acc_and_gyro():
    rate = 52
    t = np.arange(8 * rate) / rate
    acc, gyr = _signals(t)
    frames = pmd.packetize(t, acc=acc, gyr=gyr, sample_rate=rate, samples_per_frame=13)
    d = _imu_decoder(rate)
    out = [p for p in map(d.decode, frames) if p is not None]
    assert all(p.kind == "polar_imu" and p.acc is not None and p.gyr is not None for p in out)
    t_out = np.concatenate([p.t_s for p in out]) - 7e8
    np.testing.assert_allclose(t_out, t, atol=1e-6)
    assert np.abs(np.concatenate([p.acc for p in out]) - acc).max() <= 0.24414062 * MG / 2 + 1e-9
    assert np.abs(np.concatenate([p.gyr for p in out]) - gyr).max() <= 0.061 * math.pi / 180 / 2 + 1e-9
    assert d.unpaired_samples == 0


def test_imu_decoder_interpolates_gyro_to_acc_times_and_counts_unpaired_samples():
    rate = 52
    t = np.arange(6 * rate) / rate
    acc, _ = _signals(t)
    tg = t + 0.4 / rate  # the gyro samples 7.7 ms after the accelerometer
    _, gyr = _signals(tg)
    fa = pmd.packetize(t, acc=acc, sample_rate=rate, samples_per_frame=13)
    fg = pmd.packetize(tg, gyr=gyr, sample_rate=rate, samples_per_frame=13)
    lost = 10  # gyro frame 10 (samples 130..142) never arrives
    order = [f for pair in zip(fa, fg) for f in pair]
    order.remove(fg[lost])
    d = _imu_decoder(rate)
    out = [p for p in map(d.decode, order) if p is not None]
    t_out = np.concatenate([p.t_s for p in out]) - 7e8
    g_out = np.concatenate([p.gyr for p in out])
    # ACC sample i lies between gyro samples i-1 and i.  The first ACC sample precedes every gyro
    # sample; the ACC samples of the lost gyro frame, and the one after it (whose left neighbour
    # is lost), have no gyro pair
    missing = {0} | set(range(13 * lost, 13 * lost + 14))
    expect_idx = np.array([i for i in range(t.size) if i not in missing])
    np.testing.assert_allclose(t_out, t[expect_idx], atol=1e-6)
    assert d.unpaired_samples == len(missing)
    true_g = np.stack([np.interp(t[expect_idx], tg, gyr[:, k]) for k in range(3)], 1)
    assert np.abs(g_out - true_g).max() <= 0.061 * math.pi / 180 / 2 + 1e-6


def test_imu_decoder_without_gyro_stream_drops_stale_acc():
    rate = 52
    t = np.arange(8 * rate) / rate
    acc, _ = _signals(t)
    d = _imu_decoder(rate)
    assert all(d.decode(f) is None for f in pmd.packetize(t, acc=acc, sample_rate=rate, samples_per_frame=13))
    assert d.unpaired_samples > 0 and d._acc_t.size <= 5 * rate + 13  # bounded buffer

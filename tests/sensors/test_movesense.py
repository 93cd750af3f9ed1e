"""Movesense GSP: layouts as the official gatt_sensordata_app firmware and its Python client use them."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitmon.sensors import REASONS, DecodeError, Packet
from gaitmon.sensors import movesense as ms

D2R = math.pi / 180


def test_uuids_and_commands_match_the_official_client():
    assert ms.SERVICE_UUID == "34802252-7185-4d5d-b431-630e7050e8f0"
    assert ms.WRITE_UUID == "34800001-7185-4d5d-b431-630e7050e8f0"
    assert ms.NOTIFY_UUID == "34800002-7185-4d5d-b431-630e7050e8f0"
    # movesense_sensor_data.py: bytearray([1, 99]) + bytearray("/Meas/IMU9/104", "utf-8"); bytearray([2, 99])
    assert ms.subscribe_command(99, "/Meas/IMU9/104") == bytearray([1, 99]) + bytearray("/Meas/IMU9/104", "utf-8")
    assert ms.unsubscribe_command(99) == bytes([2, 99])
    assert ms.hello_command(7) == bytes([0, 7])
    assert ms.imu_path("IMU6", 208) == "/Meas/IMU6/208"
    with pytest.raises(ValueError):
        ms.subscribe_command(0, "/Meas/IMU6/104")  # reference 0 is reserved
    with pytest.raises(ValueError):
        ms.parse_path("/Meas/ECG/200")
    with pytest.raises(ValueError):
        ms.parse_path("/Meas/IMU6/100")


def test_command_results_as_the_firmware_sends_them():
    # GATTSensorDataClient.cpp: {COMMAND_RESULT, reference, 0x01, 0xFB} for 507 (no free slot)
    r = ms.parse_command_result(bytes([1, 5, 0x01, 0xFB]))
    assert r.status == 507 and not r.ok
    assert ms.encode_command_result(5, 507) == bytes([1, 5, 0x01, 0xFB])
    hello = ms.parse_command_result(bytes([1, 9]) + b"Hello")
    assert hello.status is None and hello.payload == b"Hello" and hello.ok
    dec = ms.MovesenseDecoder()
    assert dec.decode(ms.encode_hello_response(9)) is None
    assert dec.decode(bytes([1, 5, 0x01, 0xFB])) is None
    assert [c.status for c in dec.command_results] == [None, 507]


def _imu9_notifications(ts_ms, acc, gyr_dps, mag):
    """An IMU9 DATA message built by hand (struct), split at the 158-byte notification limit."""
    payload = struct.pack("<I", ts_ms)
    for arr in (acc, gyr_dps, mag):
        payload += struct.pack("<" + "f" * arr.size, *arr.reshape(-1))
    return [bytes([2, 99]) + payload[:156], bytes([3, 99]) + payload[156:]]


def test_imu9_split_message_decodes_like_the_official_python_client():
    i = np.arange(8, dtype=np.float32)
    acc = np.stack([i, i + 0.5, np.full(8, 9.81, np.float32)], axis=1)
    gyr = np.stack([10 * i, np.full(8, -5.0, np.float32), np.full(8, 0.25, np.float32)], axis=1)
    mag = np.stack([np.full(8, 30.0, np.float32), i - 20, np.full(8, 45.0, np.float32)], axis=1)
    n1, n2 = _imu9_notifications(123456, acc, gyr, mag)
    assert len(n1) == 158 and n2[:2] == b"\x03\x63"
    # the official client's parsing: combined = part1 + part2[2:], timestamp at 2, offset 6 + i*12, skip 3*8*4
    d = n1 + n2[2:]
    exp = []
    for k in range(8):
        off, skip = 6 + k * 12, 3 * 8 * 4
        row = [struct.unpack_from("<f", d, off + j)[0] for j in (0, 4, 8, skip, skip + 4, skip + 8, 2 * skip, 2 * skip + 4, 2 * skip + 8)]
        exp.append(row)
    exp = np.array(exp)
    assert struct.unpack_from("<I", d, 2)[0] == 123456

    dec = ms.MovesenseDecoder()
    assert dec.subscribe(99, "/Meas/IMU9/104") == ms.subscribe_command(99, "/Meas/IMU9/104")
    assert dec.decode(n1) is None  # first part held
    p = dec.decode(n2)
    assert isinstance(p, Packet) and p.kind == "movesense_imu9" and p.n == 8
    np.testing.assert_allclose(p.acc, exp[:, 0:3])
    np.testing.assert_allclose(p.gyr, exp[:, 3:6] * D2R)
    np.testing.assert_allclose(p.mag, exp[:, 6:9])
    np.testing.assert_allclose(p.t_s, 123.456 + np.arange(8) / 104)
    # our encoder produces the same bytes
    assert ms.encode_data(99, "/Meas/IMU9/104", 123456, acc=acc, gyr=gyr * D2R, mag=mag) == [n1, n2]


def test_imu6_single_notification():
    acc = np.array([[0.1, 0.2, 9.8], [0.0, -0.3, 9.7], [1.5, 0.0, 9.9], [0.2, 0.2, 9.81]], np.float32)
    gyr = np.array([[1, 2, 3], [-1, -2, -3], [100, 0, 0], [0, 0, -250]], np.float32)
    note = bytes([2, 5]) + struct.pack("<I", 4_000_000_000) + acc.astype("<f4").tobytes() + gyr.astype("<f4").tobytes()
    assert len(note) == 102
    dec = ms.MovesenseDecoder()
    dec.subscribe(5, "/Meas/IMU6/52")
    p = dec.decode(note)
    np.testing.assert_allclose(p.acc, acc)
    np.testing.assert_allclose(p.gyr, gyr.astype(np.float64) * D2R)
    assert p.mag is None
    np.testing.assert_allclose(p.t_s, 4_000_000 + np.arange(4) / 52)
    # the u32 ms clock wraps after 49.7 days: the decoder keeps counting
    note2 = bytes([2, 5]) + struct.pack("<I", (4_000_000_000 + 300_000_000) % 2**32) + note[6:]
    assert dec.decode(note2).t_s[0] == pytest.approx(4_300_000.0)


def test_fragment_and_reference_errors():
    dec = ms.MovesenseDecoder()
    dec.subscribe(99, "/Meas/IMU9/104")
    acc = np.zeros((8, 3))
    n1, n2 = ms.encode_data(99, "/Meas/IMU9/104", 1000, acc=acc, gyr=acc, mag=acc)
    with pytest.raises(DecodeError) as e:
        dec.decode(n2)  # continuation without its first part
    assert e.value.reason == "unexpected_fragment"
    assert dec.decode(n1) is None
    assert dec.decode(n1) is None  # a new first part: the old one is dropped and counted
    assert dec.dropped_fragments == 1
    assert dec.decode(n2).n == 8
    with pytest.raises(DecodeError) as e:
        dec.decode(bytes([2, 42]) + bytes(28))
    assert e.value.reason == "unknown_reference"
    with pytest.raises(DecodeError) as e:
        dec.decode(bytes([9, 99, 0, 0]))
    assert e.value.reason == "unknown_frame_type"
    with pytest.raises(DecodeError) as e:
        dec.decode(b"\x02")
    assert e.value.reason == "truncated"
    dec.unsubscribe(99)
    with pytest.raises(DecodeError) as e:
        dec.decode(n1)
    assert e.value.reason == "unknown_reference"


def test_expected_samples_resolve_the_split_ambiguity():
    # 4 IMU6 samples in the first part look like a complete message unless the count is known
    dec = ms.MovesenseDecoder()
    dec.subscribe(1, "/Meas/IMU6/104", expected_samples=8)
    acc = np.random.default_rng(0).normal(size=(8, 3))
    payload = ms.encode_data_payload(ms.parse_path("/Meas/IMU6/104"), 50, acc=acc, gyr=acc)
    first, second = bytes([2, 1]) + payload[: 4 + 96], bytes([3, 1]) + payload[4 + 96 :]
    assert dec.decode(first) is None
    np.testing.assert_allclose(dec.decode(second).acc, acc.astype(np.float32))
    with pytest.raises(DecodeError) as e:
        dec.decode(bytes([2, 1]) + ms.encode_data_payload(ms.parse_path("/Meas/IMU6/104"), 50, acc=np.zeros((9, 3)), gyr=np.zeros((9, 3))))
    assert e.value.reason == "bad_length"


def test_nan_samples_are_rejected():
    dec = ms.MovesenseDecoder()
    dec.subscribe(3, "/Meas/Acc/52")
    note = bytes([2, 3]) + struct.pack("<Ifff", 10, 0.0, float("nan"), 9.8)
    with pytest.raises(DecodeError) as e:
        dec.decode(note)
    assert e.value.reason == "bad_value"


def test_device_side_command_parsing():
    assert ms.parse_command(ms.subscribe_command(4, "/Meas/IMU6/104")) == ms.Command(1, 4, "/Meas/IMU6/104")
    assert ms.parse_command(ms.unsubscribe_command(4)) == ms.Command(2, 4)
    for bad, reason in [(b"\x01", "truncated"), (b"\x01\x04", "truncated"), (b"\x07\x04", "unknown_frame_type"),
                        (b"\x01\x00/Meas", "bad_field"), (b"\x02\x04x", "bad_length"), (b"\x01\x04\xff\xfe", "bad_field")]:
        with pytest.raises(DecodeError) as e:
            ms.parse_command(bad)
        assert e.value.reason == reason


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["IMU6", "IMU9", "IMU6m", "Acc", "Gyro", "Magn"]),
    st.sampled_from([13, 26, 52, 104, 208]),
    st.integers(1, 8),
    st.data(),
)
def test_packetize_round_trip(resource, rate, spp, data):
    path = ms.imu_path(resource, rate)
    spec = ms.parse_path(path)
    n = data.draw(st.integers(1, 30))
    t0 = data.draw(st.floats(0, 4e6))
    t = t0 + np.arange(n) / rate
    arrays = {k: data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-1e3, 1e3, width=32))) for k in spec.arrays}
    notes = ms.packetize(t, ref=17, path=path, samples_per_packet=spp, **arrays)
    assert all(len(x) <= ms.DEFAULT_MAX_NOTIFICATION for x in notes)
    dec = ms.MovesenseDecoder()
    dec.subscribe(17, path, expected_samples=None if n % spp else spp)
    out = [p for p in (dec.decode(x) for x in notes) if p is not None]
    assert sum(p.n for p in out) == n
    for k, a in arrays.items():
        got = np.concatenate([getattr(p, k) for p in out])
        np.testing.assert_allclose(got, a.astype(np.float32).astype(np.float64), rtol=1e-6, atol=1e-9)
    t_out = np.concatenate([p.t_s for p in out])
    assert np.all(np.abs(t_out - t) <= 0.0005 + 1e-9)  # the wire carries whole milliseconds


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2, 3, 4, 5]), st.sampled_from([1, 2, 3, 7]), st.binary(max_size=200)), max_size=6))
def test_fuzz_decoder_raises_only_decode_error(notes):
    dec = ms.MovesenseDecoder()
    dec.subscribe(1, "/Meas/IMU6/104")
    dec.subscribe(2, "/Meas/IMU9/52")
    dec.subscribe(3, "/Meas/Acc/13", expected_samples=2)
    for code, ref, body in notes:
        try:
            p = dec.decode(bytes([code, ref]) + body)
        except DecodeError as e:
            assert e.reason in REASONS
        else:
            assert p is None or (isinstance(p, Packet) and p.n >= 1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_raw_bytes(data):
    dec = ms.MovesenseDecoder()
    dec.subscribe(2, "/Meas/IMU9/104")
    for fn in (dec.decode, ms.parse_command, ms.parse_command_result):
        try:
            fn(data)
        except DecodeError as e:
            assert e.reason in REASONS

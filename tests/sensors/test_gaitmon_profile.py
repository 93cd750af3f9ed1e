"""gaitmon IMU profile v1: the documented worked example, round trips, rejections, fuzzing."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gaitmon.sensors import REASONS, DecodeError, Packet, seq_delta
from gaitmon.sensors import gaitmon_profile as gp

DOC = Path(__file__).resolve().parents[2] / "docs" / "ble-profile.md"

# The worked example of docs/ble-profile.md §5.
CONFIG_HEX = "01 c8 00 10 d0 07 fd 02 67 61 69 74 6d 6f 6e 2d 72 65 66 00 00 00 00 00"
PACKET_HEX = (
    "01 03 34 12 40 42 0f 00 88 13 02 00 "
    "00 00 00 08 00 00 5e 00 00 00 a2 ff "
    "00 fe 00 10 ff 7f e8 03 18 fc 00 00"
)
CFG = gp.GaitmonConfig(rate_hz=200, acc_range_g=16, gyro_range_dps=2000, forward="-z", up="+y", model="gaitmon-ref")
G = 9.80665


def test_uuids_are_the_agreed_ones():
    assert gp.SERVICE_UUID == "b8c10001-6761-6974-6d6f-6e494d550001"
    assert gp.DATA_UUID == "b8c10002-6761-6974-6d6f-6e494d550001"
    assert gp.CONFIG_UUID == "b8c10003-6761-6974-6d6f-6e494d550001"
    assert gp.CONTROL_UUID == "b8c10004-6761-6974-6d6f-6e494d550001"


def test_worked_example_config_decodes_to_documented_values():
    cfg = gp.decode_config(bytes.fromhex(CONFIG_HEX))
    assert cfg == CFG
    assert gp.encode_config(CFG) == bytes.fromhex(CONFIG_HEX)


def test_worked_example_packet_decodes_to_documented_values():
    p = gp.decode_packet(bytes.fromhex(PACKET_HEX), CFG)
    assert p.kind == "gaitmon" and p.seq == 0x1234 and p.n == 2
    np.testing.assert_allclose(p.t_s, [1.000, 1.005], rtol=0, atol=1e-12)
    a = 16 * G / 32768
    w = 2000 * math.pi / 180 / 32768
    np.testing.assert_allclose(p.acc, np.array([[0, 2048, 0], [-512, 4096, 32767]]) * a, rtol=1e-12)
    np.testing.assert_allclose(p.gyr, np.array([[94, 0, -94], [1000, -1000, 0]]) * w, rtol=1e-12)
    assert p.acc[0, 1] == pytest.approx(G)  # 1 g specific force on +y
    assert p.saturated.tolist() == [False, True]
    # the rounded values printed in the document
    np.testing.assert_allclose(p.acc[1], [-2.451662, 19.6133, 156.901612], atol=1e-6)
    np.testing.assert_allclose(p.gyr[0], [0.100135, 0, -0.100135], atol=1e-6)
    np.testing.assert_allclose(p.gyr[1], [1.065264, -1.065264, 0], atol=1e-6)


def test_document_shows_the_bytes_the_tests_use():
    text = DOC.read_text(encoding="utf-8")
    assert CONFIG_HEX in text
    blocks = re.findall(r"```\n((?:[0-9a-f]{2} ?)+(?:\n(?:[0-9a-f]{2} ?)+)*)\n```", text)
    assert " ".join(PACKET_HEX.split()) in [" ".join(b.split()) for b in blocks]
    for uuid in (gp.SERVICE_UUID, gp.DATA_UUID, gp.CONFIG_UUID, gp.CONTROL_UUID):
        assert uuid in text
    assert gp.control_set_rate(200).hex(" ") in text and gp.control_set_ranges(16, 2000).hex(" ") in text


def test_control_commands():
    assert gp.control_start() == b"\x01"
    assert gp.control_stop() == b"\x02"
    assert gp.control_set_rate(200) == bytes([3, 0xC8, 0])
    assert gp.control_set_ranges(16, 2000) == bytes([4, 16, 0xD0, 0x07])
    assert gp.decode_control(gp.control_set_rate(104)) == gp.ControlCommand(gp.OP_SET_RATE, rate_hz=104)
    assert gp.decode_control(gp.control_set_ranges(8, 500)) == gp.ControlCommand(
        gp.OP_SET_RANGES, acc_range_g=8, gyro_range_dps=500
    )
    assert gp.decode_control(b"\x01").op == gp.OP_START
    with pytest.raises(ValueError):
        gp.control_set_rate(10)  # dt_us would not fit u16
    for bad, reason in [
        (b"", "truncated"),
        (b"\x09", "unknown_frame_type"),
        (b"\x03\xc8", "truncated"),
        (b"\x01\x00", "bad_length"),
        (b"\x03\x00\x00", "bad_field"),
        (b"\x04\x00\xd0\x07", "bad_field"),
    ]:
        with pytest.raises(DecodeError) as e:
            gp.decode_control(bad)
        assert e.value.reason == reason


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "truncated"),
        (bytes.fromhex(PACKET_HEX)[:11], "truncated"),  # header cut
        (bytes.fromhex(PACKET_HEX)[:-1], "truncated"),  # last sample cut
        (bytes.fromhex(PACKET_HEX) + b"\x00", "bad_length"),  # oversized
        (bytes.fromhex(PACKET_HEX) + bytes(12), "bad_length"),  # one sample more than n
        (b"\x02" + bytes.fromhex(PACKET_HEX)[1:], "bad_version"),
        (b"\x00" + bytes.fromhex(PACKET_HEX)[1:], "bad_version"),
    ],
)
def test_malformed_packets_are_rejected_with_reason(data, reason):
    with pytest.raises(DecodeError) as e:
        gp.decode_packet(data, CFG)
    assert e.value.reason == reason


def test_sample_count_outside_1_to_19_is_rejected():
    base = bytearray(bytes.fromhex(PACKET_HEX))
    base[10] = 0
    with pytest.raises(DecodeError) as e:
        gp.parse_packet(bytes(base[:12]))
    assert e.value.reason == "bad_length"
    big = bytearray(12 + 20 * 12)
    big[0], big[8], big[10] = 1, 0x88, 20
    with pytest.raises(DecodeError) as e:
        gp.parse_packet(bytes(big))
    assert e.value.reason == "bad_length"
    with pytest.raises(ValueError):
        gp.encode_packet_raw(seq=0, t_first_us=0, dt_us=5000, raw=np.zeros((20, 6), int))


def test_zero_interval_is_rejected():
    b = bytearray(bytes.fromhex(PACKET_HEX))
    b[8] = b[9] = 0
    with pytest.raises(DecodeError) as e:
        gp.decode_packet(bytes(b), CFG)
    assert e.value.reason == "bad_field"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "truncated"),
        (bytes.fromhex(CONFIG_HEX)[:-1], "truncated"),
        (bytes.fromhex(CONFIG_HEX) + b"\x00", "bad_length"),
        (b"\x02" + bytes.fromhex(CONFIG_HEX)[1:], "bad_version"),
        (bytes.fromhex(CONFIG_HEX.replace("fd 02", "03 fd")), "bad_field"),  # forward and up on the z axis
        (bytes.fromhex(CONFIG_HEX.replace("fd 02", "07 02")), "bad_field"),  # axis code 7
        (bytes.fromhex(CONFIG_HEX.replace("01 c8 00", "01 00 00")), "bad_field"),  # rate 0
        (bytes.fromhex(CONFIG_HEX.replace("67 61 69", "ff fe 69")), "bad_field"),  # model not UTF-8
    ],
)
def test_malformed_config_is_rejected(data, reason):
    with pytest.raises(DecodeError) as e:
        gp.decode_config(data)
    assert e.value.reason == reason


def test_decoder_needs_config_and_unwraps_the_clock_and_reports_wire_seq():
    dec = gp.GaitmonProfileDecoder()
    pkt = gp.encode_packet(seq=65535, t_first_us=2**32 - 2500, acc=np.zeros((2, 3)), gyr=np.zeros((2, 3)), config=CFG)
    with pytest.raises(DecodeError) as e:
        dec.decode(pkt)
    assert e.value.reason == "not_configured"
    dec.set_config_bytes(bytes.fromhex(CONFIG_HEX))
    p1 = dec.decode(pkt)
    # next packet: seq wrapped to 0, clock wrapped past 2**32
    p2 = dec.decode(gp.encode_packet(seq=0, t_first_us=7500, acc=np.zeros((2, 3)), gyr=None, config=CFG))
    assert (p1.seq, p2.seq) == (65535, 0)
    assert seq_delta(p1.seq, p2.seq) == 1
    np.testing.assert_allclose(p1.t_s, [(2**32 - 2500) * 1e-6, (2**32 + 2500) * 1e-6])
    np.testing.assert_allclose(p2.t_s, [(2**32 + 7500) * 1e-6, (2**32 + 12500) * 1e-6])
    assert p2.gyr is None  # flags bit0 clear
    # the stateless function keeps the raw (wrapped) clock
    assert gp.decode_packet(gp.encode_packet(seq=0, t_first_us=7500, acc=np.zeros((1, 3)), gyr=None, config=CFG), CFG).t_s[0] == pytest.approx(0.0075)
    dec.reset()
    assert dec.decode(pkt).t_s[0] == pytest.approx((2**32 - 2500) * 1e-6)


def test_encoding_clips_out_of_range_values_and_flags_them():
    acc = np.array([[0.0, 0.0, 20 * G], [0.0, 0.0, 1.0]])
    gyr = np.array([[0.0, 0.0, 0.0], [-50.0, 0.0, 0.0]])
    b = gp.encode_packet(seq=1, t_first_us=0, acc=acc, gyr=gyr, config=CFG)
    assert b[1] & gp.FLAG_SATURATED
    p = gp.decode_packet(b, CFG)
    assert p.saturated.tolist() == [True, True]
    assert p.acc[0, 2] == pytest.approx(32767 * CFG.acc_scale)
    assert p.gyr[1, 0] == pytest.approx(-32768 * CFG.gyro_scale)
    ok = gp.encode_packet(seq=1, t_first_us=0, acc=acc[1:], gyr=np.zeros((1, 3)), config=CFG)
    assert not ok[1] & gp.FLAG_SATURATED
    with pytest.raises(ValueError):
        gp.encode_packet(seq=1, t_first_us=0, acc=[[np.nan, 0, 0]], gyr=None, config=CFG)


_ranges = st.tuples(st.sampled_from([2, 4, 8, 16, 32]), st.sampled_from([125, 250, 500, 1000, 2000, 4000]))


@settings(max_examples=300, deadline=None)
@given(
    ranges=_ranges,
    n=st.integers(1, gp.MAX_SAMPLES),
    data=st.data(),
    seq=st.integers(0, 2**20),
    t_first=st.integers(0, 2**40),
    with_gyro=st.booleans(),
)
def test_round_trip_of_arbitrary_samples(ranges, n, data, seq, t_first, with_gyro):
    acc_g, gyro_dps = ranges
    cfg = gp.GaitmonConfig(rate_hz=208, acc_range_g=acc_g, gyro_range_dps=gyro_dps)
    lim_a = 1.2 * acc_g * G
    lim_w = 1.2 * gyro_dps * math.pi / 180
    acc = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-lim_a, lim_a)))
    gyr = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-lim_w, lim_w))) if with_gyro else None
    b = gp.encode_packet(seq=seq, t_first_us=t_first, acc=acc, gyr=gyr, config=cfg)
    assert len(b) == 12 + 12 * n
    p = gp.decode_packet(b, cfg)
    assert p.seq == seq % 65536 and p.n == n
    np.testing.assert_allclose(p.t_s, (t_first % 2**32) * 1e-6 + np.arange(n) * cfg.dt_us * 1e-6)
    # inside the range: error at most half a count; outside: clipped and flagged
    a_full = 32767 * cfg.acc_scale
    inside = np.all((acc > -a_full) & (acc < a_full), axis=1)
    assert np.all(np.abs(p.acc - acc)[inside] <= cfg.acc_scale / 2 + 1e-9)
    sat_expected = ~inside
    if with_gyro:
        w_full = 32767 * cfg.gyro_scale
        g_in = np.all((gyr > -w_full) & (gyr < w_full), axis=1)
        assert np.all(np.abs(p.gyr - gyr)[g_in] <= cfg.gyro_scale / 2 + 1e-9)
        sat_expected |= ~g_in
        # values just under full scale can round to the limit count: those are flagged too
        assert np.all(p.saturated[sat_expected])
    else:
        assert p.gyr is None
        assert np.all(p.saturated[sat_expected])
    assert bool(b[1] & gp.FLAG_SATURATED) == bool(p.saturated.any())


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=260))
def test_fuzz_decoders_raise_only_decode_error(data):
    dec = gp.GaitmonProfileDecoder(CFG)
    for fn in (dec.decode, gp.decode_config, gp.decode_control, lambda d: gp.decode_packet(d, CFG)):
        try:
            out = fn(data)
        except DecodeError as e:
            assert e.reason in REASONS
        else:
            assert out is not None


@settings(max_examples=300, deadline=None)
@given(st.integers(1, gp.MAX_SAMPLES), st.data())
def test_fuzz_valid_headers_with_random_payload(n, data):
    """Structure-aware fuzzing: a plausible header, random lengths and contents."""
    payload = data.draw(st.binary(min_size=0, max_size=12 * n + 24))
    flags = data.draw(st.integers(0, 255))
    header = bytes([1, flags]) + data.draw(st.binary(min_size=8, max_size=8)) + bytes([n, data.draw(st.integers(0, 255))])
    try:
        p = gp.decode_packet(header + payload, CFG)
    except DecodeError as e:
        assert e.reason in {"truncated", "bad_length", "bad_field"}
        assert len(payload) != 12 * n or header[8:10] == b"\x00\x00"
    else:
        assert isinstance(p, Packet) and p.n == n and len(payload) == 12 * n
        assert np.all(np.abs(p.acc) <= 32768 * CFG.acc_scale)
        assert (p.gyr is None) == (not flags & 1)


def test_packetize_splits_at_gaps_and_wraps_seq():
    rate = 200
    t = np.concatenate([np.arange(25) / rate, 1.0 + np.arange(7) / rate])  # a 0.875 s gap after sample 24
    rng = np.random.default_rng(3)
    acc = rng.normal(0, 20, (t.size, 3))
    gyr = rng.normal(0, 3, (t.size, 3))
    pkts = gp.packetize(t, acc, gyr, rate, 16, 2000, samples_per_packet=10, seq_start=65534)
    raws = [gp.parse_packet(b) for b in pkts]
    assert [r.n for r in raws] == [10, 10, 5, 7]
    assert [r.seq for r in raws] == [65534, 65535, 0, 1]
    assert [r.t_first_us for r in raws] == [0, 50000, 100000, 1000000]
    dec = gp.GaitmonProfileDecoder(gp.GaitmonConfig(rate_hz=rate, acc_range_g=16, gyro_range_dps=2000))
    out = [dec.decode(b) for b in pkts]
    t_out = np.concatenate([p.t_s for p in out])
    np.testing.assert_allclose(t_out, t, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([p.acc for p in out]), acc, atol=16 * G / 32768)
    np.testing.assert_allclose(np.concatenate([p.gyr for p in out]), gyr, atol=2000 * math.pi / 180 / 32768)
    # default batching: about 20 packets per second, within the 19-sample limit
    assert all(gp.parse_packet(b).n == 10 for b in gp.packetize(np.arange(40) / 200, np.zeros((40, 3)), None, 200))
    assert gp.packetize(np.zeros(0), np.zeros((0, 3)), None, 200) == []


def test_packetize_wraps_the_microsecond_clock():
    t = 4294.9 + np.arange(40) / 100  # crosses 2**32 µs = 4294.967296 s
    pkts = gp.packetize(t, np.zeros((40, 3)), np.zeros((40, 3)), 100, samples_per_packet=5)
    dec = gp.GaitmonProfileDecoder(gp.GaitmonConfig(rate_hz=100, acc_range_g=16, gyro_range_dps=2000))
    t_out = np.concatenate([dec.decode(b).t_s for b in pkts])
    assert any(gp.parse_packet(b).t_first_us < 1_000_000 for b in pkts)  # the wire value wrapped
    np.testing.assert_allclose(t_out, t, atol=1e-6)  # the decoder unwrapped it


def test_config_validation():
    with pytest.raises(ValueError):
        gp.GaitmonConfig(rate_hz=200, acc_range_g=16, gyro_range_dps=2000, forward="+z", up="-z")
    with pytest.raises(ValueError):
        gp.GaitmonConfig(rate_hz=200, acc_range_g=16, gyro_range_dps=2000, model="x" * 17)
    assert gp.axis_code("-Y") == -2 and gp.axis_name(3) == "+z"

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


# ====================================================================== Message Service (§5)
# Published vectors: XD0506P rev C §5.2.1 "Recording message usage" examples (hex as printed
# there, spaces removed). The StartRecording example (and its acknowledge) does not sum to 0 in
# the copy we read: the printed checksums E0 / DD are 4 below E4 / E1 (see the erratum test).
SPEC_GET_STATE = "010102FC"
SPEC_GET_STATE_ACK = "0103010602F3"
SPEC_START_30MIN = "010740DF503B5B0807E0"
SPEC_START_30MIN_ACK = "0109010040DF503B5B0807DD"
SPEC_STOP = "010141BD"
SPEC_STOP_ACK = "0103010041BA"
SPEC_REQ_FILE_INFO_1 = "010260019C"
SPEC_REQ_FILE_INFO_1_ACK = "01040100600199"
SPEC_FILE_INFO_DONE = "0101629C"
SPEC_SELECT = "010974000105060708090A54"
SPEC_SELECT_ACK = "010B010074000105060708090A51"
SPEC_REQ_FILE_DATA_7 = "0102700786"
SPEC_REQ_FILE_DATA_7_ACK = "01040100700783"
# the first bytes of the two ExportFileData notifications printed in the example (the rest is
# elided with "..." there): MID 01, LEN 0x55, ReID 71, DataNumber, then timestamp, quaternion w
SPEC_EXPORT_PREFIX = ["01557100000000" "75A766A81A3D643E", "01557101000000" "90E866A84BA7673E"]
SPEC_FILE_INFO_PREFIX = "018161" "6F636552" "80000000" "0001"
SPEC_SELECTION = (0x00, 0x01, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A)

H = bytes.fromhex
Q = dot.ExportQuantity


def _complete(prefix_hex: str) -> bytes:
    """A message whose printed prefix is completed with zeros up to LEN and a valid checksum."""
    b = bytearray(H(prefix_hex))
    b += bytes(b[1] + 2 - len(b))
    return bytes(b) + bytes([dot.message_checksum(b)])


def test_message_service_uuids():
    assert dot.MESSAGE_SERVICE_UUID == "15177000-4947-11e9-8646-d663bd873d93"
    assert dot.MESSAGE_CONTROL_UUID == "15177001-4947-11e9-8646-d663bd873d93"  # as bleHandler.js
    assert dot.MESSAGE_ACK_UUID == "15177002-4947-11e9-8646-d663bd873d93"
    assert dot.MESSAGE_NOTIFICATION_UUID == "15177003-4947-11e9-8646-d663bd873d93"


def test_published_control_messages():
    assert dot.get_state_message() == H(SPEC_GET_STATE)
    assert dot.stop_recording_message() == H(SPEC_STOP)
    assert dot.request_file_info_message(1) == H(SPEC_REQ_FILE_INFO_1)
    assert dot.request_file_data_message(7) == H(SPEC_REQ_FILE_DATA_7)
    assert dot.select_export_data_message(SPEC_SELECTION) == H(SPEC_SELECT)
    # xsens_dot_server's sync example "02 07 01 [C9 7A 28 3F F0 DB] 81": same framing, checksum
    assert dot.encode_message(0x02, H("01C97A283FF0DB")) == H("020701C97A283FF0DB81")


def test_published_acknowledges():
    a = dot.decode_recording_ack(H(SPEC_GET_STATE_ACK))
    assert (a.result, a.command, a.command_data) == (dot.RecResult.IDLE, dot.RecId.GET_STATE, b"")
    assert not a.ok and a.result_name == "IDLE"
    for ack, cmd in [(SPEC_STOP_ACK, SPEC_STOP), (SPEC_REQ_FILE_INFO_1_ACK, SPEC_REQ_FILE_INFO_1),
                     (SPEC_SELECT_ACK, SPEC_SELECT), (SPEC_REQ_FILE_DATA_7_ACK, SPEC_REQ_FILE_DATA_7)]:
        a = dot.decode_recording_ack(H(ack))
        assert a.ok and a.result_name == "SUCCESS"
        m = dot.decode_recording_message(H(cmd))
        assert (a.command, a.command_data) == (m.id, m.payload)
        assert dot.encode_recording_ack(0, H(cmd)) == H(ack)
    # the acknowledge characteristic is 160 bytes long: trailing bytes are ignored
    assert dot.decode_recording_ack(H(SPEC_STOP_ACK) + bytes(154)).ok


def test_published_start_recording_and_its_checksum_erratum():
    msg = dot.start_recording_message(0x5B3B50DF, 1800)  # 2018-07-03 10:33:03 UTC, 30 min
    assert msg[:-1] == H(SPEC_START_30MIN)[:-1]
    assert sum(msg) % 256 == 0 and msg[-1] == 0xE4  # the printed E0 does not sum to 0
    with pytest.raises(dot.MessageChecksumError) as e:
        dot.decode_message(H(SPEC_START_30MIN))
    assert e.value.reason == "bad_field"
    fixed = H(SPEC_START_30MIN_ACK)[:-1] + bytes([0xE1])
    a = dot.decode_recording_ack(fixed)
    assert a.ok and a.command == dot.RecId.START_RECORDING
    assert struct.unpack("<IH", a.command_data) == (0x5B3B50DF, 1800)
    assert dot.start_recording_message(1, None)[-3:-1] == b"\xff\xff"  # no timer
    for bad in (0, 0xFFFF, -1):
        with pytest.raises(ValueError):
            dot.start_recording_message(1, bad)


def test_published_notifications():
    m = dot.decode_recording_message(H(SPEC_FILE_INFO_DONE))
    assert m.id == dot.RecId.EXPORT_FILE_INFO_DONE and m.payload == b""
    fi = dot.decode_file_info(dot.decode_recording_message(_complete(SPEC_FILE_INFO_PREFIX)).payload)
    assert fi.header_size == 128 and fi.revision == (1, 0)
    p0, p1 = (dot.decode_recording_message(_complete(x)) for x in SPEC_EXPORT_PREFIX)
    assert len(p0.data) == 0x55 == 1 + 4 + dot.export_packet_size(SPEC_SELECTION)  # the layout fits LEN
    n0, v0 = dot.decode_export_data(p0.payload, SPEC_SELECTION)
    n1, v1 = dot.decode_export_data(p1.payload, SPEC_SELECTION)
    assert (n0, n1) == (0, 1)
    assert v1[Q.TIMESTAMP][0] - v0[Q.TIMESTAMP][0] == 16667  # 60 Hz, µs
    assert v0[Q.QUATERNION][0] == pytest.approx(0.22289, abs=1e-5)
    assert v1[Q.QUATERNION][0] == pytest.approx(0.22622, abs=1e-5)


def test_other_encoders_and_decoders():
    assert dot.decode_recording_message(dot.erase_flash_message(0x01020304)).payload == H("04030201")
    assert dot.decode_recording_message(dot.retransmission_message(258)).data == H("7502010000")
    for f in (dot.request_recording_time_message, dot.request_flash_info_message, dot.stop_export_message):
        assert len(f()) == 4 and sum(f()) % 256 == 0
    with pytest.raises(ValueError):
        dot.request_file_info_message(0)
    with pytest.raises(ValueError):
        dot.request_file_data_message(255)
    with pytest.raises(ValueError):
        dot.select_export_data_message([7, 0])  # not ascending
    with pytest.raises(ValueError):
        dot.select_export_data_message([0, 3])  # 0x03 is no export quantity
    rt = dot.decode_recording_time(struct.pack("<IHH", 1_700_000_000, 600, 42))
    assert rt == dot.RecordingTime(1_700_000_000, 600, 42)
    assert dot.decode_recording_time(struct.pack("<IHH", 5, 0xFFFF, 0xFFFF)).total_s is None
    hdr = struct.pack("<IIBBIII", dot.FLASH_INFO_MAGIC, 4096, 0, 2, 1_700_000_000, 1 << 25, 512) + bytes(106)
    fl = dot.decode_flash_info(hdr)
    assert fl.revision == (2, 0) and fl.space_size == 1 << 25 and fl.file_indicators_size == 512
    assert dot.decode_flash_info(hdr[:8] + b"\x00\x01" + hdr[10:]).file_indicators_size is None
    # Table 28's example: two files, 1 and 2 sectors
    assert dot.decode_file_indicators(H("EECCEECCCC") + b"\xff" * 10) == [1, 2]
    for bad, reason in [(b"\xcc", "bad_field"), (b"\xee\x12", "bad_field")]:
        with pytest.raises(DecodeError) as e:
            dot.decode_file_indicators(bad)
        assert e.value.reason == reason
    with pytest.raises(DecodeError):
        dot.decode_flash_info(b"Flas" + bytes(20))  # magic is little-endian 0x466C6173


@pytest.mark.parametrize("raw,reason", [
    (b"\x01\x01", "truncated"),
    (H("01050200"), "truncated"),  # LEN 5, 4 bytes
    (b"\x01\xa0" + bytes(170), "bad_length"),  # LEN 160 > 157
    (H("010102FD"), "bad_field"),  # checksum
])
def test_malformed_messages(raw, reason):
    with pytest.raises(DecodeError) as e:
        dot.decode_message(raw)
    assert e.value.reason == reason


def test_ack_and_export_rejections():
    with pytest.raises(DecodeError) as e:
        dot.decode_recording_ack(H(SPEC_FILE_INFO_DONE))  # a notification, not an ack
    assert e.value.reason == "unknown_frame_type"
    with pytest.raises(DecodeError) as e:
        dot.decode_recording_ack(dot.encode_message(2, H("0300")))  # a sync message
    assert e.value.reason == "unknown_frame_type"
    good = dot.encode_export_data(3, {Q.TIMESTAMP: 10, Q.ACCELERATION: (1, 2, 3), Q.ANGULAR_VELOCITY: (4, 5, 6)})
    payload = dot.decode_recording_message(good).payload
    with pytest.raises(DecodeError) as e:
        dot.decode_export_data(payload + b"\x00")
    assert e.value.reason == "bad_length"
    with pytest.raises(DecodeError) as e:
        dot.decode_export_data(payload, SPEC_SELECTION)
    assert e.value.reason == "truncated"


def test_export_decoder_packets_and_clock_wrap():
    d = dot.DotExportDecoder()
    mk = lambda n, t, a, g: dot.encode_export_data(n, {Q.TIMESTAMP: t, Q.ACCELERATION: a, Q.ANGULAR_VELOCITY: g})
    p = d.decode(mk(0, 2**32 - 10_000, (0.5, 9.8, 0.1), (90, 0, -180)))
    q = d.decode(mk(1, 6_667, (0, 0, 9.8), (0, 0, 0)))
    assert p.seq == 0 and q.seq == 1 and p.n == 1
    np.testing.assert_allclose(p.acc[0], [0.5, 9.8, 0.1], rtol=1e-6)
    np.testing.assert_allclose(p.gyr[0], [math.pi / 2, 0, -math.pi], rtol=1e-6)
    assert q.t_s[0] - p.t_s[0] == pytest.approx(16_667e-6)
    assert d.decode(H(SPEC_FILE_INFO_DONE)) is None  # other recording messages: nothing
    nan = struct.pack("<f", float("nan"))
    bad = bytearray(mk(2, 1, (0, 0, 0), (0, 0, 0)))
    bad[11:15] = nan
    with pytest.raises(DecodeError) as e:
        d.decode(bytes(bad[:-1]) + bytes([dot.message_checksum(bad[:-1])]))
    assert e.value.reason == "bad_value"
    with pytest.raises(ValueError):
        dot.DotExportDecoder((Q.TIMESTAMP, Q.EULER))  # no acceleration / angular velocity
    # the sensor's default selection (timestamp, Euler, acc, gyr) decodes too, Euler skipped
    dd = dot.DotExportDecoder(dot.DEFAULT_EXPORT)
    r = dd.decode(dot.encode_export_data(7, {Q.TIMESTAMP: 5, Q.EULER: (10, 20, 30), Q.ACCELERATION: (1, 2, 3),
                                              Q.ANGULAR_VELOCITY: (0, 0, 57.29577951)}, dot.DEFAULT_EXPORT))
    np.testing.assert_allclose(r.acc[0], [1, 2, 3])
    np.testing.assert_allclose(r.gyr[0], [0, 0, 1], rtol=1e-6)


_DECODERS = [dot.decode_message, dot.decode_recording_message, dot.decode_recording_ack,
             dot.decode_recording_time, dot.decode_flash_info, dot.decode_file_indicators,
             dot.decode_file_info, dot.decode_export_data, dot.DotExportDecoder().decode,
             lambda b: dot.decode_export_data(b, SPEC_SELECTION)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=170), st.sampled_from(range(len(_DECODERS))))
def test_fuzz_message_decoders(data, k):
    try:
        _DECODERS[k](data)
    except DecodeError as e:
        assert e.reason in REASONS


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=157), st.integers(0, 40))
def test_fuzz_framed_messages(mid, data, junk):
    """Valid framing with random content: the recording decoders answer or raise DecodeError."""
    raw = dot.encode_message(mid, data) + bytes(junk)
    m = dot.decode_message(raw)
    assert (m.mid, m.data) == (mid, data)
    for f in _DECODERS[1:3] + [dot.DotExportDecoder().decode]:
        try:
            f(raw)
        except DecodeError as e:
            assert e.reason in REASONS
    flipped = bytearray(raw)
    flipped[min(2, len(data) + 1)] ^= 0x01
    with pytest.raises(DecodeError):
        dot.decode_message(bytes(flipped))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
       st.lists(st.floats(-1e6, 1e6, width=32), min_size=6, max_size=6))
def test_fuzz_export_round_trip(n, t, v):
    p = dot.DotExportDecoder().decode(dot.encode_export_data(
        n, {Q.TIMESTAMP: t, Q.ACCELERATION: tuple(v[:3]), Q.ANGULAR_VELOCITY: tuple(v[3:])}))
    assert p.seq == n and p.t_s[0] == pytest.approx(t * 1e-6)
    np.testing.assert_allclose(p.acc[0], v[:3], rtol=1e-6)
    np.testing.assert_allclose(p.gyr[0], np.radians(v[3:]), rtol=1e-6, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.one_of(st.none(), st.integers(1, 0xFFFE)), st.integers(1, 254),
       st.integers(0, 255))
def test_fuzz_command_ack_round_trip(utc, dur, idx, result):
    for cmd in (dot.start_recording_message(utc, dur), dot.request_file_data_message(idx),
                dot.erase_flash_message(utc), dot.get_state_message()):
        a = dot.decode_recording_ack(dot.encode_recording_ack(result, cmd))
        m = dot.decode_recording_message(cmd)
        assert (a.result, a.command, a.command_data) == (result, m.id, m.payload)

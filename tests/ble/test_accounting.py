"""StreamAccountant: exact packet/sample loss counts, wraps, duplicates, reconnects, resets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitmon.collector.accounting import Accepted, Rejected, StreamAccountant

DT = 0.005  # 200 Hz
N = 10  # samples per packet
WRAP = float(1 << 32) * 1e-6


def packet_times(i: int, t0: float = 100.0, wrap: float | None = None) -> np.ndarray:
    t = t0 + (i * N + np.arange(N)) * DT
    return np.mod(t, wrap) if wrap else t


@settings(max_examples=60, deadline=None)
@given(n_packets=st.integers(20, 400), seq0=st.integers(0, 65535),
       lost=st.sets(st.integers(1, 398), max_size=60))
def test_random_loss_is_counted_exactly(n_packets, seq0, lost):
    lost = {i for i in lost if i < n_packets - 1}
    acc = StreamAccountant(DT, seq_bits=16, clock_wrap_s=None)
    for i in range(n_packets):
        if i in lost:
            continue
        r = acc.accept((seq0 + i) & 0xFFFF, packet_times(i), arrival_mono=i * 0.05)
        assert isinstance(r, Accepted)
    assert acc.packets_lost == len(lost)
    assert acc.samples_lost == N * len(lost)
    assert acc.samples_accepted == N * (n_packets - len(lost))
    # one gap per run of consecutive lost packets
    runs = sum(1 for i in lost if i - 1 not in lost)
    assert len(acc.gaps) == runs
    assert all(g.cause == "packet_loss" and g.exact for g in acc.gaps)


def test_duplicate_and_out_of_order_rejected():
    acc = StreamAccountant(DT)
    assert isinstance(acc.accept(10, packet_times(0), 0.0), Accepted)
    assert isinstance(acc.accept(11, packet_times(1), 0.05), Accepted)
    assert acc.accept(11, packet_times(1), 0.06) == Rejected("duplicate")
    assert acc.accept(5, packet_times(-5), 0.07) == Rejected("out_of_order")
    r = acc.accept(12, packet_times(2), 0.1)
    assert isinstance(r, Accepted) and r.gap is None
    assert acc.packets_lost == 0 and acc.packets_accepted == 3


def test_time_gap_without_sequence_gap_is_a_sensor_pause():
    acc = StreamAccountant(DT)
    acc.accept(0, packet_times(0), 0.0)
    r = acc.accept(1, packet_times(5), 0.3)  # seq continuous, 40 samples missing
    assert r.gap.cause == "sensor_pause" and r.gap.samples_lost == 40 and r.gap.packets_lost == 0
    assert acc.packets_lost == 0 and acc.samples_lost == 40


def test_sequence_wrap_with_long_loss():
    acc = StreamAccountant(DT)
    acc.accept(65530, packet_times(0), 0.0)
    r = acc.accept(3, packet_times(9), 0.5)  # 65531..2 lost = 8 packets
    assert r.gap.packets_lost == 8 and r.gap.samples_lost == 80


def test_loss_longer_than_the_sequence_period_uses_time():
    acc = StreamAccountant(DT)
    acc.accept(100, packet_times(0), 0.0)
    k = 65536 + 7  # more packets lost than the 16-bit counter can tell
    r = acc.accept((100 + k + 1) & 0xFFFF, packet_times(k + 1), 4000.0)
    assert r.gap.packets_lost == k and r.gap.samples_lost == N * k


def test_reconnect_with_clock_wrap_and_fresh_decoder():
    """After a reconnect the decoder restarts from the raw wrapped clock; the accountant puts
    the packet back on the continuous session clock using the sequence numbers."""
    acc = StreamAccountant(DT, clock_wrap_s=WRAP)
    t0 = WRAP - 3.0
    for i in range(100):  # the old decoder unwrapped past 2**32 us
        acc.accept(i, packet_times(i, t0), i * 0.05)
    assert acc._last_t > WRAP
    acc.mark_reconnect()
    # 37 packets lost during the outage; fresh decoder -> raw wrapped times; host time says
    # much less time passed (e.g. replay faster than real time): seq decides
    i = 100 + 37
    r = acc.accept(i, packet_times(i, t0, wrap=WRAP), arrival_mono=100 * 0.05 + 0.2)
    assert isinstance(r, Accepted)
    assert r.gap.cause == "link_loss" and r.gap.packets_lost == 37 and r.gap.samples_lost == 370
    assert r.t_sensor[0] == pytest.approx(t0 + i * N * DT)
    nxt = acc.accept(i + 1, packet_times(i + 1, t0, wrap=WRAP), 10.0)
    assert nxt.gap is None and np.all(np.diff(np.r_[r.t_rec, nxt.t_rec]) > 0)


def test_sensor_clock_reset_is_reanchored_and_estimated():
    acc = StreamAccountant(DT, clock_wrap_s=WRAP)
    for i in range(50):
        acc.accept(1000 + i, packet_times(i, 500.0), i * 0.05)
    acc.mark_reconnect()
    # the sensor rebooted: clock and sequence restart from 0; 3 s of host time passed
    r = acc.accept(0, packet_times(0, 0.0), 49 * 0.05 + 3.0)
    assert r.gap.cause == "clock_reset" and not r.gap.exact and r.gap.packets_lost is None
    assert r.gap.samples_lost == pytest.approx(3.0 / DT, abs=2)
    assert acc.clock_resets == 1 and r.t_rec[0] > acc.gaps[0].t_before_s
    nxt = acc.accept(1, packet_times(1, 0.0), 49 * 0.05 + 3.05)
    assert nxt.gap is None


def test_overlapping_timestamps_rejected():
    acc = StreamAccountant(DT)
    acc.accept(0, packet_times(0), 0.0)
    bad = packet_times(1) - 0.02  # overlaps the previous packet
    assert acc.accept(1, bad, 0.05) == Rejected("time_overlap")


@pytest.mark.parametrize("speed", [1.0, 8.0])
def test_device_paused_during_link_loss(speed):
    """The device stops transmitting on disconnection (its clock runs on): after the
    reconnect the sequence continues and only the time gap tells the lost samples. Host time
    places the packet, scaled by the stream's measured rate (8x for a sped-up replay)."""
    acc = StreamAccountant(DT, clock_wrap_s=WRAP)

    def host(i):  # arrival of packet i (its last sample) on the host clock
        return (i * N + N - 1) * DT / speed + 0.01

    for i in range(100):
        acc.accept(i, packet_times(i, 0.0, wrap=WRAP), host(i))
    acc.mark_reconnect()
    k = 100 + 60  # 60 packets' worth of sensor time passed without transmission
    r = acc.accept(100, packet_times(k, 0.0, wrap=WRAP), host(k) + 0.02)
    assert r.gap.cause == "link_loss" and r.gap.exact
    assert r.gap.packets_lost == 0 and r.gap.samples_lost == 60 * N
    assert acc.clock_resets == 0 and acc._rate == pytest.approx(speed, rel=0.01)

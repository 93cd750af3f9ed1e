"""ClockMapper: sensor clock -> UTC with drift estimation from arrival times."""

from __future__ import annotations

import numpy as np
import pytest

from gaitmon.collector.clock import ClockMapper, HostClock

UTC0 = 1.75e9


def feed(mapper, *, drift_ppm, duration_s, rate_pps=20.0, seed=0, latency_mean=0.015,
         offset=UTC0, t0=300.0, congested=()):
    """Packets stamped on a sensor clock that runs ``drift_ppm`` slow vs the host; arrival =
    true time + a random BLE latency (>= 7.5 ms connection interval, exponential tail)."""
    rng = np.random.default_rng(seed)
    ts = t0 + np.arange(0, duration_s, 1.0 / rate_pps)
    lat = 0.0075 + rng.exponential(latency_mean, len(ts))
    for a, b in congested:  # windows where every packet is late by 0.2-0.5 s
        m = (ts - t0 >= a) & (ts - t0 < b)
        lat[m] += rng.uniform(0.2, 0.5, m.sum())
    arrival = offset + ts + drift_ppm * 1e-6 * (ts - t0) + lat
    for t, a in zip(ts, arrival):
        mapper.add(t, a)
    return ts


@pytest.mark.parametrize("drift_ppm", [-80.0, 0.0, 45.0])
def test_drift_estimated_within_a_few_ppm(drift_ppm):
    m = ClockMapper()
    ts = feed(m, drift_ppm=drift_ppm, duration_s=600.0, seed=int(drift_ppm) + 100)
    fit = m.fit()
    assert not fit.suspect
    assert fit.drift_ppm == pytest.approx(drift_ppm, abs=1.0)
    # the mapping follows the least-delayed packets: true time + ~7.5 ms minimum latency
    true = UTC0 + ts + drift_ppm * 1e-6 * (ts - 300.0)
    err = m.to_utc(ts) - true
    assert np.all(np.abs(err[len(err) // 10:] - 0.0075) < 0.004)


def test_congested_windows_do_not_bias_the_fit():
    m = ClockMapper()
    feed(m, drift_ppm=30.0, duration_s=600.0, congested=[(100, 130), (400, 460)], seed=7)
    assert m.fit().drift_ppm == pytest.approx(30.0, abs=1.0)


def test_before_enough_span_no_drift_is_claimed():
    m = ClockMapper(min_span_s=10.0)
    ts = feed(m, drift_ppm=50.0, duration_s=5.0)
    fit = m.fit()
    assert fit.drift == 0.0 and not fit.suspect
    assert m.to_utc(ts[-1]) == pytest.approx(UTC0 + ts[-1], abs=0.02)


def test_replay_faster_than_real_time_is_flagged_and_clamped():
    m = ClockMapper(max_drift_ppm=1000.0)
    # 8x replay: 8 sensor seconds arrive per host second
    for i in range(2000):
        t = 100.0 + i * 0.05
        m.add(t, UTC0 + i * 0.05 / 8.0)
    fit = m.fit()
    assert fit.suspect and fit.drift_ppm == pytest.approx(-1000.0)
    u = m.to_utc(np.array([100.0, 150.0, 199.0]))
    assert np.all(np.diff(u) > 0)


def test_non_finite_input_ignored_and_host_clock_monotonic():
    m = ClockMapper()
    m.add(float("nan"), UTC0)
    m.add(1.0, float("inf"))
    assert not m.ready
    h = HostClock()
    a = h.now_utc()
    b = h.now_utc()
    assert b >= a and abs(a - __import__("time").time()) < 1.0

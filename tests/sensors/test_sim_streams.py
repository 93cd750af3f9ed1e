"""Simulated runner -> the notifications each device family would send -> decoded samples.

Uses the project's gait simulator (with its clock error, a gap and dropped samples) and checks
that every decoder gives back the stream, to the precision its wire format carries.
"""

from __future__ import annotations

import numpy as np
import pytest

from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sensors import movesense as ms
from gaitmon.sensors import polar_pmd as pmd
from gaitmon.sensors import seq_delta
from gaitmon.sim import SimConfig, simulate

G = 9.80665


def _sim(fs):
    return simulate(
        SimConfig(activity="run", fs=fs, duration_s=6.0, stand_before_s=2.0, stand_after_s=1.0, seed=5,
                  gaps=((4.0, 0.4),), drop_rate=0.002)
    )


@pytest.fixture(scope="module")
def rec200():
    return _sim(200.0)


def test_gaitmon_profile_carries_the_simulated_run(rec200):
    rec = rec200
    assert np.abs(rec.acc).max() > 2 * G  # running impacts are in the stream
    pkts = gp.packetize(rec.time, rec.acc, rec.gyr, 200, 16, 2000, seq_start=65500)
    dec = gp.GaitmonProfileDecoder()
    dec.set_config_bytes(gp.encode_config(gp.GaitmonConfig(rate_hz=200, acc_range_g=16, gyro_range_dps=2000,
                                                           forward=rec.forward, up=rec.up, model="sim")))
    out = [dec.decode(b) for b in pkts]
    assert all(seq_delta(a.seq, b.seq) == 1 for a, b in zip(out, out[1:]))  # wraps 65535 -> 0 inside
    t = np.concatenate([p.t_s for p in out])
    acc = np.concatenate([p.acc for p in out])
    gyr = np.concatenate([p.gyr for p in out])
    assert t.shape == rec.time.shape
    # within a packet times follow dt_us = 5000; the simulated clock runs 50 ppm off -> µs-level
    assert np.abs(t - rec.time).max() < 10e-6
    assert np.abs(acc - rec.acc).max() <= 16 * G / 32768 / 2 + 1e-12
    assert np.abs(gyr - rec.gyr).max() <= 2000 * np.pi / 180 / 32768 / 2 + 1e-12
    # no packet spans the 0.4 s gap or a dropped sample
    for p in out:
        assert np.all(np.abs(np.diff(p.t_s) - 0.005) < 1e-6)


def test_movesense_imu6_carries_the_simulated_run():
    rec = _sim(104.0)
    notes = ms.packetize(rec.time, ref=11, path="/Meas/IMU6/104", acc=rec.acc, gyr=rec.gyr)
    dec = ms.MovesenseDecoder()
    dec.subscribe(11, "/Meas/IMU6/104")
    out = [p for p in map(dec.decode, notes) if p is not None]
    t = np.concatenate([p.t_s for p in out])
    assert t.shape == rec.time.shape
    assert np.abs(t - rec.time).max() < 0.6e-3  # whole-ms timestamps
    np.testing.assert_allclose(np.concatenate([p.acc for p in out]), rec.acc, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.concatenate([p.gyr for p in out]), rec.gyr, rtol=1e-6, atol=1e-6)


def test_polar_frames_carry_the_simulated_run_and_survive_a_lost_notification():
    rec = _sim(52.0)
    frames = pmd.packetize(rec.time, acc=rec.acc, gyr=rec.gyr, sample_rate=52, samples_per_frame=13)
    # lose one ACC frame in the middle of the run (a BLE notification that never arrived)
    acc_idx = [i for i, f in enumerate(frames) if f[0] == pmd.MeasurementType.ACC]
    lost = acc_idx[len(acc_idx) // 3]  # in the gait, before the simulated gap
    dec = pmd.PolarPmdDecoder()
    dec.set_sample_rate(pmd.MeasurementType.ACC, 52)
    dec.set_sample_rate(pmd.MeasurementType.GYRO, 52)
    dec.set_factor(pmd.MeasurementType.ACC, 0.24414062)
    dec.set_factor(pmd.MeasurementType.GYRO, 0.061)
    acc_p, gyr_p, lost_range = [], [], None
    k = 0  # index of the frame's first sample in the stream
    for i in range(0, len(frames), 2):  # ACC frame, then the GYRO frame of the same samples
        g = dec.decode(frames[i + 1])
        if i == lost:
            lost_range = (k, k + g.n)
        else:
            acc_p.append((k, dec.decode(frames[i])))
        gyr_p.append(g)
        k += g.n
    t0 = 700_000_000_000_000_000 * 1e-9
    t_g = np.concatenate([p.t_s for p in gyr_p]) - t0
    g = np.concatenate([p.gyr for p in gyr_p])
    assert t_g.shape == rec.time.shape
    # samples are timed from the previous frame (as the SDK does) or from 1/rate: µs from the
    # truth, except next to the 0.4 s gap and dropped samples, where a frame is spread evenly
    # or placed by the sample rate; never more than one sample interval off
    err = np.abs(t_g - rec.time)
    assert np.median(err) < 5e-6 and err.max() < 1 / 52
    assert np.abs(g - rec.gyr).max() <= 0.061 * np.pi / 180 / 2 + 1e-9
    assert lost_range is not None
    for k0, p in acc_p:
        truth = slice(k0, k0 + p.n)
        assert np.abs(p.acc - rec.acc[truth]).max() <= 0.24414062 * 9.80665e-3 / 2 + 1e-9
        assert np.abs(p.t_s - t0 - rec.time[truth]).max() < 1 / 52
    # the frame after the lost one: the gap guard timed it from the sample rate, not smeared
    after = next(p for k0, p in acc_p if k0 == lost_range[1])
    np.testing.assert_allclose(np.diff(after.t_s), 1 / 52, atol=1e-6)
    assert np.abs(after.t_s - t0 - rec.time[lost_range[1] : lost_range[1] + after.n]).max() < 1e-4

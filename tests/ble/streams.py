"""Simulated sensor streams for the BLE tests: packets in the open gaitmon profile + truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sim import SimConfig, SimRecording, simulate

WRAP_S = float(1 << 32) * 1e-6


@dataclass
class Stream:
    rec: SimRecording
    packets: list[bytes]
    n_per_packet: np.ndarray  # samples in each packet
    clock_start_s: float  # sensor clock of the first sample
    config: gp.GaitmonConfig

    def truth_rec_time(self, first_index: int = 0):
        """Truth (ic_t, side, drop, steady) with times on the recording clock (s since the
        first *received* sample), given the index of the first delivered packet."""
        tr = self.rec.truth
        t_first = self.rec.time[int(self.n_per_packet[:first_index].sum())] - self.rec.time[0]
        ic = np.asarray(tr.ic_t) - self.rec.time[0] - t_first
        return ic, np.asarray(tr.side), np.asarray(tr.pelvic_drop_deg), np.asarray(tr.steady)


def make_stream(*, fs: int, duration_s: float, seed: int, clock_start_s: float = 0.0,
                forward: str = "-z", up: str = "+y", drop_left: float = 7.0,
                drop_right: float = 4.0) -> Stream:
    rec = simulate(SimConfig(activity="run", fs=float(fs), duration_s=duration_s, seed=seed,
                             forward=forward, up=up, drop_left_deg=drop_left,
                             drop_right_deg=drop_right))
    t = rec.time - rec.time[0] + clock_start_s
    config = gp.GaitmonConfig(rate_hz=fs, acc_range_g=16, gyro_range_dps=2000, forward=forward,
                              up=up, model="gaitmon-sim")
    packets = gp.packetize(t, rec.acc, rec.gyr, fs, 16, 2000)
    n = np.array([p[10] for p in packets])  # header byte 10 = n
    assert n.sum() == len(t)
    return Stream(rec=rec, packets=packets, n_per_packet=n, clock_start_s=clock_start_s,
                  config=config)

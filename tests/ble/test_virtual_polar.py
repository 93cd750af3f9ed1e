"""A Polar PMD device (ACC + GYRO over the PMD control point, no sequence numbers) through
the collector: negotiation, factors, pairing, losses sized from timestamps, reconnect, truth."""

from __future__ import annotations

import numpy as np
import pytest

from gaitmon.collector.app import run_collect
from gaitmon.collector.config import CollectConfig, ConfigError
from gaitmon.collector.virtual import VirtualLink, VirtualPolarSensor
from gaitmon.pipeline.live import pipeline_factory
from gaitmon.sensors import polar_pmd as pmd
from gaitmon.sim import SimConfig
from tests.ble.truth import match_truth

RATE = 104
PER_FRAME = RATE // 4  # packetize: ~0.25 s of samples per frame


@pytest.fixture(scope="module")
def polar_run(tmp_path_factory):
    sim = SimConfig(activity="run", fs=208.0, duration_s=35.0, seed=51, forward="+x", up="+z",
                    drop_left_deg=7.0, drop_right_deg=4.5)
    sensor = VirtualPolarSensor("virtual:p1", "Polar Sense 1A2B3C4D", sim, bouts=1)
    # frames alternate ACC, GYRO for the same samples: 40 = an ACC frame, 81 = a GYRO frame
    link = VirtualLink(sensor, speed=25.0, loss_indices={40, 81}, drops=[(20.0, 2.0)], seed=3)
    cfg = CollectConfig.from_dict({
        "session": {"name": "polar"},
        "collector": {"reconnect_initial_s": 0.02, "reconnect_max_s": 0.05},
        "sensor": [{"name": "Polar Sense 1A2B3C4D", "runner": "hal", "kind": "polar",
                    "forward": "+x", "up": "+z", "rate_hz": RATE}],
    })
    result = run_collect(cfg, consumer=pipeline_factory(), out_dir=tmp_path_factory.mktemp("polar"),
                         virtual_links=[link])
    return result, link


def test_negotiation_and_stream(polar_run):
    result, link = polar_run
    st = result.statuses[0]
    assert st.kind == "polar" and st.sample_rate_hz == RATE
    assert link.sensor.sim.fs == RATE  # the requested rate was taken over
    writes = [w for w in link.stats.control_writes if w[0] == pmd.ControlPointOp.REQUEST_MEASUREMENT_START]
    assert {w[1] for w in writes} == {pmd.MeasurementType.ACC, pmd.MeasurementType.GYRO}
    settings = pmd.parse_settings(writes[0][2:])
    assert settings[pmd.SettingType.SAMPLE_RATE] == (RATE,) and settings[pmd.SettingType.RANGE] == (8,)
    assert st.notifications == link.stats.delivered and st.packets_rejected == 0
    assert st.reconnects == 1 and link.stats.drops == 1


def _acc_sample_times(sensor) -> np.ndarray:
    """Sensor-clock times of every ACC sample the device produced."""
    out = []
    for i in range(sensor.available):
        n = sensor.samples(i)
        if n:
            ready = sensor.packet(i)[1]
            out.append(ready - (n - 1 - np.arange(n)) / sensor.sim.fs)
    return np.concatenate(out)


def test_losses_sized_from_timestamps(polar_run):
    result, link = polar_run
    session = result.sessions[0]
    st = result.statuses[0]
    t = _acc_sample_times(link.sensor)
    # from the first sample received on, every ACC sample is either received or reported lost
    # (before it, e.g. ACC frames sent before the GYRO stream started, nothing can be known)
    origin = session.accountant.origin - VirtualPolarSensor.T0_NS * 1e-9  # s since 2000 -> sim
    assert st.samples_received + st.samples_lost == int(np.sum(t >= origin - 1e-6))
    assert st.samples_lost == sum(g.samples_lost for g in session.accountant.gaps)
    assert st.packets_lost == 0  # no sequence numbers in PMD
    short = [g for g in session.accountant.gaps if g.cause == "packet_loss"]
    # the lost ACC frame, and the ACC samples left without gyroscope by the lost GYRO frame
    # (the decoder's pairing may drop one more sample at the edge of a gyro hole)
    assert len(short) == 2 and short[0].samples_lost == PER_FRAME
    assert PER_FRAME <= short[1].samples_lost <= PER_FRAME + 1
    assert all(g.packets_lost is None and g.exact for g in short)
    (link_gap,) = [g for g in session.accountant.gaps if g.cause == "link_loss"]
    assert link_gap.samples_lost >= link.stats.samples_not_sent > 0


def test_polar_steps_match_truth(polar_run):
    result, link = polar_run
    session = result.sessions[0]
    truth = link.sensor.truth[0]
    origin = session.accountant.origin - VirtualPolarSensor.T0_NS * 1e-9
    m = match_truth(result.consumer.records, truth.ic_t - origin, truth.side,
                    truth.pelvic_drop_deg, truth.steady, session.accountant.gaps)
    assert m.n_truth > 30, m
    assert m.recall >= 0.95 and m.ic_median_abs_s < 0.02, m
    assert m.side_accuracy >= 0.95 and m.drop_rmse_deg < 1.5, m


def test_polar_needs_mount_axes_in_the_config():
    with pytest.raises(ConfigError, match="does not report how it is mounted"):
        CollectConfig.from_dict({"sensor": [{"name": "Polar Sense X", "runner": "a",
                                             "kind": "polar"}]})


def test_polar_refused_rate_is_a_clear_failure(tmp_path):
    sim = SimConfig(activity="run", fs=52.0, duration_s=5.0, seed=2)
    link = VirtualLink(VirtualPolarSensor("virtual:p2", "Polar Sense 2", sim, bouts=1),
                       speed=20.0)
    cfg = CollectConfig.from_dict({
        "collector": {"reconnect_initial_s": 0.01, "reconnect_max_s": 0.02},
        "session": {"duration_s": 0.5},
        "sensor": [{"name": "Polar Sense 2", "runner": "ida", "kind": "polar", "forward": "-z",
                    "up": "+y", "rate_hz": 100}]})
    st = run_collect(cfg, consumer=pipeline_factory(), out_dir=tmp_path, virtual_links=[link]).statuses[0]
    assert st.packets_received == 0 and st.connect_failures >= 1 and st.reconnects == 0
    assert "offers [26, 52, 104, 208] Hz, not 100 Hz" in st.last_error

"""A Movesense sensor (GATT SensorData Protocol, IMU6, fragmented notifications, no sequence
numbers) through the collector: subscription, fragments, losses from timestamps, truth."""

from __future__ import annotations

import numpy as np
import pytest

from gaitmon.collector.app import run_collect
from gaitmon.collector.config import CollectConfig
from gaitmon.collector.virtual import VirtualLink, VirtualMovesenseSensor
from gaitmon.pipeline.live import pipeline_factory
from gaitmon.sensors import movesense as ms
from gaitmon.sim import SimConfig
from tests.ble.truth import match_truth

RATE = 104
PER_MESSAGE = 8  # samples per IMU6 message at 104 Hz (packetize: rate / 13)


@pytest.fixture(scope="module")
def ms_run(tmp_path_factory):
    sim = SimConfig(activity="run", fs=208.0, duration_s=35.0, seed=61, forward="-y", up="+x",
                    drop_left_deg=4.0, drop_right_deg=7.5)
    sensor = VirtualMovesenseSensor("virtual:m1", "Movesense 204930000123", sim, bouts=1,
                                    clock_start_s=4_294_960.0)  # the u32 ms clock wraps mid-run
    # each 8-sample message = DATA (first part) + DATA_PART2: 20 = a first part, 41 = a second
    link = VirtualLink(sensor, speed=25.0, loss_indices={20, 41}, drops=[(18.0, 2.0)], seed=4)
    cfg = CollectConfig.from_dict({
        "session": {"name": "movesense"},
        "collector": {"reconnect_initial_s": 0.02, "reconnect_max_s": 0.05},
        "sensor": [{"name": "Movesense 204930000123", "runner": "jo", "kind": "movesense",
                    "forward": "-y", "up": "+x", "rate_hz": RATE}],
    })
    result = run_collect(cfg, consumer=pipeline_factory(), out_dir=tmp_path_factory.mktemp("ms"),
                         virtual_links=[link])
    return result, link


def test_subscription_and_fragments(ms_run):
    result, link = ms_run
    st = result.statuses[0]
    assert st.kind == "movesense" and st.sample_rate_hz == RATE and link.sensor.sim.fs == RATE
    subs = [ms.parse_command(w) for w in link.stats.control_writes if w[0] == ms.CMD_SUBSCRIBE]
    assert [c.path for c in subs] == ["/Meas/IMU6/104"] * 2  # first connection + reconnect
    assert st.reconnects == 1
    # the second part whose first part was lost cannot be used: rejected by reason
    assert st.rejected_by_reason == {"unexpected_fragment": 1}
    # every notification arrived: data parts + 3 command results (2 subscribe + 1 unsubscribe)
    assert st.notifications == link.stats.delivered + 3


def test_movesense_losses_and_wrap(ms_run):
    result, link = ms_run
    session = result.sessions[0]
    st = result.statuses[0]
    total = sum(link.sensor.samples(i) for i in range(link.sensor.available))
    assert link.sensor.samples(0) == 0 and link.sensor.samples(1) == PER_MESSAGE
    assert st.samples_received + st.samples_lost == total
    short = [g for g in session.accountant.gaps if g.cause == "packet_loss"]
    assert [g.samples_lost for g in short] == [PER_MESSAGE, PER_MESSAGE]
    (link_gap,) = [g for g in session.accountant.gaps if g.cause == "link_loss"]
    assert link_gap.exact and link_gap.samples_lost >= link.stats.samples_not_sent > 0
    # the u32 ms clock wrapped 7.3 s into the stream: the recording time runs on regardless
    assert session.accountant.origin + 7.0 < float(1 << 32) * 1e-3 < session.accountant._last_t
    t_ic = np.array([r.step.t_ic_s for r in result.consumer.records])
    assert np.all(np.diff(t_ic) > 0) and t_ic[-1] > 30.0


def test_movesense_steps_match_truth(ms_run):
    result, link = ms_run
    session = result.sessions[0]
    truth = link.sensor.truth[0]
    origin = session.accountant.origin  # first sample on the (unwrapped) sensor clock
    assert origin == pytest.approx(truth.t0_sensor_s, abs=1e-3)
    m = match_truth(result.consumer.records, truth.ic_t - origin, truth.side, truth.pelvic_drop_deg,
                    truth.steady, session.accountant.gaps)
    assert m.n_truth > 30, m
    assert m.recall >= 0.95 and m.ic_median_abs_s < 0.02, m
    assert m.side_accuracy >= 0.95 and m.drop_rmse_deg < 1.5, m

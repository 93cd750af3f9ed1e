"""End-to-end collection through bleak's real BlueZ backend against the simulated BlueZ.

Two sensors speak the open gaitmon profile (bytes from gaitmon.sensors' packetize, samples from
gaitmon.sim): A (200 Hz, by address, clock wrapping mid-run, battery via org.bluez.Battery1) and
B (100 Hz, by advertised name, battery over GATT 0x2A19). 40 s of running each, pushed 8x
faster than real time (the sensor timestamps stay realistic). Injected: packet loss on both, a
link loss on A (its next two connection attempts refused), malformed and old
packets on B, battery and RSSI changes. One run (module fixture), several assertions.
"""

from __future__ import annotations

import asyncio
import csv
import json
import struct

import numpy as np
import pytest

from gaitmon.collector.app import collect_async
from gaitmon.collector.config import CollectConfig
from gaitmon.pipeline.live import pipeline_factory
from gaitmon.sources.recording import read_recording
from tests.ble.streams import WRAP_S, make_stream
from tests.ble.truth import match_truth

ADDR_A = "C0:FF:EE:00:00:0A"
ADDR_B = "C0:FF:EE:00:00:0B"
NAME_A = "gaitmon-A"
NAME_B = "gaitmon-B-name-only"
SPEED = 8.0
LOSS_A = [40, 41, 42, 700]
LOSS_B = [120, 333, 334]
REFUSED = 2  # connection attempts refused after the link loss


def malformed(valid: bytes, old: bytes) -> list[tuple[bytes, str]]:
    hdr = bytearray(valid[:12])
    n0 = bytes(hdr[:10]) + b"\x00\x00"
    dt0 = bytearray(valid)
    struct.pack_into("<H", dt0, 8, 0)
    return [
        (valid[:8], "truncated"),
        (b"", "truncated"),
        (b"\x02" + valid[1:], "bad_version"),
        (valid + b"\x00\x00", "bad_length"),
        (n0, "bad_length"),
        (bytes(dt0), "bad_field"),
        (old, "out_of_order"),
    ]


async def _until(pred, timeout: float, what: str):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        v = await pred()
        if v:
            return v
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def run(bluez, tmp_path_factory):
    out = tmp_path_factory.mktemp("collect")
    a = make_stream(fs=200, duration_s=40.0, seed=21, clock_start_s=WRAP_S - 20.0)
    b = make_stream(fs=100, duration_s=40.0, seed=22, clock_start_s=123.0, drop_left=5.0,
                    drop_right=8.0)
    bluez.add_peripheral(ADDR_A, NAME_A, config=bytes(_cfg(a)), battery=81, rssi=-58)
    bluez.add_peripheral(ADDR_B, NAME_B, uuids=[], config=bytes(_cfg(b)), battery=64,
                         battery_gatt=True, rssi=-71)
    bluez.add_peripheral("C0:FF:EE:00:00:0C", "HR strap", kind="other",
                         uuids=["0000180d-0000-1000-8000-00805f9b34fb"])
    assert bluez.load_stream(ADDR_A, a.packets, 20.0 * SPEED) == len(a.packets)
    assert bluez.load_stream(ADDR_B, b.packets, 20.0 * SPEED) == len(b.packets)
    bluez.set_loss(ADDR_A, LOSS_A)
    bluez.set_loss(ADDR_B, LOSS_B)
    cfg = CollectConfig.from_dict({
        "session": {"name": "ble-e2e"},
        "collector": {"scan_timeout_s": 5, "connect_timeout_s": 5, "reconnect_initial_s": 0.1,
                      "reconnect_max_s": 0.4, "status_interval_s": 0.3},
        "sensor": [{"address": ADDR_A, "runner": "alice"}, {"name": NAME_B, "runner": "bob"}],
    })
    pushed: list[str] = []
    sessions: list = []

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(collect_async(cfg, consumer=pipeline_factory(), out_dir=out, stop_event=stop,
                                                 on_sessions=sessions.extend))
        try:
            await _until(lambda: _both(bluez, "sending"), 30, "both streams to start")
            await _until(lambda: _delivered(bluez, ADDR_B, 150), 30, "B to stream")
            for raw, reason in malformed(b.packets[151], b.packets[3]):
                await bluez.push_raw(ADDR_B, raw)
                pushed.append(reason)
            await bluez.set_battery(ADDR_A, 77)
            await bluez.set_rssi(ADDR_B, -66)
            await _until(lambda: _delivered(bluez, ADDR_A, len(a.packets) // 2), 30, "A half way")
            await bluez.refuse_connects(ADDR_A, REFUSED)
            await bluez.drop_link(ADDR_A, 0.0)
            await _until(lambda: _both(bluez, "done"), 60, "both streams to end")
            # every delivered notification processed
            want = {s.link.address.upper(): (await bluez.stats(s.link.address))["delivered"]
                    for s in sessions}

            async def caught_up():
                return all(s.status.packets_received == want[s.link.address.upper()]
                           for s in sessions)
            await _until(caught_up, 10, "the collector to process every packet")
        finally:
            stop.set()
        return await task

    result = asyncio.run(main())
    return {"result": result, "a": a, "b": b, "pushed": pushed,
            "stats_a": bluez.stats_sync(ADDR_A), "stats_b": bluez.stats_sync(ADDR_B)}


def _cfg(stream):
    from gaitmon.sensors import gaitmon_profile as gp
    return gp.encode_config(stream.config)


async def _both(bluez, key):
    return all([(await bluez.stats(a))[key] for a in (ADDR_A, ADDR_B)])


async def _delivered(bluez, addr, n):
    return (await bluez.stats(addr))["delivered"] >= n


def _status(run, runner):
    return next(s for s in run["result"].statuses if s.runner == runner)


def _session(run, runner):
    return next(s for s in run["result"].sessions if s.spec.runner == runner)


# ---------------------------------------------------------------------------------- accounting
def test_lost_packets_counted_exactly(run):
    for runner, st_mock, stream, loss in (("alice", run["stats_a"], run["a"], LOSS_A),
                                          ("bob", run["stats_b"], run["b"], LOSS_B)):
        st = _status(run, runner)
        lost = sorted(st_mock["lost_list"])  # transmitted, lost in the air
        not_sent = sorted(st_mock["not_sent"])  # sensor time passed while the link was down
        assert lost == sorted(set(loss) - set(not_sent)) and len(lost) >= 2
        assert st.packets_received == st_mock["delivered"]
        assert st.packets_lost == len(lost) == st_mock["lost_injected"]
        n = stream.n_per_packet
        assert st.samples_lost == int(n[lost].sum() + n[not_sent].sum())
        assert st.samples_received == int(n.sum()) - st.samples_lost
    assert len(run["stats_b"]["not_sent"]) == 0 and len(run["stats_a"]["not_sent"]) > 10


def test_link_loss_reconnects_and_reports_the_gap(run):
    a, b = _status(run, "alice"), _status(run, "bob")
    assert a.reconnects == 1 and b.reconnects == 0
    assert a.connect_failures == REFUSED  # refused attempts were retried with backoff
    assert a.clock_resets == 0
    gaps = _session(run, "alice").accountant.gaps
    link = [g for g in gaps if g.cause == "link_loss"]
    assert len(link) == 1 and link[0].exact
    # the device stops on disconnection: no sequence numbers lost, the time gap says how much
    not_sent = run["stats_a"]["not_sent"]
    assert link[0].packets_lost == 0
    assert link[0].samples_lost == int(run["a"].n_per_packet[not_sent].sum())
    injected = [g for g in gaps if g.cause == "packet_loss"]
    assert sum(g.packets_lost for g in injected) == run["stats_a"]["lost_injected"]


def test_malformed_packets_counted_by_reason(run):
    b = _status(run, "bob")
    expected: dict[str, int] = {}
    for reason in run["pushed"]:
        expected[reason] = expected.get(reason, 0) + 1
    assert b.rejected_by_reason == expected
    assert b.packets_rejected == len(run["pushed"]) == 7
    assert _status(run, "alice").packets_rejected == 0


def test_battery_rssi_and_device_info(run):
    a, b = _status(run, "alice"), _status(run, "bob")
    assert a.battery_pct == 77  # org.bluez.Battery1 (BlueZ battery plugin), changed mid-run
    assert b.battery_pct == 64  # GATT Battery Level 0x2A19
    assert b.rssi_dbm == -66
    assert a.rssi_dbm is not None and abs(a.rssi_dbm - (-58)) <= 1
    assert a.model == "gaitmon-virtual" and a.firmware == "1.0.0"
    assert a.sample_rate_hz == 200 and b.sample_rate_hz == 100
    assert a.link_state == b.link_state == "stopped"
    # 8x replay is not a physical clock drift: flagged, not trusted
    assert a.clock_suspect and b.clock_suspect


# ---------------------------------------------------------------------------------- recording
def test_recording_file_keeps_gaps_and_header(run):
    for runner in ("alice", "bob"):
        s = _session(run, runner)
        rec = read_recording(s.recorder.path)
        st = s.status
        assert len(rec.time) == st.samples_received
        dt = np.diff(rec.time)
        assert np.all(dt > 0)  # monotonic, also across A's clock wrap
        nominal = 1.0 / st.sample_rate_hz
        assert int(np.sum(dt > 1.5 * nominal)) == len(s.accountant.gaps)
        assert rec.forward == "-z" and rec.up == "+y"
        head = s.recorder.path.read_text().splitlines()[:20]
        assert any(h.startswith("# start_utc: ") for h in head)
        assert any(h.startswith(f"# runner: {runner}") for h in head)
        side = json.loads(s.recorder.sidecar_path.read_text())
        assert len(side["gaps"]) == len(s.accountant.gaps)
        assert side["status"]["packets_lost"] == st.packets_lost
    # A's sensor clock wrapped (2**32 us) during the run, yet its recording spans the stream
    a = _session(run, "alice")
    rec = read_recording(a.recorder.path)
    span = rec.time[-1] - rec.time[0]
    assert span == pytest.approx(run["a"].rec.time[-1] - run["a"].rec.time[0], abs=0.02)
    assert span > 20.0 + 1.0  # crossed the wrap at 20 s


# ---------------------------------------------------------------------------------- steps
@pytest.mark.parametrize("runner", ["alice", "bob"])
def test_steps_match_simulator_truth(run, runner):
    s = _session(run, runner)
    stream = run["a"] if runner == "alice" else run["b"]
    records = [r for r in run["result"].consumer.records if r.runner == runner]
    assert len(records) > 60
    ic, side, drop, steady = stream.truth_rec_time(0)
    m = match_truth(records, ic, side, drop, steady, s.accountant.gaps)
    assert m.n_truth > 30
    assert m.recall >= 0.95, m
    assert m.ic_median_abs_s < 0.02, m
    assert m.side_accuracy >= 0.95, m
    assert m.drop_rmse_deg < 1.5, m


def test_latency_recorded_and_step_files(run):
    res = run["result"]
    lat = res.stats["latency"]
    assert lat["n"] > 50 and 0 <= lat["p50_s"] <= lat["p99_s"] <= lat["max_s"]
    for r in res.consumer.records:
        assert r.latency_s is None or r.latency_s >= 0
    for runner in ("alice", "bob"):
        path = res.run_dir / f"steps_{runner}.csv"
        rows = list(csv.DictReader(path.open()))
        assert len(rows) == sum(1 for r in res.consumer.records if r.runner == runner)
        assert list(rows[0])[:4] == ["t_ic_s", "side", "step_time_s", "cadence_spm"]
        assert {r["session"] for r in rows} == {"ble-e2e"}
    final = json.loads((res.run_dir / "status_final.json").read_text())
    assert {f["runner"] for f in final} == {"alice", "bob"}
    assert all(f["link_state"] == "stopped" for f in final)
    assert (res.run_dir / "status.jsonl").read_text().count("\n") >= 4

"""A Movella DOT and a MetaWear through bleak's real BlueZ backend against the simulated BlueZ,
into the live pipeline: configuration writes, start, notifications, losses, a link loss, steps vs truth.

The byte streams come from the project's virtual sensors (gaitmon.collector.virtual:
VirtualDotSensor — Rate quantities payloads, u32 µs clock — and VirtualMetaWearSensor — packed
BMI160 acc/gyro notifications, no clock), fed with gaitmon.sim runs; the layouts are the vendors'
(see tests/sensors/test_movella_dot.py and test_metawear.py for their sources).
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from gaitmon.collector.app import collect_async
from gaitmon.collector.config import CollectConfig
from gaitmon.collector.virtual import VirtualDotSensor, VirtualMetaWearSensor
from gaitmon.pipeline.live import pipeline_factory
from gaitmon.sensors import metawear as mw
from gaitmon.sensors import movella_dot as dot
from gaitmon.sim import SimConfig
from tests.ble.truth import match_truth

ADDR_DOT = "D4:22:CD:00:00:01"
ADDR_MW = "C8:4B:00:00:00:02"
NAME_DOT = "Movella DOT"
NAME_MW = "MetaWear"
SPEED = 6.0
LOSS_DOT = [300, 301, 900]  # stream indices lost in the air (one sample each)


def _stream(sensor):
    assert sensor.ensure(0)
    n = sensor.available
    return [sensor.packet(i)[0] for i in range(n)], sensor


async def _until(pred, timeout, what):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def run(bluez, tmp_path_factory):
    out = tmp_path_factory.mktemp("dot_mw")
    dot_pk, dot_sensor = _stream(VirtualDotSensor(
        "v:dot", NAME_DOT, SimConfig(activity="run", fs=60.0, duration_s=40.0, seed=71, forward="+z",
                                     up="+x", drop_left_deg=6.0, drop_right_deg=3.5),
        bouts=1, clock_start_s=float(1 << 32) * 1e-6 - 15.0))  # the u32 µs clock wraps mid-run
    mw_pk, mw_sensor = _stream(VirtualMetaWearSensor(
        "v:mw", NAME_MW, SimConfig(activity="run", fs=100.0, duration_s=40.0, seed=72, forward="-z",
                                   up="+y", drop_left_deg=4.0, drop_right_deg=7.0), bouts=1))
    bluez.add_peripheral(ADDR_DOT, NAME_DOT, kind="movella_dot",
                         config=bytes(VirtualDotSensor("x", NAME_DOT, SimConfig(fs=60.0)).read(dot.DEVICE_CONTROL_UUID)))
    bluez.add_peripheral(ADDR_MW, NAME_MW, kind="metawear", config=bytes([mw.ODR_CODES[100]]))
    assert bluez.load_stream(ADDR_DOT, dot_pk, 60.0 * SPEED) == len(dot_pk)
    assert bluez.load_stream(ADDR_MW, mw_pk, 100.0 * 2 / 3 * SPEED) == len(mw_pk)  # 2 notifications / 3 samples
    bluez.set_loss(ADDR_DOT, LOSS_DOT)
    cfg = CollectConfig.from_dict({
        "session": {"name": "dot-mw"},
        "collector": {"scan_timeout_s": 5, "connect_timeout_s": 5, "reconnect_initial_s": 0.1,
                      "reconnect_max_s": 0.4, "status_interval_s": 0.3},
        "sensor": [{"address": ADDR_DOT, "runner": "dora", "kind": "movella_dot", "forward": "+z",
                    "up": "+x", "rate_hz": 60},
                   {"name": NAME_MW, "runner": "max", "kind": "metawear", "forward": "-z", "up": "+y",
                    "rate_hz": 100}],
    })
    sessions: list = []

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(collect_async(cfg, consumer=pipeline_factory(), out_dir=out, stop_event=stop,
                                                 on_sessions=sessions.extend))

        async def both(key):
            return all([(await bluez.stats(a))[key] for a in (ADDR_DOT, ADDR_MW)])
        try:
            await _until(lambda: both("sending"), 30, "both streams to start")

            async def dot_half():
                return (await bluez.stats(ADDR_DOT))["delivered"] >= len(dot_pk) // 2
            await _until(dot_half, 30, "the DOT half way")
            await bluez.drop_link(ADDR_DOT, 0.5)  # link loss (3 s of sensor time): packets are not sent
            await _until(lambda: both("done"), 60, "both streams to end")
            want = {s.link.address.upper(): (await bluez.stats(s.link.address))["delivered"] for s in sessions}

            async def caught_up():
                return all(s.status.notifications >= want[s.link.address.upper()] for s in sessions)
            await _until(caught_up, 10, "the collector to process every packet")
        finally:
            stop.set()
        return await task

    result = asyncio.run(main())
    return {"result": result, "dot": dot_sensor, "mw": mw_sensor,
            "stats_dot": bluez.stats_sync(ADDR_DOT), "stats_mw": bluez.stats_sync(ADDR_MW)}


def _session(run, runner):
    return next(s for s in run["result"].sessions if s.spec.runner == runner)


def test_configuration_and_start_commands(run):
    dw = [bytes(w) for w in run["stats_dot"]["control_writes"]]
    assert dot.set_output_rate_command(60) in dw
    assert dw.count(dot.control_command(True, dot.MODE_RATE_QUANTITIES)) == 2  # first connection + reconnect
    mww = [bytes(w) for w in run["stats_mw"]["control_writes"]]
    assert mww[:2] == [mw.acc_config(100, 16), mw.gyro_config(100, 2000)]
    assert mww[2:8] == mw.start_commands()
    st = _session(run, "dora").status
    assert st.kind == "movella_dot" and st.sample_rate_hz == 60 and st.reconnects == 1
    assert _session(run, "max").status.sample_rate_hz == 100


def test_dot_losses_from_its_clock(run):
    s = _session(run, "dora")
    st = s.status
    gaps = s.accountant.gaps
    short = [g for g in gaps if g.cause == "packet_loss"]
    assert sorted(g.samples_lost for g in short) == [1, 2]  # 900, and 300+301 together
    (ll,) = [g for g in gaps if g.cause == "link_loss"]
    assert ll.exact and ll.samples_lost == len(run["stats_dot"]["not_sent"])
    assert st.samples_received + st.samples_lost == run["stats_dot"]["total"]
    # the u32 µs clock wrapped 15 s into the stream; recording time runs on
    assert s.accountant.origin < float(1 << 32) * 1e-6 < s.accountant._last_t


@pytest.mark.parametrize("runner,key", [("dora", "dot"), ("max", "mw")])
def test_steps_match_truth(run, runner, key):
    s = _session(run, runner)
    truth = run[key].truth[0]
    origin = s.accountant.origin
    recs = [r for r in run["result"].consumer.records if r.runner == runner]
    m = match_truth(recs, truth.ic_t - origin, truth.side, truth.pelvic_drop_deg, truth.steady,
                    s.accountant.gaps)
    assert m.n_truth > 25, m
    assert m.recall >= 0.9 and m.ic_median_abs_s < 0.03, m
    assert m.side_accuracy >= 0.9 and m.drop_rmse_deg < 2.0, m
    assert np.all(np.diff([r.step.t_ic_s for r in recs]) > 0)


@pytest.mark.parametrize("kind", ["movella_dot", "metawear"])
def test_collect_virtual_kind(kind, tmp_path):
    """`gaitmon collect --virtual 1 --virtual-kind …`: the virtual DOT / MetaWear over a VirtualLink."""
    from gaitmon.cli import main

    rc = main(["collect", "--virtual", "1", "--virtual-kind", kind, "--duration", "12", "--speed", "10",
               "--no-live", "--out", str(tmp_path), "--session", "v"])
    assert rc == 0
    steps = (tmp_path / "v" / "steps_virtual-1.csv").read_text().splitlines()
    assert len(steps) > 10


# ------------------------------------------------------------------ on-sensor recording (§5)
ADDR_DOT_REC = "D4:22:CD:00:00:07"


def test_dot_recording_control_and_export_through_bleak(bluez, tmp_path):
    """Start / state / recording time / stop across a disconnection, flash and file info, then an
    export (with two packets the sensor flags invalid) into the recording format — all through
    bleak's real BlueZ backend against the simulated DOT's Message Service."""
    from gaitmon.collector.bleak_link import BleakLink
    from gaitmon.collector.profiles import MovellaDotProfile
    from gaitmon.sources.recording import read_recording

    pk, _sensor = _stream(VirtualDotSensor(
        "v:dotrec", NAME_DOT, SimConfig(activity="run", fs=60.0, duration_s=20.0, seed=73), bouts=1))
    bluez.add_peripheral(ADDR_DOT_REC, NAME_DOT, kind="movella_dot",
                         config=bytes(VirtualDotSensor("x", NAME_DOT, SimConfig(fs=60.0)).read(dot.DEVICE_CONTROL_UUID)))
    pps = 400.0  # recorded packets per wall second
    assert bluez.load_stream(ADDR_DOT_REC, pk, pps) == len(pk)
    bluez.mock_sync("SetExportInvalid", "sai", ADDR_DOT_REC, [5, 6])
    prof = MovellaDotProfile()

    async def main():
        link = BleakLink(ADDR_DOT_REC, name=NAME_DOT)
        await link.connect(10)
        try:
            assert await prof.recording_state(link) == dot.RecResult.IDLE
            await prof.start_recording(link, duration_s=600, utc_s=1_760_000_000)
            assert await prof.recording_state(link) == dot.RecResult.ON_RECORDING
            rt = await prof.recording_time(link)
            assert rt.start_utc == 1_760_000_000 and rt.total_s == 600 and 590 <= rt.remaining_s <= 600
            from gaitmon.collector.link import LinkError
            with pytest.raises(LinkError, match="ON_RECORDING"):  # the sensor refuses a second start
                await prof.start_recording(link)
        finally:
            await link.disconnect()
        await asyncio.sleep(0.5)  # the sensor records on while nobody is connected
        link = BleakLink(ADDR_DOT_REC, name=NAME_DOT)
        await link.connect(10)
        try:
            assert await prof.recording_state(link) == dot.RecResult.ON_RECORDING
            await prof.stop_recording(link)
            assert await prof.recording_state(link) == dot.RecResult.IDLE
            n = (await bluez.stats(ADDR_DOT_REC))["rec_files"]
            header, files = await prof.flash_info(link)
            info = await prof.file_info(link, 1)
            none = await prof.file_info(link, 2)
            export = await prof.export_file(link, 1)
            await prof.erase_flash(link, utc_s=1_760_000_100)  # waits for StoreFlashInfoDone
            assert (await prof.flash_info(link))[1] == [] and await prof.file_info(link, 1) is None
            return n, header, files, info, none, export
        finally:
            await link.disconnect()

    n, header, files, info, none, export = asyncio.run(main())
    assert len(n) == 1 and 0.5 * pps <= n[0] < len(pk)  # ≥ the 0.5 s slept while disconnected
    assert header.revision == (2, 0) and header.file_indicators_size == 128 and len(files) == 1
    assert info.start_utc == 1_760_000_000 and info.total_s == 600 and none is None
    assert export.complete and export.invalid == 2 and export.missing == [5, 6]
    assert len(export.packets) == n[0] - 2
    # the exported samples are the sensor's own: bit-identical to its Rate quantities payloads
    ref = dot.MovellaDotDecoder()
    want = {i: ref.decode(pk[i]) for i in range(n[0])}
    for p in export.packets[:50] + export.packets[-50:]:
        np.testing.assert_array_equal(p.acc, want[p.seq].acc)
        np.testing.assert_allclose(p.gyr, want[p.seq].gyr, rtol=0, atol=1e-15)
        assert p.t_s[0] == want[p.seq].t_s[0]
    # ... and they load as a gaitmon recording
    path = tmp_path / "dot_export.csv"
    rows = export.write_recording(path, sensor=f"{NAME_DOT} ({ADDR_DOT_REC})", start_utc_s=info.start_utc,
                                  forward="+z", up="+x")
    assert rows == len(export.packets)
    text = path.read_text().splitlines()
    assert "# start_utc: 2025-10-09T08:53:20.000000Z" in text
    rec = read_recording(path)
    assert len(rec.time) == rows and rec.time[0] == 0.0
    # the invalid packets 5 and 6 are a gap, not invented rows
    assert rec.time[5] == pytest.approx(7 / 60.0, abs=1e-5)


ADDR_DOT_CLI = "D4:22:CD:00:00:08"


def test_gaitmon_dot_command_records_exports_and_erases(bluez, tmp_path, capsys):
    """`gaitmon dot ADDRESS status|start|stop|files|export|erase` through bleak's BlueZ backend:
    the whole on-sensor recording workflow a runner without a phone nearby would use."""
    from gaitmon.cli import main
    from gaitmon.sources.recording import read_recording

    pk, _sensor = _stream(VirtualDotSensor(
        "v:dotcli", NAME_DOT, SimConfig(activity="run", fs=60.0, duration_s=20.0, seed=74), bouts=1))
    bluez.add_peripheral(ADDR_DOT_CLI, NAME_DOT, kind="movella_dot",
                         config=bytes(VirtualDotSensor("x", NAME_DOT, SimConfig(fs=60.0)).read(dot.DEVICE_CONTROL_UUID)))
    assert bluez.load_stream(ADDR_DOT_CLI, pk, 400.0) == len(pk)
    bluez.mock_sync("SetExportInvalid", "sai", ADDR_DOT_CLI, [3])

    def run(*argv):
        rc = main(["dot", ADDR_DOT_CLI, *argv])
        out = capsys.readouterr()
        return rc, out.out, out.err

    rc, out, _ = run("status")
    assert rc == 0 and "IDLE" in out and "0 recording file(s)" in out
    rc, out, _ = run("start", "--duration", "300")
    assert rc == 0 and "recording for 300 s" in out
    rc, out, _ = run("status")
    assert rc == 0 and "ON_RECORDING" in out and "of 300 s left" in out
    rc, _, errtext = run("start")
    assert rc == 4 and "ON_RECORDING" in errtext  # refused by the sensor, one line, no traceback
    import time

    time.sleep(0.5)  # the simulated sensor records 400 packets per second of wall time
    rc, out, _ = run("stop")
    assert rc == 0 and "stopped" in out
    rc, out, _ = run("files")
    assert rc == 0 and out.startswith("1: started ") and "timer 300 s" in out
    rc, _, errtext = run("export", "2", "--out", str(tmp_path / "none.csv"))
    assert rc == 2 and "no recording file 2" in errtext
    dest = tmp_path / "run.csv"
    rc, out, errtext = run("export", "1", "--out", str(dest), "--forward", "+z", "--up", "+x")
    assert rc == 0 and f"→ {dest}" in out and "next: gaitmon analyze" in out
    assert "1 packet(s) missing (1 flagged invalid by the sensor)" in errtext  # said, not hidden
    rec = read_recording(dest)
    n = int(out.split(" samples")[0])
    assert len(rec.time) == n >= 150 and rec.forward == "+z" and rec.up == "+x"
    rc, _, errtext = run("erase")
    assert rc == 2 and "--yes" in errtext
    rc, out, _ = run("erase", "--yes")
    assert rc == 0 and "erased" in out
    rc, out, _ = run("files")
    assert rc == 0 and "no recording files" in out

"""The in-process path used by ``gaitmon collect --virtual N``: VirtualLink -> sessions ->
pipeline -> files, with exact loss accounting, link drops, truth, and a clean Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gaitmon.cli.collect import add_parser as add_collect_parser
from gaitmon.cli.collect import cmd_collect
from gaitmon.cli.scan import add_parser as add_scan_parser
from gaitmon.collector.app import collect_async, run_collect
from gaitmon.collector.config import CollectConfig
from gaitmon.collector.virtual import VirtualLink, VirtualSensor
from gaitmon.pipeline.live import pipeline_factory
from gaitmon.sensors import gaitmon_profile as gp
from gaitmon.sim import SimConfig
from gaitmon.sources.recording import read_recording
from gaitmon.ui.collect_view import CollectView
from tests.ble.truth import match_truth

ROOT = Path(__file__).resolve().parents[2]


def _sensor(i: int, fs: float, seed: int, clock_start_s: float) -> VirtualSensor:
    sim = SimConfig(activity="run", fs=fs, duration_s=35.0, seed=seed, drop_left_deg=6.0,
                    drop_right_deg=3.5)
    return VirtualSensor(f"virtual:{i}", f"gaitmon-v{i}", sim, bouts=1,
                         clock_start_s=clock_start_s, battery_pct=70 + i)


@pytest.fixture(scope="module")
def virtual_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("virtual")
    s1 = _sensor(1, 200.0, 31, clock_start_s=float(1 << 32) * 1e-6 - 12.0)  # wraps mid-run
    s2 = _sensor(2, 104.0, 32, clock_start_s=50.0)
    links = [
        VirtualLink(s1, speed=30.0, loss_indices={10, 11, 500}, drops=[(15.0, 1.5)], seed=1),
        VirtualLink(s2, speed=30.0, loss=0.02, seed=2),
    ]
    cfg = CollectConfig.from_dict({
        "session": {"name": "virt"},
        "collector": {"reconnect_initial_s": 0.02, "reconnect_max_s": 0.05,
                      "status_interval_s": 0.2},
        "sensor": [{"name": "gaitmon-v1", "runner": "carol"},
                   {"name": "gaitmon-v2", "runner": "dave", "forward": "-z", "up": "+y"}],
    })
    result = run_collect(cfg, consumer=pipeline_factory(), out_dir=out, virtual_links=links)
    return result, links


def test_exact_counts_against_the_virtual_link(virtual_run):
    result, links = virtual_run
    for st, link in zip(result.statuses, links):
        assert link.finished
        assert st.packets_received == link.stats.delivered
        assert st.packets_lost == link.stats.lost > 0
        assert st.samples_lost == link.stats.samples_missing
        assert st.samples_received + st.samples_lost == sum(
            p[10] for p in link.sensor._packets)  # every sample of the stream accounted for
        assert st.packets_rejected == 0 and st.clock_resets == 0
    carol, dave = result.statuses
    assert carol.reconnects == 1 and links[0].stats.drops == 1
    assert links[0].stats.not_sent > 0 and links[1].stats.not_sent == 0
    (link_gap,) = [g for g in result.sessions[0].accountant.gaps if g.cause == "link_loss"]
    assert link_gap.packets_lost == 0 and link_gap.samples_lost == links[0].stats.samples_not_sent
    assert dave.reconnects == 0 and links[1].stats.lost_injected == dave.packets_lost
    assert carol.battery_pct == 71 and dave.battery_pct == 72
    assert carol.rssi_dbm is not None and -63 <= carol.rssi_dbm <= -57


def test_virtual_steps_match_truth(virtual_run):
    result, links = virtual_run
    for session, link in zip(result.sessions, links):
        truth = link.sensor.truth[0]
        ic = truth.ic_t - session.accountant.origin  # sensor clock -> recording clock
        recs = [r for r in result.consumer.records if r.key == session.spec.key]
        m = match_truth(recs, ic, truth.side, truth.pelvic_drop_deg, truth.steady,
                        session.accountant.gaps)
        assert m.n_truth > 30, m
        assert m.recall >= 0.95, m
        assert m.ic_median_abs_s < 0.02, m
        assert m.side_accuracy >= 0.95, m
        assert m.drop_rmse_deg < 1.5, m


def test_recording_readable_and_gap_free_of_fabricated_rows(virtual_run):
    result, _links = virtual_run
    for s in result.sessions:
        rec = read_recording(s.recorder.path)
        assert len(rec.time) == s.status.samples_received
        big = np.diff(rec.time) > 1.5 / s.status.sample_rate_hz
        assert big.sum() == len(s.accountant.gaps) == s.status.gaps
        assert rec.forward == "-z" and rec.up == "+y"
    run_json = json.loads((result.run_dir / "run.json").read_text())
    assert run_json["virtual"] and not run_json["interrupted"]
    assert run_json["pipeline"]["latency"]["n"] > 0


def test_duplicates_and_garbage_through_inject():
    async def main():
        sim = SimConfig(activity="run", fs=100.0, duration_s=5.0, seed=5)
        link = VirtualLink(VirtualSensor("virtual:9", "gaitmon-v9", sim, bouts=1), speed=20.0)
        cfg = CollectConfig.from_dict({"collector": {"status_interval_s": 0.1}})
        sessions = []
        stop = asyncio.Event()
        task = asyncio.create_task(collect_async(cfg, consumer=pipeline_factory(file_sink=False), out_dir=tmp,
                                                 virtual_links=[link], stop_event=stop,
                                                 on_sessions=sessions.extend))
        while link.stats.delivered < 20:
            await asyncio.sleep(0.01)
        last = link.sensor.packet(link.stats.delivered - 1)[0]
        link.inject(last)  # the newest packet again -> duplicate
        link.inject(b"\x01\x00")  # truncated
        link.inject(gp.encode_packet_raw(seq=7, t_first_us=1, dt_us=10000,
                                         raw=np.zeros((1, 6), int))[:-1])  # truncated sample
        stop.set()
        res = await task
        return res.statuses[0], link

    import tempfile
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        st, link = asyncio.run(main())
    assert st.rejected_by_reason == {"duplicate": 1, "truncated": 2}
    assert st.packets_received == link.stats.delivered


def test_ctrl_c_flushes_and_closes_everything(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gaitmon", "collect", "--virtual", "2", "--speed", "4",
         "--out", str(tmp_path), "--session", "sig", "--no-live"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = tmp_path / "sig"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = run_dir / "status.jsonl"
        if st.exists() and st.read_text().count('"streaming"') >= 4:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "session sig:" in err
    final = json.loads((run_dir / "status_final.json").read_text())
    assert len(final) == 2 and all(f["link_state"] == "stopped" for f in final)
    run_json = json.loads((run_dir / "run.json").read_text())
    assert run_json["interrupted"] is True
    for sensor in run_json["sensors"]:
        path = run_dir / sensor["recording"]
        lines = path.read_text().splitlines()
        assert lines[-1].count(",") == 6  # last row complete
        rec = read_recording(path)
        assert len(rec.time) == sensor["status"]["samples_received"] > 0
        side = json.loads(path.with_name(path.name[:-4] + ".session.json").read_text())
        assert side["status"]["link_state"] == "stopped"


def test_cli_parsers_have_help():
    import argparse

    parser = argparse.ArgumentParser(prog="gaitmon")
    sub = parser.add_subparsers()
    add_scan_parser(sub)
    add_collect_parser(sub)
    collect_help = sub.choices["collect"].format_help()
    for flag in ("--config", "--virtual", "--duration", "--out", "--no-live", "--packet-loss"):
        assert flag in collect_help
    assert "Ctrl-C" in collect_help
    assert "--timeout" in sub.choices["scan"].format_help()
    args = parser.parse_args(["collect", "--virtual", "3", "--duration", "5"])
    assert args.virtual == 3 and args.duration == 5.0 and callable(args.func)


def test_cli_rejects_missing_sources(capsys):
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    add_collect_parser(sub)
    assert cmd_collect(parser.parse_args(["collect"])) == 2
    assert "--config FILE" in capsys.readouterr().err
    assert cmd_collect(parser.parse_args(["collect", "--config", "/nonexistent.toml"])) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_backoff_retries_refused_connections(tmp_path):
    sim = SimConfig(activity="run", fs=100.0, duration_s=8.0, seed=8)
    link = VirtualLink(VirtualSensor("virtual:7", "gaitmon-v7", sim, bouts=1), speed=10.0,
                       connect_delay_s=0.0)
    link.refuse_connects(4)
    cfg = CollectConfig.from_dict({"collector": {"reconnect_initial_s": 0.05,
                                                 "reconnect_max_s": 0.3}})

    async def main():
        sessions = []
        stop = asyncio.Event()
        task = asyncio.create_task(collect_async(cfg, consumer=pipeline_factory(), out_dir=tmp_path,
                                                 virtual_links=[link], stop_event=stop,
                                                 on_sessions=sessions.extend))
        while link.stats.delivered < 30:
            await asyncio.sleep(0.01)
        assert sessions[0].status.link_state == "streaming"
        link.refuse_connects(2)
        link.drop_now(0.0)
        while not link.finished:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        stop.set()
        return await task

    st = asyncio.run(main()).statuses[0]
    assert st.connect_failures == 6 and st.reconnects == 1
    assert st.packets_lost == link.stats.lost and st.packets_received == link.stats.delivered
    assert st.samples_lost == link.stats.samples_missing > 0
    t = np.array(link.stats.attempts)
    assert len(t) == 5 + 3
    waits = np.diff(t[:5])  # 4 refused attempts, then success: 0.05, 0.1, 0.2, 0.3 (capped)
    assert np.all(np.diff(waits) > 0)
    assert waits[-1] == pytest.approx(0.3, rel=0.35)


def test_live_view_shows_every_runner(tmp_path, capsys):
    sims = [SimConfig(activity="run", fs=100.0, duration_s=12.0, seed=40 + i) for i in range(2)]
    links = [VirtualLink(VirtualSensor(f"virtual:{i}", f"gaitmon-live{i}", sim, bouts=1,
                                       battery_pct=50 + i), speed=20.0, seed=i)
             for i, sim in enumerate(sims)]
    cfg = CollectConfig.from_dict({"session": {"name": "live"},
                                   "sensor": [{"name": "gaitmon-live0", "runner": "fay"},
                                              {"name": "gaitmon-live1", "runner": "gus"}]})
    result = run_collect(cfg, consumer=pipeline_factory(), watcher=lambda p, title: CollectView(p, title=title),
                         out_dir=tmp_path, virtual_links=links)
    err = capsys.readouterr().err
    assert "gaitmon collect — session live" in err
    final = err[err.rindex("gaitmon collect — session live"):]  # the last refresh
    assert max(len(line) for line in final.splitlines()) <= 80
    lines = final.splitlines()
    for runner, link, st in zip(("fay", "gus"), links, result.statuses):
        i = next(k for k, line in enumerate(lines) if line.split()[:1] == [runner])
        first, second = lines[i].split(), lines[i + 1].split()
        steps = sum(1 for r in result.consumer.records if r.runner == runner)
        assert first[1:5] == ["stopped", str(link.stats.delivered), "0", str(steps)]
        assert steps > 10 and float(first[5]) > 0  # mean drop of the left steps, degrees
        assert second[:4] == [link.name, f"{st.battery_pct}%", str(st.rssi_dbm), "dBm"]
        assert second[4:6] == ["0.0%", "0"] and second[7] == "spm"
        assert 150 < float(second[6]) < 190 and float(second[8]) > 0


def test_collect_keeps_the_verdict_of_a_run_that_starts_with_a_walk(tmp_path, monkeypatch):
    """A live session whose run starts with a walk leaves its verdict on the runner's drop pattern
    in the journal (run_pattern.jsonl), which the runner's next analyses read (issue 11)."""
    from gaitmon.pipeline import journal

    monkeypatch.setenv("GAITMON_HOME", str(tmp_path / "home"))
    sim = SimConfig(activity="run", fs=104.0, duration_s=40.0, seed=41, walk_before_s=10.0, stance_side_drops=True)
    sensor = VirtualSensor("virtual:1", "gaitmon-v1", sim, bouts=1, clock_start_s=5.0, battery_pct=80)
    cfg = CollectConfig.from_dict({
        "session": {"name": "warm"},
        "collector": {"reconnect_initial_s": 0.02, "reconnect_max_s": 0.05, "status_interval_s": 0.2},
        "sensor": [{"name": "gaitmon-v1", "runner": "erin"}],
    })
    run_collect(cfg, consumer=pipeline_factory(), out_dir=tmp_path / "out",
                virtual_links=[VirtualLink(sensor, speed=40.0, seed=3)])
    lines = [json.loads(x) for x in (tmp_path / "home" / "run_pattern.jsonl").read_text().splitlines()]
    assert [(x["runner"], x["usual"], x["reversed"]) for x in lines] == [("erin", 0, 1)]
    p, nu, nr = journal.learned_run_pattern("erin")
    assert (nu, nr) == (0, 1) and 0.3 < p < 0.35

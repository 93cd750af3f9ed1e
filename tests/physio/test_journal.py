"""Files-only programme tracking: sessions and exercises in the local journal, trend read from it."""

import json

import numpy as np

from gaitmon.cli import main
from gaitmon.sim import SimConfig, simulate
from gaitmon.sources.recording import write_recording


def _session(tmp_path, day: int, drop_l: float, seed: int) -> str:
    rec = simulate(SimConfig(activity="run", fs=104.0, duration_s=40.0, seed=seed, drop_left_deg=drop_l,
                             drop_right_deg=4.0))
    p = tmp_path / f"run{day}.csv"
    write_recording(p, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up,
                                                   "start_utc": f"2026-10-{day:02d}T07:00:00Z"})
    return str(p)


def test_trend_from_journal_finds_the_effect(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    monkeypatch.delenv("GAITMON_CONFIG", raising=False)
    monkeypatch.setenv("GAITMON_HOME", str(tmp_path / "home"))
    # 6 runs before the programme (left drop ~7°), 6 after (~4.5°); programme starts Oct 13
    for i, day in enumerate((1, 3, 5, 7, 9, 11)):
        assert main(["analyze", _session(tmp_path, day, 7.0, 100 + i), "--runner", "ann"]) == 0
    for d in range(13, 25):
        for hour in ("07", "19"):
            assert main(["exercise", "log", "--runner", "ann", "--at", f"2026-10-{d}T{hour}:00:00Z",
                         "--no-grafana"]) == 0
    for i, day in enumerate((15, 17, 19, 21, 23, 25)):
        assert main(["analyze", _session(tmp_path, day, 4.5, 200 + i), "--runner", "ann"]) == 0
    lines = (tmp_path / "home" / "sessions.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(json.loads(x)["runner"] == "ann" for x in lines)
    out = tmp_path / "trend.json"
    capsys.readouterr()
    rc = main(["trend", "--runner", "ann", "--json", str(out), "--now-ns", str(1793000000 * 10**9)])
    assert rc == 0
    assert "local journal" in capsys.readouterr().out
    tr = json.loads(out.read_text())
    eff = tr["effects"]["L"]
    assert eff["verdict"] == "lower after" and -3.0 < eff["diff_deg"] < -1.8  # true change: -2.5°
    assert abs(tr["effects"]["R"]["diff_deg"]) < 0.5  # right side barely changed (truth: a few tenths)
    assert sum(w["sessions"] for w in tr["adherence"]) == 24

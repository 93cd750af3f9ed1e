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


def _write(tmp_path, name, rec, day):
    p = tmp_path / name
    write_recording(p, rec.time, rec.acc, rec.gyr, {"forward": rec.forward, "up": rec.up,
                                                   "start_utc": f"2026-11-{day:02d}T07:00:00Z"})
    return str(p)


def _sides_right(steps_csv, truth):
    import csv

    from tests.core.metrics import match_ics

    rows = list(csv.DictReader(open(steps_csv)))
    t = np.array([float(r["t_ic_s"]) for r in rows])
    pairs = match_ics(truth.ic_t, t, 0.06)
    return np.mean([rows[j]["side"] == truth.side[i] for i, j in pairs]), {rows[j]["side_source"] for _, j in pairs}


def test_a_runner_whose_stance_side_drops_is_learned_from_runs_that_start_with_a_walk(tmp_path, monkeypatch, capsys):
    """Issue 11: a runner whose pelvis drops toward the STANCE side is mirrored by a run without a
    walk. Runs that start with a walk reveal it (each such run's verdict goes to the journal's
    run_pattern.jsonl); after three of them, `gaitmon analyze --runner` reads this runner's runs
    without a walk the right way round (side_source 'run, learned pattern'), after one it stays
    unsure. Another runner, and --no-learned-pattern, are unaffected."""
    monkeypatch.delenv("GAITMON_INFLUX_URL", raising=False)
    monkeypatch.delenv("GAITMON_CONFIG", raising=False)
    monkeypatch.setenv("GAITMON_HOME", str(tmp_path / "home"))
    run_only = simulate(SimConfig(activity="run", fs=104.0, duration_s=40.0, seed=20, stance_side_drops=True))
    plain = _write(tmp_path, "plain.csv", run_only, 20)
    for k in range(3):
        warm = simulate(SimConfig(activity="run", fs=104.0, duration_s=40.0, seed=10 + k, walk_before_s=10.0,
                                  stance_side_drops=True))
        assert main(["analyze", _write(tmp_path, f"warm{k}.csv", warm, 1 + k), "--runner", "bo"]) == 0
        if k == 0:
            out = tmp_path / "one.csv"
            assert main(["analyze", plain, "--runner", "bo", "--out", str(out)]) == 0
            right, src = _sides_right(out, run_only.truth)
            assert right < 0.05 and src == {"run, learned pattern"}  # one verdict: still the drop pattern's
    lines = [json.loads(x) for x in (tmp_path / "home" / "run_pattern.jsonl").read_text().splitlines()]
    assert len(lines) == 3 and all(x["runner"] == "bo" and x["reversed"] == 1 and x["usual"] == 0 for x in lines)
    capsys.readouterr()
    out, summ = tmp_path / "steps.csv", tmp_path / "summary.json"
    assert main(["analyze", plain, "--runner", "bo", "--out", str(out), "--summary", str(summ)]) == 0
    right, src = _sides_right(out, run_only.truth)
    assert right > 0.97 and src == {"run, learned pattern"}
    learned = json.loads(summ.read_text())["run_pattern"]["learned"]
    assert learned == {"p_reversed": learned["p_reversed"], "usual": 0, "reversed": 3} and learned["p_reversed"] > 0.95
    assert "the stance side drops (sure" in " ".join(capsys.readouterr().err.split())
    for extra in (["--runner", "al"], ["--runner", "bo", "--no-learned-pattern"], []):
        assert main(["analyze", plain, "--out", str(out), *extra]) == 0
        right, src = _sides_right(out, run_only.truth)
        assert right < 0.05 and src == {"run"}

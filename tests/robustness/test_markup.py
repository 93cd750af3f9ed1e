"""Issue 12 item 6: user text is never rendered as Rich markup (real influxd)."""
from __future__ import annotations

import pytest

from gaitmon.cli import main

EVIL = "[/bold] [red]x"


def _ok(rc, capsys, want=0):
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "MarkupError" not in out.err, out.err
    assert rc == want, out.err
    return out


def test_markup_runner_everywhere(influx_env, influxd, db, recording, capsys):
    influx_env.setenv("GAITMON_RUNNER", EVIL)
    out = _ok(main(["analyze", str(recording), "--runner", EVIL]), capsys)
    assert EVIL in out.err + out.out  # shown as typed
    _ok(main(["import", str(recording), "--runner", EVIL, "--session", "[b]s1", "--influx-timeout", "20"]), capsys)
    out = _ok(main(["store", "sessions", "--runner", EVIL]), capsys)
    assert "[b]s1" in out.out and EVIL in out.out
    out = _ok(main(["store", "weekly", "--runner", EVIL, "--weeks", "5200"]), capsys)
    assert EVIL in out.out
    _ok(main(["store", "check"]), capsys)
    _ok(main(["trend", "--runner", EVIL]), capsys)


def test_markup_runner_in_the_journal(clean_env, recording, capsys):
    out = _ok(main(["analyze", str(recording), "--runner", EVIL]), capsys)
    assert EVIL in out.err
    _ok(main(["trend", "--runner", EVIL]), capsys, want=0)


@pytest.mark.parametrize("name", ["[x]rec.csv", "a[/]rec.csv"])
def test_markup_in_paths(clean_env, tmp_path, recording, name, capsys):
    p = tmp_path / name  # "a[/]rec.csv": a directory "a[" holding "]rec.csv"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(recording.read_bytes())
    _ok(main(["analyze", str(p), "--runner", "ann", "--summary", str(tmp_path / "[red]s.json")]), capsys)

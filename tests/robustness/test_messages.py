"""Issue 12 items 8-12: a one-line message and the right exit code (2 bad input, 3 no gait,
4 server) where there used to be a traceback or a misleading message."""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from gaitmon.cli import main
from gaitmon.sources.recording import REQUIRED, write_recording
from tests.robustness.conftest import REC
from tests.servers import InfluxD


def _run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out
    return rc, out.err


# ---------------------------------------------------------------- 8: wrong password
def test_wrong_password_demo_is_a_server_error(clean_env, tmp_path, capsys):
    with InfluxD(auth=("admin", "s3cret-pw")) as influx:
        influx.create_db("gait")
        clean_env.setenv("GAITMON_INFLUX_URL", influx.url)
        clean_env.setenv("GAITMON_INFLUX_DB", "gait")
        clean_env.setenv("GAITMON_INFLUX_USER", "admin")
        clean_env.setenv("GAITMON_INFLUX_PASSWORD", "wrong-pw")
        rc, err = _run(["demo", "--duration", "20", "--speed", "0", "--no-live", "--no-report",
                        "--out-dir", str(tmp_path / "d")], capsys)
    assert rc == 4
    assert "credentials" in err and "wrong-pw" not in err and "s3cret" not in err


# ---------------------------------------------------------------- 9: disk full, bad paths
def test_out_into_a_missing_directory(clean_env, recording, tmp_path, capsys):
    rc, err = _run(["analyze", str(recording), "--out", str(tmp_path / "nope" / "steps.csv")], capsys)
    assert rc == 2 and "nope" in err


def test_summary_pointing_at_a_directory(clean_env, recording, tmp_path, capsys):
    rc, err = _run(["analyze", str(recording), "--summary", str(tmp_path)], capsys)
    assert rc == 2 and str(tmp_path) in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_output(clean_env, recording, capsys):
    rc, err = _run(["analyze", str(recording), "--out", "/dev/full"], capsys)
    assert rc == 2 and "No space left" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_disk_full_journal(clean_env, recording, tmp_path, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / "sessions.jsonl").symlink_to("/dev/full")
    rc, err = _run(["analyze", str(recording), "--runner", "ann"], capsys)
    assert rc == 2 and "No space left" in err


def test_spool_directory_problem_is_not_a_server_error(clean_env, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    clean_env.setenv("GAITMON_INFLUX_URL", "http://127.0.0.1:9")
    clean_env.setenv("GAITMON_INFLUX_DB", "gait")
    clean_env.setenv("GAITMON_SPOOL_DIR", str(blocker / "spool"))
    rc, err = _run(["store", "flush", "--timeout", "1"], capsys)
    assert rc == 2 and "GAITMON_SPOOL_DIR" in err
    rc, err = _run(["demo", "--duration", "20", "--speed", "0", "--no-live", "--no-report",
                    "--out-dir", str(tmp_path / "d")], capsys)
    assert rc == 2 and "GAITMON_SPOOL_DIR" in err


# ---------------------------------------------------------------- 10: config file
def test_non_utf8_config(clean_env, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b'GAITMON_INFLUX_URL = "http://h\xe9:8086"\n')
    clean_env.setenv("GAITMON_CONFIG", str(cfg))
    rc, err = _run(["store", "check"], capsys)
    assert rc == 2 and "UTF-8" in err


def test_lower_case_config_keys_are_named(clean_env, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('GAITMON_INFLUX_URL = "http://127.0.0.1:9"\ngaitmon_influx_db = "gait"\n')
    clean_env.setenv("GAITMON_CONFIG", str(cfg))
    rc, err = _run(["store", "check"], capsys)
    assert rc == 2 and "GAITMON_INFLUX_DB" in err and "upper case" in err


# ---------------------------------------------------------------- 11: single-leg clock jump
def test_single_leg_with_a_clock_jumping_back(clean_env, tmp_path, capsys):
    from gaitmon.sim.singleleg import SingleLegConfig, simulate_single_leg

    r = simulate_single_leg(SingleLegConfig(side="L"))
    t = r.time.copy()
    t[len(t) // 2:] -= 3600.0
    p = tmp_path / "sl.csv"
    write_recording(p, t, r.acc, r.gyr, {"forward": r.forward, "up": r.up})
    rc, err = _run(["test", "single-leg", str(p), "--side", "L", "--out", str(tmp_path / "o.json")], capsys)
    assert rc in (0, 2)


# ---------------------------------------------------------------- 12: misleading messages
def _write_text(path, text, bom=False):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())


def _csv(sep=",", quote=False):
    rows = np.column_stack([REC.time, REC.acc, REC.gyr])
    q = '"' if quote else ""
    lines = [sep.join(f"{q}{c}{q}" for c in REQUIRED)]
    lines += [sep.join(f"{q}{v:.5f}{q}" for v in r) for r in rows]
    return f"# forward: {REC.forward}\n# up: {REC.up}\n" + "\n".join(lines) + "\n"


def test_utf8_bom_is_read(clean_env, tmp_path, capsys):
    p = tmp_path / "bom.csv"
    _write_text(p, _csv().split("\n", 2)[2], bom=True)  # BOM then header (no comment lines)
    rc, err = _run(["analyze", str(p), f"--forward={REC.forward}", f"--up={REC.up}"], capsys)
    assert rc == 0, err


def test_quoted_csv_is_read(clean_env, tmp_path, capsys):
    p = tmp_path / "q.csv"
    _write_text(p, _csv(quote=True))
    rc, err = _run(["analyze", str(p)], capsys)
    assert rc == 0, err


@pytest.mark.parametrize("sep,name", [(";", "semicolons"), ("\t", "tabs")])
def test_other_separators_are_named(clean_env, tmp_path, sep, name, capsys):
    p = tmp_path / "s.csv"
    _write_text(p, _csv(sep=sep))
    rc, err = _run(["analyze", str(p)], capsys)
    assert rc == 2 and name in err


def test_all_equal_timestamps_are_bad_input_not_no_gait(clean_env, tmp_path, capsys):
    p = tmp_path / "t.csv"
    write_recording(p, np.zeros_like(REC.time), REC.acc, REC.gyr, {"forward": REC.forward, "up": REC.up})
    rc, err = _run(["analyze", str(p)], capsys)
    assert rc == 2 and "time" in err and "no gait" not in err


def test_long_runner_is_refused_like_the_variable(clean_env, recording, capsys):
    rc, err = _run(["analyze", str(recording), "--runner", "r" * 5000], capsys)
    assert rc == 2 and "256" in err

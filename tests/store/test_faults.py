"""No step lost: database outages (graceful stop and SIGKILL of influxd), a writer killed with
SIGKILL mid-stream and restarted, and both at once. Real influxd, real writer processes."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gaitmon.store import open_writer
from gaitmon.store.spool import Spool
from tests.servers import InfluxD
from tests.store.conftest import fast_cfg
from tests.store.helpers import assert_rows_match, expected_rows, tile_steps

REPO = Path(__file__).resolve().parents[2]
N_STEPS = 2000


@pytest.fixture
def own_influxd():
    """A server of this test alone: the test stops and kills it."""
    with InfluxD() as server:
        server.create_db("gait")
        yield server


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def stored(server, session):
    return server.rows(f"SELECT * FROM gait_step WHERE session = '{session}'", db="gait")


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_database_outage_mid_stream(how, own_influxd, tmp_path, sim_steps, t0_ns):
    steps = tile_steps(sim_steps, 3000)
    chunks = [steps[i:i + 25] for i in range(0, len(steps), 25)]
    cfg = fast_cfg(own_influxd.url, tmp_path, database="gait", batch_size=200)
    with open_writer(cfg) as w:
        for k, chunk in enumerate(chunks):
            if k == 30:
                wait_for(lambda: w.stats.spooled == 0, what="first 750 steps acknowledged")
                getattr(own_influxd, how)()              # graceful stop, or SIGKILL (crash)
                retries = w.stats.retries
            w.write_steps(chunk, sensor="s1", session=how, t0_unix_ns=t0_ns)
            if k == 30:
                wait_for(lambda: w.stats.retries > retries, what="the writer to notice the outage")
            if k == 80:
                # everything written during the outage is waiting in the spool
                assert w.stats.spooled == 51 * 25
                own_influxd.start()
            time.sleep(0.001)
        assert w.flush(30)
        st = w.stats
    assert st.queued == 3000 and st.spooled == 0 and st.rejected == 0 and st.sent >= 3000
    rows = stored(own_influxd, how)
    assert len(rows) == 3000
    assert_rows_match(rows, expected_rows(steps, runner="alice", sensor="s1", session=how, t0_unix_ns=t0_ns))


def _writer(env, steps_file, t0, start, session, chunk=10, pause=0.01):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer_proc", "--steps", str(steps_file), "--t0", str(t0),
         "--start", str(start), "--chunk", str(chunk), "--pause", str(pause), "--session", session],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(proc, at_least):
    """Read ``spooled N`` lines until N >= at_least; return the last N seen."""
    last = 0
    for line in proc.stdout:
        if line.startswith("spooled "):
            last = int(line.split()[1])
            if last >= at_least:
                return last
    raise AssertionError(f"writer ended early: {proc.wait()} {proc.stderr.read()[-2000:]}")


def _kill9(proc, last):
    """SIGKILL the writer; return the last index it confirmed (lines already in the pipe count)."""
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL
    for line in proc.stdout.read().splitlines():
        if line.startswith("spooled "):
            last = int(line.split()[1])
    return last


def _finish(proc):
    out, err = proc.communicate(timeout=90)
    done = [line for line in out.splitlines() if line.startswith("done ")]
    assert proc.returncode == 0 and done, f"writer failed ({proc.returncode}):\n{err[-3000:]}"
    return json.loads(done[0][5:])


def _pending(spool_dir):
    db = sqlite3.connect(Path(spool_dir) / Spool.FILENAME)
    try:
        return db.execute("SELECT coalesce(sum(n), 0) FROM points").fetchone()[0]
    finally:
        db.close()


@pytest.fixture
def crash_setup(own_influxd, tmp_path, sim_steps, t0_ns):
    steps = tile_steps(sim_steps, N_STEPS)
    steps_file = tmp_path / "steps.json"
    steps_file.write_text(json.dumps(steps))
    env = dict(os.environ, GAITMON_INFLUX_URL=own_influxd.url, GAITMON_INFLUX_DB="gait",
               GAITMON_RUNNER="alice", GAITMON_SPOOL_DIR=str(tmp_path / "spool"),
               GAITMON_INFLUX_FLUSH_INTERVAL_S="0.4", GAITMON_INFLUX_RETRY_MAX_S="0.3",
               GAITMON_INFLUX_TIMEOUT_S="5", GAITMON_INFLUX_BATCH_SIZE="5000",
               PYTHONPATH=str(REPO))
    return steps, steps_file, env, t0_ns


def test_writer_killed_mid_stream_loses_nothing(own_influxd, crash_setup, tmp_path):
    steps, steps_file, env, t0 = crash_setup
    p = _writer(env, steps_file, t0, 0, "kill9")
    last = _kill9(p, _read_until(p, 700))
    pending = _pending(tmp_path / "spool")
    assert pending > 0, "nothing was waiting in the spool at the kill: the test proves nothing"
    # restart, resuming after the last step the dead process confirmed as spooled
    stats = _finish(_writer(env, steps_file, t0, last, "kill9"))
    assert stats["flushed"] and stats["replayed"] == pending and stats["spooled"] == 0
    rows = stored(own_influxd, "kill9")
    assert len(rows) == N_STEPS
    assert_rows_match(rows, expected_rows(steps, runner="alice", sensor="s1", session="kill9", t0_unix_ns=t0))


def test_writer_killed_during_database_outage(own_influxd, crash_setup, tmp_path):
    steps, steps_file, env, t0 = crash_setup
    p = _writer(env, steps_file, t0, 0, "both")
    _read_until(p, 300)
    own_influxd.stop()                                   # database goes away ...
    last = _kill9(p, _read_until(p, 900))                # ... and the writer crashes
    pending = _pending(tmp_path / "spool")
    assert pending >= 900 - 300 - 10                     # the outage's steps wait in the spool
    p = _writer(env, steps_file, t0, last, "both")       # restart while the database is down
    _read_until(p, 1400)
    own_influxd.start()                                  # database back
    stats = _finish(p)
    assert stats["flushed"] and stats["replayed"] == pending and stats["spooled"] == 0
    assert stats["retries"] > 0
    rows = stored(own_influxd, "both")
    assert len(rows) == N_STEPS
    assert_rows_match(rows, expected_rows(steps, runner="alice", sensor="s1", session="both", t0_unix_ns=t0))

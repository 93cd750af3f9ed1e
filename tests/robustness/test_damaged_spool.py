"""Issue 12 item 4: a damaged spool loses no readable point, and a poison row never blocks the
rows behind it (real influxd 1.6.7)."""
from __future__ import annotations

import sqlite3
import time

from gaitmon.cli import main
from gaitmon.store import open_writer
from gaitmon.store.spool import Spool
from tests.servers import free_port
from tests.store.conftest import fast_cfg
from tests.store.helpers import expected_rows, tile_steps

from gaitmon.core import analyze
from tests.robustness.conftest import REC

STEPS = analyze(REC.time, REC.acc, REC.gyr, forward=REC.forward, up=REC.up).steps
T0 = 1767607200000000000


def _spool_with_points(tmp_path, n=3000):
    """A spool holding n steps written while the server was down; returns the steps."""
    steps = tile_steps(STEPS, n)
    w = open_writer(fast_cfg(f"http://127.0.0.1:{free_port()}", tmp_path / "spool", database="x"))
    w.write_steps(steps, sensor="s1", session="a", t0_unix_ns=T0)
    w.close(timeout=0.1)
    return steps


def _stored(influxd, db):
    rows = influxd.rows('SELECT count("quality") FROM "gait_step"', db=db)
    return int(rows[0]["count"]) if rows else 0


def test_truncated_spool_is_salvaged(influx_env, influxd, db, tmp_path, capsys):
    steps = _spool_with_points(tmp_path)
    path = tmp_path / "spool" / "spool.sqlite3"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # disk full / power cut mid-write
    assert main(["store", "check"]) == 0
    out = capsys.readouterr().out
    assert "damaged file kept aside" in out and "points recovered" in out
    assert "0 points waiting" not in out
    assert main(["store", "flush", "--timeout", "30"]) == 0
    n = _stored(influxd, db)
    assert n >= len(steps) // 3  # what the surviving bytes hold reaches the server


def test_garbage_header_is_salvaged(influx_env, influxd, db, tmp_path, capsys):
    steps = _spool_with_points(tmp_path, 2000)
    path = tmp_path / "spool" / "spool.sqlite3"
    data = bytearray(path.read_bytes())
    data[:100] = b"\xde\xad\xbe\xef" * 25  # not an SQLite file any more
    path.write_bytes(bytes(data))
    assert main(["store", "flush", "--timeout", "30"]) == 0, capsys.readouterr().err
    assert _stored(influxd, db) >= len(steps) * 9 // 10
    rows = influxd.rows('SELECT * FROM "gait_step"', db=db)
    want = expected_rows(steps, runner="alice", sensor="s1", session="a", t0_unix_ns=T0)
    for r in rows:  # every recovered point is exactly one that was written
        have = {k: v for k, v in r.items() if k != "time" and v is not None}
        assert have == want[r["time"]]


def test_poison_rows_are_isolated_and_the_rest_delivered(influx_env, influxd, db, tmp_path, capsys):
    sp = Spool(tmp_path / "spool", max_bytes=10**8)
    sp.append(0, [f"gait_step,runner=a,sensor=s,session=x,side=L,activity=run quality=0.5 {T0 + i}"
                  for i in range(10)])
    sp.close()
    con = sqlite3.connect(tmp_path / "spool" / "spool.sqlite3")
    con.execute("INSERT INTO points(target, n, lines) VALUES (0, 1, 'garbage text row')")  # TEXT
    con.execute("INSERT INTO points(target, n, lines) VALUES (0, 1, 12345)")  # not lines at all
    con.execute("INSERT INTO points(target, n, lines) VALUES (7, 1, X'6d20763d3120310a')")  # unknown target
    good = "\n".join(f"gait_step,runner=a,sensor=s,session=x,side=L,activity=run quality=0.7 {T0 + 50 + i}"
                     for i in range(5))
    con.execute("INSERT INTO points(target, n, lines) VALUES (0, 100000, ?)", (good.encode(),))  # wrong count
    con.commit()
    con.close()
    sp = Spool(tmp_path / "spool", max_bytes=10**8)
    sp.append(0, [f"gait_step,runner=a,sensor=s,session=x,side=R,activity=run quality=0.5 {T0 + 100 + i}"
                  for i in range(10)])
    sp.close()
    t = time.monotonic()
    rc = main(["store", "flush", "--timeout", "15"])
    waited = time.monotonic() - t
    err = capsys.readouterr().err
    assert waited < 10  # a wrong row count used to keep `pending` above zero until the timeout
    assert rc == 4 and "not stored" in err
    assert "not everything was sent" not in err  # a wrong row count does not hold flush up
    assert _stored(influxd, db) == 25
    assert main(["store", "rejected"]) == 0
    out = capsys.readouterr().out
    assert "3 points refused" in out or "unreadable spool row" in out
    sp = Spool(tmp_path / "spool", max_bytes=10**8)
    assert sp.pending == 0 and sp.rejected_count() == 3
    sp.close()

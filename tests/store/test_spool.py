"""The SQLite spool: order, durability across reopen and crash, bound, damaged files."""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from gaitmon.store import SpoolError
from gaitmon.store.spool import Spool


def lines_of(rows):
    return [line for r in rows for line in r[3].decode().split("\n")]


def test_fifo_order_targets_and_ack(tmp_path):
    sp = Spool(tmp_path, max_bytes=10**6)
    assert sp.append(0, [f"a{i}" for i in range(5)]) == 5
    assert sp.append(1, ["s0", "s1"]) == 2
    assert sp.append(0, ["a5"]) == 1
    assert sp.append(0, ["a6", "a7"]) == 2
    rows = sp.peek(100)
    assert lines_of(rows) == [f"a{i}" for i in range(5)]      # one target per batch
    assert [r[2] for r in rows] == [5]
    sp.ack(rows)
    rows = sp.peek(100)
    assert [(r[1], r[3]) for r in rows] == [(1, b"s0\ns1")]
    sp.ack(rows)
    rows = sp.peek(100)
    assert lines_of(rows) == ["a5", "a6", "a7"] and sp.pending == 3
    assert lines_of(sp.peek(2)) == ["a5"]                      # batch limit counts points
    assert lines_of(sp.peek(0)) == ["a5"]                      # ... but never returns nothing
    sp.ack(rows)
    assert sp.peek(10) == [] and sp.pending == 0 and sp.pending_bytes == 0
    sp.close()


def test_large_appends_are_split_into_rows(tmp_path):
    sp = Spool(tmp_path, max_bytes=10**8)
    lines = [f"p{i}" for i in range(Spool.ROW_POINTS * 3 + 7)]
    assert sp.append(0, lines) == len(lines)
    rows = sp.peek(10**6)
    assert [r[2] for r in rows] == [Spool.ROW_POINTS] * 3 + [7]
    assert lines_of(rows) == lines
    assert [r[2] for r in sp.peek(2 * Spool.ROW_POINTS)] == [Spool.ROW_POINTS] * 2
    assert sp.pending_bytes == sum(len(r[3]) for r in rows)
    sp.close()


def test_pending_points_survive_reopen_in_order(tmp_path):
    sp = Spool(tmp_path, max_bytes=10**6)
    for i in range(0, 1000, 10):
        sp.append(0, [f"p{j}" for j in range(i, i + 10)])
    sp.ack(sp.peek(10))
    sp.close()
    sp = Spool(tmp_path, max_bytes=10**6)
    assert sp.pending == 990
    assert lines_of(sp.peek(5))[:5] == ["p10", "p11", "p12", "p13", "p14"]
    assert lines_of(sp.peek(10**6)) == [f"p{j}" for j in range(10, 1000)]
    sp.close()


def test_ids_are_never_reused(tmp_path):
    """A second process acking a stale batch must never delete newer points."""
    sp = Spool(tmp_path, max_bytes=10**6)
    sp.append(0, ["a", "b"])
    stale = sp.peek(10)
    other = Spool(tmp_path, max_bytes=10**6)          # another process on the same spool
    other.ack(other.peek(10))                         # ... sends and removes them
    sp.append(0, ["c"])                               # a new point: must get a fresh id
    sp.ack(stale)                                     # stale ack of a, b
    assert lines_of(other.peek(10)) == ["c"]
    sp.close()
    other.close()


def test_append_survives_kill_9(tmp_path):
    """Whatever append() returned for is on disk even if the process dies right after."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from gaitmon.store.spool import Spool
        sp = Spool({str(tmp_path)!r}, max_bytes=10**8, sync="normal")
        for i in range(50):
            sp.append(0, [f"line{{i}}-{{j}}" for j in range(100)])
        print("appended", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == -signal.SIGKILL and "appended" in p.stdout
    sp = Spool(tmp_path, max_bytes=10**8)
    assert sp.pending == 5000
    got = lines_of(sp.peek(10**6))
    assert len(got) == 5000 and got[0] == "line0-0" and got[-1] == "line49-99"
    sp.close()


def test_bound_accepts_what_fits_and_warns(tmp_path, caplog):
    sp = Spool(tmp_path, max_bytes=1000)                   # 10 lines of 99 chars + separators
    with caplog.at_level(logging.WARNING, logger="gaitmon.store.spool"):
        assert sp.append(0, ["x" * 99] * 7) == 7
        assert "full" not in caplog.text
        assert sp.append(0, ["y" * 99] * 5) == 3
    assert "% full" in caplog.text
    assert sp.pending == 10 and sp.pending_bytes == 7 * 99 + 6 + 3 * 99 + 2
    assert sp.append(0, ["z" * 5]) == 0
    sp.ack(sp.peek(7))
    assert sp.append(0, ["z" * 99] * 8) == 7
    sp.close()


def test_refused_points_are_kept_aside(tmp_path):
    sp = Spool(tmp_path, max_bytes=10**6)
    sp.append(0, ["good1", "bad", "good2"])
    sp.append(0, ["later"])
    (row,) = sp.peek(3)
    sp.reject(row, [("bad", "HTTP 400: unable to parse")])
    assert lines_of(sp.peek(10)) == ["later"] and sp.pending == 1
    assert sp.rejected_count() == 1
    assert sp.rejected_rows() == [("bad", "HTTP 400: unable to parse")]
    sp.close()


def test_damaged_file_is_moved_aside(tmp_path, caplog):
    (tmp_path / Spool.FILENAME).write_bytes(b"this is not an sqlite database" * 100)
    with caplog.at_level(logging.ERROR, logger="gaitmon.store.spool"):
        sp = Spool(tmp_path, max_bytes=10**6)
    assert "damaged" in caplog.text
    assert any(p.name.startswith(Spool.FILENAME + ".corrupt-") for p in tmp_path.iterdir())
    assert sp.append(0, ["a"]) == 1
    sp.close()


def test_unusable_directory_is_a_clear_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SpoolError, match="GAITMON_SPOOL_DIR"):
        Spool(f / "sub", max_bytes=10)


def test_wal_mode(tmp_path):
    Spool(tmp_path, max_bytes=10).close()
    db = sqlite3.connect(tmp_path / Spool.FILENAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA page_size").fetchone()[0] == 65536
    db.close()

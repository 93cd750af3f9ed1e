"""Local durable spool of line-protocol points: SQLite in WAL mode.

Why SQLite (WAL) rather than an append-only file: a point must leave the spool only once the
server acknowledged it, in any order of batches and across crashes. With a file that needs an
offset journal, torn-write detection and compaction; SQLite gives atomic multi-row commits
(``executemany`` of thousands of rows in one transaction), crash-safe deletes of acknowledged
rows, concurrent readers next to a writer (WAL), and stdlib availability. ``synchronous=FULL``
makes every committed append survive power loss; ``NORMAL`` survives a process crash (``kill
-9``) but may lose the last commits on a power cut.

A row holds up to :attr:`Spool.ROW_POINTS` points of one ``append`` (their lines joined by
``\n``, UTF-8, stored as a BLOB ready to be posted): one SQLite row per few hundred points
instead of one per point, and 64 KiB pages, keep the spool's cost per point small (insert,
read and delete are per row). Rows keep their insertion order
(``AUTOINCREMENT`` ids are never reused, even when two processes share the spool), so a replay
after restart sends points in the order they were written. Points the server refuses for good
move, one line each, to a ``rejected`` table (kept for inspection).
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Collection, Sequence

from .errors import SpoolError

__all__ = ["Spool", "SpoolRow"]

log = logging.getLogger("gaitmon.store.spool")

SpoolRow = tuple[int, int, int, bytes]  # (id, target, number of points, UTF-8 lines joined by "\n")

#: measurements gaitmon writes, and their spool target (0 raw, 1 summary) — used to recover
#: points from a damaged spool file whose table structure cannot be read any more
_MEASUREMENT_TARGET = {b"gait_step": 0, b"sensor_status": 0, b"gait_session": 1, b"exercise": 1,
                       b"single_leg_test": 1, b"fatigue": 1}
# a complete line: a known measurement, tags, fields, and a 19-digit timestamp (2001..2286); a
# fragment cut by a page boundary misses its start or its full timestamp and is not taken
_LINE = re.compile(rb"^(" + b"|".join(_MEASUREMENT_TARGET) + rb"),[^ ].* [^ ].* \d{19}$", re.S)
_SEPARATORS = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target INTEGER NOT NULL,
    n INTEGER NOT NULL,
    lines BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target INTEGER NOT NULL,
    line TEXT NOT NULL,
    reason TEXT NOT NULL,
    at_unix_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema', '1');
"""


class Spool:
    """Durable FIFO of line-protocol points per target in ``<directory>/spool.sqlite3``.

    Thread-safe (one connection behind a lock). ``max_bytes`` bounds the summed size of the
    pending lines: :meth:`append` accepts what fits and returns that count; the caller counts
    and logs the rest. A warning is logged once when the spool passes 80 % of its bound.
    Lines must not contain a raw newline (line protocol escapes them in tags and keys; gaitmon
    refuses them in string fields).
    """

    FILENAME = "spool.sqlite3"
    ROW_POINTS = 500

    def __init__(self, directory: str | os.PathLike, *, max_bytes: int, sync: str = "full"):
        self.directory = Path(directory)
        self.path = self.directory / self.FILENAME
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._warned_high = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SpoolError(f"cannot create spool directory {self.directory} (GAITMON_SPOOL_DIR): "
                             f"{e.strerror}") from None
        try:
            self._db = self._open(sync)
        except sqlite3.DatabaseError as e:
            if not self.path.exists() or isinstance(e, sqlite3.OperationalError):  # locked, no access
                raise SpoolError(f"cannot open spool {self.path} (GAITMON_SPOOL_DIR): {e}") from None
            # a damaged file (disk full mid-write, foreign file): keep it aside, start afresh
            aside = self.path.with_name(f"{self.FILENAME}.corrupt-{int(time.time())}")
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                try:
                    os.replace(str(self.path) + suffix, str(aside) + suffix)
                except FileNotFoundError:
                    pass
            self._db = self._open(sync)
            self._recount()
            recovered, unreadable = self._salvage(aside)
            note = (f"{recovered} points recovered into the new spool"
                    + (f", {unreadable} unreadable fragments left in it" if unreadable else ""))
            log.error("spool %s is damaged (%s); moved it to %s and started a new one: %s",
                      self.path, e, aside, note)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"salvage:{aside.name}", note))
        self.quarantined = 0  # unreadable rows moved to the rejected table by peek()
        self._recount()

    def _salvage(self, aside: Path) -> tuple[int, int]:
        """Copy every point that can still be read from the damaged file ``aside`` (and its
        WAL) into this spool: rows through SQLite as far as it reads, then every complete
        line found in the raw bytes. Re-sending a point already stored is harmless (same key).
        Returns (points recovered, unreadable fragments that looked like points)."""
        found: dict[bytes, int] = {}
        try:
            ro = sqlite3.connect(f"file:{aside}?mode=ro&immutable=1", uri=True)
            try:
                for target, lines in ro.execute("SELECT target, lines FROM points ORDER BY id"):
                    if isinstance(lines, str):
                        lines = lines.encode()
                    if isinstance(lines, bytes) and target in (0, 1):
                        for line in lines.split(b"\n"):
                            if _LINE.match(line):
                                found.setdefault(line, target)
            finally:
                ro.close()
        except sqlite3.Error:
            pass  # not readable as a database (any more): the raw scan below finds the lines
        unreadable = 0
        for path in (aside, Path(str(aside) + "-wal")):
            try:
                raw = path.read_bytes()
            except OSError:
                continue
            for frag in _SEPARATORS.split(raw):
                m = _LINE.match(frag)
                if m:
                    found.setdefault(frag, _MEASUREMENT_TARGET[m.group(1)])
                elif any(k in frag for k in _MEASUREMENT_TARGET):
                    unreadable += 1
        valid = {}
        for line, target in found.items():
            try:
                valid.setdefault(target, []).append(line.decode("utf-8"))
            except UnicodeDecodeError:
                unreadable += 1
        n = 0
        saved, self.max_bytes = self.max_bytes, max(self.max_bytes, 1 << 62)  # salvage never drops
        try:
            for target, lines in sorted(valid.items()):
                n += self.append(target, lines)
        finally:
            self.max_bytes = saved
        return n, unreadable

    def salvage_notes(self) -> list[str]:
        """What was recovered from damaged spool files (``<file>: <what>``), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta WHERE key LIKE 'salvage:%' ORDER BY key").fetchall()
        return [f"{self.directory / k.split(':', 1)[1]}: {v}" for k, v in rows]

    def _recount(self) -> None:
        self._count, self._bytes = self._db.execute(
            "SELECT coalesce(sum(n), 0), coalesce(sum(length(lines)), 0) FROM points").fetchone()

    def _open(self, sync: str) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA page_size=65536")  # effective for a new file: fewer overflow pages
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA wal_autocheckpoint=256")
            db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
            db.execute("PRAGMA journal_size_limit=67108864")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM points").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    # ------------------------------------------------------------------------------------------
    def append(self, target: int, lines: Sequence[str]) -> int:
        """Append ``lines`` for ``target`` in one transaction; return how many were accepted
        (fewer than ``len(lines)`` only when the spool is full). Durable when this returns."""
        if not lines:
            return 0
        with self._lock:
            budget = self.max_bytes - self._bytes
            n = 0
            need = 0
            for line in lines:
                need += len(line) + 1  # + its separator
                if need > budget:
                    break
                n += 1
            if n:
                step = self.ROW_POINTS
                rows = [(target, min(step, n - i), "\n".join(lines[i:min(i + step, n)]).encode())
                        for i in range(0, n, step)]
                size = sum(len(r[2]) for r in rows)
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany("INSERT INTO points(target, n, lines) VALUES (?, ?, ?)", rows)
                    self._db.execute("COMMIT")
                except sqlite3.Error as e:
                    self._rollback()
                    raise SpoolError(f"cannot write to spool {self.path}: {e}") from None
                self._count += n
                self._bytes += size
            if not self._warned_high and self._bytes > 0.8 * self.max_bytes:
                self._warned_high = True
                log.warning("spool %s is %.0f%% full (%d points, %.1f MB of %.1f MB): the server "
                            "has not acknowledged points for a while", self.path,
                            100 * self._bytes / self.max_bytes, self._count, self._bytes / 1e6,
                            self.max_bytes / 1e6)
            return n

    def peek(self, limit: int, skip: Collection[int] = ()) -> list[SpoolRow]:
        """The oldest pending rows of one target, oldest first, holding at most ``limit``
        points (but always at least one row); rows whose id is in ``skip`` (being sent by
        another thread) are passed over."""
        chosen: list[tuple[int, int, int]] = []
        total = 0
        with self._lock:
            # ids first (cheap: the BLOB's overflow pages are not read), then the chosen lines
            cur = self._db.execute("SELECT id, target, n FROM points ORDER BY id LIMIT ?",
                                   (max(1, int(limit)) + len(skip),))
            for row in cur:
                if row[0] in skip:
                    continue
                if chosen and (row[1] != chosen[0][1] or total + row[2] > limit):
                    break
                chosen.append(row)
                total += row[2]
            cur.close()
            if not chosen and not skip:
                self._count, self._bytes = 0, 0  # resync (another process may have drained it)
            rows = []
            poison = []
            fixed = []
            for row_id, target, n in chosen:
                got = self._db.execute("SELECT lines FROM points WHERE id = ?", (row_id,)).fetchone()
                if got is None:  # another process sent and removed it meanwhile
                    continue
                lines = got[0]
                if isinstance(lines, str):  # written as TEXT by another tool: same lines
                    lines = lines.encode("utf-8", "surrogateescape")
                if not isinstance(lines, bytes) or target not in (0, 1) or not lines.strip():
                    poison.append((row_id, target, lines))
                    continue
                real_n = lines.count(b"\n") + 1
                if real_n != n:  # a damaged count would keep `pending` above zero for ever
                    fixed.append((real_n, row_id))
                    self._count += real_n - n
                rows.append((row_id, target, real_n, lines))
            if fixed:
                try:
                    self._db.executemany("UPDATE points SET n = ? WHERE id = ?", fixed)
                except sqlite3.Error as e:
                    raise SpoolError(f"cannot repair point counts in spool {self.path}: {e}") from None
            if poison:
                self._quarantine_locked(poison)
        return rows

    def _quarantine_locked(self, poison) -> None:
        """Move unreadable rows (not line protocol bytes, unknown target) to ``rejected`` so they
        never block the rows behind them. Caller holds the lock."""
        now = time.time()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for row_id, target, lines in poison:
                self._db.execute("INSERT INTO rejected(target, line, reason, at_unix_s) VALUES (?, ?, ?, ?)",
                                 (target if target in (0, 1) else -1, repr(lines)[:1000],
                                  f"unreadable spool row {row_id} ({type(lines).__name__}, target {target!r})",
                                  now))
                self._db.execute("DELETE FROM points WHERE id = ?", (row_id,))
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise SpoolError(f"cannot move unreadable rows aside in spool {self.path}: {e}") from None
        self.quarantined += len(poison)
        log.error("%d unreadable row(s) of spool %s moved to its rejected table", len(poison), self.path)
        self._recount()

    def ack(self, rows: Sequence[SpoolRow]) -> None:
        """Remove rows whose points the server acknowledged (as returned by :meth:`peek`)."""
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                cur = self._db.executemany("DELETE FROM points WHERE id = ?", [(r[0],) for r in rows])
                deleted = cur.rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback()
                raise SpoolError(f"cannot remove sent points from spool {self.path}: {e}") from None
            self._forget(rows, deleted)

    def reject(self, row: SpoolRow, refused: Sequence[tuple[str, str]]) -> None:
        """Remove ``row`` once its points were either acknowledged or refused for good; the
        refused ``(line, reason)`` pairs go to the ``rejected`` table. One transaction."""
        now = time.time()
        refused = [(line.decode("utf-8", "replace") if isinstance(line, bytes) else line, reason)
                   for line, reason in refused]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT INTO rejected(target, line, reason, at_unix_s) "
                                     "VALUES (?, ?, ?, ?)", [(row[1], line, reason, now) for line, reason in refused])
                deleted = self._db.execute("DELETE FROM points WHERE id = ?", (row[0],)).rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._rollback()
                raise SpoolError(f"cannot move refused points in spool {self.path}: {e}") from None
            self._forget([row], deleted)

    def _forget(self, rows: Sequence[SpoolRow], deleted: int) -> None:
        if deleted == len(rows):
            self._count -= sum(r[2] for r in rows)
            self._bytes -= sum(len(r[3]) for r in rows)
        else:  # another process removed some of them first: recount
            self._recount()
        if self._bytes < 0.5 * self.max_bytes:
            self._warned_high = False

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    # ------------------------------------------------------------------------------------------
    @property
    def pending(self) -> int:
        """Points waiting to be acknowledged (as known to this process)."""
        return self._count

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def rejected_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM rejected").fetchone()[0]

    def rejected_rows(self, limit: int = 100) -> list[tuple[str, str]]:
        """``(line, reason)`` of refused points, oldest first."""
        with self._lock:
            return self._db.execute("SELECT line, reason FROM rejected ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()

    def close(self) -> None:
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()

"""Storage benchmark: ``python -m benchmarks.store_bench [--points N] [--repeat R]``.

Against real influxd servers (Debian 1.6.7, started in a temp dir exactly like the tests do; a
fresh one per run so no run waits for the compactions of the previous one) it measures

* sustained points/s through the StepWriter with the spool on: encode -> SQLite spool commit
  -> (gzip) -> HTTP (two batches in flight) -> acknowledged -> removed from the spool, from the
  first ``write_steps`` call to the last acknowledgement, for calls of 1000 steps (import,
  back-fill) and of 10 steps (live-like: per-call overhead dominates);
* writer CPU per 1,000 steps (this process: caller and sender threads) and influxd's CPU;
* spool replay rate: points spooled while influxd was stopped, drained once it is back;
* the parts alone: encoding, spool append, spool peek+ack.

It prints one table (median and best of ``--repeat`` runs). Numbers depend on the machine and
on what else runs on it (the load average is printed); nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from gaitmon.store import StoreConfig, open_writer
from gaitmon.store.lineproto import encode_steps
from gaitmon.store.schema import RAW
from gaitmon.store.spool import Spool
from tests.servers import InfluxD
from tests.store.helpers import tile_steps


def _base_steps():
    from gaitmon.core import analyze
    from gaitmon.sim import SimConfig, simulate

    rec = simulate(SimConfig(activity="run", fs=200.0, duration_s=60.0, seed=1))
    return analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up).steps


def _cpu_of(pid: int) -> float:
    """utime+stime of a process, s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cfg(url: str, spool: Path, **kw) -> StoreConfig:
    base = dict(url=url, database="bench", runner="bench", spool_dir=spool, batch_size=10000,
                flush_interval_s=0.2, retry_max_s=0.2)
    base.update(kw)
    return StoreConfig(**base).validated()


def sustained(server: InfluxD, steps, chunk: int, tmp: Path, session: str, **kw):
    """Write ``steps`` in calls of ``chunk``, flush; return (points/s, writer CPU s per point,
    influxd CPU s per point, HTTP requests)."""
    cfg = _cfg(server.url, tmp / f"spool-{session}", **kw)
    t0_ns = time.time_ns() - 10**12
    with open_writer(cfg) as w:
        cpu0, icpu0, wall0 = time.process_time(), _cpu_of(server.pid), time.perf_counter()
        for i in range(0, len(steps), chunk):
            w.write_steps(steps[i:i + chunk], sensor="s", session=session, t0_unix_ns=t0_ns)
        assert w.flush(600), "benchmark run did not drain"
        wall, cpu, icpu = time.perf_counter() - wall0, time.process_time() - cpu0, _cpu_of(server.pid) - icpu0
        stats = w.stats
    n = len(steps)
    got = server.rows(f"SELECT count(step_time_s) FROM gait_step WHERE session = '{session}'", db="bench")
    assert got and got[0]["count"] == n == stats.sent, (got, n, stats)
    return n / wall, cpu / n * 1000, icpu / n * 1000, stats.batches


def replay(server: InfluxD, steps, spool: Path):
    """Spool everything while influxd is stopped, start it, time the drain."""
    cfg = _cfg(server.url, spool)
    server.stop()
    w = open_writer(cfg)
    w.write_steps(steps, sensor="s", session="replay", t0_unix_ns=time.time_ns() - 10**12)
    assert w.stats.spooled == len(steps)
    server.start()
    t = time.perf_counter()
    assert w.flush(600)
    dt = time.perf_counter() - t
    w.close()
    return len(steps) / dt


def parts(steps, tmp: Path):
    t = time.perf_counter()
    enc = encode_steps(steps, runner="bench", sensor="s", session="x", t0_unix_ns=10**18)
    t_enc = time.perf_counter() - t
    sp = Spool(tmp / "spool-parts", max_bytes=10**10, sync="full")
    t = time.perf_counter()
    for i in range(0, len(enc.lines), 1000):
        sp.append(RAW, enc.lines[i:i + 1000])
    t_app = time.perf_counter() - t
    t = time.perf_counter()
    while rows := sp.peek(10000):
        sp.ack(rows)
    t_ack = time.perf_counter() - t
    sp.close()
    n = len(steps)
    return n / t_enc, n / t_app, n / t_ack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=150_000, help="steps per run (default 150000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (default 3)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the replay run's outage warnings are expected
    console = Console(width=150)
    steps = tile_steps(_base_steps(), args.points)
    runs = [("calls of 1000 steps, spool sync=full, gzip auto (off: loopback)", 1000, {}),
            ("calls of 1000 steps, spool sync=normal, gzip auto (off)", 1000, {"spool_sync": "normal"}),
            ("calls of 1000 steps, spool sync=full, gzip on", 1000, {"gzip": True}),
            ("live-like calls of 10 steps, spool sync=full, gzip auto (off)", 10, {})]
    results: dict[int, list[tuple[float, float, float, int]]] = {i: [] for i in range(len(runs))}
    with tempfile.TemporaryDirectory(prefix="gaitmon-bench-") as d:
        tmp = Path(d)
        for rep in range(args.repeat):                      # interleaved, so load spikes spread out
            for run, (label, chunk, kw) in enumerate(runs):
                with InfluxD(tmp / f"influxd-{run}-{rep}") as server:  # fresh server: no compaction
                    server.create_db("bench")                          # of an earlier run in the way
                    results[run].append(sustained(server, steps, chunk, tmp, f"run{run}x{rep}", **kw))
        replays = []
        for rep in range(args.repeat):
            with InfluxD(tmp / f"influxd-replay-{rep}") as server:
                server.create_db("bench")
                replays.append(replay(server, steps, tmp / f"r{rep}"))
    with tempfile.TemporaryDirectory(prefix="gaitmon-bench-parts-") as d:
        enc, app, ack = parts(steps, Path(d))

    table = Table(title=f"gaitmon.store -> influxd {args.points:,} gait_step points per run, "
                        f"{args.repeat} runs each (median \\[best]), {os.cpu_count()} CPUs, "
                        f"load avg {os.getloadavg()[0]:.1f}")
    for col in ("measurement", "points/s", "writer CPU ms per 1,000 steps", "influxd CPU ms per 1,000"):
        table.add_column(col, justify="right" if col != "measurement" else "left")
    for run, (label, _, _) in enumerate(runs):
        r = results[run]
        rates = [x[0] for x in r]
        table.add_row(f"sustained: {label}", f"{statistics.median(rates):,.0f} [{max(rates):,.0f}]",
                      f"{statistics.median(x[1] for x in r) * 1000:.1f}",
                      f"{statistics.median(x[2] for x in r) * 1000:.1f}")
    table.add_row("spool replay after an outage (sync=full, gzip auto)",
                  f"{statistics.median(replays):,.0f} [{max(replays):,.0f}]", "", "")
    table.add_row("parts: encode gait_step lines (one core)", f"{enc:,.0f}", "", "")
    table.add_row("parts: spool append, 1000 per commit, sync=full", f"{app:,.0f}", "", "")
    table.add_row("parts: spool peek + ack, 10000 per commit", f"{ack:,.0f}", "", "")
    console.print(table)


if __name__ == "__main__":
    main()

"""End-to-end ``gaitmon analyze`` on long recordings: ``python -m benchmarks analyze``.

What it times, side by side:

* **kernel alone** — ``gaitmon.core.analyze`` on arrays already in memory (no file, no parsing):
  the figure the README used to quote for "1 h in 0.13 s";
* **end to end** — the ``gaitmon analyze FILE --summary S.json`` command in a subprocess, the way a
  user runs it: start-up, header, pyarrow's streaming CSV reader, unit handling, the streaming core
  chunk by chunk, summary. Samples/s over wall time, and over the child's CPU time (user + sys:
  the per-core figure, as reading and the core run on one thread); peak RSS of the child
  (``wait4`` ru_maxrss) — the whole process, Python and numba included.

Recordings: ``--hours`` (default 1 6 24) of 200 Hz running written as CSV (a simulated 10-min
session tiled with continuous time, ~60 bytes a row), in a temporary directory. The 24-hour file
is ~1 GB and takes a minute or two to write.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Stopwatch, console, long_run, machine_line, table, verdict

TARGET_SPS = 2e6
TARGET_RSS_MB = 250.0


def write_csv(path: Path, t, acc, gyr, fwd: str, up: str) -> None:
    """The recording format (docs/recording-format.md), written with pyarrow (fast)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "wb") as fh:
        fh.write(f"# sensor: bench\n# forward: {fwd}\n# up: {up}\n".encode())
        cols = {"time_s": t, "acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]}
        # 5 decimals, like gaitmon simulate / the collectors
        tab = pa.table({k: pa.array(np.round(v, 5)) for k, v in cols.items()})
        pacsv.write_csv(tab, fh)


_WRAPPER = """
import os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
anon = 0
while True:
    pid, st, ru = os.wait4(p.pid, os.WNOHANG)
    if pid:
        break
    try:
        for line in open(f"/proc/{p.pid}/status"):
            if line.startswith("RssAnon:"):
                anon = max(anon, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.02)
print(os.waitstatus_to_exitcode(st), time.perf_counter() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, anon)
"""


def run_cli(path: Path, out: Path) -> dict:
    """Run the command from a small wrapper process (ru_maxrss of a child forked from this large
    benchmark process would include pages it shared with it) that also samples the child's
    anonymous memory (RssAnon, every 20 ms): its own heap, as opposed to the file-backed pages
    of shared libraries (LLVM for numba, Arrow) that RSS includes and the kernel can evict."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    r = subprocess.run([sys.executable, "-S", "-c", _WRAPPER, sys.executable, "-m", "gaitmon", "analyze",
                        str(path), "--summary", str(out)], capture_output=True, text=True, env=env)
    rc, wall, cpu, rss, anon = r.stdout.split()
    if int(rc) != 0:
        raise RuntimeError(f"gaitmon analyze failed: {r.stderr[-500:]}")
    return {"wall": float(wall), "cpu": float(cpu), "rss_mb": int(rss) / 1024.0, "anon_mb": int(anon) / 1024.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks analyze", description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 6.0, 24.0])
    ap.add_argument("--fs", type=float, default=200.0)
    ap.add_argument("--keep", type=Path, default=None, help="write the recordings here and keep them")
    args = ap.parse_args(argv)
    console.print(f"analyze end to end — {machine_line()}")
    base_t, base_a, base_g, fwd, up = long_run(1.0, fs=args.fs)
    # kernel alone, 1 h in memory (JIT warmed up first)
    from gaitmon.core import analyze

    analyze(base_t[:40_000], base_a[:40_000], base_g[:40_000], forward=fwd, up=up)
    walls = []
    for _ in range(3):
        with Stopwatch() as sw:
            analyze(base_t, base_a, base_g, forward=fwd, up=up)
        walls.append(sw.s)
    kernel_sps = len(base_t) / min(walls)
    # warm the CLI's numba cache once (a short file)
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="gaitmon-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    warm = tmp / "warm.csv"
    write_csv(warm, base_t[:24_000], base_a[:24_000], base_g[:24_000], fwd, up)
    run_cli(warm, tmp / "warm.json")
    rows = [("kernel alone: core.analyze on 1 h in memory (best of 3)", f"{kernel_sps / 1e6:.2f} M samples/s",
             f"{min(walls):.3f} s", "", "", "", "")]
    results = []
    period = base_t[-1] - base_t[0] + 1.0 / args.fs
    for h in args.hours:
        reps = max(1, int(round(h)))  # base is 1 h
        path = tmp / f"run-{h:g}h.csv"
        if not path.exists():
            with Stopwatch() as sw:
                import pyarrow as pa  # noqa: F401

                with open(path, "wb") as fh:
                    pass
                # write hour by hour (memory of one hour)
                for k in range(reps):
                    part = tmp / "part.csv"
                    write_csv(part, base_t + k * period, base_a, base_g, fwd, up)
                    data = part.read_bytes()
                    if k:  # drop the comment lines and header of the later parts
                        data = data.split(b"\n", 4)[4]
                    with open(path, "ab") as fh:
                        fh.write(data)
                    part.unlink()
            console.print(f"wrote {path.name}: {path.stat().st_size / 1e6:.0f} MB in {sw.s:.0f} s")
        n = reps * len(base_t)
        r = run_cli(path, tmp / f"run-{h:g}h.json")
        results.append((h, n, r))
        rows.append((f"end to end: gaitmon analyze, {h:g} h ({n / 1e6:.1f} M samples, "
                     f"{path.stat().st_size / 1e6:.0f} MB)",
                     f"{n / r['wall'] / 1e6:.2f} M samples/s", f"{r['wall']:.1f} s",
                     f"{n / r['cpu'] / 1e6:.2f} M", f"{r['rss_mb']:.0f} MB", f"{r['anon_mb']:.0f} MB",
                     verdict(r["anon_mb"] <= TARGET_RSS_MB) + " (memory)"))
        if not args.keep:
            path.unlink()
    if len(results) > 1:
        # the command's start (imports, numba cache, ~0.8 s) is paid once: the rate it reads and
        # analyses at is the difference between the longest and the shortest recording
        (_, n0, r0), (_, n1, r1) = results[0], results[-1]
        cpu_rate = (n1 - n0) / max(r1["cpu"] - r0["cpu"], 1e-9)
        rows.append(("end to end, marginal: (longest − shortest) / time difference "
                     f"(start-up ≈ {r0['wall'] - n0 / ((n1 - n0) / max(r1['wall'] - r0['wall'], 1e-9)):.1f} s)",
                     f"{(n1 - n0) / max(r1['wall'] - r0['wall'], 1e-9) / 1e6:.2f} M samples/s", "",
                     f"{cpu_rate / 1e6:.2f} M", "", "", verdict(cpu_rate >= TARGET_SPS) + " (speed)"))
    t = table("gaitmon analyze: kernel alone vs the whole command",
              ["what", "speed (wall)", "wall time", "per CPU-second", "peak RSS", "peak anon", "verdict"])
    for r in rows:
        t.add_row(*r)
    console.print(t)
    if len(results) > 1:
        (h0, _, r0), (h1, _, r1) = results[0], results[-1]
        console.print(f"peak RSS {r0['rss_mb']:.0f} MB at {h0:g} h and {r1['rss_mb']:.0f} MB at {h1:g} h: "
                      f"{(r1['rss_mb'] - r0['rss_mb']) / (h1 - h0):+.1f} MB per extra hour (the steps, as columns); "
                      f"peak anonymous memory {r0['anon_mb']:.0f} → {r1['anon_mb']:.0f} MB. Targets: ≥ "
                      f"{TARGET_SPS / 1e6:g} M samples/s per core (CPU time) end to end, ≤ {TARGET_RSS_MB:g} MB for "
                      "24 h at 200 Hz (anonymous memory; RSS adds ~160 MB of file-backed LLVM/Arrow library pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Core speed: ``python -m benchmarks core``.

* batch ``gaitmon.core.analyze`` on 1 h of 200 Hz running (a simulated 10-min session tiled with
  continuous time), after a JIT warm-up: samples/s on one core (the core is single-threaded, so
  wall time on one core = per-core throughput); best and median of ``--repeat`` runs;
* where the batch time goes: cProfile of one run, the top functions with ns per input sample;
* streaming: ``StreamingAnalyzer.push`` with chunks of 10 samples (a 50 ms BLE packet at 200 Hz)
  over ``--stream-min`` minutes: per-chunk wall time p50/p99/max, and the latency from the last
  sample of a step to its output (``StreamingAnalyzer.latencies_s``, seconds of signal);
* cold start: ``gaitmon analyze`` of a 60 s recording in a subprocess with an empty
  ``NUMBA_CACHE_DIR`` (JIT compiles everything); warm start: the same command again with that
  cache filled (median of 3).

Timings are wall clock on a shared 2-core machine: the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Stopwatch, console, long_run, machine_line, table, verdict

TARGET_SPS = 5e6
TARGET_P99_MS = 0.5
TARGET_WARM_S = 1.5


def batch_speed(t, acc, gyr, fwd, up, repeat: int):
    from gaitmon.core import analyze

    n0 = 40_000  # JIT warm-up (loads or compiles every kernel)
    analyze(t[:n0], acc[:n0], gyr[:n0], forward=fwd, up=up)
    walls, nsteps = [], 0
    for _ in range(repeat):
        with Stopwatch() as sw:
            res = analyze(t, acc, gyr, forward=fwd, up=up)
        walls.append(sw.s)
        nsteps = len(res.steps)
    return walls, nsteps


def batch_profile(t, acc, gyr, fwd, up, top: int = 8):
    from gaitmon.core import analyze

    prof = cProfile.Profile()
    prof.enable()
    analyze(t, acc, gyr, forward=fwd, up=up)
    prof.disable()
    st = pstats.Stats(prof)
    rows = []
    total = 0.0
    for (file, line, fn), (cc, nc, tt, ct, callers) in st.stats.items():
        total += tt
        rows.append((tt, f"{Path(file).name}:{line}({fn})" if line else fn, nc))
    rows.sort(reverse=True)
    return total, rows[:top]


def streaming(t, acc, gyr, fwd, up, chunk: int):
    from gaitmon.core import StreamingAnalyzer

    an = StreamingAnalyzer(forward=fwd, up=up)
    n = len(t)
    times = np.empty((n + chunk - 1) // chunk)
    emitted = np.zeros(len(times), bool)
    steps = 0
    pc = time.perf_counter
    for k, i in enumerate(range(0, n, chunk)):
        a = pc()
        out = an.push(t[i:i + chunk], acc[i:i + chunk], gyr[i:i + chunk])
        times[k] = pc() - a
        emitted[k] = bool(out)
        steps += len(out)
    steps += len(an.finish())
    return times, np.asarray(an.latencies_s), steps, int(np.argmax(times)), emitted


def start_times(repeat: int = 3):
    """(cold s, [warm s...], steps line count) of `gaitmon analyze` in subprocesses."""
    exe = Path(sys.executable).with_name("gaitmon")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAITMON_INFLUX") and k != "NUMBA_CACHE_DIR"}
    with tempfile.TemporaryDirectory(prefix="gaitmon-bench-start-") as d:
        d = Path(d)
        rec = d / "run.csv"
        subprocess.run([str(exe), "simulate", "--duration", "60", "--fs", "200", "--out", str(rec)],
                       check=True, env=env, capture_output=True)
        env["NUMBA_CACHE_DIR"] = str(d / "numba-cache")
        cmd = [str(exe), "analyze", str(rec), "--out", str(d / "steps.csv")]

        def once() -> float:
            a = time.perf_counter()
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            s = time.perf_counter() - a
            if p.returncode != 0:
                raise RuntimeError(f"gaitmon analyze failed: {p.stderr[-800:]}")
            return s

        cold = once()
        warm = [once() for _ in range(repeat)]
        n_lines = len((d / "steps.csv").read_text().splitlines()) - 1
        # what a bare interpreter + import costs on this machine (the floor of any start)
        a = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import gaitmon.core"], env=env, check=True)
        imp = time.perf_counter() - a
    return cold, warm, n_lines, imp


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks core", description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=1.0, help="length of the batch input (default 1 h)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--stream-min", type=float, default=10.0, help="minutes streamed in 10-sample chunks")
    ap.add_argument("--chunk", type=int, default=10)
    args = ap.parse_args(argv)

    console.print(f"[bold]core speed[/] — {machine_line()}")
    t, acc, gyr, fwd, up = long_run(args.hours)
    n = len(t)
    walls, nsteps = batch_speed(t, acc, gyr, fwd, up, args.repeat)
    best, med = min(walls), statistics.median(walls)
    total, prof = batch_profile(t, acc, gyr, fwd, up)

    ns = int(args.stream_min * 60 * 200)
    ct, lat, ssteps, imax, emitted = streaming(t[:ns], acc[:ns], gyr[:ns], fwd, up, args.chunk)
    ms = ct * 1e3
    steady = ms[np.arange(len(ms)) != imax]
    cold, warm, n_lines, imp = start_times()
    warm_med = statistics.median(warm)

    tb = table(f"core speed: {n:,} samples = {n / 200 / 3600:.2f} h of 200 Hz running, {nsteps:,} steps",
               ["measurement", "measured", "target", "verdict"])
    tb.add_row("batch analyze, samples/s on one core (best of %d)" % args.repeat, f"{n / best / 1e6:.2f} M",
               "≥ 5 M", verdict(n / best >= TARGET_SPS))
    tb.add_row("batch analyze, samples/s (median)", f"{n / med / 1e6:.2f} M", "", "")
    tb.add_row("batch analyze, wall time for the whole input (best)", f"{best:.3f} s",
               f"< {n / TARGET_SPS:.3f} s", verdict(best < n / TARGET_SPS))
    tb.add_row(f"streaming, {args.chunk}-sample chunks: p50 per chunk", f"{np.percentile(ms, 50):.3f} ms", "", "")
    tb.add_row(f"streaming, {args.chunk}-sample chunks: p99 per chunk", f"{np.percentile(ms, 99):.3f} ms",
               "< 0.5 ms", verdict(np.percentile(ms, 99) < TARGET_P99_MS))
    tb.add_row("streaming: p99 without the one calibration chunk", f"{np.percentile(steady, 99):.3f} ms", "", "")
    quiet = np.ones(len(ms), bool)
    quiet[imax] = False
    tb.add_row("streaming: p50 / p99 of chunks that emit a step",
               f"{np.percentile(ms[emitted & quiet], 50):.3f} / {np.percentile(ms[emitted & quiet], 99):.3f} ms", "", "")
    tb.add_row("streaming: p50 / p99 of chunks that emit nothing",
               f"{np.percentile(ms[~emitted & quiet], 50):.3f} / {np.percentile(ms[~emitted & quiet], 99):.3f} ms", "", "")
    tb.add_row(f"streaming: slowest chunk (#{imax}, {'calibration' if imax * args.chunk < 20 * 200 else 'other'})",
               f"{ms.max():.1f} ms", "", "")
    tb.add_row("streaming: samples/s incl. per-push overhead", f"{ns / ct.sum() / 1e6:.2f} M", "", "")
    tb.add_row("latency last sample of a step -> step out, p50", f"{np.percentile(lat, 50) * 1e3:.0f} ms", "", "")
    tb.add_row("latency last sample of a step -> step out, p99 / max",
               f"{np.percentile(lat, 99) * 1e3:.0f} / {lat.max() * 1e3:.0f} ms", "", "")
    tb.add_row("cold start: `gaitmon analyze` 60 s rec., empty JIT cache", f"{cold:.2f} s", "", "")
    tb.add_row("warm start: same, JIT cache filled (median of %d)" % len(warm), f"{warm_med:.2f} s", "< 1.5 s",
               verdict(warm_med < TARGET_WARM_S))
    tb.add_row("  of which: python -c 'import gaitmon.core'", f"{imp:.2f} s", "", "")
    console.print(tb)

    tp = table(f"where the batch time goes (cProfile of one run, {total:.3f} s profiled; "
               f"ns per input sample)", ["function (own time)", "calls", "s", "ns/sample", "share"])
    for tt, name, nc in prof:
        tp.add_row(name, f"{nc}", f"{tt:.3f}", f"{tt / n * 1e9:.0f}", f"{tt / total:.0%}")
    console.print(tp)
    return {"samples": n, "best_s": best, "median_s": med, "p99_ms": float(np.percentile(ms, 99)),
            "cold_s": cold, "warm_s": warm_med}


if __name__ == "__main__":
    main()

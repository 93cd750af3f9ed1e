"""The core against an earlier version of itself: ``python -m benchmarks versus REF [--rounds 5]``.

For a refactor that must not cost speed (issue 13: within 5 %). REF is any git revision; its
``gaitmon/`` is exported with ``git archive`` into a temp directory and both versions run the
**same input in the same run**, alternating (REF, working tree, REF, …) in fresh subprocesses, each
with its own warm JIT cache, so machine load hits both alike:

* batch ``gaitmon.core.analyze`` over 1 h of simulated 200 Hz running: samples/s (best of 3 per
  round; the table gives the median over rounds and the best);
* streaming ``StreamingAnalyzer.push`` in 10-sample chunks over 10 min: p99 and p50 per chunk.

The input is simulated once by the working tree and handed to both as a .npy file, so a changed
simulator cannot move the comparison; the step counts of both are printed as a sanity check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import console, long_run, machine_line, table

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 0.05

_CHILD = r"""
import json, sys, time, logging
import numpy as np
logging.disable(logging.WARNING)
from gaitmon.core import StreamingAnalyzer, analyze
d = np.load(sys.argv[1])
t, acc, gyr = d["t"], d["acc"], d["gyr"]
fwd, up = str(d["fwd"]), str(d["up"])
ns = int(sys.argv[2])
analyze(t[:40000], acc[:40000], gyr[:40000], forward=fwd, up=up)  # JIT: load the cache
best = 1e9
for _ in range(3):
    a = time.perf_counter()
    res = analyze(t, acc, gyr, forward=fwd, up=up)
    best = min(best, time.perf_counter() - a)
an = StreamingAnalyzer(forward=fwd, up=up)
pc = time.perf_counter
ct = []
for i in range(0, ns, 10):
    a = pc()
    an.push(t[i:i + 10], acc[i:i + 10], gyr[i:i + 10])
    ct.append(pc() - a)
an.finish()
ct = np.array(ct) * 1e3
print(json.dumps({"sps": len(t) / best, "steps": len(res.steps), "p99": float(np.percentile(ct, 99)),
                  "p50": float(np.percentile(ct, 50))}))
"""


def _export(ref: str, dest: Path) -> None:
    arch = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "gaitmon"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arch, check=True)


def _run(tree: Path, data: Path, ns: int, cache: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), NUMBA_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", _CHILD, str(data), str(ns)], env=env, capture_output=True,
                       text=True, cwd=tree)
    if r.returncode != 0:
        raise SystemExit(f"benchmark child failed in {tree}:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks versus", description=__doc__.split("\n\n")[0])
    ap.add_argument("ref", nargs="?", default="HEAD~1", help="git revision to compare with (default HEAD~1)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--stream-min", type=float, default=10.0)
    args = ap.parse_args(argv)
    console.print(f"[bold]core vs {args.ref}[/] — {machine_line()}")
    with tempfile.TemporaryDirectory(prefix="gaitmon-versus-") as tmp:
        tmp = Path(tmp)
        old = tmp / "ref"
        old.mkdir()
        _export(args.ref, old)
        t, acc, gyr, fwd, up = long_run(args.hours)
        data = tmp / "input.npz"
        np.savez(data, t=t, acc=acc, gyr=gyr, fwd=fwd, up=up)
        ns = int(args.stream_min * 60 * 200)
        trees = {args.ref: old, "working tree": ROOT}
        res: dict[str, list[dict]] = {k: [] for k in trees}
        for name, tree in trees.items():  # fill each JIT cache once, outside the timing
            _run(tree, data, 20000, tmp / f"cache-{name.replace(' ', '_')}")
        for r in range(args.rounds):
            order = list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]
            for name, tree in order:
                res[name].append(_run(tree, data, ns, tmp / f"cache-{name.replace(' ', '_')}"))
                console.print(f"  round {r + 1}/{args.rounds} {name}: {res[name][-1]['sps'] / 1e6:.2f} M samples/s, "
                              f"p99 {res[name][-1]['p99']:.3f} ms")
    a, b = res[args.ref], res["working tree"]
    med = lambda rows, k: statistics.median(x[k] for x in rows)  # noqa: E731
    rows = [("batch samples/s, median of rounds (M)", med(a, "sps") / 1e6, med(b, "sps") / 1e6, True),
            ("batch samples/s, best (M)", max(x["sps"] for x in a) / 1e6, max(x["sps"] for x in b) / 1e6, True),
            ("streaming p99 per 10-sample chunk, median (ms)", med(a, "p99"), med(b, "p99"), False),
            ("streaming p50 per chunk, median (ms)", med(a, "p50"), med(b, "p50"), False)]
    tb = table(f"core: {args.ref} vs working tree, same input, {args.rounds} alternating rounds "
               f"(steps {a[0]['steps']} vs {b[0]['steps']})", ["measurement", args.ref, "working tree", "change",
                                                                 "within 5 %"])
    out = {}
    for label, x, y, higher_better in rows:
        ch = (y / x - 1.0) if higher_better else (x / y - 1.0)  # > 0 = the working tree is faster
        ok = ch >= -TOLERANCE
        tb.add_row(label, f"{x:.3f}", f"{y:.3f}", f"{ch * 100:+.1f} % {'faster' if ch >= 0 else 'slower'}",
                   "yes" if ok else "[red]no[/]")
        out[label] = {"ref": x, "now": y, "change": ch, "ok": ok}
    console.print(tb)
    return out

"""Walk, then run: population runners given a warm-up walk in the same bout (a stress test).

    python -m benchmarks walkrun [--n 50] [--seed 1] [--walk 10]

Each of the first ``--n`` runners of the population (``gaitmon.sim.population``, ``--seed``) runs
after ``--walk`` seconds of walking; every other one is a runner whose pelvis drops toward the
STANCE side (``stance_side_drops``), the runner a side decision from the running drop pattern alone
mirrors. The walks keep the runner's physiology (rotation of any phase, tilt, lever arm, mount) with
the walking defaults for cadence, speed and obliquity shape: hybrid walks, harder than real ones.
Printed: per person the share of running steps with the right side, the share that says
``run, anchored by walking``, the anchored bouts' verdicts on the drop pattern; pooled per group.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from rich.console import Console
from rich.table import Table


def evaluate(job) -> dict:
    """One runner with a warm-up walk: run-step sides, anchored share, verdicts."""
    import logging

    from gaitmon.core import analyze
    from gaitmon.sim import simulate
    from tests.core.metrics import match_ics

    logging.disable(logging.WARNING)
    person, ssd, walk_s = job
    cfg = dataclasses.replace(person.config, walk_before_s=walk_s, stance_side_drops=ssd,
                              duration_s=walk_s + 30.0)
    rec = simulate(cfg)
    res = analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up)
    tr = rec.truth
    pairs = match_ics(tr.ic_t, np.array([s.t_ic_s for s in res.steps]), 0.06)
    run = [(res.steps[j], tr.side[i]) for i, j in pairs if tr.step_activity[i] == "run" and tr.steady[i]]
    return {"pid": person.pid, "fs": person.fs, "ssd": ssd, "cf": person.contact_fraction, "n": len(run),
            "right": float(np.mean([s.side == t for s, t in run])) if run else math.nan,
            "anchored": float(np.mean([s.side_source == "run, anchored by walking" for s, _ in run])) if run else math.nan,
            "verdicts": list(res.run_pattern_verdicts)}


def main(argv=None) -> int:
    from gaitmon.sim.population import draw_population

    ap = argparse.ArgumentParser(prog="python -m benchmarks walkrun", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="runners (default 50)")
    ap.add_argument("--seed", type=int, default=1, help="population seed (default 1)")
    ap.add_argument("--walk", type=float, default=10.0, help="seconds of warm-up walk (default 10)")
    ap.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    a = ap.parse_args(argv)
    runners = [p for p in draw_population(2 * a.n, seed=a.seed, duration_s=32.0) if p.activity == "run"][: a.n]
    jobs = [(p, k % 2 == 1, a.walk) for k, p in enumerate(runners)]
    con = Console(width=140)
    with con.status(f"{len(jobs)} runners with a {a.walk:g} s warm-up walk …"):
        with ProcessPoolExecutor(max(1, a.workers)) as ex:
            rows = list(ex.map(evaluate, jobs))
    t = Table(title=f"Walk, then run (population seed {a.seed}): people below 99 % or with a wrong verdict")
    for c in ("id", "Hz", "stance side drops", "CF", "run steps", "sides", "anchored", "verdicts"):
        t.add_column(c, justify="right")
    for r in rows:
        wrong = any((v == -1) != r["ssd"] for v in r["verdicts"])
        if not (r["right"] >= 0.99) or wrong:
            t.add_row(str(r["pid"]), f"{r['fs']:g}", "yes" if r["ssd"] else "", f"{r['cf']:.2f}", str(r["n"]),
                      f"{r['right']:.0%}", f"{r['anchored']:.0%}", " ".join(f"{v:+d}" for v in r["verdicts"]))
    con.print(t)
    s = Table(title="Pooled")
    for c in ("group", "people", "run-step sides (mean of people)", "anchored (mean)", "verdicts right"):
        s.add_column(c, justify="right")
    for name, grp in (("usual runners", [r for r in rows if not r["ssd"]]),
                      ("stance side drops", [r for r in rows if r["ssd"]])):
        v = [(r["ssd"], x) for r in grp for x in r["verdicts"]]
        ok = sum((x == -1) == ssd for ssd, x in v)
        s.add_row(name, str(len(grp)), f"{np.nanmean([r['right'] for r in grp]):.1%}",
                  f"{np.nanmean([r['anchored'] for r in grp]):.0%}", f"{ok}/{len(v)}")
    con.print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())

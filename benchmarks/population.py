"""Population sweep: the gait core on simulated people drawn from published physiology ranges.

    python -m benchmarks.population --n 200 --seed 1 [--workers 2] [--duration 32] [--no-people]

Each person (``gaitmon.sim.population.draw_population``: running and walking alternately, 52/100/
104/200 Hz in turn, rotation 1-12° of any phase, contact fraction 0.5-0.95 or no flight, mount
±40°, ...) gets one short session (5 s standing, ``--duration`` s of gait, 2 s standing), which
is analysed with ``gaitmon.core.analyze`` and compared with the simulator's own truth by
``tests.core.metrics.evaluate_sim`` (steady steps, ICs matched one-to-one within ±60 ms).

Prints a per-person table and aggregate tables grouped by activity, rotation amplitude (<2°,
≥2°), rotation phase family (A: yaw rate negative at a left contact, B: positive, Q: rotation
extreme at the contact), flight/no flight and sample rate, beside the issue-11 targets.
Pooled figures are over all matched steps of the group; "worst" is the worst person.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

TARGETS = {"f1": 0.98, "side": 0.99, "rmse": 1.0}


def evaluate_person(person) -> dict:
    """Simulate one person, run the core on the recording, compare with the truth."""
    from gaitmon.core import analyze
    from gaitmon.sim import simulate
    from tests.core.metrics import evaluate_sim

    t0 = time.perf_counter()
    rec = simulate(person.config)
    res = analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up)
    out = person.row()
    out["wall_s"] = time.perf_counter() - t0
    tr = rec.truth
    n_ref = int(tr.steady.sum())
    if not res.steps:
        out.update(n_ref=n_ref, n_match=0, n_det=0, f1=0.0, t_err_median_s=math.nan, side_acc=math.nan,
                   n_side_ok=0, drop_rmse=math.nan, sse=0.0, bias_L=math.nan, bias_R=math.nan, ct_bias_s=math.nan,
                   n_ct=0, err_L=[], err_R=[])
        return out
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = evaluate_sim(rec, res.steps)
    st, k = m["steps"], m["truth_idx"]
    n_match = len(st)
    n_det = int(round(2 * n_match / m["f1"] - m["n_ref"])) if m["f1"] > 0 else _n_det(rec, res.steps)
    err = np.array([s.pelvic_drop_deg for s in st]) - tr.pelvic_drop_deg[k] if n_match else np.array([])
    side_t = tr.side[k]
    ok = np.array([s.side == t for s, t in zip(st, side_t)], bool)
    ct_bias = math.nan
    n_ct = 0  # matched steps that carry a contact time
    if person.activity == "run" and n_match:
        ct = np.array([s.contact_time_s for s in st]) - tr.contact_time_s[k]
        n_ct = int(np.isfinite(ct).sum())
        if n_ct:
            ct_bias = float(np.nanmedian(ct))
    out.update(
        n_ref=int(m["n_ref"]), n_match=n_match, n_det=n_det, f1=float(m["f1"]),
        t_err_median_s=float(m["t_err_median_s"]) if n_match else math.nan,
        side_acc=float(ok.mean()) if n_match else math.nan, n_side_ok=int(ok.sum()),
        drop_rmse=float(np.sqrt(np.mean(err**2))) if n_match else math.nan, sse=float(np.sum(err**2)),
        bias_L=float(err[side_t == "L"].mean()) if (side_t == "L").any() else math.nan,
        bias_R=float(err[side_t == "R"].mean()) if (side_t == "R").any() else math.nan,
        ct_bias_s=ct_bias, n_ct=n_ct, err_L=err[side_t == "L"].tolist(), err_R=err[side_t == "R"].tolist(),
    )
    return out


def _n_det(rec, steps, tol=0.06) -> int:
    ref = rec.truth.ic_t[rec.truth.steady]
    t = np.array([s.t_ic_s for s in steps])
    return int(((t >= ref.min() - tol) & (t <= ref.max() + tol)).sum())


def run_sweep(people, workers: int = 1) -> list[dict]:
    """Evaluate every person (in ``workers`` processes if > 1); results in the people's order."""
    if workers <= 1:
        return [evaluate_person(p) for p in people]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(evaluate_person, people, chunksize=4))


def aggregate(rows: list[dict]) -> dict:
    """Pooled and worst-person figures of a group of per-person results."""
    n_ref = sum(r["n_ref"] for r in rows)
    n_match = sum(r["n_match"] for r in rows)
    n_det = sum(r["n_det"] for r in rows)
    f1 = 2 * n_match / (n_ref + n_det) if (n_ref + n_det) else math.nan
    side_ok = sum(r["n_side_ok"] for r in rows)
    sse = sum(r["sse"] for r in rows)
    eL = np.concatenate([r["err_L"] for r in rows] + [[]])
    eR = np.concatenate([r["err_R"] for r in rows] + [[]])
    sides = np.array([r["side_acc"] for r in rows], float)
    rmses = np.array([r["drop_rmse"] for r in rows], float)
    f1s = np.array([r["f1"] for r in rows], float)
    terr = np.array([r["t_err_median_s"] for r in rows], float)
    ctb = np.array([r["ct_bias_s"] for r in rows], float)
    n_ct = sum(r["n_ct"] for r in rows)
    return {
        "n": len(rows),
        "f1": f1,
        "f1_min": float(np.nanmin(f1s)) if len(rows) else math.nan,
        "t_err_ms": 1000 * float(np.nanmedian(terr)) if np.isfinite(terr).any() else math.nan,
        "side": side_ok / n_match if n_match else math.nan,
        "side_min": float(np.nanmin(np.where(np.isnan(sides), 0.0, sides))) if len(rows) else math.nan,
        "side_ok_people": float(np.mean(np.nan_to_num(sides, nan=0.0) >= TARGETS["side"])) if len(rows) else math.nan,
        "rmse": math.sqrt(sse / n_match) if n_match else math.nan,
        "rmse_max": float(np.nanmax(rmses)) if np.isfinite(rmses).any() else math.nan,
        "bias_L": float(eL.mean()) if eL.size else math.nan,
        "bias_R": float(eR.mean()) if eR.size else math.nan,
        "ct_bias_ms": 1000 * float(np.nanmedian(ctb)) if np.isfinite(ctb).any() else math.nan,
        "ct_share": n_ct / n_match if n_match else math.nan,  # matched steps with a contact time
    }


def groups(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """The groups of the aggregate table: (label, rows)."""
    out = [("all", rows)]
    for act in ("run", "walk"):
        ra = [r for r in rows if r["activity"] == act]
        out.append((act, ra))
        out.append((f"{act} rotation <2°", [r for r in ra if r["rotation_amp_deg"] < 2.0]))
        out.append((f"{act} rotation ≥2°", [r for r in ra if r["rotation_amp_deg"] >= 2.0]))
        for fam in ("A", "B", "Q"):
            out.append((f"{act} phase {fam}, rot ≥2°", [r for r in ra if r["rotation_family"] == fam
                                                          and r["rotation_amp_deg"] >= 2.0]))
    out.append(("run with flight", [r for r in rows if r["activity"] == "run" and r["flight"]]))
    out.append(("run no flight (jog)", [r for r in rows if r["activity"] == "run" and not r["flight"]]))
    for fs in sorted({r["fs"] for r in rows}):
        out.append((f"{fs:g} Hz", [r for r in rows if r["fs"] == fs]))
    return [(k, v) for k, v in out if v]


def _f(x, fmt="{:.2f}"):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def print_tables(rows: list[dict], people_table: bool = True) -> None:
    from rich.console import Console

    from benchmarks.common import table

    console = Console(width=170)

    if people_table:
        t = table("Per person (steady gait; ICs matched within ±60 ms)",
                  ["id", "act", "fs", "spm", "CF", "rot°", "ph", "drop L/R°", "pk", "F1", "IC ms", "sides",
                   "RMSE°", "bias L/R°", "CT ms"])
        for r in rows:
            t.add_row(str(r["pid"]), r["activity"], f"{r['fs']:g}", f"{r['cadence_spm']:.0f}",
                      f"{r['contact_fraction']:.2f}" if r["activity"] == "run" else "—",
                      f"{r['rotation_amp_deg']:.1f}", f"{r['rotation_family']}{r['rotation_phase_deg']:+.0f}",
                      f"{r['drop_left_deg']:.1f}/{r['drop_right_deg']:.1f}", f"{r['drop_peak_frac']:.2f}",
                      _f(r["f1"], "{:.3f}"), _f(1000 * r["t_err_median_s"], "{:.0f}"), _f(r["side_acc"], "{:.0%}"),
                      _f(r["drop_rmse"]), f"{_f(r['bias_L'], '{:+.1f}')}/{_f(r['bias_R'], '{:+.1f}')}",
                      _f(1000 * r["ct_bias_s"], "{:+.0f}"))
        console.print(t)
    t = table("Aggregate (pooled over matched steps; min/max = worst person). Targets: F1 ≥ 0.98, sides ≥ 99 % "
              "for every person with rotation ≥ 2°, drop RMSE ≤ 1.0°",
              ["group", "n", "IC F1", "F1 min", "IC err ms", "sides", "sides min", "people ≥99%", "RMSE°",
               "RMSE max", "bias L°", "bias R°", "CT bias ms", "with CT"])
    t.columns[0].no_wrap = True
    for label, rs in groups(rows):
        a = aggregate(rs)
        t.add_row(label, str(a["n"]), _f(a["f1"], "{:.3f}"), _f(a["f1_min"], "{:.3f}"), _f(a["t_err_ms"], "{:.0f}"),
                  _f(a["side"], "{:.1%}"), _f(a["side_min"], "{:.0%}"), _f(a["side_ok_people"], "{:.0%}"),
                  _f(a["rmse"]), _f(a["rmse_max"]), _f(a["bias_L"], "{:+.2f}"), _f(a["bias_R"], "{:+.2f}"),
                  _f(a["ct_bias_ms"], "{:+.0f}"), _f(a["ct_share"], "{:.0%}") if label.startswith("run") else "—")
    console.print(t)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.population", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="number of people (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="population seed (default 1)")
    ap.add_argument("--duration", type=float, default=32.0, help="gait seconds per person (default 32)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="processes (default 2)")
    ap.add_argument("--no-people", action="store_true", help="aggregate table only")
    args = ap.parse_args(argv)

    from benchmarks.common import console, machine_line
    from gaitmon.sim.population import draw_population

    console.print(machine_line())
    people = draw_population(args.n, seed=args.seed, duration_s=args.duration)
    t0 = time.perf_counter()
    rows = run_sweep(people, workers=args.workers)
    console.print(f"{len(rows)} people, seed {args.seed}, {args.duration:g} s of gait each: "
                  f"{time.perf_counter() - t0:.0f} s wall with {args.workers} worker(s)")
    print_tables(rows, people_table=not args.no_people)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Walking side cues, one step at a time: how often the sideways force before a contact points to
the landing foot, per person, for several windows (the core's detected walking steps, matched to the
reference within 0.2 s; the reference's side is the truth). The chosen window is 0.6 step → contact
(``side_model.lateral_cue``); the others are the alternatives it was chosen among.

    python -m benchmarks side_cues [--sim-seed N]   # tests/data + the L5 set if ../shared has it

The L5 set (Voisard et al., IPOL 2023) is AGPL-3.0: it is read from its folder, never copied. With
``--sim-seed`` the same is measured on that population's simulated walkers (truth from the simulator).
The cue is computed here in numpy from the core's orientation (``orientation.orient_pass``), as the
engine does per step: sideways = -sin(yaw) f_x + cos(yaw) f_y (earth frame, + left of the heading)
+ d * yaw acceleration (the part the pelvis' own rotation makes at a sensor d =
``SENSOR_BEHIND_YAW_AXIS_M`` behind the axis; ``--no-yaw-compensation`` leaves it in), window mean
minus the mean over the stride before the contact.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from rich.console import Console
from rich.table import Table

#: (start, end) in steps relative to the contact; end None = 0.2 s before the contact
WINDOWS = {
    "0.6 step → 0.2 s before": (-0.6, None),
    "0.5 step → contact": (-0.5, 0.0),
    "0.6 step → contact (used)": (-0.6, 0.0),
    "0.4 step → 0.1 after": (-0.4, 0.1),
    "0.5 step → 0.2 after": (-0.5, 0.2),
    "0.6 step → 0.2 after": (-0.6, 0.2),
}


COMPENSATE = True


def sideways(time, acc, gyr, cal) -> np.ndarray:
    """Sideways specific force (m/s², + left of the heading) from the core's calibration, without
    the pelvis' own rotation's part (``COMPENSATE``)."""
    from gaitmon.core.orientation import orient_pass
    from gaitmon.core.params import SENSOR_BEHIND_YAW_AXIS_M

    R = cal.R_sp
    fs = 1.0 / float(np.median(np.diff(time)))
    fe, yaw = orient_pass(np.ascontiguousarray((R @ acc.T).T), np.ascontiguousarray((R @ (gyr - cal.gyro_bias).T).T),
                          fs, cal.g_local, 1.0, 0.5)
    lat = -np.sin(yaw) * fe[:, 0] + np.cos(yaw) * fe[:, 1]
    if COMPENSATE:
        lat = lat + SENSOR_BEHIND_YAW_AXIS_M * np.gradient(np.gradient(yaw)) * fs * fs
    return lat


def score(time, lat, steps, truth_side) -> dict[str, list[bool]]:
    """Per window, whether the cue named each judged step's side (``truth_side(j)``: the truth or None)."""
    det = np.array([s.t_ic_s for s in steps])
    out = {w: [] for w in WINDOWS}
    for j in range(2, len(steps)):
        side = truth_side(j)
        if side is None:
            continue
        T, t = steps[j].step_time_s, det[j]
        s0, s1 = np.searchsorted(time, [det[j - 2], t])
        base = lat[s0:s1].mean()
        for w, (u0, u1) in WINDOWS.items():
            a, b = np.searchsorted(time, [t + u0 * T, t - 0.2 if u1 is None else t + u1 * T])
            if b > a:
                out[w].append(("L" if lat[a:b].mean() - base > 0 else "R") == side)
    return out


def real_people() -> dict[str, dict[str, list[bool]]]:
    from gaitmon.core import analyze
    from gaitmon.sources.recording import read_recording
    from tests.core.real_data import trials

    per: dict = {}
    for tr in trials():
        rec = read_recording(tr.csv)
        r = analyze(rec.time, rec.acc, rec.gyr, forward=tr.ref["forward"], up=tr.ref["up"])
        steps = r.steps
        det = np.array([s.t_ic_s for s in steps])
        ref_t = np.array([x["t_ic_s"] for x in tr.ref["ics"]])
        ref_s = [x["side"] for x in tr.ref["ics"]]

        def truth(j):
            if steps[j].activity != "walk" or not 0.3 < steps[j].step_time_s < 0.9 or not len(ref_t):
                return None
            k = int(np.argmin(abs(ref_t - det[j])))
            return ref_s[k] if abs(ref_t[k] - det[j]) < 0.2 else None

        for w, v in score(rec.time, sideways(rec.time, rec.acc, rec.gyr, r.calibration), steps, truth).items():
            per.setdefault(tr.person, {}).setdefault(w, []).extend(v)
    return per


def _sim_walker(args):
    from gaitmon.core import analyze
    from gaitmon.sim import simulate
    from gaitmon.sim.population import draw_population
    from tests.core.metrics import match_ics

    seed, pid = args
    p = next(q for q in draw_population(200, seed) if q.pid == pid)
    rec = simulate(p.config)
    r = analyze(rec.time, rec.acc, rec.gyr, forward=rec.forward, up=rec.up)
    tr = rec.truth
    m = {j: i for i, j in match_ics(tr.ic_t, np.array([s.t_ic_s for s in r.steps]), 0.06)}
    res = score(rec.time, sideways(rec.time, rec.acc, rec.gyr, r.calibration), r.steps,
                lambda j: tr.side[m[j]] if j in m and tr.steady[m[j]] else None)
    return pid, {w: float(np.mean(v)) if v else float("nan") for w, v in res.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks side_cues", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sim-seed", type=int, default=None, help="also the walkers of this simulated population")
    ap.add_argument("--no-yaw-compensation", action="store_true",
                    help="leave in the sideways acceleration the pelvis' rotation makes at the sensor")
    a = ap.parse_args(argv)
    global COMPENSATE
    COMPENSATE = not a.no_yaw_compensation
    con = Console(width=170)
    with con.status("real walkers …"):
        per = real_people()
    t = Table(title="Sideways force before a contact toward the landing foot: % of the core's walking steps")
    t.add_column("person")
    for w in WINDOWS:
        t.add_column(w, justify="right")
    for p, d in per.items():
        t.add_row(p, *(f"{100 * np.mean(d[w]):.1f}" for w in WINDOWS))
    t.add_row("all", *(f"{100 * np.mean(sum((per[p][w] for p in per), [])):.1f}" for w in WINDOWS))
    t.add_row("worst person", *(f"{100 * min(np.mean(per[p][w]) for p in per):.1f}" for w in WINDOWS))
    con.print(t)
    if a.sim_seed is not None:
        from gaitmon.sim.population import draw_population

        walkers = [q.pid for q in draw_population(200, a.sim_seed) if q.activity == "walk"]
        with con.status(f"{len(walkers)} simulated walkers …"), ProcessPoolExecutor(2) as ex:
            rows = list(ex.map(_sim_walker, [(a.sim_seed, pid) for pid in walkers]))
        s = Table(title=f"Simulated walkers, population seed {a.sim_seed}")
        for c in ("window", "mean %", "walkers < 50 %", "walkers < 70 %"):
            s.add_column(c, justify="right")
        for w in WINDOWS:
            v = np.array([r[1][w] for r in rows])
            s.add_row(w, f"{100 * np.nanmean(v):.1f}", str(int((v < 0.5).sum())), str(int((v < 0.7).sum())))
        con.print(s)
    return 0

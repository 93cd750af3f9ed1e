"""Orientation, same job, same data: ``python -m benchmarks orientation [--seeds 3] [--duration 60]``.

gaitmon's orientation filter (the Numba engine ``gaitmon.core.engine.run_engine``; its
orientation-only twin ``orient_pass`` is timed too) vs ``imufusion`` (x-io Fusion, driven the way
its users drive it: ``Ahrs`` + ``AhrsSettings(gain 0.5, acceleration_rejection 10°, rejection
timeout 5 s)``, ``update_no_magnetometer(gyr deg/s, acc g)`` sample by sample in a Python loop,
reading the quaternion each sample) vs ``ahrs.filters.Madgwick`` (batch constructor, default gain).

Same data for all: simulated running at 200 Hz (2.5-3 g impacts, flight phases, lever arm, noise,
bias, scale errors), rotated into the pelvis frame (x forward, y left, z up) with the simulator's
TRUE mount, gyro bias removed with the mean of the first 4 s of quiet standing — so every filter
solves exactly the same problem and differences are the filters' own.

Truth: the simulator has no per-sample orientation output, but per step it has the true pelvic drop
(peak obliquity of the step, deg, relative to standing), the obliquity range and the tilt range.
Each filter's roll (obliquity) and pitch (tilt) are taken relative to its own standing mean
(t = 1..4 s) and reduced with the SAME truth step windows (IC to next IC) and sides: drop = max of
roll in a left step, -min in a right step; obliquity range = ptp(roll); tilt range = ptp(pitch).
Errors are over the steady steps of every session. Conventions are checked first on a static,
rolled sensor (a filter must report +roll for left-side-up).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from benchmarks.common import console, machine_line, table, verdict

G0 = 9.80665


def roll_pitch(q: np.ndarray):
    """(n,4) w,x,y,z quaternions (body -> earth) -> roll, pitch in degrees (ZYX)."""
    w, x, y, z = q.T
    r21 = 2 * (y * z + w * x)
    r22 = 1 - 2 * (x * x + y * y)
    r20 = 2 * (x * z - w * y)
    return np.degrees(np.arctan2(r21, r22)), np.degrees(np.arcsin(np.clip(-r20, -1, 1)))


# ------------------------------------------------------------------------------------ filters
def _engine(settings, state, rings, acc, gyr, flags, out):
    """Call the engine on pelvis-frame, bias-free samples (identity mount, zero bias)."""
    blk = np.empty((len(acc), 8))
    blk[:, 0] = 0.0
    blk[:, 1:4] = acc
    blk[:, 4:7] = gyr
    blk[:, 7] = flags
    from gaitmon.core.engine import run_engine

    return run_engine(settings, state, rings, blk, out, np.eye(3), np.zeros(3))


def run_gaitmon(acc, gyr, fs, g):
    """gaitmon's engine over pelvis-frame samples; roll/pitch per sample read from its rings
    (chunks of half a ring). Returns (roll deg, pitch deg)."""
    from gaitmon.core.state import STEP_ROW, new_state, ring_angles_deg

    settings, state, rings = new_state(fs, g, 1.0)
    n = len(acc)
    rb = int(settings[0]["ring"])
    step = rb // 2
    out = np.zeros(max(16, step // 20), STEP_ROW)
    roll, pitch = np.empty(n), np.empty(n)
    flags = np.zeros(n)
    for a in range(0, n, step):
        b = min(n, a + step)
        _engine(settings, state, rings, acc[a:b], gyr[a:b], flags[a:b], out)
        idx = np.arange(a, b) & (rb - 1)
        roll[a:b], pitch[a:b] = ring_angles_deg(rings, idx)
    return roll, pitch


def time_gaitmon(acc, gyr, fs, g, repeats: int = 5):
    """ns/sample of the whole engine and of orient_pass (orientation only): best of ``repeats``
    runs each (timeit's convention; the peers get the same treatment in run_fusion/run_madgwick)."""
    from gaitmon.core.orientation import orient_pass
    from gaitmon.core.state import STEP_ROW, new_state

    orient_pass(acc[:400], gyr[:400], fs, g, 1.0, 2.0)  # load the JIT caches before timing
    _engine(*new_state(fs, g, 1.0), acc[:400], gyr[:400], np.zeros(400), np.zeros(64, STEP_ROW))
    eng, op = np.inf, np.inf
    for _ in range(repeats):
        settings, state, rings = new_state(fs, g, 1.0)
        out = np.zeros(len(acc) // 20 + 16, STEP_ROW)
        flags = np.zeros(len(acc))
        a = time.perf_counter()
        _engine(settings, state, rings, acc, gyr, flags, out)
        eng = min(eng, time.perf_counter() - a)
        a = time.perf_counter()
        orient_pass(acc, gyr, fs, g, 1.0, 2.0)
        op = min(op, time.perf_counter() - a)
    return eng / len(acc) * 1e9, op / len(acc) * 1e9


def fusion_ahrs(fs):
    import imufusion

    ahrs = imufusion.Ahrs()
    ahrs.set_settings(imufusion.AhrsSettings(sample_rate=fs, convention=imufusion.CONVENTION_NWU, gain=0.5,
                                             gyroscope_range=2000.0, acceleration_rejection=10.0,
                                             magnetic_rejection=0.0, rejection_timeout=5.0 * fs))
    return ahrs


def run_fusion(acc, gyr, fs):
    """x-io Fusion as its Python users drive it; returns (quaternions (n,4) w,x,y,z, s/sample)."""
    gyr_dps = np.degrees(gyr)
    acc_g = acc / G0
    ahrs = fusion_ahrs(fs)
    n = len(acc)
    q = np.empty((n, 4))
    best = np.inf
    for _ in range(3):  # best of 3, like gaitmon's timing
        ahrs = fusion_ahrs(fs)
        a = time.perf_counter()
        for k in range(n):
            ahrs.update_no_magnetometer(gyr_dps[k], acc_g[k])
            q[k] = ahrs.get_quaternion()
        best = min(best, time.perf_counter() - a)
    return q, best / n


def run_madgwick(acc, gyr, fs):
    """ahrs Madgwick, batch constructor (its documented use); returns (quaternions, s/sample)."""
    from ahrs.filters import Madgwick

    best = np.inf
    for _ in range(2):  # best of 2 (each run takes seconds)
        a = time.perf_counter()
        m = Madgwick(gyr=gyr, acc=acc, frequency=fs)
        best = min(best, time.perf_counter() - a)
    return np.asarray(m.Q), best / len(acc)


def convention_check(fs: float) -> dict:
    """Static sensor rolled +8° (left side up) and pitched +5° (nose down = anterior tilt);
    every filter must report roll ≈ +8, pitch ≈ +5. Returns the reported (roll, pitch) per filter."""
    from scipy.spatial.transform import Rotation

    R = Rotation.from_euler("ZYX", [0.0, 5.0, 8.0], degrees=True)
    f_body = R.inv().apply([0.0, 0.0, G0])
    n = int(30 * fs)
    acc = np.tile(f_body, (n, 1))
    gyr = np.zeros((n, 3))
    res = {}
    r, p = run_gaitmon(acc, gyr, fs, G0)
    res["gaitmon"] = (r[-1], p[-1])
    q, _ = run_fusion(acc, gyr, fs)
    res["imufusion"] = tuple(x[-1] for x in roll_pitch(q))
    q, _ = run_madgwick(acc, gyr, fs)
    res["ahrs Madgwick"] = tuple(x[-1] for x in roll_pitch(q))
    return res


# ------------------------------------------------------------------------------------ scoring
def step_metrics(t, roll, pitch, tr):
    """Per steady truth step: (drop err, obliquity-range err, tilt-range err) in degrees."""
    neutral = (t >= 1.0) & (t <= 4.0)
    roll = roll - roll[neutral].mean()
    pitch = pitch - pitch[neutral].mean()
    k = np.nonzero(tr.steady)[0]
    idx = np.searchsorted(t, tr.ic_t)
    ends = np.searchsorted(t, tr.ic_t + tr.step_time_s)
    de, oe, te = [], [], []
    for i in k:
        a, b = idx[i], ends[i] + 1
        r = roll[a:b]
        d = r.max() if tr.side[i] == "L" else -r.min()
        de.append(d - tr.pelvic_drop_deg[i])
        oe.append(np.ptp(r) - tr.obliquity_range_deg[i])
        te.append(np.ptp(pitch[a:b]) - tr.tilt_range_deg[i])
    return np.array(de), np.array(oe), np.array(te)


def rmse(x) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def main(argv=None) -> dict:
    from gaitmon.core import analyze
    from gaitmon.sim import SimConfig, simulate
    from tests.core.metrics import evaluate_sim

    ap = argparse.ArgumentParser(prog="python -m benchmarks orientation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="simulated running sessions")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of running per session")
    ap.add_argument("--fs", type=float, default=200.0)
    args = ap.parse_args(argv)
    console.print(f"[bold]orientation[/] — {machine_line()}")
    fs = args.fs
    conv = convention_check(fs)
    names = ("gaitmon", "imufusion", "ahrs Madgwick")
    errs = {k: ([], [], []) for k in (*names, "gaitmon full pipeline")}
    tcost = {k: [] for k in names}
    t_orient = []
    peak_g = []
    for seed in range(args.seeds):
        rec = simulate(SimConfig(activity="run", fs=fs, duration_s=args.duration, seed=20 + seed))
        tr = rec.truth
        R = tr.mount_R_sp
        t = rec.time
        stand = t < 4.0
        bias = rec.gyr[stand].mean(axis=0)
        acc = np.ascontiguousarray(rec.acc @ R.T)
        gyr = np.ascontiguousarray((rec.gyr - bias) @ R.T)
        g = float(np.linalg.norm(acc[stand].mean(axis=0)))
        peak_g.append(float(np.percentile(np.linalg.norm(acc[t > 10], axis=1), 99.9) / G0))
        roll, pitch = run_gaitmon(acc, gyr, fs, g)
        ns_eng, ns_op = time_gaitmon(acc, gyr, fs, g)
        tcost["gaitmon"].append(ns_eng * 1e-9)
        t_orient.append(ns_op * 1e-9)
        qf, sf = run_fusion(acc, gyr, fs)
        tcost["imufusion"].append(sf)
        qm, sm = run_madgwick(acc, gyr, fs)
        tcost["ahrs Madgwick"].append(sm)
        for name, (r, p) in (("gaitmon", (roll, pitch)), ("imufusion", roll_pitch(qf)),
                             ("ahrs Madgwick", roll_pitch(qm))):
            for lst, e in zip(errs[name], step_metrics(t, r, p, tr)):
                lst.append(e)
        # the product itself: own calibration (mount, bias, neutral), own ICs and sides
        m = evaluate_sim(rec, analyze(t, rec.acc, rec.gyr, forward=rec.forward, up=rec.up).steps)
        e = np.array([s.pelvic_drop_deg for s in m["steps"]]) - tr.pelvic_drop_deg[m["truth_idx"]]
        errs["gaitmon full pipeline"][0].append(e)

    tc = table(f"convention check (static sensor: roll +8°, pitch +5°)", ["filter", "roll", "pitch"])
    for k, (r, p) in conv.items():
        tc.add_row(k, f"{r:+.2f}°", f"{p:+.2f}°")
    console.print(tc)

    g_ns = float(np.median(t_orient)) * 1e9  # orientation only: the same job as the peers
    e_ns = float(np.median(tcost["gaitmon"])) * 1e9
    g_rmse = rmse(np.concatenate(errs["gaitmon"][0]))
    tb = table(f"orientation through running impacts: {args.seeds} × {args.duration:.0f} s at {fs:.0f} Hz, "
               f"peak |acc| {np.median(peak_g):.1f} g (99.9th pct); same pelvis-frame input for all filters",
               ["filter", "ns/sample", "gaitmon faster by (orientation / whole engine)", "drop RMSE", "drop bias", "obliquity range RMSE",
                "tilt range RMSE", "drop RMSE vs gaitmon", "target"])
    out = {}
    for name in names:
        ns = g_ns if name == "gaitmon" else float(np.median(tcost[name])) * 1e9
        de, oe, te = (np.concatenate(x) for x in errs[name])
        speed = ns / g_ns
        acc_ratio = rmse(de) / g_rmse
        if name == "imufusion":
            tgt = f"≥ 20× faster: {verdict(speed >= 20)}; as accurate: {verdict(rmse(de) >= g_rmse)}"
        elif name == "ahrs Madgwick":
            tgt = f"≥ 200× faster: {verdict(speed >= 200)}"
        else:
            tgt = ""
        tb.add_row(name, f"{ns:,.0f}", "" if name == "gaitmon" else f"{speed:,.1f}× / {ns / e_ns:,.1f}×", f"{rmse(de):.2f}°",
                   f"{de.mean():+.2f}°", f"{rmse(oe):.2f}°", f"{rmse(te):.2f}°",
                   "1" if name == "gaitmon" else f"{acc_ratio:.1f}×", tgt)
        out[name] = {"ns": ns, "engine_ns": e_ns, "drop_rmse": rmse(de), "speed_ratio": speed}
    tb.add_row("  gaitmon whole engine (orientation + events + steps)", f"{e_ns:,.0f}", "", "", "", "", "", "", "")
    de = np.concatenate(errs["gaitmon full pipeline"][0])
    tb.add_row("  gaitmon full pipeline (own calibration, ICs, sides)", "", "", f"{rmse(de):.2f}°", f"{de.mean():+.2f}°",
               "", "", "", "")
    console.width = max(console.width, 160)
    console.print(tb)
    console.print("ns/sample: gaitmon = orient_pass (the engine's orientation filter alone; its angles are read from the "
                  "engine, whose orientation stage is the same filter with a stride-adaptive box); whole engine below; "
                  "imufusion = Python loop of update_no_magnetometer + get_quaternion; ahrs = Madgwick(gyr=, acc=, "
                  "frequency=). Errors per steady step against the simulator's truth (see module docstring).")
    return out


if __name__ == "__main__":
    main()

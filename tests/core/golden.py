"""Golden step tables: the core's exact output on a fixed set of inputs, to prove that a refactor
changed nothing and that the result does not depend on the CPU the kernels were compiled for.

Inputs (frozen in ``tests/data/golden/inputs.npz`` as float32 samples, so that neither the
simulators nor numpy's CPU-dependent SIMD paths can move them):
- the three shipped real walking recordings of Mobilise-D participant HA001;
- three real running motion-capture trials (Hamner s04 3 m/s at 104 Hz, Fukuchi RBDS0041 4.5 m/s at
  200 Hz with its static trial, Dorn JA1 5 m/s at 52 Hz) turned into sacral-IMU recordings;
- simulated sessions: walking, running with bends and gaps, a jogger without a flight phase, a
  walker whose yaw pattern is reversed, jittered and dropped samples at 52 Hz.

Outputs (``tests/data/golden/steps.json.gz``): every step's fields from batch ``analyze`` and from
streaming in 7-sample chunks + side revisions.

Regenerate only for an intended behaviour change, and say so in the commit:
``python -m tests.core.golden --update`` (``--inputs`` also re-freezes the inputs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = ROOT / "tests" / "data" / "golden"
INPUTS = GOLDEN_DIR / "inputs.npz"
STEPS = GOLDEN_DIR / "steps.json.gz"
CHUNK = 7


def _sim_cases():
    from gaitmon.sim import SimConfig

    return {
        "sim-walk-104": SimConfig(activity="walk", fs=104.0, duration_s=30.0, seed=3),
        "sim-run-bends-gaps-200": SimConfig(activity="run", fs=200.0, duration_s=40.0, seed=4, bends=True,
                                            gaps=((15.0, 0.4), (28.0, 3.0))),
        "sim-jog-noflight-104": SimConfig(activity="run", fs=104.0, duration_s=30.0, seed=5, cadence_spm=165.0,
                                          contact_fraction=1.1, speed_mps=2.2),
        "sim-walk-yaw-reversed-52": SimConfig(activity="walk", fs=52.0, duration_s=30.0, seed=6,
                                              rotation_phase_deg=180.0),
        "sim-run-jitter-drops-52": SimConfig(activity="run", fs=52.0, duration_s=30.0, seed=7, jitter_s=0.3,
                                             drop_rate=0.01),
    }


MOCAP_CASES = {
    "mocap-hamner-s04-run300-104": ("hamner2013/s04_run300", None, 104.0),
    "mocap-fukuchi-rbds0041-T45-200": ("fukuchi2017/rbds0041_runT45", "fukuchi2017/rbds0041_static", 200.0),
    "mocap-dorn-ja1-run0500-52": ("dorn2012/ja1_run0500", "dorn2012/ja1_static", 52.0),
}


def freeze_inputs() -> None:
    """Build every input once and store it as float32 (time as float64)."""
    from gaitmon.sources.recording import read_recording
    from gaitmon.sim import simulate
    from gaitmon.sim.mocap import simulate_from_mocap

    arrays = {}

    def put(name, time, acc, gyr, forward, up):
        arrays[f"{name}|time"] = np.asarray(time, np.float64)
        arrays[f"{name}|acc"] = np.asarray(acc, np.float32)
        arrays[f"{name}|gyr"] = np.asarray(gyr, np.float32)
        arrays[f"{name}|axes"] = np.array([forward, up])

    for csv in sorted((ROOT / "tests" / "data" / "real-walking").glob("*.csv")):
        ref = json.loads(csv.with_suffix(".reference.json").read_text())
        rec = read_recording(csv)
        put("real-" + csv.stem, rec.time, rec.acc, rec.gyr, ref["forward"], ref["up"])
    data = ROOT / "tests" / "data" / "real-running"
    for name, (trial, static, fs) in MOCAP_CASES.items():
        rec = simulate_from_mocap(str(data / f"{trial}_markers.csv.gz"), fs=fs, seed=11,
                                  static=str(data / f"{static}_markers.csv.gz") if static else None)
        put(name, rec.time, rec.acc, rec.gyr, rec.forward, rec.up)
    for name, cfg in _sim_cases().items():
        rec = simulate(cfg)
        put(name, rec.time, rec.acc, rec.gyr, rec.forward, rec.up)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(INPUTS, **arrays)


def load_inputs() -> dict[str, tuple]:
    z = np.load(INPUTS)
    names = sorted({k.split("|")[0] for k in z.files})
    return {n: (z[f"{n}|time"], z[f"{n}|acc"].astype(np.float64), z[f"{n}|gyr"].astype(np.float64),
                *[str(a) for a in z[f"{n}|axes"]]) for n in names}


def _rows(steps) -> list[dict]:
    return [s.as_dict() for s in steps]


def compute() -> dict[str, dict[str, list[dict]]]:
    """Per input: the batch step table and the streamed (7-sample chunks + revisions) one."""
    from gaitmon.core import StreamingAnalyzer, analyze
    from gaitmon.core.sides import apply_revisions

    out = {}
    for name, (t, acc, gyr, forward, up) in load_inputs().items():
        batch = analyze(t, acc, gyr, forward=forward, up=up).steps
        an = StreamingAnalyzer(forward=forward, up=up)
        live = []
        for i in range(0, len(t), CHUNK):
            live += an.push(t[i:i + CHUNK], acc[i:i + CHUNK], gyr[i:i + CHUNK])
        live += an.finish()
        out[name] = {"batch": _rows(batch), "stream": _rows(apply_revisions(live, an.side_revisions))}
    return out


def _enc(v):
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def save(tables: dict) -> None:
    enc = {n: {k: [{f: _enc(v) for f, v in r.items()} for r in rows] for k, rows in d.items()}
           for n, d in tables.items()}
    with gzip.open(STEPS, "wt") as fh:
        json.dump(enc, fh, separators=(",", ":"))


def load() -> dict:
    with gzip.open(STEPS, "rt") as fh:
        d = json.load(fh)

    def dec(v):
        return float(v) if v in ("nan", "inf", "-inf") else v

    return {n: {k: [{f: dec(v) for f, v in r.items()} for r in rows] for k, rows in t.items()} for n, t in d.items()}


def differences(now: dict, golden: dict, tol: float = 1e-9, limit: int = 20) -> list[str]:
    """Human-readable differences (empty = same): counts, then the first differing fields.
    Floats equal within ``tol`` (absolute) or both NaN; everything else exactly."""
    out = []
    for name in sorted(set(now) | set(golden)):
        if name not in now or name not in golden:
            out.append(f"{name}: present only in {'golden' if name in golden else 'now'}")
            continue
        for kind in ("batch", "stream"):
            a, b = now[name][kind], golden[name][kind]
            if len(a) != len(b):
                out.append(f"{name}/{kind}: {len(a)} steps now, {len(b)} golden")
                continue
            for i, (x, y) in enumerate(zip(a, b)):
                for f in sorted(set(x) | set(y)):
                    u, v = x.get(f), y.get(f)
                    if isinstance(u, float) and isinstance(v, (float, int)) and not isinstance(v, bool):
                        if (math.isnan(u) and isinstance(v, float) and math.isnan(v)) or abs(u - v) <= tol:
                            continue
                    elif u == v:
                        continue
                    out.append(f"{name}/{kind} step {i} {f}: now {u!r}, golden {v!r}")
                    if len(out) >= limit:
                        return out
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update", action="store_true", help="rewrite the golden step tables from the current core")
    ap.add_argument("--inputs", action="store_true", help="also re-freeze the inputs (simulators, mocap)")
    a = ap.parse_args(argv)
    if a.inputs:
        freeze_inputs()
    now = compute()
    if a.update:
        save(now)
        print(f"wrote {STEPS.relative_to(ROOT)}: " + ", ".join(f"{n} {len(d['batch'])}" for n, d in now.items()))
        return 0
    diff = differences(now, load())
    print("\n".join(diff) if diff else f"same as golden ({sum(len(d['batch']) for d in now.values())} steps)")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())

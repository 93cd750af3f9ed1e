"""`gaitmon simulate`: a simulated recording (or one built from motion capture) and its truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import AXES, DEFAULT_FORWARD, DEFAULT_UP, EXIT_BAD_INPUT, EXIT_OK, err


def add_parser(sub) -> None:
    """Mount ``simulate``."""
    s = sub.add_parser("simulate", help="write a simulated recording and its ground truth",
                       description="Simulate a walker/runner with a sacral IMU (specific force, lever arm, impacts, "
                                   "noise, bias, random mount) and write the recording + truth. With --from-mocap, "
                                   "build the recording from a real optical motion-capture trial instead: rigid "
                                   "pelvis fit, sensor on the sacrum with a random clip mount, standing before the "
                                   "gait, strides looped up to --min-gait-s, truth ICs from force plates (else foot "
                                   "markers). See docs/mocap.md.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  gaitmon simulate --out rec.csv --truth truth.json\n"
                              "  gaitmon simulate --from-mocap tests/data/real-running/hamner2013/s04_run300_markers.csv.gz "
                              "--fs 104 --out rec.csv --truth truth.json\n"
                              "  gaitmon simulate --from-mocap trial.c3d --static static.c3d --fs 200 --seed 3 "
                              "--out rec.csv --truth truth.json")
    add_sim_args(s, duration=60.0, fs=104.0)
    s.add_argument("--out", type=Path, required=True, help="recording CSV to write (.csv or .csv.gz)")
    s.add_argument("--truth", type=Path, help="truth JSON (ICs, sides, per-step drop...)")
    m = s.add_argument_group("from motion capture (--activity, --duration, --drop-*, --cadence, --fatigue, "
                             "--bends do not apply)")
    m.add_argument("--from-mocap", metavar="TRIAL", help="motion-capture trial: .c3d, .trc, or the shared CSV "
                   "(<trial>_markers.csv.gz; its _grf/_forces/_ik siblings are found automatically). Needs "
                   "LASI+RASI and LPSI+RPSI or SACR (or L.ASIS/R.ASIS/L.PSIS/R.PSIS...), and foot markers")
    m.add_argument("--static", metavar="TRIAL", help="static standing trial of the same subject: reference marker "
                   "cluster and the neutral (standing) pose (default: the trial's own typical frame / mean pose)")
    m.add_argument("--forces", metavar="FILE", help="force file (shared CSV with <chan>_fy_N columns, or C3D) "
                   "instead of the trial's own; without any forces ICs come from the foot markers")
    m.add_argument("--mount-error", type=float, default=25.0, metavar="DEG",
                   help="max random clip-mount error per axis about the nominal --forward/--up axes "
                        "(default %(default)s; 0 = perfect mount)")
    m.add_argument("--min-gait-s", type=float, default=20.0, metavar="S",
                   help="loop whole strides (same-foot IC to IC) up to this much gait (default %(default)s; "
                        "0 = play the trial's strides once)")
    m.add_argument("--cutoff", type=float, default=None, metavar="HZ",
                   help="pose low-pass cut-off (default: Winter residual analysis per trial, limited to 6-15 Hz)")
    m.add_argument("--no-noise", action="store_true", help="no sensor bias, scale error, noise, quantisation or "
                   "clock error (for checks)")
    s.set_defaults(func=cmd_simulate)


def sim_config(args):
    """The simulator settings of ``simulate``/``demo`` from their options (:func:`add_sim_args`)."""
    from gaitmon.sim import SimConfig

    return SimConfig(activity=args.activity, fs=args.fs, duration_s=args.duration, seed=args.seed,
                     drop_left_deg=args.drop_left, drop_right_deg=args.drop_right,
                     cadence_spm=args.cadence, bends=args.bends, forward=args.forward or DEFAULT_FORWARD,
                     up=args.up or DEFAULT_UP, drop_drift_deg_per_min=args.fatigue,
                     walk_before_s=getattr(args, "walk_first", 0.0) or 0.0,
                     stance_side_drops=getattr(args, "stance_side_drops", False))


def cmd_simulate_mocap(args) -> int:
    """`gaitmon simulate --from-mocap TRIAL`: sacral-IMU recording + truth from motion capture."""
    from gaitmon.sim.mocap import MocapConfig, synthesize
    from gaitmon.sim.mocap_io import load_trial
    from gaitmon.sources.recording import write_recording

    try:
        cfg = MocapConfig(fs=args.fs, seed=args.seed, forward=args.forward or DEFAULT_FORWARD,
                          up=args.up or DEFAULT_UP, mount_error_deg=args.mount_error, min_gait_s=args.min_gait_s,
                          cutoff_hz=args.cutoff, noise=not args.no_noise)
        trial = load_trial(args.from_mocap, forces=args.forces)
        static = load_trial(args.static) if args.static else None
        rec = synthesize(trial, cfg, static=static)
        write_recording(args.out, rec.time, rec.acc, rec.gyr, rec.meta())
        if args.truth:
            rec.save_truth(args.truth)
    except (ValueError, OSError, KeyError, IndexError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        err(f"--from-mocap {args.from_mocap}: {msg}")
        return EXIT_BAD_INPUT
    i = rec.info
    n_steady = int(rec.truth.steady.sum())
    print(f"wrote {len(rec.time)} samples ({rec.time[-1]:.0f} s at {rec.fs:g} Hz) from {i['trial']} "
          f"({i['surface']}, {i['activity']}, low-pass {i['cutoff_hz']:.1f} Hz, "
          f"{i['loop']['copies']}× a {i['loop']['block_s']:.2f} s block) to {args.out}"
          + (f", truth ({len(rec.steps)} steps, {n_steady} steady; ICs from {'+'.join(i['ic_sources'])}) "
             f"to {args.truth}" if args.truth else ""))
    print(f"next: gaitmon analyze {args.out} --out steps.csv")
    return EXIT_OK


def cmd_simulate(args) -> int:
    from gaitmon.sim import simulate
    from gaitmon.sources.recording import write_recording

    if getattr(args, "from_mocap", None):
        return cmd_simulate_mocap(args)
    for opt in ("static", "forces", "cutoff"):
        if getattr(args, opt, None):
            err(f"--{opt} only applies with --from-mocap")
            return EXIT_BAD_INPUT
    try:
        rec = simulate(sim_config(args))
    except ValueError as exc:
        err(str(exc))
        return EXIT_BAD_INPUT
    meta = {"sensor": "gaitmon-sim", "forward": rec.forward, "up": rec.up, "fs": rec.fs,
            "activity": args.activity, "seed": args.seed}
    write_recording(args.out, rec.time, rec.acc, rec.gyr, meta)
    if args.truth:
        rec.truth.save(args.truth)
    print(f"wrote {len(rec.time)} samples ({rec.time[-1]:.0f} s at {rec.fs:g} Hz) to {args.out}"
          + (f", truth to {args.truth}" if args.truth else ""))
    print(f"next: gaitmon analyze {args.out} --out steps.csv")
    return EXIT_OK


def add_sim_args(p, *, duration: float, fs: float, activity: str = "run", fatigue: float = 0.0):
    """The simulator options shared by ``simulate`` and ``demo``."""
    p.add_argument("--activity", choices=("run", "walk"), default=activity, help="gait to simulate (default %(default)s)")
    p.add_argument("--duration", type=float, default=duration, help="seconds of gait (default %(default)s)")
    p.add_argument("--fs", type=float, default=fs, help="sensor sample rate, Hz (default %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="random seed: mount, noise, step times (default %(default)s)")
    p.add_argument("--drop-left", type=float, default=6.0, help="true mean pelvic drop in left steps, deg (default %(default)s)")
    p.add_argument("--drop-right", type=float, default=4.0, help="true mean pelvic drop in right steps, deg (default %(default)s)")
    p.add_argument("--cadence", type=float, default=None, help="steps/min (default 170 run, 110 walk)")
    p.add_argument("--fatigue", type=float, default=fatigue, help="true drop rising by this many deg/min as the runner tires (default %(default)s)")
    p.add_argument("--bends", action="store_true", help="add bends where the runner leans in")
    p.add_argument("--walk-first", type=float, default=0.0, metavar="S",
                   help="run sessions: walk this many seconds first, then run, in one bout (a warm-up walk that "
                        "anchors the run's left/right)")
    p.add_argument("--stance-side-drops", action="store_true",
                   help="a runner whose pelvis drops toward the STANCE side in running (the walk stays usual): "
                        "the case a run without a walk mirrors")
    p.add_argument("--forward", choices=AXES, default=None, help=f"sensor axis pointing forward (default {DEFAULT_FORWARD})")
    p.add_argument("--up", choices=AXES, default=None, help=f"sensor axis pointing up (default {DEFAULT_UP})")

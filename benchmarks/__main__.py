"""``python -m benchmarks {core,versus,orientation,events,walking,running,population,walkrun,side_cues,scale,store,all} [options]`` (or ``./dev.sh bench ...``).

Each subcommand prints a table with the issue-7 target beside the measured figure; ``-h`` after a
subcommand lists its options. ``all`` runs every benchmark with its defaults.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "core": ("benchmarks.core_bench", "batch throughput, streaming chunk time and latency, cold/warm start"),
    "analyze": ("benchmarks.analyze_bench", "gaitmon analyze end to end (parsing included) vs the kernel; memory vs length"),
    "orientation": ("benchmarks.orientation_bench", "gaitmon vs imufusion (x-io Fusion) vs ahrs Madgwick"),
    "events": ("benchmarks.events_bench", "initial contacts and sides vs mobgap (real and simulated)"),
    "walking": ("benchmarks.real_walking", "real walking per person: tuned vs leave-one-person-out"),
    "running": ("benchmarks.real_running", "real running kinematics (mocap) per trial and runner"),
    "scale": ("benchmarks.scale_bench", "N virtual sensors -> streaming core -> store writer with spool"),
    "store": ("benchmarks.store_bench", "StepWriter -> real influxd (the storage engineer's benchmark)"),
    "versus": ("benchmarks.versus_bench", "the core against an earlier git revision (REF), same input, side by side"),
    "population": ("benchmarks.population", "the core on 200 simulated people drawn from published physiology ranges"),
    "walkrun": ("benchmarks.walkrun", "population runners with a warm-up walk: anchored sides, stance-side-drop runners"),
    "side_cues": ("benchmarks.side_cues", "walking side cues per step: the sideways force before a contact, per window"),
}


def usage() -> str:
    lines = [__doc__.strip(), "", "commands:"]
    lines += [f"  {k:<12} {v[1]}" for k, v in COMMANDS.items()]
    lines.append("  all          every command above, in that order")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "all":
        for name, (mod, _) in COMMANDS.items():
            if name != "versus":  # needs a revision to compare with
                _run(mod, [])
        return 0
    if cmd not in COMMANDS:
        print(f"unknown benchmark {cmd!r}\n\n{usage()}", file=sys.stderr)
        return 2
    _run(COMMANDS[cmd][0], rest)
    return 0


def _run(module: str, args: list[str]) -> None:
    mod = importlib.import_module(module)
    if module.endswith("store_bench"):  # argparse on sys.argv
        sys.argv = ["python -m benchmarks store", *args]
        mod.main()
    else:
        mod.main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

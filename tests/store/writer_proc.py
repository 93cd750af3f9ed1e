"""A writer process for the crash tests: ``python -m tests.store.writer_proc ARGS``.

Writes the steps of a JSON file from index ``--start`` in chunks through a real StepWriter and
prints ``spooled <next index>`` after every ``write_steps`` call returned (the point from which
a restarted pipeline would resume), then flushes, prints ``done <stats json>`` and exits.
Settings come from GAITMON_* environment variables, exactly like the product.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time

from gaitmon.store import StoreConfig, open_writer


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", required=True)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=20)
    ap.add_argument("--pause", type=float, default=0.0)
    ap.add_argument("--t0", type=int, required=True)
    ap.add_argument("--session", default="crash")
    ap.add_argument("--flush-timeout", type=float, default=60.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    with open(args.steps) as f:
        steps = json.load(f)
    cfg = StoreConfig.from_env()
    w = open_writer(cfg)
    print(f"started replayed={w.stats.replayed}", flush=True)
    i = args.start
    while i < len(steps):
        w.write_steps(steps[i:i + args.chunk], sensor="s1", session=args.session, t0_unix_ns=args.t0)
        i = min(i + args.chunk, len(steps))
        print(f"spooled {i}", flush=True)
        if args.pause:
            time.sleep(args.pause)
    ok = w.flush(args.flush_timeout)
    stats = dataclasses.asdict(w.stats)
    w.close()
    print("done " + json.dumps({"flushed": ok, **stats}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

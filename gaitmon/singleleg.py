"""`gaitmon test single-leg`: run a single-leg stance test from a recording or a live stream
(virtual sensor), show a countdown, print a clear result, store it (JSON file, and InfluxDB
``single_leg_test`` when GAITMON_INFLUX_URL is set).

The numbers come from :func:`gaitmon.core.singleleg.analyze_single_leg` (see its docstring for the
method): drop in degrees (+ = the unsupported side sinks below its two-leg level), hold in s, sway
in deg (RMS) and deg/s. ``side`` is the STANCE leg (the one you stand on).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from gaitmon.core.singleleg import MAX_HOLD_S, SingleLegResult, analyze_single_leg

log = logging.getLogger("gaitmon.singleleg")

LEG = {"L": "LEFT", "R": "RIGHT"}
OTHER = {"L": "RIGHT", "R": "LEFT"}


def result_record(res: SingleLegResult, *, runner: str | None, source: str, t_unix_ns: int) -> dict:
    """The JSON record of one test (what is written to the results file)."""
    return {"test": "single_leg_stance", "version": 1, "runner": runner, "source": source,
            "time_unix_ns": int(t_unix_ns), **res.as_dict()}


def save_result(path, record: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    return path


def load_results(directory) -> list[dict]:
    """Every single-leg test JSON in ``directory`` (files that are not tests are skipped, logged)."""
    out = []
    for p in sorted(Path(directory).glob("*.json")):
        try:
            r = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            log.warning("skipping %s: %s", p, exc)
            continue
        if isinstance(r, dict) and r.get("test") == "single_leg_stance":
            out.append(r)
    return sorted(out, key=lambda r: r.get("time_unix_ns", 0))


def describe(res: SingleLegResult) -> list[str]:
    """Plain-language lines for the terminal."""
    free = OTHER[res.side].lower()
    lines = [f"Standing on your {LEG[res.side].lower()} leg you held {res.hold_s:.1f} s"
             + (" — the full test." if res.completed else f" (of {MAX_HOLD_S:.0f} s).")]
    if res.drop_deg >= 0:
        lines.append(f"Your {free} hip sank {res.drop_deg:.1f}° below its level on two legs "
                     "(Trendelenburg-style pelvic drop; the hip muscles of the standing leg hold the pelvis).")
    else:
        lines.append(f"Your {free} hip rose {-res.drop_deg:.1f}° above its level on two legs (hip hitched up: "
                     "no drop).")
    lines.append(f"Sway: {res.sway_rms_deg:.2f}° RMS, {res.sway_velocity_dps:.1f}°/s on average.")
    if res.quality < 0.7 or res.notes:
        lines.append("Note: " + "; ".join(res.notes or ["lower measurement quality"]))
    return lines


def run_virtual(side: str, *, console, speed: float = 1.0, hold_s: float = MAX_HOLD_S, drop_deg: float = 4.0,
                sway_deg: float = 0.8, seed: int = 0, fs: float = 104.0):
    """Stream a simulated test (virtual sensor) in chunks of 0.1 s with the live countdown.
    Returns (time, acc, gyr, forward, up, truth). ``speed`` = playback speed vs real time
    (0 = as fast as possible)."""
    from gaitmon.sim.singleleg import SingleLegConfig, simulate_single_leg

    rec = simulate_single_leg(SingleLegConfig(side=side, hold_s=hold_s, drop_deg=drop_deg, sway_deg=sway_deg,
                                              seed=seed, fs=fs))
    t_off = rec.truth.foot_off_s
    chunk = max(int(rec.fs * 0.1), 1)
    n = len(rec.time)
    buf_t, buf_a, buf_g = [], [], []
    from rich.live import Live
    from rich.text import Text

    def prompt(tnow: float) -> Text:
        if tnow < t_off - 3:
            return Text(f"Stand still on BOTH legs … {t_off - tnow:4.1f} s", style="bold")
        if tnow < t_off:
            return Text(f"Get ready to lift your {OTHER[side]} foot in {t_off - tnow:3.0f} s", style="bold yellow")
        left = MAX_HOLD_S - (tnow - t_off)
        if left > 0:
            return Text(f"Stand on your {LEG[side]} leg — {left:4.0f} s left   "
                        + "█" * int(left) + "░" * int(MAX_HOLD_S - int(left)), style="bold green")
        return Text("Put your foot down and stand still.", style="bold")

    with Live(prompt(0.0), console=console, refresh_per_second=8, transient=False) as live:
        for i in range(0, n, chunk):
            buf_t.append(rec.time[i:i + chunk])
            buf_a.append(rec.acc[i:i + chunk])
            buf_g.append(rec.gyr[i:i + chunk])
            live.update(prompt(float(rec.time[min(i + chunk, n) - 1])))
            if speed > 0:
                time.sleep(chunk / rec.fs / speed)
    console.print()
    return (np.concatenate(buf_t), np.concatenate(buf_a), np.concatenate(buf_g), rec.forward, rec.up, rec.truth)


def store_influx(res: SingleLegResult, *, runner: str | None, sensor: str, t_unix_ns: int, console=None,
                 timeout: float = 30.0) -> int:
    """Write the result as ``single_leg_test`` (spooled first; nothing lost if the server is down)."""
    from gaitmon.analysis.influx import write_single_leg
    from gaitmon.store import StoreConfig, open_writer

    cfg = StoreConfig.from_env()
    runner = runner or cfg.runner or "runner"
    w = open_writer(cfg)
    try:
        n = write_single_leg(w, res, runner=runner, sensor=sensor, t_unix_ns=t_unix_ns)
        done = w.flush(timeout)
    finally:
        w.close()
    if console:
        console.print(f"InfluxDB: single_leg_test for {runner} " + ("stored" if done else
                      "spooled (server not reachable: sent by the next gaitmon run)"))
    return n

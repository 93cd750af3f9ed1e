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


def _prompt(tnow: float, t_off: float, side: str):
    """The countdown line at ``tnow`` s into the test (foot off expected at ``t_off`` s)."""
    from rich.text import Text

    if tnow < t_off - 3:
        return Text(f"Stand still on BOTH legs … {t_off - tnow:4.1f} s", style="bold")
    if tnow < t_off:
        return Text(f"Get ready to lift your {OTHER[side]} foot in {t_off - tnow:3.0f} s", style="bold yellow")
    left = MAX_HOLD_S - (tnow - t_off)
    if left > 0:
        return Text(f"Stand on your {LEG[side]} leg — {left:4.0f} s left   "
                    + "█" * int(left) + "░" * int(MAX_HOLD_S - int(left)), style="bold green")
    return Text("Put your foot down and stand still.", style="bold")


async def collect_ble(side: str, address: str, *, console, kind: str = "gaitmon", out_dir: Path,
                      runner: str | None = None, forward: str | None = None, up: str | None = None,
                      rate_hz: float | None = None, stand_s: float = 5.0, after_s: float = 3.0,
                      connect_timeout_s: float = 30.0, idle_stop_s: float = 3.0):
    """Run the test live from a BLE sensor through the collector (same bytes, gap accounting and
    raw recording as `gaitmon collect`). The countdown follows the SENSOR's clock (samples
    received), so it stays right whatever the radio does; it ends after the test or when the sensor
    has sent nothing for ``idle_stop_s``. Returns (time s, acc m/s², gyr rad/s,
    forward, up, recording path)."""
    import asyncio

    from rich.live import Live
    from rich.text import Text

    from gaitmon.collector.bleak_link import BleakLink
    from gaitmon.collector.profiles import get_profile
    from gaitmon.collector.session import SensorSession, SensorSpec

    import time as _time

    blocks = []
    latest = [None, 0.0]  # sensor time of the last sample (s), arrival (monotonic s)

    def on_block(b) -> None:
        blocks.append(b)
        latest[0] = float(b.t_rec[-1])
        latest[1] = _time.monotonic()

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rec_path = out_dir / f"single-leg-{side}-{time.strftime('%Y%m%dT%H%M%S')}.csv"
    spec = SensorSpec(key="single-leg", runner=runner or "runner", sensor=address, kind=kind, forward=forward,
                      up=up, rate_hz=rate_hz)
    sess = SensorSession(spec, BleakLink(address), get_profile(kind), session_id=f"single-leg-{side}",
                         recording_path=rec_path, on_block=on_block)
    task = asyncio.create_task(sess.run())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    total = stand_s + MAX_HOLD_S + after_s
    try:
        with Live(Text("connecting to the sensor …"), console=console, refresh_per_second=8) as live:
            while not task.done():
                await asyncio.sleep(0.05)
                t = latest[0]
                if t is None:
                    if loop.time() - t0 > connect_timeout_s:
                        raise TimeoutError(f"no data from {address} within {connect_timeout_s:g} s: is it on, "
                                           "in range, and not connected to another app?")
                    continue
                live.update(_prompt(t, stand_s, side))
                if t >= total or _time.monotonic() - latest[1] > idle_stop_s:
                    break  # done, or the sensor stopped sending (test over / sensor off)
    finally:
        sess.stop()
        await asyncio.gather(task, return_exceptions=True)
    console.print()
    if not blocks:
        raise TimeoutError(f"no samples received from {address}")
    t = np.concatenate([b.t_rec for b in blocks])
    acc = np.concatenate([b.acc for b in blocks])
    gyr = np.concatenate([b.gyr for b in blocks])
    st = sess.status
    if st.packets_lost or st.packets_rejected:
        console.print(f"[yellow]link:[/] {st.packets_lost} packets lost, {st.packets_rejected} rejected "
                      "(gaps are kept as gaps)")
    return t, acc, gyr, sess.forward or "-z", sess.up or "+y", rec_path


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

    def prompt(tnow: float):
        return _prompt(tnow, t_off, side)

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

    from gaitmon.store import deadline

    cfg = StoreConfig.from_env()
    runner = runner or cfg.runner or "runner"
    with deadline.operation(timeout):  # the whole InfluxDB part, not each request
        w = open_writer(cfg)
        try:
            n = write_single_leg(w, res, runner=runner, sensor=sensor, t_unix_ns=t_unix_ns)
            done = w.flush(timeout)
        finally:
            w.close()
    loss = w.stats.loss_message()
    if loss:
        from gaitmon.store import StoreError

        raise StoreError(loss)
    if console:
        console.print(f"InfluxDB: single_leg_test for {runner} " + ("stored" if done else
                      "spooled (server not reachable: sent by the next gaitmon run)"), markup=False, highlight=False)
    return n

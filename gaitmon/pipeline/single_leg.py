"""The single-leg stance test's data path (``gaitmon test single-leg``): samples from a live
source, and the result into its sinks (JSON file, InfluxDB ``single_leg_test``).

* :func:`collect_ble` — a BLE sensor through the collector (same bytes, gap accounting and raw
  recording as ``gaitmon collect``);
* :func:`run_virtual` — the single-leg simulator streamed in 0.1 s chunks (a virtual live sensor);
* :func:`result_record` / :func:`save_result` / :func:`load_results` — the results files;
* :func:`store_influx` — the InfluxDB point.

Both sources drive a countdown given by the caller (:class:`Countdown`, e.g.
:class:`gaitmon.ui.single_leg_view.Countdown`): the pipeline says when, the ui how it looks.
The numbers come from :func:`gaitmon.core.singleleg.analyze_single_leg` (see its docstring for the
method): drop in degrees (+ = the unsupported side sinks below its two-leg level), hold in s, sway
in deg (RMS) and deg/s. ``side`` is the STANCE leg (the one you stand on).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import numpy as np

from gaitmon.core.singleleg import MAX_HOLD_S, SingleLegResult

__all__ = ["Countdown", "collect_ble", "run_virtual", "result_record", "save_result", "load_results",
           "store_influx"]

log = logging.getLogger("gaitmon.singleleg")  # the name its log lines had before the move


class Countdown(Protocol):
    def running(self, t_off: float, *, connecting: bool = False
                ) -> AbstractContextManager[Callable[[float], None]]:
        """Show the countdown (foot off at ``t_off`` s into the test) while the samples arrive;
        the context yields ``show(tnow)``."""
        ...


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


async def collect_ble(side: str, address: str, *, countdown: Countdown, kind: str = "gaitmon", out_dir: Path,
                      runner: str | None = None, forward: str | None = None, up: str | None = None,
                      rate_hz: float | None = None, stand_s: float = 5.0, after_s: float = 3.0,
                      connect_timeout_s: float = 30.0, idle_stop_s: float = 3.0):
    """Run the test live from a BLE sensor through the collector (same bytes, gap accounting and
    raw recording as `gaitmon collect`). The countdown follows the SENSOR's clock (samples
    received), so it stays right whatever the radio does; it ends after the test or when the sensor
    has sent nothing for ``idle_stop_s``. Returns (time s, acc m/s², gyr rad/s,
    forward, up, recording path, the session's final SensorStatus)."""
    import asyncio
    import time as _time

    from gaitmon.collector.bleak_link import BleakLink
    from gaitmon.collector.profiles import get_profile
    from gaitmon.collector.session import SensorSession, SensorSpec

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
        with countdown.running(stand_s, connecting=True) as show:
            while not task.done():
                await asyncio.sleep(0.05)
                t = latest[0]
                if t is None:
                    if loop.time() - t0 > connect_timeout_s:
                        raise TimeoutError(f"no data from {address} within {connect_timeout_s:g} s: is it on, "
                                           "in range, and not connected to another app?")
                    continue
                show(t)
                if t >= total or _time.monotonic() - latest[1] > idle_stop_s:
                    break  # done, or the sensor stopped sending (test over / sensor off)
    finally:
        sess.stop()
        await asyncio.gather(task, return_exceptions=True)
    if not blocks:
        raise TimeoutError(f"no samples received from {address}")
    t = np.concatenate([b.t_rec for b in blocks])
    acc = np.concatenate([b.acc for b in blocks])
    gyr = np.concatenate([b.gyr for b in blocks])
    return t, acc, gyr, sess.forward or "-z", sess.up or "+y", rec_path, sess.status


def run_virtual(side: str, *, countdown: Countdown, speed: float = 1.0, hold_s: float = MAX_HOLD_S,
                drop_deg: float = 4.0, sway_deg: float = 0.8, seed: int = 0, fs: float = 104.0):
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
    with countdown.running(t_off) as show:
        for i in range(0, n, chunk):
            buf_t.append(rec.time[i:i + chunk])
            buf_a.append(rec.acc[i:i + chunk])
            buf_g.append(rec.gyr[i:i + chunk])
            show(float(rec.time[min(i + chunk, n) - 1]))
            if speed > 0:
                time.sleep(chunk / rec.fs / speed)
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

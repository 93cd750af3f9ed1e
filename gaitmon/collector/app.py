"""Entry points of the collector: ``scan`` and ``run_collect`` (the ``gaitmon scan`` and
``gaitmon collect`` commands are in :mod:`gaitmon.cli.scan` and :mod:`gaitmon.cli.collect`).

* ``await scan(timeout) -> list[FoundDevice]`` — recognised sensors nearby.
* ``run_collect(cfg, consumer=..., watcher=..., virtual=0, duration_s=None, out_dir=...)`` — run a
  collection session (blocking; Ctrl-C or SIGTERM stops it cleanly: streams stopped, the consumer
  drained and finished, files flushed and closed, final status written). Returns a
  :class:`CollectResult`.
* ``phone_links`` / ``phyphox_links`` — (SensorSpec, Link) pairs for phones, for ``links_factory``.

Where the samples go is injected (:mod:`gaitmon.collector.consumer`): ``consumer`` builds the
:class:`~gaitmon.collector.consumer.BlockConsumer` that receives every sensor's blocks (``gaitmon
collect``: the live pipeline, :func:`gaitmon.pipeline.live.pipeline_factory`), ``watcher`` the
live view (:class:`gaitmon.ui.collect_view.CollectView`). The collector imports neither.

Output directory layout (``<out_dir>/<session>/``): ``<runner>_<sensor>.csv`` raw recording per
sensor (recording format, sensor frame, gaps are missing rows) + ``.session.json`` sidecar (gaps,
clock fit, status); ``run.json`` (what ran, per-sensor counts, and the consumer's statistics under
``pipeline``: step latency p50/p99); and what the consumer writes there (the live pipeline:
``steps_<runner>.csv``, ``status.jsonl`` / ``status_final.json``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .clock import HostClock
from .config import CollectConfig, ConfigError, SensorEntry
from .consumer import BlockConsumer, ConsumerFactory, WatcherFactory
from .link import Link
from .profiles import get_profile
from .scanner import FoundDevice, ScanError, find_device, find_devices, scan_devices
from .session import ReconnectPolicy, SensorSession, SensorSpec
from .status import SensorStatus

__all__ = ["scan", "run_collect", "collect_async", "CollectResult", "FoundDevice", "phone_links",
           "phyphox_links"]

log = logging.getLogger("gaitmon.collector.app")


async def scan(timeout: float = 10.0, *, all_devices: bool = False) -> list[FoundDevice]:
    """Scan for ``timeout`` seconds; the recognised sensors (``all_devices``: every device),
    strongest first. Raises :class:`~gaitmon.collector.scanner.ScanError` without Bluetooth."""
    return await scan_devices(timeout, all_devices=all_devices)


@dataclass
class CollectResult:
    """What a collection run produced.

    run_dir: the session directory; statuses: final SensorStatus per sensor; stats: the consumer's
    statistics (the live pipeline: steps, latency p50/p99 in s; ``{}`` without a consumer);
    interrupted: True if stopped by Ctrl-C / SIGTERM; virtual_links: the virtual links (exact loss
    counts); consumer: the block consumer of the run (e.g. the LivePipeline with its step records).
    """

    run_dir: Path
    session_id: str
    statuses: list[SensorStatus]
    stats: dict
    interrupted: bool = False
    virtual_links: list = field(default_factory=list)
    sessions: list = field(default_factory=list, repr=False)
    consumer: BlockConsumer | None = field(default=None, repr=False)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "sensor"


def run_collect(cfg: CollectConfig, *, consumer: ConsumerFactory | None = None,
                watcher: WatcherFactory | None = None, virtual: int = 0, duration_s: float | None = None,
                out_dir: Path, virtual_links: list | None = None,
                links_factory: Callable | None = None) -> CollectResult:
    """Collect from the configured sensors (or ``virtual`` simulated ones) until ``duration_s``
    (default: the config's, else until Ctrl-C). Blocking; see module docstring.

    Args:
        cfg: validated configuration (:meth:`CollectConfig.load`).
        consumer: builds the consumer of every sensor's sample blocks, given the session
            directory (:class:`~gaitmon.collector.consumer.ConsumerFactory`; ``gaitmon collect``:
            the live pipeline). None: the samples are only recorded.
        watcher: builds the live view, given the consumer and a title (None: no view).
        virtual: number of virtual sensors to use instead of the radio (0 = real sensors).
        links_factory: returns extra (SensorSpec, Link) pairs (e.g. :func:`phone_links`).
        duration_s: session length in seconds (None: ``cfg.duration_s``, else until stopped).
        out_dir: parent directory of the session directory.
        virtual_links: pre-built VirtualLinks to use (tests); overrides ``virtual``.
    """
    async def main() -> CollectResult:
        links = links_factory() if links_factory else None  # built inside the event loop
        return await collect_async(cfg, consumer=consumer, watcher=watcher, virtual=virtual,
                                   duration_s=duration_s, out_dir=out_dir, virtual_links=virtual_links,
                                   links=links)

    return asyncio.run(main())


def _virtual_links(cfg: CollectConfig, n: int, duration_s: float | None) -> list[tuple[SensorSpec, Link]]:
    from gaitmon.sensors import metawear as mw
    from gaitmon.sensors import movella_dot as dot
    from gaitmon.sensors.movesense import IMU_RATES
    from gaitmon.sim import SimConfig

    from .virtual import (VirtualDotSensor, VirtualLink, VirtualMetaWearSensor, VirtualMovesenseSensor,
                          VirtualPolarSensor, VirtualSensor)

    # kind -> (device class, display name, the rates it offers); the gaitmon profile takes any rate
    devices = {"polar": (VirtualPolarSensor, "Polar Sense", VirtualPolarSensor.RATES),
               "movesense": (VirtualMovesenseSensor, "Movesense", IMU_RATES),
               "movella_dot": (VirtualDotSensor, "Movella DOT", dot.STREAM_RATES),
               "metawear": (VirtualMetaWearSensor, "MetaWear", tuple(mw.ODR_CODES))}
    v = cfg.virtual
    rate = v.rate_hz
    if v.kind in devices:  # the nearest rate the device offers
        rate = min(devices[v.kind][2], key=lambda r: abs(r - v.rate_hz))
    out = []
    for i in range(n):
        entry = cfg.sensors[i] if i < len(cfg.sensors) else None
        runner = entry.runner if entry else f"virtual-{i + 1}"
        forward = entry.forward if entry and entry.forward else "-z"
        up = entry.up if entry and entry.up else "+y"
        sim = SimConfig(activity=v.activity, fs=float(rate),
                        duration_s=float(duration_s) if duration_s else 120.0,
                        seed=v.seed + 100 * i, drop_left_deg=5.0 + 1.5 * i,
                        drop_right_deg=4.0 + 0.5 * i, forward=forward, up=up)
        common = dict(bouts=None if duration_s is None else 1, battery_pct=95 - 7 * i,
                      rssi_dbm=-55 - 4 * i)
        if v.kind in devices:
            cls, label, _rates = devices[v.kind]
            name = f"{label} virtual-{i + 1}"
            sensor = cls(f"virtual:{i + 1}", name, sim, **common)
        else:
            name = f"gaitmon-virtual-{i + 1}"
            sensor = VirtualSensor(f"virtual:{i + 1}", name, sim, clock_start_s=1000.0 * (i + 1),
                                   **common)
        link = VirtualLink(sensor, speed=v.speed, loss=v.packet_loss,
                           drop_every_s=v.link_drop_every_s or None, drop_down_s=v.link_down_s,
                           seed=v.seed + i)
        reports = v.kind == "gaitmon"  # only the gaitmon profile reports its mount
        spec = SensorSpec(key=f"{_safe(runner)}_{_safe(name)}", runner=runner, sensor=name,
                          kind=v.kind,
                          forward=entry.forward if entry and entry.forward else (None if reports else forward),
                          up=entry.up if entry and entry.up else (None if reports else up),
                          rate_hz=None if reports else rate)
        out.append((spec, link))
    return out


async def _radio_links(cfg: CollectConfig) -> list[tuple[SensorSpec, Link]]:
    from .bleak_link import BleakLink

    entries = list(cfg.sensors)
    try:
        found = await find_devices([(e.address, e.name) for e in entries],
                                   timeout=cfg.collector.scan_timeout_s)
    except ScanError as e:
        log.error("%s", e)
        found = [None] * len(entries)
    out = []
    for e, d in zip(entries, found):
        if d is None:
            log.warning("%s: not seen in the first scan; will keep looking", e.label)

        def resolver(e: SensorEntry = e):
            return _resolve(e, cfg.collector.scan_timeout_s)

        link = BleakLink(d.device if d else e.address, name=e.name or (d.name if d else None),
                         adv_rssi=d.rssi if d else None, resolver=resolver)
        label = e.name or (d.name if d and d.name else e.address)
        spec = SensorSpec(key=f"{_safe(e.runner)}_{_safe(label)}", runner=e.runner, sensor=label,
                          kind=e.kind, forward=e.forward, up=e.up, rate_hz=e.rate_hz)
        out.append((spec, link))
    return out


async def _resolve(entry: SensorEntry, timeout: float):
    try:
        d = await find_device(address=entry.address, name=entry.name, timeout=timeout)
    except ScanError as e:
        log.warning("%s: %s", entry.label, e)
        return None
    return d.device if d else None


async def collect_async(cfg: CollectConfig, *, consumer: ConsumerFactory | None = None,
                        watcher: WatcherFactory | None = None, virtual: int = 0,
                        duration_s: float | None = None, out_dir: Path,
                        virtual_links: list | None = None,
                        links: list | None = None,
                        stop_event: asyncio.Event | None = None,
                        on_sessions: Callable[[list[SensorSession]], None] | None = None,
                        ) -> CollectResult:
    """The coroutine behind :func:`run_collect` (``stop_event`` ends it when set;
    ``on_sessions`` receives the sensor sessions once they exist, e.g. to watch them;
    ``links``: extra (SensorSpec, Link) pairs collected alongside, e.g. phones pushing over HTTP)."""
    duration = duration_s if duration_s is not None else cfg.duration_s
    session_id = cfg.session_name or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = Path(out_dir) / session_id
    run_dir.mkdir(parents=True, exist_ok=True)
    tuning = cfg.collector
    receiver = consumer(run_dir, status_interval_s=tuning.status_interval_s) if consumer else None
    host_clock = HostClock()
    policy = ReconnectPolicy(initial_s=tuning.reconnect_initial_s, max_s=tuning.reconnect_max_s,
                             connect_timeout_s=tuning.connect_timeout_s)

    if virtual_links is not None:
        pairs = []
        for i, link in enumerate(virtual_links):
            entry = cfg.sensors[i] if i < len(cfg.sensors) else None
            runner = entry.runner if entry else f"virtual-{i + 1}"
            kind = getattr(getattr(link, "sensor", None), "kind", "gaitmon")
            pairs.append((SensorSpec(key=f"{_safe(runner)}_{_safe(link.name)}", runner=runner,
                                     sensor=link.name, kind=kind,
                                     forward=entry.forward if entry else None,
                                     up=entry.up if entry else None,
                                     rate_hz=entry.rate_hz if entry else None), link))
    elif virtual > 0:
        pairs = _virtual_links(cfg, virtual, duration)
    elif cfg.sensors or not links:
        if not cfg.sensors:
            raise ConfigError(f"{cfg.source}: no [[sensor]] entries: nothing to collect "
                              "(or use --virtual N)")
        pairs = await _radio_links(cfg)
    else:
        pairs = []
    pairs = list(pairs) + list(links or ())
    vlinks = [link for _spec, link in pairs if hasattr(link, "stats")]

    sessions: list[SensorSession] = []
    for i, (spec, link) in enumerate(pairs):
        s = SensorSession(spec, link, get_profile(spec.kind), session_id=session_id,
                          recording_path=run_dir / f"{spec.key}.csv",
                          on_block=receiver.on_block if receiver is not None else None,
                          host_clock=host_clock, policy=policy,
                          status_interval_s=tuning.status_interval_s, seed=i)
        if receiver is not None:
            receiver.add_session(s)
        sessions.append(s)

    if on_sessions is not None:
        on_sessions(sessions)
    stop = stop_event or asyncio.Event()
    interrupted = False
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        nonlocal interrupted
        if stop.is_set():  # second Ctrl-C: hard stop
            for t in session_tasks:
                t.cancel()
        interrupted = True
        log.warning("stopping: flushing files (Ctrl-C again to abort)")
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass

    view = watcher(receiver, f"gaitmon collect — session {session_id}") if watcher else None
    started = time.monotonic()
    consumer_task = asyncio.create_task(receiver.run(), name="consumer") if receiver is not None else None
    session_tasks = [asyncio.create_task(s.run(), name=f"session-{s.spec.key}") for s in sessions]
    view_task = asyncio.create_task(view.run(), name="view") if view else None
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.2)
            if duration is not None and time.monotonic() - started >= duration:
                break
            if all(t.done() for t in session_tasks):
                break
            if vlinks and all(getattr(link, "finished", False) for link in vlinks):
                break  # finite virtual streams are used up
    finally:
        for s in sessions:
            s.stop()
        results = await asyncio.gather(*session_tasks, return_exceptions=True)
        for s, r in zip(sessions, results):
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                log.error("%s: session ended with an error: %r", s.spec.key, r)
        if receiver is not None:
            receiver.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer_task
        for link in vlinks:
            await link.aclose()
        for _spec, link in links or ():
            with contextlib.suppress(Exception):
                await link.aclose()
        if view is not None:
            view.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await view_task
        for sig in installed:
            loop.remove_signal_handler(sig)

    stats = receiver.stats() if receiver is not None else {}
    result = CollectResult(run_dir=run_dir, session_id=session_id,
                           statuses=[s.status for s in sessions], stats=stats,
                           interrupted=interrupted, virtual_links=vlinks, sessions=sessions,
                           consumer=receiver)
    (run_dir / "run.json").write_text(json.dumps({
        "session": session_id,
        "virtual": bool(vlinks),
        "duration_s": round(time.monotonic() - started, 3),
        "interrupted": interrupted,
        "sensors": [{"key": s.spec.key, "runner": s.spec.runner, "sensor": s.spec.sensor,
                     "recording": s.recorder.path.name if s.recorder else None,
                     "status": s.status.as_dict()} for s in sessions],
        "pipeline": stats,
    }, indent=2) + "\n", encoding="utf-8")
    return result


def phone_links(listen: str, *, platform: str, runner: str = "phone", mount: str = "belt-screen-out",
                rate_hz: float | None = None, idle_timeout_s: float = 5.0):
    """(SensorSpec, PhoneLink) for one phone pushing to ``[HOST:]PORT`` (call inside the event loop)."""
    from gaitmon.sources import MOUNTS

    from .phone import PhoneLink, PushServer

    host, _, port = listen.rpartition(":")
    try:
        server = PushServer(host or "0.0.0.0", int(port))
    except ValueError:
        raise ConfigError(f"--sensorlogger must be [HOST:]PORT, got {listen!r}") from None
    if mount not in MOUNTS:
        raise ConfigError(f"--phone-mount must be one of {', '.join(MOUNTS)}, got {mount!r}")
    link = PhoneLink(server, name=f"Sensor Logger ({runner})", platform=platform.split("-")[0],
                     standardised=platform.endswith("standardised"), idle_timeout_s=idle_timeout_s)
    fwd, up = MOUNTS[mount]
    spec = SensorSpec(key=f"{_safe(runner)}_sensorlogger", runner=runner, sensor=link.name,
                      kind="sensorlogger", forward=fwd, up=up, rate_hz=rate_hz)
    return [(spec, link)]


def phyphox_links(url: str, *, runner: str = "phone", mount: str = "belt-screen-out",
                  rate_hz: float | None = None, idle_timeout_s: float = 5.0):
    """(SensorSpec, PhyphoxLink) for one phone running phyphox with remote access at ``url``."""
    from gaitmon.sources import MOUNTS

    from .phone import PhyphoxLink

    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--phyphox must be the URL phyphox shows (http://…), got {url!r}")
    if mount not in MOUNTS:
        raise ConfigError(f"--phone-mount must be one of {', '.join(MOUNTS)}, got {mount!r}")
    link = PhyphoxLink(url, name=f"phyphox ({runner})", idle_timeout_s=idle_timeout_s)
    fwd, up = MOUNTS[mount]
    spec = SensorSpec(key=f"{_safe(runner)}_phyphox", runner=runner, sensor=link.name,
                      kind="phyphox", forward=fwd, up=up, rate_hz=rate_hz)
    return [(spec, link)]

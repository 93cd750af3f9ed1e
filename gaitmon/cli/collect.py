"""`gaitmon collect`: stream sensors live — record the raw data, analyse every step, show a live table.

The command wires the layers (the collector knows neither the pipeline nor the ui nor the store):
:func:`gaitmon.collector.app.run_collect` gets the live pipeline as its block consumer
(:func:`gaitmon.pipeline.live.pipeline_factory`: the session files, and InfluxDB when configured)
and the live table as its watcher (:class:`gaitmon.ui.collect_view.CollectView`).

Exit codes: 0 ok, 2 bad configuration or usage, 4 points the store will never keep (refused by
the server, spool full; the recordings and steps files hold everything).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_OK, EXIT_SERVER, err, influx_configured


def add_parser(subparsers) -> None:
    """Mount ``collect``."""
    p = subparsers.add_parser(
        "collect", help="stream sensors live: record raw data, analyse steps, show a live view",
        description="Connect to the sensors listed in a TOML config (see docs/collector.md), "
                    "stream their IMU data, record it (recording CSV per sensor, gaps kept as "
                    "gaps), analyse every step live (steps CSV per runner) and show a live table. "
                    "Lost links are reconnected automatically. Ctrl-C stops cleanly and flushes "
                    "everything. --virtual N runs N simulated sensors with no radio.",
        epilog="example: gaitmon collect --virtual 3 --duration 60 --out recordings")
    p.add_argument("--config", "-c", type=Path, metavar="FILE",
                   help="TOML config: [[sensor]] address/name, runner, axes; [session]; "
                        "[collector]; [virtual]")
    p.add_argument("--virtual", type=int, default=0, metavar="N",
                   help="use N virtual sensors (simulated runners, no Bluetooth needed)")
    p.add_argument("--duration", type=float, default=None, metavar="S",
                   help="stop after S seconds (default: config [session] duration_s, else Ctrl-C)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output directory; a sub-directory per session is created "
                        "(default: config [session] out_dir, else ./recordings)")
    p.add_argument("--session", default=None, metavar="NAME",
                   help="session name (default: config [session] name, else the UTC start time)")
    p.add_argument("--no-live", action="store_true", help="no live table (e.g. when logging to a file)")
    p.add_argument("--virtual-kind", choices=("gaitmon", "polar", "movesense", "movella_dot", "metawear"),
                   default=None,
                   help="protocol of the virtual sensors: the open gaitmon profile (default), "
                        "Polar PMD (ACC+GYRO), Movesense GSP (IMU6), Movella DOT (rate quantities, "
                        "<= 60 Hz) or MetaWear (BMI160 acc + gyro)")
    p.add_argument("--speed", type=float, default=None, metavar="X",
                   help="virtual sensors: sensor seconds per wall second (default 1 = real time)")
    p.add_argument("--packet-loss", type=float, default=None, metavar="P",
                   help="virtual sensors: probability of losing each packet (default 0)")
    p.add_argument("--link-drop-every", type=float, default=None, metavar="S",
                   help="virtual sensors: drop the link every S sensor seconds (default never)")
    ph = p.add_argument_group("phone (Sensor Logger HTTP push, phyphox remote access; docs/phone.md)")
    ph.add_argument("--sensorlogger", metavar="[HOST:]PORT", default=None,
                    help="listen for Sensor Logger's HTTP push on PORT (set the app's push URL to "
                         "http://<this computer>:PORT/)")
    ph.add_argument("--phyphox", metavar="URL", default=None,
                    help="poll phyphox's remote access at URL (shown by the app, e.g. http://192.168.1.20:8080)")
    ph.add_argument("--phone-platform", choices=("android", "ios", "ios-standardised"), default=None,
                    help="the phone's platform (required with --sensorlogger: the acceleration sign "
                         "differs and the messages do not say)")
    ph.add_argument("--phone-runner", default="phone", metavar="NAME", help="runner wearing the phone")
    ph.add_argument("--phone-mount", default="belt-screen-out",
                    help="phone mount preset (belt-screen-out, belt-screen-in, …; default belt-screen-out)")
    ph.add_argument("--phone-rate", type=float, default=None, metavar="HZ",
                    help="the app's sampling rate (default: measured from the first message)")
    ph.add_argument("--phone-timeout", type=float, default=5.0, metavar="S",
                    help="no push for S seconds = link lost (default 5; keep it above the app's batch period)")
    p.set_defaults(func=cmd_collect)


def cmd_collect(args) -> int:
    """`gaitmon collect` plus the store's verdict: points that will never be stored make the exit
    code non-zero (4) with a message saying how many and why (the files keep everything)."""
    made: list = []
    rc = _collect(args, made)
    for sink in made:
        loss = sink.writer.stats.loss_message() if hasattr(sink, "writer") else None
        if loss:
            err(f"InfluxDB: {loss} (the recordings and steps files hold everything)")
            rc = rc or EXIT_SERVER
    return rc


def _collect(args, made: list) -> int:
    """The collection itself; the InfluxDB sinks it makes are appended to ``made``."""
    from dataclasses import replace

    from gaitmon.collector.app import run_collect
    from gaitmon.collector.config import CollectConfig, ConfigError

    try:
        cfg = CollectConfig.load(args.config) if args.config else CollectConfig()
    except ConfigError as e:
        err(str(e))
        return EXIT_BAD_INPUT
    if args.virtual < 0:
        err("--virtual must be >= 0")
        return EXIT_BAD_INPUT
    phone = getattr(args, "sensorlogger", None)
    pphox = getattr(args, "phyphox", None)
    if phone and not args.phone_platform:
        err("--sensorlogger needs --phone-platform android|ios|ios-standardised "
            "(Sensor Logger's pushes do not say which platform sent them)")
        return EXIT_BAD_INPUT
    if not args.config and args.virtual == 0 and not phone and not pphox:
        err("give --config FILE (the sensors to collect) or --virtual N (simulated sensors)")
        return EXIT_BAD_INPUT
    v = cfg.virtual
    try:
        if args.speed is not None and not args.speed > 0:
            raise ConfigError("--speed must be > 0")
        if args.packet_loss is not None and not 0 <= args.packet_loss < 0.9:
            raise ConfigError("--packet-loss must be in [0, 0.9)")
        if args.link_drop_every is not None and args.link_drop_every < 0:
            raise ConfigError("--link-drop-every must be >= 0")
        if args.duration is not None and not args.duration > 0:
            raise ConfigError("--duration must be > 0 seconds")
    except ConfigError as e:
        err(str(e))
        return EXIT_BAD_INPUT
    v = replace(v, kind=args.virtual_kind or v.kind,
                speed=args.speed if args.speed is not None else v.speed,
                packet_loss=args.packet_loss if args.packet_loss is not None else v.packet_loss,
                link_drop_every_s=(args.link_drop_every if args.link_drop_every is not None
                                   else v.link_drop_every_s))
    cfg = replace(cfg, virtual=v, session_name=args.session or cfg.session_name)
    out_dir = args.out or cfg.out_dir or Path("recordings")
    try:
        sinks = _influx_sinks()
        made.extend(sinks)
        links_factory = _phone_links_factory(args, phone, pphox)
        result = run_collect(cfg, consumer=_pipeline(sinks), watcher=None if args.no_live else _live_table,
                             virtual=args.virtual, duration_s=args.duration, out_dir=out_dir,
                             links_factory=links_factory)
    except ConfigError as e:
        err(str(e))
        return EXIT_BAD_INPUT
    _print_result(result)
    return EXIT_OK


def _pipeline(sinks):
    """The collector's block consumer: the live pipeline writing the session files and to ``sinks``."""
    from gaitmon.pipeline.live import pipeline_factory

    return pipeline_factory(sinks)


def _live_table(pipeline, title: str):
    """The collector's watcher: the live table of the pipeline's sensors (stderr)."""
    from gaitmon.ui.collect_view import CollectView

    return CollectView(pipeline, title=title)


def _influx_sinks() -> list:
    """The sinks `gaitmon collect` adds to its files: InfluxDB when configured (env or $GAITMON_CONFIG)."""
    if not influx_configured():
        return []
    from gaitmon.pipeline.influx import InfluxCollectSink
    from gaitmon.store import StoreError

    try:
        return [InfluxCollectSink.from_env()]
    except StoreError as exc:  # bad settings: say so; the collection itself still runs on files
        err(f"InfluxDB: {exc} — collecting to files only")
        return []


def _phone_links_factory(args, phone, pphox):
    """The (spec, link) pairs of a phone (``--sensorlogger``/``--phyphox``), made inside the event loop."""
    if not (phone or pphox):
        return None
    from gaitmon.collector.app import phone_links, phyphox_links
    from gaitmon.collector.config import ConfigError
    from gaitmon.sources import MOUNTS

    if args.phone_mount not in MOUNTS:
        raise ConfigError(f"--phone-mount must be one of {', '.join(MOUNTS)}")
    if phone and pphox:
        raise ConfigError("give --sensorlogger or --phyphox, not both (one phone per runner)")

    def links_factory():
        if pphox:
            return phyphox_links(pphox, runner=args.phone_runner, mount=args.phone_mount,
                                 rate_hz=args.phone_rate, idle_timeout_s=args.phone_timeout)
        return phone_links(phone, platform=args.phone_platform, runner=args.phone_runner,
                           mount=args.phone_mount, rate_hz=args.phone_rate,
                           idle_timeout_s=args.phone_timeout)

    return links_factory


def _print_result(result) -> None:
    """What the session produced, on stderr: steps, per-sensor link counts, step latency."""
    lat = result.stats["latency"]
    steps = sum(v["steps"] for v in result.stats["sensors"].values())
    print(f"session {result.session_id}: {steps} steps -> {result.run_dir}", file=sys.stderr)
    for st in result.statuses:
        print(f"  {st.runner}/{st.sensor}: {st.packets_received} packets, {st.packets_lost} lost, "
              f"{st.packets_rejected} rejected; {st.samples_received} samples, {st.samples_lost} "
              f"lost in {st.gaps} gaps; {st.reconnects} reconnects", file=sys.stderr)
    if lat["n"]:
        print(f"  step latency p50 {lat['p50_s']:.3f} s, p99 {lat['p99_s']:.3f} s (n={lat['n']})",
              file=sys.stderr)

"""``gaitmon collect`` configuration: a TOML file, validated with clear messages.

Example (``collect.toml``)::

    [session]
    name = "tuesday-intervals"     # optional; default: UTC start time
    duration_s = 1800              # optional; default: until Ctrl-C
    out_dir = "recordings"         # optional; the CLI's --out wins

    [collector]                    # optional tuning
    scan_timeout_s = 10
    connect_timeout_s = 15
    reconnect_initial_s = 0.5
    reconnect_max_s = 10
    status_interval_s = 5

    [[sensor]]
    address = "C4:12:34:56:78:9A"  # or: name = "gaitmon-1A2B" (advertised name)
    runner = "alice"
    kind = "gaitmon"               # sensor profile: gaitmon | polar | movesense | movella_dot | metawear
    forward = "-z"                 # nominal mount; default: what the sensor reports
    up = "+y"
    rate_hz = 200                  # optional: ask the sensor for this rate

    [virtual]                      # only used by `gaitmon collect --virtual N`
    kind = "gaitmon"               # gaitmon | polar | movesense | movella_dot | metawear (virtual sensors)
    activity = "run"               # run | walk
    rate_hz = 200
    speed = 1.0                    # sensor seconds per wall second
    packet_loss = 0.0              # probability per packet
    link_drop_every_s = 0          # 0 = never
    link_down_s = 2.0
    seed = 1

Axes are ``+x -x +y -y +z -z`` in the SENSOR frame. Secrets never go in this file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .profiles import PROFILES

__all__ = ["CollectConfig", "SensorEntry", "CollectorTuning", "VirtualOptions", "ConfigError"]

from gaitmon.axes import AXIS_NAMES as AXES
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class SensorEntry:
    """One sensor to collect. Exactly one of address (MAC, or a UUID on macOS) or name."""

    runner: str
    address: str | None = None
    name: str | None = None
    kind: str = "gaitmon"
    forward: str | None = None
    up: str | None = None
    rate_hz: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.address or "?"


@dataclass(frozen=True)
class CollectorTuning:
    """Timeouts and intervals, seconds."""

    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 15.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 10.0
    status_interval_s: float = 5.0


@dataclass(frozen=True)
class VirtualOptions:
    """Virtual sensors (``--virtual N``): simulated runners, link impairments."""

    kind: str = "gaitmon"
    activity: str = "run"
    rate_hz: int = 200
    speed: float = 1.0
    packet_loss: float = 0.0
    link_drop_every_s: float = 0.0
    link_down_s: float = 2.0
    seed: int = 1


@dataclass(frozen=True)
class CollectConfig:
    """The validated ``collect`` configuration (see module docstring)."""

    sensors: tuple[SensorEntry, ...] = ()
    session_name: str | None = None
    duration_s: float | None = None
    out_dir: Path | None = None
    collector: CollectorTuning = field(default_factory=CollectorTuning)
    virtual: VirtualOptions = field(default_factory=VirtualOptions)
    source: str = "<defaults>"

    @classmethod
    def load(cls, path: str | Path) -> "CollectConfig":
        """Read and validate a TOML file (raises ConfigError with a clear message)."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config file {p}: {e.strerror or e}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: not valid TOML: {e}") from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "<dict>") -> "CollectConfig":
        """Validate an already-parsed TOML document."""
        v = _Validator(source)
        v.keys(data, "top level", {"session", "collector", "sensor", "virtual"})
        session = v.table(data, "session")
        v.keys(session, "[session]", {"name", "duration_s", "out_dir"})
        name = v.opt_str(session, "name", "[session]")
        if name is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
            v.fail("[session] name", "use 1-64 letters, digits, '.', '_' or '-' (it becomes a "
                                     "directory name and a tag)")
        duration = v.opt_num(session, "duration_s", "[session]", minimum=0.0, exclusive=True)
        out_dir = v.opt_str(session, "out_dir", "[session]")

        col = v.table(data, "collector")
        fields_ = {f: getattr(CollectorTuning, f) for f in CollectorTuning.__dataclass_fields__}
        v.keys(col, "[collector]", set(fields_))
        tuning = CollectorTuning(**{
            k: float(_or(v.opt_num(col, k, "[collector]", minimum=0.0, exclusive=True), d))
            for k, d in fields_.items()})

        virt = v.table(data, "virtual")
        v.keys(virt, "[virtual]", set(VirtualOptions.__dataclass_fields__))
        activity = v.opt_str(virt, "activity", "[virtual]") or "run"
        if activity not in ("run", "walk"):
            v.fail("[virtual] activity", f"must be 'run' or 'walk', got {activity!r}")
        vkind = v.opt_str(virt, "kind", "[virtual]") or "gaitmon"
        if vkind not in PROFILES or vkind in ("sensorlogger", "phyphox"):
            kinds = ", ".join(sorted(k for k in PROFILES if k not in ("sensorlogger", "phyphox")))
            v.fail("[virtual] kind", f"must be one of {kinds}, got {vkind!r}")
        vopts = VirtualOptions(
            kind=vkind,
            activity=activity,
            rate_hz=int(_or(v.opt_num(virt, "rate_hz", "[virtual]", minimum=16, maximum=1000,
                                      integer=True), 200)),
            speed=float(_or(v.opt_num(virt, "speed", "[virtual]", minimum=0.0, exclusive=True), 1.0)),
            packet_loss=float(_or(v.opt_num(virt, "packet_loss", "[virtual]", minimum=0.0,
                                            maximum=0.9), 0.0)),
            link_drop_every_s=float(_or(v.opt_num(virt, "link_drop_every_s", "[virtual]",
                                                  minimum=0.0), 0.0)),
            link_down_s=float(_or(v.opt_num(virt, "link_down_s", "[virtual]", minimum=0.0), 2.0)),
            seed=int(_or(v.opt_num(virt, "seed", "[virtual]", integer=True), 1)),
        )

        raw_sensors = data.get("sensor", [])
        if not isinstance(raw_sensors, list):
            v.fail("[[sensor]]", "write each sensor as its own [[sensor]] table")
        sensors = []
        seen: dict[str, int] = {}
        for i, s in enumerate(raw_sensors, start=1):
            where = f"[[sensor]] #{i}"
            if not isinstance(s, dict):
                v.fail(where, "must be a table")
            v.keys(s, where, {"address", "name", "runner", "kind", "forward", "up", "rate_hz"})
            address = v.opt_str(s, "address", where)
            sname = v.opt_str(s, "name", where)
            if (address is None) == (sname is None):
                v.fail(where, "give exactly one of address = \"AA:BB:CC:DD:EE:FF\" or name = "
                              "\"<advertised name>\"")
            if address is not None and not _ADDRESS.match(address):
                v.fail(f"{where} address", f"{address!r} is not a BLE address like "
                                           "\"C4:12:34:56:78:9A\" (or a macOS device UUID)")
            runner = v.opt_str(s, "runner", where)
            if not runner:
                v.fail(f"{where} runner", "required: who wears this sensor (e.g. runner = \"alice\")")
            if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", runner):
                v.fail(f"{where} runner", "use 1-64 letters, digits, '.', '_' or '-'")
            kind = v.opt_str(s, "kind", where) or "gaitmon"
            if kind not in PROFILES:
                v.fail(f"{where} kind", f"unknown sensor kind {kind!r}; supported: "
                                        f"{', '.join(sorted(PROFILES))}")
            if kind in ("sensorlogger", "phyphox"):
                v.fail(f"{where} kind", "a phone is not a Bluetooth sensor: use gaitmon collect "
                                        "--sensorlogger PORT or --phyphox URL (docs/phone.md)")
            fwd = v.axis(s, "forward", where)
            up = v.axis(s, "up", where)
            if (fwd is None) != (up is None):
                v.fail(where, "give both forward and up, or neither (then the sensor's own "
                              "nominal mount is used)")
            if fwd is not None and fwd[1] == up[1]:
                v.fail(where, f"forward {fwd} and up {up} must be different axes")
            if fwd is None and not PROFILES[kind].reports_mount:
                v.fail(where, f"a {kind} sensor does not report how it is mounted: give forward "
                              "and up (the sensor axes pointing forward and up when worn)")
            rate = v.opt_num(s, "rate_hz", where, minimum=16, maximum=1000, integer=True)
            ident = (address or sname).upper()
            if ident in seen:
                v.fail(where, f"the same sensor is already listed as [[sensor]] #{seen[ident]}")
            seen[ident] = i
            sensors.append(SensorEntry(runner=runner, address=address.upper() if address else None,
                                       name=sname, kind=kind, forward=fwd, up=up,
                                       rate_hz=int(rate) if rate is not None else None))
        return cls(sensors=tuple(sensors), session_name=name,
                   duration_s=float(duration) if duration is not None else None,
                   out_dir=Path(out_dir) if out_dir else None, collector=tuning, virtual=vopts,
                   source=source)


def _or(value, default):
    return default if value is None else value


class _Validator:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, msg: str):
        raise ConfigError(f"{self.source}: {where}: {msg}")

    def keys(self, table: dict, where: str, allowed: set[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")

    def table(self, data: dict, key: str) -> dict:
        t = data.get(key, {})
        if not isinstance(t, dict):
            self.fail(f"[{key}]", "must be a table")
        return t

    def opt_str(self, table: dict, key: str, where: str) -> str | None:
        val = table.get(key)
        if val is None:
            return None
        if not isinstance(val, str):
            self.fail(f"{where} {key}", f"must be a string, got {type(val).__name__}")
        return val.strip()

    def opt_num(self, table: dict, key: str, where: str, *, minimum: float | None = None,
                maximum: float | None = None, exclusive: bool = False, integer: bool = False):
        val = table.get(key)
        if val is None:
            return None
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            self.fail(f"{where} {key}", f"must be a number, got {val!r}")
        if integer and float(val) != int(val):
            self.fail(f"{where} {key}", f"must be a whole number, got {val}")
        if val != val:  # NaN
            self.fail(f"{where} {key}", "must be a number, got nan")
        if minimum is not None and (val <= minimum if exclusive else val < minimum):
            self.fail(f"{where} {key}", f"must be {'>' if exclusive else '>='} {minimum:g}, got {val}")
        if maximum is not None and val > maximum:
            self.fail(f"{where} {key}", f"must be <= {maximum:g}, got {val}")
        return val

    def axis(self, table: dict, key: str, where: str) -> str | None:
        val = self.opt_str(table, key, where)
        if val is None:
            return None
        val = val.lower()
        if val in ("x", "y", "z"):
            val = "+" + val
        if val not in AXES:
            self.fail(f"{where} {key}", f"must be one of {' '.join(AXES)} (sensor axis), got {val!r}")
        return val

"""CollectConfig: the documented example loads; every mistake gets a clear message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gaitmon.collector import config as config_mod
from gaitmon.collector.config import CollectConfig, ConfigError


def _example() -> str:
    doc = config_mod.__doc__
    block = doc.split("Example (``collect.toml``)::", 1)[1].split("Axes are", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


def test_documented_example_loads(tmp_path):
    p = tmp_path / "collect.toml"
    p.write_text(_example())
    cfg = CollectConfig.load(p)
    assert cfg.session_name == "tuesday-intervals" and cfg.duration_s == 1800
    assert cfg.out_dir == Path("recordings")
    (s,) = cfg.sensors
    assert (s.address, s.runner, s.kind, s.forward, s.up, s.rate_hz) == \
        ("C4:12:34:56:78:9A", "alice", "gaitmon", "-z", "+y", 200)
    assert cfg.collector.reconnect_max_s == 10 and cfg.virtual.speed == 1.0


def test_defaults_and_name_entries():
    cfg = CollectConfig.from_dict({"sensor": [{"name": "gaitmon-1A2B", "runner": "bob"},
                                              {"address": "c4:12:34:56:78:9b", "runner": "eve",
                                               "forward": "x", "up": "-Z"}],
                                   "virtual": {"seed": 0}})
    a, b = cfg.sensors
    assert a.name == "gaitmon-1A2B" and a.address is None and a.forward is None
    assert b.address == "C4:12:34:56:78:9B" and (b.forward, b.up) == ("+x", "-z")
    assert cfg.duration_s is None and cfg.virtual.seed == 0


@pytest.mark.parametrize("data, pattern", [
    ({"sensor": [{"runner": "a"}]}, r"exactly one of address"),
    ({"sensor": [{"runner": "a", "address": "AA:BB", "name": "x"}]}, r"exactly one of address"),
    ({"sensor": [{"runner": "a", "address": "AA:BB:CC"}]}, r"not a BLE address"),
    ({"sensor": [{"address": "AA:BB:CC:DD:EE:FF"}]}, r"runner: required"),
    ({"sensor": [{"address": "AA:BB:CC:DD:EE:FF", "runner": "a b"}]}, r"runner: use 1-64"),
    ({"sensor": [{"name": "s", "runner": "a", "kind": "garmin"}]}, r"unknown sensor kind 'garmin'"),
    ({"sensor": [{"name": "s", "runner": "a", "forward": "-z"}]}, r"both forward and up"),
    ({"sensor": [{"name": "s", "runner": "a", "forward": "+z", "up": "-z"}]}, r"different axes"),
    ({"sensor": [{"name": "s", "runner": "a", "forward": "+w", "up": "+z"}]}, r"must be one of"),
    ({"sensor": [{"name": "s", "runner": "a", "rate_hz": 5000}]}, r"rate_hz: must be <= 1000"),
    ({"sensor": [{"name": "s", "runner": "a", "rate_hz": 99.5}]}, r"whole number"),
    ({"sensor": [{"name": "s", "runner": "a"}, {"name": "s", "runner": "b"}]}, r"already listed"),
    ({"sensor": [{"name": "s", "runner": "a", "colour": "red"}]}, r"unknown key\(s\) colour"),
    ({"sensor": {"name": "s"}}, r"own \[\[sensor\]\] table"),
    ({"session": {"duration_s": -3}}, r"duration_s: must be > 0"),
    ({"session": {"duration_s": "long"}}, r"must be a number"),
    ({"session": {"name": "my session!"}}, r"name: use 1-64"),
    ({"collector": {"reconnect_max_s": 0}}, r"reconnect_max_s: must be > 0"),
    ({"virtual": {"activity": "swim"}}, r"'run' or 'walk'"),
    ({"virtual": {"packet_loss": 1.5}}, r"packet_loss: must be <= 0.9"),
    ({"sessions": {}}, r"unknown key\(s\) sessions"),
])
def test_invalid_configs_have_clear_messages(data, pattern):
    with pytest.raises(ConfigError, match=pattern) as exc:
        CollectConfig.from_dict(data, source="my.toml")
    assert str(exc.value).startswith("my.toml: ")


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        CollectConfig.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sensor]\nrunner = 'a'\n")
    with pytest.raises(ConfigError, match=re.escape(f"{bad}: not valid TOML")):
        CollectConfig.load(bad)

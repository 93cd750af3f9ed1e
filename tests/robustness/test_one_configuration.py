"""Issue 12 item 3: InfluxDB configured only in a config file ($GAITMON_CONFIG) is used by every
command — analyze --runner and demo too, not only import and exercise log (real influxd)."""
from __future__ import annotations

import pytest

from gaitmon.cli import main
from gaitmon.store.config import influx_configured


@pytest.fixture
def file_env(clean_env, influxd, db, tmp_path):
    cfg = tmp_path / "gaitmon.toml"
    cfg.write_text(f'GAITMON_INFLUX_URL = "{influxd.url}"\nGAITMON_INFLUX_DB = "{db}"\nGAITMON_INFLUX_API = "v1"\n')
    clean_env.setenv("GAITMON_CONFIG", str(cfg))
    return clean_env


def _count(influxd, db, runner):
    rows = influxd.rows(f'SELECT count("quality") FROM "gait_step" WHERE "runner" = \'{runner}\'', db=db)
    return int(rows[0]["count"]) if rows else 0


def test_analyze_with_runner_uses_the_config_file(file_env, influxd, db, recording, capsys):
    assert main(["analyze", str(recording), "--runner", "ann"]) == 0
    assert _count(influxd, db, "ann") > 150


def test_demo_uses_the_config_file(file_env, influxd, db, tmp_path, capsys):
    rc = main(["demo", "--duration", "30", "--speed", "0", "--no-live", "--no-report", "--runner", "bob",
               "--out-dir", str(tmp_path / "demo")])
    assert rc == 0
    assert _count(influxd, db, "bob") > 50


def test_one_test_for_every_command(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('GAITMON_RUNNER = "x"\n')
    assert not influx_configured({"GAITMON_CONFIG": str(f)})
    f.write_text('GAITMON_INFLUX_URL = "http://localhost:8086"\n')
    assert influx_configured({"GAITMON_CONFIG": str(f)})
    assert influx_configured({"GAITMON_INFLUX_URL": "http://x:1"})
    assert influx_configured({"GAITMON_CONFIG": str(tmp_path / "missing.toml")})  # reported, not skipped
    assert not influx_configured({})


def test_runner_from_the_config_file_is_used_everywhere(tmp_path):
    from gaitmon.store.config import configured_runner

    f = tmp_path / "c.toml"
    f.write_text('GAITMON_RUNNER = "zoe"\n')
    assert configured_runner({"GAITMON_CONFIG": str(f)}) == "zoe"
    assert configured_runner({"GAITMON_CONFIG": str(f), "GAITMON_RUNNER": "max"}) == "max"
    assert configured_runner({}) is None


def test_demo_uses_the_runner_of_the_config_file(file_env, influxd, db, tmp_path, capsys):
    cfg = tmp_path / "gaitmon.toml"
    cfg.write_text(cfg.read_text() + 'GAITMON_RUNNER = "cara"\n')
    rc = main(["demo", "--duration", "30", "--speed", "0", "--no-live", "--no-report",
               "--out-dir", str(tmp_path / "demo")])
    assert rc == 0
    assert _count(influxd, db, "cara") > 50

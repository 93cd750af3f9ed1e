"""GAITMON_* configuration: environment, TOML file, validation messages, secrets never shown."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from gaitmon.store import ConfigError, Secret, StoreConfig

TOKEN = "tok-SECRET-7f3a9"
PASSWORD = "pw-SECRET-c41d"


def env(**kw):
    base = {"GAITMON_INFLUX_URL": "http://localhost:8086", "GAITMON_INFLUX_DB": "gait"}
    base.update({k: v for k, v in kw.items()})
    return {k: v for k, v in base.items() if v is not None}


def test_v1_from_environment(tmp_path):
    cfg = StoreConfig.from_env(environ=env(GAITMON_INFLUX_USER="bob", GAITMON_INFLUX_PASSWORD=PASSWORD,
                                           GAITMON_RUNNER="alice", GAITMON_SPOOL_DIR=str(tmp_path),
                                           GAITMON_INFLUX_API="V1", GAITMON_INFLUX_BATCH_SIZE="2000",
                                           GAITMON_INFLUX_GZIP="no", GAITMON_INFLUX_URL="http://h:8086/"))
    assert (cfg.url, cfg.api, cfg.database, cfg.username) == ("http://h:8086", "v1", "gait", "bob")
    assert cfg.password.reveal() == PASSWORD and cfg.runner == "alice"
    assert cfg.spool_dir == tmp_path and cfg.batch_size == 2000 and cfg.gzip is False


def test_v2_from_toml_file_with_env_override(tmp_path):
    f = tmp_path / "gaitmon.toml"
    f.write_text(f'''GAITMON_INFLUX_URL = "https://influx.example:8086"
GAITMON_INFLUX_TOKEN = "{TOKEN}"
GAITMON_INFLUX_ORG = "club"
GAITMON_INFLUX_BUCKET = "gait"
GAITMON_INFLUX_SUMMARY_BUCKET = "gait_forever"
GAITMON_SPOOL_MAX_MB = 64
GAITMON_INFLUX_GZIP = false
GAITMON_COLLECTOR_ADDRESS = "AA:BB"   # another module's key: ignored here

[dashboards]
folder = "gait"
''')
    os.chmod(f, 0o600)
    cfg = StoreConfig.from_env(f, environ={"GAITMON_INFLUX_ORG": "team"})
    assert cfg.url == "https://influx.example:8086" and cfg.token.reveal() == TOKEN
    assert (cfg.org, cfg.bucket, cfg.summary_bucket) == ("team", "gait", "gait_forever")
    assert cfg.spool_max_mb == 64 and cfg.gzip is False
    # the file can also come from $GAITMON_CONFIG
    assert StoreConfig.from_env(environ={"GAITMON_CONFIG": str(f)}).org == "club"


def test_world_readable_secret_file_is_warned_about(tmp_path, caplog):
    f = tmp_path / "g.toml"
    f.write_text(f'GAITMON_INFLUX_URL = "http://h:1"\nGAITMON_INFLUX_BUCKET = "b"\nGAITMON_INFLUX_TOKEN = "{TOKEN}"\n')
    os.chmod(f, 0o644)
    with caplog.at_level(logging.WARNING, logger="gaitmon.store"):
        StoreConfig.from_env(f, environ={})
    assert "chmod 600" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize("environ, message", [
    ({"GAITMON_INFLUX_DB": "g"}, "GAITMON_INFLUX_URL is not set"),
    (env(GAITMON_INFLUX_URL="localhost:8086"), "must start with http"),
    (env(GAITMON_INFLUX_URL=f"http://bob:{PASSWORD}@h:8086"), "must not contain credentials"),
    (env(GAITMON_INFLUX_URL="http://h:99999"), "not a valid URL"),
    (env(GAITMON_INFLUX_API="v3"), "GAITMON_INFLUX_API='v3'"),
    (env(GAITMON_INFLUX_DB=None), "GAITMON_INFLUX_DB"),
    (env(GAITMON_INFLUX_API="v2"), "needs GAITMON_INFLUX_BUCKET"),
    (env(GAITMON_INFLUX_DB=None, GAITMON_INFLUX_API="v1", GAITMON_INFLUX_BUCKET="b"), "needs GAITMON_INFLUX_DB"),
    (env(GAITMON_INFLUX_USER="bob"), "go together"),
    (env(GAITMON_INFLUX_PASSWORD=PASSWORD), "go together"),
    (env(GAITMON_INFLUX_BATCH_SIZE="many"), "GAITMON_INFLUX_BATCH_SIZE"),
    (env(GAITMON_INFLUX_BATCH_SIZE="0"), "positive"),
    (env(GAITMON_SPOOL_MAX_MB="-1"), "GAITMON_SPOOL_MAX_MB"),
    (env(GAITMON_INFLUX_TIMEOUT_S="nan"), "GAITMON_INFLUX_TIMEOUT_S"),
    (env(GAITMON_INFLUX_GZIP="maybe"), "true, false or auto"),
    (env(GAITMON_INFLUX_VERIFY_SSL="auto"), "true or false"),
    (env(GAITMON_SPOOL_SYNC="sometimes"), "GAITMON_SPOOL_SYNC"),
    (env(GAITMON_RUNNER="a\tb"), "control characters"),
    (env(GAITMON_INFLUX_DATABASE="gait"), "did you mean GAITMON_INFLUX_DB"),
    (env(GAITMON_INFLUX_TOKEN=TOKEN, GAITMON_INFLUX_TOKN="x"), "did you mean GAITMON_INFLUX_TOKEN"),
])
def test_invalid_settings_name_the_key(environ, message):
    with pytest.raises(ConfigError) as e:
        StoreConfig.from_env(environ=environ)
    assert message in str(e.value)
    assert TOKEN not in str(e.value) and PASSWORD not in str(e.value)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        StoreConfig.from_env(tmp_path / "nope.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("GAITMON_INFLUX_URL = http://x\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        StoreConfig.from_env(bad, environ={})
    typo = tmp_path / "typo.toml"
    typo.write_text('GAITMON_INFLUX_URL = "http://x"\nGAITMON_INFLUX_BUKET = "b"\n')
    with pytest.raises(ConfigError, match="did you mean GAITMON_INFLUX_BUCKET"):
        StoreConfig.from_env(typo, environ={})
    table = tmp_path / "t.toml"
    table.write_text('GAITMON_INFLUX_DB = "g"\n[GAITMON_INFLUX_URL]\nx = 1\n')
    with pytest.raises(ConfigError, match="single value"):
        StoreConfig.from_env(table, environ={})


def test_empty_variable_means_unset():
    cfg = StoreConfig.from_env(environ=env(GAITMON_INFLUX_TOKEN="", GAITMON_RUNNER=""))
    assert cfg.token is None and cfg.runner is None


def test_secrets_never_in_repr_str_or_describe():
    cfg = StoreConfig.from_env(environ=env(GAITMON_INFLUX_TOKEN=TOKEN, GAITMON_INFLUX_USER="bob",
                                           GAITMON_INFLUX_PASSWORD=PASSWORD, GAITMON_INFLUX_BUCKET="b"))
    for text in (repr(cfg), str(cfg), cfg.describe(), f"{cfg.token}", f"{cfg.password!r}", str(vars(cfg))):
        assert TOKEN not in text and PASSWORD not in text
    assert "********" in repr(cfg)
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(cfg)
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")


def test_default_spool_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    cfg = StoreConfig(url="http://h:1", database="g").validated()
    assert cfg.spool_dir == Path(tmp_path) / "gaitmon" / "spool"


@pytest.mark.parametrize("url, setting, want", [
    ("http://127.0.0.1:8086", None, False), ("http://localhost:8086", "auto", False),
    ("http://[::1]:8086", None, False), ("https://influx.example", None, True),
    ("http://192.168.1.5:8086", "auto", True), ("http://127.0.0.1:8086", "true", True),
    ("https://influx.example", "false", False)])
def test_gzip_auto_is_off_for_loopback_only(url, setting, want):
    cfg = StoreConfig.from_env(environ=env(GAITMON_INFLUX_URL=url, GAITMON_INFLUX_GZIP=setting))
    assert cfg.use_gzip is want

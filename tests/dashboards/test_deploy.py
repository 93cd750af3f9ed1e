"""Schema-level validation of deploy/ (Docker cannot run here): compose file, Grafana
provisioning (data source, dashboard provider, alert rules), systemd unit, Dockerfile, scripts."""
from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROV = DEPLOY / "grafana" / "provisioning"


def _yaml(path: Path):
    return yaml.safe_load(path.read_text())


def _env_example() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k] = v
    return out


def test_compose_structure_and_references():
    c = _yaml(DEPLOY / "docker-compose.yml")
    services = c["services"]
    assert {"influxdb", "grafana", "gaitmon"} <= set(services)
    assert services["influxdb"]["image"].startswith("influxdb:2.")
    assert services["grafana"]["image"].startswith("grafana/grafana")
    init = services["influxdb"]["environment"]
    for key in ("DOCKER_INFLUXDB_INIT_MODE", "DOCKER_INFLUXDB_INIT_ORG", "DOCKER_INFLUXDB_INIT_BUCKET",
                "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN", "DOCKER_INFLUXDB_INIT_USERNAME", "DOCKER_INFLUXDB_INIT_PASSWORD"):
        assert key in init, key
    assert init["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    # every ${VAR} used is documented in .env.example; secrets are required (":?"), never defaulted
    env = _env_example()
    text = (DEPLOY / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    assert used <= set(env), f"undocumented variables: {used - set(env)}"
    for secret in ("INFLUX_TOKEN", "INFLUX_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required, not defaulted"
    assert not re.search(r"(TOKEN|PASSWORD)\w*:\s*['\"]?[A-Za-z0-9]{12,}", text), "no literal secrets"
    # bind mounts point at files that exist; named volumes are declared
    for name, svc in services.items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith((".", "/")):
                if src.startswith("/run/"):
                    continue
                assert (DEPLOY / src).resolve().exists(), f"{name}: {src} does not exist"
            else:
                assert src in c["volumes"], f"{name}: volume {src} not declared"
        if "build" in svc:
            assert (DEPLOY / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve().exists()
        for dep in svc.get("depends_on", {}):
            assert dep in services
    # the gaitmon container writes to the bucket Grafana reads
    g = services["gaitmon"]["environment"]
    assert g["GAITMON_INFLUX_URL"] == "http://influxdb:8086"
    assert g["GAITMON_INFLUX_BUCKET"] == services["grafana"]["environment"]["INFLUX_BUCKET"]
    # the gaitmon command is a real CLI invocation
    from gaitmon.cli import build_parser

    args = build_parser().parse_args(services["gaitmon"]["command"][1:])
    assert args.func.__name__ == "cmd_demo"
    # Grafana mounts the provisioning tree and the committed dashboards where the provider looks
    gv = services["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in gv
    provider = _yaml(PROV / "dashboards" / "gaitmon.yaml")["providers"][0]
    mount = [v for v in gv if v.startswith("../dashboards/json:")][0]
    assert mount.split(":")[1] == provider["options"]["path"]
    home = services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "dashboards" / "json" / Path(home).name).exists()


def test_datasource_provisioning():
    d = _yaml(PROV / "datasources" / "gaitmon.yaml")
    assert d["apiVersion"] == 1
    [ds] = d["datasources"]
    for key in ("name", "uid", "type", "access", "url", "jsonData"):
        assert key in ds, key
    assert ds["type"] == "influxdb" and ds["jsonData"]["version"] == "InfluxQL"
    assert ds["uid"] == "gaitmon-influxdb"
    assert ds["secureJsonData"]["httpHeaderValue1"] == "Token ${INFLUX_TOKEN}"  # from the environment
    compose = _yaml(DEPLOY / "docker-compose.yml")
    assert "INFLUX_TOKEN" in compose["services"]["grafana"]["environment"]
    assert ds["url"] == "http://influxdb:8086"


def test_dashboard_provider():
    d = _yaml(PROV / "dashboards" / "gaitmon.yaml")
    assert d["apiVersion"] == 1
    [p] = d["providers"]
    assert p["type"] == "file" and p["folder"] == "gaitmon" and p["options"]["path"]


def test_alert_rules_structure():
    d = _yaml(PROV / "alerting" / "gaitmon-alerts.yaml")
    assert d["apiVersion"] == 1
    [group] = d["groups"]
    for key in ("orgId", "name", "folder", "interval", "rules"):
        assert key in group
    ds_uid = _yaml(PROV / "datasources" / "gaitmon.yaml")["datasources"][0]["uid"]
    uids = set()
    kinds = set()
    for rule in group["rules"]:
        for key in ("uid", "title", "condition", "data", "noDataState", "execErrState", "for", "annotations", "labels"):
            assert key in rule, (rule.get("uid"), key)
        assert len(rule["uid"]) <= 40 and rule["uid"] not in uids
        uids.add(rule["uid"])
        refs = [q["refId"] for q in rule["data"]]
        assert rule["condition"] in refs and len(refs) == len(set(refs))
        for q in rule["data"]:
            assert q["datasourceUid"] in (ds_uid, "__expr__")
            model = q["model"]
            assert model["refId"] == q["refId"]
            if q["datasourceUid"] == ds_uid:
                assert model["rawQuery"] is True and "$timeFilter" in model["query"]
                assert q["relativeTimeRange"]["from"] > q["relativeTimeRange"]["to"]
            else:
                assert model["type"] in ("reduce", "math", "threshold")
                for ref in re.findall(r"\$(\w+)", model.get("expression", "")) or [model.get("expression")]:
                    assert ref in refs and refs.index(ref) < refs.index(q["refId"])
        kinds.add(rule["labels"]["kind"])
    assert kinds == {"drop", "asymmetry", "fatigue", "session-fatigue", "sensor"}


def test_systemd_unit():
    cp = configparser.ConfigParser(strict=False, interpolation=None)
    cp.optionxform = str
    cp.read(DEPLOY / "systemd" / "gaitmon-collector.service")
    assert set(cp.sections()) == {"Unit", "Service", "Install"}
    svc = cp["Service"]
    assert svc["ExecStart"].split()[1:] == ["collect"] and svc["User"] == "gaitmon"
    assert svc["Restart"] == "on-failure" and svc["EnvironmentFile"].startswith("/etc/gaitmon/")
    assert "bluetooth.service" in cp["Unit"]["After"] and cp["Install"]["WantedBy"] == "multi-user.target"
    from gaitmon.cli import build_parser

    assert build_parser().parse_args(["collect"]).func  # the command exists


def test_dockerfile_and_scripts():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11" in text
    for src in re.findall(r"^COPY\s+(.+?)\s+\S+$", text, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), f"Dockerfile copies missing {part}"
    script = DEPLOY / "influxdb" / "init-dbrp.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert "influx v1 dbrp create" in script.read_text()
    import os

    assert os.access(script, os.X_OK)


def test_example_config_is_valid_store_config(tmp_path):
    from gaitmon.store import StoreConfig

    cfg = StoreConfig.from_env(DEPLOY / "gaitmon.example.toml", environ={"GAITMON_INFLUX_TOKEN": "x",
                                                                        "GAITMON_SPOOL_DIR": str(tmp_path)})
    assert cfg.bucket == "gaitmon" and cfg.api == "v2" and cfg.org == "club"

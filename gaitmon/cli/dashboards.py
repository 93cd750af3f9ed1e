"""``gaitmon dashboards push``: gaitmon's folder, InfluxDB data source and dashboards into Grafana.

    gaitmon dashboards push --grafana-url http://localhost:3000      folder + data source + dashboards

Grafana credentials from GAITMON_GRAFANA_TOKEN (or GAITMON_GRAFANA_USER/PASSWORD); InfluxDB
settings from the GAITMON_INFLUX_* variables or ``--config FILE`` (docs/storage.md).
Exit codes: 0 ok, 2 bad settings or usage, 4 Grafana refused or did not answer.
"""
from __future__ import annotations

from pathlib import Path

from .common import EXIT_BAD_INPUT, EXIT_OK, EXIT_SERVER, err


def add_parser(subparsers) -> None:
    """Mount ``dashboards`` (``push``)."""
    p = subparsers.add_parser("dashboards", help="install the Grafana dashboards",
                              description="Install gaitmon's folder, InfluxDB data source and dashboards into "
                                          "Grafana (idempotent: run it again after an update).")
    sub = p.add_subparsers(dest="dashboards_cmd", required=True)
    push = sub.add_parser("push", help="push folder, data source and dashboards to a Grafana server")
    push.add_argument("--grafana-url", default=None, help="e.g. http://localhost:3000 (default $GAITMON_GRAFANA_URL)")
    push.add_argument("--config", default=None, help="TOML file with GAITMON_* keys (default $GAITMON_CONFIG)")
    push.add_argument("--influx-url", default=None,
                      help="InfluxDB URL as Grafana reaches it (default GAITMON_INFLUX_URL; in docker compose "
                           "http://influxdb:8086)")
    push.add_argument("--no-datasource", action="store_true", help="leave the data source alone")
    push.add_argument("--dir", type=Path, default=None, help="dashboard JSON directory (default dashboards/json)")
    push.set_defaults(func=cmd_push)


def cmd_push(args) -> int:
    from gaitmon.grafana.client import (DASHBOARD_DIR, GrafanaError, GrafanaPusher, GrafanaSettings,
                                        influx_datasource, load_dashboards)
    from gaitmon.store import StoreConfig
    from gaitmon.store.errors import ConfigError

    try:
        settings = GrafanaSettings.from_env(args.grafana_url)
        models = load_dashboards(args.dir or DASHBOARD_DIR)
        ds = None
        if not args.no_datasource:
            cfg = StoreConfig.from_env(args.config)
            v1 = bool(cfg.database) and (cfg.api != "v2" or not cfg.bucket)
            database = cfg.database if v1 else cfg.bucket
            if not database:
                raise ConfigError("set GAITMON_INFLUX_DB (InfluxDB 1.x) or GAITMON_INFLUX_BUCKET (2.x/3.x, "
                                  "queried through its DBRP mapping) for the Grafana data source")
            ds = influx_datasource(url=args.influx_url or cfg.url, database=database,
                                   token=None if v1 else cfg.token, user=cfg.username if v1 else None,
                                   password=cfg.password if v1 else None)
    except (GrafanaError, ConfigError) as e:
        err(str(e))
        return EXIT_BAD_INPUT
    try:
        with GrafanaPusher(settings) as g:
            g.health()
            folder = g.ensure_folder()
            if ds is not None:
                state = g.ensure_datasource(ds)
                print(f"data source {ds['uid']} ({ds['url']}, database {ds['jsonData']['dbName']}): {state}")
            for model in models:
                url = g.push_dashboard(model, folder_uid=folder)
                print(f"dashboard {model['title']!r}: {settings.url}{url}")
    except GrafanaError as e:
        err(str(e))
        return EXIT_SERVER
    return EXIT_OK

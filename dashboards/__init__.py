"""gaitmon Grafana dashboards as code (grafana-foundation-sdk + a raw-InfluxQL query type).

    python -m dashboards.build            # regenerate dashboards/json/*.json and the alert rules
    python -m dashboards.build --check    # exit 1 if the committed files differ from the code

Each module exposes ``build() -> dict`` (the dashboard JSON model). See docs/dashboards.md.
"""

"""gaitmon.grafana — getting the dashboards into Grafana and notes onto them.

* :mod:`gaitmon.grafana.client` — :class:`GrafanaPusher` (own urllib3 client): folder, InfluxDB
  data source, dashboards (idempotent), exercise annotations. Token from GAITMON_GRAFANA_TOKEN.
* :mod:`gaitmon.grafana.template` — Grafana's query interpolation for the InfluxDB data source
  (``$timeFilter``, ``$__interval``, ``${var:regex}``), to run a panel's query outside Grafana.

Knows Grafana's HTTP API and InfluxQL text; imports nothing of bleak or the core.
"""

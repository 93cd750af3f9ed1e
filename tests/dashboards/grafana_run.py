"""Run dashboard queries against a real InfluxDB the way Grafana does (interpolation by
gaitmon.grafana.template; ``timeFrom`` panel overrides honoured)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gaitmon.grafana.template import interpolate, parse_duration_ms

JSON_DIR = Path(__file__).resolve().parents[2] / "dashboards" / "json"
#: Grafana's maxDataPoints for a panel is about its width in pixels
MAX_DATA_POINTS = 1000


def load(name: str) -> dict[str, Any]:
    return json.loads((JSON_DIR / name).read_text())


def panels(model: dict) -> list[dict]:
    return [p for p in model["panels"] if p.get("type") != "row"]


def panel(model: dict, title: str) -> dict:
    found = [p for p in panels(model) if p["title"] == title]
    assert len(found) == 1, f"no single panel {title!r}"
    return found[0]


class Runner:
    """Executes interpolated queries on an ``InfluxD`` test server; counts what it ran."""

    def __init__(self, influx, db: str, now_ms: int):
        self.influx, self.db, self.now_ms = influx, db, now_ms
        self.executed: list[str] = []

    def text(self, query: str, variables: dict, from_ms: int, to_ms: int) -> str:
        return interpolate(query, variables, from_ms=from_ms, to_ms=to_ms, max_data_points=MAX_DATA_POINTS,
                           min_interval_ms=1000)   # the data source's timeInterval (1s)

    def run(self, query: str, variables: dict, from_ms: int, to_ms: int) -> list[dict]:
        """Series of one query: ``[{'name', 'tags', 'columns', 'values'}]`` (time in ns)."""
        text = self.text(query, variables, from_ms, to_ms)
        assert "$" not in text.replace("$/", "").replace("^", ""), f"uninterpolated variable left in: {text}"
        results = self.influx.query(text, self.db)
        self.executed.append(text)
        assert len(results) == 1
        return results[0].get("series", [])

    def panel(self, p: dict, variables: dict, from_ms: int, to_ms: int) -> dict[str, list[dict]]:
        """refId -> series, with the panel's relative time override (``timeFrom``) applied."""
        if p.get("timeFrom"):
            from_ms, to_ms = self.now_ms - parse_duration_ms(p["timeFrom"]), self.now_ms
        return {t["refId"]: self.run(t["query"], variables, from_ms, to_ms) for t in p["targets"]}


def by_tag(series: list[dict], tag: str) -> dict[str, dict]:
    return {s.get("tags", {}).get(tag, ""): s for s in series}


def column(s: dict, name: str) -> list:
    i = s["columns"].index(name)
    return [row[i] for row in s["values"]]

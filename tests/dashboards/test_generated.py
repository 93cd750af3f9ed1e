"""The committed dashboard JSON and alert rules are what the code generates, and every panel
follows the house rules (raw InfluxQL, units, thresholds, descriptions, variables)."""
from __future__ import annotations

import json

from dashboards import build
from tests.dashboards.grafana_run import load, panels

NAMES = ("runner-session.json", "coach-team.json", "long-term.json")


def test_committed_files_equal_generated():
    generated = build.generate()
    assert {p.name for p in generated} >= set(NAMES) | {"gaitmon-alerts.yaml"}
    for path, text in generated.items():
        assert path.exists(), f"{path} missing: run python -m dashboards.build"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m dashboards.build"
    assert build.main(["--check"]) == 0


def test_generation_is_deterministic():
    assert build.generate() == build.generate()


def test_every_panel_has_units_thresholds_description_and_raw_influxql():
    n = 0
    for name in NAMES:
        m = load(name)
        ids = [p["id"] for p in m["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        for p in panels(m):
            n += 1
            where = f"{name}: {p['title']!r}"
            d = p["fieldConfig"]["defaults"]
            assert d.get("unit"), f"{where} has no unit"
            steps = d.get("thresholds", {}).get("steps")
            assert steps and steps[0]["value"] is None, f"{where} has no thresholds"
            assert len(p.get("description", "")) > 40, f"{where} needs a description a coach understands"
            assert p["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
            assert p["targets"], where
            for t in p["targets"]:
                assert t["rawQuery"] is True and t["query"].lstrip().startswith("SELECT"), where
                assert t["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
                assert '"runner"' in t["query"], f"{where}: every query is per runner"
    assert n == 25  # 12 runner session + 7 coach/team + 6 long-term


def test_variables():
    for name, expected in (("runner-session.json", {"datasource", "runner", "session", "side"}),
                           ("coach-team.json", {"datasource", "runner"}),
                           ("long-term.json", {"datasource", "runner", "side", "change_date", "compare_weeks"})):
        m = load(name)
        vars_ = {v["name"]: v for v in m["templating"]["list"]}
        assert set(vars_) == expected, name
        assert vars_["datasource"]["type"] == "datasource" and vars_["datasource"]["query"] == "influxdb"
        assert vars_["runner"]["query"].startswith("SHOW TAG VALUES")
        assert "description" in vars_["runner"]
    coach = {v["name"]: v for v in load("coach-team.json")["templating"]["list"]}
    assert coach["runner"]["multi"] and coach["runner"]["includeAll"]
    rows = [p for p in load("coach-team.json")["panels"] if p["type"] == "row"]
    assert [r.get("repeat") for r in rows] == ["runner"], "one row per runner"


def test_exercise_annotation_on_long_term():
    ann = load("long-term.json")["annotations"]["list"]
    assert len(ann) == 1 and ann[0]["datasource"]["uid"] == "${datasource}"
    assert '"exercise"' in ann[0]["target"]["query"] and ann[0]["target"]["textColumn"] == "note"


def test_json_is_canonical():
    for name in NAMES:
        text = (build.JSON_DIR / name).read_text()
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

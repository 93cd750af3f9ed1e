"""An uncertain session says so instead of printing a confident asymmetry (issue 11): summary,
terminal/JSON summary and HTML report."""

import dataclasses

import numpy as np

from gaitmon.core.summary import summarize
from gaitmon.core.types import Step
from gaitmon.report.build import build_report


def _steps(conf: float, source: str = "run", n: int = 600):
    rng = np.random.default_rng(3)
    out = []
    for i in range(n):
        side = "L" if i % 2 == 0 else "R"
        drop = (7.0 if side == "L" else 4.0) + 0.5 * rng.standard_normal()
        out.append(Step(i * 0.35, side, 0.35, 171.0, 0.22, drop, 8.0, 5.0, 10.0, 8.0, "run", 0.95, i, conf, source))
    return out


def test_certain_sides_give_the_asymmetry(tmp_path):
    s = summarize(_steps(0.99))
    assert s["side_evidence"]["certain"] and s["asymmetry_l_minus_r_deg"] > 2.5
    assert "drop pattern alone" in s["side_evidence"]["note"]  # running without a walking anchor
    html = build_report(_steps(0.99), tmp_path).read_text()
    assert "larger when you stand on your left leg" in html and "sides uncertain" not in html


def test_uncertain_sides_withhold_the_asymmetry(tmp_path):
    steps = _steps(0.7)
    s = summarize(steps)
    assert not s["side_evidence"]["certain"]
    assert s["asymmetry_l_minus_r_deg"] is None
    assert s["side_evidence"]["uncertain_steps"] == len(steps)
    html = build_report(steps, tmp_path).read_text()
    assert "sides uncertain" in html and "could not be told apart" in html
    assert "larger when you stand on your left leg" not in html


def test_steps_from_files_before_contracts_1_1_are_not_judged():
    steps = [dataclasses.replace(s, side_confidence=float("nan"), side_source="") for s in _steps(0.99)]
    s = summarize(steps)
    assert s["side_evidence"]["certain"] and s["asymmetry_l_minus_r_deg"] is not None

"""Every panel query of the three dashboards, run against a real influxd holding a simulated
multi-week history of two runners, interpolated as Grafana does; the values that come back are
compared with values computed from the simulated steps themselves."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dashboards.long_term import DEFAULT_CHANGE_DATE
from tests.dashboards.grafana_run import Runner, by_tag, column, load, panel, panels
from tests.dashboards.history import RUNNERS, WEEK_NS

MIN_NS = 60 * 10**9


@pytest.fixture(scope="module")
def run(history, dash_influxd):
    return Runner(dash_influxd, history.db, history.now_ms)


def _close(a, b, tol=1e-6):
    assert a is not None and b is not None, (a, b)
    assert math.isclose(float(a), float(b), rel_tol=0, abs_tol=tol), (a, b)


def _last_finished_session(h, runner):
    s = [x for x in h.sessions if x["runner"] == runner]
    return s[-1]


def _session_window(h, session):
    t = h.steps["t"][h.mask(session=session)]
    return int(t.min()) // 10**6 - 5 * 60_000, int(t.max()) // 10**6 + 5 * 60_000


# ------------------------------------------------------------------------------ runner session
def test_runner_session_panels(history, run):
    h = history
    m = load("runner-session.json")
    sess = _last_finished_session(h, "alice")["session"]
    f, t = _session_window(h, sess)
    v = {"runner": "alice", "session": sess, "side": ["L", "R"]}
    in_sess = h.mask(runner="alice", session=sess)
    good = h.steps["quality"] >= 0.5
    drop = h.steps["pelvic_drop_deg"]

    res = run.panel(panel(m, "Pelvic drop per step"), v, f, t)["A"]
    series = by_tag(res, "side")
    assert set(series) == {"L", "R"}
    for side in "LR":
        sel = in_sess & (h.steps["side"] == side)
        assert column(series[side], "pelvic_drop_deg") == pytest.approx(list(drop[sel]))
        assert column(series[side], "time") == list(h.steps["t"][sel])

    res = run.panel(panel(m, "Drop vs cadence"), v, f, t)["A"]
    for side, s in by_tag(res, "side").items():
        sel = in_sess & (h.steps["side"] == side)
        assert column(s, "cadence_spm") == pytest.approx(list(h.steps["cadence_spm"][sel]))

    res = by_tag(run.panel(panel(m, "Mean drop per side"), v, f, t)["A"], "side")
    for side in "LR":
        _close(res[side]["values"][0][1], drop[in_sess & good & (h.steps["side"] == side)].mean())

    asym = run.panel(panel(m, "L − R asymmetry"), v, f, t)["A"][0]
    expected = drop[in_sess & good & (h.steps["side"] == "L")].mean() - drop[in_sess & good & (h.steps["side"] == "R")].mean()
    _close(column(asym, "asymmetry")[0], expected)
    assert 0.5 < expected < 1.5  # alice: 1° more drop on left stance by design

    drift = column(run.panel(panel(m, "Drift within the run"), v, f, t)["A"][0], "drift")[0]
    bucket = (h.steps["t"] // (5 * MIN_NS))
    sel = in_sess & good
    buckets = np.unique(bucket[sel])
    _close(drift, drop[sel & (bucket == buckets[-1])].mean() - drop[sel & (bucket == buckets[0])].mean())
    assert drift > 0  # the simulated within-run fatigue rise

    counts = run.panel(panel(m, "Steps / low quality"), v, f, t)
    assert counts["A"][0]["values"][0][1] == int(in_sess.sum())
    assert counts["B"][0]["values"][0][1] == int((in_sess & ~good).sum()) > 0

    # time-bucketed means with $__interval: each bucket equals the mean of its steps
    for title, field in (("Cadence", "cadence_spm"), ("Ground contact time", "contact_time_s"),
                         ("Vertical oscillation", "vertical_oscillation_cm"), ("Step quality", "quality")):
        p = panel(m, title)
        text = run.text(p["targets"][0]["query"], v, f, t)
        # 30 min shown in ~1000 points: 1.8 s, rounded by Grafana's table to 2 s
        assert (t - f) / 1000 == pytest.approx(1800, abs=5) and "GROUP BY time(2s)" in text
        s = run.panel(p, v, f, t)["A"][0]
        times = np.array(column(s, "time"))
        means = np.array(column(s, "mean"))
        width = 2 * 10**9
        assert len(times) > 300
        for tb, mean in list(zip(times, means))[:50]:
            sel = in_sess & (h.steps["t"] >= tb) & (h.steps["t"] < tb + width)
            _close(mean, h.steps[field][sel].mean())

    bat = run.panel(panel(m, "Sensor battery"), v, f, t)["A"]
    assert [s["tags"]["sensor"] for s in bat] == ["alice-sensor"]
    loss = run.panel(panel(m, "Packet loss"), v, f, t)["A"][0]
    st = [x for x in h.status if x["runner"] == "alice" and f * 10**6 <= x["t"] <= t * 10**6]
    lost = max(x["lost"] for x in st) - min(x["lost"] for x in st)
    recv = max(x["received"] for x in st) - min(x["received"] for x in st)
    _close(column(loss, "loss")[0], 100.0 * lost / (lost + recv))
    rec = run.panel(panel(m, "Reconnects"), v, f, t)["A"][0]
    assert column(rec, "reconnects") == [0]


def test_side_variable_filters(history, run):
    h = history
    m = load("runner-session.json")
    sess = _last_finished_session(h, "alice")["session"]
    f, t = _session_window(h, sess)
    res = run.panel(panel(m, "Pelvic drop per step"), {"runner": "alice", "session": sess, "side": "R"}, f, t)["A"]
    assert [s["tags"]["side"] for s in res] == ["R"]


def test_variable_queries(history, run):
    h = history
    m = load("runner-session.json")
    q = {v["name"]: v for v in m["templating"]["list"]}
    runners = run.run(q["runner"]["query"], {}, 0, h.now_ms)
    assert sorted(r[1] for r in runners[0]["values"]) == sorted(RUNNERS)
    sessions = run.run(q["session"]["query"], {"runner": "bea.o"}, 0, h.now_ms)
    got = sorted(r[1] for r in sessions[0]["values"])
    assert got == sorted(set(h.steps["session"][h.mask(runner="bea.o")]))
    assert all(s.startswith("bea.o-") for s in got)


# ------------------------------------------------------------------------------ coach / team
def test_coach_team_panels(history, run):
    h = history
    m = load("coach-team.json")
    f, t = h.now_ms - 30 * 86400_000, h.now_ms
    overview = by_tag(run.panel(panel(m, "Team overview (latest session in range)"), {"runner": list(RUNNERS)}, f, t)["A"],
                      "runner")
    assert set(overview) == set(RUNNERS)
    for r in RUNNERS:
        last = _last_finished_session(h, r)
        row = dict(zip(overview[r]["columns"], overview[r]["values"][0]))
        _close(row["drop L"], last["L_mean"])
        _close(row["drop R"], last["R_mean"])
        _close(row["L-R"], last["asym"])
        _close(row["cadence"], last["cadence"])

    for r in RUNNERS:  # the repeated row: one runner per repetition
        v = {"runner": r}
        last = _last_finished_session(h, r)
        latest = run.panel(panel(m, "Latest session: drop L / R"), v, f, t)["A"][0]
        _close(column(latest, "L")[0], last["L_mean"])
        _close(column(latest, "R")[0], last["R_mean"])
        _close(column(run.panel(panel(m, "Asymmetry L − R"), v, f, t)["A"][0], "asymmetry")[0], last["asym"])

        p = panel(m, "vs 4-week baseline")
        assert p["timeFrom"] == "28d"
        base = [x for x in h.sessions if x["runner"] == r and x["t"] >= h.now_ns - 28 * 86400 * 10**9]
        means = [(x["L_mean"] + x["R_mean"]) / 2 for x in base]
        _close(column(run.panel(p, v, f, t)["A"][0], "change")[0], means[-1] - np.mean(means))

        live = h.between(h.now_ns - MIN_NS, h.now_ns) & h.mask(runner=r)
        cad = run.panel(panel(m, "Live cadence"), v, f, t)["A"][0]
        _close(column(cad, "cadence")[0], h.steps["cadence_spm"][live].mean())
        live_drop = by_tag(run.panel(panel(m, "Live drop L / R"), v, f, t)["A"], "side")
        for side in "LR":
            _close(live_drop[side]["values"][0][1], h.steps["pelvic_drop_deg"][live & (h.steps["side"] == side)].mean())

    link = panel(m, "Sensor link")
    assert link["fieldConfig"]["defaults"]["noValue"] == "offline"
    alice = run.panel(link, {"runner": "alice"}, f, t)["A"]
    last_status = [x for x in h.status if x["runner"] == "alice"][-1]
    _close(column(alice[0], "battery")[0], last_status["battery"])
    assert run.panel(link, {"runner": "bea.o"}, f, t)["A"] == []   # no report for 4 min: shown "offline"


# ------------------------------------------------------------------------------ long-term trend
def test_long_term_panels(history, run):
    h = history
    m = load("long-term.json")
    f, t = h.week0_ns // 10**6, h.now_ms
    v = {"runner": "alice", "side": ["L", "R"], "change_date": DEFAULT_CHANGE_DATE, "compare_weeks": "4"}
    good = h.steps["quality"] >= 0.5
    alice = h.mask(runner="alice") & good
    drop = h.steps["pelvic_drop_deg"]

    weekly = run.panel(panel(m, "Weekly mean pelvic drop per side"), v, f, t)["A"]
    series = by_tag(weekly, "side")
    assert set(series) == {"L", "R"}
    n_weeks = 0
    for side, s in series.items():
        for row in s["values"]:
            week = dict(zip(s["columns"], row))
            sel = alice & (h.steps["side"] == side) & (h.steps["t"] >= week["time"]) & (h.steps["t"] < week["time"] + WEEK_NS)
            assert (week["time"] - h.week0_ns) % WEEK_NS == 0, "weeks must start on Monday 00:00 UTC"
            _close(week["mean"], drop[sel].mean())
            assert week["p10"] < week["mean"] < week["p90"]
            n_weeks += 1
    assert n_weeks >= 12
    first_week_L = series["L"]["values"][0][1]
    assert first_week_L > series["L"]["values"][-2][1]  # alice improves after the strength programme

    sessions = run.panel(panel(m, "Sessions per week"), v, f, t)
    runs = column(sessions["A"][0], "runs")
    assert runs[:5] == [3, 3, 3, 3, 3]
    strength = column(sessions["B"][0], "strength")
    assert sum(strength) == len([e for e in h.exercises if e["t"] >= f * 10**6])
    assert strength[:3] == [0, 0, 0] and strength[3] == 2

    # before/after around the start of the strength programme (change_date = its Monday)
    import datetime as _dt
    cd = _dt.datetime.fromtimestamp(h.change_ns / 1e9, _dt.timezone.utc).strftime("%Y-%m-%d")
    v2 = dict(v, change_date=cd, compare_weeks="2")
    cmp = run.panel(panel(m, "Before / after ${change_date}"), v2, f, t)
    before_sel = alice & (h.steps["t"] >= h.change_ns - 2 * WEEK_NS) & (h.steps["t"] < h.change_ns)
    after_sel = alice & (h.steps["t"] >= h.change_ns) & (h.steps["t"] < h.change_ns + 2 * WEEK_NS)
    for ref, sel in (("A", before_sel), ("B", after_sel)):
        for side, s in by_tag(cmp[ref], "side").items():
            _close(s["values"][0][1], drop[sel & (h.steps["side"] == side)].mean())
    change = by_tag(run.panel(panel(m, "Change after − before"), v2, f, t)["A"], "side")
    for side in "LR":
        exp = drop[after_sel & (h.steps["side"] == side)].mean() - drop[before_sel & (h.steps["side"] == side)].mean()
        _close(change[side]["values"][0][1], exp)
        assert exp < 0

    sl = by_tag(run.panel(panel(m, "Single-leg stance tests"), v, f, t)["A"], "side")
    assert set(sl) == {"L", "R"}
    for side, s in sl.items():
        want = [e for e in h.single_leg if e["side"] == side and e["t"] >= f * 10**6]
        assert [r[0] for r in s["values"]] == [e["t"] for e in want]
        for r, e in zip(s["values"], want):
            _close(r[1], e["drop_deg"])
        assert s["values"][0][1] > s["values"][-1][1]  # less drop once the programme runs

    ann = m["annotations"]["list"][0]
    rows = run.run(ann["target"]["query"], {"runner": "alice"}, f, t)[0]
    assert ann["target"]["textColumn"] in rows["columns"] and ann["target"]["tagsColumn"] in rows["columns"]
    assert column(rows, "time") == [e["t"] for e in h.exercises if e["t"] >= f * 10**6]
    assert run.run(ann["target"]["query"], {"runner": "bea.o"}, f, t) == []


def test_every_query_runs_and_returns_data(history, run, capsys):
    """Every target, variable query and annotation of every dashboard, with a scenario each."""
    h = history
    sess = _last_finished_session(h, "alice")["session"]
    f_s, t_s = _session_window(h, sess)
    scenarios = {
        "runner-session.json": ({"runner": "alice", "session": sess, "side": ["L", "R"]}, f_s, t_s),
        "coach-team.json": ({"runner": "alice"}, h.now_ms - 30 * 86400_000, h.now_ms),
        "long-term.json": ({"runner": "alice", "side": ["L", "R"], "change_date": DEFAULT_CHANGE_DATE,
                            "compare_weeks": "4"}, h.week0_ns // 10**6, h.now_ms),
    }
    import datetime as _dt
    scenarios["long-term.json"][0]["change_date"] = _dt.datetime.fromtimestamp(
        h.change_ns / 1e9, _dt.timezone.utc).strftime("%Y-%m-%d")
    n_targets = 0
    for name, (v, f, t) in scenarios.items():
        m = load(name)
        for p in panels(m):
            for ref, series in run.panel(p, v, f, t).items():
                n_targets += 1
                assert series and any(s["values"] for s in series), f"{name}: {p['title']} {ref} returned nothing"
        for var in m["templating"]["list"]:
            if var["type"] == "query":
                assert run.run(var["query"], v, f, t), f"{name}: variable {var['name']}"
        for ann in m["annotations"]["list"]:
            if "target" in ann:
                assert run.run(ann["target"]["query"], v, f, t), f"{name}: annotation {ann['name']}"
    with capsys.disabled():
        print(f"\n[dashboards] {n_targets} panel queries returned data; {len(run.executed)} InfluxQL queries "
              "executed in this module")
    assert n_targets == sum(len(p["targets"]) for n in scenarios for p in panels(load(n)))

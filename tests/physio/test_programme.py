"""Strength-programme statistics on simulated multi-week histories with known truth."""
import numpy as np

from gaitmon.analysis.programme import (NS_DAY, SessionDrop, adherence, build_trend, exercise_sessions,
                                        programme_effect, week_start_ns, weekly_side_drop)
from tests.physio.history import T0, history


def test_real_effect_is_found_on_both_sides():
    drops, ex, start, _ = history(effect_deg=-1.5, seed=3)
    for side in ("L", "R"):
        e = programme_effect(drops, side, start_ns=start, seed=1)
        assert e.verdict == "lower after", e.text
        assert e.ci95[0] < -1.5 < e.ci95[1]  # the CI holds the true effect
        assert e.n_before == 12 and e.n_after == 12
        assert "lower since the programme started" in e.text


def test_effect_found_in_most_histories_and_none_claimed_without_effect():
    found = claimed = 0
    for seed in range(25):
        drops, _, start, _ = history(effect_deg=-1.5, seed=seed)
        found += programme_effect(drops, "L", start_ns=start, n_resamples=1500, seed=seed).verdict == "lower after"
        drops, _, start, _ = history(effect_deg=0.0, seed=1000 + seed)
        claimed += programme_effect(drops, "L", start_ns=start, n_resamples=1500, seed=seed).verdict != "no clear change"
    assert found >= 22  # power ~> 90 % for 1.5° with 12 sessions each side (session sd 0.6°)
    assert claimed <= 3  # false claims stay near the nominal 5 %


def test_a_gain_that_builds_up_needs_a_washin():
    drops, _, start, _ = history(effect_deg=-1.5, ramp_weeks=4, weeks_after=8, seed=5)
    e0 = programme_effect(drops, "R", start_ns=start, seed=0)
    e4 = programme_effect(drops, "R", start_ns=start, washin_days=28, seed=0)
    assert e4.verdict == "lower after"
    assert e4.diff_deg < e0.diff_deg  # the ramp dilutes the un-washed-in estimate
    assert e4.n_after == 8 and e0.n_after == 16


def test_too_few_sessions_are_said_honestly():
    drops, _, start, _ = history(weeks_before=1, weeks_after=6, effect_deg=-3.0, seed=2)
    e = programme_effect(drops, "L", start_ns=start)
    assert e.verdict == "too few data" and e.ci95 is None
    assert "too few sessions" in e.text and "2 before" in e.text


def test_weekly_means_are_session_weighted():
    t = T0 + NS_DAY
    drops = [SessionDrop("a", t, "L", 4.0, 1000), SessionDrop("b", t + NS_DAY, "L", 6.0, 10),
             SessionDrop("c", t + 8 * NS_DAY, "L", 5.0, 100), SessionDrop("a", t, "R", 3.0, 1000)]
    w = weekly_side_drop(drops)
    assert [(x.side, x.mean_deg, x.sessions, x.steps) for x in w] == [
        ("L", 5.0, 2, 1010), ("R", 3.0, 1, 1000), ("L", 5.0, 1, 100)]
    assert w[0].week_start_ns == T0 and w[2].week_start_ns == T0 + 7 * NS_DAY


def test_week_starts_on_monday_utc():
    import datetime as dt

    for day in range(1, 15):
        t = int(dt.datetime(2024, 5, day, 13, tzinfo=dt.timezone.utc).timestamp() * 1e9)
        ws = dt.datetime.fromtimestamp(week_start_ns(t) / 1e9, dt.timezone.utc)
        assert ws.weekday() == 0 and ws.hour == 0 and ws <= dt.datetime(2024, 5, day, 13, tzinfo=dt.timezone.utc)


def test_adherence_counts_sittings_per_week():
    start = T0 + 2 * NS_DAY  # a Wednesday
    h = 3600 * 10**9
    ex = []
    for d in range(5):  # Wed..Sun: 2 sittings a day, the first with two exercises 10 min apart
        ex += [start + d * NS_DAY + 8 * h, start + d * NS_DAY + 8 * h + h // 6, start + d * NS_DAY + 19 * h]
    ex += [start + 7 * NS_DAY + 8 * h]  # next week: one sitting only
    ex += [start - NS_DAY]  # before the start: not counted
    assert len(exercise_sessions(ex)) == 12
    a = adherence(ex, start_ns=start, end_ns=start + 12 * NS_DAY)
    assert [(w.days, w.sessions, w.prescribed_min, w.prescribed_max, w.status) for w in a] == [
        (5, 10, 10, 15, "on target"), (7, 1, 14, 21, "behind")]
    assert abs(a[1].fraction - 1 / 14) < 1e-12


def test_build_trend_uses_first_exercise_as_start_and_reports_everything():
    drops, ex, start, _ = history(effect_deg=-2.0, seed=7)
    tr = build_trend("alice", drops, ex, now_ns=start + 6 * 7 * NS_DAY)
    assert tr.programme_start_ns == min(ex) and min(ex) >= start
    assert tr.effects["L"].verdict == "lower after" and tr.effects["R"].verdict == "lower after"
    assert len(tr.adherence) == 6 or len(tr.adherence) == 7
    d = tr.as_dict()
    assert d["effects"]["L"]["verdict"] == "lower after" and d["weekly"]
    none = build_trend("bob", drops, [], now_ns=start)
    assert none.effects == {} and any("no exercise logged" in n for n in none.notes)

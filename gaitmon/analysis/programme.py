"""Strength-programme tracking: weekly per-side drop, exercise adherence, before/after effect.

The unit of evidence is the **session**: steps within one run are strongly correlated, so the
before/after effect resamples session means (bootstrap), never single steps. Weeks start on
Monday 00:00 UTC (like the InfluxDB queries of gaitmon.store). Times are UTC ns since the epoch;
drops in degrees (positive = swing side lower).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from gaitmon.analysis.stats import bootstrap_diff

NS_DAY = 86_400 * 10**9
NS_WEEK = 7 * NS_DAY
_MONDAY = 4 * NS_DAY  # 1970-01-01 was a Thursday
MIN_SESSIONS = 4  # per group, per side, to say anything about an effect
EXERCISE_MERGE_NS = 30 * 60 * 10**9  # log entries closer than this are one exercise session


def week_start_ns(t_ns: int) -> int:
    """Monday 00:00 UTC of the week holding ``t_ns``."""
    return (int(t_ns) - _MONDAY) // NS_WEEK * NS_WEEK + _MONDAY


@dataclass(frozen=True)
class SessionDrop:
    """Mean pelvic drop (deg) of one side in one session starting at ``start_ns`` (UTC ns)."""

    session: str
    start_ns: int
    side: str
    mean_deg: float
    steps: int


@dataclass(frozen=True)
class WeekSide:
    """One week × side: mean of the session means (deg), sessions and steps behind it."""

    week_start_ns: int
    side: str
    mean_deg: float
    sessions: int
    steps: int


def weekly_side_drop(drops: list[SessionDrop]) -> list[WeekSide]:
    """Per week and side: the mean of the session means (each session weighs the same)."""
    acc: dict[tuple[int, str], list[SessionDrop]] = defaultdict(list)
    for d in drops:
        if math.isfinite(d.mean_deg):
            acc[(week_start_ns(d.start_ns), d.side)].append(d)
    out = [WeekSide(w, s, float(np.mean([d.mean_deg for d in v])), len(v), sum(d.steps for d in v))
           for (w, s), v in acc.items()]
    return sorted(out, key=lambda x: (x.week_start_ns, x.side))


@dataclass(frozen=True)
class WeekAdherence:
    """Exercise sessions done in one week vs the prescription (per_day × programme days)."""

    week_start_ns: int
    days: int  # programme days in this week (partial first/last week)
    sessions: int
    prescribed_min: int
    prescribed_max: int

    @property
    def fraction(self) -> float:
        """sessions / prescribed minimum (1.0 = on target; can exceed 1)."""
        return self.sessions / self.prescribed_min if self.prescribed_min else math.nan

    @property
    def status(self) -> str:
        if self.sessions >= self.prescribed_min:
            return "on target"
        if self.fraction >= 0.5:
            return "partly"
        return "behind"


def exercise_sessions(times_ns) -> list[int]:
    """Merge log entries closer than 30 min (several exercises of one sitting) into one session."""
    out: list[int] = []
    for t in sorted(int(x) for x in times_ns):
        if not out or t - out[-1] >= EXERCISE_MERGE_NS:
            out.append(t)
    return out


def adherence(exercise_times_ns, *, start_ns: int, end_ns: int,
              per_day: tuple[int, int] = (2, 3)) -> list[WeekAdherence]:
    """Weekly adherence from ``start_ns`` (programme start) to ``end_ns`` (e.g. now).

    ``per_day`` = prescribed exercise sessions per day (min, max), default 2–3."""
    lo, hi = per_day
    if not (0 < lo <= hi):
        raise ValueError("per_day must be (min, max) with 0 < min <= max")
    if end_ns <= start_ns:
        return []
    sess = [t for t in exercise_sessions(exercise_times_ns) if start_ns <= t < end_ns]
    out = []
    w = week_start_ns(start_ns)
    while w < end_ns:
        a, b = max(w, start_ns), min(w + NS_WEEK, end_ns)
        days = max(1, int(math.ceil((b - a) / NS_DAY - 1e-9)))
        n = sum(1 for t in sess if a <= t < b)
        out.append(WeekAdherence(w, days, n, lo * days, hi * days))
        w += NS_WEEK
    return out


@dataclass
class Effect:
    """Before/after comparison of one side's session-mean drop around the programme start."""

    side: str
    verdict: str  # "lower after" | "higher after" | "no clear change" | "too few data"
    diff_deg: float  # mean(after) − mean(before); negative = less drop after
    ci95: tuple[float, float] | None
    n_before: int
    n_after: int
    mean_before_deg: float
    mean_after_deg: float
    text: str

    def as_dict(self) -> dict:
        f = lambda x: None if x is None or not math.isfinite(x) else round(float(x), 3)  # noqa: E731
        return {"side": self.side, "verdict": self.verdict, "diff_deg": f(self.diff_deg),
                "ci95_deg": None if self.ci95 is None else [f(self.ci95[0]), f(self.ci95[1])],
                "sessions_before": self.n_before, "sessions_after": self.n_after,
                "mean_before_deg": f(self.mean_before_deg), "mean_after_deg": f(self.mean_after_deg),
                "text": self.text}


def programme_effect(drops: list[SessionDrop], side: str, *, start_ns: int, washin_days: float = 0.0,
                     min_sessions: int = MIN_SESSIONS, n_resamples: int = 4000, seed: int = 0) -> Effect:
    """Effect of the programme on one side: session means after (``start + washin``) minus before
    ``start``, with a bootstrap 95 % CI. Claims a change only when the CI excludes 0, and says
    "too few data" with fewer than ``min_sessions`` sessions on either side of the start."""
    before = [d.mean_deg for d in drops if d.side == side and d.start_ns < start_ns and math.isfinite(d.mean_deg)]
    t_after = start_ns + int(washin_days * NS_DAY)
    after = [d.mean_deg for d in drops if d.side == side and d.start_ns >= t_after and math.isfinite(d.mean_deg)]
    name = {"L": "left", "R": "right"}.get(side, side)
    if len(before) < min_sessions or len(after) < min_sessions:
        mb = float(np.mean(before)) if before else math.nan
        ma = float(np.mean(after)) if after else math.nan
        return Effect(side, "too few data", ma - mb, None, len(before), len(after), mb, ma,
                      f"{name} steps: too few sessions to tell ({len(before)} before, {len(after)} after the "
                      f"programme start; need at least {min_sessions} each)")
    d = bootstrap_diff(before, after, n_resamples=n_resamples, seed=seed)
    lo, hi = d.ci95
    if hi < 0:
        verdict = "lower after"
        text = (f"{name} steps: drop is {-d.diff:.1f}° lower since the programme started "
                f"(95 % CI {-hi:.1f} to {-lo:.1f}° lower; {d.n_before} sessions before, {d.n_after} after)")
    elif lo > 0:
        verdict = "higher after"
        text = (f"{name} steps: drop is {d.diff:.1f}° higher since the programme started "
                f"(95 % CI {lo:.1f} to {hi:.1f}°; {d.n_before} sessions before, {d.n_after} after)")
    else:
        verdict = "no clear change"
        text = (f"{name} steps: no clear change ({d.diff:+.1f}°, 95 % CI {lo:+.1f} to {hi:+.1f}°; "
                f"{d.n_before} sessions before, {d.n_after} after)")
    return Effect(side, verdict, d.diff, (lo, hi), d.n_before, d.n_after, d.mean_before, d.mean_after, text)


@dataclass
class TrendReport:
    """Everything ``gaitmon trend`` prints: weekly drop, adherence, effects, single-leg tests."""

    runner: str
    programme_start_ns: int | None
    weekly: list[WeekSide]
    adherence: list[WeekAdherence]
    effects: dict[str, Effect]
    single_leg: list[dict]
    notes: list[str]

    def as_dict(self) -> dict:
        return {"runner": self.runner, "programme_start_ns": self.programme_start_ns,
                "weekly": [{"week_start_ns": w.week_start_ns, "side": w.side, "mean_deg": round(w.mean_deg, 3),
                            "sessions": w.sessions, "steps": w.steps} for w in self.weekly],
                "adherence": [{"week_start_ns": a.week_start_ns, "days": a.days, "sessions": a.sessions,
                               "prescribed_min": a.prescribed_min, "prescribed_max": a.prescribed_max,
                               "fraction": None if not math.isfinite(a.fraction) else round(a.fraction, 3),
                               "status": a.status} for a in self.adherence],
                "effects": {k: v.as_dict() for k, v in self.effects.items()},
                "single_leg": self.single_leg, "notes": self.notes}


def build_trend(runner: str, drops: list[SessionDrop], exercise_times_ns: list[int], *, now_ns: int,
                programme_start_ns: int | None = None, per_day: tuple[int, int] = (2, 3),
                washin_days: float = 0.0, single_leg: list[dict] | None = None,
                min_sessions: int = MIN_SESSIONS, seed: int = 0) -> TrendReport:
    """Assemble the trend of one runner. The programme start is ``programme_start_ns`` or, if
    None, the first exercise log entry."""
    notes = []
    start = programme_start_ns
    if start is None and exercise_times_ns:
        start = int(min(exercise_times_ns))
        notes.append("programme start = first exercise log entry")
    if start is None:
        notes.append("no exercise logged and no --start given: no before/after comparison, no adherence")
    if not drops:
        notes.append("no run sessions found")
    weekly = weekly_side_drop(drops)
    adh = adherence(exercise_times_ns, start_ns=start, end_ns=now_ns, per_day=per_day) if start is not None else []
    effects = {}
    if start is not None:
        for side in ("L", "R"):
            effects[side] = programme_effect(drops, side, start_ns=start, washin_days=washin_days,
                                             min_sessions=min_sessions, seed=seed)
    return TrendReport(runner, start, weekly, adh, effects, list(single_leg or []), notes)

"""Simulated multi-week run histories with known truth, for the programme statistics.

Model per session: each side's true session mean = baseline + between-session noise
(sd ``session_sd``) + ``effect_deg`` once the programme has started (after ``ramp_weeks`` the full
effect; linear before). Steps inside a session scatter around it with AR(1) correlation (real
steps are correlated), so a step-level test would be over-confident — the statistics must not be.
"""
from __future__ import annotations

import numpy as np

from gaitmon.analysis.programme import NS_DAY, SessionDrop, week_start_ns

T0 = week_start_ns(1_704_067_200 * 10**9)  # the week of 2024-01-01


def history(*, weeks_before=6, weeks_after=6, runs_per_week=2, effect_deg=0.0, ramp_weeks=0.0,
            base=(6.0, 4.0), session_sd=0.6, step_sd=1.0, steps=150, ar=0.5, seed=0,
            exercise_per_day=2.0, exercise_skip=0.0):
    """-> (drops, exercise_times_ns, programme_start_ns, step_rows_per_session)"""
    rng = np.random.default_rng(seed)
    start = T0 + weeks_before * 7 * NS_DAY
    drops, rows = [], {}
    for w in range(weeks_before + weeks_after):
        for k in range(runs_per_week):
            day = int(rng.integers(0, 7)) if runs_per_week == 1 else [1, 4, 6][k % 3]
            t = T0 + (w * 7 + day) * NS_DAY + 18 * 3600 * 10**9
            after_w = (t - start) / (7 * NS_DAY)
            eff = 0.0 if t < start else effect_deg * (min(1.0, after_w / ramp_weeks) if ramp_weeks else 1.0)
            sess = f"s{w:02d}{k}"
            for side, b in zip(("L", "R"), base):
                mu = b + eff + rng.normal(0, session_sd)
                e = np.empty(steps)
                e[0] = rng.normal()
                for i in range(1, steps):
                    e[i] = ar * e[i - 1] + np.sqrt(1 - ar * ar) * rng.normal()
                d = mu + step_sd * e
                drops.append(SessionDrop(sess, t, side, float(d.mean()), steps))
                rows.setdefault(sess, (t, []))[1].append((side, d))
    ex = []
    for day in range(weeks_after * 7):
        n = rng.poisson(exercise_per_day) if exercise_skip == 0 else int(rng.random() > exercise_skip) * 2
        for j in range(n):
            ex.append(start + day * NS_DAY + (8 + 6 * j) * 3600 * 10**9)
    return drops, ex, start, rows

"""A simulated multi-week history of two runners, written into a real influxd through gaitmon.store.

Every value written is also kept here (numpy arrays), so a test can compute what a panel's
query must return independently of InfluxDB.

Design (times relative to ``now``, the moment the history is built):
  * 6 past calendar weeks (Monday 00:00 UTC), runs on Monday, Wednesday and Saturday 07:00 UTC
    of each week, 20 min each at ~170 steps/min; drop per runner and side with noise, a
    within-run fatigue rise, and an improvement after CHANGE_DATE (start of the strength
    programme for alice); every 40th step has low quality (0.3).
  * a live session of 35 min ending at ``now``: alice's drop rises by 3.5° over it (~8.5° in the last 10 min), bea runs
    with a 4° left/right difference.
  * sensor status every 30 s of every session (battery falling, cumulative packet counters);
    alice loses 8 % of the packets in the last 5 min; bea's sensor stops reporting 4 min ago at
    15 % battery.
  * strength exercises (exercise measurement) for alice twice a week from CHANGE_DATE on.
  * one gait_session summary per finished run.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from gaitmon.store import StoreConfig, open_writer

RUNNERS = ("alice", "bea.o")   # a '.' in a name: regex escaping must work
WEEK_NS = 7 * 86400 * 10**9
DAY_NS = 86400 * 10**9
SESSION_S = 20 * 60
LIVE_S = 35 * 60
BASE = {("alice", "L"): 6.0, ("alice", "R"): 5.0, ("bea.o", "L"): 7.0, ("bea.o", "R"): 7.5}


@dataclass
class History:
    now_ns: int
    change_ns: int
    week0_ns: int
    db: str
    steps: dict[str, np.ndarray] = field(default_factory=dict)   # column -> array (one per step)
    sessions: list[dict] = field(default_factory=list)            # session summaries written
    status: list[dict] = field(default_factory=list)              # sensor_status points written
    exercises: list[dict] = field(default_factory=list)
    single_leg: list[dict] = field(default_factory=list)

    @property
    def now_ms(self) -> int:
        return self.now_ns // 10**6

    def mask(self, **eq) -> np.ndarray:
        m = np.ones(len(self.steps["t"]), bool)
        for k, v in eq.items():
            m &= self.steps[k] == v
        return m

    def between(self, t0_ns: int, t1_ns: int) -> np.ndarray:
        """Steps with t0 <= t <= t1 (Grafana's $timeFilter is inclusive on both ends)."""
        t = self.steps["t"]
        return (t >= t0_ns) & (t <= t1_ns)


def monday_utc(t_ns: int) -> int:
    d = _dt.datetime.fromtimestamp(t_ns / 1e9, tz=_dt.timezone.utc).date()
    monday = d - _dt.timedelta(days=d.weekday())
    return int(_dt.datetime(monday.year, monday.month, monday.day, tzinfo=_dt.timezone.utc).timestamp()) * 10**9


def _session_steps(rng, runner: str, t0_ns: int, duration_s: float, *, improvement: float, fatigue: float,
                   side_extra: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    n = int(duration_s * 170 / 60)
    step_time = 60.0 / rng.normal(170.0, 3.0, n)
    t_s = np.cumsum(step_time) - step_time[0] + 0.5
    keep = t_s < duration_s - 0.5
    t_s, step_time = t_s[keep], step_time[keep]
    n = len(t_s)
    sides = np.where(np.arange(n) % 2 == 0, "L", "R")
    base = np.array([BASE[(runner, s)] for s in sides]) - improvement
    if side_extra:
        base = base + np.array([side_extra.get(s, 0.0) for s in sides])
    drop = base + fatigue * t_s / duration_s + rng.normal(0.0, 0.8, n)
    quality = np.where(np.arange(n) % 40 == 39, 0.3, 0.9)
    t_ns = t0_ns + np.round(t_s * 1e9).astype(np.int64)
    return {"t": t_ns, "t_s": t_s, "side": sides, "pelvic_drop_deg": np.round(drop, 3),
            "step_time_s": np.round(step_time, 4), "cadence_spm": np.round(60.0 / step_time, 2),
            "contact_time_s": np.round(rng.normal(0.24, 0.01, n), 4),
            "vertical_oscillation_cm": np.round(rng.normal(8.5, 0.5, n), 3), "quality": quality,
            "stride_index": np.arange(n) // 2}


def build_history(influx, db: str, spool_dir, *, now_ns: int | None = None, seed: int = 7) -> History:
    rng = np.random.default_rng(seed)
    now_ns = (now_ns or _dt.datetime.now(_dt.timezone.utc).timestamp() * 1e9)
    now_ns = int(now_ns) // 10**6 * 10**6
    week0 = monday_utc(now_ns) - 6 * WEEK_NS           # Monday of the oldest week
    change_ns = week0 + 3 * WEEK_NS                      # strength programme starts (a Monday)
    h = History(now_ns=now_ns, change_ns=change_ns, week0_ns=week0, db=db)
    cols: dict[str, list] = {}
    influx.create_db(db)
    cfg = StoreConfig(url=influx.url, api="v1", database=db, runner="alice", spool_dir=spool_dir,
                      spool_sync="normal", batch_size=5000, flush_interval_s=0.05).validated()

    def add(runner, session, sensor, steps):
        steps = dict(steps)
        n = len(steps["t"])
        steps.update(runner=np.full(n, runner), session=np.full(n, session), sensor=np.full(n, sensor))
        for k, v in steps.items():
            cols.setdefault(k, []).append(v)

    with open_writer(cfg) as w:
        for week in range(6):
            for day in (0, 2, 5):
                start = week0 + week * WEEK_NS + day * DAY_NS + 7 * 3600 * 10**9
                if start + SESSION_S * 10**9 > now_ns - LIVE_S * 10**9:
                    continue
                for runner in RUNNERS:
                    improvement = 0.25 * max(0, week - 2) if runner == "alice" else 0.0
                    sensor = f"{runner}-sensor"
                    session = f"{runner}-{_dt.datetime.fromtimestamp(start / 1e9, _dt.timezone.utc):%Y%m%dT%H%MZ}"
                    steps = _session_steps(rng, runner, start, SESSION_S, improvement=improvement, fatigue=1.0)
                    add(runner, session, sensor, steps)
                    _write_steps(w, steps, runner, session, sensor, start)
                    h.sessions.append(_summary(w, steps, runner, session, sensor, start + SESSION_S * 10**9))
                    h.status += _status(w, runner, sensor, session, start, SESSION_S, battery0=95.0, loss=0.01)
        live0 = now_ns - LIVE_S * 10**9
        for runner in RUNNERS:
            sensor = f"{runner}-sensor"
            session = f"{runner}-live"
            if runner == "alice":
                steps = _session_steps(rng, runner, live0, LIVE_S, improvement=0.0, fatigue=3.5)
            else:
                steps = _session_steps(rng, runner, live0, LIVE_S, improvement=0.5, fatigue=0.0,
                                       side_extra={"L": 1.5, "R": -2.5})
            add(runner, session, sensor, steps)
            _write_steps(w, steps, runner, session, sensor, live0)
        h.status += _status(w, "alice", "alice-sensor", "alice-live", live0, LIVE_S, battery0=80.0, loss=0.01,
                            late_loss=0.08)
        h.status += _status(w, "bea.o", "bea.o-sensor", "bea.o-live", live0, LIVE_S - 240, battery0=30.0, loss=0.0,
                            battery_end=15.0)
        t = change_ns + 18 * 3600 * 10**9
        while t < now_ns:
            for d in (0, 3):
                te = t + d * DAY_NS
                if te < now_ns:
                    w.write_exercise(exercise="hip_abduction_hold", t_unix_ns=te, sets=3, hold_s=30.0,
                                     note="hip abduction hold · 3 x 30 s hold · both sides", runner="alice")
                    h.exercises.append({"t": te, "runner": "alice", "exercise": "hip_abduction_hold", "sets": 3})
            t += WEEK_NS
        # single-leg stance tests (gaitmon test single-leg) for alice every week, both stance legs;
        # the unsupported side sinks less once the strength programme runs
        t = h.week0_ns + 2 * DAY_NS + 20 * 3600 * 10**9
        while t < now_ns:
            for side, base in (("L", 5.0), ("R", 3.5)):
                drop = base - (1.5 if t >= change_ns else 0.0) + float(rng.normal(0, 0.2))
                w.write_point("single_leg_test", tags={"runner": "alice", "sensor": "alice-sensor", "side": side},
                              fields={"drop_deg": drop, "hold_s": 30.0, "sway_rms_deg": 0.8, "quality": 1.0,
                                      "completed": 1.0}, t_unix_ns=t)
                h.single_leg.append({"t": t, "side": side, "drop_deg": drop})
            t += WEEK_NS
        assert w.flush(60), "the writer did not deliver the history"
        st = w.stats
        assert st.rejected == 0, st
    h.steps = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.argsort(h.steps["t"], kind="stable")
    h.steps = {k: v[order] for k, v in h.steps.items()}
    return h


def _write_steps(w, steps, runner, session, sensor, t0_ns):
    rows = []
    for i in range(len(steps["t"])):
        rows.append({"t_ic_s": float(steps["t_s"][i]), "side": str(steps["side"][i]), "activity": "run",
                     **{k: float(steps[k][i]) for k in ("step_time_s", "cadence_spm", "contact_time_s",
                                                        "pelvic_drop_deg", "vertical_oscillation_cm", "quality")},
                     "obliquity_range_deg": 9.0, "tilt_range_deg": 4.0, "rotation_range_deg": 12.0,
                     "stride_index": int(steps["stride_index"][i])})
    n = w.write_steps(rows, sensor=sensor, session=session, t0_unix_ns=t0_ns, runner=runner)
    assert n == len(rows)


def _summary(w, steps, runner, session, sensor, t_end_ns) -> dict:
    good = steps["quality"] >= 0.5
    sides = {}
    for s in ("L", "R"):
        d = steps["pelvic_drop_deg"][good & (steps["side"] == s)]
        sides[s] = {"n": int(len(d)), "drop_mean_deg": round(float(d.mean()), 3)}
    summary = {"steps_total": len(steps["t"]), "steps_used": int(good.sum()), "sides": sides,
               "asymmetry_l_minus_r_deg": round(sides["L"]["drop_mean_deg"] - sides["R"]["drop_mean_deg"], 3),
               "cadence_spm": round(float(np.mean(steps["cadence_spm"][good])), 2)}
    w.write_session_summary(summary, sensor=sensor, session=session, t_unix_ns=t_end_ns, runner=runner)
    return {"t": t_end_ns, "runner": runner, "session": session, **{f"{s}_mean": sides[s]["drop_mean_deg"] for s in sides},
            "asym": summary["asymmetry_l_minus_r_deg"], "cadence": summary["cadence_spm"]}


def _status(w, runner, sensor, session, t0_ns, duration_s, *, battery0, loss, late_loss=None, battery_end=None):
    out = []
    received = lost = 0
    n = int(duration_s // 30) + 1
    for i in range(n):
        t = t0_ns + i * 30 * 10**9
        rate = late_loss if late_loss is not None and (duration_s - i * 30) <= 300 else loss
        if i:
            sent = 30 * 25   # 25 packets/s
            lost_now = int(round(sent * rate))
            lost += lost_now
            received += sent - lost_now
        battery = battery0 - 5.0 * i / max(1, n - 1) if battery_end is None else \
            battery0 + (battery_end - battery0) * i / max(1, n - 1)
        w.write_sensor_status(sensor=sensor, t_unix_ns=t, session=session, battery_pct=round(battery, 2),
                              rssi_dbm=-70.0, packets_received=received, packets_lost=lost, packets_rejected=0,
                              reconnects=0, runner=runner)
        out.append({"t": t, "runner": runner, "sensor": sensor, "battery": round(battery, 2),
                    "received": received, "lost": lost})
    return out

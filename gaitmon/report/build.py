"""Assemble the session report: data -> figures -> plain-language text -> one HTML file."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as _st

from gaitmon.analysis.distance import DEFAULT_LEG_M, speed_mps, step_length_m
from gaitmon.analysis.fatigue import DEFAULT_THRESHOLD_DEG, FatigueResult, fatigue_drift, step_arrays
from gaitmon.core.summary import CERTAIN_SIDE, side_evidence
from gaitmon.report import figures

MIN_QUALITY = 0.5


@dataclass
class ReportData:
    """Per-step arrays for the figures (degrees, minutes, steps/min, m/s, cm)."""

    t_min: np.ndarray
    side: np.ndarray
    drop: np.ndarray
    cadence: np.ndarray
    vo: np.ndarray
    quality: np.ndarray
    activity: np.ndarray
    speed: np.ndarray
    good: np.ndarray
    contact: np.ndarray


def report_data(steps, *, leg_length_m: float = DEFAULT_LEG_M, run_step_length_m: float | None = None,
                min_quality: float = MIN_QUALITY) -> ReportData:
    a = step_arrays(steps)
    o = np.argsort(a["t_ic_s"], kind="stable")
    a = {k: v[o] for k, v in a.items()}
    t = a["t_ic_s"]
    sl = step_length_m(a["vertical_oscillation_cm"], a["activity"], leg_length_m=leg_length_m,
                       run_step_length_m=run_step_length_m)
    good = (a["quality"] >= min_quality) & np.isfinite(a["pelvic_drop_deg"])
    return ReportData(t_min=(t - (t[0] if len(t) else 0.0)) / 60.0, side=a["side"], drop=a["pelvic_drop_deg"],
                      cadence=a["cadence_spm"], vo=a["vertical_oscillation_cm"], quality=a["quality"],
                      activity=a["activity"], speed=speed_mps(a["cadence_spm"], sl), good=good,
                      contact=a["contact_time_s"])


def asymmetry_blocks(d: ReportData, block_min: float = 0.5) -> dict:
    """L−R difference per 30 s block and a t-based 95 % CI over the blocks (blocks, not steps,
    are the independent-ish units)."""
    if not d.good.any():
        return {"diff": None, "ci95": None, "blocks_t_min": [], "blocks_diff": []}
    edges = np.arange(0, d.t_min.max() + block_min, block_min)
    tb, db = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        m = d.good & (d.t_min >= a) & (d.t_min < b)
        L = d.drop[m & (d.side == "L")]
        R = d.drop[m & (d.side == "R")]
        if len(L) >= 3 and len(R) >= 3:
            tb.append(0.5 * (a + b))
            db.append(float(L.mean() - R.mean()))
    L = d.drop[d.good & (d.side == "L")]
    R = d.drop[d.good & (d.side == "R")]
    diff = float(L.mean() - R.mean()) if len(L) and len(R) else None
    ci = None
    if len(db) >= 3:
        m, se = float(np.mean(db)), float(np.std(db, ddof=1) / math.sqrt(len(db)))
        q = float(_st.t.ppf(0.975, len(db) - 1))
        ci = (m - q * se, m + q * se)
    return {"diff": diff, "ci95": ci, "blocks_t_min": tb, "blocks_diff": db}


def _side_stats(d: ReportData, s: str) -> dict:
    x = d.drop[d.good & (d.side == s)]
    if not len(x):
        return {"n": 0}
    return {"n": int(len(x)), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
            "p10": float(np.percentile(x, 10)), "median": float(np.median(x)), "p90": float(np.percentile(x, 90))}


def plain_summary(d: ReportData, sides: dict, asym: dict, fat: FatigueResult, prev: list[dict] | None) -> list[str]:
    """Sentences a runner understands (no jargon beyond 'pelvic drop')."""
    out = []
    n_all, n_good = len(d.drop), int(d.good.sum())
    if not n_good:
        return ["No step could be measured reliably in this session, so there is nothing to report."]
    L, R = sides["L"], sides["R"]
    if L.get("n") and R.get("n"):
        out.append(f"When you stood on your left leg, your right hip sank on average {L['mean']:.1f}° below level; "
                   f"when you stood on your right leg, your left hip sank {R['mean']:.1f}°. "
                   "This sinking of the free side is the ‘pelvic drop’: the hip muscles of the leg you stand on "
                   "(mainly the gluteus medius) hold the pelvis level.")
    diff, ci = asym["diff"], asym["ci95"]
    if diff is not None:
        weaker = "left" if diff > 0 else "right"
        if ci is not None and (ci[0] > 0 or ci[1] < 0):
            out.append(f"The drop is {abs(diff):.1f}° larger when you stand on your {weaker} leg, and this difference "
                       f"is consistent through the session (95 % range {min(abs(ci[0]), abs(ci[1])):.1f}–"
                       f"{max(abs(ci[0]), abs(ci[1])):.1f}°): the {weaker} hip holds the pelvis less well.")
        else:
            out.append(f"Left and right are similar: the {abs(diff):.1f}° difference is within the step-to-step "
                       "variation of this session.")
    flagged = [s for s, v in fat.sides.items() if v.flagged]
    if flagged:
        for s in flagged:
            v = fat.sides[s]
            out.append(f"As the session went on, the drop on {'left' if s == 'L' else 'right'} steps rose by about "
                       f"{v.rise_deg:.1f}° (from {v.first_mean_deg:.1f}° in the first quarter to "
                       f"{v.last_mean_deg:.1f}° in the last). This is flagged as fatigue (threshold "
                       f"{fat.threshold_deg:g}°): the hip muscles tire.")
    elif fat.notes:
        out.append("The session was too short to judge whether the drop rises with fatigue.")
    else:
        out.append("The drop stayed stable during the session: no sign that it rises with fatigue "
                   f"(threshold {fat.threshold_deg:g}°).")
    if prev:
        pl = [p["L"] for p in prev if p.get("L") is not None]
        pr = [p["R"] for p in prev if p.get("R") is not None]
        if pl and pr and L.get("n") and R.get("n"):
            out.append(f"Your previous {len(prev)} session(s) averaged {np.mean(pl):.1f}° (left steps) and "
                       f"{np.mean(pr):.1f}° (right steps); today: {L['mean']:.1f}° and {R['mean']:.1f}°.")
    out.append(f"{n_good} of {n_all} steps were measured reliably and used; the others (at the start and end, "
               "in turns or gaps) are shown in grey and not counted.")
    out.append("There is no validated cut-off for ‘too much’ drop. Injured runners show more drop than healthy "
               "ones (about 80 % higher odds per extra degree in one treadmill study, Bramah et al. 2018); what "
               "matters most is your own trend and the left/right difference.")
    return out


def _img(name: str, png: bytes, alt: str, caption: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure id="fig-{name}"><img src="data:image/png;base64,{b64}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;margin:24px auto;padding:0 16px;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:0} .sub{color:#666;margin-top:4px}
.summary{background:#f4f8fb;border-left:4px solid #1f77b4;padding:8px 16px;margin:16px 0}
.flag{background:#fff4e5;border-left:4px solid #ff7f0e}
table{border-collapse:collapse;margin:8px 0} td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}
th:first-child,td:first-child{text-align:left} figure{margin:18px 0} img{max-width:100%;height:auto}
figcaption{color:#555;font-size:.9em} .method{color:#555;font-size:.88em}
"""


def _fmt(x, nd=1, unit=""):
    return "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}{unit}"


def build_report(steps, out_dir, *, title: str = "gaitmon session report", previous: list[dict] | None = None,
                 leg_length_m: float = DEFAULT_LEG_M, run_step_length_m: float | None = None,
                 fatigue_threshold_deg: float = DEFAULT_THRESHOLD_DEG, source: str = "",
                 current_label: str = "this session") -> Path:
    """Write ``report.html`` (self-contained) and the PNG figures into ``out_dir``; return the
    HTML path. ``previous``: earlier sessions as ``[{'label', 'L', 'R'}]`` (mean drop, deg)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not len(steps):
        raise ValueError("no steps to report")
    d = report_data(steps, leg_length_m=leg_length_m, run_step_length_m=run_step_length_m)
    fat = fatigue_drift(steps, threshold_deg=fatigue_threshold_deg, leg_length_m=leg_length_m,
                        run_step_length_m=run_step_length_m)
    sides = {s: _side_stats(d, s) for s in ("L", "R")}
    asym = asymmetry_blocks(d)
    running = bool(np.mean(d.activity[d.good] == "run") > 0.5) if d.good.any() else False
    show_speed = (not running) or run_step_length_m is not None
    figs = [
        ("drop_over_time", figures.drop_over_time(d), "pelvic drop per step over time, left and right",
         "Each dot is one step. Blue: standing on the left leg (the right hip sinks); orange: standing on the right leg."),
        ("distributions", figures.distributions(d), "histogram of pelvic drop per side",
         "How often each amount of drop occurred; vertical lines are the means."),
        ("asymmetry", figures.asymmetry(d, asym), "mean drop per side and left-minus-right over time",
         "Positive L−R: more drop when standing on the left leg."),
        ("drop_vs_cadence", figures.drop_vs_cadence_speed(d, show_speed), "pelvic drop against cadence and speed",
         ("Speed = cadence × step length (walking: inverted-pendulum model from vertical oscillation; "
          "running: the step length you gave)." if show_speed else
          "Running speed cannot be estimated from one sacral sensor without a known step length "
          "(give --step-length to see drop vs speed); vertical oscillation shown instead.")),
        ("drift", figures.drift(d, fat), "pelvic drop over the session with a fitted trend line per side",
         "Trend lines with their 95 % confidence band (autocorrelation-robust). Distance is estimated "
         f"({fat.distance_model})."),
        ("quality", figures.quality(d, MIN_QUALITY), "step quality histogram and over time",
         "Quality 0..1 from the analysis; steps below 0.5 are not used."),
    ]
    cur = {"label": current_label, "L": sides["L"].get("mean"), "R": sides["R"].get("mean")}
    if previous:
        figs.append(("previous", figures.previous_sessions(previous, cur), "mean drop of previous sessions and this one",
                     "Mean drop per session from your InfluxDB history."))
    for name, png, _, _ in figs:
        (out / f"{name}.png").write_bytes(png)
    text = plain_summary(d, sides, asym, fat, previous)
    ev = side_evidence([st for st in steps if ((st.get("quality") if isinstance(st, dict) else st.quality) or 0.0) >= MIN_QUALITY])
    if not ev["certain"]:
        # do not tell a runner that one hip is weaker when the sides themselves are not sure
        text = [p for p in text if not p.startswith(("The drop is ", "Left and right are similar"))]
        text.insert(0, f"Left and right could not be told apart with confidence in this session "
                       f"({ev['uncertain_steps']} steps below {CERTAIN_SIDE:.0%} side confidence): read the "
                       "per-side figures as 'one side' and 'the other', not as left and right.")
    elif ev["note"]:
        text.insert(1, "Sides: " + ev["note"] + ".")
    rows = "".join(
        f"<tr><td>{'left' if s == 'L' else 'right'}</td><td>{v.get('n', 0)}</td><td>{_fmt(v.get('mean'), 1, '°')}</td>"
        f"<td>{_fmt(v.get('sd'), 1, '°')}</td><td>{_fmt(v.get('p10'), 1, '°')}</td><td>{_fmt(v.get('median'), 1, '°')}</td>"
        f"<td>{_fmt(v.get('p90'), 1, '°')}</td></tr>" for s, v in sides.items())
    frows = "".join(
        f"<tr><td>{'left' if s == 'L' else 'right'}</td><td>{_fmt(v.per_min.slope * 10 if v.per_min.ci95 else None, 2)}</td>"
        f"<td>{'–' if v.per_min.ci95 is None else f'{v.per_min.ci95[0] * 10:+.2f} to {v.per_min.ci95[1] * 10:+.2f}'}</td>"
        f"<td>{_fmt(v.per_km.slope if v.per_km.ci95 else None, 2)}</td><td>{_fmt(v.rise_deg, 1, '°')}</td>"
        f"<td>{'⚑ yes' if v.flagged else 'no'}</td></tr>" for s, v in fat.sides.items())
    good = d.good
    cad = float(np.median(d.cadence[good])) if good.any() else math.nan
    ct = d.contact[good]
    ct_s = f" · contact {np.nanmedian(ct) * 1000:.0f} ms" if np.isfinite(ct).any() else ""
    dur = float(d.t_min.max()) if len(d.t_min) else 0.0
    box = "summary flag" if fat.flagged else "summary"
    generated = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="sub">{html.escape(source)} · {dur:.1f} min · {len(d.drop)} steps · cadence {_fmt(cad, 0)} steps/min{ct_s} · generated {generated}</p>
<section class="{box}" id="summary"><h2>In short</h2>{''.join(f'<p>{html.escape(p)}</p>' for p in text)}</section>
<h2>Numbers</h2>
<table id="side-table"><tr><th>steps on</th><th>n</th><th>mean</th><th>SD</th><th>p10</th><th>median</th><th>p90</th></tr>{rows}</table>
<p id="side-source">Sides from: {html.escape(', '.join(f'{k} {v} steps' for k, v in ev['source'].items()))}{'' if ev['confidence_median'] is None else f" · median side confidence {ev['confidence_median']:.2f}"}{'' if ev['certain'] else ' · <b>sides uncertain</b>'}</p>
<p>Asymmetry (left − right): <b>{_fmt(asym['diff'] if ev['certain'] else None, 1, '°')}</b>{'' if asym['ci95'] is None else f" (95 % CI {asym['ci95'][0]:+.1f} to {asym['ci95'][1]:+.1f}°, over 30 s blocks)"}</p>
<table id="fatigue-table"><tr><th>drift</th><th>°/10 min</th><th>95 % CI</th><th>°/km (est.)</th><th>rise over session</th><th>fatigue flag</th></tr>{frows}</table>
<h2>Figures</h2>
{''.join(_img(n, p, a, c) for n, p, a, c in figs)}
<h2>How this was measured</h2>
<p class="method">Pelvic drop: for each step, the largest sinking of the free-side hip below its level in quiet
standing, in degrees, from one sensor clipped on the back of the waistband (gaitmon). Drift: least-squares line
per side against time with a Newey–West confidence interval (consecutive steps are not independent); flagged
when the rise over the session is at least {fat.threshold_deg:g}° and the interval lies above zero. Distance and
speed are estimates: {html.escape(fat.distance_model)}. Steps with quality below {MIN_QUALITY} are not used.</p>
<script type="application/json" id="report-data">{html.escape(json.dumps({"sides": sides, "asymmetry_deg": asym["diff"], "fatigue": fat.as_dict()}), quote=False)}</script>
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    (out / "report.json").write_text(json.dumps({"title": title, "sides": sides, "asymmetry": {
        "diff_deg": asym["diff"], "ci95": asym["ci95"]}, "fatigue": fat.as_dict(), "summary": text}, indent=1))
    return path
